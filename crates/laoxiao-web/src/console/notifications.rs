//! Parents in the loop, in the console: a family's notifications (通知) and
//! its thread with the child's class (家园沟通); the institution's threads,
//! replies and class notices (班级通知); the city's delivery health page
//! (通知投递). The rules are the store's (`laoxiao_store::notify`,
//! `laoxiao_store::childcare_messages`).

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::DateTime;
use laoxiao_model::FieldError;
use laoxiao_store::childcare_messages::{self as cm, Side, Thread};
use laoxiao_store::notify;
use serde_json::{Value as Json, json};

use super::family::{errors_json, form_errors};
use super::transfers::{FormData, field};
use super::{ConsoleState, Ctx, ctx_or_error};
use crate::encode_segment;
use crate::notifications::notice_text;

/// Times in the server's clock, as the day's records are (the server runs
/// on China Standard Time in production).
fn local(t: &str) -> String {
    match DateTime::parse_from_rfc3339(t) {
        Ok(d) => d
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => t.to_string(),
    }
}

fn thread_json(s: &ConsoleState, ctx: &Ctx, t: &Thread) -> Json {
    json!({
        "enrolment_id": t.enrolment_id,
        "child": t.infant_name,
        "facility": t.facility_name,
        "class_id": t.class_id,
        "messages": t.messages.iter().map(|m| json!({
            "id": m.id,
            "mine_family": m.side == Side::Family,
            "who": if m.notice {
                s.t(ctx, "msg.class_notice")
            } else if m.side == Side::Family {
                s.t(ctx, "msg.side_family")
            } else {
                s.t(ctx, "msg.side_institution")
            },
            "notice": m.notice,
            "body": m.body,
            "at": local(&m.created_at),
            "read": m.read_at.is_some(),
        })).collect::<Vec<_>>(),
    })
}

fn done(s: &ConsoleState, ctx: &Ctx, allowed: &[&str]) -> Option<String> {
    ctx.param("done")
        .filter(|d| allowed.contains(d))
        .map(|d| s.t(ctx, &format!("msg.done_{d}")))
}

// ---------------------------------------------------------------- family

/// `GET /console/family/notifications`: the family's notifications.
pub async fn family_inbox(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family/notifications", headers, q);
    let scope = ctx.scope();
    let inbox = match s.db(move |c, _| notify::inbox(c, &scope, false, 100)).await {
        Ok(v) => v,
        Err(e) => return s.error_page(&ctx, e),
    };
    let items: Vec<Json> = inbox
        .items
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "text": notice_text(&s.cat, ctx.lang, n.template, &n.params),
                "kind": s.t(&ctx, &format!("notice.kind_{}", n.template.code())),
                "link": n.link,
                "at": local(&n.created_at),
                "unread": n.read_at.is_none(),
            })
        })
        .collect();
    let page = json!({
        "unread": inbox.unread,
        "items": items,
        "notice": done(&s, &ctx, &["read"]),
    });
    s.render(
        &ctx,
        "family_notifications.html",
        "family_notifications",
        page,
    )
}

