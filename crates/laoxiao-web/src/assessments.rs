//! Ability assessments (老年人能力评估, GB/T 42195-2022):
//! `GET/POST /api/assessments`, `GET/PUT /api/assessments/{id}`,
//! `POST /api/assessments/{id}/finish`, `POST /api/assessments/{id}/appeal`,
//! `GET /api/assessments/due`, `POST /api/assessments/flags`,
//! `GET /api/assessments/standard`. The workflow is the store's
//! (`laoxiao_store::assessments`), the scoring the rules crate's.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::LOCATION;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_store::assessments::{self as asm, Assessment, DueLine, Summary};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking, encode_segment};

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// Why an assessment is made (评估原因).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// 首次评估
    First,
    /// 常规评估
    Routine,
    /// 即时评估
    Immediate,
    /// 复评 (review of an appealed assessment; give `review_of`)
    Review,
    /// 其他
    Other,
}

impl From<ReasonCode> for asm::Reason {
    fn from(r: ReasonCode) -> Self {
        match r {
            ReasonCode::First => asm::Reason::First,
            ReasonCode::Routine => asm::Reason::Routine,
            ReasonCode::Immediate => asm::Reason::Immediate,
            ReasonCode::Review => asm::Reason::Review,
            ReasonCode::Other => asm::Reason::Other,
        }
    }
}

/// A draft assessment: the whole of it (create and update).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    /// The elderly person (老年人编号).
    #[schema(min_length = 1, max_length = 64, example = "P-0000000000000001")]
    pub person_id: String,
    pub reason: ReasonCode,
    /// The assessment day (not in the future, not before 2022-12-30).
    #[schema(value_type = String, format = Date, example = "2026-03-02")]
    pub assessed_on: NaiveDate,
    /// Two different certified staff members (评估员).
    #[schema(min_length = 1, max_length = 64)]
    pub assessor1_id: String,
    #[schema(min_length = 1, max_length = 64)]
    pub assessor2_id: String,
    /// The assessing organisation; the first assessor's employer when absent.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub organisation_id: Option<String>,
    /// Item code (`B.1.1` … `B.4.5`) → the chosen option's score. A draft may
    /// leave items out; finishing needs all 26.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, u8>, example = json!({"B.1.1": 4, "B.2.4": 3}))]
    pub answers: BTreeMap<String, u8>,
    /// A.5.11 昏迷.
    #[serde(default)]
    pub coma: bool,
    /// A.4.1 diseases by key (`dementia`, `mental_disorder`, `hypertension`, …).
    #[serde(default)]
    #[schema(max_items = 30)]
    pub diagnoses: Vec<String>,
    /// A.2.14 care-risk events in the past 30 days by type (`fall`,
    /// `wandering`, `choking`, `self_harm`, `other`), each 0–100.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, u32>, example = json!({"fall": 1}))]
    pub risk_events: BTreeMap<String, u32>,
    /// For a review: the appealed assessment.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64)]
    pub review_of: Option<String>,
}

impl From<AssessmentInput> for asm::Draft {
    fn from(i: AssessmentInput) -> Self {
        asm::Draft {
            person_id: i.person_id,
            reason: i.reason.into(),
            assessed_on: i.assessed_on,
            assessor1_id: i.assessor1_id,
            assessor2_id: i.assessor2_id,
            organisation_id: i.organisation_id,
            answers: i.answers,
            coma: i.coma,
            diagnoses: i.diagnoses,
            risk_events: i.risk_events,
            review_of: i.review_of,
        }
    }
}

/// An assessment with its result and explanation once finished.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssessmentView {
    #[schema(example = "AS-1a2b3c4d5e6f7a8b")]
    pub id: String,
    /// `draft`, `finished`, `appealed` or `superseded`.
    pub state: String,
    pub reason: String,
    pub person_id: String,
    /// Masked (李**).
    pub person_name: String,
    pub person_area_code: String,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: NaiveDate,
    pub assessor1_id: String,
    pub assessor2_id: String,
    pub organisation_id: Option<String>,
    #[schema(value_type = Object)]
    pub answers: BTreeMap<String, u8>,
    pub coma: bool,
    pub diagnoses: Vec<String>,
    #[schema(value_type = Object)]
    pub risk_events: BTreeMap<String, u32>,
    pub review_of: Option<String>,
    pub reviewed_by: Option<String>,
    pub appeal_reason: Option<String>,
    /// Domain scores, total, initial and final level, the C.4 rules applied
    /// and the explanation's steps (clause, Chinese, English).
    #[schema(value_type = Option<Object>)]
    pub outcome: Option<serde_json::Value>,
    pub finished_by: Option<String>,
    pub finished_at: Option<String>,
}

