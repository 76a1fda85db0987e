//! The web console (控制台): server-rendered pages from the same binary.
//!
//! Templates (minijinja, no loader: every template is compiled in with `include_str!`),
//! the message catalogues and the static files (CSS, JS, vendored ECharts and htmx) are
//! embedded, so the console needs no front-end build and no network: maps are ECharts
//! GeoJSON maps over the embedded Jiaxing boundaries.
//!
//! Every page is for an area (`?area=330402`, default the city); the language is
//! Chinese unless `?lang=en` (remembered in the `lang` cookie). htmx requests
//! (`HX-Request: true`) to a list get only the list's fragment.
//!
//! Personal data: ID numbers are always masked; nothing here logs names, ID numbers
//! or addresses.

mod admission;
mod alarms;
mod assessment_import;
mod assessments;
mod assets;
mod childcare_bills;
mod childcare_day;
mod childcare_figures;
mod complaints;
mod enrolment;
mod facilities;
mod family;
mod filing;
mod homes;
pub mod i18n;
mod import;
mod indicators;
mod inspections;
mod key_projects;
mod notifications;
mod overview;
mod people;
mod plan;
mod planmap;
mod planning;
mod portal;
mod portal_complaints;
mod portal_entitlements;
mod portal_places;
mod portal_projects;
pub mod registers;
pub mod session;
mod subsidies;
mod templates;
mod transfers;
mod visits;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use laoxiao_model::{Area, AreaLevel};
use laoxiao_rules::plan::Plan;
use laoxiao_store::{Conn, Reference, Store, StoreError};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};

use i18n::{Catalogues, Lang};

/// Largest import upload accepted by the console, in bytes.
pub const MAX_UPLOAD_BYTES: usize = 64 * 1024 * 1024;
/// What a multipart form adds around an uploaded document (boundaries, the
/// CSRF token and the type field).
pub const UPLOAD_FORM_OVERHEAD: usize = 64 * 1024;

/// Shared by every console handler.
pub struct Console {
    store: Store,
    env: minijinja::Environment<'static>,
    cat: Arc<Catalogues>,
    plan: Plan,
    /// 2020 census resident population by area code, where known.
    census: HashMap<String, i64>,
    /// Uploads waiting for the user to confirm the import, by token.
    uploads: Mutex<HashMap<String, import::Upload>>,
    /// Web settings (demo accounts for the login page, cookie flags).
    web: crate::WebConfig,
    db_tasks: crate::DbTasks,
    /// The portal's in-memory copy of the public places.
    places: portal_places::PlaceIndex,
}

/// The console's state: cheap to clone.
#[derive(Clone)]
pub struct ConsoleState(Arc<Console>);

impl std::ops::Deref for ConsoleState {
    type Target = Console;
    fn deref(&self) -> &Console {
        &self.0
    }
}

const CENSUS_CSV: &str = include_str!("../../../../data/jiaxing/population_2020_census.csv");

/// Resident population of the 7th census (2020) by area code, where the file has it.
fn census() -> HashMap<String, i64> {
    let mut out = HashMap::new();
    for line in CENSUS_CSV.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if let (Some(code), Some(total)) = (f.first(), f.get(2))
            && let Ok(n) = total.parse::<i64>()
        {
            out.insert((*code).to_string(), n);
        }
    }
    out
}

impl ConsoleState {
    /// Builds the console over a store. The embedded templates, catalogues and plan
    /// are checked by unit tests; a failure here is a build defect.
    pub fn new(store: Store) -> ConsoleState {
        let tasks = crate::DbTasks::new(store.pool.max_size() as usize);
        ConsoleState::with_config(store, crate::WebConfig::default(), tasks)
    }

    /// Builds the console with the web settings.
    pub fn with_config(
        store: Store,
        web: crate::WebConfig,
        db_tasks: crate::DbTasks,
    ) -> ConsoleState {
        let cat = Arc::new(Catalogues::embedded().expect("embedded message catalogues parse"));
        let env = templates::environment(cat.clone()).expect("embedded templates compile");
        let plan = Plan::embedded().expect("embedded plan tables parse");
        ConsoleState(Arc::new(Console {
            store,
            env,
            cat,
            plan,
            census: census(),
            uploads: Mutex::new(HashMap::new()),
            places: portal_places::PlaceIndex::new(web.portal_places_refresh_seconds),
            web,
            db_tasks,
        }))
    }
}

