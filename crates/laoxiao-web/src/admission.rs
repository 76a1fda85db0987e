//! Care-home admission by priority (养老机构入住轮候): applications, a home's
//! waiting list with positions explained, offers, answers, discharge, and
//! the waiting figures. The rules are the store's (`laoxiao_store::admission`)
//! and the ranking's (`laoxiao_rules::admission`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_store::admission::{
    self as adm, AppStatus, ApplicantKind, Application, ApplyInput, Figures, HomeLine, ListQuery,
    Step, WaitFigure, WaitingList,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

pub(crate) fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// An application (入住申请) as the caller may see it: the name masked.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApplicationView {
    #[schema(example = "ADM-3F9A0C1D2E4B5A69")]
    pub id: String,
    pub person_id: String,
    #[schema(example = "王**")]
    pub person_name: String,
    pub age: Option<i32>,
    pub facility_id: String,
    pub facility_name: String,
    /// `staff` or `family`.
    pub applicant_kind: String,
    /// `waiting`, `offered`, `admitted`, `declined`, `lapsed`, `withdrawn` or `cancelled`.
    #[schema(example = "waiting")]
    pub status: String,
    pub note: Option<String>,
    pub applied_by: String,
    pub applied_at: String,
    #[schema(value_type = String, format = Date)]
    pub applied_date: NaiveDate,
    /// Days since applying (until closed).
    pub wait_days: i64,
    #[schema(value_type = Option<String>, format = Date)]
    pub offered_date: Option<NaiveDate>,
    /// The offer lapses after this day.
    #[schema(value_type = Option<String>, format = Date)]
    pub offer_deadline: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub closed_date: Option<NaiveDate>,
    pub close_reason: Option<String>,
    pub residence_id: Option<String>,
    /// Position on the home's waiting list (waiting and eligible only).
    pub position: Option<u32>,
    /// Priority class (1 first).
    pub class_rank: Option<u8>,
    /// Why this position (Chinese).
    pub explanation_zh: Option<String>,
    pub explanation_en: Option<String>,
}

impl From<Application> for ApplicationView {
    fn from(a: Application) -> Self {
        ApplicationView {
            id: a.id,
            person_id: a.person_id,
            person_name: a.person_name_masked,
            age: a.age,
            facility_id: a.facility_id,
            facility_name: a.facility_name,
            applicant_kind: a.applicant_kind.code().to_string(),
            status: a.status.code().to_string(),
            note: a.note,
            applied_by: a.applied_by,
            applied_at: a.applied_at,
            applied_date: a.applied_date,
            wait_days: a.wait_days,
            offered_date: a.offered_date,
            offer_deadline: a.offer_deadline,
            closed_date: a.closed_date,
            close_reason: a.close_reason,
            residence_id: a.residence_id,
            position: a.position,
            class_rank: a.class_rank,
            explanation_zh: a.explanation_zh,
            explanation_en: a.explanation_en,
        }
    }
}

/// Applications, newest first (at most 500).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApplicationList {
    pub items: Vec<ApplicationView>,
}

/// A home's waiting list: offers, then the waiting in order, then the
/// waiting who are not eligible today.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WaitingListView {
    pub facility_id: String,
    pub facility_name: String,
    pub beds: i64,
    pub occupied: i64,
    pub open_offers: i64,
    pub free_beds: i64,
    pub lines: Vec<ApplicationView>,
    /// The plan clause the priority rules come from.
    pub rules_clause: String,
    /// Days an offer is held.
    pub offer_days: i64,
}

impl From<WaitingList> for WaitingListView {
    fn from(w: WaitingList) -> Self {
        WaitingListView {
            facility_id: w.facility_id,
            facility_name: w.facility_name,
            beds: w.beds,
            occupied: w.occupied,
            open_offers: w.open_offers,
            free_beds: w.free_beds,
            lines: w.lines.into_iter().map(Into::into).collect(),
            rules_clause: w.rules_clause,
            offer_days: w.offer_days,
        }
    }
}

/// Waiting figures of a home or a county.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WaitFigureView {
    pub key: String,
    pub name: String,
    pub waiting: i64,
    pub median_wait_days: Option<i64>,
    pub longest_wait_days: Option<i64>,
}

