//! One thin layer over the two databases. SQL is written once, with `$1`-style
//! placeholders and types both accept (TEXT, BIGINT/INTEGER, DOUBLE PRECISION/REAL,
//! BOOLEAN/INTEGER); for SQLite the placeholders become `?1`. Everything above this
//! module is backend-agnostic, which is what makes the parity test meaningful.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use r2d2_postgres::postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use r2d2_postgres::postgres::{self, NoTls};
use r2d2_sqlite::SqliteConnectionManager;
use r2d2_sqlite::rusqlite;

use crate::error::{Result, StoreError};

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parameter or a cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::Text(v.clone())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Value::Null)
    }
}
impl From<chrono::NaiveDate> for Value {
    fn from(v: chrono::NaiveDate) -> Self {
        Value::Text(v.format("%Y-%m-%d").to_string())
    }
}

/// A result row: its cells and the names of its columns (shared by every row
/// of one query). Read cells **by name** with [`Row::get`]: a missing column, a
/// NULL where a value is required or a value of the wrong type is an error,
/// never a silent `""` or `0`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    names: Arc<[Box<str>]>,
    values: Vec<Value>,
}

/// A Rust type a cell can be read as (see [`Row::get`]).
pub trait FromValue: Sized {
    /// What the type is called in error messages.
    const WHAT: &'static str;
    /// The value, or `None` when the cell holds NULL or another type.
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for String {
    const WHAT: &'static str = "text";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FromValue for i64 {
    const WHAT: &'static str = "integer";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            // Not text, even of digits: PostgreSQL's NUMERIC (a SUM over
            // BIGINT) cannot be read at all, so sums are cast to BIGINT in SQL.
            Value::Int(n) => Some(*n),
            _ => None,
        }
    }
}
impl FromValue for f64 {
    const WHAT: &'static str = "number";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(x) => Some(*x),
            Value::Int(n) => Some(*n as f64),
            _ => None,
        }
    }
}
impl FromValue for bool {
    const WHAT: &'static str = "boolean";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            // SQLite stores booleans as INTEGER 0/1.
            Value::Int(0) => Some(false),
            Value::Int(1) => Some(true),
            _ => None,
        }
    }
}
impl FromValue for chrono::NaiveDate {
    const WHAT: &'static str = "date (YYYY-MM-DD)";
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => iso_date(s),
            _ => None,
        }
    }
}
impl FromValue for Value {
    const WHAT: &'static str = "any value";
    fn from_value(v: &Value) -> Option<Self> {
        Some(v.clone())
    }
}

/// Exactly `YYYY-MM-DD`, as [`Value::from`] writes dates (chrono's
/// `parse_from_str` would also take `2024-1-5`, and is slower on a hot path).
fn iso_date(s: &str) -> Option<chrono::NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    chrono::NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
}

/// `Option<T>` reads NULL as `None`; any other value must be a `T`.
impl<T: FromValue> FromValue for Option<T> {
    const WHAT: &'static str = T::WHAT;
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

fn mismatch(col: &str, what: &str, v: &Value) -> StoreError {
    let found = match v {
        Value::Null => "NULL".to_string(),
        Value::Int(_) => "an integer".to_string(),
        Value::Real(_) => "a number".to_string(),
        Value::Bool(_) => "a boolean".to_string(),
        // The text itself may be personal data: say only how long it is.
        Value::Text(s) => format!("text of {} characters", s.chars().count()),
    };
    StoreError::Database(format!(
        "column {col}: expected {what}, found {found} in the database"
    ))
}

/// A cell that does not parse as a `T`. The parser's own message would quote
/// the text, which may be personal data; say only how long it is.
fn not_a<T>(col: &str, text: &str) -> StoreError {
    let ty = std::any::type_name::<T>();
    let ty = ty.rsplit("::").next().unwrap_or(ty);
    StoreError::Database(format!(
        "column {col}: text of {} characters is not a valid {ty} in the database",
        text.chars().count()
    ))
}

impl Row {
    /// A row from its column names and cells (tests, and rows built in memory).
    pub fn new(names: Arc<[Box<str>]>, values: Vec<Value>) -> Self {
        Row { names, values }
    }

