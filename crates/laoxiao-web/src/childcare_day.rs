//! A childcare institution's day (托育一日生活) over HTTP: check-in and
//! check-out by an authorised person (a refusal is logged), the morning and
//! midday check, absences, meals, naps, outdoor time, incidents, caregivers on
//! duty, the class's day sheet and each child's daily report; families keep
//! their children's pickup lists, report absences and read the report. The
//! rules are the store's (`laoxiao_store::childcare_day`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use laoxiao_model::FieldError;
use laoxiao_model::childcare_day::{
    AbsenceReason, DayEventKind, HealthCheck, IncidentSeverity, Meal, MealAmount, PickupRelation,
};
use laoxiao_store::childcare_day::{
    self as cd, CheckInInput, CheckOutInput, ChildDay, ClassLine, DailyReport, DayEvent, DaySheet,
    EventInput, MiddayInput, Pickup, PickupInput, Refusal,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, query_params};
use crate::{AppState, blocking};

fn now() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn code<T: Copy>(v: Option<T>, f: fn(T) -> &'static str) -> Option<String> {
    v.map(|x| f(x).to_string())
}

/// A person authorised to drop off and collect a child (接送授权人).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PickupView {
    pub id: String,
    pub infant_id: String,
    /// Masked for staff (王*), in full for the family.
    pub name: String,
    /// `parent`, `grandparent`, `guardian`, `relative`.
    pub relation: String,
    pub relation_label: String,
    /// Masked for staff.
    pub phone: Option<String>,
    /// `family` or `institution`.
    pub added_side: String,
    pub added_at: String,
    /// 王*（父母）, as the door staff choose.
    pub label: String,
}

impl From<Pickup> for PickupView {
    fn from(p: Pickup) -> Self {
        PickupView {
            label: p.label(),
            id: p.id,
            infant_id: p.infant_id,
            name: p.name,
            relation: p.relation.code().into(),
            relation_label: p.relation.label_zh().into(),
            phone: p.phone,
            added_side: p.added_side,
            added_at: p.added_at,
        }
    }
}

/// People authorised for a child.
#[derive(Debug, Serialize, ToSchema)]
pub struct PickupList {
    pub items: Vec<PickupView>,
}

/// One child's day on the class sheet.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChildDayView {
    pub enrolment_id: String,
    pub infant_id: String,
    #[schema(example = "李**")]
    pub infant_name: String,
    pub age_months: i32,
    pub care_type: Option<String>,
    /// `present`, `left`, `sent_home`, `absent`; none until the child comes.
    pub status: Option<String>,
    pub status_label: Option<String>,
    pub check_in_at: Option<String>,
    pub dropped_off_by: Option<String>,
    /// Degrees Celsius.
    pub temperature: Option<f64>,
    /// `normal`, `observe`, `sent_home`.
    pub morning_check: Option<String>,
    pub morning_note: Option<String>,
    pub midday_check: Option<String>,
    pub midday_note: Option<String>,
    pub check_out_at: Option<String>,
    pub collected_by: Option<String>,
    /// `ill`, `family`, `other`.
    pub absence_reason: Option<String>,
    pub absence_note: Option<String>,
    /// Away more than 3 months: the check-in needs a new health check's date.
    pub needs_recheck: bool,
    pub pickups: Vec<PickupView>,
}

fn celsius(t: Option<i32>) -> Option<f64> {
    t.map(|t| f64::from(t) / 10.0)
}

impl From<ChildDay> for ChildDayView {
    fn from(c: ChildDay) -> Self {
        ChildDayView {
            enrolment_id: c.enrolment_id,
            infant_id: c.infant_id,
            infant_name: c.infant_name,
            age_months: c.age_months,
            care_type: code(c.care_type, |x| x.code()),
            status: code(c.status, |x| x.code()),
            status_label: code(c.status, |x| x.label_zh()),
            check_in_at: c.check_in_at,
            dropped_off_by: c.dropped_off_by,
            temperature: celsius(c.temperature_tenths),
            morning_check: code(c.morning_check, |x| x.code()),
            morning_note: c.morning_note,
            midday_check: code(c.midday_check, |x| x.code()),
            midday_note: c.midday_note,
            check_out_at: c.check_out_at,
            collected_by: c.collected_by,
            absence_reason: code(c.absence_reason, |x| x.code()),
            absence_note: c.absence_note,
            needs_recheck: c.needs_recheck,
            pickups: c.pickups.into_iter().map(Into::into).collect(),
        }
    }
}

