//! The childcare day page (托育一日生活), made for a tablet at the door: the
//! classes of one's institution (or area), then one class's day with a row
//! per child (check in with the morning check, check out, midday check,
//! absence) and the class's forms (outdoor time, meals, naps, incidents,
//! caregivers on duty). The rules are the store's
//! (`laoxiao_store::childcare_day`); names are masked.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use laoxiao_model::FieldError;
use laoxiao_model::childcare_day::{
    AbsenceReason, DayEventKind, HealthCheck, IncidentSeverity, Meal, MealAmount,
};
use laoxiao_store::Perm;
use laoxiao_store::childcare_day::{
    self as cd, CheckInInput, CheckOutInput, ChildDay, DaySheet, EventInput, MiddayInput,
};
use serde_json::{Value as Json, json};

use super::family::{errors_json, form_errors};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, ctx_or_error};
use crate::encode_segment;

const PATH: &str = "/console/childcare/day";

fn now() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn options(values: &[laoxiao_model::register::EnumValue]) -> Vec<Json> {
    values
        .iter()
        .map(|v| json!({"value": v.code, "label": v.zh}))
        .collect()
}

fn celsius(t: Option<i32>) -> Option<String> {
    t.map(|t| format!("{:.1}", f64::from(t) / 10.0))
}

fn child_row(k: &ChildDay) -> Json {
    json!({
        "enrolment_id": k.enrolment_id,
        "infant_id": k.infant_id,
        "name": k.infant_name,
        "age_months": k.age_months,
        "care_type": k.care_type.map(|c| c.label_zh()),
        "status": k.status.map(|s| s.code()),
        "status_label": k.status.map(|s| s.label_zh()),
        "arrived": k.status.is_none() || k.status == Some(laoxiao_model::childcare_day::AttendanceStatus::Absent),
        "present": k.status == Some(laoxiao_model::childcare_day::AttendanceStatus::Present),
        "check_in_at": k.check_in_at,
        "dropped_off_by": k.dropped_off_by,
        "temperature": celsius(k.temperature_tenths),
        "morning_check": k.morning_check.map(|c| c.label_zh()),
        "midday_check": k.midday_check.map(|c| c.label_zh()),
        "check_out_at": k.check_out_at,
        "collected_by": k.collected_by,
        "absence_reason": k.absence_reason.map(|r| r.label_zh()),
        "absence_note": k.absence_note,
        "needs_recheck": k.needs_recheck,
        "pickups": k.pickups.iter().map(|p| json!({"id": p.id, "label": p.label()})).collect::<Vec<_>>(),
    })
}

fn sheet_json(s: &DaySheet) -> Json {
    json!({
        "class_id": s.class_id,
        "class_type": s.class_type.label_zh(),
        "facility_name": s.facility_name,
        "day": s.day.to_string(),
        "enrolled": s.enrolled,
        "present": s.present,
        "attended": s.attended,
        "absent": s.absent,
        "caregivers": s.caregivers,
        "on_duty": s.caregivers_on_duty,
        "ratio": format!("1:{}", s.ratio),
        "ratio_clause": s.ratio_clause,
        "ratio_breach": s.ratio_breach,
        "outdoor_minutes": s.outdoor_minutes,
        "outdoor_required": s.outdoor_required,
        "outdoor_clause": s.outdoor_clause,
        "outdoor_short": s.outdoor_short,
        "children": s.children.iter().map(child_row).collect::<Vec<_>>(),
        "came": s.children.iter().filter(|k| k.status.is_some_and(|x| x.code() == "present" || x.code() == "left"))
            .map(|k| json!({"id": k.infant_id, "name": k.infant_name})).collect::<Vec<_>>(),
        "events": s.events.iter().map(|e| json!({
            "at": e.at,
            "kind": e.kind.label_zh(),
            "child": e.infant_name,
            "minutes": e.minutes,
            "meal": e.meal.map(|m| m.label_zh()),
            "amount": e.amount.map(|m| m.label_zh()),
            "severity": e.severity.map(|m| m.label_zh()),
            "note": e.note,
            "informed": e.guardian_informed,
        })).collect::<Vec<_>>(),
        "refusals": s.refusals.iter().map(|r| json!({
            "at": r.at, "child": r.infant_name, "direction": r.direction,
            "presented": r.presented, "reason": r.reason.label_zh(),
        })).collect::<Vec<_>>(),
    })
}

