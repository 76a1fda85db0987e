//! Visiting rounds (探访关爱) and home-care beds (家庭养老床位) on the API:
//! `GET/POST /api/visits/rounds`, `GET /api/visits/tasks`,
//! `GET /api/visits/tasks/{id}`, `POST /api/visits/tasks/{id}/record`,
//! `GET /api/visits/followups`, `POST /api/visits/followups/{id}/close`,
//! `GET/POST /api/visits/contracts/{id}/services`, `GET /api/visits/completion`.
//! The rules are the store's (`laoxiao_store::visits`) and the data's
//! (`data/policy/visits.toml`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_model::visit::{VisitConcern, VisitOutcome};
use laoxiao_rules::visits::{VisitRules, parse_month};
use laoxiao_store::visits::{
    self as v, AreaCompletion, AreaProgress, Completion, FollowUp, Generated, ServiceInput,
    ServiceVisit, Task, TaskQuery, VisitInput,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params, text};
use crate::{AppState, blocking};

fn rules() -> Result<&'static VisitRules, ApiError> {
    VisitRules::embedded().map_err(|e| ApiError::Internal(e.to_string()))
}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// A `YYYY-MM` field, or this month when absent.
pub(crate) fn month_or_now(field: &str, m: Option<&str>) -> Result<NaiveDate, FieldError> {
    match m.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(parse_month(&today().format("%Y-%m").to_string()).unwrap_or_else(today)),
        Some(s) => match parse_month(s) {
            Some(d) if (2020..=2035).contains(&chrono::Datelike::year(&d)) => Ok(d),
            _ => Err(FieldError::new(
                field,
                "a month from 2020-01 to 2035-12 (YYYY-MM)",
            )),
        },
    }
}

fn date_field(field: &str, s: Option<&str>) -> Result<NaiveDate, FieldError> {
    match s.map(str::trim) {
        None | Some("") => Err(FieldError::new(field, "required (YYYY-MM-DD)")),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| FieldError::new(field, "a date YYYY-MM-DD")),
    }
}

/// A month's rounds per area.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoundsView {
    #[schema(example = "2026-02")]
    pub month: String,
    /// The day visits are due by (data/policy/visits.toml).
    #[schema(example = "2026-02-25")]
    pub due_date: String,
    #[schema(value_type = Vec<Object>)]
    pub areas: Vec<AreaProgress>,
}

query_params! {
    /// The month of `GET /api/visits/rounds` and `GET /api/visits/completion`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct MonthParams {
        /// `YYYY-MM` (default: this month).
        #[param(pattern = "^20[2-3][0-9]-(0[1-9]|1[0-2])$", example = "2026-02")]
        pub month: Option<String>,
    }
}

/// The month's visiting rounds per village in your area: due, visited,
/// attempted (not reached), open, overdue, without a visitor.
#[utoipa::path(
    get,
    path = "/api/visits/rounds",
    operation_id = "visit_rounds",
    tag = "visits",
    params(MonthParams),
    responses(
        (status = 200, description = "Progress per area", body = RoundsView),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn rounds(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<RoundsView>, ApiError> {
    let first =
        month_or_now("month", p.month.as_deref()).map_err(|e| ApiError::InvalidQuery(vec![e]))?;
    // A month before the rules' first date has no rounds: the caller's input.
    let due = rules()?
        .for_month(first)
        .map_err(|e| ApiError::InvalidQuery(vec![FieldError::new("month", e.to_string())]))?
        .due_date;
    let scope = auth.scope()?;
    let month = v::month_key(first);
    let m2 = month.clone();
    let areas = blocking(&state, move |c, _| {
        Ok(v::progress(c, &scope, &m2, today())?)
    })
    .await?;
    Ok(Json(RoundsView {
        month,
        due_date: due.to_string(),
        areas,
    }))
}

/// The month to generate.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateBody {
    /// `YYYY-MM`.
    #[schema(required = true, value_type = String, pattern = "^20[2-3][0-9]-(0[1-9]|1[0-2])$", example = "2026-02")]
    pub month: Option<String>,
}

/// What a generation did.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedView {
    #[schema(example = "2026-02")]
    pub month: String,
    pub created: i64,
    pub unassigned: i64,
    pub total: i64,
}

impl From<Generated> for GeneratedView {
    fn from(g: Generated) -> Self {
        GeneratedView {
            month: g.month,
            created: g.created,
            unassigned: g.unassigned,
            total: g.total,
        }
    }
}

