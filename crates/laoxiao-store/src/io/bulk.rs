//! The bulk write path for people, shared by file imports and [`super::load_records`].
//!
//! A producer thread validates people and encodes each as the row's values
//! (for files, a third thread reads and parses the rows ahead of it); the
//! calling thread writes them inside the caller's transaction. Bounded channels
//! of batches join the stages, so a million rows never sit in memory at once,
//! and the batches travel back to be reused, so the steady state allocates
//! nothing per row.
//!
//! - SQLite: one prepared plain `INSERT` (or `UPDATE`), not the upsert, whose
//!   statement journal copies every page it touches. Into an empty table the
//!   index of keyed hashes is dropped and built once at the end (in the same
//!   transaction); into a non-empty one each row is first looked up by id and by
//!   ID number, so unchanged rows are skipped and conflicts reported.
//! - PostgreSQL: `COPY` straight into `person` when it is empty (indexes again
//!   built after), else `COPY` into a temporary staging table, conflicts found
//!   with two joins, and one `INSERT … SELECT … ON CONFLICT (id) DO UPDATE …
//!   WHERE row_hash differs`.
//!
//! Repeated ids and ID numbers within an import are found by sorting compact
//! keys at the end. Validation errors stop the writing (the transaction is
//! rolled back anyway) but not the checking, so every error is reported.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};

use chrono::{Datelike, NaiveDate};
use laoxiao_model::{FieldError, Person, PersonRole};
use r2d2_postgres::postgres;
use r2d2_sqlite::rusqlite::{self, OptionalExtension};

use super::encode::{Col, Item, encode, id_number_key, short_key};
use super::import::{Errors, in_tx};
use crate::crypto::Keys;
use crate::db::{BUSY_TIMEOUT, Backend, Conn, Value};
use crate::error::{Result, StoreError};
use crate::{Reference, Store};

/// The person columns in the order of [`crate::people::params`], from the
/// declaration: the fields (the ID number as its keyed hash), then
/// `area_path`, `row_hash` and the ciphertext. The ID number is written only
/// as its keyed hash and ciphertext.
fn person_cols() -> &'static str {
    crate::people::write_columns()
}

/// Where the values the writer looks at are in an [`Item`], found by column
/// name once.
#[derive(Debug, Clone, Copy)]
struct At {
    id: usize,
    hmac: usize,
    hash: usize,
    birth_date: usize,
    area_path: usize,
    status: usize,
}

fn at() -> At {
    static AT: std::sync::LazyLock<At> = std::sync::LazyLock::new(|| {
        let (hmac, hash) = crate::people::value_positions();
        let i = |c: &str| crate::people::value_index(c).unwrap_or(usize::MAX);
        At {
            id: i("id"),
            hmac,
            hash,
            birth_date: i("birth_date"),
            area_path: i("area_path"),
            status: i("status"),
        }
    });
    *AT
}

/// Rows per batch sent from the producer to the writer.
const BATCH: usize = 2048;
/// Batches in flight between them.
const IN_FLIGHT: usize = 4;
/// Bytes of COPY data sent at a time.
const COPY_CHUNK: usize = 8 << 20;

/// What a write did, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

fn role_index(role: PersonRole) -> usize {
    usize::from(role == PersonRole::Infant)
}

/// The settings of one bulk write.
pub(crate) struct PeopleJob<'a> {
    pub store: &'a Store,
    pub today: NaiveDate,
    pub now: String,
    /// Errors were found before the people (header, facilities): check only.
    pub already_failed: bool,
    pub progress: Option<&'a dyn Fn(u64, u64)>,
    /// Prefix of error columns.
    pub prefix: &'static str,
}

/// Items on their way to the writer, with how many are in use: the rest stay
/// allocated, so a batch that comes back is refilled in place.
#[derive(Default)]
pub(crate) struct Batch {
    items: Vec<Item>,
    len: usize,
}

impl Batch {
    fn used(&self) -> &[Item] {
        &self.items[..self.len]
    }

    fn next_slot(&mut self) -> &mut Item {
        if self.len == self.items.len() {
            self.items.push(Item::default());
        }
        self.len += 1;
        &mut self.items[self.len - 1]
    }
}

/// Keys seen in an import, checked for repeats once every row is read: sorting
/// a million keys costs far less than a million random hash-table look-ups.
#[derive(Default)]
struct SeenKeys {
    short: Vec<(u128, u32)>,
    long: Vec<(String, u32)>,
}

impl SeenKeys {
    fn add(&mut self, key: Option<u128>, text: &str, row: usize) {
        match key {
            Some(k) => self.short.push((k, row as u32)),
            None => self.long.push((text.to_string(), row as u32)),
        }
    }

    /// `(row, first_row, key)` for every row whose key an earlier row has.
    fn repeats(&mut self) -> Vec<(usize, usize, Key)> {
        let mut out = Vec::new();
        self.short.sort_unstable();
        for w in self.short.chunk_by(|a, b| a.0 == b.0) {
            for r in &w[1..] {
                out.push((r.1 as usize, w[0].1 as usize, Key::Short(r.0)));
            }
        }
        self.long.sort_unstable();
        for w in self.long.chunk_by(|a, b| a.0 == b.0) {
            for r in &w[1..] {
                out.push((r.1 as usize, w[0].1 as usize, Key::Long(r.0.clone())));
            }
        }
        out
    }
}

