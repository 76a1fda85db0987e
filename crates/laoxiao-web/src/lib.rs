//! laoxiao-web: the JSON API (axum) with its OpenAPI document (utoipa).
//!
//! Everything under `/api` answers JSON, errors included:
//! `{ "error": { "code", "message", "details": [ { "field", "reason" } ] } }`.
//! Store calls are blocking (r2d2 pools of rusqlite / sync postgres) and run on
//! tokio's blocking pool.
//!
//! Personal data: a person leaves the API only through [`people::render`], whose ID
//! number is masked unless [`context::reveal_ids`] says otherwise. Nothing here logs
//! names, ID numbers or addresses; request spans carry the method and the route
//! template only (never the query string, which may hold a search for a name).

pub mod admission;
pub mod alarms;
pub mod areas;
pub mod assessments;
pub mod audit;
pub mod auth;
pub mod childcare_applications;
pub mod childcare_bills;
pub mod childcare_day;
pub mod childcare_figures;
pub mod complaints;
pub mod console;
pub mod context;
pub mod contract;
pub mod error;
pub mod extract;
pub mod facilities;
pub mod family;
pub mod filing;
pub mod health;
pub mod indicators;
pub mod inspections;
pub mod key_projects;
pub mod notifications;
pub mod openapi;
pub mod people;
pub mod planning;
pub mod registers;
pub mod schema;
pub mod subsidies;
pub mod transfers;
pub mod visits;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::Request;
use axum::routing::{any, delete, get, post, put};
use laoxiao_store::{Conn, Reference, Store};
use tower_http::trace::TraceLayer;

pub use context::{RequestContext, reveal_ids};
pub use error::{ApiError, ErrorBody, ErrorDetail, ErrorInfo};

/// Settings of the web layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebConfig {
    /// Largest request body accepted, in bytes; larger bodies get 413 `payload_too_large`.
    pub max_body_bytes: usize,
    /// Mark the session cookie `Secure` (set when serving behind TLS).
    pub secure_cookies: bool,
    /// Demo accounts to list on the login page (`laoxiao demo` only).
    pub demo_accounts: Vec<DemoAccount>,
    /// What one console import may hold.
    pub import_limits: laoxiao_store::io::ImportLimits,
    /// Where uploaded documents are kept (`[uploads] dir`).
    pub uploads_dir: std::path::PathBuf,
    /// The largest upload accepted, in bytes (`[uploads] max_bytes`).
    pub upload_max_bytes: u64,
    /// Requests a minute one address may make of the public portal
    /// (`[portal] requests_per_minute`); 0: no limit.
    pub portal_per_minute: u32,
    /// Seconds the portal's copy of the public places serves before it is
    /// rebuilt in the background (`[portal] places_refresh_seconds`).
    pub portal_places_refresh_seconds: u64,
}

/// The portal rebuilds its copy of the public places after a minute, the
/// same age its pages may be cached for.
pub const DEFAULT_PLACES_REFRESH_SECONDS: u64 = 60;

/// The public portal's requests per minute and address, unless configured:
/// five a second on average, far above a person reading pages.
pub const DEFAULT_PORTAL_PER_MINUTE: u32 = 300;

/// A documented demo account, shown on the demo's login page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: String,
    pub area: String,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            max_body_bytes: 1024 * 1024,
            secure_cookies: false,
            demo_accounts: Vec::new(),
            import_limits: Default::default(),
            uploads_dir: std::env::temp_dir().join("laoxiao-uploads"),
            upload_max_bytes: laoxiao_store::uploads::DEFAULT_MAX_BYTES,
            portal_per_minute: DEFAULT_PORTAL_PER_MINUTE,
            portal_places_refresh_seconds: DEFAULT_PLACES_REFRESH_SECONDS,
        }
    }
}

/// What every handler shares. Cheap to clone: the store's pool and reference data are
/// reference-counted, and the config is small.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub config: WebConfig,
    pub db_tasks: DbTasks,
    /// The alarm intake's rules and rate limiter (one per server, not global);
    /// `None` only if the embedded rules are broken, which disables intake.
    pub alarm_intake: Option<std::sync::Arc<alarms::IntakeState>>,
    /// The console's message catalogues: notification texts in the API and
    /// the delivery worker come from the same place as the pages'.
    pub catalogues: std::sync::Arc<console::i18n::Catalogues>,
}

impl AppState {
    pub fn new(store: Store, config: WebConfig) -> Self {
        let db_tasks = DbTasks::new(store.pool.max_size() as usize);
        AppState {
            store,
            config,
            db_tasks,
            alarm_intake: alarms::IntakeState::new(),
            catalogues: std::sync::Arc::new(
                console::i18n::Catalogues::embedded().expect("embedded message catalogues parse"),
            ),
        }
    }
}

