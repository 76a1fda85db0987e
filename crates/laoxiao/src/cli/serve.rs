//! `serve` and `migrate`, and the server the demo runs too.

use anyhow::{Context, Result, bail};
use laoxiao_store::Store;

use super::open;
use crate::config::Config;

/// `laoxiao serve`.
pub fn run(config: &Config) -> Result<()> {
    let store = open(config)?;
    prepare_to_serve(&store)?;
    serve(store, config, Vec::new())
}

/// `laoxiao migrate`.
pub fn migrate(config: &Config) -> Result<()> {
    let store = open(config)?;
    bootstrap(&store)?;
    // open() already migrated; report the resulting version.
    let mut c = store.conn()?;
    let v = laoxiao_store::migrate::current_version(&mut c)?;
    println!(
        "database {} is at schema version {v}",
        config.database_display()
    );
    Ok(())
}

/// Refuses to serve people without a key; creates the first administrator.
fn prepare_to_serve(store: &Store) -> Result<()> {
    if !store.reference.has_keys() {
        let people = laoxiao_store::figures::stored_rows(&mut store.conn()?)?.people;
        if people > 0 {
            bail!(
                "no data key is configured but the register holds {people} people: set \
                 LAOXIAO_DATA_KEY, LAOXIAO_HMAC_KEY and LAOXIAO_AUDIT_KEY or LAOXIAO_KEY_FILE \
                 (see `laoxiao keys generate`); the server will not start without them"
            );
        }
        eprintln!(
            "warning: no keys are configured; people cannot be registered and the audit \
             trail is not keyed until they are (see `laoxiao keys generate`)"
        );
    }
    bootstrap(store)
}

fn bootstrap(store: &Store) -> Result<()> {
    let mut c = store.conn()?;
    if let Some(pw) = laoxiao_store::accounts::bootstrap_admin(&mut c, &store.reference)? {
        println!(
            "created the city administrator `admin` with the one-time password: {pw}\n\
             (shown once; change it with `laoxiao user password admin`)"
        );
    }
    Ok(())
}

pub(super) fn serve(
    store: Store,
    config: &Config,
    demo_accounts: Vec<laoxiao_web::DemoAccount>,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The synchronous PostgreSQL client panics if its last handle is dropped on an
    // async worker: keep one handle here and drop it after the runtime is gone.
    let keep = store.clone();
    // Lists and counts answer from memory once it is built (a few seconds at
    // city scale); until then from SQL.
    keep.reference.people_index.warm();
    // The indicator dashboard opens on last year: read the registers' facts
    // and compute that table now, in the background, rather than at the
    // first view.
    let warm = keep.clone();
    let _ = std::thread::Builder::new()
        .name("indicators-warm".into())
        .spawn(move || {
            use chrono::Datelike;
            let today = super::today();
            let last = laoxiao_rules::indicators::Period {
                year: (today.year() - 1).clamp(2020, 2035),
                month: None,
            };
            if let Ok(mut c) = warm.conn()
                && let Err(e) =
                    laoxiao_store::indicators::live(&mut c, &warm.reference, last, today)
            {
                tracing::warn!("indicators not computed at start: {e}");
            }
        });
    let state = laoxiao_web::AppState::new(
        store,
        laoxiao_web::WebConfig {
            max_body_bytes: config.max_body_bytes,
            secure_cookies: config.secure_cookies,
            demo_accounts,
            import_limits: config.import,
            uploads_dir: config.uploads_dir(),
            upload_max_bytes: config.upload_max_bytes,
            portal_per_minute: config.portal_per_minute,
            portal_places_refresh_seconds: config.portal_places_refresh_seconds,
        },
    );
    let addr = config.addr;
    let served = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        // Alarms past a deadline are escalated within 30 s even when nobody reads them.
        tokio::spawn(laoxiao_web::alarms::escalation_loop(
            state.clone(),
            std::time::Duration::from_secs(30),
        ));
        // Notifications leave the outbox within 5 s of their event.
        tokio::spawn(laoxiao_web::notifications::delivery_loop(
            state.clone(),
            std::time::Duration::from_secs(5),
        ));
        // Complaints past a deadline are escalated to the county (督办) within a minute.
        tokio::spawn(laoxiao_web::complaints::escalation_loop(
            state.clone(),
            std::time::Duration::from_secs(60),
        ));
        println!("laoxiao is serving on http://{local}/  (API: http://{local}/api/openapi.json)");
        axum::serve(
            listener,
            laoxiao_web::router(state)
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("server stopped")
    });
    drop(rt);
    drop(keep);
    served
}
