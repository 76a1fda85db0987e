//! Childcare applications and enrolment (入托申请与录取) over HTTP: staff
//! and families apply, institutions offer places in classes and enrol, the
//! family answers. The rules are the store's
//! (`laoxiao_store::childcare_applications`): each refusal names the rule.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;
use laoxiao_model::FieldError;
use laoxiao_store::childcare_applications::{
    self as ca, AppStatus, Application, ApplyInput, ClassPlaces, EnrolInput, InstitutionLine,
    Intake, ListQuery, OfferInput, Step,
};
use laoxiao_store::family::Child;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::admission::today;
use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

/// A childcare application (入托申请) as the caller may see it: the child's
/// name masked for staff, in full for the child's own family.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChildcareApplicationView {
    #[schema(example = "CA-3F9A0C1D2E4B5A69")]
    pub id: String,
    pub infant_id: String,
    #[schema(example = "李**")]
    pub infant_name: String,
    pub age_months: i32,
    pub facility_id: String,
    pub facility_name: String,
    /// `full_day` (全日托), `half_day` (半日托), `hourly` (计时托), `temporary` (临时托).
    pub care_type: String,
    pub care_type_label: String,
    #[schema(value_type = String, format = Date)]
    pub wanted_start: NaiveDate,
    /// `staff` or `family`.
    pub applicant_kind: String,
    /// `waiting`, `offered`, `accepted`, `enrolled`, `declined`, `lapsed`, `withdrawn`, `cancelled`.
    #[schema(example = "waiting")]
    pub status: String,
    pub status_label: String,
    pub note: Option<String>,
    pub applied_by: String,
    #[schema(value_type = String, format = Date)]
    pub applied_date: NaiveDate,
    pub wait_days: i64,
    /// Place on the institution's waiting list, and how many wait (waiting only).
    pub position: Option<i64>,
    pub waiting_total: Option<i64>,
    pub class_id: Option<String>,
    /// The offered class's type, e.g. `infant_class` (乳儿班).
    pub class_type: Option<String>,
    pub class_type_label: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub offered_date: Option<NaiveDate>,
    /// The offer lapses after this day.
    #[schema(value_type = Option<String>, format = Date)]
    pub offer_deadline: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub answered_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub health_check_date: Option<NaiveDate>,
    pub vaccinations_confirmed: bool,
    pub enrolment_id: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub closed_date: Option<NaiveDate>,
    pub close_reason: Option<String>,
}

impl From<Application> for ChildcareApplicationView {
    fn from(a: Application) -> Self {
        ChildcareApplicationView {
            id: a.id,
            infant_id: a.infant_id,
            infant_name: a.infant_name,
            age_months: a.age_months,
            facility_id: a.facility_id,
            facility_name: a.facility_name,
            care_type: a.care_type.code().into(),
            care_type_label: a.care_type.label_zh().into(),
            wanted_start: a.wanted_start,
            applicant_kind: a.applicant_kind.code().into(),
            status: a.status.code().into(),
            status_label: a.status.zh().into(),
            note: a.note,
            applied_by: a.applied_by,
            applied_date: a.applied_date,
            wait_days: a.wait_days,
            position: a.position,
            waiting_total: a.waiting_total,
            class_id: a.class_id,
            class_type: a.class_type.map(|t| t.code().to_string()),
            class_type_label: a.class_type.map(|t| t.label_zh().to_string()),
            start_date: a.start_date,
            offered_date: a.offered_date,
            offer_deadline: a.offer_deadline,
            answered_date: a.answered_date,
            health_check_date: a.health_check_date,
            vaccinations_confirmed: a.vaccinations_confirmed,
            enrolment_id: a.enrolment_id,
            closed_date: a.closed_date,
            close_reason: a.close_reason,
        }
    }
}

/// Applications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildcareApplicationList {
    pub items: Vec<ChildcareApplicationView>,
}

fn listed(items: Vec<Application>) -> ChildcareApplicationList {
    ChildcareApplicationList {
        items: items.into_iter().map(Into::into).collect(),
    }
}

/// A class's places.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClassPlacesView {
    pub class_id: String,
    pub class_type: String,
    pub class_type_label: String,
    pub capacity: i64,
    pub enrolled: i64,
    /// Offered or accepted, not yet enrolled.
    pub held: i64,
    pub free: i64,
    pub caregivers: i64,
    /// Children per caregiver in force today (师幼比), and its source.
    pub children_per_caregiver: Option<i64>,
    pub ratio_source: Option<String>,
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    pub monthly_fee_fen: Option<i64>,
    /// An inclusive institution's price cap for the class type (普惠收费上限).
    pub price_cap_fen: Option<i64>,
}