/// An entry of the day: a meal, a nap, outdoor time or an incident.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DayEventView {
    pub id: String,
    pub class_id: String,
    pub infant_id: Option<String>,
    pub infant_name: Option<String>,
    /// `meal`, `nap`, `outdoor`, `incident`.
    pub kind: String,
    pub kind_label: String,
    /// HH:MM
    pub at: String,
    pub minutes: Option<i32>,
    pub meal: Option<String>,
    pub amount: Option<String>,
    pub severity: Option<String>,
    pub note: Option<String>,
    pub guardian_informed: bool,
    pub recorded_by: String,
}

impl From<DayEvent> for DayEventView {
    fn from(e: DayEvent) -> Self {
        DayEventView {
            id: e.id,
            class_id: e.class_id,
            infant_id: e.infant_id,
            infant_name: e.infant_name,
            kind: e.kind.code().into(),
            kind_label: e.kind.label_zh().into(),
            at: e.at,
            minutes: e.minutes,
            meal: code(e.meal, |x| x.code()),
            amount: code(e.amount, |x| x.code()),
            severity: code(e.severity, |x| x.code()),
            note: e.note,
            guardian_informed: e.guardian_informed,
            recorded_by: e.recorded_by,
        }
    }
}

/// A refused handover (an unlisted or revoked person at the door).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RefusalView {
    pub id: String,
    pub infant_id: String,
    pub infant_name: String,
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub at: String,
    /// `check_in` or `check_out`.
    pub direction: String,
    pub presented: Option<String>,
    /// `not_listed` (不在接送授权名单上) or `not_authorised` (授权已取消或非该幼儿的接送人).
    pub reason: String,
    pub reason_label: String,
    pub recorded_by: String,
}

impl From<Refusal> for RefusalView {
    fn from(r: Refusal) -> Self {
        RefusalView {
            id: r.id,
            infant_id: r.infant_id,
            infant_name: r.infant_name,
            day: r.day,
            at: r.at,
            direction: r.direction,
            presented: r.presented,
            reason: r.reason.code().into(),
            reason_label: r.reason.label_zh().into(),
            recorded_by: r.recorded_by,
        }
    }
}

/// A class's day (班级一日).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DaySheetView {
    pub facility_id: String,
    pub facility_name: String,
    pub class_id: String,
    pub class_type: String,
    pub class_type_label: String,
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub capacity: i64,
    pub enrolled: i64,
    pub present: i64,
    pub attended: i64,
    pub absent: i64,
    pub caregivers: i64,
    pub caregivers_on_duty: i64,
    /// Children per caregiver (师幼比) and its source.
    pub ratio: i64,
    pub ratio_clause: String,
    pub ratio_breach: bool,
    pub outdoor_minutes: i64,
    pub outdoor_required: i64,
    pub outdoor_clause: String,
    pub outdoor_short: bool,
    pub children: Vec<ChildDayView>,
    pub events: Vec<DayEventView>,
    pub refusals: Vec<RefusalView>,
}

impl From<DaySheet> for DaySheetView {
    fn from(s: DaySheet) -> Self {
        DaySheetView {
            facility_id: s.facility_id,
            facility_name: s.facility_name,
            class_id: s.class_id,
            class_type: s.class_type.code().into(),
            class_type_label: s.class_type.label_zh().into(),
            day: s.day,
            capacity: s.capacity,
            enrolled: s.enrolled,
            present: s.present,
            attended: s.attended,
            absent: s.absent,
            caregivers: s.caregivers,
            caregivers_on_duty: s.caregivers_on_duty,
            ratio: s.ratio,
            ratio_clause: s.ratio_clause,
            ratio_breach: s.ratio_breach,
            outdoor_minutes: s.outdoor_minutes,
            outdoor_required: s.outdoor_required,
            outdoor_clause: s.outdoor_clause,
            outdoor_short: s.outdoor_short,
            children: s.children.into_iter().map(Into::into).collect(),
            events: s.events.into_iter().map(Into::into).collect(),
            refusals: s.refusals.into_iter().map(Into::into).collect(),
        }
    }
}

/// A class in the day's list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClassLineView {
    pub class_id: String,
    pub class_type: String,
    pub class_type_label: String,
    pub facility_id: String,
    pub facility_name: String,
    pub enrolled: i64,
    pub present: i64,
    pub attended: i64,
    pub outdoor_minutes: i64,
}

