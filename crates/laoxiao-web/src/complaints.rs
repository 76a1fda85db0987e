//! Complaints (投诉) over HTTP: a family files one about its child's
//! institution, follows it by its tracking code and closes it with a rating;
//! the facility acknowledges and answers; the county and city read their
//! area's (late ones first), answer a late one, and read the figures. The
//! rules are the store's (`laoxiao_store::complaints`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use laoxiao_model::FieldError;
use laoxiao_store::complaints::{
    self as ct, AreaLine, Complaint, ComplaintRow, Counts, FacilityLine, Figures, ListQuery,
    NewComplaint, Status,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

// ------------------------------------------------------------ views

/// A complaint as a list row (no body).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintRowView {
    pub id: String,
    /// The public tracking code (查询码), `TS` and 10 characters.
    pub tracking_code: String,
    pub facility_id: String,
    pub facility_name: String,
    /// `family`, `staff`, `portal`.
    pub source: String,
    pub source_label: String,
    /// `safety`, `hygiene_health`, `fees`, `staff_conduct`, `meals`, `service_quality`, `other`.
    pub category: String,
    pub category_label: String,
    /// `received`, `acknowledged`, `answered`, `closed`.
    pub status: String,
    pub status_label: String,
    /// The child concerned (masked for staff).
    pub person_name: Option<String>,
    pub filed_at: String,
    /// Acknowledge by (受理确认时限).
    pub ack_due: String,
    /// Answer by (答复时限).
    pub answer_due: String,
    pub escalated_at: Option<String>,
    /// `ack_late`, `answer_late`.
    pub escalation_reason: Option<String>,
    /// Escalated, or a deadline passed unmet or was met late.
    pub late: bool,
    pub rating: Option<i64>,
}

impl From<ComplaintRow> for ComplaintRowView {
    fn from(r: ComplaintRow) -> Self {
        ComplaintRowView {
            id: r.id,
            tracking_code: r.tracking_code,
            facility_id: r.facility_id,
            facility_name: r.facility_name,
            source: r.source.code().into(),
            source_label: r.source.label_zh().into(),
            category: r.category.code().into(),
            category_label: r.category.label_zh().into(),
            status: r.status.code().into(),
            status_label: r.status.label_zh().into(),
            person_name: r.person_name,
            filed_at: r.filed_at,
            ack_due: r.ack_due,
            answer_due: r.answer_due,
            escalated_at: r.escalated_at,
            escalation_reason: r.escalation_reason.map(|e| e.code().into()),
            late: r.late,
            rating: r.rating,
        }
    }
}

/// A complaint in full.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintView {
    #[serde(flatten)]
    pub row: ComplaintRowView,
    pub person_id: Option<String>,
    pub body: String,
    /// Masked for staff, in full for the complainant.
    pub contact_phone: Option<String>,
    pub acknowledged_at: Option<String>,
    pub answer: Option<String>,
    /// `facility`, or `supervisor` (the county answered a late complaint).
    pub answered_side: Option<String>,
    pub answered_at: Option<String>,
    pub closed_at: Option<String>,
    pub rating_comment: Option<String>,
    pub updated_at: String,
    pub can_close: bool,
    pub can_acknowledge: bool,
    pub can_answer: bool,
}

impl From<Complaint> for ComplaintView {
    fn from(c: Complaint) -> Self {
        ComplaintView {
            row: c.row.into(),
            person_id: c.person_id,
            body: c.body,
            contact_phone: c.contact_phone,
            acknowledged_at: c.acknowledged_at,
            answer: c.answer,
            answered_side: c.answered_side.map(|s| s.code().into()),
            answered_at: c.answered_at,
            closed_at: c.closed_at,
            rating_comment: c.rating_comment,
            updated_at: c.updated_at,
            can_close: c.can_close,
            can_acknowledge: c.can_acknowledge,
            can_answer: c.can_answer,
        }
    }
}

/// Complaints.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintList {
    pub items: Vec<ComplaintRowView>,
}

/// Counts of a facility or area.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintCountsView {
    pub received: i64,
    pub open: i64,
    pub late: i64,
    pub answered: i64,
    pub answered_on_time: i64,
    /// Answered, plus open past the answer deadline.
    pub answer_due: i64,
    /// Answered on time ÷ answer due; absent when none has fallen due.
    pub on_time_share: Option<f64>,
    pub average_rating: Option<f64>,
    /// Filed within `complaint.repeat_days`.
    pub recent: i64,
}

