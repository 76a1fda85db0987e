//! The only crate that talks to a database: SQLite (default, bundled) or
//! PostgreSQL (by URL), embedded migrations for both, the registers'
//! repositories, and import/export.

pub mod accounts;
pub mod activity;
pub mod admission;
pub mod alarms;
pub mod areas;
pub mod assessments;
pub mod audit;
pub mod backup;
pub mod cache;
pub mod childcare_applications;
pub mod childcare_bills;
pub mod childcare_day;
pub mod childcare_figures;
pub mod childcare_messages;
pub mod complaints;
pub mod crypto;
pub mod db;
pub mod error;
pub mod facilities;
pub mod family;
pub mod figures;
pub mod filing;
pub mod indicators;
pub mod inspections;
pub mod io;
pub mod key_projects;
pub mod migrate;
pub mod notify;
pub mod open_data;
pub mod people;
pub mod people_index;
pub mod planning;
pub mod portal_public;
pub mod public_places;
pub mod public_ref;
pub mod record_view;
pub mod registry;
pub mod scope;
pub mod staff_checks;
pub mod subsidies;
pub mod tally;
/// Throwaway databases for tests (this crate's and, through the
/// `test-support` feature, other crates'); not in production builds.
#[cfg(any(test, feature = "test-support"))]
pub mod testdb;
pub mod text;
pub mod transfers;
pub mod uploads;
pub mod versions;
pub mod visits;
pub mod worklist;

use std::sync::Arc;

use laoxiao_model::{AreaTree, Checker};
use laoxiao_rules::ClassLimits;
use laoxiao_spatial::IndexedBoundary;

pub use crypto::Keys;
pub use db::{Backend, Conn, DbTarget, Pool, Row, Value};
pub use error::{Result, RowError, StoreError};
pub use scope::{Actor, Perm, Role, Scope};

/// The current time as RFC 3339 UTC with seconds, the format of every timestamp column.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Stable 64-bit FNV-1a hash, hex; used to skip rewriting unchanged rows.
pub fn row_hash(cells: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for c in cells {
        for b in c.as_bytes().iter().chain(std::iter::once(&0x1f)) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// Reference data every request needs, loaded once at open.
#[derive(Debug)]
pub struct Reference {
    pub areas: AreaTree,
    /// The city outline (dereferences to the plain `Boundary`).
    pub boundary: IndexedBoundary,
    pub class_limits: ClassLimits,
    /// The keys for ID numbers; set from configuration after opening.
    keys: std::sync::RwLock<Option<Arc<Keys>>>,
    /// Every live person's list fields in memory (lists, counts and name
    /// searches at city scale); attached to the database when the store opens.
    pub people_index: Arc<people_index::PeopleIndex>,
    /// Answers kept until the next write to a register they read.
    pub cache: cache::Cache,
    /// The registers' facts the indicators count, kept until a write.
    pub indicator_facts: indicators::facts::Kept,
    /// Indicator tables computed, kept until a write.
    pub indicator_tables: indicators::KeptTables,
    /// The planning inputs and the last analyses, kept until a write.
    pub planning: planning::Kept,
}

impl Reference {
    /// Jiaxing's embedded reference data.
    pub fn jiaxing() -> Result<Self> {
        Ok(Reference {
            areas: laoxiao_model::jiaxing::areas()?,
            boundary: laoxiao_model::jiaxing::city_boundary()?.into(),
            class_limits: ClassLimits::embedded()?,
            keys: std::sync::RwLock::new(None),
            people_index: Arc::default(),
            cache: cache::Cache::default(),
            indicator_facts: indicators::facts::Kept::default(),
            indicator_tables: indicators::KeptTables::default(),
            planning: planning::Kept::default(),
        })
    }

    /// The configured keys, or a configuration error naming what is missing.
    pub fn keys(&self) -> Result<Arc<Keys>> {
        self.keys
            .read()
            .ok()
            .and_then(|k| k.clone())
            .ok_or_else(|| {
                StoreError::Config(
                    "no data key is configured (LAOXIAO_DATA_KEY / LAOXIAO_HMAC_KEY or key_file); \
                     ID numbers cannot be read or written"
                        .into(),
                )
            })
    }

    /// The audit key, if configured.
    pub fn audit_key(&self) -> Option<Arc<crypto::AuditKey>> {
        self.keys
            .read()
            .ok()
            .and_then(|k| k.as_ref().and_then(|k| k.audit_key().cloned()))
    }

    /// Whether keys are configured.
    pub fn has_keys(&self) -> bool {
        self.keys.read().map(|k| k.is_some()).unwrap_or(false)
    }

    pub fn checker(&self) -> Checker<'_> {
        Checker {
            areas: &self.areas,
            boundary: &self.boundary,
            class_limits: &self.class_limits,
        }
    }
}

/// An open store: a connection pool and the reference data. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub pool: Pool,
    pub reference: Arc<Reference>,
}

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    pub target: DbTarget,
    pub pool_size: u32,
    /// Apply pending migrations (and load areas) on open.
    pub migrate: bool,
}