enum Key {
    Short(u128),
    Long(String),
}

impl Key {
    /// The id text (for ids: short keys are the bytes and the length).
    fn id_text(&self) -> String {
        match self {
            Key::Short(k) => {
                let b = k.to_le_bytes();
                let n = usize::from(b[15]).min(15);
                String::from_utf8_lossy(&b[..n]).into_owned()
            }
            Key::Long(s) => s.clone(),
        }
    }
}

/// The producer side: validates people and hands them to the writer.
pub(crate) struct Producer<'a> {
    store: &'a Store,
    /// The ID-number keys, fetched once per import.
    keys: Arc<Keys>,
    today: NaiveDate,
    tx: mpsc::SyncSender<Batch>,
    /// Batches the writer is done with come back to be reused: no allocation
    /// per row, and memory is freed on the thread that allocated it.
    back: mpsc::Receiver<Batch>,
    batch: Batch,
    spare: Vec<Batch>,
    scratch: String,
    ids: SeenKeys,
    numbers: SeenKeys,
    pub errors: Errors,
    failed: &'a AtomicBool,
    /// Keep sending after a failure: the writer still checks rows against the database.
    send_failed: bool,
    closed: bool,
    done: &'a AtomicU64,
    total: &'a AtomicU64,
    ticks: u32,
    /// Accepted people by (area path, role, status, birth year): into an empty
    /// table the tally triggers are off and this is written once at the end.
    tally: Tally<'a>,
}

type Tally<'a> = HashMap<(&'a str, &'static str, &'static str, i32), i64>;

const MASKED: &str = "the ID number is masked (contains *), as in a masked export; \
    the import needs the full number";