impl From<ClassLine> for ClassLineView {
    fn from(c: ClassLine) -> Self {
        ClassLineView {
            class_id: c.class_id,
            class_type: c.class_type.code().into(),
            class_type_label: c.class_type.label_zh().into(),
            facility_id: c.facility_id,
            facility_name: c.facility_name,
            enrolled: c.enrolled,
            present: c.present,
            attended: c.attended,
            outdoor_minutes: c.outdoor_minutes,
        }
    }
}

/// Classes with the day's counts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClassLineList {
    pub items: Vec<ClassLineView>,
}

/// A child's day as the parent reads it (每日报告).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DailyReportView {
    pub infant_id: String,
    pub infant_name: String,
    pub facility_name: String,
    pub class_type: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub status: Option<String>,
    pub status_label: Option<String>,
    pub check_in_at: Option<String>,
    pub dropped_off_by: Option<String>,
    pub check_out_at: Option<String>,
    pub collected_by: Option<String>,
    pub temperature: Option<f64>,
    pub morning_check: Option<String>,
    pub morning_note: Option<String>,
    pub midday_check: Option<String>,
    pub midday_note: Option<String>,
    pub absence_reason: Option<String>,
    pub absence_note: Option<String>,
    pub meals: Vec<DayEventView>,
    pub naps: Vec<DayEventView>,
    pub incidents: Vec<DayEventView>,
    pub outdoor_minutes: i64,
    pub outdoor_required: i64,
    pub refusals: Vec<RefusalView>,
}

impl From<DailyReport> for DailyReportView {
    fn from(r: DailyReport) -> Self {
        let list = |v: Vec<DayEvent>| v.into_iter().map(Into::into).collect();
        DailyReportView {
            infant_id: r.infant_id,
            infant_name: r.infant_name,
            facility_name: r.facility_name,
            class_type: code(r.class_type, |x| x.code()),
            day: r.day,
            status: code(r.status, |x| x.code()),
            status_label: code(r.status, |x| x.label_zh()),
            check_in_at: r.check_in_at,
            dropped_off_by: r.dropped_off_by,
            check_out_at: r.check_out_at,
            collected_by: r.collected_by,
            temperature: celsius(r.temperature_tenths),
            morning_check: code(r.morning_check, |x| x.code()),
            morning_note: r.morning_note,
            midday_check: code(r.midday_check, |x| x.code()),
            midday_note: r.midday_note,
            absence_reason: code(r.absence_reason, |x| x.code()),
            absence_note: r.absence_note,
            meals: list(r.meals),
            naps: list(r.naps),
            incidents: list(r.incidents),
            outdoor_minutes: r.outdoor_minutes,
            outdoor_required: r.outdoor_required,
            refusals: r.refusals.into_iter().map(Into::into).collect(),
        }
    }
}

query_params! {
    /// The day asked (today when absent).
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct DayParams {
        /// YYYY-MM-DD; today when absent.
        #[param(value_type = Option<String>, format = Date)]
        pub date: Option<NaiveDate>,
    }
}

// ------------------------------------------------------------ bodies

fn parse_enum<T>(
    field: &str,
    v: Option<&str>,
    parse: fn(&str) -> Option<T>,
    expected: String,
) -> Result<Option<T>, FieldError> {
    match v {
        None => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| FieldError::new(field, format!("{s:?}: one of {expected}"))),
    }
}

fn parse_time(field: &str, v: Option<&str>) -> Result<Option<NaiveTime>, FieldError> {
    match v {
        None => Ok(None),
        Some(s) => NaiveTime::parse_from_str(s, "%H:%M")
            .map(Some)
            .map_err(|_| FieldError::new(field, format!("{s:?}: a time HH:MM"))),
    }
}

fn tenths(field: &str, t: Option<f64>) -> Result<Option<i32>, FieldError> {
    match t {
        None => Ok(None),
        Some(t) if t.is_finite() && (34.0..=43.0).contains(&t) => {
            Ok(Some((t * 10.0).round() as i32))
        }
        Some(t) => Err(FieldError::new(
            field,
            format!("{t} °C is not a body temperature (34.0 to 43.0)"),
        )),
    }
}

/// The value, or `None` with the error kept, so every bad field is named at once.
fn collect<T>(errs: &mut Vec<FieldError>, r: Result<Option<T>, FieldError>) -> Option<T> {
    r.unwrap_or_else(|e| {
        errs.push(e);
        None
    })
}