/// The console's routes: `/` (overview) and everything under `/console/`.
pub fn routes(state: &crate::AppState) -> Router {
    routes_for(ConsoleState::with_config(
        state.store.clone(),
        state.config.clone(),
        state.db_tasks.clone(),
    ))
}

/// The routes over an already built console state.
pub fn routes_for(state: ConsoleState) -> Router {
    let router = Router::new()
        .route("/", get(homes::root))
        .route("/console/overview", get(overview::page))
        .route("/console/home", get(homes::home))
        .route("/console/my-facility", get(homes::my_facility))
        .route("/console/worklist", get(homes::worklist_page))
        .route("/console", get(|| async { Redirect::to("/") }))
        .route("/console/", get(|| async { Redirect::to("/") }))
        .route(
            "/console/facilities",
            get(facilities::list).post(facilities::create),
        )
        .route("/console/facilities/new", get(facilities::new_form))
        .route(
            "/console/facilities/{id}",
            get(facilities::detail).post(facilities::update),
        )
        .route("/console/facilities/{id}/edit", get(facilities::edit_form))
        .route("/console/elderly", get(people::elderly))
        .route("/console/infants", get(people::infants))
        .route("/console/people/{id}", get(people::detail))
        .route("/console/plan", get(plan::page))
        .route("/console/planning", get(planning::gap))
        .route("/console/planning/access", get(planning::access))
        .route(
            "/console/planning/siting",
            get(planning::siting_form).post(planning::siting_run),
        )
        .route(
            "/console/planning/siting/save",
            axum::routing::post(planning::siting_save),
        )
        .route("/console/indicators", get(indicators::dashboard))
        .route("/console/indicators/export", get(indicators::export))
        .route(
            "/console/indicators/{number}",
            get(indicators::detail).post(indicators::report),
        )
        .route(
            "/console/subsidies",
            get(subsidies::list).post(subsidies::prepare),
        )
        .route(
            "/console/subsidies/whatif",
            get(subsidies::whatif_form).post(subsidies::whatif),
        )
        .route(
            "/console/subsidies/runs/{id}",
            get(subsidies::run).post(subsidies::act),
        )
        .route(
            "/console/subsidies/runs/{id}/export",
            get(subsidies::export),
        )
        .route(
            "/console/subsidies/runs/{id}/lines/{line}",
            get(subsidies::line),
        )
        .route(
            "/console/family",
            get(family::home).post(family::request_link),
        )
        .route(
            "/console/family/relatives/{id}",
            get(family::relative).post(family::place),
        )
        .route(
            "/console/family/relatives/{id}/admission",
            axum::routing::post(family::admission_apply),
        )
        .route(
            "/console/family/admission/{id}",
            axum::routing::post(family::admission_step),
        )
        .route(
            "/console/family/my-orders/{id}",
            axum::routing::post(family::family_step),
        )
        .route(
            "/console/family/children/{id}",
            axum::routing::post(enrolment::family_apply),
        )
        .route(
            "/console/family/childcare-applications/{id}",
            axum::routing::post(enrolment::family_step),
        )
        .route(
            "/console/childcare/applications",
            get(enrolment::index).post(enrolment::apply),
        )
        .route(
            "/console/childcare/day",
            get(childcare_day::index).post(childcare_day::act),
        )
        .route(
            "/console/childcare/bills",
            get(childcare_bills::index).post(childcare_bills::act),
        )
        .route(
            "/console/childcare/bills/{id}",
            get(childcare_bills::show).post(childcare_bills::pay),
        )
        .route(
            "/console/family/children/{id}/bills",
            get(childcare_bills::family),
        )
        .route(
            "/console/inspections",
            get(inspections::index).post(inspections::create),
        )
        .route(
            "/console/inspections/plans/{id}",
            get(inspections::plan).post(inspections::plan_act),
        )
        .route(
            "/console/inspections/{id}",
            get(inspections::show).post(inspections::act),
        )
        .route("/console/key-projects", get(key_projects::index))
        .route(
            "/console/key-projects/{number}",
            get(key_projects::show).post(key_projects::act),
        )
        .route("/console/complaints", get(complaints::index))
        .route(
            "/console/complaints/{id}",
            get(complaints::show).post(complaints::act),
        )
        .route(
            "/console/family/complaints",
            get(complaints::family_index).post(complaints::family_file),
        )
        .route(
            "/console/family/complaints/{id}",
            get(complaints::family_show).post(complaints::family_close),
        )
        .route("/console/childcare/figures", get(childcare_figures::index))
        .route(
            "/console/family/notifications",
            get(notifications::family_inbox).post(notifications::family_inbox_read),
        )
        .route(
            "/console/family/children/{id}/messages",
            get(notifications::family_thread).post(notifications::family_post),
        )
        .route(
            "/console/childcare/messages",
            get(notifications::threads).post(notifications::send_notice),
        )
        .route(
            "/console/childcare/messages/{id}",
            get(notifications::thread).post(notifications::reply),
        )
        .route("/console/notifications", get(notifications::health))
        .route(
            "/console/family/children/{id}/day",
            get(childcare_day::family_day).post(childcare_day::family_act),
        )
        .route(
            "/console/childcare/applications/{id}",
            get(enrolment::application).post(enrolment::act),
        )
        .route("/console/family/links", get(family::links))
        .route(
            "/console/family/links/{id}",
            axum::routing::post(family::decide_link),
        )
        .route("/console/family/orders", get(family::orders))
        .route(
            "/console/family/orders/{id}",
            axum::routing::post(family::provider_step),
        )
        .route("/console/family/settlement", get(family::settlement))
        .route(
            "/console/assessments",
            get(assessments::list).post(assessments::create),
        )
        .route("/console/assessments/new", get(assessments::new_form))
        .route(
            "/console/assessments/import",
            get(assessment_import::page).post(assessment_import::upload),
        )
        .route(
            "/console/assessments/import/confirm",
            axum::routing::post(assessment_import::confirm),
        )
        .route(
            "/console/assessments/import/template.csv",
            get(assessment_import::template),
        )
        .route(
            "/console/assessments/due",
            get(assessments::due).post(assessments::flag),
        )
        .route(
            "/console/assessments/{id}",
            get(assessments::detail).post(assessments::act),
        )
        .route(
            "/console/assessments/{id}/edit",
            get(assessments::edit_form).post(assessments::edit),
        )
        .route("/console/assessments/{id}/report", get(assessments::report))
        .route("/console/alarms", get(alarms::page))
        .route("/console/alarms/figures", get(alarms::figures))
        .route(
            "/console/alarms/{id}",
            get(alarms::detail).post(alarms::act),
        )
        .route(
            "/console/admission",
            get(admission::index).post(admission::apply),
        )
        .route(
            "/console/admission/homes/{id}",
            get(admission::home).post(admission::home_act),
        )
        .route(
            "/console/admission/applications/{id}",
            get(admission::application).post(admission::application_act),
        )
        .route(
            "/console/transfers",
            get(transfers::page).post(transfers::create),
        )
        .route(
            "/console/childcare/filings",
            get(filing::index).post(filing::create),
        )
        .route(
            "/console/childcare/filings/{id}",
            get(filing::detail).post(filing::act),
        )
        .route(
            "/console/childcare/filings/{id}/documents",
            axum::routing::post(filing::upload).layer(DefaultBodyLimit::max(
                usize::try_from(state.web.upload_max_bytes)
                    .unwrap_or(usize::MAX)
                    .saturating_add(UPLOAD_FORM_OVERHEAD),
            )),
        )
        .route(
            "/console/childcare/filings/{id}/documents/{doc}",
            get(filing::download),
        )
        .route(
            "/console/transfers/{id}",
            axum::routing::post(transfers::decide),
        )
        .route(
            "/console/visits",
            get(visits::rounds).post(visits::generate),
        )
        .route("/console/visits/mine", get(visits::mine))
        .route("/console/visits/overdue", get(visits::overdue))
        .route(
            "/console/visits/tasks/{id}",
            get(visits::task_form).post(visits::record),
        )
        .route("/console/visits/followups", get(visits::followups))
        .route(
            "/console/visits/followups/{id}",
            axum::routing::post(visits::close),
        )
        .route("/console/visits/completion", get(visits::completion))
        .route(
            "/console/visits/contracts/{id}",
            get(visits::contract).post(visits::record_service),
        )
        .route(
            "/console/import",
            get(import::page)
                .post(import::upload)
                .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
        )
        .route(
            "/console/import/confirm",
            axum::routing::post(import::confirm),
        )
        .route("/console/import/templates/{file}", get(import::template))
        .route("/console/static/{*path}", get(assets::serve))
        .route("/console/login", get(session::page).post(session::login))
        .route("/console/logout", axum::routing::post(session::logout))
        .route("/console/audit", get(session::audit_page))
        .route(
            "/console/password",
            get(session::password_page).post(session::change_password),
        );
    // The declared registers' pages, from their declarations.
    let portal = portal::routes(state.clone());
    registers::mount(router)
        // Paths no route matches: the 404 page in the console's layout.
        .fallback(homes::not_found)
        .with_state(state)
        // The public portal: its own pages, limited per address.
        .merge(portal)
}