/// Generate the month's visit tasks for everyone due in your area (town
/// staff and above). Running it again adds only people who became due.
#[utoipa::path(
    post,
    path = "/api/visits/rounds",
    operation_id = "generate_visit_rounds",
    tag = "visits",
    request_body = GenerateBody,
    responses(
        (status = 200, description = "Generated", body = GeneratedView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid month", body = ErrorBody),
    )
)]
pub async fn generate(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<GenerateBody>,
) -> Result<Json<GeneratedView>, ApiError> {
    let scope = auth.scope()?;
    let Some(m) = text(b.month) else {
        return Err(ApiError::invalid(vec![FieldError::new(
            "month",
            "required (YYYY-MM)",
        )]));
    };
    let first = month_or_now("month", Some(&m)).map_err(|e| ApiError::invalid(vec![e]))?;
    let mr = rules()?
        .for_month(first)
        .map_err(|e| ApiError::invalid(vec![FieldError::new("month", e.to_string())]))?;
    let g = blocking(&state, move |c, _| Ok(v::generate_rounds(c, &scope, &mr)?)).await?;
    Ok(Json(g.into()))
}

/// A visit task.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskView {
    #[schema(example = "VT-2026-02-E1")]
    pub id: String,
    pub month: String,
    pub person_id: String,
    /// Masked (张**).
    pub person_name: String,
    pub area_code: String,
    /// The visitor's account; none when the village has no staff account.
    pub visitor: Option<String>,
    pub due_date: String,
    /// `open` or `visited`.
    pub status: String,
    pub attempts: i64,
    /// `in_person`, `by_phone` or `not_reached` (the last try).
    pub outcome: Option<String>,
    pub last_attempt_date: Option<String>,
    pub visited_date: Option<String>,
    pub concerns: Vec<String>,
    pub overdue: bool,
}

impl From<Task> for TaskView {
    fn from(t: Task) -> Self {
        TaskView {
            id: t.id,
            month: t.month,
            person_id: t.person_id,
            person_name: t.person_name_masked,
            area_code: t.area_code,
            visitor: t.visitor,
            due_date: t.due_date.to_string(),
            status: match t.status {
                v::TaskStatus::Open => "open",
                v::TaskStatus::Visited => "visited",
            }
            .into(),
            attempts: t.attempts,
            outcome: t.outcome.map(|o| o.code().to_string()),
            last_attempt_date: t.last_attempt_date.map(|d| d.to_string()),
            visited_date: t.visited_date.map(|d| d.to_string()),
            concerns: t.concerns.iter().map(|c| c.code().to_string()).collect(),
            overdue: t.overdue,
        }
    }
}

/// Tasks, by due day, area and id.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskList {
    pub items: Vec<TaskView>,
}

query_params! {
    /// Filters of `GET /api/visits/tasks`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct TaskParams {
        /// `YYYY-MM` (default: every month).
        #[param(pattern = "^20[2-3][0-9]-(0[1-9]|1[0-2])$", example = "2026-02")]
        pub month: Option<String>,
        /// A village or town code in your area.
        #[param(pattern = "^[0-9]{9}([0-9]{3})?$")]
        pub area: Option<String>,
        /// `true`: only the tasks assigned to you.
        pub mine: Option<bool>,
        /// `open`, `overdue` or `all` (default).
        #[param(pattern = "^(open|overdue|all)$")]
        pub status: Option<String>,
        #[param(minimum = 0, maximum = 1000000)]
        pub offset: Option<u32>,
        /// 1–500 (default 100).
        #[param(minimum = 1, maximum = 500)]
        pub limit: Option<u32>,
    }
}