    /// The column names, in query order.
    pub fn names(&self) -> &[Box<str>] {
        &self.names
    }

    /// The cells, in query order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Where column `col` (as the query named it, e.g. with `AS`) is. Every row
    /// of one query has the same columns: a loop over many rows can resolve
    /// the name once and read with [`Row::get_at`].
    pub fn index_of(&self, col: &str) -> Result<usize> {
        let i = self
            .names
            .iter()
            .position(|n| &**n == col)
            .filter(|&i| i < self.values.len())
            .ok_or_else(|| {
                StoreError::Database(format!("column {col} is not in the query's result"))
            })?;
        // Two columns of one name (`SELECT t.id, f.id`): name them apart with AS.
        if self.names[i + 1..].iter().any(|n| &**n == col) {
            return Err(StoreError::Database(format!(
                "column {col} appears twice in the query's result"
            )));
        }
        Ok(i)
    }

    /// The cell of column `col` (as the query named it, e.g. with `AS`).
    pub fn value(&self, col: &str) -> Result<&Value> {
        let i = self.index_of(col)?;
        Ok(&self.values[i])
    }

    /// Column `col` as a `T`. `Option<T>` reads NULL as `None`; any other type
    /// refuses NULL. A value of the wrong type is an error.
    pub fn get<T: FromValue>(&self, col: &str) -> Result<T> {
        let v = self.value(col)?;
        T::from_value(v).ok_or_else(|| mismatch(col, T::WHAT, v))
    }

    /// Cell `i` as a `T`, as strictly as [`Row::get`]; `i` comes from
    /// [`Row::index_of`] on a row of the same query (or is 0 of a one-column
    /// query), never from counting columns in the SQL.
    pub fn get_at<T: FromValue>(&self, i: usize) -> Result<T> {
        let col = self.names.get(i).map_or("?", |n| &**n);
        let v = self.values.get(i).ok_or_else(|| {
            StoreError::Database(format!("column {i} is not in the query's result"))
        })?;
        T::from_value(v).ok_or_else(|| mismatch(col, T::WHAT, v))
    }

    /// Column `col` parsed from text with `FromStr` (the register's enumerations).
    pub fn parse<T>(&self, col: &str) -> Result<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        let t: String = self.get(col)?;
        t.parse::<T>().map_err(|_| not_a::<T>(col, &t))
    }

    /// Like [`Row::parse`] for a nullable column.
    pub fn parse_opt<T>(&self, col: &str) -> Result<Option<T>>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        match self.get::<Option<String>>(col)? {
            None => Ok(None),
            Some(t) => t.parse::<T>().map(Some).map_err(|_| not_a::<T>(col, &t)),
        }
    }
}

impl ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // Convert to whatever the server inferred for the placeholder, so one
        // Value works for INT4, INT8, FLOAT8, BOOL and TEXT parameters alike.
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) => match *ty {
                Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
                Type::FLOAT8 => (*n as f64).to_sql(ty, out),
                Type::FLOAT4 => (*n as f32).to_sql(ty, out),
                Type::BOOL => (*n != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR => n.to_string().to_sql(ty, out),
                _ => n.to_sql(ty, out),
            },
            Value::Real(x) => match *ty {
                Type::FLOAT4 => (*x as f32).to_sql(ty, out),
                _ => x.to_sql(ty, out),
            },
            Value::Text(s) => s.to_sql(ty, out),
            Value::Bool(b) => match *ty {
                Type::INT8 => i64::from(*b).to_sql(ty, out),
                Type::INT4 => i32::from(*b).to_sql(ty, out),
                _ => b.to_sql(ty, out),
            },
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(n) => ToSqlOutput::Borrowed(ValueRef::Integer(*n)),
            Value::Real(x) => ToSqlOutput::Borrowed(ValueRef::Real(*x)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Value::Bool(b) => ToSqlOutput::Borrowed(ValueRef::Integer(i64::from(*b))),
        })
    }
}