impl From<ClassPlaces> for ClassPlacesView {
    fn from(c: ClassPlaces) -> Self {
        ClassPlacesView {
            class_id: c.class_id,
            class_type: c.class_type.code().into(),
            class_type_label: c.class_type.label_zh().into(),
            capacity: c.capacity,
            enrolled: c.enrolled,
            held: c.held,
            free: c.free,
            caregivers: c.caregivers,
            children_per_caregiver: c.children_per_caregiver,
            ratio_source: c.ratio_source,
            min_age_months: c.min_age_months,
            max_age_months: c.max_age_months,
            monthly_fee_fen: c.monthly_fee_fen,
            price_cap_fen: c.price_cap_fen,
        }
    }
}

/// An institution's intake: classes with free places, open applications.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildcareIntakeView {
    pub facility_id: String,
    pub facility_name: String,
    pub inclusive: bool,
    pub free: i64,
    pub classes: Vec<ClassPlacesView>,
    /// Accepted and offered first, then the waiting list in order.
    pub lines: Vec<ChildcareApplicationView>,
    /// Days a family has to answer an offer.
    pub offer_days: i64,
}

impl From<Intake> for ChildcareIntakeView {
    fn from(i: Intake) -> Self {
        ChildcareIntakeView {
            facility_id: i.facility_id,
            facility_name: i.facility_name,
            inclusive: i.inclusive,
            free: i.free,
            classes: i.classes.into_iter().map(Into::into).collect(),
            lines: i.lines.into_iter().map(Into::into).collect(),
            offer_days: i.offer_days,
        }
    }
}

query_params! {
    /// Filters of `GET /api/childcare/applications`.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct ChildcareApplicationParams {
        /// Only applications to this institution.
        #[param(min_length = 1, max_length = 64)]
        pub facility_id: Option<String>,
        /// Only this status.
        #[param(
            example = "waiting",
            pattern = "^(waiting|offered|accepted|enrolled|declined|lapsed|withdrawn|cancelled)$"
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

/// Childcare applications in your area (to its institutions, or of its
/// children); an operator: its institution's. Newest first.
#[utoipa::path(
    get,
    path = "/api/childcare/applications",
    operation_id = "list_childcare_applications",
    tag = "childcare",
    params(ChildcareApplicationParams),
    responses(
        (status = 200, description = "Newest first", body = ChildcareApplicationList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<ChildcareApplicationParams>,
) -> Result<Json<ChildcareApplicationList>, ApiError> {
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
        status,
    };
    let items = blocking(&state, move |c, _| Ok(ca::list(c, &scope, &q, today())?)).await?;
    Ok(Json(listed(items)))
}

/// What to apply for.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildcareApplyBody {
    /// The child's record id (on the infants register).
    #[schema(required = true, value_type = String, min_length = 1, max_length = 64)]
    pub infant_id: Option<String>,
    /// One to five childcare institutions or nursery classes.
    #[schema(required = true, value_type = Vec<String>, min_items = 1, max_items = 5)]
    pub facility_ids: Option<Vec<String>>,
    /// `full_day`, `half_day`, `hourly` or `temporary`.
    #[schema(required = true, value_type = String, example = "full_day", pattern = "^(full_day|half_day|hourly|temporary)$")]
    pub care_type: Option<String>,
    /// The day the family would like to start (today to a year ahead).
    #[schema(required = true, value_type = String, format = Date)]
    pub wanted_start: Option<NaiveDate>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

fn apply_input(b: ChildcareApplyBody) -> Result<ApplyInput, ApiError> {
    let mut errs = Vec::new();
    let infant_id = b.infant_id.unwrap_or_default();
    if infant_id.trim().is_empty() || infant_id.chars().count() > 64 {
        errs.push(FieldError::new("infant_id", "give the child's record id"));
    }
    let ids = b.facility_ids.unwrap_or_default();
    if ids.is_empty()
        || ids.len() > ca::MAX_INSTITUTIONS
        || ids.iter().any(|h| h.chars().count() > 64)
    {
        errs.push(FieldError::new(
            "facility_ids",
            format!("one to {} institution ids", ca::MAX_INSTITUTIONS),
        ));
    }
    let care_type = b.care_type.unwrap_or_default();
    if care_type.is_empty() {
        errs.push(FieldError::new("care_type", "choose a care type"));
    }
    let Some(wanted_start) = b.wanted_start else {
        errs.push(FieldError::new("wanted_start", "give the day to start"));
        return Err(ApiError::invalid(errs));
    };
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    Ok(ApplyInput {
        infant_id,
        facility_ids: ids,
        care_type,
        wanted_start,
        note: b.note,
    })
}

fn created(items: Vec<Application>) -> Response {
    (StatusCode::CREATED, Json(listed(items))).into_response()
}

/// Apply for a child of your area to one or more institutions (area staff).
#[utoipa::path(
    post,
    path = "/api/childcare/applications",
    operation_id = "apply_childcare",
    tag = "childcare",
    request_body = ChildcareApplyBody,
    responses(
        (status = 201, description = "One application per institution", body = ChildcareApplicationList),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 403, description = "An institution does not apply for a child", body = ErrorBody),
        (status = 404, description = "No such child in your area", body = ErrorBody),
        (status = 409, description = "Applied there already, or enrolled", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "A rule refuses it (age, care type, institution)", body = ErrorBody),
    )
)]
pub async fn apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ChildcareApplyBody>,
) -> Result<Response, ApiError> {
    let input = apply_input(b)?;
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, r| {
        Ok(ca::apply(c, r, &scope, &input, today())?)
    })
    .await?;
    Ok(created(items))
}

