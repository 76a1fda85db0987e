//! Importing files and loading records: validation of every row, then one
//! transaction that writes all rows or none.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use laoxiao_model::columns::file_fields;
use laoxiao_model::columns::{
    self, HeaderMap, RecordKind, class_from_row, facility_from_row, person_from_row,
};
use laoxiao_model::{
    CLASSES, ChildcareClass, FACILITIES, Facility, FieldError, Person, PersonRole, Record,
};
use laoxiao_spatial::CoordSystem;
use serde::Serialize;

use super::bulk::{self, Counts, PeopleJob};
use super::limits::{ImportLimits, Limit};
use super::read::{self, BadCell, CsvSource, FileFormat, RowSource, SheetSource};
use crate::db::Conn;
use crate::error::{Result, RowError, StoreError};
use crate::scope::Scope;
use crate::{Store, Upserted, audit, facilities, now_rfc3339};

/// Header of the ID-number column in a masked export (English). Files with it
/// are refused, so that masked numbers never overwrite full ones.
pub const MASKED_ID_HEADER_EN: &str = "id_number_masked";
/// Header of the ID-number column in a masked export (Chinese).
pub const MASKED_ID_HEADER_ZH: &str = "身份证号码（已脱敏）";

/// At most this many row errors are listed; the last entry then says how many
/// more there were.
pub(crate) const MAX_ERRORS: usize = 100_000;

/// How to import.
#[derive(Clone, Copy)]
pub struct ImportOptions<'a> {
    /// Coordinate system of rows whose `coord_system` cell is empty.
    pub coords: CoordSystem,
    /// Validate and count what would change, then roll back: nothing is written.
    pub dry_run: bool,
    /// Called now and then with `(done, total)`: bytes for CSV, rows otherwise.
    pub progress: Option<&'a dyn Fn(u64, u64)>,
    /// What the file may hold (from the configuration).
    pub limits: ImportLimits,
    /// Who imports: the import's audit entry (action `import`, entity the
    /// kind, the report as `after`) is written inside its transaction, so the
    /// rows and their entry are written together or not at all. `None` (the
    /// default) writes no entry; every import a person starts sets it.
    pub audit_as: Option<&'a Scope>,
}

impl Default for ImportOptions<'_> {
    fn default() -> Self {
        ImportOptions {
            coords: CoordSystem::Wgs84,
            dry_run: false,
            progress: None,
            limits: ImportLimits::default(),
            audit_as: None,
        }
    }
}

impl std::fmt::Debug for ImportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("coords", &self.coords)
            .field("dry_run", &self.dry_run)
            .field("progress", &self.progress.is_some())
            .field("limits", &self.limits)
            .field("audit_as", &self.audit_as.map(|s| s.actor.user.as_str()))
            .finish()
    }
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub kind: RecordKind,
    /// Data rows read (blank rows not counted).
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Rows identical to the stored record; neither they nor their
    /// `updated_at` were touched.
    pub unchanged: u64,
    /// True when nothing was written (a preview).
    pub dry_run: bool,
}

impl ImportReport {
    pub(crate) fn new(kind: RecordKind, c: Counts, dry_run: bool) -> Self {
        ImportReport {
            kind,
            rows: c.rows,
            inserted: c.inserted,
            updated: c.updated,
            unchanged: c.unchanged,
            dry_run,
        }
    }
}

/// What [`load_records`] did, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    pub facilities: ImportReport,
    pub classes: ImportReport,
    pub elderly: ImportReport,
    pub infants: ImportReport,
}

/// Row errors being collected; column names may carry a prefix (`people.`).
pub(crate) struct Errors {
    list: Vec<RowError>,
    more: usize,
    prefix: &'static str,
}

impl Errors {
    pub(crate) fn new(prefix: &'static str) -> Self {
        Errors {
            list: Vec::new(),
            more: 0,
            prefix,
        }
    }