/// Visit tasks in your area: a visitor's own (`mine=true`), a village's,
/// the overdue ones (`status=overdue`: open past the due day).
#[utoipa::path(
    get,
    path = "/api/visits/tasks",
    operation_id = "list_visit_tasks",
    tag = "visits",
    params(TaskParams),
    responses(
        (status = 200, description = "Tasks", body = TaskList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn tasks(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<TaskParams>,
) -> Result<Json<TaskList>, ApiError> {
    let scope = auth.scope()?;
    let mut errs = Vec::new();
    let month = match p.month.as_deref() {
        None => None,
        Some(m) => match month_or_now("month", Some(m)) {
            Ok(d) => Some(v::month_key(d)),
            Err(e) => {
                errs.push(e);
                None
            }
        },
    };
    let (open_only, overdue_only) = match p.status.as_deref().unwrap_or("all") {
        "all" => (false, false),
        "open" => (true, false),
        "overdue" => (true, true),
        other => {
            errs.push(FieldError::new(
                "status",
                format!("{other:?}: one of open, overdue, all"),
            ));
            (false, false)
        }
    };
    if p.limit.is_some_and(|l| !(1..=500).contains(&l)) {
        errs.push(FieldError::new("limit", "from 1 to 500"));
    }
    if p.offset.is_some_and(|o| o > 1_000_000) {
        errs.push(FieldError::new("offset", "at most 1000000"));
    }
    let area = p.area.clone();
    if !errs.is_empty() {
        return Err(ApiError::InvalidQuery(errs));
    }
    let visitor = p.mine.unwrap_or(false).then(|| scope.actor.user.clone());
    let items = blocking(&state, move |c, r| {
        let area_path = match area {
            None => None,
            Some(code) => match r.areas.get(code.trim()) {
                Some(a) => Some(a.path.clone()),
                None => {
                    return Err(ApiError::InvalidQuery(vec![FieldError::new(
                        "area",
                        "unknown area code",
                    )]));
                }
            },
        };
        let q = TaskQuery {
            month,
            area_path,
            visitor,
            open_only,
            overdue_only,
            limit: i64::from(p.limit.unwrap_or(100)),
            offset: i64::from(p.offset.unwrap_or(0)),
        };
        Ok(v::list_tasks(c, &scope, &q, today())?)
    })
    .await?;
    Ok(Json(TaskList {
        items: items.into_iter().map(TaskView::from).collect(),
    }))
}

/// One visit task in your area.
#[utoipa::path(
    get,
    path = "/api/visits/tasks/{id}",
    operation_id = "get_visit_task",
    tag = "visits",
    params(("id" = String, Path, description = "The task's id")),
    responses(
        (status = 200, description = "The task", body = TaskView),
        (status = 404, description = "No such task in your area", body = ErrorBody),
    )
)]
pub async fn task(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TaskView>, ApiError> {
    let scope = auth.scope()?;
    let t = blocking(&state, move |c, _| {
        Ok(v::get_task(c, &scope, &id, today())?)
    })
    .await?;
    Ok(Json(t.into()))
}

/// A visit, or an attempt.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    /// `in_person` (上门探访), `by_phone` (电话探访) or `not_reached` (未联系上).
    #[schema(required = true, value_type = String, example = "in_person")]
    pub outcome: Option<String>,
    /// The day of the visit (not in the future, not before the round's month).
    #[schema(required = true, value_type = String, format = Date, example = "2026-02-20")]
    pub date: Option<String>,
    /// Concerns found: `health`, `safety`, `living`, `mental`, `other`.
    #[schema(max_items = 5)]
    pub concerns: Option<Vec<String>>,
    /// At most 500 characters.
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// What the town should follow up (at most 500 characters); absent: none.
    #[schema(max_length = 500)]
    pub follow_up: Option<String>,
}

/// The body checked into the store's input.
pub(crate) fn visit_input(b: VisitBody) -> Result<VisitInput, ApiError> {
    let mut errs = Vec::new();
    let outcome = match b.outcome.as_deref().map(str::trim) {
        None | Some("") => {
            errs.push(FieldError::new("outcome", "required"));
            None
        }
        Some(o) => match VisitOutcome::parse(o) {
            Some(o) => Some(o),
            None => {
                errs.push(FieldError::new(
                    "outcome",
                    "one of in_person, by_phone, not_reached",
                ));
                None
            }
        },
    };
    let date = date_field("date", b.date.as_deref())
        .map_err(|e| errs.push(e))
        .ok();
    let mut concerns = Vec::new();
    for c in b.concerns.unwrap_or_default() {
        match VisitConcern::parse(c.trim()) {
            Some(x) => concerns.push(x),
            None => errs.push(FieldError::new(
                "concerns",
                "each one of health, safety, living, mental, other",
            )),
        }
    }
    if concerns.len() > 5 {
        errs.push(FieldError::new("concerns", "at most 5"));
    }
    match (outcome, date, errs.is_empty()) {
        (Some(outcome), Some(date), true) => Ok(VisitInput {
            outcome,
            date,
            concerns,
            note: b.note,
            follow_up: b.follow_up,
        }),
        _ => Err(laoxiao_store::StoreError::Invalid(errs).into()),
    }
}

