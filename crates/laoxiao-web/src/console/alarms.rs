//! Alarm pages (告警处置): the active alarms of the caller's area, refreshed
//! live (htmx polls the table every 5 s), an alarm's page with its timeline
//! and the steps (acknowledge, reached, close with an outcome), and the
//! figures page (response times, alarms by kind, escalations, and the plan's
//! equipment target per area). The rules are the store's
//! (`laoxiao_store::alarms`); the device register's pages come from its
//! declaration.

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use laoxiao_model::FieldError;
use laoxiao_model::alarms::{AlarmOutcome, AlarmState, DeviceKind};
use laoxiao_store::StoreError;
use laoxiao_store::alarms::{self, Alarm, Step, Which};
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, PageError, ctx_or_error};

/// Rows the live page shows (the counts cover every alarm).
pub const PAGE_ROWS: u32 = 200;

fn zh(ctx: &Ctx) -> bool {
    ctx.lang == Lang::Zh
}

fn kind_label(ctx: &Ctx, k: DeviceKind) -> &'static str {
    if zh(ctx) { k.label_zh() } else { k.label_en() }
}

fn state_label(ctx: &Ctx, k: AlarmState) -> &'static str {
    if zh(ctx) { k.label_zh() } else { k.label_en() }
}

fn outcome_label(ctx: &Ctx, k: AlarmOutcome) -> &'static str {
    if zh(ctx) { k.label_zh() } else { k.label_en() }
}

fn short_time(t: &str) -> String {
    // 2026-03-01T10:05:00Z → 03-01 10:05 (UTC)
    t.get(5..16)
        .map(|s| s.replace('T', " "))
        .unwrap_or_else(|| t.to_string())
}

fn row(s: &ConsoleState, ctx: &Ctx, a: &Alarm) -> Json {
    json!({
        "id": a.id,
        "url": format!("/console/alarms/{}", crate::encode_segment(&a.id)),
        "kind": kind_label(ctx, a.kind),
        "state": a.state.code(),
        "state_label": state_label(ctx, a.state),
        "escalated": a.escalated,
        "person": a.person_name_masked,
        "person_url": format!("/console/people/{}", crate::encode_segment(&a.person_id)),
        "area": super::area_name(s, &a.area_code),
        "received": short_time(&a.received_at),
        "ack_due": short_time(&a.ack_due_at),
        "reach_due": short_time(&a.reach_due_at),
        "outcome": a.outcome.map(|o| outcome_label(ctx, o)),
    })
}

/// `GET /console/alarms`: the live list (an htmx request gets the table only).
pub async fn page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/alarms", headers, q);
    let closed = ctx.param("state") == Some("closed");
    let which = if closed { Which::Closed } else { Which::Active };
    let scope = ctx.scope();
    let list = match s
        .db(move |c, _| alarms::list(c, &scope, which, PAGE_ROWS))
        .await
    {
        Ok(l) => l,
        Err(e) => return s.error_page(&ctx, e),
    };
    let states: Vec<Json> = [
        AlarmState::Open,
        AlarmState::Acknowledged,
        AlarmState::OnSite,
    ]
    .into_iter()
    .map(|st| {
        json!({
            "label": state_label(&ctx, st),
            "n": list.by_state.get(st.code()).copied().unwrap_or(0),
        })
    })
    .collect();
    let page = json!({
        "rows": list.items.iter().map(|a| row(&s, &ctx, a)).collect::<Vec<_>>(),
        "total": list.total,
        "escalated": list.escalated,
        "states": states,
        "closed": closed,
        "shown": list.items.len(),
        "updated": Utc::now().format("%H:%M:%S").to_string(),
    });
    let template = if ctx.htmx {
        "alarm_rows.html"
    } else {
        "alarms.html"
    };
    s.render(&ctx, template, "alarms", page)
}

async fn render_alarm(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    id: String,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let a = match s.db(move |c, _| alarms::get(c, &scope, &id)).await {
        Ok(a) => a,
        Err(e) => return s.error_page(ctx, e),
    };
    let steps: Vec<Json> = a
        .timeline()
        .into_iter()
        .map(|st| {
            json!({
                "at": st.at,
                "label": s.t(ctx, &format!("alarm.step_{}", st.step)),
                "by": st.by,
            })
        })
        .collect();
    let outcomes: Vec<Json> = AlarmOutcome::VALUES
        .iter()
        .map(|v| json!({"value": v.code, "label": if zh(ctx) { v.zh } else { v.en }}))
        .collect();
    let can_act = ctx.auth.can(laoxiao_store::Perm::RespondAlarms);
    let page = json!({
        "a": row(s, ctx, &a),
        "detail": {
            "event_id": a.event_id,
            "platform_id": a.platform_id,
            "device_id": a.device_id,
            "device_url": format!("/console/devices/{}", crate::encode_segment(&a.device_id)),
            "provider": a.provider_id.as_deref().map(|p| p.to_string()),
            "escalation_reason": a.escalation_reason.as_deref().map(|r| s.t(ctx, &format!("alarm.why_{r}"))),
            "note": a.note,
            "ack_due": a.ack_due_at,
            "reach_due": a.reach_due_at,
        },
        "steps": steps,
        "outcomes": outcomes,
        "action": format!("/console/alarms/{}", crate::encode_segment(&a.id)),
        "can_ack": can_act && a.state == AlarmState::Open,
        "can_reach": can_act && matches!(a.state, AlarmState::Open | AlarmState::Acknowledged),
        "can_close": can_act && a.state != AlarmState::Closed,
        "error_list": errors.iter().map(|e| json!({"field": e.field, "reason": e.reason})).collect::<Vec<_>>(),
        "notice": ctx.param("done").filter(|d| ["acknowledge", "reach", "close"].contains(d)).map(|d| s.t(ctx, &format!("alarm.done_{d}"))),
    });
    s.render_status(ctx, status, "alarm.html", "alarms", page)
}