/// Rewrites `$1` placeholders as `?1` for SQLite, leaving string literals alone.
pub fn sqlite_sql(sql: &str) -> Cow<'_, str> {
    if !sql.contains('$') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut in_str = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_str = !in_str;
        }
        if c == '$' && !in_str && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn pg_row(row: &postgres::Row, names: &Arc<[Box<str>]>) -> Result<Row> {
    let mut v = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let t = col.type_();
        let val = match *t {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)?
                .map(|n| Value::Int(n.into())),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)?
                .map(|n| Value::Int(n.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)?
                .map(|x| Value::Real(x.into())),
            Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(Value::Bool),
            // SUM over BIGINT, AVG, numeric literals: SQLite returns an INTEGER
            // or REAL there, so say which CAST keeps the SQL the same on both.
            Type::NUMERIC => {
                return Err(StoreError::Database(format!(
                    "column {}: PostgreSQL returns NUMERIC; CAST it AS BIGINT or DOUBLE PRECISION in the SQL",
                    col.name()
                )));
            }
            _ => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
        };
        v.push(val.unwrap_or(Value::Null));
    }
    Ok(Row::new(names.clone(), v))
}

fn sqlite_row(row: &rusqlite::Row<'_>, names: &Arc<[Box<str>]>) -> rusqlite::Result<Row> {
    let n = names.len();
    use rusqlite::types::ValueRef;
    let mut v = Vec::with_capacity(n);
    for i in 0..n {
        v.push(match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::Int(n),
            ValueRef::Real(x) => Value::Real(x),
            ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
        });
    }
    Ok(Row::new(names.clone(), v))
}

/// The writers of one SQLite database take turns in this process: a writer
/// waiting for another's commit then wakes when it commits, where SQLite's
/// busy handler would sleep 1, 2, 5 … 100 ms between tries (the tail of the
/// latency under load, docs/benchmarks.md). Writers in other processes are
/// still ordered by SQLite itself.
/// A writer waits at most [`BUSY_TIMEOUT`] for its turn and then goes on
/// without it (SQLite's own locking still holds), so a caller that nests two
/// connections' transactions slows down instead of deadlocking.
#[derive(Clone, Default, Debug)]
pub struct WriteGate(std::sync::Arc<parking_lot::Mutex<()>>);

#[derive(Clone)]
struct GateSlot(WriteGate);

/// A pool of connections to one database.
#[derive(Clone)]
pub enum Pool {
    Sqlite(r2d2::Pool<SqliteConnectionManager>, WriteGate),
    Postgres(r2d2::Pool<PostgresConnectionManager<NoTls>>),
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Pool::Sqlite(..) => "Pool::Sqlite",
            Pool::Postgres(_) => "Pool::Postgres",
        })
    }
}

/// Where the data lives, parsed from a URL or path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// A SQLite file path, or `:memory:`.
    Sqlite(String),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

impl DbTarget {
    /// `postgres://…` / `postgresql://…` → PostgreSQL; `sqlite://PATH`, `sqlite:PATH`
    /// or a plain path → SQLite.
    pub fn parse(url: &str) -> Result<Self> {
        let u = url.trim();
        if u.starts_with("postgres://") || u.starts_with("postgresql://") {
            Ok(DbTarget::Postgres(u.to_string()))
        } else if let Some(p) = u
            .strip_prefix("sqlite://")
            .or_else(|| u.strip_prefix("sqlite:"))
        {
            Ok(DbTarget::Sqlite(p.to_string()))
        } else if u.is_empty() || u.contains("://") {
            Err(StoreError::BadUrl(u.to_string()))
        } else {
            Ok(DbTarget::Sqlite(u.to_string()))
        }
    }
}

/// How long a SQLite connection waits for another's lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// Each pooled SQLite connection's page cache, in KiB: 16 MiB, so the pool's
/// eight hold at most 128 MiB. Lists and counts come from the people index
/// and pages read records by id, so the pages a connection reuses are the
/// facility table, the indexes' upper levels and the tails it appends to
/// (a few MiB); the file's other pages stay in the OS's cache. A bulk load
/// sets its own (io::bulk). docs/benchmarks.md, "Issue 11", has the figures.
pub(crate) const PAGE_CACHE_KIB: i64 = 16 * 1024;