/// One application, with its place on the waiting list.
#[utoipa::path(
    get,
    path = "/api/childcare/applications/{id}",
    operation_id = "get_childcare_application",
    tag = "childcare",
    params(("id" = String, Path, description = "The application's id")),
    responses(
        (status = 200, description = "The application", body = ChildcareApplicationView),
        (status = 404, description = "No such application in your area", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChildcareApplicationView>, ApiError> {
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, _| Ok(ca::get(c, &scope, &id, today())?)).await?;
    Ok(Json(a.into()))
}

/// The offer of a place.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferBody {
    /// A class of the institution with a free place whose type takes the
    /// child's age on the start date.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 64)]
    pub class_id: Option<String>,
    /// The first day (today to a year ahead).
    #[schema(required = true, value_type = String, format = Date)]
    pub start_date: Option<NaiveDate>,
    /// Why earlier applicants whom the class takes are passed over
    /// (required when there are any).
    #[schema(max_length = 500)]
    pub skip_reason: Option<String>,
}

/// Offer the applicant a place in a class (the institution's side).
#[utoipa::path(
    post,
    path = "/api/childcare/applications/{id}/offer",
    operation_id = "offer_childcare_place",
    tag = "childcare",
    params(("id" = String, Path, description = "The application's id")),
    request_body = OfferBody,
    responses(
        (status = 200, description = "Offered; the family answers by the deadline", body = ChildcareApplicationView),
        (status = 404, description = "No such application in your area", body = ErrorBody),
        (status = 409, description = "Not waiting, or not your side", body = ErrorBody),
        (status = 422, description = "The rule that refuses it: age, free place, ratio, order", body = ErrorBody),
    )
)]
pub async fn offer(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<OfferBody>,
) -> Result<Json<ChildcareApplicationView>, ApiError> {
    let mut errs = Vec::new();
    let class_id = b.class_id.unwrap_or_default();
    if class_id.trim().is_empty() || class_id.chars().count() > 64 {
        errs.push(FieldError::new("class_id", "choose a class"));
    }
    if b.start_date.is_none() {
        errs.push(FieldError::new("start_date", "give the first day"));
    }
    let (Some(start_date), true) = (b.start_date, errs.is_empty()) else {
        return Err(ApiError::invalid(errs));
    };
    let input = OfferInput {
        class_id,
        start_date,
        skip_reason: b.skip_reason,
    };
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, r| {
        Ok(ca::offer(c, r, &scope, &id, &input, today())?)
    })
    .await?;
    Ok(Json(a.into()))
}

/// What the institution saw before the start (管理规范 第十一条).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolBody {
    /// The day of the child's health check (体检).
    #[schema(required = true, value_type = String, format = Date)]
    pub health_check_date: Option<NaiveDate>,
    /// The age-appropriate vaccinations are done (预防接种); must be true.
    #[schema(required = true, value_type = bool)]
    pub vaccinations_confirmed: Option<bool>,
}