/// `GET /console/alarms/{id}`
pub async fn detail(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let path = format!("/console/alarms/{}", crate::encode_segment(&id));
    let ctx = ctx_or_error!(s, &path, headers, q);
    render_alarm(&s, &ctx, StatusCode::OK, id, &[]).await
}

/// `POST /console/alarms/{id}`: a step (`action` = acknowledge, reach or
/// close with `outcome`), then back to the alarm's page.
pub async fn act(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let path = format!("/console/alarms/{}", crate::encode_segment(&id));
    let ctx = ctx_or_error!(s, &path, headers, q);
    let action = field(&form, "action").unwrap_or_default().to_string();
    let step = match action.as_str() {
        "acknowledge" => Step::Acknowledge,
        "reach" => Step::Reach,
        "close" => match field(&form, "outcome").and_then(AlarmOutcome::parse) {
            Some(o) => Step::Close(o),
            None => {
                let e = [FieldError::new(
                    "outcome",
                    s.t(&ctx, "alarm.outcome_required"),
                )];
                return render_alarm(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, id, &e).await;
            }
        },
        _ => {
            let e = [FieldError::new("action", s.t(&ctx, "alarm.action_unknown"))];
            return render_alarm(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, id, &e).await;
        }
    };
    let note = field(&form, "note").map(str::to_string);
    let scope = ctx.scope();
    let id2 = id.clone();
    let r = s
        .db(move |c, _| alarms::respond(c, &scope, &id2, step, note.as_deref(), Utc::now()))
        .await;
    match r {
        Ok(_) => Redirect::to(&format!("{path}?done={action}")).into_response(),
        Err(PageError::Store(StoreError::Invalid(errs))) => {
            render_alarm(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, id, &errs).await
        }
        Err(PageError::Store(e @ StoreError::Conflict(_))) => {
            let errs = [FieldError::new("", e.to_string())];
            render_alarm(&s, &ctx, StatusCode::CONFLICT, id, &errs).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

fn minutes(secs: Option<i64>) -> Json {
    match secs {
        Some(x) => json!(format!("{:.1}", x as f64 / 60.0)),
        None => json!("—"),
    }
}

/// `GET /console/alarms/figures`: response figures of the chosen area over
/// the last 30 days, and the plan's equipment target.
pub async fn figures(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/alarms/figures", headers, q);
    let scope = ctx.scope();
    let code = ctx.area.code.clone();
    let to = Utc::now().date_naive();
    let from = to - chrono::Duration::days(30);
    let r = s
        .db(move |c, r| {
            let f = alarms::figures(c, r, &scope, &code, from, to)?;
            let e = alarms::equipped(c, r, &scope, &code)?;
            Ok((f, e))
        })
        .await;
    let ((whole, parts), (eq, eq_parts)) = match r {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let fig = |f: &alarms::AreaFigures| {
        json!({
            "name": f.area_name,
            "alarms": f.alarms,
            "escalated": f.escalated,
            "med_ack": minutes(f.median_ack_seconds),
            "p90_ack": minutes(f.p90_ack_seconds),
            "med_reach": minutes(f.median_reach_seconds),
            "p90_reach": minutes(f.p90_reach_seconds),
        })
    };
    let kinds: Vec<Json> = DeviceKind::VALUES
        .iter()
        .map(|k| {
            json!({
                "label": if zh(&ctx) { k.zh } else { k.en },
                "n": whole.by_kind.get(k.code).copied().unwrap_or(0),
            })
        })
        .collect();
    let share = |e: &alarms::Equipped| {
        json!({
            "name": e.area_name,
            "people": e.people,
            "equipped": e.equipped,
            "percent": e.per_mille.map(|p| format!("{:.1}", p as f64 / 10.0)).unwrap_or_else(|| "—".into()),
        })
    };
    let page = json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "whole": fig(&whole),
        "parts": parts.iter().map(fig).collect::<Vec<_>>(),
        "kinds": kinds,
        "eq": share(&eq),
        "eq_parts": eq_parts.iter().map(share).collect::<Vec<_>>(),
    });
    s.render(&ctx, "alarm_figures.html", "alarms", page)
}
