//! A home for every role (首页): where each account lands after logging in
//! and at `/`.
//!
//! - city and county administrators, analysts: the overview (概览), with the
//!   worklist panel for those who act on records;
//! - town and village staff, inspectors: `/console/home`, their worklist (待办)
//!   and a summary of their area in counts (not a scaled-down city map);
//!   inspectors also get the facilities of their area with ratings and filings;
//! - facility operators: `/console/my-facility` (我的机构): beds or slots,
//!   residents or children (counts), staff with certificates, what is due;
//! - auditors: the audit trail.
//!
//! Also the console's error pages for requests no handler answered: the 404
//! fallback, and the refusals the route policy makes before a handler runs
//! (403, 405), rendered in the console's layout by [`error_layer`].

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use laoxiao_model::FacilityKind;
use laoxiao_store::worklist::{self, WorkItem};
use laoxiao_store::{Conn, Perm, Role, Scope};
use serde_json::{Value as Json, json};

use super::i18n::Lang;
use super::{ConsoleState, Ctx, PageError, ctx_or_error, url_with};

/// Where a role lands (after logging in, and at `/`).
pub fn landing(role: Role) -> &'static str {
    match role {
        Role::CityAdmin | Role::CountyAdmin | Role::Analyst => "/",
        Role::TownStaff | Role::VillageStaff | Role::Inspector => "/console/home",
        Role::FacilityOperator => "/console/my-facility",
        Role::Auditor => "/console/audit",
        Role::Family => "/console/family",
    }
}

/// The other workflows' worklist lines (assessments due, visits overdue,
/// alarms open, orders and links waiting, admission offers, filings): each workflow
/// answers only what the scope may act on.
fn other_items(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
) -> laoxiao_store::Result<Vec<WorkItem>> {
    let mut out = laoxiao_store::assessments::work_items(conn, scope, today)?;
    out.extend(laoxiao_store::visits::work_items(conn, scope, today)?);
    out.extend(laoxiao_store::alarms::work_items(conn, scope, today)?);
    out.extend(laoxiao_store::family::work_items(conn, scope, today)?);
    out.extend(laoxiao_store::admission::work_items(conn, scope, today)?);
    out.extend(laoxiao_store::filing::work_items(conn, scope, today)?);
    out.extend(laoxiao_store::staff_checks::work_items(conn, scope, today)?);
    out.extend(laoxiao_store::childcare_applications::work_items(
        conn, scope, today,
    )?);
    Ok(out)
}

/// The caller's whole worklist, ordered.
pub(super) fn worklist_of(
    conn: &mut Conn,
    scope: &Scope,
    today: NaiveDate,
) -> laoxiao_store::Result<Vec<WorkItem>> {
    let extra = other_items(conn, scope, today)?;
    worklist::gather(conn, scope, today, extra)
}

/// The worklist lines for a template, in the page's language.
pub(super) fn lines(ctx: &Ctx, items: &[WorkItem]) -> Vec<Json> {
    items
        .iter()
        .map(|i| {
            json!({
                "key": i.key,
                "text": if ctx.lang == Lang::En { &i.en } else { &i.zh },
                "count": i.count,
                "url": i.url,
                "urgent": i.urgent,
            })
        })
        .collect()
}

fn redirect_keeping(to: &str, ctx: &Ctx) -> Response {
    let mut q = ctx.query.clone();
    if let Some(l) = ctx.set_lang {
        q.push(("lang".into(), l.tag().into()));
    }
    Redirect::to(&url_with(to, &q)).into_response()
}

/// `GET /`: the overview for the roles it is made for; everyone else is sent
/// to their own home (never a 403).
pub async fn root(
    state: State<ConsoleState>,
    headers: HeaderMap,
    q: Query<Vec<(String, String)>>,
) -> Response {
    let to = crate::auth::current()
        .principal
        .map(|p| landing(p.user.role))
        .unwrap_or("/");
    if to != "/" {
        // The query (area, language) goes along unread: the home checks it.
        return Redirect::to(&url_with(to, &q.0)).into_response();
    }
    super::overview::page_at("/", state, headers, q).await
}