/// Enrol the child on the first day (入托报到): the enrolment is written to
/// the register and the class's count rises, both under the register rules.
#[utoipa::path(
    post,
    path = "/api/childcare/applications/{id}/enrol",
    operation_id = "enrol_childcare",
    tag = "childcare",
    params(("id" = String, Path, description = "The application's id")),
    request_body = EnrolBody,
    responses(
        (status = 200, description = "Enrolled", body = ChildcareApplicationView),
        (status = 404, description = "No such application in your area", body = ErrorBody),
        (status = 409, description = "Not accepted, or not your side", body = ErrorBody),
        (status = 422, description = "The rule that refuses it: health check, vaccinations, start, ratio", body = ErrorBody),
    )
)]
pub async fn enrol(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<EnrolBody>,
) -> Result<Json<ChildcareApplicationView>, ApiError> {
    let Some(health_check_date) = b.health_check_date else {
        return Err(ApiError::invalid(vec![FieldError::new(
            "health_check_date",
            "give the day of the child's health check",
        )]));
    };
    let input = EnrolInput {
        health_check_date,
        vaccinations_confirmed: b.vaccinations_confirmed.unwrap_or(false),
    };
    let scope = auth.scope()?;
    let a = blocking(&state, move |c, r| {
        Ok(ca::enrol(c, r, &scope, &id, &input, today())?)
    })
    .await?;
    Ok(Json(a.into()))
}

/// A reason for a step (required to cancel).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChildcareStepBody {
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

macro_rules! step_route {
    ($name:ident, $family:literal, $step:expr, $path:literal, $op:literal, $tag:literal, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(
            post,
            path = $path,
            operation_id = $op,
            tag = $tag,
            params(("id" = String, Path, description = "The application's id")),
            request_body = ChildcareStepBody,
            responses(
                (status = 200, description = "Done", body = ChildcareApplicationView),
                (status = 404, description = "No such application of yours or in your area", body = ErrorBody),
                (status = 409, description = "Not in a state for this step, or not your side of it", body = ErrorBody),
                (status = 422, description = "Invalid or missing reason", body = ErrorBody),
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            auth: Auth,
            ApiPath(id): ApiPath<String>,
            ApiJson(b): ApiJson<ChildcareStepBody>,
        ) -> Result<Json<ChildcareApplicationView>, ApiError> {
            let scope = auth.scope()?;
            let a = blocking(&state, move |c, _| {
                Ok(if $family {
                    ca::family_step(c, &scope, &id, $step, b.reason.as_deref(), today())?
                } else {
                    ca::step(c, &scope, &id, $step, b.reason.as_deref(), today())?
                })
            })
            .await?;
            Ok(Json(a.into()))
        }
    };
}

step_route!(
    accept,
    false,
    Step::Accept,
    "/api/childcare/applications/{id}/accept",
    "accept_childcare_offer",
    "childcare",
    "Record the family's acceptance of an offer."
);
step_route!(
    decline,
    false,
    Step::Decline,
    "/api/childcare/applications/{id}/decline",
    "decline_childcare_offer",
    "childcare",
    "Record that the family declines an offer."
);
step_route!(
    withdraw,
    false,
    Step::Withdraw,
    "/api/childcare/applications/{id}/withdraw",
    "withdraw_childcare_application",
    "childcare",
    "Withdraw an application for a child of your area."
);
step_route!(
    cancel,
    false,
    Step::Cancel,
    "/api/childcare/applications/{id}/cancel",
    "cancel_childcare_application",
    "childcare",
    "Cancel an application to your institution (a reason is required)."
);
step_route!(
    family_accept,
    true,
    Step::Accept,
    "/api/family/childcare-applications/{id}/accept",
    "accept_family_childcare_offer",
    "family",
    "Accept the place offered to your child."
);
step_route!(
    family_decline,
    true,
    Step::Decline,
    "/api/family/childcare-applications/{id}/decline",
    "decline_family_childcare_offer",
    "family",
    "Decline the place offered to your child."
);
step_route!(
    family_withdraw,
    true,
    Step::Withdraw,
    "/api/family/childcare-applications/{id}/withdraw",
    "withdraw_family_childcare_application",
    "family",
    "Withdraw your child's application."
);

/// An institution's classes with free places and its open applications.
#[utoipa::path(
    get,
    path = "/api/childcare/institutions/{id}/intake",
    operation_id = "get_childcare_intake",
    tag = "childcare",
    params(("id" = String, Path, description = "The institution's facility id")),
    responses(
        (status = 200, description = "Classes and applications", body = ChildcareIntakeView),
        (status = 404, description = "No such institution in your area", body = ErrorBody),
    )
)]
pub async fn intake(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChildcareIntakeView>, ApiError> {
    let scope = auth.scope()?;
    let i = blocking(&state, move |c, r| {
        Ok(ca::intake(c, r, &scope, &id, today())?)
    })
    .await?;
    Ok(Json(i.into()))
}

// ------------------------------------------------------------ family side

/// A verified child of yours.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChildView {
    pub person_id: String,
    pub name: String,
    /// `parent` (父母) or `guardian` (其他监护人).
    pub relationship: String,
}

