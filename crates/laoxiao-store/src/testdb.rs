//! Throwaway databases for tests, on SQLite always and on PostgreSQL when
//! `TEST_DATABASE_URL` is set: each PostgreSQL one is a fresh schema, dropped on drop.
//! Both use the fixed test keys ([`crate::Keys::for_tests`]).

use std::path::PathBuf;

use r2d2_postgres::postgres::{Client, NoTls};

use crate::error::{Result, StoreError};
use crate::{DbTarget, OpenOptions, Store};

/// A database that exists for one test.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempdir_lite::TempDir),
    Schema { base: String, schema: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Schema { base, schema } = &self.cleanup
            && let Ok(mut c) = Client::connect(base, NoTls)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
        }
    }
}

/// The line a test prints when it skips PostgreSQL; `.ci/run` and readers grep for it.
pub const SKIPPED: &str = "SKIPPED (no TEST_DATABASE_URL)";

/// Set (to `1`) by `.ci/run`: a test that would skip PostgreSQL fails instead,
/// so that CI cannot pass with the second backend untested.
pub const REQUIRE_POSTGRES: &str = "LAOXIAO_REQUIRE_POSTGRES";

/// The PostgreSQL URL tests should also run on, if any: the one place tests
/// read `TEST_DATABASE_URL`. Without it, says so on stderr
/// (`SKIPPED (no TEST_DATABASE_URL): <test> at <file:line>`), or panics when
/// [`REQUIRE_POSTGRES`] is set. The test is named by its thread (libtest names
/// each test's thread after it) and the caller's location.
#[track_caller]
pub fn postgres_url() -> Option<String> {
    let at = std::panic::Location::caller();
    let thread = std::thread::current();
    postgres_url_for(&format!(
        "{} at {}:{}",
        thread.name().unwrap_or("a test"),
        at.file(),
        at.line()
    ))
}

/// [`postgres_url`] with the skipped part of a test named by the caller.
pub fn postgres_url_for(what: &str) -> Option<String> {
    let url = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty());
    if url.is_none() {
        if std::env::var(REQUIRE_POSTGRES).is_ok_and(|v| v.trim() == "1") {
            panic!("{SKIPPED}: {what}, and {REQUIRE_POSTGRES}=1 requires PostgreSQL");
        }
        eprintln!("{SKIPPED}: {what}");
    }
    url
}

fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl TestDb {
    /// A fresh SQLite file in a temporary directory, migrated.
    pub fn sqlite() -> Result<TestDb> {
        let dir = tempdir_lite::TempDir::new().map_err(|e| StoreError::File(e.to_string()))?;
        let path = dir.path().join("test.db");
        let url = path.display().to_string();
        let store = Store::open(&OpenOptions {
            target: DbTarget::Sqlite(url.clone()),
            pool_size: 4,
            migrate: true,
        })?;
        store.set_keys(crate::Keys::for_tests())?;
        Ok(TestDb {
            store,
            url,
            cleanup: Cleanup::Dir(dir),
        })
    }

    /// A fresh schema in the PostgreSQL database at `base`, migrated.
    pub fn postgres(base: &str) -> Result<TestDb> {
        let schema = unique("t");
        let mut c = Client::connect(base, NoTls).map_err(|e| StoreError::Connect(e.to_string()))?;
        c.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
        let store = Store::open(&OpenOptions {
            target: DbTarget::Postgres(url.clone()),
            pool_size: 4,
            migrate: true,
        })?;
        store.set_keys(crate::Keys::for_tests())?;
        Ok(TestDb {
            store,
            url,
            cleanup: Cleanup::Schema {
                base: base.to_string(),
                schema,
            },
        })
    }

    /// SQLite, plus PostgreSQL when `TEST_DATABASE_URL` is set (see [`postgres_url`]).
    #[track_caller]
    pub fn all() -> Result<Vec<TestDb>> {
        let mut v = vec![TestDb::sqlite()?];
        if let Some(pg) = postgres_url() {
            v.push(TestDb::postgres(&pg)?);
        }
        Ok(v)
    }
}

/// A minimal temporary directory (removed on drop), so the library needs no
/// dev-only dependency for this helper.
mod tempdir_lite {
    use super::PathBuf;

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> std::io::Result<TempDir> {
            let p = std::env::temp_dir().join(super::unique("laoxiao-test"));
            std::fs::create_dir_all(&p)?;
            Ok(TempDir(p))
        }
        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A signed-in user's scope for tests: `role` over the area `code` (a
/// facility's operator when `facility` is given). Panics on an unknown area
/// code, which is a mistake in the test itself.
pub fn user(
    store: &Store,
    name: &str,
    role: crate::scope::Role,
    code: &str,
    facility: Option<&str>,
) -> crate::scope::Scope {
    let Some(area) = store.reference.areas.get(code) else {
        panic!("test area {code} is not in the reference tree");
    };
    crate::scope::Scope::user(
        crate::scope::Actor {
            user: name.into(),
            ip: None,
        },
        role,
        &area.path,
        facility.map(str::to_string),
    )
}
