//! The public portal's complaints and inspection results (issue 17 part 3):
//! a complaint form anyone may send without an account (门户投诉), tracking
//! by code (投诉查询) and the published results of random inspections with
//! their draws (双随机、一公开). `docs/complaints.md`, `docs/inspections.md`.
//!
//! Abuse resistance without a third-party CAPTCHA: a honeypot field, a
//! proof-of-work challenge the page's script solves (signed and expiring,
//! checked statelessly; a used one is remembered until it expires and then
//! refused anyway), a per-address limit on sending and tracking on top of
//! the portal's own, and size limits on every field. A facility is named by
//! its public reference only.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, FixedOffset, Utc};
use laoxiao_model::FieldError;
use laoxiao_store::complaints::{Category, Status, clean_phone};
use laoxiao_store::error::StoreError;
use laoxiao_store::portal_public::{self as pp, PowRefusal};
use laoxiao_store::public_ref;
use serde_json::{Value as Json, json};

use super::portal::Limiter;
use super::{ConsoleState, Ctx, PageError, ctx_or_error};
use crate::encode_segment;

type FormData = Vec<(String, String)>;

const FORM_PATH: &str = "/portal/complaints";
const TRACK_PATH: &str = "/portal/complaints/track";
const INSPECTIONS_PATH: &str = "/portal/inspections";

/// Used challenges remembered at most; past it, expired ones are forgotten,
/// and when none has expired new complaints wait (429) rather than let a
/// replay through.
const MAX_USED: usize = 200_000;
/// Field limits (characters) checked before anything else.
const MAX_CATEGORY: usize = 40;
const MAX_CONTACT: usize = 100;
const MAX_HONEYPOT: usize = 200;
const MAX_CODE: usize = 40;
/// Longest period label a visitor may ask for.
const MAX_PERIOD: usize = 20;
/// The honeypot's name: a field people never see and bots fill in.
const HONEYPOT: &str = "website";

/// Challenges already used, until they expire (salt → expiry, Unix seconds).
#[derive(Debug, Default)]
pub struct UsedChallenges {
    seen: Mutex<HashMap<String, i64>>,
}

impl UsedChallenges {
    /// Marks a challenge used; false when it was used already, or when the
    /// set is full of unexpired ones.
    pub fn claim(&self, key: &str, expires: i64, now: i64) -> bool {
        let Ok(mut m) = self.seen.lock() else {
            return false;
        };
        if m.contains_key(key) {
            return false;
        }
        if m.len() >= MAX_USED {
            m.retain(|_, e| *e > now);
            if m.len() >= MAX_USED {
                return false;
            }
        }
        m.insert(key.to_string(), expires);
        true
    }
}

#[derive(Clone)]
struct PcState {
    s: ConsoleState,
    used: Arc<UsedChallenges>,
    posts: Arc<Limiter>,
}

/// The complaint and inspection pages (merged into the portal's routes,
/// under its per-address limit).
pub fn routes(state: ConsoleState) -> Router {
    let per_minute = if state.web.portal_per_minute == 0 {
        0
    } else {
        pp::portal_params(Utc::now().date_naive())
            .map(|p| p.posts_per_minute)
            .unwrap_or(6)
    };
    let st = PcState {
        s: state,
        used: Arc::new(UsedChallenges::default()),
        posts: Arc::new(Limiter::new(per_minute)),
    };
    Router::new()
        .route("/portal/complaints", get(form_page).post(submit))
        .route("/portal/complaints/track", get(track_page).post(track))
        .route("/portal/inspections", get(inspections_page))
        .with_state(st)
}

fn field<'a>(form: &'a FormData, name: &str) -> Option<&'a str> {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

fn too_long(v: Option<&str>, max: usize) -> bool {
    v.is_some_and(|v| v.chars().count() > max)
}

