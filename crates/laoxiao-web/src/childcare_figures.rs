//! Supervision figures for childcare (托育机构监管指标) over HTTP: per
//! institution and per area, occupancy, attendance, ratio breaches, outdoor
//! shortfalls, check coverage and staff certificates over a window of at most
//! 92 days. Counts only, no person; the rules are the store's
//! (`laoxiao_store::childcare_figures`).

use axum::Json;
use axum::extract::State;
use chrono::{Duration, NaiveDate};
use laoxiao_model::FieldError;
use laoxiao_store::childcare_figures::{self as cf, AreaLine, Counts, Institution, Report};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Auth;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, query_params};
use crate::{AppState, blocking};

/// The window when none is asked: the 30 days up to today.
pub const DEFAULT_DAYS: i64 = 30;

/// A rate in percent, one decimal.
fn one_decimal(x: Option<f64>) -> Option<f64> {
    x.map(|v| (v * 10.0).round() / 10.0)
}

/// The counts of an institution or an area, with the rates in percent (one decimal).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CountsView {
    pub institutions: i64,
    /// Approved slots (备案托位).
    pub approved_slots: i64,
    /// …of inclusive (普惠) institutions.
    pub inclusive_slots: i64,
    pub classes: i64,
    /// Places of the classes (班级学位).
    pub places: i64,
    /// Children enrolled on the last counted day (在托).
    pub enrolled: i64,
    /// Occupancy (入托率): enrolled ÷ approved slots, percent.
    pub occupancy: Option<f64>,
    /// Full-day and half-day enrolments × weekdays of the window up to today.
    pub expected_days: i64,
    /// …on which the child came (present or collected).
    pub attended_days: i64,
    /// Attendance rate (出勤率), percent.
    pub attendance_rate: Option<f64>,
    /// Child-days a child came, every care type and day.
    pub child_days: i64,
    pub morning_checked: i64,
    pub midday_checked: i64,
    /// Morning check coverage (晨检覆盖率), percent of `child_days`.
    pub morning_coverage: Option<f64>,
    /// Midday check coverage (午检覆盖率), percent of `child_days`.
    pub midday_coverage: Option<f64>,
    /// Class-days with children.
    pub class_days: i64,
    /// …with more children than the caregivers on duty × the ratio (超出师幼比).
    pub ratio_breaches: i64,
    /// Class-days with children before today.
    pub outdoor_days: i64,
    /// …with less outdoor time than the minimum (户外活动不足).
    pub outdoor_short: i64,
    /// Carers and health staff employed (保育员、育婴员、保健员).
    pub staff: i64,
    /// …with a certificate (持证上岗).
    pub staff_certified: i64,
    /// Certified share (持证上岗率), percent.
    pub certified_share: Option<f64>,
    /// …whose health check is missing or has lapsed (体检过期).
    pub staff_health_lapsed: i64,
}

impl From<Counts> for CountsView {
    fn from(c: Counts) -> Self {
        CountsView {
            occupancy: one_decimal(c.occupancy()),
            attendance_rate: one_decimal(c.attendance_rate()),
            morning_coverage: one_decimal(c.morning_coverage()),
            midday_coverage: one_decimal(c.midday_coverage()),
            certified_share: one_decimal(c.certified_share()),
            institutions: c.institutions,
            approved_slots: c.approved_slots,
            inclusive_slots: c.inclusive_slots,
            classes: c.classes,
            places: c.places,
            enrolled: c.enrolled,
            expected_days: c.expected_days,
            attended_days: c.attended_days,
            child_days: c.child_days,
            morning_checked: c.morning_checked,
            midday_checked: c.midday_checked,
            class_days: c.class_days,
            ratio_breaches: c.ratio_breaches,
            outdoor_days: c.outdoor_days,
            outdoor_short: c.outdoor_short,
            staff: c.staff,
            staff_certified: c.staff_certified,
            staff_health_lapsed: c.staff_health_lapsed,
        }
    }
}

/// An institution's line.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct InstitutionFigures {
    pub id: String,
    pub name: String,
    /// `childcare_institution` or `kindergarten_nursery_class`.
    pub kind: String,
    pub kind_label: String,
    pub area_code: String,
    pub inclusive: bool,
    /// `unfiled`, `pending`, `filed`.
    pub filing_status: String,
    pub counts: CountsView,
}

impl From<Institution> for InstitutionFigures {
    fn from(x: Institution) -> Self {
        InstitutionFigures {
            id: x.id,
            name: x.name,
            kind: x.kind.code().into(),
            kind_label: x.kind.label_zh().into(),
            area_code: x.area_code,
            inclusive: x.inclusive,
            filing_status: x.filing_status.code().into(),
            counts: x.counts.into(),
        }
    }
}

/// An area's totals.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChildcareAreaFigures {
    pub code: String,
    pub name: String,
    /// `city`, `county`, `town`, `village`.
    pub level: String,
    pub counts: CountsView,
}

impl From<AreaLine> for ChildcareAreaFigures {
    fn from(a: AreaLine) -> Self {
        ChildcareAreaFigures {
            code: a.code,
            name: a.name,
            level: a.level.code().into(),
            counts: a.counts.into(),
        }
    }
}