impl From<WaitFigure> for WaitFigureView {
    fn from(w: WaitFigure) -> Self {
        WaitFigureView {
            key: w.key,
            name: w.name,
            waiting: w.waiting,
            median_wait_days: w.median_wait_days,
            longest_wait_days: w.longest_wait_days,
        }
    }
}

/// Waiting-list length and waits per home and per county in your area.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AdmissionFiguresView {
    pub homes: Vec<WaitFigureView>,
    pub counties: Vec<WaitFigureView>,
    pub total_waiting: i64,
    pub open_offers: i64,
}

impl From<Figures> for AdmissionFiguresView {
    fn from(f: Figures) -> Self {
        AdmissionFiguresView {
            homes: f.homes.into_iter().map(Into::into).collect(),
            counties: f.counties.into_iter().map(Into::into).collect(),
            total_waiting: f.total_waiting,
            open_offers: f.open_offers,
        }
    }
}

/// A care home with its beds and list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HomeView {
    pub id: String,
    pub name: String,
    pub beds: i64,
    pub occupied: i64,
    pub open_offers: i64,
    pub waiting: i64,
}

impl From<HomeLine> for HomeView {
    fn from(h: HomeLine) -> Self {
        HomeView {
            id: h.id,
            name: h.name,
            beds: h.beds,
            occupied: h.occupied,
            open_offers: h.open_offers,
            waiting: h.waiting,
        }
    }
}

/// The care homes in your area (an operator: its own).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HomeList {
    pub items: Vec<HomeView>,
}

/// An application of one elderly person to one or more care homes.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyBody {
    /// The elderly person's record id (in your area).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 64)]
    pub person_id: Option<String>,
    /// One to five care homes (facilities of kind `elderly_institution`).
    #[schema(required = true, value_type = Vec<String>, min_items = 1, max_items = 5)]
    pub facility_ids: Option<Vec<String>>,
    /// `staff` (default) or `family`.
    #[schema(value_type = Option<String>, example = "staff")]
    pub applicant_kind: Option<String>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// The body of an answer or a closing step.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// Required to cancel; at most 500 characters.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

/// A discharge (退住).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DischargeBody {
    /// The day the resident left (not in the future, not before admission).
    #[schema(required = true, value_type = String, format = Date)]
    pub date: Option<NaiveDate>,
    /// Offer the freed bed to the next applicant at once (default true).
    pub offer_next: Option<bool>,
}

/// The answer of an offer step: the application offered, if any.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OfferResult {
    /// `None`: no bed free, or nobody eligible waiting.
    pub offered: Option<ApplicationView>,
}

query_params! {
    /// Filters of `GET /api/admission/applications`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ApplicationParams {
        /// Only applications to this care home.
        #[param(min_length = 1, max_length = 64)]
        pub facility_id: Option<String>,
        /// Only homes in this county (6-digit code).
        #[param(pattern = "^[0-9]{6}$", example = "330402")]
        pub county: Option<String>,
        /// Only this status.
        #[param(
            example = "waiting",
            pattern = "^(waiting|offered|admitted|declined|lapsed|withdrawn|cancelled)$"
        )]
        pub status: Option<String>,
    }
}

fn parse_status(s: Option<&str>) -> Result<Option<AppStatus>, ApiError> {
    match s {
        None => Ok(None),
        Some(s) => AppStatus::parse(s).map(Some).ok_or_else(|| {
            ApiError::InvalidQuery(vec![FieldError::new(
                "status",
                format!(
                    "{s:?}: one of {}",
                    AppStatus::ALL.map(|x| x.code()).join(", ")
                ),
            )])
        }),
    }
}