/// Record a visit (in person or by phone: the task is done and a `visit`
/// service record is written, which indicator 8 counts) or an attempt (not
/// reached: the task stays open). A follow-up becomes a task for the town.
#[utoipa::path(
    post,
    path = "/api/visits/tasks/{id}/record",
    operation_id = "record_visit",
    tag = "visits",
    params(("id" = String, Path, description = "The task's id")),
    request_body = VisitBody,
    responses(
        (status = 200, description = "Recorded", body = TaskView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such task in your area", body = ErrorBody),
        (status = 409, description = "The visit is recorded already", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn record(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<VisitBody>,
) -> Result<Json<TaskView>, ApiError> {
    let scope = auth.scope()?;
    let input = visit_input(b)?;
    let t = blocking(&state, move |c, _| {
        Ok(v::record_visit(c, &scope, &id, &input, today())?)
    })
    .await?;
    Ok(Json(t.into()))
}

/// A follow-up for the town.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpView {
    pub id: String,
    pub task_id: String,
    pub person_id: String,
    /// Masked.
    pub person_name: String,
    pub need: String,
    /// `open` or `done`.
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub done_by: Option<String>,
    pub done_at: Option<String>,
    pub done_note: Option<String>,
}

impl From<FollowUp> for FollowUpView {
    fn from(f: FollowUp) -> Self {
        FollowUpView {
            id: f.id,
            task_id: f.task_id,
            person_id: f.person_id,
            person_name: f.person_name_masked,
            need: f.need,
            status: if f.open { "open" } else { "done" }.into(),
            created_by: f.created_by,
            created_at: f.created_at,
            done_by: f.done_by,
            done_at: f.done_at,
            done_note: f.done_note,
        }
    }
}

/// Follow-ups, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpList {
    pub items: Vec<FollowUpView>,
}

query_params! {
    /// Filters of `GET /api/visits/followups`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FollowUpParams {
        /// `open` (default) or `all`.
        #[param(pattern = "^(open|all)$")]
        pub status: Option<String>,
    }
}

/// Follow-ups that visits in your area asked for.
#[utoipa::path(
    get,
    path = "/api/visits/followups",
    operation_id = "list_visit_followups",
    tag = "visits",
    params(FollowUpParams),
    responses(
        (status = 200, description = "Follow-ups", body = FollowUpList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn followups(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<FollowUpParams>,
) -> Result<Json<FollowUpList>, ApiError> {
    let open_only = match p.status.as_deref().unwrap_or("open") {
        "open" => true,
        "all" => false,
        other => {
            return Err(ApiError::InvalidQuery(vec![FieldError::new(
                "status",
                format!("{other:?}: one of open, all"),
            )]));
        }
    };
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(v::list_followups(c, &scope, open_only, 500)?)
    })
    .await?;
    Ok(Json(FollowUpList {
        items: items.into_iter().map(FollowUpView::from).collect(),
    }))
}

/// What was done.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// At most 500 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 500)]
    pub note: Option<String>,
}

/// Close a follow-up with what was done (town staff and above).
#[utoipa::path(
    post,
    path = "/api/visits/followups/{id}/close",
    operation_id = "close_visit_followup",
    tag = "visits",
    params(("id" = String, Path, description = "The follow-up's id")),
    request_body = CloseBody,
    responses(
        (status = 200, description = "Closed", body = FollowUpView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such follow-up in your area", body = ErrorBody),
        (status = 409, description = "Done already", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "No note, or an invalid one", body = ErrorBody),
    )
)]
pub async fn close(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CloseBody>,
) -> Result<Json<FollowUpView>, ApiError> {
    let scope = auth.scope()?;
    let note = b.note.unwrap_or_default();
    let f = blocking(&state, move |c, _| {
        Ok(v::close_followup(c, &scope, &id, &note)?)
    })
    .await?;
    Ok(Json(f.into()))
}

/// A service visit under a home-care bed contract.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub contract_id: String,
    pub date: String,
    pub minutes: i64,
    pub services: String,
    pub staff_id: Option<String>,
    pub service_record_id: String,
    pub recorded_by: String,
}

impl From<ServiceVisit> for ServiceView {
    fn from(s: ServiceVisit) -> Self {
        ServiceView {
            id: s.id,
            contract_id: s.contract_id,
            date: s.date.to_string(),
            minutes: s.minutes,
            services: s.services,
            staff_id: s.staff_id,
            service_record_id: s.service_record_id,
            recorded_by: s.recorded_by,
        }
    }
}

