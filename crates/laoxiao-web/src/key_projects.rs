//! Key projects (重点项目, 附件1 of the plan) over HTTP: county and city
//! staff of the project's area list them with their schedule status, record
//! progress reports and photos, set milestones and mark one completed (which
//! creates or links its facility). The rules are the store's
//! (`laoxiao_store::key_projects`) and `laoxiao_rules::key_projects`;
//! docs/key-projects.md.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use laoxiao_model::FieldError;
use laoxiao_rules::key_projects::ScheduleStatus;
use laoxiao_store::StoreError;
use laoxiao_store::key_projects::{
    self as kp, CompleteInput, Detail, Filter, MilestoneInput, Photo, Project, ReportInput,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::filing::upload_store;
use crate::{AppState, blocking};

fn bad(field: &str, why: impl Into<String>) -> ApiError {
    ApiError::Store(StoreError::Invalid(vec![FieldError::new(field, why)]))
}

fn day(field: &str, s: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match s {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| bad(field, "a date, YYYY-MM-DD")),
    }
}

fn required<T>(field: &str, v: Option<T>) -> Result<T, ApiError> {
    v.ok_or_else(|| bad(field, "required"))
}

// ------------------------------------------------------------ views

/// A key project with its schedule status (进度状态).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectView {
    /// The plan's number (附件1 序号).
    pub number: i64,
    pub name: String,
    /// `elderly` 养老 or `childcare` 托育.
    pub project_type: String,
    pub county_code: String,
    pub county_name: String,
    pub area_code: String,
    pub town: Option<String>,
    pub description: String,
    /// `beds` or `slots`.
    pub capacity_kind: Option<String>,
    pub capacity: Option<i64>,
    pub investment_planned_10k_yuan: f64,
    pub funding_requested_10k_yuan: Option<f64>,
    pub funding_granted_in_plan: bool,
    pub implementing_unit: String,
    pub planned_start: String,
    pub planned_end: String,
    pub investment_spent_10k_yuan: f64,
    pub funding_granted_10k_yuan: f64,
    pub percent_complete: i64,
    pub last_report_date: Option<String>,
    pub completed_on: Option<String>,
    pub delivered_capacity: Option<i64>,
    pub facility_id: Option<String>,
    /// `on_track`, `behind` or `completed`.
    pub status: String,
    /// Why behind: `milestone_late`, `below_expected`, `no_recent_report`, `past_end`.
    pub reasons: Vec<String>,
}

impl From<Project> for KeyProjectView {
    fn from(p: Project) -> Self {
        KeyProjectView {
            number: p.number,
            name: p.name,
            project_type: p.project_type,
            county_code: p.county_code,
            county_name: p.county_name,
            area_code: p.area_code,
            town: p.town,
            description: p.description,
            capacity_kind: p.capacity_kind,
            capacity: p.capacity,
            investment_planned_10k_yuan: p.investment_planned_10k_yuan,
            funding_requested_10k_yuan: p.funding_requested_10k_yuan,
            funding_granted_in_plan: p.funding_granted_in_plan,
            implementing_unit: p.implementing_unit,
            planned_start: p.planned_start.to_string(),
            planned_end: p.planned_end.to_string(),
            investment_spent_10k_yuan: p.investment_spent_10k_yuan,
            funding_granted_10k_yuan: p.funding_granted_10k_yuan,
            percent_complete: p.percent_complete,
            last_report_date: p.last_report_date.map(|d| d.to_string()),
            completed_on: p.completed_on.map(|d| d.to_string()),
            delivered_capacity: p.delivered_capacity,
            facility_id: p.facility_id,
            status: p.status.code().to_string(),
            reasons: p
                .reasons
                .iter()
                .map(|r| {
                    serde_json::to_value(r)
                        .ok()
                        .and_then(|v| v["kind"].as_str().map(str::to_string))
                        .unwrap_or_default()
                })
                .collect(),
        }
    }
}