/// Applications in your area (to its homes, or of its people); an operator:
/// its home's.
#[utoipa::path(
    get,
    path = "/api/admission/applications",
    operation_id = "list_admission_applications",
    tag = "admission",
    params(ApplicationParams),
    responses(
        (status = 200, description = "Newest first", body = ApplicationList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
        (status = 422, description = "Bad county code", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ApplicationParams>,
) -> Result<Json<ApplicationList>, ApiError> {
    let status = parse_status(p.status.as_deref())?;
    if p.facility_id
        .as_ref()
        .is_some_and(|f| f.is_empty() || f.chars().count() > 64)
    {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "facility_id",
            "1 to 64 characters",
        )]));
    }
    let scope = auth.scope()?;
    let q = ListQuery {
        facility_id: p.facility_id,
        county: p.county,
        status,
    };
    let items = blocking(&state, move |c, _| Ok(adm::list(c, &scope, &q, today())?)).await?;
    Ok(Json(ApplicationList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Apply for an elderly person of your area to one or more care homes.
#[utoipa::path(
    post,
    path = "/api/admission/applications",
    operation_id = "apply_admission",
    tag = "admission",
    request_body = ApplyBody,
    responses(
        (status = 201, description = "One application per home", body = ApplicationList),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "No such person in your area", body = ErrorBody),
        (status = 409, description = "An application to that home is open already", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Not eligible, or not a care home", body = ErrorBody),
    )
)]
pub async fn apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ApplyBody>,
) -> Result<Response, ApiError> {
    let mut errs = Vec::new();
    let person_id = b.person_id.unwrap_or_default();
    if person_id.trim().is_empty() || person_id.len() > 64 {
        errs.push(FieldError::new("person_id", "give the person's record id"));
    }
    let homes = b.facility_ids.unwrap_or_default();
    if homes.is_empty() || homes.len() > adm::MAX_HOMES || homes.iter().any(|h| h.len() > 64) {
        errs.push(FieldError::new(
            "facility_ids",
            format!("one to {} care-home ids", adm::MAX_HOMES),
        ));
    }
    let kind = match b.applicant_kind.as_deref() {
        None => ApplicantKind::Staff,
        Some(k) => ApplicantKind::parse(k).unwrap_or_else(|| {
            errs.push(FieldError::new("applicant_kind", "one of staff, family"));
            ApplicantKind::Staff
        }),
    };
    if !errs.is_empty() {
        return Err(ApiError::Store(laoxiao_store::StoreError::Invalid(errs)));
    }
    let scope = auth.scope()?;
    let input = ApplyInput {
        person_id,
        facility_ids: homes,
        kind,
        note: b.note,
    };
    let items = blocking(&state, move |c, _| {
        Ok(adm::apply(c, &scope, &input, today())?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApplicationList {
            items: items.into_iter().map(Into::into).collect(),
        }),
    )
        .into_response())
}

/// One application, with its position explained while waiting.
#[utoipa::path(
    get,
    path = "/api/admission/applications/{id}",
    operation_id = "get_admission_application",
    tag = "admission",
    params(("id" = String, Path, description = "The application's id")),
    responses(
        (status = 200, description = "The application", body = ApplicationView),
        (status = 404, description = "No such application in your area", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| Ok(adm::get(c, &scope, &id, today())?)).await?;
    Ok(Json(a.into()))
}

async fn step(
    state: AppState,
    auth: Auth,
    id: String,
    s: Step,
    reason: Option<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| {
        Ok(adm::step(c, &scope, &id, s, reason.as_deref(), today())?)
    })
    .await?;
    Ok(Json(a.into()))
}

macro_rules! step_route {
    ($name:ident, $step:expr, $path:literal, $op:literal, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $op,
            tag = "admission",
            params(("id" = String, Path, description = "The application's id")),
            request_body = StepBody,
            responses(
                (status = 200, description = "Done", body = ApplicationView),
                (status = 409, description = "Not in a state for this step, or not your side of it", body = ErrorBody),
                (status = 404, description = "No such application in your area", body = ErrorBody),
                (status = 422, description = "Invalid or missing reason", body = ErrorBody),
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            ApiPath(id): ApiPath<String>,
            ApiJson(b): ApiJson<StepBody>,
        ) -> Result<Json<ApplicationView>, ApiError> {
            step(state, auth, id, $step, b.reason).await
        }
    };
}

step_route!(
    accept,
    Step::Accept,
    "/api/admission/applications/{id}/accept",
    "accept_admission_offer",
    "Accept an offer: the residence record is created and the person's other applications close."
);
step_route!(
    decline,
    Step::Decline,
    "/api/admission/applications/{id}/decline",
    "decline_admission_offer",
    "Decline an offer: the bed is offered to the next applicant."
);
step_route!(
    withdraw,
    Step::Withdraw,
    "/api/admission/applications/{id}/withdraw",
    "withdraw_admission_application",
    "Withdraw an open application (the applicant's side)."
);
step_route!(
    cancel,
    Step::Cancel,
    "/api/admission/applications/{id}/cancel",
    "cancel_admission_application",
    "Cancel an open application (the care home's side; a reason is required)."
);