impl<'a> Producer<'a> {
    fn fail(&mut self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    /// Records a row that failed to parse.
    pub fn reject(&mut self, row: usize, mut errs: Vec<FieldError>, masked: bool) {
        if masked {
            for e in errs.iter_mut().filter(|e| e.field == "id_number") {
                e.reason = MASKED.into();
            }
        }
        self.errors.fields(row, errs);
        self.fail();
    }

    /// Validates a person and queues it for writing.
    pub fn accept(&mut self, row: usize, p: &Person, masked: bool) {
        let ck = self.store.checker();
        let mut errs = p.validate(&ck, self.today);
        if masked {
            errs.retain(|e| e.field != "id_number");
            errs.push(FieldError::new("id_number", MASKED));
        } else if p.id_number.trim() != p.id_number
            || p.id_number.bytes().any(|b| b.is_ascii_lowercase())
        {
            errs.push(FieldError::new(
                "id_number",
                "must be upper case without blanks",
            ));
        }
        // Repeats within the import are found at the end (`finish`).
        self.ids.add(short_key(&p.id), &p.id, row);
        if !errs.iter().any(|e| e.field == "id_number") {
            self.numbers
                .add(id_number_key(&p.id_number), &p.id_number, row);
        }
        if !errs.is_empty() {
            self.errors.fields(row, errs);
            self.fail();
            return;
        }
        if self.closed || (!self.send_failed && self.failed.load(Ordering::Relaxed)) {
            return;
        }
        let store: &'a Store = self.store;
        let Some(area) = store.reference.areas.get(&p.residence_area_code) else {
            return;
        };
        *self
            .tally
            .entry((
                area.path.as_str(),
                p.role.code(),
                p.status.code(),
                p.birth_date.year(),
            ))
            .or_insert(0) += 1;
        let item = self.batch.next_slot();
        encode(&self.keys, p, &area.path, row, item, &mut self.scratch);
        if self.batch.len >= BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.batch.len == 0 || self.closed {
            return;
        }
        while let Ok(mut old) = self.back.try_recv() {
            old.len = 0;
            self.spare.push(old);
        }
        let next = self.spare.pop().unwrap_or_default();
        let b = std::mem::replace(&mut self.batch, next);
        if self.tx.send(b).is_err() {
            // The writer stopped on an error of its own; it reports that one.
            self.closed = true;
        }
    }

    /// Notes progress now and then; `f` gives `(done, total)`.
    pub fn tick(&mut self, f: impl FnOnce() -> (u64, u64)) {
        self.ticks += 1;
        if self.ticks.is_multiple_of(1024) {
            let (d, t) = f();
            self.done.store(d, Ordering::Relaxed);
            self.total.store(t, Ordering::Relaxed);
        }
    }

    /// Prepares the duplicate checks for about `n` rows.
    pub fn expect_rows(&mut self, n: usize) {
        self.ids.short.reserve(n);
        self.numbers.short.reserve(n);
    }

    /// Reports ids and ID numbers that appear more than once; returns the rows
    /// whose ID number repeats an earlier row's.
    fn finish(&mut self) -> HashSet<usize> {
        for (row, first, key) in self.ids.repeats() {
            self.errors.push(
                row,
                "id",
                format!("duplicate id {:?}: also on row {first}", key.id_text()),
            );
            self.fail();
        }
        let mut rows = HashSet::new();
        for (row, first, _) in self.numbers.repeats() {
            // The number itself is personal data: not echoed.
            self.errors.push(
                row,
                "id_number",
                format!("the same ID number is also on row {first}"),
            );
            self.fail();
            rows.insert(row);
        }
        rows
    }

    /// True once the writer has gone; the producer should stop.
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

/// Runs `f` in a transaction with SQLite tuned for a bulk write, restoring the
/// settings after: a larger page cache, and — only when the database's area
/// table holds every reference area — foreign keys off. Every code a person or
/// facility refers to has then been checked against that same set, so the
/// per-row look-up would find it anyway.
///
/// Durability is not traded for speed (issue 9, hole 11): with a rollback
/// journal and `synchronous=OFF`, a power cut while pages are written can leave
/// pages of the file overwritten with no journal to put them back, damaging
/// records committed long before the load. `synchronous=EXTRA` syncs the
/// journal before any page of the file is overwritten, the file before the
/// commit, and the directory after the journal is deleted (the commit point of
/// a rollback journal), so after a power cut at any moment the database holds
/// everything it held before and either all of the load or none of it. It costs
/// a few syncs per load (docs/benchmarks.md).
pub(crate) fn in_people_tx<T>(
    conn: &mut Conn,
    reference: &Reference,
    dry_run: bool,
    keep_wal: bool,
    f: impl FnOnce(&mut Conn) -> Result<T>,
) -> Result<T> {
    // A bulk write stamps no row: readers of the person version reload the
    // register (crate::versions), at the end so the version row is locked
    // for the commit only.
    let f = |c: &mut Conn| {
        let v = f(c)?;
        crate::versions::bump_rebuilt(c, crate::versions::PERSON)?;
        Ok(v)
    };
    if conn.backend() != Backend::Sqlite {
        return in_tx(conn, dry_run, f);
    }
    let sync = conn.query_i64("PRAGMA synchronous", &[])?;
    let cache = conn.query_i64("PRAGMA cache_size", &[])?;
    let fk = conn.query_i64("PRAGMA foreign_keys", &[])?;
    let stored: HashSet<String> = conn
        .query("SELECT code FROM area", &[])?
        .iter()
        .map(|r| r.get("code"))
        .collect::<Result<_>>()?;
    let areas_match = reference
        .areas
        .all()
        .iter()
        .all(|a| stored.contains(&a.code));
    conn.batch("PRAGMA synchronous=EXTRA; PRAGMA cache_size=-524288")?;
    if areas_match {
        conn.batch("PRAGMA foreign_keys=OFF")?;
    }
    // A load while the server runs keeps WAL: out of it, the load would hold
    // the file alone and every page would wait for it.
    let journal = if keep_wal { false } else { leave_wal(conn)? };
    let r = in_tx(conn, dry_run, f);
    let mut restored = conn.batch(&format!(
        "PRAGMA synchronous={sync}; PRAGMA cache_size={cache}; PRAGMA foreign_keys={fk}"
    ));
    if journal {
        restored = restored.and(back_to_wal(conn));
    }
    let v = r?;
    restored?;
    Ok(v)
}

/// When this is the only connection to the file, switches it from WAL to a
/// rollback journal for the bulk transaction: pages new to the file are then
/// written once, where WAL writes every page to the log and copies it again
/// into the file at the checkpoint (for a million people, 650 MB twice). The
/// transaction stays atomic (a rollback journal holds the pages it changes).
/// With other connections open the switch is refused at once and the load
/// runs in WAL mode as usual. Returns whether it switched.
fn leave_wal(conn: &mut Conn) -> Result<bool> {
    let Some(c) = conn.as_sqlite() else {
        return Ok(false);
    };
    let mode: String = c.query_row("PRAGMA journal_mode", [], |r| r.get("journal_mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Ok(false);
    }
    c.busy_timeout(std::time::Duration::ZERO)?;
    let switched = c
        .query_row("PRAGMA journal_mode=DELETE", [], |r| {
            r.get::<_, String>("journal_mode")
        })
        .is_ok_and(|m| m.eq_ignore_ascii_case("delete"));
    c.busy_timeout(BUSY_TIMEOUT)?;
    Ok(switched)
}

/// Puts the connection back into WAL mode after [`leave_wal`].
fn back_to_wal(conn: &mut Conn) -> Result<()> {
    if let Some(c) = conn.as_sqlite() {
        let mode: String = c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get("journal_mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!(
                "could not return the database to WAL mode (it is in {mode} mode)"
            )));
        }
    }
    Ok(())
}