/// A stored UTC time as China time, `2026-12-03 18:05`.
fn local(ts: &str) -> String {
    match DateTime::parse_from_rfc3339(ts) {
        Ok(t) => {
            let cn = FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| t.timezone());
            t.with_timezone(&cn).format("%Y-%m-%d %H:%M").to_string()
        }
        Err(_) => ts.chars().take(10).collect(),
    }
}

/// Whether the send-and-track limit lets this address through.
fn admitted(st: &PcState, ext: &Extensions) -> bool {
    match ext.get::<ConnectInfo<SocketAddr>>() {
        Some(c) => st.posts.admit(c.0.ip(), Instant::now()),
        None => true,
    }
}

fn too_many(s: &ConsoleState, ctx: &Ctx) -> Response {
    let mut r = s.render_status(
        ctx,
        StatusCode::TOO_MANY_REQUESTS,
        "portal_message.html",
        "portal_complaints",
        json!({"title": s.t(ctx, "portal_complaints.too_many_title"), "message": s.t(ctx, "portal_complaints.too_many")}),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
    r
}

fn categories(s: &ConsoleState, ctx: &Ctx, chosen: Option<&str>) -> Vec<Json> {
    Category::ALL
        .iter()
        .map(|c| {
            json!({
                "value": c.code(),
                "label": s.t(ctx, &format!("portal_complaints.cat_{}", c.code())),
                "selected": chosen == Some(c.code()),
            })
        })
        .collect()
}

fn facility_json(s: &ConsoleState, ctx: &Ctx, f: &pp::PublicFacility) -> Json {
    json!({
        "reference": f.reference,
        "name": f.name,
        "kind": s.label(ctx, "facility_kind", &f.kind),
        "area": super::area_name(s, &f.area_code),
        "address": f.address,
        "url": format!("/portal/places/{}", encode_segment(&f.reference)),
        "complain_url": format!("{FORM_PATH}?place={}#complaint-form", encode_segment(&f.reference)),
    })
}

/// The messages shown next to the form's fields (`place`, `category`,
/// `body`, `contact`, `pow`).
fn error_map(errors: &[(&'static str, String)]) -> Json {
    let mut m = serde_json::Map::new();
    for (k, v) in errors {
        m.entry(k.to_string()).or_insert_with(|| json!(v));
    }
    Json::Object(m)
}

struct FormView<'a> {
    status: StatusCode,
    form: &'a FormData,
    errors: Vec<(&'static str, String)>,
    place: Option<String>,
}

/// Renders the complaint page: the facility search, or the form for the
/// chosen facility with a fresh challenge. Never cached (the challenge is
/// one visitor's).
async fn render_form(s: &ConsoleState, ctx: &Ctx, v: FormView<'_>) -> Response {
    let city = laoxiao_model::jiaxing::CITY_CODE.to_string();
    let code = ctx.param("code").unwrap_or(&city).to_string();
    let Some(area) = s.store.reference.areas.get(&code).cloned() else {
        let msg = s
            .cat
            .fill(ctx.lang, "error.unknown_area", &[("code", code)]);
        return s.error_page(ctx, PageError::NotFound(msg));
    };
    let q = ctx
        .param("q")
        .map(|q| q.chars().take(pp::MAX_QUERY).collect::<String>());
    let place = v.place.clone();
    let now = Utc::now();
    let area_path = area.path.clone();
    let q2 = q.clone();
    let data = s
        .db(move |c, r| {
            let facility = match place.as_deref() {
                Some(p) if public_ref::well_formed(p) => pp::facility_by_ref(c, r, p)?,
                _ => None,
            };
            let results = match q2.as_deref() {
                Some(q) if facility.is_none() => pp::search_facilities(c, r, &area_path, q)?,
                _ => Vec::new(),
            };
            let params = pp::portal_params(now.date_naive())?;
            let challenge = pp::issue_challenge(r, params.pow_bits, now)?;
            Ok((facility, results, params, challenge))
        })
        .await;
    let (facility, results, params, challenge) = match data {
        Ok(x) => x,
        Err(e) => return s.error_page(ctx, e),
    };
    let mut errors = v.errors;
    let mut status = v.status;
    if v.place.is_some() && facility.is_none() {
        errors.push(("place", s.t(ctx, "portal_complaints.no_place")));
        if status == StatusCode::OK {
            status = StatusCode::NOT_FOUND;
        }
    }
    let page = json!({
        "areas": super::portal::area_choices(s, &area.code),
        "chosen_area": area.code,
        "q": q,
        "searched": q.is_some() && facility.is_none(),
        "results": results.iter().map(|f| facility_json(s, ctx, f)).collect::<Vec<_>>(),
        "facility": facility.as_ref().map(|(_, f)| facility_json(s, ctx, f)),
        "categories": categories(s, ctx, field(v.form, "category")),
        "form": {
            "body": field(v.form, "body"),
            "contact": field(v.form, "contact"),
        },
        "errors": error_map(&errors),
        "error_list": errors.iter().map(|(k, v)| json!({"field": k, "message": v})).collect::<Vec<_>>(),
        "has_errors": !errors.is_empty(),
        "challenge": challenge,
        "bits": params.pow_bits,
        "max_body": laoxiao_store::complaints::MAX_BODY,
        "max_contact": MAX_CONTACT,
        "honeypot": HONEYPOT,
    });
    s.render_status(
        ctx,
        status,
        "portal_complaints.html",
        "portal_complaints",
        page,
    )
}

/// `GET /portal/complaints?place={ref}` (the form for a place) or
/// `?code={area}&q={name}` (find the place first).
async fn form_page(
    State(st): State<PcState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let s = &st.s;
    let ctx = ctx_or_error!(s, FORM_PATH, headers, q);
    let place = ctx.param("place").map(|p| p.chars().take(40).collect());
    let form = Vec::new();
    render_form(
        s,
        &ctx,
        FormView {
            status: StatusCode::OK,
            form: &form,
            errors: Vec::new(),
            place,
        },
    )
    .await
}

fn pow_message(s: &ConsoleState, ctx: &Ctx, r: PowRefusal) -> String {
    s.t(ctx, &format!("portal_complaints.pow_{}", r.code()))
}

/// `POST /portal/complaints`: `place`, `category`, `body`, `contact`,
/// `challenge`, `nonce` (and the honeypot, empty).
async fn submit(
    State(st): State<PcState>,
    headers: HeaderMap,
    ext: Extensions,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let s = &st.s;
    let ctx = ctx_or_error!(s, FORM_PATH, headers, q);
    if !admitted(&st, &ext) {
        return too_many(s, &ctx);
    }
    // A filled honeypot: answered as if sent, nothing stored.
    let honeypot = form
        .iter()
        .any(|(k, v)| k == HONEYPOT && !v.trim().is_empty());
    if honeypot {
        tracing::info!("portal complaint refused: honeypot filled");
        return s.render(
            &ctx,
            "portal_complaint_done.html",
            "portal_complaints",
            json!({"code": Json::Null}),
        );
    }
    let place = field(&form, "place").map(|p| p.chars().take(40).collect::<String>());
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let category = field(&form, "category");
    let body = field(&form, "body");
    let contact = field(&form, "contact");
    if too_long(category, MAX_CATEGORY) || category.is_some_and(|c| Category::parse(c).is_none()) {
        errors.push(("category", s.t(&ctx, "portal_complaints.bad_category")));
    } else if category.is_none() {
        errors.push(("category", s.t(&ctx, "portal_complaints.need_category")));
    }
    let max_body = laoxiao_store::complaints::MAX_BODY;
    if too_long(body, max_body) {
        errors.push((
            "body",
            s.cat.fill(
                ctx.lang,
                "portal_complaints.body_too_long",
                &[("n", max_body.to_string())],
            ),
        ));
    } else if body.is_none() {
        errors.push(("body", s.t(&ctx, "portal_complaints.need_body")));
    }
    let contact = match contact {
        None => None,
        Some(c) if too_long(Some(c), MAX_CONTACT) => {
            errors.push(("contact", s.t(&ctx, "portal_complaints.bad_contact")));
            None
        }
        Some(c) if c.contains('@') => match pp::clean_email(c) {
            Some(e) => Some(e),
            None => {
                errors.push(("contact", s.t(&ctx, "portal_complaints.bad_contact")));
                None
            }
        },
        Some(c) => match clean_phone(c) {
            Ok(p) => p,
            Err(_) => {
                errors.push(("contact", s.t(&ctx, "portal_complaints.bad_contact")));
                None
            }
        },
    };
    let honeypot_long = form
        .iter()
        .any(|(k, v)| k == HONEYPOT && v.chars().count() > MAX_HONEYPOT);
    let challenge = field(&form, "challenge").unwrap_or_default().to_string();
    let nonce = field(&form, "nonce").unwrap_or_default().to_string();
    let reject =
        |status: StatusCode, errors: Vec<(&'static str, String)>, place: Option<String>| {
            render_form(
                s,
                &ctx,
                FormView {
                    status,
                    form: &form,
                    errors,
                    place,
                },
            )
        };
    if honeypot_long {
        return reject(StatusCode::UNPROCESSABLE_ENTITY, errors, place).await;
    }
    let Some(place_ref) = place.clone().filter(|p| public_ref::well_formed(p)) else {
        errors.push(("place", s.t(&ctx, "portal_complaints.no_place")));
        return reject(StatusCode::UNPROCESSABLE_ENTITY, errors, place).await;
    };
    if !errors.is_empty() {
        return reject(StatusCode::UNPROCESSABLE_ENTITY, errors, place).await;
    }
    // The proof of work: signed, fresh, hard enough, solved, and not used.
    let now = Utc::now();
    let reference = s.store.reference.clone();
    let checked = {
        let (c, n) = (challenge.clone(), nonce.clone());
        s.db_tasks
            .run(move || pp::check_challenge(&reference, &c, &n, now))
            .await
    };
    let c = match checked {
        Ok(Ok(Ok(c))) => c,
        Ok(Ok(Err(refusal))) => {
            errors.push(("pow", pow_message(s, &ctx, refusal)));
            return reject(StatusCode::UNPROCESSABLE_ENTITY, errors, place).await;
        }
        Ok(Err(e)) => return s.error_page(&ctx, PageError::Store(e)),
        Err(e) => return s.error_page(&ctx, PageError::Internal(e.to_string())),
    };
    let ttl = pp::portal_params(now.date_naive())
        .map(|p| p.challenge_minutes)
        .unwrap_or(60);
    if !st
        .used
        .claim(&c.salt, c.issued + ttl * 60 + 60, now.timestamp())
    {
        errors.push(("pow", s.t(&ctx, "portal_complaints.pow_used")));
        return reject(StatusCode::CONFLICT, errors, place).await;
    }
    let (cat, text) = (
        category.unwrap_or_default().to_string(),
        body.unwrap_or_default().to_string(),
    );
    let filed = s
        .db(move |conn, r| {
            let Some((id, _)) = pp::facility_by_ref(conn, r, &place_ref)? else {
                return Ok(None);
            };
            pp::file(conn, r, &id, &cat, &text, contact.as_deref(), now).map(Some)
        })
        .await;
    match filed {
        Ok(Some(c)) => s.render(
            &ctx,
            "portal_complaint_done.html",
            "portal_complaints",
            json!({
                "code": c.row.tracking_code,
                "facility": c.row.facility_name,
                "ack_due": local(&c.row.ack_due),
                "answer_due": local(&c.row.answer_due),
            }),
        ),
        Ok(None) => {
            errors.push(("place", s.t(&ctx, "portal_complaints.no_place")));
            reject(StatusCode::UNPROCESSABLE_ENTITY, errors, place).await
        }
        Err(PageError::Store(StoreError::Invalid(v))) => {
            for FieldError { field: f, reason } in v {
                let k = match f.as_str() {
                    "category" => "category",
                    "body" => "body",
                    "contact_phone" => "contact",
                    _ => "place",
                };
                errors.push((k, reason));
            }
            reject(StatusCode::UNPROCESSABLE_ENTITY, errors, place).await
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

// ---------------------------------------------------------------- tracking

fn tracked_json(s: &ConsoleState, ctx: &Ctx, t: &pp::Tracked) -> Json {
    json!({
        "code": t.tracking_code,
        "facility": t.facility_name,
        "category": s.t(ctx, &format!("portal_complaints.cat_{}", t.category.code())),
        "status": t.status.code(),
        "status_label": s.t(ctx, &format!("portal_complaints.status_{}", t.status.code())),
        "filed_at": local(&t.filed_at),
        "acknowledged_at": t.acknowledged_at.as_deref().map(local),
        "answered_at": t.answered_at.as_deref().map(local),
        "closed_at": t.closed_at.as_deref().map(local),
        "answer_due": local(&t.answer_due),
        "late": t.late && matches!(t.status, Status::Received | Status::Acknowledged),
        "answered_by": t.answered_by_side.map(|x| s.t(ctx, &format!("portal_complaints.side_{}", x.code()))),
        "answer": t.answer,
        "family": t.source == laoxiao_store::complaints::Source::Family && t.answered_at.is_some(),
    })
}

fn render_track(
    s: &ConsoleState,
    ctx: &Ctx,
    status: StatusCode,
    error: Option<String>,
    found: Option<Json>,
) -> Response {
    s.render_status(
        ctx,
        status,
        "portal_complaint_track.html",
        "portal_complaints",
        json!({"error": error, "found": found}),
    )
}

/// `GET /portal/complaints/track`: the form (the code is posted, so it stays
/// out of addresses and logs).
async fn track_page(
    State(st): State<PcState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let s = &st.s;
    let ctx = ctx_or_error!(s, TRACK_PATH, headers, q);
    render_track(s, &ctx, StatusCode::OK, None, None)
}

/// `POST /portal/complaints/track`: `code`. An unknown code and a code of
/// the right shape that names nothing get the same answer.
async fn track(
    State(st): State<PcState>,
    headers: HeaderMap,
    ext: Extensions,
    Query(q): Query<Vec<(String, String)>>,
    Form(form): Form<FormData>,
) -> Response {
    let s = &st.s;
    let ctx = ctx_or_error!(s, TRACK_PATH, headers, q);
    if !admitted(&st, &ext) {
        return too_many(s, &ctx);
    }
    let raw = field(&form, "code").unwrap_or_default();
    if raw.chars().count() > MAX_CODE || pp::normalize_code(raw).is_none() {
        let e = s.t(&ctx, "portal_complaints.bad_code");
        return render_track(s, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(e), None);
    }
    let code = raw.to_string();
    match s.db(move |c, _| pp::track(c, &code, Utc::now())).await {
        Ok(Some(t)) => {
            let j = tracked_json(s, &ctx, &t);
            render_track(s, &ctx, StatusCode::OK, None, Some(j))
        }
        Ok(None) => {
            let e = s.t(&ctx, "portal_complaints.not_found");
            render_track(s, &ctx, StatusCode::NOT_FOUND, Some(e), None)
        }
        Err(e) => s.error_page(&ctx, e),
    }
}

// ---------------------------------------------------------------- inspections

/// `GET /portal/inspections?code={area}&period={label}`: the published
/// results and the draws of an area.
async fn inspections_page(
    State(st): State<PcState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let s = &st.s;
    let ctx = ctx_or_error!(s, INSPECTIONS_PATH, headers, q);
    let city = laoxiao_model::jiaxing::CITY_CODE.to_string();
    let code = ctx.param("code").unwrap_or(&city).to_string();
    let Some(area) = s.store.reference.areas.get(&code).cloned() else {
        let msg = s
            .cat
            .fill(ctx.lang, "error.unknown_area", &[("code", code)]);
        return s.error_page(&ctx, PageError::NotFound(msg));
    };
    let period = ctx.param("period").map(str::to_string);
    if period
        .as_deref()
        .is_some_and(|p| p.chars().count() > MAX_PERIOD || p.chars().any(char::is_control))
    {
        return s.error_page(
            &ctx,
            PageError::BadRequest(s.t(&ctx, "portal_inspections.bad_period")),
        );
    }
    let path = area.path.clone();
    let p2 = period.clone();
    let data = s
        .db(move |c, r| {
            Ok((
                pp::result_periods(c, &path)?,
                pp::inspection_results(c, r, &path, p2.as_deref())?,
                pp::draws(c, r, &path)?,
            ))
        })
        .await;
    let (periods, results, draws) = match data {
        Ok(x) => x,
        Err(e) => return s.error_page(&ctx, e),
    };
    let lbl = |k: &str| s.t(&ctx, k);
    let rows: Vec<Json> = results
        .iter()
        .map(|r| {
            json!({
                "facility": r.facility_name,
                "url": format!("/portal/places/{}", encode_segment(&r.facility_ref)),
                "facility_kind": s.label(&ctx, "facility_kind", &r.facility_kind),
                "area": super::area_name(s, &r.area_code),
                "period": r.period,
                "kind": lbl(&format!("portal_inspections.kind_{}", r.kind.code())),
                "inspected_on": r.inspected_on,
                "verdict": r.verdict.code(),
                "verdict_label": lbl(&format!("portal_inspections.verdict_{}", r.verdict.code())),
                "failed_items": r.failed_items,
                "rect_due": r.rectification_due,
                "rect_status": r.rectification_status.map(|x| lbl(&format!("portal_inspections.rect_{}", x.code()))),
                "published_at": local(&r.published_at),
            })
        })
        .collect();
    let draws: Vec<Json> = draws
        .iter()
        .map(|d| {
            json!({
                "title": d.plan_title,
                "area": super::area_name(s, &d.area_code),
                "period": d.period,
                "status": lbl(&format!("portal_inspections.draw_{}", d.status)),
                "digest": d.roster_digest,
                "commit": d.commit,
                "committed_at": local(&d.committed_at),
                "seed": d.seed,
                "drawn_at": d.drawn_at.as_deref().map(local),
                "facilities": d.facilities_in_roster,
                "unplanned": d.unplanned_in_roster,
                "inspectors": d.inspectors_in_pool,
                "k": d.facilities_to_draw,
                "m": d.inspectors_per_inspection,
                "targets": d.targets.iter().map(|t| json!({
                    "name": t.facility_name,
                    "url": format!("/portal/places/{}", encode_segment(&t.facility_ref)),
                    "unplanned": t.unplanned,
                })).collect::<Vec<_>>(),
                "superseded_reason": d.superseded_reason,
            })
        })
        .collect();
    let page = json!({
        "areas": super::portal::area_choices(s, &area.code),
        "chosen_area": {"code": area.code, "name": area.name},
        "periods": periods.iter().map(|p| json!({"value": p, "selected": period.as_deref() == Some(p.as_str())})).collect::<Vec<_>>(),
        "period": period,
        "rows": rows,
        "draws": draws,
    });
    let mut r = s.render(&ctx, "portal_inspections.html", "portal_inspections", page);
    if r.status().is_success() {
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        );
        r.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("Cookie"));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_claimed_once() {
        let u = UsedChallenges::default();
        assert!(u.claim("a", 100, 0));
        assert!(!u.claim("a", 100, 0), "a replay is refused");
        assert!(u.claim("b", 100, 0));
    }
}