/// Key projects.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectList {
    pub items: Vec<KeyProjectView>,
}

/// A milestone (节点).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectMilestoneView {
    pub id: String,
    pub title: String,
    pub planned_on: String,
    pub done_on: Option<String>,
}

/// A report's photo.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectPhotoView {
    pub id: String,
    pub report_id: String,
    pub content_type: String,
    pub size: i64,
    pub file_name: String,
}

impl From<Photo> for KeyProjectPhotoView {
    fn from(p: Photo) -> Self {
        KeyProjectPhotoView {
            id: p.id,
            report_id: p.report_id,
            content_type: p.content_type,
            size: p.size,
            file_name: p.file_name,
        }
    }
}

/// A progress report (进度填报).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectReportView {
    pub id: String,
    pub report_date: String,
    pub investment_spent_10k_yuan: f64,
    pub funding_granted_10k_yuan: f64,
    pub percent_complete: i64,
    pub body: String,
    pub reported_by: String,
    pub reported_at: String,
    pub photos: Vec<KeyProjectPhotoView>,
}

/// A project with its milestones and reports (newest first).
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectDetailView {
    pub project: KeyProjectView,
    pub milestones: Vec<KeyProjectMilestoneView>,
    pub reports: Vec<KeyProjectReportView>,
}

impl From<Detail> for KeyProjectDetailView {
    fn from(d: Detail) -> Self {
        KeyProjectDetailView {
            project: d.project.into(),
            milestones: d
                .milestones
                .into_iter()
                .map(|m| KeyProjectMilestoneView {
                    id: m.id,
                    title: m.title,
                    planned_on: m.planned_on.to_string(),
                    done_on: m.done_on.map(|d| d.to_string()),
                })
                .collect(),
            reports: d
                .reports
                .into_iter()
                .map(|r| KeyProjectReportView {
                    id: r.id,
                    report_date: r.report_date.to_string(),
                    investment_spent_10k_yuan: r.investment_spent_10k_yuan,
                    funding_granted_10k_yuan: r.funding_granted_10k_yuan,
                    percent_complete: r.percent_complete,
                    body: r.body,
                    reported_by: r.reported_by,
                    reported_at: r.reported_at,
                    photos: r.photos.into_iter().map(Into::into).collect(),
                })
                .collect(),
        }
    }
}

/// The id of what was written.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectWritten {
    pub id: String,
}

/// A completion's result: the facility the project became, if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyProjectCompleted {
    pub number: i64,
    pub facility_id: Option<String>,
}

// ------------------------------------------------------------ bodies

/// A progress report.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct KeyProjectReportBody {
    /// The day the report describes (not in the future).
    #[schema(required = true, example = "2025-06-30")]
    pub report_date: Option<String>,
    /// Investment spent to date, 10k yuan (万元), 0 to 1,000,000.
    #[schema(required = true, minimum = 0, maximum = 1000000)]
    pub investment_spent_10k_yuan: Option<f64>,
    /// Funding granted to date, 10k yuan, 0 to 1,000,000.
    #[schema(minimum = 0, maximum = 1000000)]
    pub funding_granted_10k_yuan: Option<f64>,
    /// Percent complete, 0 to 100.
    #[schema(required = true, minimum = 0, maximum = 100)]
    pub percent_complete: Option<i64>,
    /// What was done, at most 2,000 characters.
    #[schema(max_length = 2000)]
    pub body: Option<String>,
}

/// A new milestone, or a change to one (with `id`).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct KeyProjectMilestoneBody {
    #[schema(max_length = 64)]
    pub id: Option<String>,
    /// 1 to 100 characters.
    #[schema(required = true, min_length = 1, max_length = 100)]
    pub title: Option<String>,
    #[schema(required = true, example = "2025-09-30")]
    pub planned_on: Option<String>,
    /// The day it was done (not in the future).
    pub done_on: Option<String>,
}