impl From<Counts> for ComplaintCountsView {
    fn from(c: Counts) -> Self {
        ComplaintCountsView {
            on_time_share: c.on_time_share(),
            average_rating: c.average_rating(),
            received: c.received,
            open: c.open,
            late: c.late,
            answered: c.answered,
            answered_on_time: c.answered_on_time,
            answer_due: c.answer_due,
            recent: c.recent,
        }
    }
}

/// A facility's line.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintFacilityView {
    pub facility_id: String,
    pub facility_name: String,
    pub area_path: String,
    pub counts: ComplaintCountsView,
    /// 须安排不定期检查: at least the threshold within the period.
    pub inspection_due: bool,
}

impl From<FacilityLine> for ComplaintFacilityView {
    fn from(f: FacilityLine) -> Self {
        ComplaintFacilityView {
            facility_id: f.facility_id,
            facility_name: f.facility_name,
            area_path: f.area_path,
            counts: f.counts.into(),
            inspection_due: f.inspection_due,
        }
    }
}

/// An area's line (a county below the city, a town below a county).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintAreaView {
    pub code: String,
    pub name: String,
    pub counts: ComplaintCountsView,
    pub inspection_due: i64,
}

impl From<AreaLine> for ComplaintAreaView {
    fn from(a: AreaLine) -> Self {
        ComplaintAreaView {
            code: a.code,
            name: a.name,
            counts: a.counts.into(),
            inspection_due: a.inspection_due,
        }
    }
}

/// The complaint figures of your area (投诉统计).
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintFiguresView {
    pub total: ComplaintCountsView,
    pub areas: Vec<ComplaintAreaView>,
    pub facilities: Vec<ComplaintFacilityView>,
    /// `complaint.repeat_days`.
    pub repeat_days: i64,
    /// `complaint.repeat_threshold`.
    pub repeat_threshold: i64,
}

impl From<Figures> for ComplaintFiguresView {
    fn from(f: Figures) -> Self {
        ComplaintFiguresView {
            total: f.total.into(),
            areas: f.areas.into_iter().map(Into::into).collect(),
            facilities: f.facilities.into_iter().map(Into::into).collect(),
            repeat_days: f.repeat_days,
            repeat_threshold: f.repeat_threshold,
        }
    }
}

// ------------------------------------------------------------ bodies

/// A complaint to file.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ComplaintBody {
    /// Your child the complaint is about (a verified link).
    #[schema(required = true, max_length = 64)]
    pub person_id: Option<String>,
    /// The institution; your child's current one when absent.
    #[schema(max_length = 64)]
    pub facility_id: Option<String>,
    /// `safety` 安全, `hygiene_health` 卫生健康, `fees` 收费, `staff_conduct`
    /// 人员行为, `meals` 膳食, `service_quality` 服务质量, `other` 其他 (the
    /// Chinese label is accepted too).
    #[schema(required = true, example = "meals")]
    pub category: Option<String>,
    /// What happened, 1 to 2000 characters.
    #[schema(required = true, min_length = 1, max_length = 2000)]
    pub body: Option<String>,
    /// A mobile (11 digits) or a landline with its area code.
    #[schema(max_length = 20)]
    pub contact_phone: Option<String>,
}

/// An answer (答复).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ComplaintAnswerBody {
    /// 1 to 2000 characters.
    #[schema(required = true, min_length = 1, max_length = 2000)]
    pub answer: Option<String>,
}

/// Closing with a rating (办结评价).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ComplaintCloseBody {
    /// 1 (very unsatisfied) to 5 (very satisfied).
    #[schema(required = true, minimum = 1, maximum = 5)]
    pub rating: Option<i64>,
    /// At most 500 characters.
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

query_params! {
    /// Filters of `GET /api/complaints`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ComplaintListParams {
        /// `received`, `acknowledged`, `answered`, `closed`.
        #[param(pattern = "^(received|acknowledged|answered|closed)$")]
        pub status: Option<String>,
        /// One facility's.
        #[param(max_length = 64)]
        pub facility: Option<String>,
        /// `true`: only late ones; `false`: only those not late.
        pub late: Option<bool>,
    }
}