/// Check-in at the door with the morning check (入园晨检).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckInBody {
    /// The authorised person who brought the child; leave out to record a
    /// person not on the list (refused and logged).
    #[schema(max_length = 64)]
    pub pickup_id: Option<String>,
    /// Who came, when not on the list.
    #[schema(max_length = 500)]
    pub presented: Option<String>,
    /// HH:MM today; now when absent.
    #[schema(example = "08:05", pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub at: Option<String>,
    /// Degrees Celsius, 34.0 to 43.0.
    #[schema(required = true, value_type = f64, minimum = 34.0, maximum = 43.0)]
    pub temperature: Option<f64>,
    /// `normal` (正常), `observe` (需观察), `sent_home` (劝返回家).
    #[schema(required = true, value_type = String, pattern = "^(normal|observe|sent_home)$")]
    pub morning_check: Option<String>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
    /// After more than 3 months away: the day of the new health check.
    #[schema(value_type = Option<String>, format = Date)]
    pub recheck_date: Option<NaiveDate>,
}

/// Check-out (离园).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckOutBody {
    #[schema(max_length = 64)]
    pub pickup_id: Option<String>,
    #[schema(max_length = 500)]
    pub presented: Option<String>,
    #[schema(example = "16:30", pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub at: Option<String>,
}

/// The midday check (午检).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MiddayBody {
    #[schema(required = true, value_type = String, pattern = "^(normal|observe|sent_home)$")]
    pub result: Option<String>,
    #[schema(minimum = 34.0, maximum = 43.0)]
    pub temperature: Option<f64>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// An absence and its reason (缺勤).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbsenceBody {
    /// The day; today when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    /// `ill` (病假), `family` (事假), `other`.
    #[schema(required = true, value_type = String, pattern = "^(ill|family|other)$")]
    pub reason: Option<String>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// An entry of a class's day.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBody {
    /// The day; today when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    /// `meal`, `nap`, `outdoor` (the class), `incident`.
    #[schema(required = true, value_type = String, pattern = "^(meal|nap|outdoor|incident)$")]
    pub kind: Option<String>,
    /// The child (every kind but outdoor).
    #[schema(max_length = 64)]
    pub infant_id: Option<String>,
    #[schema(pattern = "^[0-2][0-9]:[0-5][0-9]$")]
    pub at: Option<String>,
    /// Outdoor time or nap, 1 to 480.
    #[schema(minimum = 1, maximum = 480)]
    pub minutes: Option<i32>,
    /// `breakfast`, `lunch`, `snack`, `dinner`.
    #[schema(pattern = "^(breakfast|lunch|snack|dinner)$")]
    pub meal: Option<String>,
    /// `all`, `most`, `little`, `none`.
    #[schema(pattern = "^(all|most|little|none)$")]
    pub amount: Option<String>,
    /// `minor`, `treated`, `serious`.
    #[schema(pattern = "^(minor|treated|serious)$")]
    pub severity: Option<String>,
    #[schema(max_length = 500)]
    pub note: Option<String>,
    pub guardian_informed: Option<bool>,
}

/// Caregivers on duty in a class on a day.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OnDutyBody {
    #[schema(value_type = Option<String>, format = Date)]
    pub date: Option<NaiveDate>,
    #[schema(required = true, value_type = i64, minimum = 0, maximum = 50)]
    pub caregivers_on_duty: Option<i64>,
}

/// A person a family authorises.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PickupBody {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 40)]
    pub name: Option<String>,
    /// `parent`, `grandparent`, `guardian`, `relative`.
    #[schema(required = true, value_type = String, pattern = "^(parent|grandparent|guardian|relative)$")]
    pub relation: Option<String>,
    #[schema(max_length = 20)]
    pub phone: Option<String>,
}

fn pickup_input(b: PickupBody) -> Result<PickupInput, ApiError> {
    let mut errs = Vec::new();
    let relation = collect(
        &mut errs,
        parse_enum(
            "relation",
            b.relation.as_deref(),
            PickupRelation::parse,
            PickupRelation::expected(),
        ),
    );
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    Ok(PickupInput {
        name: b.name.unwrap_or_default(),
        relation,
        phone: b.phone,
    })
}

fn absence_parts(b: &AbsenceBody) -> Result<Option<AbsenceReason>, ApiError> {
    parse_enum(
        "reason",
        b.reason.as_deref(),
        AbsenceReason::parse,
        AbsenceReason::expected(),
    )
    .map_err(|e| ApiError::invalid(vec![e]))
}