/// The policy's refusals of console pages rendered as console error pages
/// (see `homes::error_layer`).
pub use homes::{Refused, error_layer, landing};

/// What every page knows about its request: language, area, query.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub lang: Lang,
    /// Language explicitly asked for in `?lang=` (to be remembered in the cookie).
    pub set_lang: Option<Lang>,
    pub area: Area,
    pub path: String,
    /// Query pairs other than `lang`.
    pub query: Vec<(String, String)>,
    /// An htmx request (answer with a fragment).
    pub htmx: bool,
    /// The caller.
    pub auth: crate::auth::Auth,
}

impl Ctx {
    /// The caller's store scope (anonymous: one that sees nothing).
    pub fn scope(&self) -> laoxiao_store::Scope {
        self.auth.page_scope()
    }

    /// The value of a query parameter (the last one wins), trimmed, empty as absent.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Query pairs to carry along, minus the named ones.
    pub fn keep(&self, drop: &[&str]) -> Vec<(String, String)> {
        self.query
            .iter()
            .filter(|(k, v)| !drop.contains(&k.as_str()) && !v.trim().is_empty())
            .cloned()
            .collect()
    }
}

/// Percent-encodes a query component.
pub fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&…` from pairs.
pub fn url_with(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let q: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().strip_prefix("lang="))
        .find_map(Lang::parse)
}

/// A page failure, shown as an error page.
#[derive(Debug)]
pub enum PageError {
    NotFound(String),
    Forbidden(String),
    MethodNotAllowed(String),
    BadRequest(String),
    Store(StoreError),
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { what, id } => PageError::NotFound(format!("{what} {id}")),
            StoreError::Forbidden(m) => PageError::Forbidden(m),
            other => PageError::Store(other),
        }
    }
}

impl ConsoleState {
    /// Reads language, area and query of a request.
    pub fn ctx(
        &self,
        path: &str,
        headers: &HeaderMap,
        query: Vec<(String, String)>,
    ) -> Result<Ctx, Box<(Ctx, PageError)>> {
        let set_lang = query
            .iter()
            .rev()
            .find(|(k, _)| k == "lang")
            .and_then(|(_, v)| Lang::parse(v));
        let lang = set_lang
            .or_else(|| cookie_lang(headers))
            .unwrap_or(Lang::Zh);
        let htmx = headers
            .get("hx-request")
            .is_some_and(|v| v.as_bytes() == b"true");
        let query: Vec<(String, String)> = query.into_iter().filter(|(k, _)| k != "lang").collect();
        let areas = &self.store.reference.areas;
        let auth = crate::auth::current();
        // Pages open on the caller's home area; nothing above it is reachable.
        let home = auth
            .principal
            .as_ref()
            .and_then(|p| areas.get(&p.user.area_code))
            .or_else(|| areas.root())
            .cloned();
        let city = home.ok_or_else(|| {
            let e = PageError::Internal("no city in the area tree".into());
            Box::new((self.fallback_ctx(lang, path), e))
        })?;
        let scope = auth.page_scope();
        let mut ctx = Ctx {
            lang,
            set_lang,
            area: city,
            path: path.to_string(),
            query,
            htmx,
            auth,
        };
        if let Some(code) = ctx.param("area").map(str::to_string) {
            match areas.get(&code).filter(|a| scope.contains_path(&a.path)) {
                Some(a) => ctx.area = a.clone(),
                None => {
                    let msg = self.cat.fill(lang, "error.unknown_area", &[("code", code)]);
                    return Err(Box::new((ctx, PageError::NotFound(msg))));
                }
            }
        }
        Ok(ctx)
    }

    fn fallback_ctx(&self, lang: Lang, path: &str) -> Ctx {
        Ctx {
            lang,
            set_lang: None,
            area: Area {
                code: laoxiao_model::jiaxing::CITY_CODE.into(),
                name: String::new(),
                level: AreaLevel::City,
                parent_code: None,
                path: format!("/{}/", laoxiao_model::jiaxing::CITY_CODE),
                urban_rural_code: None,
                centre: None,
            },
            path: path.to_string(),
            query: Vec::new(),
            htmx: false,
            auth: crate::auth::current(),
        }
    }

    /// The message for `key` in the request's language.
    pub fn t(&self, ctx: &Ctx, key: &str) -> String {
        self.cat.get(ctx.lang, key).to_string()
    }

    /// An enumerated value's label.
    pub fn label(&self, ctx: &Ctx, kind: &str, code: &str) -> String {
        self.cat.label(ctx.lang, kind, code)
    }

    /// `(code, label)` options of an enumeration, for selects.
    pub fn options<T: Copy>(
        &self,
        ctx: &Ctx,
        kind: &str,
        all: &[T],
        code: impl Fn(T) -> &'static str,
    ) -> Vec<Json> {
        all.iter()
            .map(|x| json!({"value": code(*x), "label": self.label(ctx, kind, code(*x))}))
            .collect()
    }

    /// The context every page template gets: language, navigation, area picker.
    fn base(&self, ctx: &Ctx, nav: &str) -> Map<String, Json> {
        let areas = &self.store.reference.areas;
        let scope = ctx.scope();
        let crumbs: Vec<Json> = areas
            .ancestors(&ctx.area.code)
            .iter()
            .filter(|a| ctx.auth.principal.is_none() || scope.contains_path(&a.path))
            .map(|a| {
                let mut keep = ctx.keep(&["area", "after"]);
                keep.push(("area".into(), a.code.clone()));
                json!({"code": a.code, "name": a.name, "url": url_with(&ctx.path, &keep)})
            })
            .collect();
        let children: Vec<Json> = areas
            .children(&ctx.area.code)
            .iter()
            .map(|a| json!({"code": a.code, "name": a.name}))
            .collect();
        let lang_url = |l: Lang| {
            let mut q = ctx.query.clone();
            q.push(("lang".into(), l.tag().into()));
            url_with(&ctx.path, &q)
        };
        let area_q = if ctx.area.level == AreaLevel::City {
            String::new()
        } else {
            format!("?area={}", enc(&ctx.area.code))
        };
        let mut m = Map::new();
        m.insert("lang".into(), json!(ctx.lang.tag()));
        m.insert(
            "other_lang".into(),
            json!(match ctx.lang {
                Lang::Zh => json!({"tag": "en", "url": lang_url(Lang::En), "name": "English"}),
                Lang::En => json!({"tag": "zh-CN", "url": lang_url(Lang::Zh), "name": "中文"}),
            }),
        );
        m.insert("nav".into(), json!(nav));
        m.insert("path".into(), json!(ctx.path));
        m.insert("area_q".into(), json!(area_q));
        m.insert(
            "area".into(),
            json!({
                "code": ctx.area.code,
                "name": ctx.area.name,
                "level": ctx.area.level.code(),
                "level_label": self.label(ctx, "area_level", ctx.area.level.code()),
            }),
        );
        m.insert("crumbs".into(), json!(crumbs));
        m.insert("children".into(), json!(children));
        m.insert(
            "child_level_label".into(),
            json!(match ctx.area.level {
                AreaLevel::City => self.label(ctx, "area_level", "county"),
                AreaLevel::County => self.label(ctx, "area_level", "town"),
                _ => self.label(ctx, "area_level", "village"),
            }),
        );
        let keep: Vec<Json> = ctx
            .keep(&["area", "after"])
            .into_iter()
            .map(|(k, v)| json!({"name": k, "value": v}))
            .collect();
        m.insert("keep".into(), json!(keep));
        let a = &ctx.auth;
        if let Some(p) = &a.principal {
            m.insert(
                "user".into(),
                json!({
                    "name": p.user.username,
                    "role_label": self.label(ctx, "account_role", p.user.role.code()),
                }),
            );
        }
        m.insert("csrf".into(), json!(a.csrf.clone().unwrap_or_default()));
        m.insert("registers".into(), json!(registers::nav(ctx)));
        use laoxiao_store::Perm;
        m.insert(
            "can".into(),
            json!({
                "overview": a.can(Perm::Aggregates),
                "home": a.principal.as_ref().map(|p| homes::landing(p.user.role)).filter(|l| *l != "/" && *l != "/console/audit"),
                "report_indicators": a.can(Perm::ReportIndicators),
                "facilities": a.can(Perm::ReadFacilities),
                "people": a.can(Perm::ReadPeople),
                "transfers": a.can(Perm::WritePeople),
                "assessments": a.can(Perm::ReadPeople),
                // 探访关爱: area staff land on the rounds, a provider's
                // operator on home-care bed completion.
                "visits": if a.can(Perm::ReadPeople) {
                    json!("/console/visits")
                } else if a.can(Perm::WriteFacilities) && !a.can(Perm::Aggregates) {
                    json!("/console/visits/completion")
                } else {
                    json!(false)
                },
                "admission": a.can(Perm::ManageAdmissions),
                "import": a.can(Perm::Import),
                "audit": a.can(Perm::ReadAudit),
                "subsidies": a.can(Perm::ReadSubsidies),
                "family": a.can(Perm::OrderServices),
                "family_staff": family::staff_landing(|p| a.can(p)),
                "alarms": a.can(Perm::ReadAlarms),
                "filings": a.can(Perm::ReadFilings),
                "enrolments": a.can(Perm::ManageEnrolments),
                "childcare_day": a.can(Perm::ReadChildcareDay),
                "childcare_bills": a.can(Perm::ReadChildcareBills),
                "childcare_figures": a.can(Perm::ReadChildcareDay),
                // 家园沟通: the institution's own staff only (an operator with a facility).
                "childcare_messages": a.can(Perm::RecordChildcareDay)
                    && a.principal.as_ref().is_some_and(|p| p.user.role == laoxiao_store::Role::FacilityOperator),
                "notifications": a.can(Perm::ManageUsers),
                "complaints": a.can(Perm::HandleComplaints),
                "inspections": a.can(Perm::ReadInspections),
                "key_projects": a.can(Perm::ManageKeyProjects),
            }),
        );
        m
    }

    /// Renders a template with the base context plus `page`.
    pub fn render(&self, ctx: &Ctx, template: &str, nav: &str, page: Json) -> Response {
        self.render_status(ctx, StatusCode::OK, template, nav, page)
    }

    pub fn render_status(
        &self,
        ctx: &Ctx,
        status: StatusCode,
        template: &str,
        nav: &str,
        page: Json,
    ) -> Response {
        let mut m = self.base(ctx, nav);
        if let Json::Object(p) = page {
            m.extend(p);
        }
        let html = self
            .env
            .get_template(template)
            .and_then(|t| t.render(minijinja::Value::from_serialize(&m)));
        match html {
            Ok(html) => self.respond(ctx, status, html),
            Err(e) => {
                tracing::error!(template, error = %e, "console template failed");
                let msg = self.t(ctx, "error.internal");
                (StatusCode::INTERNAL_SERVER_ERROR, Html(msg)).into_response()
            }
        }
    }

    fn respond(&self, ctx: &Ctx, status: StatusCode, html: String) -> Response {
        let mut r = (status, Html(html)).into_response();
        let h = r.headers_mut();
        h.insert(header::VARY, HeaderValue::from_static("HX-Request, Cookie"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(l) = ctx.set_lang
            && let Ok(v) = HeaderValue::from_str(&format!(
                "lang={}; Path=/; Max-Age=31536000; SameSite=Lax",
                l.tag()
            ))
        {
            h.insert(header::SET_COOKIE, v);
        }
        r
    }

    /// The error page.
    pub fn error_page(&self, ctx: &Ctx, e: PageError) -> Response {
        let (status, title, detail) = match e {
            PageError::NotFound(d) => (StatusCode::NOT_FOUND, "error.not_found", d),
            PageError::BadRequest(d) => (StatusCode::BAD_REQUEST, "error.bad_request", d),
            PageError::Forbidden(d) => (StatusCode::FORBIDDEN, "error.forbidden", d),
            PageError::MethodNotAllowed(d) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "error.method_not_allowed",
                d,
            ),
            PageError::Store(e) => {
                let status = StatusCode::from_u16(e.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                if status.is_server_error() {
                    crate::error::log_server_error(e.code(), &e, "console store error");
                } else {
                    tracing::error!(code = e.code(), "console store error");
                }
                let detail = if status.is_server_error() {
                    String::new()
                } else {
                    e.to_string()
                };
                (status, "error.internal", detail)
            }
            PageError::Internal(d) => {
                tracing::error!(detail = %d, "console internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error.internal",
                    String::new(),
                )
            }
        };
        // The message in the page's language, then in the other one.
        let other = match ctx.lang {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        };
        let page = json!({
            "title_key": title,
            "detail": detail,
            "status": status.as_u16(),
            "other": {
                "tag": other.tag(),
                "title": self.cat.get(other, title),
                "back": self.cat.get(other, "error.back_home"),
            },
        });
        self.render_status(ctx, status, "error.html", "", page)
    }

    /// Runs `f` with a pooled connection on tokio's blocking pool.
    pub async fn db<T, F>(&self, f: F) -> Result<T, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn, &Reference) -> Result<T, StoreError> + Send + 'static,
    {
        let store = self.store.clone();
        self.db_tasks
            .run(move || {
                let mut conn = store.conn()?;
                f(&mut conn, &store.reference)
            })
            .await
            .map_err(|e| PageError::Internal(format!("blocking task failed: {e}")))?
            .map_err(PageError::from)
    }
}

/// Number formatting shared by pages: thousands separators.
pub fn group_digits(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Serialisable `(value, label)` pair.
#[derive(Debug, Clone, Serialize)]
pub struct Opt {
    pub value: String,
    pub label: String,
}

/// Handler prologue: the request's context, or the error page for a bad one.
macro_rules! ctx_or_error {
    ($s:expr, $path:expr, $headers:expr, $query:expr) => {
        match $s.ctx($path, &$headers, $query) {
            Ok(c) => c,
            Err(b) => {
                let (c, e) = *b;
                return $s.error_page(&c, e);
            }
        }
    };
}
pub(crate) use ctx_or_error;

/// The names of an area's ancestors below the city, `/`-joined
/// (`南湖区 / 建设街道`).
pub(crate) fn area_name(s: &ConsoleState, code: &str) -> String {
    s.store
        .reference
        .areas
        .ancestors(code)
        .iter()
        .skip(1)
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::body::Body;
    use axum::http::Request;
    use chrono::NaiveDate;
    use laoxiao_model::person::{AbilityLevel, Sex};
    use laoxiao_model::{FacilityKind, FacilityStatus, Person, PersonRole};
    use tower::ServiceExt;

    fn person(id: &str, role: PersonRole, area: &str, birth: NaiveDate) -> Person {
        let mut p = Person::blank(id, role, area, birth, Sex::Male);
        p.id_number = laoxiao_model::idcard::make("330402", birth, 11);
        p.name = "张三".into();
        p.ability_level = (role == PersonRole::Elderly).then_some(AbilityLevel::Mild);
        p
    }

    /// A city administrator's session cookie.
    fn session(store: &Store) -> String {
        let mut c = store.conn().expect("conn");
        laoxiao_store::accounts::create_user(
            &mut c,
            &store.reference,
            &laoxiao_store::Scope::system("test"),
            "admin",
            laoxiao_store::Role::CityAdmin,
            "330400",
            None,
            "pw-admin-123",
        )
        .expect("user");
        let (secret, _) =
            laoxiao_store::accounts::create_session(&mut c, "admin", None).expect("session");
        format!("{}={secret}", crate::auth::SESSION_COOKIE)
    }

    async fn get(app: &Router, uri: &str, htmx: bool) -> (StatusCode, String) {
        let mut req = Request::builder().uri(uri);
        if let Some(c) = COOKIE.with(|c| c.borrow().clone()) {
            req = req.header(header::COOKIE, c);
        }
        if htmx {
            req = req.header("HX-Request", "true");
        }
        let res = app
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    thread_local! {
        static COOKIE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    }

    /// Setup and teardown are synchronous (the PostgreSQL client blocks), so the
    /// runtime only drives the requests.
    #[test]
    fn every_page_renders_in_both_languages() {
        for db in laoxiao_store::testdb::TestDb::all().expect("test databases") {
            let store = db.store.clone();
            let r = store.reference.clone();
            let town = r
                .areas
                .children("330402")
                .first()
                .map(|a| a.code.clone())
                .expect("town");
            let mut c = store.conn().expect("conn");
            let mut f = facilities::tests_support::empty(&town);
            f.id = "F-1".into();
            f.name = "南湖颐养院".into();
            f.kind = FacilityKind::ElderlyInstitution;
            f.beds = Some(120);
            f.nursing_beds = Some(80);
            f.status = FacilityStatus::Operating;
            f.lng = Some(120.76);
            f.lat = Some(30.75);
            laoxiao_store::facilities::create(
                &mut c,
                &r,
                &laoxiao_store::Scope::system("test"),
                &f,
            )
            .expect("facility");
            let today = chrono::Local::now().date_naive();
            let old = NaiveDate::from_ymd_opt(1940, 3, 5).expect("date");
            let baby = today - chrono::Duration::days(400);
            laoxiao_store::people::create(
                &mut c,
                &r,
                &laoxiao_store::Scope::system("test"),
                &person("P-1", PersonRole::Elderly, &town, old),
            )
            .expect("elderly");
            let mut inf = person("P-2", PersonRole::Infant, &town, baby);
            inf.ability_level = None;
            inf.id_number = laoxiao_model::idcard::make("330402", baby, 11);
            laoxiao_store::people::create(&mut c, &r, &laoxiao_store::Scope::system("test"), &inf)
                .expect("infant");
            drop(c);
            let cookie = session(&store);
            let app = crate::router(crate::AppState::new(store, crate::WebConfig::default()));
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                // Anonymous: every page but the login page sends to the login page.
                let (status, _) = get(&app, "/console/elderly", false).await;
                assert_eq!(status, StatusCode::SEE_OTHER);
                let (status, body) = get(&app, "/console/login", false).await;
                assert_eq!(status, StatusCode::OK);
                assert!(body.contains("login-form"));
                COOKIE.with(|c| *c.borrow_mut() = Some(cookie.clone()));
                let pages = [
                    "/".to_string(),
                    "/?area=330402".into(),
                    format!("/?area={town}"),
                    "/console/facilities".into(),
                    "/console/facilities?kind=elderly_institution&sort=beds&dir=desc".into(),
                    "/console/facilities/F-1".into(),
                    "/console/facilities/F-1/edit".into(),
                    "/console/facilities/new".into(),
                    "/console/elderly?age=80_89".into(),
                    "/console/infants".into(),
                    "/console/people/P-1".into(),
                    "/console/people/P-2".into(),
                    "/console/plan".into(),
                    "/console/planning".into(),
                    format!("/console/planning?area={town}&cell=100&rule=home_care_walk"),
                    "/console/planning/access".into(),
                    "/console/planning/siting".into(),
                    "/console/planning/access?side=slots&decay=gaussian:500&area=330402".into(),
                    "/console/import".into(),
                    "/console/transfers".into(),
                    "/console/overview".into(),
                    "/console/home".into(),
                    "/console/worklist".into(),
                    "/console/worklist?key=facilities_no_coords".into(),
                ];
                for lang in ["zh-CN", "en"] {
                    for p in &pages {
                        let sep = if p.contains('?') { '&' } else { '?' };
                        let uri = format!("{p}{sep}lang={lang}");
                        let (status, body) = get(&app, &uri, false).await;
                        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
                        assert!(body.contains(&format!("<html lang=\"{lang}\">")), "{uri}");
                    }
                }
                let (_, body) = get(&app, "/console/elderly", false).await;
                assert!(body.contains("330402********"), "ID numbers are masked");
                assert!(!body.contains(&laoxiao_model::idcard::make("330402", old, 11)));
                // Columns and fields are the declaration's, with its labels.
                for f in laoxiao_model::person::ELDERLY
                    .fields
                    .iter()
                    .filter(|f| f.list)
                {
                    assert!(body.contains(f.label_zh), "list column {}", f.key);
                }
                assert!(body.contains("轻度失能"), "enumeration labels");
                let (_, body) = get(&app, "/console/people/P-1?lang=en", false).await;
                assert!(body.contains("id=\"id-number\""), "{body}");
                assert!(!body.contains(&laoxiao_model::idcard::make("330402", old, 11)));
                for f in laoxiao_model::person::ELDERLY.fields {
                    if !matches!(f.ty, laoxiao_model::register::FieldType::Decimal { .. })
                        && f.key != "coord_system"
                    {
                        assert!(body.contains(f.en), "record field {}", f.key);
                    }
                }
                let (status, body) =
                    get(&app, "/console/facilities?q=%E5%8D%97%E6%B9%96", true).await;
                assert_eq!(status, StatusCode::OK);
                assert!(
                    body.trim_start().starts_with("<section id=\"results\""),
                    "{body}"
                );
                assert!(body.contains("F-1"));
                let (status, _) = get(&app, "/?area=999999", false).await;
                assert_eq!(status, StatusCode::NOT_FOUND);
                let (status, _) = get(&app, "/console/facilities/nope", false).await;
                assert_eq!(status, StatusCode::NOT_FOUND);
                let (status, _) = get(&app, "/console/static/vendor/echarts.min.js", false).await;
                assert_eq!(status, StatusCode::OK);
            });
            drop(rt);
            drop(app);
        }
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(1234567), "1,234,567");
        assert_eq!(group_digits(-1000), "-1,000");
    }

    #[test]
    fn census_has_the_city() {
        assert_eq!(census().get("330400"), Some(&5_400_868));
    }

    #[test]
    fn urls_encode_components() {
        assert_eq!(
            url_with("/x", &[("q".into(), "养 老&".into())]),
            "/x?q=%E5%85%BB%20%E8%80%81%26"
        );
    }
}