/// Validates and writes the people `produce` yields, inside the caller's
/// transaction. Returns the counts per register (elderly, infants) and the
/// errors; the caller rejects the import when there are any.
pub(crate) fn run<'s, F>(
    conn: &mut Conn,
    job: &PeopleJob<'s>,
    produce: F,
) -> Result<([Counts; 2], Errors)>
where
    F: FnOnce(&mut Producer<'_>) -> Result<()> + Send,
{
    // Without keys no ID number can be stored: a configuration error, not a
    // fault of every row.
    let keys = job.store.reference.keys()?;
    let empty = conn.query_i64("SELECT COUNT(*) FROM (SELECT 1 FROM person LIMIT 1) t", &[])? == 0;
    let failed = AtomicBool::new(job.already_failed);
    let done = AtomicU64::new(0);
    let total = AtomicU64::new(0);
    let (tx, rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
    let (back_tx, back_rx) = mpsc::channel::<Batch>();
    let mut counts = [Counts::default(); 2];
    let mut werrs = Errors::new(job.prefix);
    let store = job.store;
    let today = job.today;
    let prefix = job.prefix;
    let (failed_ref, done_ref, total_ref) = (&failed, &done, &total);

    let outcome = std::thread::scope(|s| -> Result<_> {
        let worker = std::thread::Builder::new()
            .name("import-check".into())
            .spawn_scoped(s, move || {
                let mut p = Producer {
                    store,
                    keys,
                    today,
                    tx,
                    back: back_rx,
                    batch: Batch::default(),
                    spare: Vec::new(),
                    scratch: String::new(),
                    ids: SeenKeys::default(),
                    numbers: SeenKeys::default(),
                    errors: Errors::new(prefix),
                    failed: failed_ref,
                    send_failed: !empty,
                    closed: false,
                    done: done_ref,
                    total: total_ref,
                    ticks: 0,
                    tally: HashMap::new(),
                };
                let r = produce(&mut p);
                p.flush();
                let repeated_numbers = p.finish();
                (r, p.errors, repeated_numbers, p.tally)
            })
            .map_err(|e| StoreError::Database(format!("could not start the import worker: {e}")))?;
        let written = write_all(
            conn,
            empty,
            job,
            &rx,
            &back_tx,
            &failed,
            &mut counts,
            &mut werrs,
            &done,
            &total,
        );
        // Let a producer blocked on a full channel finish.
        drop(rx);
        let (r, perrs, repeated_numbers, tally) = worker
            .join()
            .map_err(|_| StoreError::Database("the import worker panicked".into()))?;
        let (clash, delta) = written?;
        r?;
        Ok((perrs, repeated_numbers, clash, tally, delta))
    });
    let (mut errs, repeated_numbers, clash, tally, delta) = outcome?;
    if !failed.load(Ordering::Relaxed) && errs.is_empty() && clash.is_none() {
        // The tally triggers were off (see `drop_indexes`); into an empty
        // table the producer counted what it accepted, into a filled one the
        // writer counted what changed.
        if empty {
            conn.execute("DELETE FROM person_tally", &[])?;
            add_to_tally(
                conn,
                tally.iter().map(|((path, role, status, year), n)| {
                    (*path, *role, *status, i64::from(*year), *n)
                }),
            )?;
        } else {
            add_to_tally(
                conn,
                delta.iter().map(|((path, role, status, year), n)| {
                    (path.as_str(), role.as_str(), status.as_str(), *year, *n)
                }),
            )?;
        }
    }
    // A number repeated within the file is reported as such, not also as
    // "already registered" to the row that came first.
    werrs.retain(|e| !(e.column.ends_with("id_number") && repeated_numbers.contains(&e.row)));
    errs.append(werrs);
    if let Some((row, reason)) = clash
        && errs.is_empty()
    {
        // The database refused a row for a reason the checks did not foresee.
        errs.push(row, "*", reason);
    }
    Ok((counts, errs))
}

#[allow(clippy::too_many_arguments)]
fn write_all(
    conn: &mut Conn,
    empty: bool,
    job: &PeopleJob<'_>,
    rx: &mpsc::Receiver<Batch>,
    back: &mpsc::Sender<Batch>,
    failed: &AtomicBool,
    counts: &mut [Counts; 2],
    errs: &mut Errors,
    done: &AtomicU64,
    total: &AtomicU64,
) -> Result<(Option<(usize, String)>, TallyDelta)> {
    let report = |job: &PeopleJob<'_>| {
        if let Some(p) = job.progress {
            p(done.load(Ordering::Relaxed), total.load(Ordering::Relaxed));
        }
    };
    match conn.backend() {
        Backend::Sqlite => {
            let c = conn
                .as_sqlite()
                .ok_or_else(|| StoreError::Database("not a SQLite connection".into()))?;
            let rebuild = drop_indexes(c, empty)?;
            let mut sink = SqliteSink::new(c, empty, &job.now)?;
            for batch in rx.iter() {
                let write = !failed.load(Ordering::Relaxed);
                if sink.write(batch.used(), write, errs, counts)? {
                    failed.store(true, Ordering::Relaxed);
                }
                // If the producer is gone, the batch is freed here instead.
                let _ = back.send(batch);
                report(job);
            }
            let clash = sink.clash.take();
            let delta = std::mem::take(&mut sink.delta);
            drop(sink);
            if !failed.load(Ordering::Relaxed) {
                for sql in rebuild {
                    c.execute_batch(&sql)?;
                }
            }
            Ok((clash, delta))
        }
        Backend::Postgres => {
            let c = conn
                .as_postgres()
                .ok_or_else(|| StoreError::Database("not a PostgreSQL connection".into()))?;
            let mut sink = PgSink::new(c, empty, &job.now)?;
            for batch in rx.iter() {
                let write = !failed.load(Ordering::Relaxed);
                if sink.write(c, batch.used(), write, counts)? {
                    failed.store(true, Ordering::Relaxed);
                }
                let _ = back.send(batch);
                report(job);
            }
            let write = !failed.load(Ordering::Relaxed);
            if sink.finish(c, write, errs, counts)? {
                failed.store(true, Ordering::Relaxed);
            }
            // PostgreSQL's triggers stay on for a filled table.
            Ok((sink.clash.take(), TallyDelta::new()))
        }
    }
}

/// Indexes of `person` built once after a load into an empty table instead of
/// row by row. Keyed hashes are uniformly random, so each insertion lands on a
/// leaf page of its own; sorting them once is cheaper. The other indexes lead
/// with the area path or the birth date, whose insertions cluster on a few
/// thousand hot pages, and maintaining them row by row overlaps with the
/// parsing threads, where a rebuild after the load would run on one core alone
/// (measured in docs/benchmarks.md).
const REBUILT_INDEXES: &[&str] = &["person_id_number_hmac_idx"];

/// Drops the tally triggers of `person` and, into an empty table, the
/// [`REBUILT_INDEXES`] (inside the import's transaction) and returns the
/// statements that recreate them. The tally is written from the load's own
/// counts instead: a trigger would make SQLite keep a statement journal, a
/// copy of every page each row's statement touches. If the import fails,
/// rolling back restores them.
fn drop_indexes(c: &rusqlite::Connection, empty: bool) -> Result<Vec<String>> {
    let mut st = c.prepare(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') \
         AND tbl_name = 'person' AND sql IS NOT NULL ORDER BY type, name",
    )?;
    let found: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get("type")?, r.get("name")?, r.get("sql")?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(st);
    let found: Vec<(String, String, String)> = found
        .into_iter()
        .filter(|(ty, name, _)| {
            ty == "trigger" || (empty && REBUILT_INDEXES.contains(&name.as_str()))
        })
        .collect();
    for (ty, name, _) in &found {
        let ty = if ty == "index" { "INDEX" } else { "TRIGGER" };
        c.execute_batch(&format!("DROP {ty} \"{}\"", name.replace('"', "\"\"")))?;
    }
    Ok(found.into_iter().map(|(_, _, sql)| sql).collect())
}

/// Tally changes of a load into a filled table: (area path, register, status,
/// birth year) to the change in live people.
type TallyDelta = HashMap<(String, String, String, i64), i64>;

/// Adds `(area path, register, status, birth year, change)` rows to the
/// tally, a thousand per statement.
fn add_to_tally<'k>(
    conn: &mut Conn,
    rows: impl Iterator<Item = (&'k str, &'k str, &'k str, i64, i64)>,
) -> Result<()> {
    const ROWS: usize = 1000;
    let rows: Vec<_> = rows.filter(|r| r.4 != 0).collect();
    for chunk in rows.chunks(ROWS) {
        let mut sql = String::from(
            "INSERT INTO person_tally (area_path, role, status, birth_year, n) VALUES ",
        );
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * 5);
        for (i, &(path, role, status, year, n)) in chunk.iter().enumerate() {
            let b = i * 5;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5
            ));
            params.extend([
                path.into(),
                role.into(),
                status.into(),
                Value::Int(year),
                Value::Int(n),
            ]);
        }
        sql.push_str(
            " ON CONFLICT (area_path, role, status, birth_year) \
             DO UPDATE SET n = person_tally.n + excluded.n",
        );
        conn.execute(&sql, &params)?;
    }
    Ok(())
}