/// `GET /console/home`: the worklist and the area's summary.
pub async fn home(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/home", headers, q);
    if ctx
        .auth
        .principal
        .as_ref()
        .is_some_and(|p| p.user.role == Role::FacilityOperator)
    {
        return redirect_keeping("/console/my-facility", &ctx);
    }
    match build_home(&s, &ctx).await {
        Ok(page) => s.render(&ctx, "home.html", "home", page),
        Err(e) => s.error_page(&ctx, e),
    }
}

async fn build_home(s: &ConsoleState, ctx: &Ctx) -> Result<Json, PageError> {
    let scope = ctx.scope();
    let path = ctx.area.path.clone();
    let today = chrono::Local::now().date_naive();
    let inspector = scope.role() == Some(Role::Inspector);
    let (items, summary, inspect) = s
        .db(move |c, _| {
            let items = worklist_of(c, &scope, today)?;
            let summary = worklist::area_summary(c, &scope, &path)?;
            let inspect = if inspector {
                Some(worklist::inspections(c, &scope, &path, today)?)
            } else {
                None
            };
            Ok((items, summary, inspect))
        })
        .await?;
    let inspect: Option<Vec<Json>> = inspect.map(|rows| {
        rows.into_iter()
            .map(|f| {
                json!({
                    "id": f.id,
                    "name": f.name,
                    "url": format!("/console/facilities/{}", crate::encode_segment(&f.id)),
                    "kind": s.label(ctx, "facility_kind", &f.kind),
                    "area": super::area_name(s, &f.area_code),
                    "rating": f.rating.as_deref().map(|r| s.label(ctx, "rating", r)),
                    "rating_valid_until": f.rating_valid_until,
                    "lapsed": f.lapsed,
                    "filing": s.label(ctx, "filing_status", &f.filing_status),
                    "filing_date": f.filing_date,
                })
            })
            .collect()
    });
    Ok(json!({
        "items": lines(ctx, &items),
        "summary": summary,
        "can_people": ctx.auth.can(Perm::ReadPeople),
        "can_facilities": ctx.auth.can(Perm::ReadFacilities),
        "inspect": inspect,
        "today": today.to_string(),
    }))
}

/// `GET /console/my-facility`: the operator's facility. Other roles are sent
/// to their own home.
pub async fn my_facility(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/my-facility", headers, q);
    let role = ctx.auth.principal.as_ref().map(|p| p.user.role);
    if let Some(r) = role.filter(|r| *r != Role::FacilityOperator) {
        return redirect_keeping(landing(r), &ctx);
    }
    let scope = ctx.scope();
    let today = chrono::Local::now().date_naive();
    let got = s
        .db(move |c, _| {
            let home = worklist::facility_home(c, &scope, today)?;
            let items = worklist_of(c, &scope, today)?;
            Ok((home, items))
        })
        .await;
    let (home, items) = match got {
        Ok((Some(h), items)) => (h, items),
        Ok((None, _)) => {
            let msg = s.t(&ctx, "home.no_facility");
            return s.error_page(&ctx, PageError::NotFound(msg));
        }
        Err(e) => return s.error_page(&ctx, e),
    };
    let f = &home.facility;
    let elderly = f.kind.is_elderly();
    let en = ctx.lang == Lang::En;
    let staff: Vec<Json> = home
        .staff
        .iter()
        .map(|x| {
            json!({
                "name": x.name_masked,
                "role": if en { x.role.label_en() } else { x.role.label_zh() },
                "certified": x.certified,
                "certificate": x.certificate,
                "grade": if en { x.skill_grade.label_en() } else { x.skill_grade.label_zh() },
            })
        })
        .collect();
    let mut due: Vec<Json> = Vec::new();
    let until = f
        .rating_valid_until
        .map(|d| d.to_string())
        .unwrap_or_default();
    if home.rating_lapsed {
        due.push(json!({"text": s.cat.fill(ctx.lang, "home.due_rating_lapsed", &[("date", until.clone())]), "urgent": true}));
    } else if home.rating_lapsing {
        due.push(json!({"text": s.cat.fill(ctx.lang, "home.due_rating_lapsing", &[("date", until)]), "urgent": false}));
    }
    let uncertified = home.staff_total - home.staff_certified;
    if uncertified > 0 {
        due.push(json!({"text": s.cat.fill(ctx.lang, "home.due_uncertified", &[("n", uncertified.to_string())]), "urgent": false}));
    }
    let childcare = f.kind == FacilityKind::ChildcareInstitution || f.approved_slots.is_some();
    let page = json!({
        "facility": {
            "id": f.id,
            "name": f.name,
            "url": format!("/console/facilities/{}", crate::encode_segment(&f.id)),
            "kind": s.label(&ctx, "facility_kind", f.kind.code()),
            "area": super::area_name(&s, &f.area_code),
            "rating": f.rating.map(|r| s.label(&ctx, "rating", r.code())),
            "rating_valid_until": f.rating_valid_until.map(|d| d.to_string()),
        },
        "elderly": elderly,
        "childcare": childcare,
        "capacity": if elderly { f.beds } else { f.approved_slots },
        "nursing_beds": f.nursing_beds,
        "used": if elderly { home.residents } else { home.children },
        "free": home.free,
        "staff": staff,
        "staff_total": home.staff_total,
        "staff_certified": home.staff_certified,
        "due": due,
        "items": lines(&ctx, &items),
        "today": today.to_string(),
    });
    s.render(&ctx, "my_facility.html", "my_facility", page)
}