/// A class type's ratio in force (师幼比) and its source.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RatioView {
    /// `infant_class`, `young_toddler_class`, `older_toddler_class`, `mixed_age_class`.
    pub class_type: String,
    pub class_type_label: String,
    pub children_per_caregiver: i64,
    pub clause: String,
}

/// The supervision figures of an area over a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChildcareFiguresView {
    #[schema(value_type = String, format = Date)]
    pub from: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub to: NaiveDate,
    /// The last day counted (`to`, or today when later); none before the window.
    #[schema(value_type = Option<String>, format = Date)]
    pub counted_to: Option<NaiveDate>,
    pub area: ChildcareAreaFigures,
    /// The counties (the city) or towns (a county).
    pub children: Vec<ChildcareAreaFigures>,
    pub institutions: Vec<InstitutionFigures>,
    /// Minimum outdoor minutes a day (管理规范 第十八条) and its clause.
    pub outdoor_required: i64,
    pub outdoor_clause: String,
    pub ratios: Vec<RatioView>,
    /// A staff health check older than this many months has lapsed.
    pub health_check_months: i64,
}

impl From<Report> for ChildcareFiguresView {
    fn from(r: Report) -> Self {
        ChildcareFiguresView {
            from: r.from,
            to: r.to,
            counted_to: r.counted_to,
            area: r.area.into(),
            children: r.children.into_iter().map(Into::into).collect(),
            institutions: r.institutions.into_iter().map(Into::into).collect(),
            outdoor_required: r.outdoor_required,
            outdoor_clause: r.outdoor_clause,
            ratios: r
                .ratios
                .into_iter()
                .map(|x| RatioView {
                    class_type: x.class_type.code().into(),
                    class_type_label: x.class_type.label_zh().into(),
                    children_per_caregiver: x.children_per_caregiver,
                    clause: x.clause,
                })
                .collect(),
            health_check_months: r.health_check_months,
        }
    }
}

query_params! {
    /// The area and the window.
    #[derive(Debug, Default, IntoParams)]
    #[into_params(parameter_in = Query)]
    pub struct FiguresParams {
        /// An area code in your scope (6, 9 or 12 digits); your home area when absent.
        #[param(max_length = 12, pattern = "^[0-9]{6}([0-9]{3}){0,2}$")]
        pub area: Option<String>,
        /// YYYY-MM-DD; 29 days before `to` when absent.
        #[param(value_type = Option<String>, format = Date)]
        pub from: Option<String>,
        /// YYYY-MM-DD, at most 91 days after `from`; today when absent.
        #[param(value_type = Option<String>, format = Date)]
        pub to: Option<String>,
    }
}

/// A date parameter: 422 naming the field when it is not YYYY-MM-DD.
pub fn date_param(field: &str, v: Option<&str>) -> Result<Option<NaiveDate>, FieldError> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| FieldError::new(field, "a date YYYY-MM-DD")),
    }
}

/// The window asked: `to` defaults to today, `from` to 29 days before `to`.
pub fn window(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), Vec<FieldError>> {
    let (f, t) = (date_param("from", from), date_param("to", to));
    let errs: Vec<FieldError> = [f.as_ref().err(), t.as_ref().err()]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    if !errs.is_empty() {
        return Err(errs);
    }
    let to = t.ok().flatten().unwrap_or(today);
    let from = f
        .ok()
        .flatten()
        .unwrap_or(to - Duration::days(DEFAULT_DAYS - 1));
    Ok((from, to))
}

/// Supervision figures (托育机构监管指标) of an area in your scope (an
/// operator: its own institution) over a window of at most 92 days:
/// occupancy, attendance rate, ratio breaches, outdoor shortfalls, morning
/// and midday check coverage, staff certificates and lapsed health checks;
/// per institution, for the area and for its counties (the city) or towns
/// (a county).
#[utoipa::path(
    get,
    path = "/api/childcare/figures",
    operation_id = "get_childcare_figures",
    tag = "childcare",
    params(FiguresParams),
    responses(
        (status = 200, description = "The figures", body = ChildcareFiguresView),
        (status = 400, description = "Unknown query parameters", body = ErrorBody),
        (status = 404, description = "No such area in your scope", body = ErrorBody),
        (status = 422, description = "A bad date or area, or a window longer than 92 days", body = ErrorBody),
    )
)]
pub async fn figures(
    State(state): State<AppState>,
    auth: Auth,
    ApiQuery(p): ApiQuery<FiguresParams>,
) -> Result<Json<ChildcareFiguresView>, ApiError> {
    let scope = auth.scope()?;
    let today = chrono::Local::now().date_naive();
    let (from, to) =
        window(p.from.as_deref(), p.to.as_deref(), today).map_err(ApiError::invalid)?;
    let area = p.area;
    let r = blocking(&state, move |c, r| {
        Ok(cf::figures(c, r, &scope, area.as_deref(), from, to, today)?)
    })
    .await?;
    Ok(Json(r.into()))
}