impl Store {
    /// Opens the database, applies migrations and loads the areas if the table is empty.
    pub fn open(opts: &OpenOptions) -> Result<Self> {
        let pool = Pool::open(&opts.target, opts.pool_size.max(1))?;
        let reference = Arc::new(Reference::jiaxing()?);
        reference
            .people_index
            .attach(pool.clone(), &reference.areas);
        let store = Store { pool, reference };
        if opts.migrate {
            store.migrate()?;
        }
        Ok(store)
    }

    /// Opens a database by URL or path with defaults (pool of 8, migrations applied).
    pub fn open_url(url: &str) -> Result<Self> {
        Store::open(&OpenOptions {
            target: DbTarget::parse(url)?,
            pool_size: 8,
            migrate: true,
        })
    }

    /// Applies pending migrations and loads reference areas; returns versions applied.
    pub fn migrate(&self) -> Result<Vec<i64>> {
        let mut c = self.conn()?;
        let applied = migrate::migrate(&mut c)?;
        areas::load_reference(&mut c, &self.reference.areas)?;
        key_projects::seed(&mut c, &self.reference)?;
        Ok(applied)
    }

    /// Sets the ID-number keys, then hashes and encrypts any rows still holding a
    /// plaintext number (from before migration 3); returns how many were converted.
    pub fn set_keys(&self, keys: Keys) -> Result<usize> {
        if let Ok(mut k) = self.reference.keys.write() {
            *k = Some(Arc::new(keys));
        }
        people::encrypt_pending(&mut self.conn()?, &self.reference)
    }

    /// Rows whose ID number is not yet encrypted (only before keys were ever set).
    pub fn pending_plaintext(&self) -> Result<i64> {
        self.conn()?.query_i64(
            "SELECT COUNT(*) FROM person WHERE id_number_enc IS NULL",
            &[],
        )
    }

    /// Refreshes the planner's statistics of `tables` after a bulk write
    /// (PostgreSQL's `ANALYZE`; autovacuum would come later).
    /// Without them PostgreSQL judged `deleted_at IS NULL` rare after the
    /// demo's load and read a million-entry index to fetch 50 people by id
    /// (60 ms a page), and both planners guess at filters on large tables.
    pub fn analyze(&self, tables: &[&str]) -> Result<()> {
        if tables.is_empty() {
            return Ok(());
        }
        // Table names come from the declarations, never from input.
        debug_assert!(
            tables
                .iter()
                .all(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        match self.backend() {
            Backend::Postgres => self
                .conn()?
                .batch(&format!("ANALYZE {}", tables.join(", "))),
            // SQLite's queries here carry their plans (INDEXED BY, CROSS
            // JOIN), and statistics written after a bulk load would go
            // through the write-ahead log the load avoided.
            Backend::Sqlite => Ok(()),
        }
    }

    /// A pooled connection carrying the audit key (if configured).
    pub fn conn(&self) -> Result<Conn> {
        let mut c = self.pool.conn()?;
        c.set_audit_key(self.reference.audit_key());
        Ok(c)
    }

    pub fn backend(&self) -> Backend {
        self.pool.backend()
    }

    pub fn checker(&self) -> Checker<'_> {
        self.reference.checker()
    }
}

/// One page of a keyset-paginated list.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `after` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Upper bound of a path prefix range: `/a/b/` → `/a/b0` (`0` follows `/` in ASCII),
/// so `path >= p AND path < upper(p)` selects a subtree with a plain index.
pub fn path_upper(prefix: &str) -> String {
    let base = prefix.strip_suffix('/').unwrap_or(prefix);
    format!("{base}0")
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_contains(q: &str) -> String {
    let mut s = String::with_capacity(q.len() + 2);
    s.push('%');
    for c in q.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Inserted,
    Updated,
    Unchanged,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_upper_bounds_the_subtree_only() {
        let up = path_upper("/330400/330402/");
        assert!("/330400/330402/330402007/" < up.as_str());
        assert!("/330400/330411/" > up.as_str());
        assert!("/330400/3304020/" >= up.as_str());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("a%B_"), "%a\\%b\\_%");
    }

    #[test]
    fn row_hash_changes_with_any_cell() {
        let a = row_hash(&["x".into(), "y".into()]);
        assert_eq!(a, row_hash(&["x".into(), "y".into()]));
        assert_ne!(a, row_hash(&["xy".into(), "".into()]));
    }
}