/// A contract's service visits, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub items: Vec<ServiceView>,
}

/// The service visits of a home-care bed contract (its provider's operator,
/// or staff of the person's area).
#[utoipa::path(
    get,
    path = "/api/visits/contracts/{id}/services",
    operation_id = "list_home_care_services",
    tag = "visits",
    params(("id" = String, Path, description = "The contract's id (register home_care_beds)")),
    responses(
        (status = 200, description = "Service visits", body = ServiceList),
        (status = 404, description = "No such contract in your scope", body = ErrorBody),
    )
)]
pub async fn services(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ServiceList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(v::list_services(c, &scope, &id)?)).await?;
    Ok(Json(ServiceList {
        items: items.into_iter().map(ServiceView::from).collect(),
    }))
}

/// A service visit.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceBody {
    /// Within the contract's term, not in the future.
    #[schema(required = true, value_type = String, format = Date, example = "2026-02-03")]
    pub date: Option<String>,
    /// 1–720.
    #[schema(required = true, value_type = i64, minimum = 1, maximum = 720, example = 90)]
    pub minutes: Option<i64>,
    /// The services done (服务内容), at most 500 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 500, example = "助浴、康复训练")]
    pub services: Option<String>,
    /// A staff member of the provider (staff register id).
    #[schema(max_length = 100)]
    pub staff_id: Option<String>,
}

pub(crate) fn service_input(b: ServiceBody) -> Result<ServiceInput, ApiError> {
    let mut errs = Vec::new();
    let date = date_field("date", b.date.as_deref())
        .map_err(|e| errs.push(e))
        .ok();
    let minutes = match b.minutes {
        None => {
            errs.push(FieldError::new("minutes", "required"));
            0
        }
        Some(m) => m,
    };
    let services = b.services.unwrap_or_default();
    if services.trim().is_empty() {
        errs.push(FieldError::new("services", "say which services were done"));
    }
    if b.staff_id.as_ref().is_some_and(|s| s.chars().count() > 100) {
        errs.push(FieldError::new("staff_id", "at most 100 characters"));
    }
    match (date, errs.is_empty()) {
        (Some(date), true) => Ok(ServiceInput {
            date,
            minutes,
            services,
            staff_id: b.staff_id,
        }),
        _ => Err(laoxiao_store::StoreError::Invalid(errs).into()),
    }
}

/// Record a service visit under a home-care bed contract (writes a
/// `home_care_bed` service record, which indicator 7 counts).
#[utoipa::path(
    post,
    path = "/api/visits/contracts/{id}/services",
    operation_id = "record_home_care_service",
    tag = "visits",
    params(("id" = String, Path, description = "The contract's id (register home_care_beds)")),
    request_body = ServiceBody,
    responses(
        (status = 201, description = "Recorded", body = ServiceView),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such contract in your scope", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn record_service(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ServiceBody>,
) -> Result<Response, ApiError> {
    let scope = auth.scope()?;
    let input = service_input(b)?;
    let s = blocking(&state, move |c, _| {
        Ok(v::record_service(c, &scope, &id, &input, today())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(ServiceView::from(s))).into_response())
}

/// A month's completion of home-care bed contracts.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompletionView {
    #[schema(example = "2026-02")]
    pub month: String,
    /// Contracts under this share are flagged (data/policy/visits.toml).
    pub alert_percent: u32,
    #[schema(value_type = Vec<Object>)]
    pub contracts: Vec<Completion>,
    #[schema(value_type = Vec<Object>)]
    pub areas: Vec<AreaCompletion>,
}

/// Monthly completion per contract (hours delivered vs planned) and per area.
#[utoipa::path(
    get,
    path = "/api/visits/completion",
    operation_id = "home_care_completion",
    tag = "visits",
    params(MonthParams),
    responses(
        (status = 200, description = "Completion", body = CompletionView),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn completion(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<MonthParams>,
) -> Result<Json<CompletionView>, ApiError> {
    let first =
        month_or_now("month", p.month.as_deref()).map_err(|e| ApiError::InvalidQuery(vec![e]))?;
    let alert = rules()?.completion_alert(first);
    let scope = auth.scope()?;
    let contracts = blocking(&state, move |c, _| Ok(v::completion(c, &scope, first)?)).await?;
    let areas = v::completion_by_area(&contracts, alert);
    Ok(Json(CompletionView {
        month: v::month_key(first),
        alert_percent: alert,
        contracts,
        areas,
    }))
}