fn required(field: &str, v: Option<&str>, why: &str) -> Result<String, ApiError> {
    v.map(str::to_string)
        .ok_or_else(|| ApiError::invalid(vec![FieldError::new(field, why)]))
}

// ------------------------------------------------------------ family

/// File a complaint about your child's institution (家长投诉). Answers the
/// complaint with its tracking code.
#[utoipa::path(
    post,
    path = "/api/family/complaints",
    operation_id = "file_family_complaint",
    tag = "family",
    request_body = ComplaintBody,
    responses(
        (status = 201, description = "Filed; the complaint with its tracking code and deadlines", body = ComplaintView),
        (status = 404, description = "Not a child linked to your account", body = ErrorBody),
        (status = 422, description = "A field missing or out of bounds, or not your child's institution", body = ErrorBody),
    )
)]
pub async fn family_file(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ComplaintBody>,
) -> Result<(StatusCode, Json<ComplaintView>), ApiError> {
    let input = NewComplaint {
        person_id: Some(required(
            "person_id",
            b.person_id.as_deref(),
            "the child the complaint is about",
        )?),
        facility_id: b.facility_id,
        category: b.category.unwrap_or_default(),
        body: b.body.unwrap_or_default(),
        contact_phone: b.contact_phone,
        source: None,
    };
    let scope = auth.scope()?;
    let c = blocking(&state, move |c, r| {
        Ok(ct::file(c, r, &scope, &input, Utc::now())?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// The complaints you filed, newest first.
#[utoipa::path(
    get,
    path = "/api/family/complaints",
    operation_id = "list_family_complaints",
    tag = "family",
    responses((status = 200, description = "Your complaints", body = ComplaintList))
)]
pub async fn family_list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ComplaintList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(ct::family_list(c, &scope, Utc::now())?)
    })
    .await?;
    Ok(Json(ComplaintList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// One of your complaints with its answer.
#[utoipa::path(
    get,
    path = "/api/family/complaints/{id}",
    operation_id = "get_family_complaint",
    tag = "family",
    params(("id" = String, Path, description = "The complaint's id")),
    responses(
        (status = 200, description = "The complaint", body = ComplaintView),
        (status = 404, description = "Not a complaint you filed", body = ErrorBody),
    )
)]
pub async fn family_get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    let scope = auth.scope()?;
    let c = blocking(&state, move |c, r| {
        Ok(ct::get(c, r, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(c.into()))
}

/// Close your complaint with a rating (办结评价): once answered, or once
/// the answer deadline passed without an answer.
#[utoipa::path(
    post,
    path = "/api/family/complaints/{id}/close",
    operation_id = "close_family_complaint",
    tag = "family",
    params(("id" = String, Path, description = "The complaint's id")),
    request_body = ComplaintCloseBody,
    responses(
        (status = 200, description = "Closed", body = ComplaintView),
        (status = 404, description = "Not a complaint you filed", body = ErrorBody),
        (status = 409, description = "Closed already, or changed at the same moment", body = ErrorBody),
        (status = 422, description = "A rating out of 1–5, or not answered and not yet due", body = ErrorBody),
    )
)]
pub async fn family_close(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ComplaintCloseBody>,
) -> Result<Json<ComplaintView>, ApiError> {
    let Some(rating) = b.rating else {
        return Err(ApiError::invalid(vec![FieldError::new(
            "rating",
            "a rating from 1 to 5",
        )]));
    };
    let scope = auth.scope()?;
    let c = blocking(&state, move |c, r| {
        Ok(ct::close(
            c,
            r,
            &scope,
            &id,
            rating,
            b.comment.as_deref(),
            Utc::now(),
        )?)
    })
    .await?;
    Ok(Json(c.into()))
}

// ------------------------------------------------------------ staff