async fn render(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
    class: Option<String>,
    day: NaiveDate,
) -> Response {
    let scope = ctx.scope();
    let can_record = scope.can(Perm::RecordChildcareDay) && scope.facility().is_some();
    let today = now().date();
    let data = s
        .db(move |c, r| {
            let classes = cd::classes(c, &scope, day)?;
            let sheet = match class.as_deref() {
                Some(id) => Some(cd::sheet(c, r, &scope, id, day, today)?),
                None => None,
            };
            Ok((classes, sheet))
        })
        .await;
    let (classes, sheet) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| {
            [
                "check_in",
                "check_out",
                "midday",
                "absent",
                "entry",
                "on_duty",
            ]
            .contains(d)
        })
        .map(|d| s.t(ctx, &format!("day.done_{d}")));
    let page = json!({
        "day": day.to_string(),
        "is_today": day == today,
        "classes": classes.iter().map(|c| json!({
            "url": format!("{PATH}?class={}&date={day}", encode_segment(&c.class_id)),
            "id": c.class_id,
            "type": c.class_type.label_zh(),
            "facility": c.facility_name,
            "enrolled": c.enrolled,
            "present": c.present,
            "attended": c.attended,
            "outdoor": c.outdoor_minutes,
        })).collect::<Vec<_>>(),
        "sheet": sheet.as_ref().map(sheet_json),
        "can_record": can_record && day == today,
        "checks": options(HealthCheck::VALUES),
        "reasons": options(AbsenceReason::VALUES),
        "meals": options(Meal::VALUES),
        "amounts": options(MealAmount::VALUES),
        "severities": options(IncidentSeverity::VALUES),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "childcare_day.html", "childcare_day", page)
}

fn day_param(ctx: &Ctx) -> NaiveDate {
    ctx.param("date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(|| now().date())
}

/// `GET /console/childcare/day?class=…&date=…`
pub async fn index(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let class = ctx
        .param("class")
        .map(str::to_string)
        .filter(|c| !c.is_empty());
    let day = day_param(&ctx);
    render(&s, &ctx, StatusCode::OK, &[], class, day).await
}

fn tenths(form: &FormData, name: &str, errs: &mut Vec<FieldError>) -> Option<i32> {
    let v = field(form, name)?;
    match v.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && (34.0..=43.0).contains(&t) => Some((t * 10.0).round() as i32),
        _ => {
            errs.push(FieldError::new(name, "a temperature of 34.0 to 43.0 °C"));
            None
        }
    }
}

fn number(form: &FormData, name: &str, errs: &mut Vec<FieldError>) -> Option<i32> {
    let v = field(form, name)?;
    match v.trim().parse::<i32>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(name, "a whole number"));
            None
        }
    }
}

fn time(form: &FormData, name: &str, errs: &mut Vec<FieldError>) -> Option<NaiveTime> {
    let v = field(form, name)?;
    match NaiveTime::parse_from_str(v.trim(), "%H:%M") {
        Ok(t) => Some(t),
        Err(_) => {
            errs.push(FieldError::new(name, "a time HH:MM"));
            None
        }
    }
}