impl From<Assessment> for AssessmentView {
    fn from(a: Assessment) -> Self {
        AssessmentView {
            id: a.id,
            state: a.state.code().into(),
            reason: a.draft.reason.code().into(),
            person_id: a.draft.person_id,
            person_name: a.person_name,
            person_area_code: a.person_area_code,
            assessed_on: a.draft.assessed_on,
            assessor1_id: a.draft.assessor1_id,
            assessor2_id: a.draft.assessor2_id,
            organisation_id: a.organisation_id,
            answers: a.draft.answers,
            coma: a.draft.coma,
            diagnoses: a.draft.diagnoses,
            risk_events: a.draft.risk_events,
            review_of: a.draft.review_of,
            reviewed_by: a.reviewed_by,
            appeal_reason: a.appeal_reason,
            outcome: a.outcome.and_then(|o| serde_json::to_value(o).ok()),
            finished_by: a.finished_by,
            finished_at: a.finished_at,
        }
    }
}

/// A line of the list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssessmentSummary {
    pub id: String,
    pub person_id: String,
    pub person_name: String,
    pub person_area_code: String,
    pub reason: String,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: NaiveDate,
    pub state: String,
    pub total: Option<i64>,
    /// 0–4, once finished.
    pub final_level: Option<String>,
}

impl From<Summary> for AssessmentSummary {
    fn from(s: Summary) -> Self {
        AssessmentSummary {
            id: s.id,
            person_id: s.person_id,
            person_name: s.person_name,
            person_area_code: s.person_area_code,
            reason: s.reason.code().into(),
            assessed_on: s.assessed_on,
            state: s.state.code().into(),
            total: s.total,
            final_level: s.final_level.map(|l| l.code().to_string()),
        }
    }
}

/// Assessments, by id (keyset: pass the last id as `after`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssessmentList {
    pub items: Vec<AssessmentSummary>,
}

/// A person due for assessment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueView {
    pub person_id: String,
    pub person_name: String,
    pub person_area_code: String,
    pub ability_level: Option<String>,
    /// `routine`, `immediate` or `never_assessed`.
    pub cause: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub last_assessment_id: Option<String>,
}

impl From<DueLine> for DueView {
    fn from(l: DueLine) -> Self {
        DueView {
            person_id: l.person_id,
            person_name: l.person_name,
            person_area_code: l.person_area_code,
            ability_level: l.ability_level.map(|x| x.code().to_string()),
            cause: l.cause.code().into(),
            due_on: l.due_on,
            overdue: l.overdue,
            last_assessment_id: l.last_assessment_id,
        }
    }
}

/// The due list: overdue first, then by due day, then people never assessed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DueList {
    pub items: Vec<DueView>,
}

/// An appeal (申请复评): why the result is disputed.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealInput {
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// A change of condition (即时评估): the person is due at once.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagInput {
    #[schema(min_length = 1, max_length = 64)]
    pub person_id: String,
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
}

query_params! {
    /// Filters of `GET /api/assessments`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct AssessmentListParams {
        /// An area code: people living in its subtree.
        #[param(example = "330402")]
        pub area: Option<String>,
        /// `draft`, `finished`, `appealed` or `superseded`.
        pub state: Option<String>,
        pub person_id: Option<String>,
        #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
        pub limit: Option<u32>,
        /// The last id of the previous page.
        pub after: Option<String>,
    }
}

query_params! {
    /// Filters of `GET /api/assessments/due`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct DueParams {
        #[param(example = "330402")]
        pub area: Option<String>,
        /// Only those past their due day.
        pub overdue: Option<bool>,
        #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
        pub limit: Option<u32>,
    }
}

