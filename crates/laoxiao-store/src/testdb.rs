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

/// The PostgreSQL URL tests should also run on, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
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

    /// SQLite, plus PostgreSQL when `TEST_DATABASE_URL` is set.
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