/// `POST /console/childcare/day`: `class`, `action` = check_in, check_out,
/// midday, absent (`enrolment_id` and the fields), entry, on_duty.
pub async fn act(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, PATH, headers, q);
    let class = field(&form, "class").unwrap_or_default().to_string();
    let action = field(&form, "action").unwrap_or_default().to_string();
    let enrolment = field(&form, "enrolment_id").unwrap_or_default().to_string();
    let now = now();
    let day = now.date();
    let mut errs = Vec::new();
    let pickup = field(&form, "pickup_id").map(str::to_string);
    let presented = field(&form, "presented").map(str::to_string);
    let note = field(&form, "note").map(str::to_string);
    let at = time(&form, "at", &mut errs);
    let check = field(&form, "check").and_then(HealthCheck::parse);
    let temp = tenths(&form, "temperature", &mut errs);
    let reason = field(&form, "reason").and_then(AbsenceReason::parse);
    let minutes = number(&form, "minutes", &mut errs);
    let on_duty = number(&form, "caregivers", &mut errs);
    let recheck =
        field(&form, "recheck_date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let event = EventInput {
        kind: field(&form, "kind").and_then(DayEventKind::parse),
        infant_id: field(&form, "infant_id").map(str::to_string),
        at,
        minutes,
        meal: field(&form, "meal").and_then(Meal::parse),
        amount: field(&form, "amount").and_then(MealAmount::parse),
        severity: field(&form, "severity").and_then(IncidentSeverity::parse),
        note: note.clone(),
        guardian_informed: field(&form, "guardian_informed").is_some(),
    };
    if !errs.is_empty() {
        return render(
            &s,
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            &errs,
            Some(class),
            day,
        )
        .await;
    }
    let scope = ctx.scope();
    let cls = class.clone();
    let done = action.clone();
    let result = s
        .db(move |c, r| match action.as_str() {
            "check_in" => cd::check_in(
                c,
                &scope,
                &enrolment,
                &CheckInInput {
                    pickup_id: pickup,
                    presented,
                    at,
                    temperature_tenths: temp,
                    morning_check: check,
                    note,
                    recheck_date: recheck,
                },
                now,
            )
            .map(|_| ()),
            "check_out" => cd::check_out(
                c,
                &scope,
                &enrolment,
                &CheckOutInput {
                    pickup_id: pickup,
                    presented,
                    at,
                },
                now,
            )
            .map(|_| ()),
            "midday" => cd::midday_check(
                c,
                &scope,
                &enrolment,
                &MiddayInput {
                    result: check,
                    temperature_tenths: temp,
                    note,
                },
                now,
            )
            .map(|_| ()),
            "absent" => {
                cd::absent(c, &scope, &enrolment, day, reason, note.as_deref(), now).map(|_| ())
            }
            "entry" => cd::record_event(c, &scope, &cls, day, &event, now).map(|_| ()),
            "on_duty" => cd::set_on_duty(
                c,
                r,
                &scope,
                &cls,
                day,
                i64::from(on_duty.unwrap_or(-1)),
                now,
            )
            .map(|_| ()),
            _ => Err(laoxiao_store::StoreError::Invalid(vec![FieldError::new(
                "action",
                "one of check_in, check_out, midday, absent, entry, on_duty",
            )])),
        })
        .await;
    match result {
        Ok(()) => Redirect::to(&format!(
            "{PATH}?class={}&done={done}#day-notice",
            encode_segment(&class)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render(&s, &ctx, st, &errs, Some(class), day).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- family

async fn render_family(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
    day: NaiveDate,
) -> Response {
    let scope = ctx.scope();
    let today = now().date();
    let child = id.clone();
    let data = s
        .db(move |c, _| {
            let r = cd::report(c, &scope, &child, day, today)?;
            let p = cd::pickups(c, &scope, &child, today)?;
            Ok((r, p))
        })
        .await;
    let (r, pickups) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let notice = ctx
        .param("done")
        .filter(|d| ["pickup", "revoke", "absence"].contains(d))
        .map(|d| s.t(ctx, &format!("day.done_{d}")));
    let list = |v: &[laoxiao_store::childcare_day::DayEvent]| {
        v.iter()
            .map(|e| json!({"at": e.at, "meal": e.meal.map(|m| m.label_zh()), "amount": e.amount.map(|m| m.label_zh()),
                "minutes": e.minutes, "severity": e.severity.map(|m| m.label_zh()), "note": e.note}))
            .collect::<Vec<_>>()
    };
    let page = json!({
        "url": format!("/console/family/children/{}/day", encode_segment(&id)),
        "today": today.to_string(),
        "r": {
            "infant_name": r.infant_name,
            "facility_name": r.facility_name,
            "class_type": r.class_type.map(|c| c.label_zh()),
            "day": r.day.to_string(),
            "status": r.status.map(|x| x.code()),
            "status_label": r.status.map(|x| x.label_zh()),
            "check_in_at": r.check_in_at,
            "dropped_off_by": r.dropped_off_by,
            "check_out_at": r.check_out_at,
            "collected_by": r.collected_by,
            "temperature": celsius(r.temperature_tenths).map(|t| format!("{t} °C")),
            "morning_check": r.morning_check.map(|x| x.label_zh()),
            "morning_note": r.morning_note,
            "midday_check": r.midday_check.map(|x| x.label_zh()),
            "midday_note": r.midday_note,
            "absence_reason": r.absence_reason.map(|x| x.label_zh()),
            "absence_note": r.absence_note,
            "outdoor_minutes": r.outdoor_minutes,
            "outdoor_required": r.outdoor_required,
            "meals": list(&r.meals),
            "naps": list(&r.naps),
            "incidents": list(&r.incidents),
            "refusals": r.refusals.iter().map(|x| json!({"at": x.at, "presented": x.presented, "reason": x.reason.label_zh()})).collect::<Vec<_>>(),
        },
        "pickups": pickups.iter().map(|p| json!({"id": p.id, "label": p.label(), "phone": p.phone})).collect::<Vec<_>>(),
        "relations": options(laoxiao_model::childcare_day::PickupRelation::VALUES),
        "reasons": options(AbsenceReason::VALUES),
        "notice": notice,
        "error_list": errors_json(errors),
    });
    s.render_status(ctx, status, "family_day.html", "family", page)
}

/// `GET /console/family/children/{id}/day?date=…`: the daily report, the
/// pickups and the absence form for a verified child of the family.
pub async fn family_day(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let day = day_param(&ctx);
    render_family(&s, &ctx, id, StatusCode::OK, &[], day).await
}

/// `POST /console/family/children/{id}/day`: `action` = add (`name`,
/// `relation`, `phone`), revoke (`pickup_id`) or absence (`date`, `reason`, `note`).
pub async fn family_act(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let now = now();
    let scope = ctx.scope();
    let child = id.clone();
    let name = field(&form, "name").unwrap_or_default().to_string();
    let relation =
        field(&form, "relation").and_then(laoxiao_model::childcare_day::PickupRelation::parse);
    let phone = field(&form, "phone").map(str::to_string);
    let pickup = field(&form, "pickup_id").unwrap_or_default().to_string();
    let date = field(&form, "date").and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let reason = field(&form, "reason").and_then(AbsenceReason::parse);
    let note = field(&form, "note").map(str::to_string);
    let done = match action.as_str() {
        "add" => "pickup",
        "revoke" => "revoke",
        _ => "absence",
    };
    let result = s
        .db(move |c, _| match action.as_str() {
            "add" => cd::add_pickup(
                c,
                &scope,
                &child,
                &laoxiao_store::childcare_day::PickupInput {
                    name,
                    relation,
                    phone,
                },
                now.date(),
            )
            .map(|_| ()),
            "revoke" => cd::revoke_pickup(c, &scope, &pickup, now.date()),
            "absence" => cd::family_absent(
                c,
                &scope,
                &child,
                date.unwrap_or(now.date()),
                reason,
                note.as_deref(),
                now,
            )
            .map(|_| ()),
            _ => Err(laoxiao_store::StoreError::Invalid(vec![FieldError::new(
                "action",
                "one of add, revoke, absence",
            )])),
        })
        .await;
    match result {
        Ok(()) => Redirect::to(&format!(
            "/console/family/children/{}/day?done={done}",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_family(&s, &ctx, id, st, &errs, now.date()).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}