// ------------------------------------------------------------ institution

/// Classes of the childcare institutions in your area (an operator: its
/// own) with the day's attendance and outdoor time.
#[utoipa::path(
    get,
    path = "/api/childcare/day/classes",
    operation_id = "list_childcare_day_classes",
    tag = "childcare",
    params(DayParams),
    responses(
        (status = 200, description = "Classes", body = ClassLineList),
        (status = 400, description = "Bad query parameters", body = ErrorBody),
    )
)]
pub async fn classes(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<DayParams>,
) -> Result<Json<ClassLineList>, ApiError> {
    let scope = auth.scope()?;
    let day = p.date.unwrap_or_else(|| now().date());
    let items = blocking(&state, move |c, _| Ok(cd::classes(c, &scope, day)?)).await?;
    Ok(Json(ClassLineList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// A class's day: each child's attendance and checks, the entries, the ratio
/// on duty and the outdoor time against the 2 hours of art. 18.
#[utoipa::path(
    get,
    path = "/api/childcare/classes/{id}/day",
    operation_id = "get_childcare_class_day",
    tag = "childcare",
    params(("id" = String, Path, description = "The class's id"), DayParams),
    responses(
        (status = 200, description = "The day sheet", body = DaySheetView),
        (status = 404, description = "No such class in your area", body = ErrorBody),
    )
)]
pub async fn sheet(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<DayParams>,
) -> Result<Json<DaySheetView>, ApiError> {
    let scope = auth.scope()?;
    let today = now().date();
    let day = p.date.unwrap_or(today);
    let s = blocking(&state, move |c, r| {
        Ok(cd::sheet(c, r, &scope, &id, day, today)?)
    })
    .await?;
    Ok(Json(s.into()))
}

/// Record the caregivers on duty in the class that day.
#[utoipa::path(
    put,
    path = "/api/childcare/classes/{id}/day/on-duty",
    operation_id = "set_childcare_on_duty",
    tag = "childcare",
    params(("id" = String, Path, description = "The class's id")),
    request_body = OnDutyBody,
    responses(
        (status = 200, description = "The day sheet", body = DaySheetView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such class in your area", body = ErrorBody),
        (status = 422, description = "Out of range or the day is closed", body = ErrorBody),
    )
)]
pub async fn on_duty(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<OnDutyBody>,
) -> Result<Json<DaySheetView>, ApiError> {
    let Some(n) = b.caregivers_on_duty else {
        return Err(ApiError::invalid(vec![FieldError::new(
            "caregivers_on_duty",
            "how many caregivers are on duty",
        )]));
    };
    let scope = auth.scope()?;
    let now = now();
    let day = b.date.unwrap_or(now.date());
    let s = blocking(&state, move |c, r| {
        Ok(cd::set_on_duty(c, r, &scope, &id, day, n, now)?)
    })
    .await?;
    Ok(Json(s.into()))
}