/// Assessments of people in your area.
#[utoipa::path(
    get,
    path = "/api/assessments",
    operation_id = "list_assessments",
    tag = "assessments",
    params(AssessmentListParams),
    responses(
        (status = 200, description = "By id", body = AssessmentList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 422, description = "Unknown area or bad limit", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<AssessmentListParams>,
) -> Result<Json<AssessmentList>, ApiError> {
    let st = match p.state.as_deref() {
        None => None,
        Some(s) => Some(asm::State::parse(s).ok_or_else(|| {
            ApiError::InvalidQuery(vec![FieldError::new(
                "state",
                "one of draft, finished, appealed, superseded",
            )])
        })?),
    };
    let q = asm::ListQuery {
        area: p.area,
        state: st,
        person_id: p.person_id,
        limit: p.limit,
        after: p.after,
    };
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, r| Ok(asm::list(c, r, &scope, &q)?)).await?;
    Ok(Json(AssessmentList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Start a draft assessment.
#[utoipa::path(
    post,
    path = "/api/assessments",
    operation_id = "create_assessment",
    tag = "assessments",
    request_body = AssessmentInput,
    responses(
        (status = 201, description = "Drafted", body = AssessmentView,
            headers(("Location" = String, description = "URL of the assessment"))),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields, named", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<AssessmentInput>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let d: asm::Draft = input.into();
    let a = blocking(&state, move |c, _| Ok(asm::create(c, &scope, &d, today())?)).await?;
    let location = format!("/api/assessments/{}", encode_segment(&a.id));
    Ok((
        StatusCode::CREATED,
        [(LOCATION, location)],
        Json(AssessmentView::from(a)),
    )
        .into_response())
}

/// One assessment, with its result and explanation once finished.
#[utoipa::path(
    get,
    path = "/api/assessments/{id}",
    operation_id = "get_assessment",
    tag = "assessments",
    params(("id" = String, Path, description = "The assessment's id")),
    responses(
        (status = 200, description = "The assessment", body = AssessmentView),
        (status = 404, description = "No such assessment in your area", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AssessmentView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| Ok(asm::get(c, &scope, &id)?)).await?;
    Ok(Json(a.into()))
}

/// Replace a draft's answers and facts.
#[utoipa::path(
    put,
    path = "/api/assessments/{id}",
    operation_id = "update_assessment",
    tag = "assessments",
    params(("id" = String, Path, description = "The assessment's id")),
    request_body = AssessmentInput,
    responses(
        (status = 200, description = "Updated", body = AssessmentView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such assessment in your area", body = ErrorBody),
        (status = 409, description = "Not a draft any more", body = ErrorBody),
        (status = 422, description = "Invalid fields, named", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<AssessmentInput>,
) -> Result<Json<AssessmentView>, ApiError> {
    let scope = auth.scope()?;
    let d: asm::Draft = input.into();
    let a = blocking(&state, move |c, _| {
        Ok(asm::update(c, &scope, &id, &d, today())?)
    })
    .await?;
    Ok(Json(a.into()))
}

/// Finish a draft: computes and freezes the result, sets the person's ability
/// level, records the service and the next due day.
#[utoipa::path(
    post,
    path = "/api/assessments/{id}/finish",
    operation_id = "finish_assessment",
    tag = "assessments",
    params(("id" = String, Path, description = "The assessment's id")),
    responses(
        (status = 200, description = "Finished", body = AssessmentView),
        (status = 404, description = "No such assessment in your area", body = ErrorBody),
        (status = 409, description = "Not a draft", body = ErrorBody),
        (status = 422, description = "Items unanswered or invalid, named", body = ErrorBody),
    )
)]
pub async fn finish(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<AssessmentView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, r| {
        Ok(asm::finish(c, r, &scope, &id, today())?)
    })
    .await?;
    Ok(Json(a.into()))
}

/// Appeal a finished result (申请复评); a review by two other assessors follows.
#[utoipa::path(
    post,
    path = "/api/assessments/{id}/appeal",
    operation_id = "appeal_assessment",
    tag = "assessments",
    params(("id" = String, Path, description = "The assessment's id")),
    request_body = AppealInput,
    responses(
        (status = 200, description = "Appealed", body = AssessmentView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such assessment in your area", body = ErrorBody),
        (status = 409, description = "Not finished, or appealed already", body = ErrorBody),
        (status = 422, description = "No reason, or an invalid one", body = ErrorBody),
    )
)]
pub async fn appeal(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(input): ApiJson<AppealInput>,
) -> Result<Json<AssessmentView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| {
        Ok(asm::appeal(c, &scope, &id, &input.reason)?)
    })
    .await?;
    Ok(Json(a.into()))
}