/// The complaints of your facility or area: the late open ones first, then
/// the newest.
#[utoipa::path(
    get,
    path = "/api/complaints",
    operation_id = "list_complaints",
    tag = "complaints",
    params(ComplaintListParams),
    responses(
        (status = 200, description = "The complaints", body = ComplaintList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 422, description = "A status or facility that is not one", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ComplaintListParams>,
) -> Result<Json<ComplaintList>, ApiError> {
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::invalid(vec![FieldError::new(
                "status",
                format!("one of {}", Status::expected()),
            )])
        })?),
    };
    let q = ListQuery {
        status,
        facility_id: p.facility,
        late: p.late,
    };
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(ct::list(c, &scope, &q, Utc::now())?)).await?;
    Ok(Json(ComplaintList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// The complaint figures of your area (投诉统计): per facility and per county
/// or town below it, with the facilities flagged for an unplanned inspection.
#[utoipa::path(
    get,
    path = "/api/complaints/figures",
    operation_id = "complaint_figures",
    tag = "complaints",
    responses((status = 200, description = "The figures", body = ComplaintFiguresView))
)]
pub async fn figures(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ComplaintFiguresView>, ApiError> {
    let scope = auth.scope()?;
    let f = blocking(&state, move |c, r| {
        Ok(ct::figures(c, r, &scope, Utc::now())?)
    })
    .await?;
    Ok(Json(f.into()))
}

/// One complaint (the person and phone masked).
#[utoipa::path(
    get,
    path = "/api/complaints/{id}",
    operation_id = "get_complaint",
    tag = "complaints",
    params(("id" = String, Path, description = "The complaint's id")),
    responses(
        (status = 200, description = "The complaint", body = ComplaintView),
        (status = 404, description = "No such complaint in your facility or area", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    let scope = auth.scope()?;
    let c = blocking(&state, move |c, r| {
        Ok(ct::get(c, r, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(c.into()))
}

/// Acknowledge a complaint (受理确认; the facility's own staff).
#[utoipa::path(
    post,
    path = "/api/complaints/{id}/acknowledge",
    operation_id = "acknowledge_complaint",
    tag = "complaints",
    params(("id" = String, Path, description = "The complaint's id")),
    responses(
        (status = 200, description = "Acknowledged", body = ComplaintView),
        (status = 403, description = "Not the facility's staff", body = ErrorBody),
        (status = 404, description = "No such complaint in your facility or area", body = ErrorBody),
        (status = 409, description = "Acknowledged already, or at the same moment", body = ErrorBody),
    )
)]
pub async fn acknowledge(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ComplaintView>, ApiError> {
    let scope = auth.scope()?;
    let c = blocking(&state, move |c, r| {
        Ok(ct::acknowledge(c, r, &scope, &id, Utc::now())?)
    })
    .await?;
    Ok(Json(c.into()))
}

/// Answer a complaint (答复): the facility's own staff, or county and city
/// staff once it is late (督办). Two at once: one wins, the other gets 409.
#[utoipa::path(
    post,
    path = "/api/complaints/{id}/answer",
    operation_id = "answer_complaint",
    tag = "complaints",
    params(("id" = String, Path, description = "The complaint's id")),
    request_body = ComplaintAnswerBody,
    responses(
        (status = 200, description = "Answered", body = ComplaintView),
        (status = 403, description = "Not the facility's staff, and not late", body = ErrorBody),
        (status = 404, description = "No such complaint in your facility or area", body = ErrorBody),
        (status = 409, description = "Answered already, or at the same moment", body = ErrorBody),
        (status = 422, description = "The answer missing or too long", body = ErrorBody),
    )
)]
pub async fn answer(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ComplaintAnswerBody>,
) -> Result<Json<ComplaintView>, ApiError> {
    let text = b.answer.unwrap_or_default();
    let scope = auth.scope()?;
    let c = blocking(&state, move |c, r| {
        Ok(ct::answer(c, r, &scope, &id, &text, Utc::now())?)
    })
    .await?;
    Ok(Json(c.into()))
}

/// Marks late complaints escalated every `every` (the server's periodic
/// check; lists judge lateness from the deadlines themselves). Runs until
/// the process ends.
pub async fn escalation_loop(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let store = state.store.clone();
        let r = state
            .db_tasks
            .run(move || {
                let mut c = store.conn()?;
                ct::escalate_due(&mut c, Utc::now())
            })
            .await;
        match r {
            Ok(Ok(n)) if n > 0 => tracing::info!(escalated = n, "complaints escalated"),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "complaint escalation failed"),
            Err(e) => tracing::warn!(error = %e, "complaint escalation task failed"),
        }
    }
}