/// Record an entry of the class's day: outdoor time, a meal, a nap, an incident.
#[utoipa::path(
    post,
    path = "/api/childcare/classes/{id}/day/entries",
    operation_id = "record_childcare_day_entry",
    tag = "childcare",
    params(("id" = String, Path, description = "The class's id")),
    request_body = EventBody,
    responses(
        (status = 201, description = "Recorded", body = DayEventView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such class in your area", body = ErrorBody),
        (status = 422, description = "A field is missing or wrong, or the child did not come", body = ErrorBody),
    )
)]
pub async fn entry(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<EventBody>,
) -> Result<(StatusCode, Json<DayEventView>), ApiError> {
    let mut errs = Vec::new();
    let kind = collect(
        &mut errs,
        parse_enum(
            "kind",
            b.kind.as_deref(),
            DayEventKind::parse,
            DayEventKind::expected(),
        ),
    );
    let meal = collect(
        &mut errs,
        parse_enum("meal", b.meal.as_deref(), Meal::parse, Meal::expected()),
    );
    let amount = collect(
        &mut errs,
        parse_enum(
            "amount",
            b.amount.as_deref(),
            MealAmount::parse,
            MealAmount::expected(),
        ),
    );
    let severity = collect(
        &mut errs,
        parse_enum(
            "severity",
            b.severity.as_deref(),
            IncidentSeverity::parse,
            IncidentSeverity::expected(),
        ),
    );
    let at = collect(&mut errs, parse_time("at", b.at.as_deref()));
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let input = EventInput {
        kind,
        infant_id: b.infant_id,
        at,
        minutes: b.minutes,
        meal,
        amount,
        severity,
        note: b.note,
        guardian_informed: b.guardian_informed.unwrap_or(false),
    };
    let scope = auth.scope()?;
    let now = now();
    let day = b.date.unwrap_or(now.date());
    let e = blocking(&state, move |c, _| {
        Ok(cd::record_event(c, &scope, &id, day, &input, now)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(e.into())))
}

/// Check a child in with the morning check (晨检). Only a person the family
/// authorised may bring the child; anyone else is refused and logged.
#[utoipa::path(
    post,
    path = "/api/childcare/enrolments/{id}/check-in",
    operation_id = "check_in_childcare",
    tag = "childcare",
    params(("id" = String, Path, description = "The enrolment's id")),
    request_body = CheckInBody,
    responses(
        (status = 200, description = "Checked in", body = ChildDayView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such enrolment in your area today", body = ErrorBody),
        (status = 409, description = "Checked in already", body = ErrorBody),
        (status = 422, description = "The rule that refuses it (person not authorised, fever, recheck after 3 months)", body = ErrorBody),
    )
)]
pub async fn check_in(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CheckInBody>,
) -> Result<Json<ChildDayView>, ApiError> {
    let mut errs = Vec::new();
    let at = collect(&mut errs, parse_time("at", b.at.as_deref()));
    let t = collect(&mut errs, tenths("temperature", b.temperature));
    let check = collect(
        &mut errs,
        parse_enum(
            "morning_check",
            b.morning_check.as_deref(),
            HealthCheck::parse,
            HealthCheck::expected(),
        ),
    );
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let input = CheckInInput {
        pickup_id: b.pickup_id,
        presented: b.presented,
        at,
        temperature_tenths: t,
        morning_check: check,
        note: b.note,
        recheck_date: b.recheck_date,
    };
    let scope = auth.scope()?;
    let now = now();
    let d = blocking(&state, move |c, _| {
        Ok(cd::check_in(c, &scope, &id, &input, now)?)
    })
    .await?;
    Ok(Json(d.into()))
}

/// Check a child out to an authorised person (离园); anyone else is refused and logged.
#[utoipa::path(
    post,
    path = "/api/childcare/enrolments/{id}/check-out",
    operation_id = "check_out_childcare",
    tag = "childcare",
    params(("id" = String, Path, description = "The enrolment's id")),
    request_body = CheckOutBody,
    responses(
        (status = 200, description = "Collected", body = ChildDayView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such enrolment in your area today", body = ErrorBody),
        (status = 409, description = "Not checked in", body = ErrorBody),
        (status = 422, description = "The person is not authorised (logged), or the time is wrong", body = ErrorBody),
    )
)]
pub async fn check_out(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CheckOutBody>,
) -> Result<Json<ChildDayView>, ApiError> {
    let at = parse_time("at", b.at.as_deref()).map_err(|e| ApiError::invalid(vec![e]))?;
    let input = CheckOutInput {
        pickup_id: b.pickup_id,
        presented: b.presented,
        at,
    };
    let scope = auth.scope()?;
    let now = now();
    let d = blocking(&state, move |c, _| {
        Ok(cd::check_out(c, &scope, &id, &input, now)?)
    })
    .await?;
    Ok(Json(d.into()))
}

/// The midday check (午检) of a child present today.
#[utoipa::path(
    post,
    path = "/api/childcare/enrolments/{id}/midday-check",
    operation_id = "midday_check_childcare",
    tag = "childcare",
    params(("id" = String, Path, description = "The enrolment's id")),
    request_body = MiddayBody,
    responses(
        (status = 200, description = "Recorded", body = ChildDayView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such enrolment in your area today", body = ErrorBody),
        (status = 409, description = "The child is not here", body = ErrorBody),
        (status = 422, description = "A fever recorded as normal, or a bad field", body = ErrorBody),
    )
)]
pub async fn midday(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<MiddayBody>,
) -> Result<Json<ChildDayView>, ApiError> {
    let mut errs = Vec::new();
    let result = collect(
        &mut errs,
        parse_enum(
            "result",
            b.result.as_deref(),
            HealthCheck::parse,
            HealthCheck::expected(),
        ),
    );
    let t = collect(&mut errs, tenths("temperature", b.temperature));
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let input = MiddayInput {
        result,
        temperature_tenths: t,
        note: b.note,
    };
    let scope = auth.scope()?;
    let now = now();
    let d = blocking(&state, move |c, _| {
        Ok(cd::midday_check(c, &scope, &id, &input, now)?)
    })
    .await?;
    Ok(Json(d.into()))
}