    pub(crate) fn push(&mut self, row: usize, column: &str, reason: impl Into<String>) {
        if self.list.len() >= MAX_ERRORS {
            self.more += 1;
            return;
        }
        self.list.push(RowError {
            row,
            column: format!("{}{column}", self.prefix),
            reason: reason.into(),
        });
    }

    pub(crate) fn fields(&mut self, row: usize, errs: Vec<FieldError>) {
        for e in errs {
            self.push(row, &e.field, e.reason);
        }
    }

    /// Keeps only the errors `f` accepts.
    pub(crate) fn retain(&mut self, f: impl FnMut(&RowError) -> bool) {
        self.list.retain(f);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty() && self.more == 0
    }

    pub(crate) fn append(&mut self, other: Errors) {
        self.more += other.more;
        for e in other.list {
            if self.list.len() >= MAX_ERRORS {
                self.more += 1;
            } else {
                self.list.push(e);
            }
        }
    }

    /// `Ok` when there are none, else the rejection listing them by row.
    pub(crate) fn check(self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.into_error())
        }
    }

    /// The rejection listing the errors by row.
    pub(crate) fn into_error(mut self) -> StoreError {
        self.list.sort_by_key(|e| e.row);
        if self.more > 0 {
            let row = self.list.last().map(|e| e.row).unwrap_or(0);
            self.list.push(RowError {
                row,
                column: "*".into(),
                reason: format!("{} more errors not listed", self.more),
            });
        }
        StoreError::ImportRejected(self.list)
    }
}

/// Imports a file; CSV or spreadsheet is decided from its content and name.
pub fn import_file(
    store: &Store,
    kind: RecordKind,
    path: &Path,
    opts: &ImportOptions<'_>,
) -> Result<ImportReport> {
    import_file_on(store, kind, path, opts, local_today())
}

/// [`import_file`] with ages checked on `today`.
pub fn import_file_on(
    store: &Store,
    kind: RecordKind,
    path: &Path,
    opts: &ImportOptions<'_>,
    today: NaiveDate,
) -> Result<ImportReport> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = std::fs::File::open(path)
        .map_err(|e| StoreError::File(format!("{}: {e}", path.display())))?;
    let bytes = read_limited(&name, file, &opts.limits)?;
    import_bytes_on(store, kind, &name, &bytes, opts, today)
}

/// Imports a file read from `reader`; `name` (e.g. an upload's file name) helps
/// tell CSV from XLSX.
pub fn import_reader(
    store: &Store,
    kind: RecordKind,
    name: &str,
    reader: impl Read,
    opts: &ImportOptions<'_>,
) -> Result<ImportReport> {
    let bytes = read_limited(name, reader, &opts.limits)?;
    import_bytes(store, kind, name, &bytes, opts)
}

/// Reads a whole file, refusing one larger than any import may be (the file
/// is held in memory while it is read).
fn read_limited(name: &str, reader: impl Read, limits: &ImportLimits) -> Result<Vec<u8>> {
    let (limit, max) = if name.to_ascii_lowercase().ends_with(".xlsx") {
        (Limit::XlsxBytes, limits.max_xlsx_bytes)
    } else {
        (
            Limit::CsvBytes,
            limits.max_csv_bytes.max(limits.max_xlsx_bytes),
        )
    };
    let mut bytes = Vec::new();
    reader
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| StoreError::File(format!("{name}: {e}")))?;
    if bytes.len() as u64 > max {
        return Err(limits.exceeded(limit, format!("{name} has more bytes")));
    }
    Ok(bytes)
}

/// Imports a file held in memory (an upload); `name` helps tell CSV from XLSX.
pub fn import_bytes(
    store: &Store,
    kind: RecordKind,
    name: &str,
    bytes: &[u8],
    opts: &ImportOptions<'_>,
) -> Result<ImportReport> {
    import_bytes_on(store, kind, name, bytes, opts, local_today())
}