/// The care homes in your area with their beds and lists.
#[utoipa::path(
    get,
    path = "/api/admission/homes",
    operation_id = "list_admission_homes",
    tag = "admission",
    responses((status = 200, description = "Care homes", body = HomeList))
)]
pub async fn homes(State(state): State<AppState>, auth: Auth) -> Result<Json<HomeList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| Ok(adm::homes(c, &scope, today())?)).await?;
    Ok(Json(HomeList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// A care home's waiting list, each position explained.
#[utoipa::path(
    get,
    path = "/api/admission/homes/{id}/waiting-list",
    operation_id = "get_waiting_list",
    tag = "admission",
    params(("id" = String, Path, description = "The care home's facility id")),
    responses(
        (status = 200, description = "The list", body = WaitingListView),
        (status = 404, description = "No such care home in your area", body = ErrorBody),
    )
)]
pub async fn waiting_list(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WaitingListView>, ApiError> {
    let scope = auth.scope()?;
    let w = blocking(&state, move |c, _| {
        Ok(adm::waiting_list(c, &scope, &id, today())?)
    })
    .await?;
    Ok(Json(w.into()))
}

/// Offer a free bed of the home to the first eligible applicant.
#[utoipa::path(
    post,
    path = "/api/admission/homes/{id}/offer-next",
    operation_id = "offer_next_bed",
    tag = "admission",
    params(("id" = String, Path, description = "The care home's facility id")),
    responses(
        (status = 200, description = "The offer made, or none", body = OfferResult),
        (status = 404, description = "No such care home in your area", body = ErrorBody),
        (status = 409, description = "The list changed meanwhile", body = ErrorBody),
    )
)]
pub async fn offer_next(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<OfferResult>, ApiError> {
    let scope = auth.scope()?;
    let o = blocking(&state, move |c, _| {
        Ok(adm::offer_next(c, &scope, &id, today())?)
    })
    .await?;
    Ok(Json(OfferResult {
        offered: o.map(Into::into),
    }))
}

/// Discharge a resident (退住): the bed is freed and, by default, offered on.
#[utoipa::path(
    post,
    path = "/api/admission/residences/{id}/discharge",
    operation_id = "discharge_resident",
    tag = "admission",
    params(("id" = String, Path, description = "The residence record's id")),
    request_body = DischargeBody,
    responses(
        (status = 200, description = "Discharged; the offer made, if any", body = OfferResult),
        (status = 404, description = "No such residence in your area", body = ErrorBody),
        (status = 409, description = "Discharged already", body = ErrorBody),
        (status = 422, description = "Invalid date", body = ErrorBody),
    )
)]
pub async fn discharge(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<DischargeBody>,
) -> Result<Json<OfferResult>, ApiError> {
    let Some(date) = b.date else {
        return Err(ApiError::Store(laoxiao_store::StoreError::Invalid(vec![
            FieldError::new("date", "give the day the resident left"),
        ])));
    };
    let offer = b.offer_next.unwrap_or(true);
    let scope = auth.scope()?;
    let o = blocking(&state, move |c, _| {
        Ok(adm::discharge(c, &scope, &id, date, offer, today())?)
    })
    .await?;
    Ok(Json(OfferResult {
        offered: o.map(Into::into),
    }))
}