/// Record a child absent with the reason (缺勤登记).
#[utoipa::path(
    post,
    path = "/api/childcare/enrolments/{id}/absence",
    operation_id = "record_childcare_absence",
    tag = "childcare",
    params(("id" = String, Path, description = "The enrolment's id")),
    request_body = AbsenceBody,
    responses(
        (status = 200, description = "Recorded", body = ChildDayView),
        (status = 403, description = "Not your institution", body = ErrorBody),
        (status = 404, description = "No such enrolment in your area that day", body = ErrorBody),
        (status = 409, description = "The child came that day", body = ErrorBody),
        (status = 422, description = "A bad field, or the day is closed", body = ErrorBody),
    )
)]
pub async fn absence(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AbsenceBody>,
) -> Result<Json<ChildDayView>, ApiError> {
    let reason = absence_parts(&b)?;
    let scope = auth.scope()?;
    let now = now();
    let day = b.date.unwrap_or(now.date());
    let d = blocking(&state, move |c, _| {
        Ok(cd::absent(
            c,
            &scope,
            &id,
            day,
            reason,
            b.note.as_deref(),
            now,
        )?)
    })
    .await?;
    Ok(Json(d.into()))
}

/// The people authorised for a child enrolled at your institution (masked).
#[utoipa::path(
    get,
    path = "/api/childcare/children/{id}/pickups",
    operation_id = "list_childcare_pickups",
    tag = "childcare",
    params(("id" = String, Path, description = "The child's person id")),
    responses(
        (status = 200, description = "Authorised people", body = PickupList),
        (status = 404, description = "No such child enrolled in your area", body = ErrorBody),
    )
)]
pub async fn pickups(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PickupList>, ApiError> {
    let scope = auth.scope()?;
    let today = now().date();
    let items = blocking(&state, move |c, _| Ok(cd::pickups(c, &scope, &id, today)?)).await?;
    Ok(Json(PickupList {
        items: items.into_iter().map(Into::into).collect(),
    }))
}

/// Authorise a person for a child, on the family's written authorisation.
#[utoipa::path(
    post,
    path = "/api/childcare/children/{id}/pickups",
    operation_id = "add_childcare_pickup",
    tag = "childcare",
    params(("id" = String, Path, description = "The child's person id")),
    request_body = PickupBody,
    responses(
        (status = 201, description = "Authorised", body = PickupView),
        (status = 403, description = "Not the institution's staff", body = ErrorBody),
        (status = 404, description = "No such child enrolled in your area", body = ErrorBody),
        (status = 422, description = "A bad field, or too many people", body = ErrorBody),
    )
)]
pub async fn add_pickup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<PickupBody>,
) -> Result<(StatusCode, Json<PickupView>), ApiError> {
    let input = pickup_input(b)?;
    let scope = auth.scope()?;
    let today = now().date();
    let p = blocking(&state, move |c, _| {
        Ok(cd::add_pickup(c, &scope, &id, &input, today)?)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}

/// Revoke an authorised person.
#[utoipa::path(
    delete,
    path = "/api/childcare/pickups/{id}",
    operation_id = "revoke_childcare_pickup",
    tag = "childcare",
    params(("id" = String, Path, description = "The authorisation's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not the institution's staff", body = ErrorBody),
        (status = 404, description = "No such authorisation in your area", body = ErrorBody),
        (status = 409, description = "Revoked already", body = ErrorBody),
    )
)]
pub async fn revoke_pickup(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let scope = auth.scope()?;
    let today = now().date();
    blocking(&state, move |c, _| {
        Ok(cd::revoke_pickup(c, &scope, &id, today)?)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A child's daily report as the institution sees it (names masked).
#[utoipa::path(
    get,
    path = "/api/childcare/children/{id}/report",
    operation_id = "get_childcare_daily_report",
    tag = "childcare",
    params(("id" = String, Path, description = "The child's person id"), DayParams),
    responses(
        (status = 200, description = "The day", body = DailyReportView),
        (status = 404, description = "No such child enrolled in your area", body = ErrorBody),
    )
)]
pub async fn report(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiQuery(p): ApiQuery<DayParams>,
) -> Result<Json<DailyReportView>, ApiError> {
    let scope = auth.scope()?;
    let today = now().date();
    let day = p.date.unwrap_or(today);
    let r = blocking(&state, move |c, _| {
        Ok(cd::report(c, &scope, &id, day, today)?)
    })
    .await?;
    Ok(Json(r.into()))
}

// ------------------------------------------------------------ family

/// Your child's daily report (每日报告): arrival and collection, checks,
/// meals, naps, outdoor time, incidents, refused handovers.
#[utoipa::path(
    get,
    path = "/api/family/children/{id}/report",
    operation_id = "get_family_daily_report",
    tag = "family",
    params(("id" = String, Path, description = "Your child's person id"), DayParams),
    responses(
        (status = 200, description = "The day", body = DailyReportView),
        (status = 404, description = "Not a verified child of yours", body = ErrorBody),
    )
)]
pub async fn family_report(
    state: State<AppState>,
    auth: Auth,
    id: ApiPath<String>,
    p: ApiQuery<DayParams>,
) -> Result<Json<DailyReportView>, ApiError> {
    report(state, auth, id, p).await
}