impl Pool {
    /// Opens a pool; SQLite files are created if absent, with WAL and foreign keys on.
    pub fn open(target: &DbTarget, max_size: u32) -> Result<Self> {
        match target {
            DbTarget::Sqlite(path) => {
                let mgr = if path == ":memory:" {
                    // A shared in-memory database needs a named URI so every pooled
                    // connection sees the same data.
                    let name = format!(
                        "file:laoxiao-mem-{}?mode=memory&cache=shared",
                        unique_suffix()
                    );
                    SqliteConnectionManager::file(name).with_flags(
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE
                            | rusqlite::OpenFlags::SQLITE_OPEN_CREATE
                            | rusqlite::OpenFlags::SQLITE_OPEN_URI,
                    )
                } else {
                    SqliteConnectionManager::file(path)
                };
                // 32 KiB pages (set when the file is created, ignored after):
                // person rows are ~400 bytes and bulk loads and whole-area
                // scans dominate, so fewer, larger pages mean fewer B-tree
                // splits and page writes (a million-row import is ~15 % faster
                // than with 4 KiB, docs/benchmarks.md).
                let mgr = mgr.with_init(|c| {
                    c.busy_timeout(BUSY_TIMEOUT)?;
                    c.execute_batch(&format!(
                        "PRAGMA page_size=32768; PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; \
                         PRAGMA temp_store=MEMORY; PRAGMA cache_size=-{PAGE_CACHE_KIB};"
                    ))
                });
                // Connections are opened when needed rather than all at once,
                // so a command-line import holds the file alone and its bulk
                // load can leave WAL mode (io::bulk). A shared in-memory
                // database lives only while a connection is open: keep one.
                let pool = r2d2::Pool::builder()
                    .max_size(max_size)
                    .min_idle(Some(u32::from(path == ":memory:")))
                    .connection_timeout(Duration::from_secs(30))
                    .build(mgr)
                    .map_err(|e| StoreError::Connect(format!("{path}: {e}")))?;
                Ok(Pool::Sqlite(pool, WriteGate::default()))
            }
            DbTarget::Postgres(url) => {
                let mut cfg: postgres::Config = url
                    .parse()
                    .map_err(|e| StoreError::Connect(format!("{e}")))?;
                // No JIT: it compiled for 0.4 s to run a 30 ms page query
                // whose estimate crossed jit_above_cost. Pages are small
                // queries; the URL's own options stay.
                let options = match cfg.get_options() {
                    Some(o) => format!("{o} -c jit=off"),
                    None => "-c jit=off".to_string(),
                };
                cfg.options(&options);
                let mgr = PostgresConnectionManager::new(cfg, NoTls);
                let pool = r2d2::Pool::builder()
                    .max_size(max_size)
                    .connection_timeout(Duration::from_secs(10))
                    .build(mgr)
                    .map_err(|e| StoreError::Connect(e.to_string()))?;
                Ok(Pool::Postgres(pool))
            }
        }
    }