/// `POST /console/family/notifications`: marks them all read.
pub async fn family_inbox_read(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(_form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family/notifications", headers, q);
    let scope = ctx.scope();
    match s
        .db(move |c, _| notify::mark_read(c, &scope, None, chrono::Utc::now()))
        .await
    {
        Ok(_) => Redirect::to("/console/family/notifications?done=read").into_response(),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn render_family_thread(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
    draft: Option<String>,
) -> Response {
    let scope = ctx.scope();
    let child = id.clone();
    let t = match s
        .db(move |c, _| cm::family_thread(c, &scope, &child, chrono::Utc::now()))
        .await
    {
        Ok(t) => t,
        Err(e) => return s.error_page(ctx, e),
    };
    let base = format!("/console/family/children/{}", encode_segment(&id));
    let page = json!({
        "th": thread_json(s, ctx, &t),
        "action": format!("{base}/messages"),
        "day_url": format!("{base}/day"),
        "bills_url": format!("{base}/bills"),
        "error_list": errors_json(errors),
        "draft": draft,
        "max": cm::MAX_BODY,
        "notice": done(s, ctx, &["sent"]),
    });
    s.render_status(ctx, status, "family_messages.html", "family", page)
}

/// `GET /console/family/children/{id}/messages`: the thread with the class.
pub async fn family_thread(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    render_family_thread(&s, &ctx, id, StatusCode::OK, &[], None).await
}

/// `POST /console/family/children/{id}/messages`: writes to the class.
pub async fn family_post(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/family", headers, q);
    let text = field(&form, "body").unwrap_or_default().to_string();
    let scope = ctx.scope();
    let child = id.clone();
    let draft = text.clone();
    match s
        .db(move |c, _| cm::family_post(c, &scope, &child, &text, chrono::Utc::now()))
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "/console/family/children/{}/messages?done=sent#thread-end",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_family_thread(&s, &ctx, id, st, &errs, Some(draft)).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- institution

const STAFF: &str = "/console/childcare/messages";

async fn render_threads(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let today = chrono::Local::now().date_naive();
    let data = s
        .db(move |c, _| {
            let threads = cm::threads(c, &scope)?;
            let notices = cm::notices(c, &scope, 20)?;
            let classes = laoxiao_store::childcare_day::classes(c, &scope, today)?;
            Ok((threads, notices, classes))
        })
        .await;
    let (threads, notices, classes) = match data {
        Ok(v) => v,
        Err(e) => return s.error_page(ctx, e),
    };
    let page = json!({
        "threads": threads.iter().map(|l| json!({
            "url": format!("{STAFF}/{}", encode_segment(&l.enrolment_id)),
            "child": l.infant_name,
            "class_id": l.class_id,
            "last_at": local(&l.last_at),
            "unread": l.unread,
        })).collect::<Vec<_>>(),
        "notices": notices.iter().map(|n| json!({
            "class_id": n.class_id,
            "body": n.body,
            "at": local(&n.created_at),
        })).collect::<Vec<_>>(),
        "classes": classes.iter().map(|k| json!({
            "id": k.class_id,
            "label": format!("{}（{}）· {}", k.class_type.label_zh(), k.class_id, k.enrolled),
        })).collect::<Vec<_>>(),
        "error_list": errors_json(errors),
        "max": cm::MAX_BODY,
        "notice": done(s, ctx, &["notice"]),
    });
    s.render_status(
        ctx,
        status,
        "childcare_messages.html",
        "childcare_messages",
        page,
    )
}

/// `GET /console/childcare/messages`: the institution's threads and notices.
pub async fn threads(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, STAFF, headers, q);
    render_threads(&s, &ctx, StatusCode::OK, &[]).await
}

/// `POST /console/childcare/messages`: a notice to a class (`class_id`, `body`).
pub async fn send_notice(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, STAFF, headers, q);
    let class = field(&form, "class_id").unwrap_or_default().to_string();
    let text = field(&form, "body").unwrap_or_default().to_string();
    if class.is_empty() {
        let errs = [FieldError::new("class_id", "choose a class")];
        return render_threads(&s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, &errs).await;
    }
    let scope = ctx.scope();
    match s
        .db(move |c, _| cm::class_notice(c, &scope, &class, &text, chrono::Utc::now()))
        .await
    {
        Ok(_) => Redirect::to(&format!("{STAFF}?done=notice#msg-notice")).into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_threads(&s, &ctx, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

async fn render_staff_thread(
    s: &ConsoleState,
    ctx: &Ctx,
    id: String,
    status: StatusCode,
    errors: &[FieldError],
) -> Response {
    let scope = ctx.scope();
    let e = id.clone();
    let t = match s
        .db(move |c, _| cm::staff_thread(c, &scope, &e, chrono::Utc::now()))
        .await
    {
        Ok(t) => t,
        Err(e) => return s.error_page(ctx, e),
    };
    let page = json!({
        "th": thread_json(s, ctx, &t),
        "action": format!("{STAFF}/{}", encode_segment(&id)),
        "back": STAFF,
        "error_list": errors_json(errors),
        "max": cm::MAX_BODY,
        "notice": done(s, ctx, &["sent"]),
    });
    s.render_status(
        ctx,
        status,
        "childcare_thread.html",
        "childcare_messages",
        page,
    )
}

/// `GET /console/childcare/messages/{id}`: a child's thread.
pub async fn thread(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, STAFF, headers, q);
    render_staff_thread(&s, &ctx, id, StatusCode::OK, &[]).await
}

/// `POST /console/childcare/messages/{id}`: the institution's answer.
pub async fn reply(
    State(s): State<ConsoleState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let ctx = ctx_or_error!(s, STAFF, headers, q);
    let text = field(&form, "body").unwrap_or_default().to_string();
    let scope = ctx.scope();
    let e = id.clone();
    match s
        .db(move |c, _| cm::reply(c, &scope, &e, &text, chrono::Utc::now()))
        .await
    {
        Ok(_) => Redirect::to(&format!(
            "{STAFF}/{}?done=sent#thread-end",
            encode_segment(&id)
        ))
        .into_response(),
        Err(e) => match form_errors(e) {
            Ok((st, errs)) => render_staff_thread(&s, &ctx, id, st, &errs).await,
            Err(e) => s.error_page(&ctx, e),
        },
    }
}

// ---------------------------------------------------------------- delivery health

/// `GET /console/notifications`: delivery health for the city administrator.
pub async fn health(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/notifications", headers, q);
    let scope = ctx.scope();
    let h = match s.db(move |c, _| notify::health(c, &scope)).await {
        Ok(h) => h,
        Err(e) => return s.error_page(&ctx, e),
    };
    // One row per template: pending, sent, failed.
    let mut rows: Vec<Json> = Vec::new();
    for t in notify::Template::ALL {
        let n = |st: notify::Delivery| {
            h.counts
                .iter()
                .filter(|c| c.template == t && c.status == st)
                .map(|c| c.count)
                .sum::<i64>()
        };
        rows.push(json!({
            "kind": s.t(&ctx, &format!("notice.kind_{}", t.code())),
            "pending": n(notify::Delivery::Pending),
            "sent": n(notify::Delivery::Sent),
            "failed": n(notify::Delivery::Failed),
        }));
    }
    let page = json!({
        "rows": rows,
        "failures": h.failures.iter().map(|f| json!({
            "id": f.id,
            "kind": s.t(&ctx, &format!("notice.kind_{}", f.template.code())),
            "attempts": f.attempts,
            "channel": f.channel,
            "error": f.last_error,
            "at": local(&f.created_at),
        })).collect::<Vec<_>>(),
        "oldest_pending": h.oldest_pending.as_deref().map(local),
    });
    s.render(&ctx, "notifications_health.html", "notifications", page)
}