/// SQLite: one prepared upsert; on a non-empty table also two lookups per row
/// (the stored record with the id, and any other holder of the ID number).
struct SqliteSink<'c> {
    empty: bool,
    /// The first row the database refused (a constraint), and why.
    clash: Option<(usize, String)>,
    insert: rusqlite::Statement<'c>,
    update: rusqlite::Statement<'c>,
    by_id: rusqlite::Statement<'c>,
    by_id_cols: ByIdCols,
    /// Tally changes of the rows written into a filled table.
    delta: TallyDelta,
    by_number: rusqlite::Statement<'c>,
    /// Where `by_number`'s `id` is.
    by_number_id: usize,
}

/// Where the columns of [`SqliteSink::by_id`] are: found by name once, not
/// for each of a million rows.
#[derive(Debug, Clone, Copy)]
struct ByIdCols {
    role: usize,
    row_hash: usize,
    deleted: usize,
    area_path: usize,
    status: usize,
    birth_year: usize,
}

impl<'c> SqliteSink<'c> {
    /// Plain INSERT and UPDATE rather than the upsert: SQLite runs an upsert
    /// with a statement journal, copying every page it touches, which made
    /// bulk loads several times slower. Whether a row exists is known anyway.
    fn new(c: &'c rusqlite::Connection, empty: bool, now: &str) -> Result<Self> {
        let n_params = crate::people::n_values();
        let ph: Vec<String> = (1..=n_params).map(|i| format!("?{i}")).collect();
        let n = n_params + 1;
        let mut insert = c.prepare(&format!(
            "INSERT INTO person ({}, created_at, updated_at) VALUES ({}, ?{n}, ?{n})",
            person_cols(),
            ph.join(", ")
        ))?;
        insert.raw_bind_parameter(n, now)?;
        let sets: Vec<String> = person_cols()
            .split(", ")
            .enumerate()
            .skip(1)
            .map(|(i, c)| format!("{c} = ?{}", i + 1))
            .collect();
        let mut update = c.prepare(&format!(
            "UPDATE person SET {}, updated_at = ?{n}, deleted_at = NULL WHERE id = ?1",
            sets.join(", ")
        ))?;
        update.raw_bind_parameter(n, now)?;
        let by_id = c.prepare(
            "SELECT role, row_hash, deleted_at IS NOT NULL AS deleted, area_path, status, \
             CAST(substr(birth_date, 1, 4) AS INTEGER) AS birth_year FROM person WHERE id = ?1",
        )?;
        let by_id_cols = ByIdCols {
            role: by_id.column_index("role")?,
            row_hash: by_id.column_index("row_hash")?,
            deleted: by_id.column_index("deleted")?,
            area_path: by_id.column_index("area_path")?,
            status: by_id.column_index("status")?,
            birth_year: by_id.column_index("birth_year")?,
        };
        let by_number =
            c.prepare("SELECT id FROM person WHERE id_number_hmac = ?1 AND id <> ?2")?;
        let by_number_id = by_number.column_index("id")?;
        Ok(SqliteSink {
            empty,
            clash: None,
            insert,
            update,
            by_id,
            by_id_cols,
            delta: HashMap::new(),
            by_number,
            by_number_id,
        })
    }