/// Requests use the database at most as many at once as the pool has
/// connections; the others wait in line as tasks. Without it, fifty
/// concurrent requests are fifty threads on two cores contending for eight
/// connections (context switches were a sixth of the CPU under load,
/// docs/benchmarks.md).
#[derive(Clone, Debug)]
pub struct DbTasks(std::sync::Arc<tokio::sync::Semaphore>);

impl DbTasks {
    pub fn new(n: usize) -> Self {
        DbTasks(std::sync::Arc::new(tokio::sync::Semaphore::new(n.max(1))))
    }

    /// Runs `f` on tokio's blocking pool when a place is free.
    pub async fn run<T, F>(&self, f: F) -> Result<T, tokio::task::JoinError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        // The semaphore is never closed, so acquiring cannot fail.
        let _place = self.0.acquire().await.ok();
        tokio::task::spawn_blocking(f).await
    }
}

/// The whole HTTP surface: the JSON API under `/api`.
///
/// Unknown paths under `/api` get a 404 JSON error and known paths with another method
/// a 405 JSON error. Paths outside `/api` keep axum's default fallback, so the caller
/// can `merge` another router (the console) into this one.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    // An upload is read by its handler up to the upload limit, not the JSON one.
    let upload_limit = usize::try_from(state.config.upload_max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let api = Router::new()
        .route("/health", get(health::health))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/areas", get(areas::list))
        .route("/areas/{code}", get(areas::get))
        .route(
            "/facilities",
            get(facilities::list).post(facilities::create),
        )
        .route(
            "/facilities/{id}",
            get(facilities::get)
                .put(facilities::update)
                .delete(facilities::delete),
        )
        .route("/me", get(audit::me))
        // Device platforms post signed alarms (no account, a small body).
        .route(
            "/alarms/events",
            post(alarms::intake).layer(DefaultBodyLimit::max(alarms::MAX_EVENT_BYTES)),
        )
        .route("/alarms", get(alarms::list))
        .route("/alarms/figures", get(alarms::figures))
        .route("/alarms/equipped", get(alarms::equipped))
        .route("/alarms/platforms", get(alarms::platforms))
        .route("/alarms/{id}", get(alarms::get_one))
        .route("/alarms/{id}/acknowledge", post(alarms::acknowledge))
        .route("/alarms/{id}/reach", post(alarms::reach))
        .route("/alarms/{id}/close", post(alarms::close))
        .route("/audit", get(audit::search))
        .route("/people", get(people::list).post(people::create))
        .route(
            "/people/{id}",
            get(people::get).put(people::update).delete(people::delete),
        )
        .route(
            "/assessments",
            get(assessments::list).post(assessments::create),
        )
        .route("/assessments/due", get(assessments::due))
        .route("/assessments/flags", post(assessments::flag))
        .route("/assessments/standard", get(assessments::standard))
        .route(
            "/assessments/import",
            post(assessments::import)
                // A file of forms is larger than a JSON body: the console's upload limit.
                .layer(DefaultBodyLimit::max(planning::MAX_GRID_BYTES)),
        )
        .route(
            "/assessments/{id}",
            get(assessments::get).put(assessments::update),
        )
        .route("/assessments/{id}/finish", post(assessments::finish))
        .route("/assessments/{id}/appeal", post(assessments::appeal))
        .route("/transfers", get(transfers::list).post(transfers::create))
        .route("/transfers/{id}", get(transfers::get))
        .route("/transfers/{id}/approve", post(transfers::approve))
        .route("/transfers/{id}/refuse", post(transfers::refuse))
        .route("/transfers/{id}/withdraw", post(transfers::withdraw))
        .route("/visits/rounds", get(visits::rounds).post(visits::generate))
        .route("/visits/tasks", get(visits::tasks))
        .route("/visits/tasks/{id}", get(visits::task))
        .route("/visits/tasks/{id}/record", post(visits::record))
        .route("/visits/followups", get(visits::followups))
        .route("/visits/followups/{id}/close", post(visits::close))
        .route(
            "/visits/contracts/{id}/services",
            get(visits::services).post(visits::record_service),
        )
        .route("/visits/completion", get(visits::completion))
        .route(
            "/admission/applications",
            get(admission::list).post(admission::apply),
        )
        .route("/admission/applications/{id}", get(admission::get))
        .route(
            "/admission/applications/{id}/accept",
            post(admission::accept),
        )
        .route(
            "/admission/applications/{id}/decline",
            post(admission::decline),
        )
        .route(
            "/admission/applications/{id}/withdraw",
            post(admission::withdraw),
        )
        .route(
            "/admission/applications/{id}/cancel",
            post(admission::cancel),
        )
        .route("/admission/homes", get(admission::homes))
        .route(
            "/admission/homes/{id}/waiting-list",
            get(admission::waiting_list),
        )
        .route(
            "/admission/homes/{id}/offer-next",
            post(admission::offer_next),
        )
        .route(
            "/admission/residences/{id}/discharge",
            post(admission::discharge),
        )
        .route("/admission/figures", get(admission::figures))
        .route("/people/{id}/views", get(audit::person_views))
        .route("/indicators", get(indicators::list))
        .route("/indicators/values", get(indicators::values))
        .route("/indicators/export", get(indicators::export))
        .route(
            "/indicators/reported",
            get(indicators::reported).post(indicators::report),
        )
        .route("/indicators/targets", post(indicators::set_target))
        .route(
            "/indicators/publications",
            get(indicators::publications).post(indicators::publish),
        )
        .route(
            "/indicators/publications/{period}/changes",
            get(indicators::changes),
        )
        .route("/indicators/{number}", get(indicators::explain))
        .route("/indicators/{number}/trend", get(indicators::trend))
        .route("/family/relatives", get(family::relatives))
        .route("/family/relatives/{id}/catalogue", get(family::catalogue))
        .route(
            "/family/relatives/{id}/care-homes",
            get(admission::family_homes),
        )
        .route(
            "/family/admission-applications",
            get(admission::family_list).post(admission::family_apply),
        )
        .route(
            "/family/admission-applications/{id}/accept",
            post(admission::family_accept),
        )
        .route(
            "/family/admission-applications/{id}/decline",
            post(admission::family_decline),
        )
        .route(
            "/family/admission-applications/{id}/withdraw",
            post(admission::family_withdraw),
        )
        .route(
            "/family/links",
            get(family::my_links).post(family::request_link),
        )
        .route("/family/links/pending", get(family::pending_links))
        .route("/family/links/{id}/verify", post(family::verify_link))
        .route("/family/links/{id}/refuse", post(family::refuse_link))
        .route(
            "/family/orders",
            get(family::family_orders).post(family::place),
        )
        .route("/family/orders/{id}/cancel", post(family::cancel))
        .route("/family/orders/{id}/rate", post(family::rate))
        .route("/provider/orders", get(family::provider_orders))
        .route("/provider/orders/{id}/accept", post(family::accept))
        .route("/provider/orders/{id}/refuse", post(family::refuse))
        .route("/provider/orders/{id}/deliver", post(family::deliver))
        .route("/settlement", get(family::settlement))
        .route("/childcare/filing-rules", get(filing::rules))
        .route("/childcare/filings", get(filing::list).post(filing::create))
        .route("/childcare/filings/{id}", get(filing::get))
        .route(
            "/childcare/filings/{id}/form",
            axum::routing::put(filing::update_form),
        )
        .route(
            "/childcare/filings/{id}/documents",
            post(filing::upload).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route(
            "/childcare/filings/{id}/documents/{doc}",
            get(filing::download).delete(filing::remove_document),
        )
        .route("/childcare/filings/{id}/submit", post(filing::submit))
        .route("/childcare/filings/{id}/withdraw", post(filing::withdraw))
        .route("/childcare/filings/{id}/review", post(filing::review))
        .route(
            "/childcare/applications",
            get(childcare_applications::list).post(childcare_applications::apply),
        )
        .route(
            "/childcare/applications/{id}",
            get(childcare_applications::get),
        )
        .route(
            "/childcare/applications/{id}/offer",
            post(childcare_applications::offer),
        )
        .route(
            "/childcare/applications/{id}/accept",
            post(childcare_applications::accept),
        )
        .route(
            "/childcare/applications/{id}/decline",
            post(childcare_applications::decline),
        )
        .route(
            "/childcare/applications/{id}/withdraw",
            post(childcare_applications::withdraw),
        )
        .route(
            "/childcare/applications/{id}/cancel",
            post(childcare_applications::cancel),
        )
        .route(
            "/childcare/applications/{id}/enrol",
            post(childcare_applications::enrol),
        )
        .route(
            "/childcare/institutions/{id}/intake",
            get(childcare_applications::intake),
        )
        .route("/family/children", get(childcare_applications::children))
        .route(
            "/family/children/{id}/institutions",
            get(childcare_applications::family_institutions),
        )
        .route(
            "/family/childcare-applications",
            get(childcare_applications::family_list).post(childcare_applications::family_apply),
        )
        .route(
            "/family/childcare-applications/{id}/accept",
            post(childcare_applications::family_accept),
        )
        .route(
            "/family/childcare-applications/{id}/decline",
            post(childcare_applications::family_decline),
        )
        .route(
            "/family/childcare-applications/{id}/withdraw",
            post(childcare_applications::family_withdraw),
        )
        .route("/childcare/day/classes", get(childcare_day::classes))
        .route("/childcare/figures", get(childcare_figures::figures))
        .route("/childcare/classes/{id}/day", get(childcare_day::sheet))
        .route(
            "/childcare/classes/{id}/day/on-duty",
            put(childcare_day::on_duty),
        )
        .route(
            "/childcare/classes/{id}/day/entries",
            post(childcare_day::entry),
        )
        .route(
            "/childcare/enrolments/{id}/check-in",
            post(childcare_day::check_in),
        )
        .route(
            "/childcare/enrolments/{id}/check-out",
            post(childcare_day::check_out),
        )
        .route(
            "/childcare/enrolments/{id}/midday-check",
            post(childcare_day::midday),
        )
        .route(
            "/childcare/enrolments/{id}/absence",
            post(childcare_day::absence),
        )
        .route(
            "/childcare/children/{id}/pickups",
            get(childcare_day::pickups).post(childcare_day::add_pickup),
        )
        .route(
            "/childcare/pickups/{id}",
            delete(childcare_day::revoke_pickup),
        )
        .route(
            "/childcare/children/{id}/report",
            get(childcare_day::report),
        )
        .route(
            "/family/children/{id}/report",
            get(childcare_day::family_report),
        )
        .route(
            "/family/children/{id}/pickups",
            get(childcare_day::family_pickups).post(childcare_day::family_add_pickup),
        )
        .route(
            "/family/pickups/{id}",
            delete(childcare_day::family_revoke_pickup),
        )
        .route(
            "/family/children/{id}/absence",
            post(childcare_day::family_absence),
        )
        .route(
            "/childcare/institutions/{id}/prices",
            get(childcare_bills::prices).put(childcare_bills::set_prices),
        )
        .route(
            "/childcare/institutions/{id}/bills",
            get(childcare_bills::statement).post(childcare_bills::generate),
        )
        .route(
            "/childcare/institutions/{id}/statement.csv",
            get(childcare_bills::statement_csv),
        )
        .route("/childcare/bills", get(childcare_bills::area_month))
        .route("/childcare/bills/{id}", get(childcare_bills::bill))
        .route("/childcare/bills/{id}/payments", post(childcare_bills::pay))
        .route(
            "/family/children/{id}/bills",
            get(childcare_bills::family_bills),
        )
        .route("/family/bills/{id}", get(childcare_bills::family_bill))
        .route(
            "/family/notifications",
            get(notifications::family_notifications),
        )
        .route("/family/notifications/read", post(notifications::mark_read))
        .route(
            "/family/children/{id}/messages",
            get(notifications::family_thread).post(notifications::family_post),
        )
        .route("/childcare/messages", get(notifications::threads))
        .route(
            "/childcare/messages/{id}",
            get(notifications::thread).post(notifications::reply),
        )
        .route(
            "/childcare/classes/{id}/notices",
            post(notifications::class_notice),
        )
        .route("/childcare/notices", get(notifications::notices))
        .route("/notifications/health", get(notifications::health))
        .route(
            "/family/complaints",
            get(complaints::family_list).post(complaints::family_file),
        )
        .route("/family/complaints/{id}", get(complaints::family_get))
        .route(
            "/family/complaints/{id}/close",
            post(complaints::family_close),
        )
        .route("/complaints", get(complaints::list))
        .route("/complaints/figures", get(complaints::figures))
        .route("/complaints/{id}", get(complaints::get))
        .route(
            "/complaints/{id}/acknowledge",
            post(complaints::acknowledge),
        )
        .route("/complaints/{id}/answer", post(complaints::answer))
        .route("/inspections", get(inspections::list))
        .route("/inspections/checklists", get(inspections::checklists))
        .route(
            "/inspections/plans",
            get(inspections::list_plans).post(inspections::create_plan),
        )
        .route("/inspections/plans/{id}", get(inspections::get_plan))
        .route("/inspections/plans/{id}/commit", post(inspections::commit))
        .route("/inspections/plans/{id}/draw", post(inspections::draw))
        .route("/inspections/draws/{id}", get(inspections::get_draw))
        .route(
            "/inspections/rectifications",
            get(inspections::rectifications),
        )
        .route(
            "/inspections/rectifications/{id}/report",
            post(inspections::report),
        )
        .route(
            "/inspections/rectifications/{id}/reinspect",
            post(inspections::reinspect),
        )
        .route("/inspections/{id}", get(inspections::get))
        .route("/inspections/{id}/record", post(inspections::record))
        .route("/inspections/{id}/photos", post(inspections::add_photo))
        .route("/inspections/{id}/photos/{photo}", get(inspections::photo))
        .route("/inspections/{id}/publish", post(inspections::publish))
        .route("/key-projects", get(key_projects::list))
        .route("/key-projects/{number}", get(key_projects::get))
        .route("/key-projects/{number}/reports", post(key_projects::report))
        .route(
            "/key-projects/{number}/reports/{report}/photos",
            post(key_projects::add_photo),
        )
        .route(
            "/key-projects/{number}/photos/{photo}",
            get(key_projects::photo),
        )
        .route(
            "/key-projects/{number}/milestones",
            post(key_projects::milestone),
        )
        .route(
            "/key-projects/{number}/complete",
            post(key_projects::complete),
        )
        .route("/subsidies/rules", get(subsidies::rules))
        .route(
            "/subsidies/runs",
            get(subsidies::list_runs).post(subsidies::prepare),
        )
        .route("/subsidies/runs/{id}", get(subsidies::get_run))
        .route("/subsidies/runs/{id}/lines", get(subsidies::lines))
        .route("/subsidies/runs/{id}/lines/{line}", get(subsidies::line))
        .route("/subsidies/runs/{id}/approve", post(subsidies::approve))
        .route("/subsidies/runs/{id}/reject", post(subsidies::reject))
        .route("/subsidies/runs/{id}/paid", post(subsidies::paid))
        .route("/subsidies/runs/{id}/export", get(subsidies::export))
        .route("/subsidies/explain", get(subsidies::explain))
        .route("/subsidies/whatif", post(subsidies::whatif))
        .route("/planning/coverage", get(planning::coverage))
        .route("/planning/cells", get(planning::cells))
        .route("/planning/facilities", get(planning::facilities))
        .route("/planning/access", get(planning::access))
        .route("/planning/slots", get(planning::slots))
        .route("/planning/siting", post(planning::siting))
        .route("/planning/sites", post(planning::save_sites))
        .route(
            "/planning/resident-grid",
            get(planning::grid_info)
                .post(planning::import_grid)
                .delete(planning::clear_grid)
                // A grid is larger than a JSON body: the console's upload limit.
                .layer(DefaultBodyLimit::max(planning::MAX_GRID_BYTES)),
        );
    // The declared registers' routes, from their declarations.
    let api = registers::REGISTERS
        .iter()
        .fold(api, |r, reg| (reg.mount)(r))
        .method_not_allowed_fallback(error::method_not_allowed)
        .fallback(error::no_route)
        .layer(DefaultBodyLimit::max(limit))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<axum::body::Body>| {
                // The route template, never the concrete URI: paths and queries may
                // carry identifiers or search text.
                let route = req
                    .extensions()
                    .get::<MatchedPath>()
                    .map(|m| m.as_str().to_owned())
                    .unwrap_or_else(|| "(no route)".to_owned());
                tracing::info_span!("http", method = %req.method(), route = %route)
            }),
        );
    let console_state = console::ConsoleState::with_config(
        state.store.clone(),
        state.config.clone(),
        state.db_tasks.clone(),
    );
    let console = console::routes_for(console_state.clone());
    Router::new()
        .nest("/api", api)
        // `nest` leaves the bare `/api/` to the outer fallback; keep it JSON too.
        .route("/api/", any(error::no_route))
        .with_state(state.clone())
        // The web console: `/` and `/console/…`.
        .merge(console)
        // After routing (the matched route is known): who is asking, may they.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::middleware,
        ))
        // The policy's refusals of console pages, as pages in the console's layout.
        .layer(axum::middleware::from_fn_with_state(
            console_state,
            console::error_layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state,
            auth::security_headers,
        ))
}

/// Runs `f` with a pooled connection on tokio's blocking pool.
pub(crate) async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&mut Conn, &Reference) -> Result<T, ApiError> + Send + 'static,
{
    let store = state.store.clone();
    state
        .db_tasks
        .run(move || {
            let mut conn = store.conn()?;
            f(&mut conn, &store.reference)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
}

/// Percent-encodes one path segment (for `Location` headers).
pub(crate) fn encode_segment(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_percent_encoded() {
        assert_eq!(encode_segment("F-001_a.b~"), "F-001_a.b~");
        assert_eq!(encode_segment("a b/c"), "a%20b%2Fc");
        assert_eq!(encode_segment("养"), "%E5%85%BB");
    }
}