/// [`import_bytes`] with ages checked on `today`.
pub fn import_bytes_on(
    store: &Store,
    kind: RecordKind,
    name: &str,
    bytes: &[u8],
    opts: &ImportOptions<'_>,
    today: NaiveDate,
) -> Result<ImportReport> {
    let limits = opts.limits;
    match read::detect(name, bytes)? {
        FileFormat::Csv => {
            let text = read::decode_text(bytes)?;
            if text.len() as u64 > limits.max_csv_bytes {
                return Err(limits.exceeded(
                    Limit::CsvBytes,
                    format!("{name} has {} bytes of text", text.len()),
                ));
            }
            import_source(store, kind, &mut CsvSource::new(&text, limits), opts, today)
        }
        FileFormat::Spreadsheet => import_source(
            store,
            kind,
            &mut SheetSource::new(bytes, limits)?,
            opts,
            today,
        ),
    }
}

/// The spreadsheet letters of a 0-based column position (0 → A, 26 → AA).
pub(crate) fn col_letters(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// A file's columns: the key of each position (None for a blank header).
pub(crate) struct Layout {
    pub map: HeaderMap,
    keys: Vec<Option<&'static str>>,
    /// Position of the ID-number column.
    id_col: Option<usize>,
}

impl Layout {
    fn new(kind: RecordKind, row: usize, headers: &[String], errs: &mut Errors) -> Option<Layout> {
        for h in headers {
            let h = h.trim().trim_start_matches('\u{feff}');
            if h == MASKED_ID_HEADER_EN || h == MASKED_ID_HEADER_ZH {
                errs.push(
                    row,
                    "id_number",
                    "this file is a masked export: its ID numbers are masked (********) and \
                     cannot be imported; export again with full ID numbers",
                );
                return None;
            }
        }
        match HeaderMap::new(kind, headers) {
            Ok(map) => {
                let cols = columns::columns(kind);
                let keys = headers
                    .iter()
                    .map(|h| {
                        let h = h.trim().trim_start_matches('\u{feff}');
                        cols.iter()
                            .find(|c| c.file_key.eq_ignore_ascii_case(h) || c.zh == h)
                            .map(|c| c.key)
                    })
                    .collect::<Vec<_>>();
                let id_col = keys.iter().position(|k| *k == Some("id_number"));
                Some(Layout { map, keys, id_col })
            }
            Err(fe) => {
                errs.fields(row, fe);
                None
            }
        }
    }

    fn column_name(&self, i: usize) -> String {
        match self.keys.get(i).copied().flatten() {
            Some(k) => k.to_string(),
            None => format!("column {}", col_letters(i)),
        }
    }

    /// Errors for unreadable cells and for values outside the header's columns.
    fn cell_errors(&self, row: usize, cells: &[String], bad: &mut Vec<BadCell>, errs: &mut Errors) {
        for b in bad.drain(..) {
            errs.push(row, &self.column_name(b.col), b.reason);
        }
        for (i, c) in cells.iter().enumerate() {
            if self.keys.get(i).copied().flatten().is_none() && !c.trim().is_empty() {
                errs.push(
                    row,
                    &self.column_name(i),
                    "value in a column without a header; add the header or remove the value",
                );
            }
        }
    }
}

/// Tracks ids (and ID numbers) seen so far in a file.
#[derive(Default)]
pub(crate) struct Seen {
    map: HashMap<String, usize>,
}

impl Seen {
    /// `Some(first_row)` when `key` was seen before; otherwise records it.
    pub(crate) fn first(&mut self, key: &str, row: usize) -> Option<usize> {
        if let Some(&r) = self.map.get(key) {
            return Some(r);
        }
        self.map.insert(key.to_string(), row);
        None
    }
}

fn local_today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

fn import_source(
    store: &Store,
    kind: RecordKind,
    src: &mut dyn RowSource,
    opts: &ImportOptions<'_>,
    today: NaiveDate,
) -> Result<ImportReport> {
    let report = import_source_in(store, kind, src, opts, today)?;
    if !opts.dry_run {
        let table = kind.register().table;
        match kind {
            RecordKind::Elderly | RecordKind::Infants => store.analyze(&[table, "person_tally"])?,
            _ => store.analyze(&[table])?,
        }
    }
    Ok(report)
}

fn import_source_in(
    store: &Store,
    kind: RecordKind,
    src: &mut dyn RowSource,
    opts: &ImportOptions<'_>,
    today: NaiveDate,
) -> Result<ImportReport> {
    let mut errs = Errors::new("");
    let Some((header_row, headers)) = src.header()? else {
        errs.push(1, "*", "the file is empty; expected a header row");
        return Err(errs.into_error());
    };
    let Some(layout) = Layout::new(kind, header_row, &headers, &mut errs) else {
        return Err(errs.into_error());
    };
    match kind {
        RecordKind::Facilities => {
            let items = read_all(src, &layout, opts, &mut errs, facility_from_row)?;
            let mut conn = store.conn()?;
            let c = in_tx(&mut conn, opts.dry_run, |conn| {
                let mut seen = Seen::default();
                check_facilities(store, today, &items, &mut seen, &mut errs);
                std::mem::replace(&mut errs, Errors::new("")).check()?;
                let c = write_facilities(conn, store, &items, &now_rfc3339())?;
                audit_import(conn, opts, kind, c)?;
                Ok(c)
            })?;
            progress_done(opts);
            Ok(ImportReport::new(kind, c, opts.dry_run))
        }
        RecordKind::Classes => {
            let items = read_all(src, &layout, opts, &mut errs, class_from_row)?;
            let mut conn = store.conn()?;
            let c = in_tx(&mut conn, opts.dry_run, |conn| {
                let known = live_facility_ids(conn)?;
                check_classes(store, today, &items, &known, &HashSet::new(), &mut errs);
                std::mem::replace(&mut errs, Errors::new("")).check()?;
                let c = write_classes(conn, &items, &now_rfc3339())?;
                audit_import(conn, opts, kind, c)?;
                Ok(c)
            })?;
            progress_done(opts);
            Ok(ImportReport::new(kind, c, opts.dry_run))
        }
        RecordKind::Staff
        | RecordKind::Services
        | RecordKind::Enrolments
        | RecordKind::Residences
        | RecordKind::StudentCohorts
        | RecordKind::Insurance
        | RecordKind::Catalogue
        | RecordKind::HomeCareBeds
        | RecordKind::Devices => {
            let c =
                super::activity::import_source(store, kind, src, &layout, opts, today, &mut errs)?;
            progress_done(opts);
            Ok(ImportReport::new(kind, c, opts.dry_run))
        }
        RecordKind::Elderly | RecordKind::Infants => {
            let role = if kind == RecordKind::Elderly {
                PersonRole::Elderly
            } else {
                PersonRole::Infant
            };
            let coords = opts.coords;
            let layout = &layout;
            let mut conn = store.conn()?;
            let counts =
                bulk::in_people_tx(&mut conn, &store.reference, opts.dry_run, false, |conn| {
                    let job = PeopleJob {
                        store,
                        today,
                        now: now_rfc3339(),
                        already_failed: !errs.is_empty(),
                        progress: opts.progress,
                        prefix: "",
                    };
                    let (counts, perrs) = bulk::run(conn, &job, move |p| {
                        p.expect_rows(src.rows_hint());
                        read_people(src, layout, coords, role, p)
                    })?;
                    errs.append(perrs);
                    std::mem::replace(&mut errs, Errors::new("")).check()?;
                    audit_import(
                        conn,
                        opts,
                        kind,
                        counts[usize::from(role == PersonRole::Infant)],
                    )?;
                    Ok(counts)
                })?;
            progress_done(opts);
            let c = counts[usize::from(role == PersonRole::Infant)];
            Ok(ImportReport::new(kind, c, opts.dry_run))
        }
    }
}

/// Appends the import's audit entry (who loaded what, how much: one entry per
/// import, not per row) inside the import's transaction, when the options
/// name who imports. A dry run writes nothing and is not audited.
pub(crate) fn audit_import(
    conn: &mut Conn,
    opts: &ImportOptions<'_>,
    kind: RecordKind,
    counts: Counts,
) -> Result<()> {
    let Some(scope) = opts.audit_as.filter(|_| !opts.dry_run) else {
        return Ok(());
    };
    let report = ImportReport::new(kind, counts, false);
    audit::append(
        conn,
        scope,
        audit::Event {
            action: "import",
            entity: kind.code(),
            entity_id: None,
            before: None,
            after: audit::snapshot(&report),
        },
    )?;
    Ok(())
}

/// A data row read and parsed, on its way to validation.
struct Parsed {
    row: usize,
    person: std::result::Result<Person, Vec<FieldError>>,
    masked: bool,
    progress: (u64, u64),
}

/// Reads and parses people rows on a thread of its own, while the calling
/// (producer) thread validates them: with the writer, three stages share the
/// two cores. Parsed batches come back to the reading thread to be freed
/// (or reused) where they were allocated.
fn read_people(
    src: &mut dyn RowSource,
    layout: &Layout,
    coords: CoordSystem,
    role: PersonRole,
    p: &mut bulk::Producer<'_>,
) -> Result<()> {
    const CHUNK: usize = 1024;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Parsed>>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<Parsed>>();
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("import-read".into())
            .spawn_scoped(s, move || -> Result<Errors> {
                let mut errs = Errors::new("");
                let mut cells = Vec::new();
                let mut bad = Vec::new();
                let mut batch = Vec::with_capacity(CHUNK);
                let mut spare: Vec<Vec<Parsed>> = Vec::new();
                while let Some(row) = src.next_row(&mut cells, &mut bad)? {
                    layout.cell_errors(row, &cells, &mut bad, &mut errs);
                    batch.push(Parsed {
                        row,
                        person: person_from_row(layout.map.row(&cells, coords), role),
                        masked: layout
                            .id_col
                            .and_then(|i| cells.get(i))
                            .is_some_and(|c| c.contains('*')),
                        progress: src.progress(),
                    });
                    if batch.len() >= CHUNK {
                        while let Ok(mut old) = back_rx.try_recv() {
                            old.clear();
                            spare.push(old);
                        }
                        let next = spare.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK));
                        if tx.send(std::mem::replace(&mut batch, next)).is_err() {
                            // The validating side stopped; it reports why.
                            return Ok(errs);
                        }
                    }
                }
                let _ = tx.send(batch);
                Ok(errs)
            })
            .map_err(|e| StoreError::Database(format!("could not start the import reader: {e}")))?;
        for batch in rx.iter() {
            for r in &batch {
                match &r.person {
                    Ok(person) => p.accept(r.row, person, r.masked),
                    Err(fe) => p.reject(r.row, fe.clone(), r.masked),
                }
                p.tick(|| r.progress);
            }
            let _ = back_tx.send(batch);
            if p.is_closed() {
                break;
            }
        }
        drop(rx);
        let cell_errs = reader
            .join()
            .map_err(|_| StoreError::Database("the import reader panicked".into()))??;
        p.errors.append(cell_errs);
        Ok(())
    })
}