/// Completion (竣工).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct KeyProjectCompleteBody {
    #[schema(required = true, example = "2025-11-30")]
    pub completed_on: Option<String>,
    /// Beds or slots delivered, 0 to 10,000.
    #[schema(required = true, minimum = 0, maximum = 10000)]
    pub delivered_capacity: Option<i64>,
    /// An existing facility of the county to link (else a new one is registered).
    #[schema(max_length = 64)]
    pub facility_id: Option<String>,
    /// For a new facility: a town or village of the project's county
    /// (default: the project's town).
    #[schema(max_length = 12)]
    pub area_code: Option<String>,
}

query_params! {
    /// Filters of `GET /api/key-projects`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct KeyProjectListParams {
        /// A county code.
        #[param(example = "330402", max_length = 12)]
        pub county: Option<String>,
        /// `elderly` or `childcare`.
        #[param(pattern = "^(elderly|childcare)$")]
        pub project_type: Option<String>,
        /// `on_track`, `behind` or `completed`.
        #[param(pattern = "^(on_track|behind|completed)$")]
        pub status: Option<String>,
    }
}

query_params! {
    /// A photo's file name, with the bytes as the body.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct KeyProjectPhotoParams {
        #[param(max_length = 200, example = "site.jpg")]
        pub file_name: Option<String>,
    }
}

// ------------------------------------------------------------ handlers