    fn exec(&mut self, item: &Item, existing: bool) -> rusqlite::Result<()> {
        let st = if existing {
            &mut self.update
        } else {
            &mut self.insert
        };
        for (i, c) in item.cols.iter().enumerate() {
            let i = i + 1;
            match *c {
                Col::Null => st.raw_bind_parameter(i, rusqlite::types::Null)?,
                Col::Int(n) => st.raw_bind_parameter(i, n)?,
                Col::Real(x) => st.raw_bind_parameter(i, x)?,
                Col::Bool(b) => st.raw_bind_parameter(i, i64::from(b))?,
                Col::Text(..) => st.raw_bind_parameter(i, item.str(*c).unwrap_or_default())?,
            }
        }
        st.raw_execute()?;
        Ok(())
    }

    /// Writes a row; true when the database refuses it on a constraint (a
    /// repeated id or ID number, reported by the producer's checks).
    fn try_exec(&mut self, item: &Item, existing: bool) -> Result<bool> {
        match self.exec(item, existing) {
            Ok(()) => Ok(false),
            Err(rusqlite::Error::SqliteFailure(e, msg))
                if e.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                if self.clash.is_none() {
                    self.clash = Some((
                        item.row,
                        format!(
                            "the database refused the row: {}",
                            msg.unwrap_or_else(|| e.to_string())
                        ),
                    ));
                }
                Ok(true)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Writes (or, with `write` false, only checks) a batch; true when a row
    /// conflicts with the database.
    fn write(
        &mut self,
        items: &[Item],
        write: bool,
        errs: &mut Errors,
        counts: &mut [Counts; 2],
    ) -> Result<bool> {
        let mut conflict = false;
        for item in items {
            let c = &mut counts[role_index(item.role)];
            c.rows += 1;
            if self.empty {
                if write && !conflict {
                    conflict |= self.try_exec(item, false)?;
                }
                c.inserted += 1;
                continue;
            }
            let a = at();
            let (id, number, hash) = (
                item.text_of(a.id),
                item.text_of(a.hmac),
                item.text_of(a.hash),
            );
            let k = self.by_id_cols;
            let existing = self
                .by_id
                .query_row([id], |r| {
                    Ok((
                        r.get::<_, String>(k.role)?,
                        r.get::<_, String>(k.row_hash)?,
                        r.get::<_, bool>(k.deleted)?,
                        (
                            r.get::<_, String>(k.area_path)?,
                            r.get::<_, String>(k.status)?,
                            r.get::<_, i64>(k.birth_year)?,
                        ),
                    ))
                })
                .optional()?;
            let i = self.by_number_id;
            let holder = self
                .by_number
                .query_row([number, id], |r| r.get::<_, String>(i))
                .optional()?;
            let mut bad = false;
            if let Some((role, _, _, _)) = &existing
                && role != item.role.code()
            {
                errs.push(item.row, "id", role_clash(id, role));
                bad = true;
            }
            if let Some(other) = holder {
                errs.push(
                    item.row,
                    "id_number",
                    format!("this ID number is already registered as person {other:?}"),
                );
                bad = true;
            }
            if bad {
                conflict = true;
                continue;
            }
            let unchanged = matches!(&existing, Some((_, h, false, _)) if h == hash);
            if unchanged {
                c.unchanged += 1;
                continue;
            }
            if existing.is_some() {
                c.updated += 1;
            } else {
                c.inserted += 1;
            }
            if write && !conflict {
                conflict |= self.try_exec(item, existing.is_some())?;
                if let Some((role, _, false, (path, status, year))) = existing {
                    *self.delta.entry((path, role, status, year)).or_insert(0) -= 1;
                }
                let a = at();
                let year = item
                    .text_of(a.birth_date)
                    .get(..4)
                    .and_then(|y| y.parse().ok());
                let key = (
                    item.text_of(a.area_path).to_string(),
                    item.role.code().to_string(),
                    item.text_of(a.status).to_string(),
                    year.unwrap_or_default(),
                );
                *self.delta.entry(key).or_insert(0) += 1;
            }
        }
        Ok(conflict)
    }
}

fn role_clash(id: &str, role: &str) -> String {
    let label = PersonRole::parse(role)
        .map(|r| r.label_en().to_lowercase())
        .unwrap_or_else(|| role.to_string());
    format!("id {id:?} is already used by a record of another register ({label})")
}

/// PostgreSQL: `COPY` straight into `person` when the table is empty, else into
/// a temporary staging table from which conflicts are found and the rows
/// upserted with one statement each.
struct PgSink {
    direct: bool,
    /// Index definitions to create again after a direct load.
    rebuild: Vec<String>,
    /// The first refusal of the database (a constraint), and why.
    clash: Option<(usize, String)>,
    /// First row of the data not yet sent.
    first_row: usize,
    buf: Vec<u8>,
    copy_sql: String,
    now: String,
}

impl PgSink {
    fn new(c: &mut postgres::Client, empty: bool, now: &str) -> Result<Self> {
        let mut rebuild = Vec::new();
        let copy_sql = if empty {
            // As on SQLite: secondary indexes are built once after the load.
            // (Dropping them locks the empty table until the import commits.)
            for r in c.query(
                "SELECT n.nspname, i.relname, pg_get_indexdef(i.oid) AS def FROM pg_index x \
                 JOIN pg_class i ON i.oid = x.indexrelid \
                 JOIN pg_namespace n ON n.oid = i.relnamespace \
                 WHERE x.indrelid = 'person'::regclass \
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) \
                 ORDER BY i.relname",
                &[],
            )? {
                let ns: String = r.try_get("nspname")?;
                let name: String = r.try_get("relname")?;
                let def: String = r.try_get("def")?;
                c.batch_execute(&format!(
                    "DROP INDEX \"{}\".\"{}\"",
                    ns.replace('"', "\"\""),
                    name.replace('"', "\"\"")
                ))?;
                rebuild.push(def);
            }
            // The tally is written once from the producer's counts instead.
            c.batch_execute("ALTER TABLE person DISABLE TRIGGER person_tally_trigger")?;
            rebuild.push("ALTER TABLE person ENABLE TRIGGER person_tally_trigger".into());
            format!(
                "COPY person ({}, created_at, updated_at) FROM STDIN",
                person_cols()
            )
        } else {
            c.batch_execute(&format!(
                "CREATE TEMP TABLE import_person ON COMMIT DROP AS \
                 SELECT 0::BIGINT AS row_no, {} FROM person WITH NO DATA",
                person_cols()
            ))?;
            format!("COPY import_person (row_no, {}) FROM STDIN", person_cols())
        };
        Ok(PgSink {
            direct: empty,
            rebuild,
            clash: None,
            first_row: 0,
            buf: Vec::with_capacity(COPY_CHUNK + (64 << 10)),
            copy_sql,
            now: now.to_string(),
        })
    }

    /// Sends the buffered rows; true when the database refuses them on a
    /// constraint (then the transaction is spoilt and nothing more is sent).
    fn send(&mut self, c: &mut postgres::Client) -> Result<bool> {
        if self.buf.is_empty() {
            return Ok(false);
        }
        let mut w = c.copy_in(&self.copy_sql)?;
        w.write_all(&self.buf)
            .map_err(|e| StoreError::Database(format!("COPY: {e}")))?;
        let sent = w.finish();
        self.buf.clear();
        match sent {
            Ok(_) => Ok(false),
            Err(e)
                if e.code().is_some_and(|c| {
                    c.code().starts_with("23") // integrity constraint violation
                }) =>
            {
                let why = e.as_db_error().map(|d| d.message().to_string());
                self.clash = Some((
                    self.first_row,
                    format!(
                        "the database refused the rows from here on: {}",
                        why.unwrap_or_else(|| e.to_string())
                    ),
                ));
                Ok(true)
            }
            Err(e) => Err(e.into()),
        }
    }

    fn write(
        &mut self,
        c: &mut postgres::Client,
        items: &[Item],
        write: bool,
        counts: &mut [Counts; 2],
    ) -> Result<bool> {
        for item in items {
            let k = &mut counts[role_index(item.role)];
            k.rows += 1;
            if self.buf.is_empty() {
                self.first_row = item.row;
            }
            if self.direct {
                k.inserted += 1;
                if !write {
                    continue;
                }
            } else {
                // Staged rows are still needed to find conflicts.
                let _ = write!(self.buf, "{}\t", item.row);
            }
            for (i, c) in item.cols.iter().enumerate() {
                if i > 0 {
                    self.buf.push(b'\t');
                }
                copy_value(&mut self.buf, item, *c);
            }
            if self.direct {
                for _ in 0..2 {
                    self.buf.push(b'\t');
                    copy_text(&mut self.buf, &self.now);
                }
            }
            self.buf.push(b'\n');
        }
        if self.buf.len() >= COPY_CHUNK {
            return self.send(c);
        }
        Ok(false)
    }

    /// Sends what is left; for staged rows, finds conflicts and upserts.
    /// True when a row conflicts with the database.
    fn finish(
        &mut self,
        c: &mut postgres::Client,
        write: bool,
        errs: &mut Errors,
        counts: &mut [Counts; 2],
    ) -> Result<bool> {
        if self.direct && !write {
            return Ok(false);
        }
        let refused = self.send(c)?;
        if self.direct && !refused && !self.rebuild.is_empty() {
            c.batch_execute("SET LOCAL maintenance_work_mem = '512MB'")?;
            for def in std::mem::take(&mut self.rebuild) {
                c.batch_execute(&def)?;
            }
        }
        if self.direct || refused {
            return Ok(refused);
        }
        let mut conflict = false;
        for r in c.query(
            "SELECT s.row_no, s.id, p.role FROM import_person s JOIN person p ON p.id = s.id \
             WHERE p.role <> s.role ORDER BY s.row_no",
            &[],
        )? {
            let row: i64 = r.try_get("row_no")?;
            let id: String = r.try_get("id")?;
            let role: String = r.try_get("role")?;
            errs.push(row as usize, "id", role_clash(&id, &role));
            conflict = true;
        }
        for r in c.query(
            "SELECT s.row_no, p.id AS other FROM import_person s JOIN person p \
             ON p.id_number_hmac = s.id_number_hmac AND p.id <> s.id ORDER BY s.row_no",
            &[],
        )? {
            let row: i64 = r.try_get("row_no")?;
            let other: String = r.try_get("other")?;
            errs.push(
                row as usize,
                "id_number",
                format!("this ID number is already registered as person {other:?}"),
            );
            conflict = true;
        }
        if conflict {
            return Ok(true);
        }
        for r in c.query(
            "SELECT s.role, COUNT(*) FILTER (WHERE p.id IS NULL) AS inserted, \
             COUNT(*) FILTER (WHERE p.id IS NOT NULL AND p.row_hash = s.row_hash AND p.deleted_at IS NULL) \
             AS unchanged \
             FROM import_person s LEFT JOIN person p ON p.id = s.id GROUP BY s.role",
            &[],
        )? {
            let role: String = r.try_get("role")?;
            let ins: i64 = r.try_get("inserted")?;
            let same: i64 = r.try_get("unchanged")?;
            let role = PersonRole::parse(&role)
                .ok_or_else(|| StoreError::Database(format!("column role: unknown register {role:?}")))?;
            let k = &mut counts[role_index(role)];
            k.inserted = ins as u64;
            k.unchanged = same as u64;
            k.updated = k.rows - k.inserted - k.unchanged;
        }
        if !write {
            return Ok(false);
        }
        let sets: Vec<String> = person_cols()
            .split(", ")
            .skip(1)
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        c.execute(
            &format!(
                "INSERT INTO person ({cols}, created_at, updated_at) \
                 SELECT {cols}, $1, $1 FROM import_person ORDER BY id \
                 ON CONFLICT (id) DO UPDATE SET {}, updated_at = excluded.updated_at, deleted_at = NULL \
                 WHERE person.row_hash <> excluded.row_hash OR person.deleted_at IS NOT NULL",
                sets.join(", "),
                cols = person_cols(),
            ),
            &[&self.now],
        )?;
        Ok(false)
    }
}

/// A value in COPY text format.
fn copy_value(out: &mut Vec<u8>, item: &Item, c: Col) {
    match c {
        Col::Null => out.extend_from_slice(b"\\N"),
        Col::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Col::Real(x) => {
            let _ = write!(out, "{x}");
        }
        Col::Bool(b) => out.push(if b { b't' } else { b'f' }),
        Col::Text(..) => copy_text(out, item.str(c).unwrap_or_default()),
    }
}

fn copy_text(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_list_matches_the_upsert() {
        assert!(
            crate::people::upsert_sql().starts_with(&format!(
                "INSERT INTO person ({}, created_at, updated_at) VALUES (",
                person_cols()
            )),
            "{}",
            crate::people::upsert_sql()
        );
        assert_eq!(person_cols().split(", ").count(), crate::people::n_values());
        // Every declared field is written, the ID number only sealed.
        for f in laoxiao_model::person::PEOPLE.fields {
            assert!(
                person_cols()
                    .split(", ")
                    .any(|c| c == f.column || c == format!("{}_hmac", f.column)),
                "{}",
                f.key
            );
        }
        assert!(!person_cols().split(", ").any(|c| c == "id_number"));
    }

    #[test]
    fn copy_text_escapes() {
        let mut item = Item::default();
        item.text.push_str("a\tb\\c\nd");
        let mut out = Vec::new();
        copy_value(&mut out, &item, Col::Text(0, item.text.len() as u32));
        out.push(b' ');
        copy_value(&mut out, &item, Col::Null);
        out.push(b' ');
        copy_value(&mut out, &item, Col::Real(120.123_456_789));
        out.push(b' ');
        copy_value(&mut out, &item, Col::Bool(true));
        assert_eq!(out, b"a\\tb\\\\c\\nd \\N 120.123456789 t");
    }
}