/// Waiting-list length and median / longest wait per home and per county.
#[utoipa::path(
    get,
    path = "/api/admission/figures",
    operation_id = "admission_figures",
    tag = "admission",
    responses((status = 200, description = "Figures of your area", body = AdmissionFiguresView))
)]
pub async fn figures(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<AdmissionFiguresView>, ApiError> {
    let scope = auth.scope()?;
    let f = blocking(&state, move |c, _| Ok(adm::figures(c, &scope, today())?)).await?;
    Ok(Json(f.into()))
}

// ------------------------------------------------------------ family side

/// A family's application for a verified relative (子女为父母申请入住).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyApplyBody {
    /// The relative's record id (a verified link of yours).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 64)]
    pub person_id: Option<String>,
    /// One to five care homes (see `GET /api/family/relatives/{id}/care-homes`).
    #[schema(required = true, value_type = Vec<String>, min_items = 1, max_items = 5)]
    pub facility_ids: Option<Vec<String>>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Your relatives' care-home applications, each waiting one with its
/// position and why.
#[utoipa::path(
    get,
    path = "/api/family/admission-applications",
    operation_id = "list_family_admission_applications",
    tag = "family",
    responses((status = 200, description = "Newest first per relative", body = ApplicationList))
)]
pub async fn family_list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ApplicationList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(adm::family_applications(c, &scope, today())?)
    })
    .await?;
    Ok(Json(ApplicationList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Apply for a verified relative to one or more care homes of her county:
/// the same eligibility and priority rules as an application by staff.
#[utoipa::path(
    post,
    path = "/api/family/admission-applications",
    operation_id = "apply_family_admission",
    tag = "family",
    request_body = FamilyApplyBody,
    responses(
        (status = 201, description = "One application per home", body = ApplicationList),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Not one of your verified relatives", body = ErrorBody),
        (status = 409, description = "An application to that home is open already", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "Not eligible, or not a care home", body = ErrorBody),
    )
)]
pub async fn family_apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<FamilyApplyBody>,
) -> Result<Response, ApiError> {
    let mut errs = Vec::new();
    let person_id = b.person_id.unwrap_or_default();
    if person_id.trim().is_empty() || person_id.len() > 64 {
        errs.push(FieldError::new(
            "person_id",
            "give your relative's record id",
        ));
    }
    let homes = b.facility_ids.unwrap_or_default();
    if homes.is_empty() || homes.len() > adm::MAX_HOMES || homes.iter().any(|h| h.len() > 64) {
        errs.push(FieldError::new(
            "facility_ids",
            format!("one to {} care-home ids", adm::MAX_HOMES),
        ));
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(adm::family_apply(
            c,
            &scope,
            &person_id,
            &homes,
            b.note.as_deref(),
            today(),
        )?)
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApplicationList {
            items: items.into_iter().map(Into::into).collect(),
        }),
    )
        .into_response())
}

/// The care homes of a verified relative's county, with beds and waiting
/// counts, to choose from.
#[utoipa::path(
    get,
    path = "/api/family/relatives/{id}/care-homes",
    operation_id = "list_family_care_homes",
    tag = "family",
    params(("id" = String, Path, description = "The relative's record id")),
    responses(
        (status = 200, description = "Care homes", body = HomeList),
        (status = 404, description = "Not one of your verified relatives", body = ErrorBody),
    )
)]
pub async fn family_homes(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<HomeList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(adm::family_homes(c, &scope, &id, today())?)
    })
    .await?;
    Ok(Json(HomeList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

async fn family_step(
    state: AppState,
    auth: Auth,
    id: String,
    s: Step,
    reason: Option<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| {
        Ok(adm::family_step(
            c,
            &scope,
            &id,
            s,
            reason.as_deref(),
            today(),
        )?)
    })
    .await?;
    Ok(Json(a.into()))
}

macro_rules! family_step_route {
    ($name:ident, $step:expr, $path:literal, $op:literal, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $op,
            tag = "family",
            params(("id" = String, Path, description = "The application's id")),
            request_body = StepBody,
            responses(
                (status = 200, description = "Done", body = ApplicationView),
                (status = 409, description = "Not in a state for this step", body = ErrorBody),
                (status = 404, description = "No such application of your relatives", body = ErrorBody),
                (status = 422, description = "Invalid reason", body = ErrorBody),
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            ApiPath(id): ApiPath<String>,
            ApiJson(b): ApiJson<StepBody>,
        ) -> Result<Json<ApplicationView>, ApiError> {
            family_step(state, auth, id, $step, b.reason).await
        }
    };
}

family_step_route!(
    family_accept,
    Step::Accept,
    "/api/family/admission-applications/{id}/accept",
    "accept_family_admission_offer",
    "Accept the offer of a bed for your relative: the residence record is created."
);
family_step_route!(
    family_decline,
    Step::Decline,
    "/api/family/admission-applications/{id}/decline",
    "decline_family_admission_offer",
    "Decline the offer of a bed for your relative: it passes to the next applicant."
);
family_step_route!(
    family_withdraw,
    Step::Withdraw,
    "/api/family/admission-applications/{id}/withdraw",
    "withdraw_family_admission_application",
    "Withdraw your relative's open application."
);