/// People due for assessment in your area.
#[utoipa::path(
    get,
    path = "/api/assessments/due",
    operation_id = "list_assessments_due",
    tag = "assessments",
    params(DueParams),
    responses(
        (status = 200, description = "Overdue first", body = DueList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 422, description = "Unknown area or bad limit", body = ErrorBody),
    )
)]
pub async fn due(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<DueParams>,
) -> Result<Json<DueList>, ApiError> {
    let q = asm::DueQuery {
        area: p.area,
        overdue: p.overdue.unwrap_or(false),
        limit: p.limit,
    };
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, r| Ok(asm::due(c, r, &scope, today(), &q)?)).await?;
    Ok(Json(DueList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Flag a change of condition (即时评估): the person is due at once.
#[utoipa::path(
    post,
    path = "/api/assessments/flags",
    operation_id = "flag_assessment_due",
    tag = "assessments",
    request_body = FlagInput,
    responses(
        (status = 204, description = "Flagged"),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such elderly person in your area", body = ErrorBody),
        (status = 422, description = "No note, or an invalid one", body = ErrorBody),
    )
)]
pub async fn flag(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(input): ApiJson<FlagInput>,
) -> Result<StatusCode, ApiError> {
    let scope = auth.scope()?;
    blocking(&state, move |c, _| {
        Ok(asm::flag_change(
            c,
            &scope,
            &input.person_id,
            &input.note,
            today(),
        )?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The form as data: GB/T 42195-2022's 26 items with their options, the
/// level bands, the C.4 rules and the dated parameters.
#[utoipa::path(
    get,
    path = "/api/assessments/standard",
    operation_id = "get_assessment_standard",
    tag = "assessments",
    responses(
        (status = 200, description = "The standard", body = Object),
    )
)]
pub async fn standard() -> Result<Json<serde_json::Value>, ApiError> {
    let s = laoxiao_rules::assessment::Standard::embedded()
        .map_err(|e| ApiError::from(laoxiao_store::StoreError::Reference(e.to_string())))?;
    Ok(Json(serde_json::to_value(s).map_err(|e| {
        ApiError::from(laoxiao_store::StoreError::Reference(e.to_string()))
    })?))
}

query_params! {
    /// How to import paper assessments.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ImportParams {
        /// Check and score every row, write nothing.
        pub dry_run: Option<bool>,
    }
}

/// Enter assessments done on paper (纸质评估批量录入): every row a finished
/// form (person, date, reason, two assessors, Annex A facts, the 26 item
/// scores; headers as keys or in Chinese), scored by the standard; each
/// updates the person's ability level. All or nothing.
#[utoipa::path(
    post,
    path = "/api/assessments/import",
    operation_id = "import_assessments",
    tag = "assessments",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "UTF-8 CSV, at most 64 MiB"),
    responses(
        (status = 200, description = "`rows`, `dry_run`, and the ids of the assessments created", body = Object),
        (status = 400, description = "The file cannot be read (empty, not UTF-8 text, bad query)", body = ErrorBody),
        (status = 403, description = "Not an assessor", body = ErrorBody),
        (status = 413, description = "Larger than 64 MiB (`payload_too_large`)", body = ErrorBody),
        (status = 415, description = "Not `text/csv` (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Rows refused (row, column, reason); nothing written", body = ErrorBody),
    )
)]
pub async fn import(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ImportParams>,
    req: axum::extract::Request,
) -> Result<Json<serde_json::Value>, ApiError> {
    let scope = auth.scope()?;
    scope.require(laoxiao_store::Perm::Assess)?;
    let bytes = crate::planning::csv_body(req, &state).await?;
    let dry_run = p.dry_run.unwrap_or(false);
    let r = blocking(&state, move |c, reference| {
        Ok(asm::import::import(
            c,
            reference,
            &scope,
            "import.csv",
            &bytes,
            today(),
            dry_run,
        )?)
    })
    .await?;
    Ok(Json(serde_json::json!({
        "rows": r.rows,
        "dry_run": r.dry_run,
        "ids": r.ids,
    })))
}