/// `GET /console/worklist`: the caller's worklist; `?key=` the records behind
/// one of the worklist's own lines (names masked, each a link to act on).
pub async fn worklist_page(
    State(s): State<ConsoleState>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let ctx = ctx_or_error!(s, "/console/worklist", headers, q);
    let scope = ctx.scope();
    let today = chrono::Local::now().date_naive();
    let key = ctx.param("key").map(str::to_string);
    let got = s
        .db(move |c, _| {
            let items = worklist_of(c, &scope, today)?;
            let recs = match &key {
                Some(k) => Some(worklist::records(c, &scope, today, k)?),
                None => None,
            };
            Ok((items, recs))
        })
        .await;
    let (items, recs) = match got {
        Ok(x) => x,
        Err(e) => return s.error_page(&ctx, e),
    };
    let key = ctx.param("key").unwrap_or_default();
    let heading = worklist::SOURCES
        .iter()
        .find(|k| **k == key)
        .map(|k| s.t(&ctx, &format!("worklist.{k}")));
    let recs: Option<Vec<Json>> = recs.map(|v| {
        v.into_iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "label": r.label,
                    "url": r.url,
                    "area": super::area_name(&s, &r.area_code),
                })
            })
            .collect()
    });
    let page = json!({
        "items": lines(&ctx, &items),
        "key": key,
        "heading": heading,
        "records": recs,
        "max": worklist::MAX_RECORDS,
    });
    s.render(&ctx, "worklist.html", "home", page)
}

/// The console's 404 page for paths no route matches.
pub async fn not_found(State(s): State<ConsoleState>, req: Request) -> Response {
    let ctx = error_ctx(&s, &req);
    let msg = s.t(&ctx, "error.no_page");
    s.error_page(&ctx, PageError::NotFound(msg))
}

/// A context for an error page: the caller's language, the home area (the
/// query is not read: it may be what failed).
fn error_ctx(s: &ConsoleState, req: &Request) -> Ctx {
    let path = req.uri().path().to_string();
    match s.ctx(&path, req.headers(), Vec::new()) {
        Ok(c) => c,
        Err(b) => b.0,
    }
}

/// What the route policy refused before any handler ran, for [`error_layer`]
/// to render in the console's layout.
#[derive(Debug, Clone)]
pub struct Refused {
    pub status: StatusCode,
    pub auth: crate::auth::Auth,
}

/// Renders the policy's refusals of console pages (403, 405; marked with
/// [`Refused`] by the auth middleware) as console error pages, with the
/// navigation of the caller. The JSON API keeps its JSON errors.
pub async fn error_layer(State(s): State<ConsoleState>, req: Request, next: Next) -> Response {
    let headers = req.headers().clone();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    let Some(refused) = res.extensions().get::<Refused>().cloned() else {
        return res;
    };
    if path.starts_with("/api") {
        return res;
    }
    crate::auth::with_caller(refused.auth, async move {
        let ctx = match s.ctx(&path, &headers, Vec::new()) {
            Ok(c) => c,
            Err(b) => b.0,
        };
        let e = if refused.status == StatusCode::METHOD_NOT_ALLOWED {
            PageError::MethodNotAllowed(s.t(&ctx, "error.method_detail"))
        } else {
            PageError::Forbidden(s.t(&ctx, "error.forbidden_detail"))
        };
        s.error_page(&ctx, e)
    })
    .await
}