/// List the key projects of your area with their schedule status.
#[utoipa::path(
    get,
    path = "/api/key-projects",
    operation_id = "list_key_projects",
    tag = "key-projects",
    params(KeyProjectListParams),
    responses(
        (status = 200, description = "The projects", body = KeyProjectList),
        (status = 422, description = "A filter out of its values", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<KeyProjectListParams>,
) -> Result<Json<KeyProjectList>, ApiError> {
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(
            ScheduleStatus::parse(s)
                .ok_or_else(|| bad("status", "on_track, behind or completed"))?,
        ),
    };
    let filter = Filter {
        county: p.county,
        project_type: p.project_type,
        status,
    };
    let scope = auth.scope()?;
    let today = Utc::now().date_naive();
    let items = blocking(&state, move |c, r| {
        Ok(kp::list(c, r, &scope, &filter, today)?)
    })
    .await?;
    Ok(Json(KeyProjectList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One key project with its milestones and reports.
#[utoipa::path(
    get,
    path = "/api/key-projects/{number}",
    operation_id = "get_key_project",
    tag = "key-projects",
    params(("number" = i64, Path, description = "The plan's number")),
    responses(
        (status = 200, description = "The project", body = KeyProjectDetailView),
        (status = 404, description = "No such project in your area", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<i64>,
) -> Result<Json<KeyProjectDetailView>, ApiError> {
    let scope = auth.scope()?;
    let today = Utc::now().date_naive();
    let d = blocking(&state, move |c, r| {
        Ok(kp::get(c, r, &scope, number, today)?)
    })
    .await?;
    Ok(Json(d.into()))
}

pub(crate) fn report_input(b: KeyProjectReportBody) -> Result<ReportInput, ApiError> {
    Ok(ReportInput {
        report_date: required("report_date", day("report_date", b.report_date.as_deref())?)?,
        investment_spent_10k_yuan: required(
            "investment_spent_10k_yuan",
            b.investment_spent_10k_yuan,
        )?,
        funding_granted_10k_yuan: b.funding_granted_10k_yuan.unwrap_or(0.0),
        percent_complete: required("percent_complete", b.percent_complete)?,
        body: b.body.unwrap_or_default(),
    })
}

/// Record a progress report (进度填报).
#[utoipa::path(
    post,
    path = "/api/key-projects/{number}/reports",
    operation_id = "report_key_project",
    tag = "key-projects",
    params(("number" = i64, Path, description = "The plan's number")),
    request_body = KeyProjectReportBody,
    responses(
        (status = 201, description = "Recorded", body = KeyProjectWritten),
        (status = 404, description = "No such project in your area", body = ErrorBody),
        (status = 409, description = "The project is completed", body = ErrorBody),
        (status = 422, description = "A field missing or out of bounds", body = ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<i64>,
    ApiJson(b): ApiJson<KeyProjectReportBody>,
) -> Result<(StatusCode, Json<KeyProjectWritten>), ApiError> {
    let input = report_input(b)?;
    let scope = auth.scope()?;
    let today = Utc::now().date_naive();
    let id = blocking(&state, move |c, _| {
        Ok(kp::record_report(c, &scope, number, &input, today)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(KeyProjectWritten { id })))
}

pub(crate) fn milestone_input(b: KeyProjectMilestoneBody) -> Result<MilestoneInput, ApiError> {
    Ok(MilestoneInput {
        id: b.id.filter(|s| !s.trim().is_empty()),
        title: b.title.unwrap_or_default(),
        planned_on: required("planned_on", day("planned_on", b.planned_on.as_deref())?)?,
        done_on: day(
            "done_on",
            b.done_on.as_deref().filter(|s| !s.trim().is_empty()),
        )?,
    })
}

/// Add a milestone, or change one (with its id).
#[utoipa::path(
    post,
    path = "/api/key-projects/{number}/milestones",
    operation_id = "set_key_project_milestone",
    tag = "key-projects",
    params(("number" = i64, Path, description = "The plan's number")),
    request_body = KeyProjectMilestoneBody,
    responses(
        (status = 200, description = "Saved", body = KeyProjectWritten),
        (status = 404, description = "No such project or milestone in your area", body = ErrorBody),
        (status = 422, description = "A field missing or out of bounds", body = ErrorBody),
    )
)]
pub async fn milestone(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<i64>,
    ApiJson(b): ApiJson<KeyProjectMilestoneBody>,
) -> Result<Json<KeyProjectWritten>, ApiError> {
    let input = milestone_input(b)?;
    let scope = auth.scope()?;
    let today = Utc::now().date_naive();
    let id = blocking(&state, move |c, _| {
        Ok(kp::set_milestone(c, &scope, number, &input, today)?)
    })
    .await?;
    Ok(Json(KeyProjectWritten { id }))
}

pub(crate) fn complete_input(b: KeyProjectCompleteBody) -> Result<CompleteInput, ApiError> {
    Ok(CompleteInput {
        completed_on: required(
            "completed_on",
            day("completed_on", b.completed_on.as_deref())?,
        )?,
        delivered_capacity: required("delivered_capacity", b.delivered_capacity)?,
        facility_id: b.facility_id.filter(|s| !s.trim().is_empty()),
        area_code: b.area_code.filter(|s| !s.trim().is_empty()),
    })
}

/// Mark a project completed (竣工): with a delivered capacity, it links an
/// existing facility of the county or registers a new one, in one transaction.
#[utoipa::path(
    post,
    path = "/api/key-projects/{number}/complete",
    operation_id = "complete_key_project",
    tag = "key-projects",
    params(("number" = i64, Path, description = "The plan's number")),
    request_body = KeyProjectCompleteBody,
    responses(
        (status = 200, description = "Completed", body = KeyProjectCompleted),
        (status = 404, description = "No such project, or facility, in your area", body = ErrorBody),
        (status = 409, description = "Completed already, or the facility is another project's", body = ErrorBody),
        (status = 422, description = "A field missing or out of bounds", body = ErrorBody),
    )
)]
pub async fn complete(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(number): ApiPath<i64>,
    ApiJson(b): ApiJson<KeyProjectCompleteBody>,
) -> Result<Json<KeyProjectCompleted>, ApiError> {
    let input = complete_input(b)?;
    let scope = auth.scope()?;
    let today = Utc::now().date_naive();
    let facility_id = blocking(&state, move |c, r| {
        Ok(kp::complete(c, r, &scope, number, &input, today)?)
    })
    .await?;
    Ok(Json(KeyProjectCompleted {
        number,
        facility_id,
    }))
}

/// Checks, keeps and records one photo: shared by the API and the console.
pub(crate) async fn store_photo(
    state: &AppState,
    scope: laoxiao_store::Scope,
    number: i64,
    report: String,
    file_name: String,
    declared: Option<String>,
    bytes: Vec<u8>,
) -> Result<Photo, ApiError> {
    let uploads = upload_store(state)?;
    let today = Utc::now().date_naive();
    blocking(state, move |c, r| {
        // The project must be the caller's before anything is kept.
        kp::get(c, r, &scope, number, today)?;
        let checked = uploads.put(&bytes, declared.as_deref(), &file_name)?;
        Ok(kp::add_photo(c, &scope, number, &report, &checked)?)
    })
    .await
}

/// Add a photo (JPEG or PNG, judged from the content; at most the configured
/// size) to a progress report. Photos are for staff, never public.
#[utoipa::path(
    post,
    path = "/api/key-projects/{number}/reports/{report}/photos",
    operation_id = "add_key_project_photo",
    tag = "key-projects",
    params(
        ("number" = i64, Path, description = "The plan's number"),
        ("report" = String, Path, description = "The report's id"),
        KeyProjectPhotoParams,
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The photo (JPEG or PNG)"),
    responses(
        (status = 201, description = "The photo", body = KeyProjectPhotoView),
        (status = 404, description = "No such project or report in your area", body = ErrorBody),
        (status = 413, description = "Over the upload limit", body = ErrorBody),
        (status = 415, description = "Not a JPEG or PNG file", body = ErrorBody),
        (status = 422, description = "Too many photos, or not an image", body = ErrorBody),
    )
)]
pub async fn add_photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((number, report)): ApiPath<(i64, String)>,
    ApiQuery(p): ApiQuery<KeyProjectPhotoParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let max = state.config.upload_max_bytes;
    let file_name = p.file_name.unwrap_or_default();
    if file_name.chars().count() > 200 {
        return Err(bad("file_name", "at most 200 characters"));
    }
    if report.chars().count() > 64 {
        return Err(bad("report", "not a report id"));
    }
    let too_large = || ApiError::Store(StoreError::UploadTooLarge { limit: max });
    if headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > max)
    {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, usize::try_from(max).unwrap_or(usize::MAX))
        .await
        .map_err(|_| too_large())?;
    let declared = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let scope = auth.scope()?;
    let ph = store_photo(
        &state,
        scope,
        number,
        report,
        file_name,
        declared,
        bytes.to_vec(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(KeyProjectPhotoView::from(ph))).into_response())
}

/// Download a report's photo (as an attachment).
#[utoipa::path(
    get,
    path = "/api/key-projects/{number}/photos/{photo}",
    operation_id = "download_key_project_photo",
    tag = "key-projects",
    params(
        ("number" = i64, Path, description = "The plan's number"),
        ("photo" = String, Path, description = "The photo's id"),
    ),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, description = "No such photo you may see", body = ErrorBody),
    )
)]
pub async fn photo(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath((number, photo)): ApiPath<(i64, String)>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let uploads = upload_store(&state)?;
    let (p, bytes) = blocking(&state, move |c, _| {
        let p = kp::photo(c, &scope, number, &photo)?;
        let bytes = uploads.get(&p.sha256)?;
        Ok((p, bytes))
    })
    .await?;
    let doc = laoxiao_store::filing::Document {
        id: p.id,
        filing_id: String::new(),
        doc_type: "key_project_photo".into(),
        file_name: p.file_name,
        content_type: p.content_type,
        size: p.size,
        sha256: p.sha256,
        uploaded_by: String::new(),
        uploaded_at: String::new(),
    };
    Ok(crate::filing::attachment(&doc, bytes))
}