    /// How many connections the pool holds at most.
    pub fn max_size(&self) -> u32 {
        match self {
            Pool::Sqlite(p, _) => p.max_size(),
            Pool::Postgres(p) => p.max_size(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(..) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Takes a connection from the pool.
    pub fn conn(&self) -> Result<Conn> {
        let mut c = match self {
            Pool::Sqlite(p, gate) => {
                let mut c = p.get()?;
                r2d2::PooledConnection::extensions_mut(&mut c).insert(GateSlot(gate.clone()));
                Conn::Sqlite(c)
            }
            Pool::Postgres(p) => Conn::Postgres(p.get()?),
        };
        c.reset();
        Ok(c)
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}-{}-{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The audit key carried in a pooled connection's extensions.
struct AuditKeySlot(Option<std::sync::Arc<crate::crypto::AuditKey>>);

/// The nesting depth of [`Conn::transaction`], in the connection's extensions.
struct TxDepth(u32);

/// One pooled connection.
pub enum Conn {
    Sqlite(r2d2::PooledConnection<SqliteConnectionManager>),
    Postgres(r2d2::PooledConnection<PostgresConnectionManager<NoTls>>),
}

impl Conn {
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }

    /// Runs several statements without parameters.
    pub fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(c) => c.execute_batch(sql)?,
            Conn::Postgres(c) => c.batch_execute(sql)?,
        }
        Ok(())
    }

    /// Runs one statement; returns the rows affected.
    pub fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(&sqlite_sql(sql))?;
                Ok(st.execute(rusqlite::params_from_iter(params.iter()))? as u64)
            }
            Conn::Postgres(c) => {
                let p: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                Ok(c.execute(sql, &p)?)
            }
        }
    }

    /// Runs a query and returns every row.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>> {
        match self {
            Conn::Sqlite(c) => {
                let mut st = c.prepare_cached(&sqlite_sql(sql))?;
                let names: Arc<[Box<str>]> = st.column_names().into_iter().map(Box::from).collect();
                let rows = st.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                    sqlite_row(r, &names)
                })?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            }
            Conn::Postgres(c) => {
                let p: Vec<&(dyn ToSql + Sync)> =
                    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
                let rows = c.query(sql, &p)?;
                let Some(first) = rows.first() else {
                    return Ok(Vec::new());
                };
                let names: Arc<[Box<str>]> = first
                    .columns()
                    .iter()
                    .map(|c| Box::from(c.name()))
                    .collect();
                rows.iter().map(|r| pg_row(r, &names)).collect()
            }
        }
    }

    /// First row, if any.
    pub fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// A single integer (a count, a PRAGMA): the query must return one row of
    /// one column holding an integer. No row, NULL (a SUM over nothing: use
    /// COALESCE) or another type is an error.
    pub fn query_i64(&mut self, sql: &str, params: &[Value]) -> Result<i64> {
        let r = self
            .query_opt(sql, params)?
            .ok_or_else(|| StoreError::Database("a single-integer query returned no row".into()))?;
        if r.values().len() != 1 {
            return Err(StoreError::Database(format!(
                "a single-integer query returned {} columns",
                r.values().len()
            )));
        }
        r.get_at(0)
    }

    /// Runs `f` inside a transaction: committed when it returns Ok, rolled back otherwise.
    ///
    /// On SQLite the transaction takes the write lock at once (`BEGIN IMMEDIATE`):
    /// a deferred one that reads first and writes later cannot wait for another
    /// writer's commit (SQLite refuses the upgrade with "database is locked"
    /// without calling the busy handler), so concurrent writes would fail.
    ///
    /// Inside another transaction `f` runs under a savepoint: its writes are
    /// undone when it fails and kept (until the outer transaction ends) when it
    /// succeeds. So a store function that is one transaction of its own (a
    /// write and its audit entry) can also be part of a larger one.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&mut Conn) -> Result<T>) -> Result<T> {
        self.transaction_with(true, f)
    }

    /// [`Conn::transaction`] that, with `keep` false, rolls back even when `f`
    /// succeeds (a dry run).
    pub fn transaction_with<T>(
        &mut self,
        keep: bool,
        f: impl FnOnce(&mut Conn) -> Result<T>,
    ) -> Result<T> {
        let depth = self.depth();
        let (begin, commit, rollback) = if depth > 0 || self.sqlite_in_transaction() {
            (
                "SAVEPOINT laoxiao_tx",
                "RELEASE SAVEPOINT laoxiao_tx",
                "ROLLBACK TO SAVEPOINT laoxiao_tx; RELEASE SAVEPOINT laoxiao_tx",
            )
        } else {
            (
                match self.backend() {
                    Backend::Sqlite => "BEGIN IMMEDIATE",
                    Backend::Postgres => "BEGIN",
                },
                "COMMIT",
                "ROLLBACK",
            )
        };
        // The outermost SQLite transaction waits its turn in this process.
        let gate = match self {
            Conn::Sqlite(c) if depth == 0 => r2d2::PooledConnection::extensions(c)
                .get::<GateSlot>()
                .map(|g| g.0.0.clone()),
            _ => None,
        };
        let _turn = gate.as_ref().and_then(|g| g.try_lock_for(BUSY_TIMEOUT));
        self.batch(begin)?;
        self.set_depth(depth + 1);
        let r = f(self);
        self.set_depth(depth);
        match r {
            Ok(v) if keep => match self.batch(commit) {
                Ok(()) => Ok(v),
                Err(e) => {
                    // A COMMIT SQLite could not finish leaves the transaction open.
                    let _ = self.batch(rollback);
                    Err(e)
                }
            },
            Ok(v) => {
                self.batch(rollback)?;
                Ok(v)
            }
            Err(e) => {
                // The original error matters more than a failed rollback.
                let _ = self.batch(rollback);
                Err(e)
            }
        }
    }

    /// Whether a SQLite connection is inside a transaction it did not open
    /// with [`Conn::transaction`] (e.g. a raw `BEGIN`).
    fn sqlite_in_transaction(&self) -> bool {
        match self {
            Conn::Sqlite(c) => !c.is_autocommit(),
            Conn::Postgres(_) => false,
        }
    }

    /// How many [`Conn::transaction`]s are open on this connection (the
    /// PostgreSQL client cannot tell whether a transaction is open).
    fn depth(&self) -> u32 {
        let ext = match self {
            Conn::Sqlite(c) => r2d2::PooledConnection::extensions(c),
            Conn::Postgres(c) => r2d2::PooledConnection::extensions(c),
        };
        ext.get::<TxDepth>().map_or(0, |d| d.0)
    }

    fn set_depth(&mut self, depth: u32) {
        let slot = TxDepth(depth);
        match self {
            Conn::Sqlite(c) => r2d2::PooledConnection::extensions_mut(c).insert(slot),
            Conn::Postgres(c) => r2d2::PooledConnection::extensions_mut(c).insert(slot),
        };
    }

    /// Rolls back a transaction left open on a pooled connection (a panic
    /// inside [`Conn::transaction`]), so the next user starts clean.
    fn reset(&mut self) {
        if self.depth() > 0 || self.sqlite_in_transaction() {
            let _ = self.batch("ROLLBACK");
            self.set_depth(0);
        }
    }

    /// Attaches the audit key to this connection ([`crate::Store::conn`] does it
    /// on every checkout), so every audit append finds it without each caller
    /// passing it along.
    pub fn set_audit_key(&mut self, key: Option<std::sync::Arc<crate::crypto::AuditKey>>) {
        let slot = AuditKeySlot(key);
        match self {
            Conn::Sqlite(c) => r2d2::PooledConnection::extensions_mut(c).insert(slot),
            Conn::Postgres(c) => r2d2::PooledConnection::extensions_mut(c).insert(slot),
        };
    }

    /// The audit key attached to this connection, if any.
    pub fn audit_key(&self) -> Option<std::sync::Arc<crate::crypto::AuditKey>> {
        let ext = match self {
            Conn::Sqlite(c) => r2d2::PooledConnection::extensions(c),
            Conn::Postgres(c) => r2d2::PooledConnection::extensions(c),
        };
        ext.get::<AuditKeySlot>().and_then(|s| s.0.clone())
    }

    /// The raw SQLite connection, for bulk paths.
    pub fn as_sqlite(&mut self) -> Option<&mut rusqlite::Connection> {
        match self {
            Conn::Sqlite(c) => Some(&mut *c),
            Conn::Postgres(_) => None,
        }
    }

    /// The raw PostgreSQL client, for COPY.
    pub fn as_postgres(&mut self) -> Option<&mut postgres::Client> {
        match self {
            Conn::Postgres(c) => Some(&mut *c),
            Conn::Sqlite(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[(&str, Value)]) -> Row {
        let names: Arc<[Box<str>]> = cells.iter().map(|(n, _)| Box::from(*n)).collect();
        Row::new(names, cells.iter().map(|(_, v)| v.clone()).collect())
    }

    fn err<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Ok(v) => panic!("expected an error, got {v:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn null_is_an_error_for_a_required_column_and_none_for_an_option() {
        let r = row(&[("death_date", Value::Null), ("beds", Value::Null)]);
        let e = err(r.get::<String>("death_date"));
        assert!(e.contains("death_date") && e.contains("NULL"), "{e}");
        let e = err(r.get::<i64>("beds"));
        assert!(e.contains("beds") && e.contains("NULL"), "{e}");
        assert!(r.get::<bool>("beds").is_err());
        assert!(r.get::<f64>("beds").is_err());
        assert!(r.get::<chrono::NaiveDate>("death_date").is_err());
        assert_eq!(r.get::<Option<String>>("death_date").ok(), Some(None));
        assert_eq!(r.get::<Option<i64>>("beds").ok(), Some(None));
        assert_eq!(
            r.get::<Option<chrono::NaiveDate>>("death_date").ok(),
            Some(None)
        );
        assert_eq!(r.get::<Value>("beds").ok(), Some(Value::Null));
        assert_eq!(r.parse_opt::<i32>("beds").ok(), Some(None));
        assert!(r.parse::<i32>("beds").is_err());
    }

    #[test]
    fn a_value_of_the_wrong_type_is_an_error_not_a_default() {
        let r = row(&[
            ("name", Value::Text("12".into())),
            ("beds", Value::Int(12)),
            ("lng", Value::Real(120.5)),
        ]);
        // Digits in a text column are still text.
        let e = err(r.get::<i64>("name"));
        assert!(e.contains("name") && e.contains("integer"), "{e}");
        assert!(r.get::<Option<i64>>("name").is_err());
        assert!(r.get::<String>("beds").is_err());
        assert!(r.get::<i64>("lng").is_err());
        assert!(r.get::<bool>("lng").is_err());
        assert_eq!(r.get::<i64>("beds").ok(), Some(12));
        // An integer is a number (SQLite may store a REAL column's 120 as 120).
        assert_eq!(r.get::<f64>("beds").ok(), Some(12.0));
        assert_eq!(r.get::<Option<f64>>("lng").ok(), Some(Some(120.5)));
        assert_eq!(r.get::<String>("name").ok(), Some("12".to_string()));
    }

    #[test]
    fn a_missing_or_repeated_column_is_an_error() {
        let r = row(&[("id", Value::Int(1)), ("id", Value::Int(2))]);
        let e = err(r.get::<i64>("name"));
        assert!(e.contains("name") && e.contains("not in"), "{e}");
        assert!(r.get::<Option<i64>>("name").is_err());
        assert!(r.value("name").is_err());
        let e = err(r.get::<i64>("id"));
        assert!(e.contains("twice"), "{e}");
    }

    #[test]
    fn booleans_read_from_integer_zero_and_one_only() {
        let r = row(&[
            ("f", Value::Int(0)),
            ("t", Value::Int(1)),
            ("two", Value::Int(2)),
            ("b", Value::Bool(true)),
            ("s", Value::Text("1".into())),
        ]);
        assert_eq!(r.get::<bool>("f").ok(), Some(false));
        assert_eq!(r.get::<bool>("t").ok(), Some(true));
        assert_eq!(r.get::<bool>("b").ok(), Some(true));
        assert!(r.get::<bool>("two").is_err());
        assert!(r.get::<bool>("s").is_err());
        assert_eq!(r.get::<Option<bool>>("t").ok(), Some(Some(true)));
    }

    #[test]
    fn dates_read_as_exact_iso_text() {
        let r = row(&[
            ("ok", Value::Text("2024-02-29".into())),
            ("short", Value::Text("2024-2-9".into())),
            ("nonday", Value::Text("2023-02-29".into())),
            ("time", Value::Text("2024-02-29T00:00:00Z".into())),
            ("int", Value::Int(20240229)),
        ]);
        assert_eq!(
            r.get::<chrono::NaiveDate>("ok").ok(),
            chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
        );
        for col in ["short", "nonday", "time", "int"] {
            let e = err(r.get::<chrono::NaiveDate>(col));
            assert!(e.contains(col) && e.contains("YYYY-MM-DD"), "{e}");
        }
        // What Value::from writes, get reads back.
        let d = chrono::NaiveDate::from_ymd_opt(987, 1, 5).expect("date");
        assert_eq!(
            row(&[("d", d.into())]).get::<chrono::NaiveDate>("d").ok(),
            Some(d)
        );
    }

    #[test]
    fn errors_never_quote_the_cell() {
        let secret = "330402194003051234 张三";
        let r = row(&[("id_number", Value::Text(secret.into()))]);
        #[derive(Debug)]
        struct Code;
        impl std::str::FromStr for Code {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                Err(format!("unknown value {s:?}"))
            }
        }
        let msgs = [
            err(r.get::<i64>("id_number")),
            err(r.get::<bool>("id_number")),
            err(r.get::<chrono::NaiveDate>("id_number")),
            err(r.parse::<Code>("id_number")),
            err(r.parse_opt::<Code>("id_number")),
        ];
        for m in msgs {
            assert!(m.contains("id_number"), "{m}");
            assert!(!m.contains("3304") && !m.contains("张三"), "{m}");
            assert!(m.contains("21 characters"), "{m}");
        }
    }

    #[test]
    fn cells_resolved_once_by_name_read_as_strictly() {
        let r = row(&[("a", Value::Int(1)), ("b", Value::Null)]);
        let (a, b) = (r.index_of("a").expect("a"), r.index_of("b").expect("b"));
        assert_eq!(r.get_at::<i64>(a).ok(), Some(1));
        let e = err(r.get_at::<i64>(b));
        assert!(e.contains("column b") && e.contains("NULL"), "{e}");
        assert_eq!(r.get_at::<Option<i64>>(b).ok(), Some(None));
        assert!(r.get_at::<i64>(2).is_err());
        assert!(r.index_of("c").is_err());
    }

    #[test]
    fn rows_from_sqlite_carry_their_names_and_single_integers_are_strict() {
        let pool = Pool::open(&DbTarget::Sqlite(":memory:".into()), 1).expect("pool");
        let mut c = pool.conn().expect("conn");
        c.batch("CREATE TABLE t (x INTEGER, s TEXT); INSERT INTO t VALUES (2, 'a'), (3, NULL)")
            .expect("table");
        let rows = c
            .query("SELECT x, s, x * 2 AS twice FROM t ORDER BY x", &[])
            .expect("rows");
        assert_eq!(rows[0].get::<i64>("twice").ok(), Some(4));
        assert_eq!(rows[1].get::<Option<String>>("s").ok(), Some(None));
        assert!(rows[1].get::<String>("s").is_err());
        assert_eq!(c.query_i64("SELECT COUNT(*) FROM t", &[]).ok(), Some(2));
        assert_eq!(c.query_i64("SELECT SUM(x) FROM t", &[]).ok(), Some(5));
        // A SUM over nothing is NULL: the caller says what it means (COALESCE).
        assert!(
            c.query_i64("SELECT SUM(x) FROM t WHERE x > 9", &[])
                .is_err()
        );
        assert!(c.query_i64("SELECT s FROM t WHERE x = 2", &[]).is_err());
        assert!(c.query_i64("SELECT x FROM t WHERE x > 9", &[]).is_err());
        assert!(c.query_i64("SELECT x, x FROM t WHERE x = 2", &[]).is_err());
    }

    #[test]
    fn placeholders_become_sqlite_style_outside_strings() {
        assert_eq!(sqlite_sql("SELECT $1, '$2', $10"), "SELECT ?1, '$2', ?10");
        assert_eq!(sqlite_sql("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn targets_parse_by_scheme() {
        assert_eq!(
            DbTarget::parse("postgres://x/y").ok(),
            Some(DbTarget::Postgres("postgres://x/y".into()))
        );
        assert_eq!(
            DbTarget::parse("sqlite://a.db").ok(),
            Some(DbTarget::Sqlite("a.db".into()))
        );
        assert_eq!(
            DbTarget::parse("a.db").ok(),
            Some(DbTarget::Sqlite("a.db".into()))
        );
        assert!(DbTarget::parse("mysql://x").is_err());
    }
}