fn progress_done(opts: &ImportOptions<'_>) {
    if let Some(p) = opts.progress {
        p(1, 1);
    }
}

/// Reads every row of a register held in memory (all but people) into records.
pub(crate) fn read_all<T>(
    src: &mut dyn RowSource,
    layout: &Layout,
    opts: &ImportOptions<'_>,
    errs: &mut Errors,
    parse: impl Fn(columns::Row<'_>) -> std::result::Result<T, Vec<FieldError>>,
) -> Result<Vec<(usize, T)>> {
    let mut out = Vec::new();
    let mut cells = Vec::new();
    let mut bad = Vec::new();
    while let Some(row) = src.next_row(&mut cells, &mut bad)? {
        layout.cell_errors(row, &cells, &mut bad, errs);
        match parse(layout.map.row(&cells, opts.coords)) {
            Ok(v) => out.push((row, v)),
            Err(fe) => errs.fields(row, fe),
        }
        if let Some(p) = opts.progress {
            let (d, t) = src.progress();
            p(d, t);
        }
    }
    Ok(out)
}

/// Validates facilities: fields, duplicate ids in the batch.
fn check_facilities(
    store: &Store,
    today: NaiveDate,
    items: &[(usize, Facility)],
    seen: &mut Seen,
    errs: &mut Errors,
) {
    let ck = store.checker();
    for (row, f) in items {
        errs.fields(*row, file_fields(&FACILITIES, f.validate(&ck, today)));
        if let Some(first) = seen.first(&f.id, *row) {
            errs.push(
                *row,
                "id",
                format!("duplicate id {:?}: also on row {first}", f.id),
            );
        }
    }
}

/// Ids of the live facilities.
fn live_facility_ids(conn: &mut Conn) -> Result<HashSet<String>> {
    conn.query("SELECT id FROM facility WHERE deleted_at IS NULL", &[])?
        .iter()
        .map(|r| r.get("id"))
        .collect()
}

/// Validates classes: fields, duplicate ids, and that each facility exists
/// in the database or in the same batch.
fn check_classes(
    store: &Store,
    today: NaiveDate,
    items: &[(usize, ChildcareClass)],
    db_facilities: &HashSet<String>,
    batch_facilities: &HashSet<&str>,
    errs: &mut Errors,
) {
    let ck = store.checker();
    let mut seen = Seen::default();
    for (row, c) in items {
        let fe = file_fields(&CLASSES, c.validate(&ck, today));
        let facility_failed = fe.iter().any(|e| e.field == "facility_id");
        errs.fields(*row, fe);
        if let Some(first) = seen.first(&c.id, *row) {
            errs.push(
                *row,
                "id",
                format!("duplicate id {:?}: also on row {first}", c.id),
            );
        }
        if !facility_failed
            && !db_facilities.contains(&c.facility_id)
            && !batch_facilities.contains(c.facility_id.as_str())
        {
            errs.push(
                *row,
                "facility_id",
                format!(
                    "facility {:?} is neither on the register nor in this import",
                    c.facility_id
                ),
            );
        }
    }
}

fn count(c: &mut Counts, u: Upserted) {
    c.rows += 1;
    match u {
        Upserted::Inserted => c.inserted += 1,
        Upserted::Updated => c.updated += 1,
        Upserted::Unchanged => c.unchanged += 1,
    }
}

fn write_facilities(
    conn: &mut Conn,
    store: &Store,
    items: &[(usize, Facility)],
    now: &str,
) -> Result<Counts> {
    let mut c = Counts::default();
    for (_, f) in items {
        count(&mut c, facilities::upsert(conn, &store.reference, f, now)?);
    }
    Ok(c)
}

/// Classes go through the declared registers' multi-row writes.
fn write_classes(conn: &mut Conn, items: &[(usize, ChildcareClass)], now: &str) -> Result<Counts> {
    let classes: Vec<ChildcareClass> = items.iter().map(|(_, c)| c.clone()).collect();
    let w = crate::activity::write_many(conn, &classes, now, |_| {})?;
    Ok(Counts {
        rows: classes.len() as u64,
        inserted: w.inserted,
        updated: w.updated,
        unchanged: w.unchanged,
    })
}

/// Runs `f` in a transaction that is committed, or rolled back when `f` fails
/// or for a dry run. SQLite takes the write lock at once (`BEGIN IMMEDIATE`),
/// so a concurrent writer makes it wait instead of failing half-way.
pub(crate) fn in_tx<T>(
    conn: &mut Conn,
    dry_run: bool,
    f: impl FnOnce(&mut Conn) -> Result<T>,
) -> Result<T> {
    conn.transaction_with(!dry_run, f)
}

/// Writes records built in memory (the synthetic city) through the import's
/// checks and bulk path: facilities, classes and people (both registers) in one
/// transaction, all or nothing. Row numbers in errors are 1-based positions in
/// each slice, and columns are prefixed with the slice (`people.id_number`).
pub fn load_records(
    store: &Store,
    facilities: &[Facility],
    classes: &[ChildcareClass],
    people: &[Person],
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<LoadReport> {
    load_records_on(store, facilities, classes, people, progress, local_today())
}

/// [`load_records`] with the records checked on `today`, the date they
/// describe (the synthetic city's `as_of`): an infant must be under three
/// then, and stays on the register after turning three (超龄).
pub fn load_records_on(
    store: &Store,
    facilities: &[Facility],
    classes: &[ChildcareClass],
    people: &[Person],
    progress: Option<&dyn Fn(u64, u64)>,
    today: NaiveDate,
) -> Result<LoadReport> {
    let now = now_rfc3339();
    let fac_items: Vec<(usize, Facility)> = facilities
        .iter()
        .enumerate()
        .map(|(i, f)| (i + 1, f.clone()))
        .collect();
    let class_items: Vec<(usize, ChildcareClass)> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (i + 1, c.clone()))
        .collect();
    let mut conn = store.conn()?;
    let (fc, cc, pc) = bulk::in_people_tx(&mut conn, &store.reference, false, false, |conn| {
        let mut errs = Errors::new("facilities.");
        let mut seen = Seen::default();
        check_facilities(store, today, &fac_items, &mut seen, &mut errs);
        let mut cerrs = Errors::new("classes.");
        let known = live_facility_ids(conn)?;
        let batch: HashSet<&str> = facilities.iter().map(|f| f.id.as_str()).collect();
        check_classes(store, today, &class_items, &known, &batch, &mut cerrs);
        errs.append(cerrs);
        let (fc, cc) = if errs.is_empty() {
            (
                write_facilities(conn, store, &fac_items, &now)?,
                write_classes(conn, &class_items, &now)?,
            )
        } else {
            (Counts::default(), Counts::default())
        };
        let job = PeopleJob {
            store,
            today,
            now: now.clone(),
            already_failed: !errs.is_empty(),
            progress,
            prefix: "people.",
        };
        let total = people.len() as u64;
        let (pc, perrs) = bulk::run(conn, &job, move |p| {
            p.expect_rows(people.len());
            for (i, person) in people.iter().enumerate() {
                p.accept(i + 1, person, person.id_number.contains('*'));
                if p.is_closed() {
                    break;
                }
                p.tick(|| (i as u64 + 1, total));
            }
            Ok(())
        })?;
        errs.append(perrs);
        errs.check()?;
        Ok((fc, cc, pc))
    })?;
    if let Some(p) = progress {
        p(people.len() as u64, people.len() as u64);
    }
    Ok(LoadReport {
        facilities: ImportReport::new(RecordKind::Facilities, fc, false),
        classes: ImportReport::new(RecordKind::Classes, cc, false),
        elderly: ImportReport::new(RecordKind::Elderly, pc[0], false),
        infants: ImportReport::new(RecordKind::Infants, pc[1], false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(col_letters(0), "A");
        assert_eq!(col_letters(25), "Z");
        assert_eq!(col_letters(26), "AA");
        assert_eq!(col_letters(27), "AB");
        assert_eq!(col_letters(701), "ZZ");
        assert_eq!(col_letters(702), "AAA");
    }

    #[test]
    fn errors_sort_by_row_and_cap() {
        let mut e = Errors::new("p.");
        e.push(5, "a", "x");
        e.push(2, "b", "y");
        let Err(StoreError::ImportRejected(v)) = e.check() else {
            panic!("rejected")
        };
        assert_eq!(v[0].row, 2);
        assert_eq!(v[0].column, "p.b");
        let mut e = Errors::new("");
        for i in 0..MAX_ERRORS + 5 {
            e.push(i, "a", "x");
        }
        let Err(StoreError::ImportRejected(v)) = e.check() else {
            panic!("rejected")
        };
        assert_eq!(v.len(), MAX_ERRORS + 1);
        assert!(v[MAX_ERRORS].reason.contains("5 more"));
    }
}