impl From<Child> for ChildView {
    fn from(c: Child) -> Self {
        ChildView {
            person_id: c.person_id,
            name: c.name,
            relationship: c.relationship.code().into(),
        }
    }
}

/// Your verified children.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChildList {
    pub items: Vec<ChildView>,
}

/// Your children whose link staff have verified.
#[utoipa::path(
    get,
    path = "/api/family/children",
    operation_id = "list_family_children",
    tag = "family",
    responses((status = 200, description = "Your verified children", body = ChildList))
)]
pub async fn children(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ChildList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(laoxiao_store::family::children(c, &scope)?)
    })
    .await?;
    Ok(Json(ChildList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// An institution you may apply to.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InstitutionView {
    pub facility_id: String,
    pub name: String,
    /// `childcare_institution` or `kindergarten_nursery_class`.
    pub kind: String,
    /// 普惠 (fees within the inclusive price cap).
    pub inclusive: bool,
    /// 已备案 with the county health commission.
    pub filed: bool,
    pub capacity: i64,
    pub free: i64,
    pub waiting: i64,
}

impl From<InstitutionLine> for InstitutionView {
    fn from(i: InstitutionLine) -> Self {
        InstitutionView {
            facility_id: i.facility_id,
            name: i.name,
            kind: i.kind,
            inclusive: i.inclusive,
            filed: i.filed,
            capacity: i.capacity,
            free: i.free,
            waiting: i.waiting,
        }
    }
}

/// Institutions.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstitutionList {
    pub items: Vec<InstitutionView>,
}

/// The institutions of your child's county: places free first.
#[utoipa::path(
    get,
    path = "/api/family/children/{id}/institutions",
    operation_id = "list_family_child_institutions",
    tag = "family",
    params(("id" = String, Path, description = "Your child's record id")),
    responses(
        (status = 200, description = "Institutions", body = InstitutionList),
        (status = 404, description = "Not one of your verified children", body = ErrorBody),
    )
)]
pub async fn family_institutions(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<InstitutionList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(ca::family_institutions(c, &scope, &id)?)
    })
    .await?;
    Ok(Json(InstitutionList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Your children's childcare applications, each waiting one with its place.
#[utoipa::path(
    get,
    path = "/api/family/childcare-applications",
    operation_id = "list_family_childcare_applications",
    tag = "family",
    responses((status = 200, description = "Newest first per child", body = ChildcareApplicationList))
)]
pub async fn family_list(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<ChildcareApplicationList>, ApiError> {
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, _| {
        Ok(ca::family_applications(c, &scope, today())?)
    })
    .await?;
    Ok(Json(listed(items)))
}

/// Apply for your verified child to one or more institutions.
#[utoipa::path(
    post,
    path = "/api/family/childcare-applications",
    operation_id = "apply_family_childcare",
    tag = "family",
    request_body = ChildcareApplyBody,
    responses(
        (status = 201, description = "One application per institution", body = ChildcareApplicationList),
        (status = 400, description = "Malformed JSON", body = ErrorBody),
        (status = 404, description = "Not one of your verified children", body = ErrorBody),
        (status = 409, description = "Applied there already, or enrolled", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not a JSON body", body = ErrorBody),
        (status = 422, description = "A rule refuses it (age, care type, institution)", body = ErrorBody),
    )
)]
pub async fn family_apply(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(b): ApiJson<ChildcareApplyBody>,
) -> Result<Response, ApiError> {
    let input = apply_input(b)?;
    let scope = auth.scope()?;
    let items = blocking(&state, move |c, r| {
        Ok(ca::family_apply(c, r, &scope, &input, today())?)
    })
    .await?;
    Ok(created(items))
}