/// The people you authorise to drop off and collect your child (in full).
#[utoipa::path(
    get,
    path = "/api/family/children/{id}/pickups",
    operation_id = "list_family_pickups",
    tag = "family",
    params(("id" = String, Path, description = "Your child's person id")),
    responses(
        (status = 200, description = "Authorised people", body = PickupList),
        (status = 404, description = "Not a verified child of yours", body = ErrorBody),
    )
)]
pub async fn family_pickups(
    state: State<AppState>,
    auth: Auth,
    id: ApiPath<String>,
) -> Result<Json<PickupList>, ApiError> {
    pickups(state, auth, id).await
}

/// Authorise a person to drop off and collect your child (接送授权).
#[utoipa::path(
    post,
    path = "/api/family/children/{id}/pickups",
    operation_id = "add_family_pickup",
    tag = "family",
    params(("id" = String, Path, description = "Your child's person id")),
    request_body = PickupBody,
    responses(
        (status = 201, description = "Authorised", body = PickupView),
        (status = 404, description = "Not a verified child of yours", body = ErrorBody),
        (status = 422, description = "A bad field, or too many people", body = ErrorBody),
    )
)]
pub async fn family_add_pickup(
    state: State<AppState>,
    auth: Auth,
    id: ApiPath<String>,
    b: ApiJson<PickupBody>,
) -> Result<(StatusCode, Json<PickupView>), ApiError> {
    add_pickup(state, auth, id, b).await
}

/// Revoke a person you authorised.
#[utoipa::path(
    delete,
    path = "/api/family/pickups/{id}",
    operation_id = "revoke_family_pickup",
    tag = "family",
    params(("id" = String, Path, description = "The authorisation's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "Not one of your children's", body = ErrorBody),
        (status = 409, description = "Revoked already", body = ErrorBody),
    )
)]
pub async fn family_revoke_pickup(
    state: State<AppState>,
    auth: Auth,
    id: ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    revoke_pickup(state, auth, id).await
}

/// Report your child absent (请假), today or up to 30 days ahead.
#[utoipa::path(
    post,
    path = "/api/family/children/{id}/absence",
    operation_id = "report_family_absence",
    tag = "family",
    params(("id" = String, Path, description = "Your child's person id")),
    request_body = AbsenceBody,
    responses(
        (status = 200, description = "Reported; the day's report", body = DailyReportView),
        (status = 404, description = "Not a verified child of yours", body = ErrorBody),
        (status = 409, description = "The child came that day", body = ErrorBody),
        (status = 422, description = "A bad field, a day out of range, or not enrolled that day", body = ErrorBody),
    )
)]
pub async fn family_absence(
    State(state): State<AppState>,
    auth: Auth,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<AbsenceBody>,
) -> Result<Json<DailyReportView>, ApiError> {
    let reason = absence_parts(&b)?;
    let scope = auth.scope()?;
    let now = now();
    let day = b.date.unwrap_or(now.date());
    let r = blocking(&state, move |c, _| {
        Ok(cd::family_absent(
            c,
            &scope,
            &id,
            day,
            reason,
            b.note.as_deref(),
            now,
        )?)
    })
    .await?;
    Ok(Json(r.into()))
}
