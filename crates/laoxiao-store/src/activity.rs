//! The activity registers: staff (从业人员), service records (服务记录), childcare
//! enrolments (入托), care-home residences (入住) and eldercare student cohorts.
//!
//! One generic repository serves all five through [`ActivityRecord`]: upserts
//! that skip unchanged rows by `row_hash` (as for facilities), bulk writes with
//! multi-row statements, lookups by person and by facility, and counts for the
//! indicator queries.

use chrono::NaiveDate;
use laoxiao_model::activity::{Enrolment, Residence, ServiceKind, ServiceRecord, Staff, StaffRole};
use laoxiao_model::columns::{self, RecordKind};
use laoxiao_model::register::{Cell, Domain, Field, FieldType, Record, Register, ScopeRule};

use crate::db::{Backend, Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{Upserted, row_hash};

fn bad(e: String) -> StoreError {
    StoreError::Database(e)
}

/// A record of a declared register kept in its own table (every register
/// declared with [`laoxiao_model::register!`]). Everything this module needs
/// follows from the declaration: table, columns, scope, permissions.
pub trait ActivityRecord: Record {
    /// The table.
    fn table() -> &'static str {
        Self::register().table
    }
    /// The import/export kind.
    fn kind() -> RecordKind {
        RecordKind::parse(Self::register().key).unwrap_or(RecordKind::Staff)
    }
    /// The permission to read records one by one.
    fn read_perm() -> Perm {
        read_perm(Self::register())
    }
    /// The permission to export them (each export audited).
    fn export_perm() -> Perm {
        export_perm(Self::register())
    }
    /// The database columns, in field order; the first is `id`.
    /// Columns of files only (a coordinate system) have none.
    fn cols() -> Vec<&'static str> {
        Self::register()
            .fields
            .iter()
            .filter(|f| !f.file_only())
            .map(|f| f.column)
            .collect()
    }
    /// Values in [`ActivityRecord::cols`] order.
    fn params(&self) -> Vec<Value> {
        Self::register()
            .fields
            .iter()
            .zip(self.to_cells())
            .filter(|(f, _)| !f.file_only())
            .map(|(f, c)| cell_value(f, c))
            .collect()
    }
    /// Reads a record from a row, by column name.
    fn from_db(r: &Row) -> Result<Self> {
        let reg = Self::register();
        let mut cells = Vec::with_capacity(reg.fields.len());
        for f in reg.fields {
            if f.file_only() {
                cells.push(Cell::Null);
                continue;
            }
            cells.push(value_cell(f, r.value(f.column)?)?);
        }
        Self::from_cells(cells).map_err(|e| {
            bad(format!(
                "{}.{}: {} in the database",
                reg.table, e.field, e.reason
            ))
        })
    }
    /// The record as import/export cells (what `row_hash` covers).
    fn cells(&self) -> Vec<String> {
        columns::record_to_row(self)
    }
}

impl<T: Record> ActivityRecord for T {}

/// The permission to read a register's records one by one.
pub fn read_perm(reg: &Register) -> Perm {
    match reg.domain {
        Domain::Facilities => Perm::ReadFacilities,
        Domain::People => Perm::ReadPeople,
    }
}

/// The permission to write a register's records (create, update, delete).
pub fn write_perm(reg: &Register) -> Perm {
    match reg.domain {
        Domain::Facilities => Perm::WriteFacilities,
        Domain::People => Perm::WritePeople,
    }
}

/// The permission to export a register: records about people, or with any
/// personal field, need [`Perm::ExportPeople`]; others (counts of a school's
/// students) need only the read permission.
pub fn export_perm(reg: &Register) -> Perm {
    if reg.domain == Domain::People || reg.has_personal() {
        Perm::ExportPeople
    } else {
        read_perm(reg)
    }
}

/// Enumerations whose codes are numbers (ability levels `0`–`4`) are stored
/// as integers, so that they compare and sort as numbers in SQL.
pub(crate) fn numeric_enum(f: &Field) -> bool {
    matches!(f.ty, FieldType::Enum(values) if values.iter().all(|v| v.code.parse::<i64>().is_ok()))
}

/// A field's cell as a database value: dates as ISO text, lists `;`-joined,
/// numeric enumeration codes as integers.
pub fn cell_value(f: &Field, c: Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Text(s) if numeric_enum(f) => s.parse::<i64>().map_or(Value::Text(s), Value::Int),
        Cell::Text(s) => Value::Text(s),
        Cell::Int(n) => Value::Int(n),
        Cell::Real(x) => Value::Real(x),
        Cell::Bool(b) => Value::Bool(b),
        Cell::Date(d) => d.into(),
        Cell::List(v) => list_value(v.iter().map(String::as_str)),
    }
}

/// An enumeration list as stored: `;a;b;`, delimited at both ends so that
/// `LIKE '%;a;%'` finds one value; an empty list is NULL.
pub fn list_value<'a>(codes: impl Iterator<Item = &'a str>) -> Value {
    let mut out = String::new();
    for c in codes {
        out.push(';');
        out.push_str(c);
    }
    if out.is_empty() {
        Value::Null
    } else {
        out.push(';');
        Value::Text(out)
    }
}

/// The database column of a field when written: an ID number
/// ([`FieldType::IdNumber`]) is written only as its keyed hash
/// (`<column>_hmac`, what lookups and the unique index use); its ciphertext
/// goes to `<column>_enc` (see [`sealed_columns`]).
pub fn write_column(f: &Field) -> String {
    match f.ty {
        FieldType::IdNumber => format!("{}_hmac", f.column),
        _ => f.column.to_string(),
    }
}

/// The column a field is read from: an ID number from its ciphertext.
pub fn read_column(f: &Field) -> String {
    match f.ty {
        FieldType::IdNumber => format!("{}_enc", f.column),
        _ => f.column.to_string(),
    }
}

/// The ciphertext columns of a register's ID-number fields, in field order.
pub fn sealed_columns(reg: &Register) -> Vec<String> {
    reg.fields
        .iter()
        .filter(|f| matches!(f.ty, FieldType::IdNumber))
        .map(|f| format!("{}_enc", f.column))
        .collect()
}

/// A record's values in [`write_column`] order, then the ciphertexts of its
/// ID numbers in [`sealed_columns`] order. The plain number is in neither.
pub fn sealed_values<T: Record>(
    keys: &crate::crypto::Keys,
    x: &T,
) -> Result<(Vec<Value>, Vec<Value>)> {
    let reg = T::register();
    let mut vals = Vec::with_capacity(reg.fields.len());
    let mut enc = Vec::new();
    for (f, c) in reg.fields.iter().zip(x.to_cells()) {
        match (&f.ty, c) {
            (FieldType::IdNumber, Cell::Text(plain)) => {
                vals.push(Value::Text(keys.hmac(&plain)));
                enc.push(Value::Text(keys.encrypt(&plain)?));
            }
            (_, c) => vals.push(cell_value(f, c)),
        }
    }
    Ok((vals, enc))
}

/// Reads a record with ID-number fields from a row by [`read_column`] name,
/// decrypting each number.
pub fn from_sealed_row<T: Record>(keys: &crate::crypto::Keys, r: &Row) -> Result<T> {
    let reg = T::register();
    let mut cells = Vec::with_capacity(reg.fields.len());
    for f in reg.fields {
        cells.push(match f.ty {
            FieldType::IdNumber => match r.get::<Option<String>>(&read_column(f))? {
                Some(enc) => Cell::Text(keys.decrypt(&enc)?),
                None => {
                    return Err(StoreError::Crypto(
                        "an ID number is not yet encrypted: configure the data key and restart"
                            .into(),
                    ));
                }
            },
            _ => value_cell(f, r.value(f.column)?)?,
        });
    }
    // The error names the field, never the value (personal data).
    T::from_cells(cells).map_err(|e| {
        bad(format!(
            "{}.{}: {} in the database",
            reg.table, e.field, e.reason
        ))
    })
}

/// A database value as a cell of the field's type. NULL is [`Cell::Null`]
/// (the record type decides whether that is allowed); a value of another type
/// is an error naming the column, never a silent default.
pub fn value_cell(f: &Field, v: &Value) -> Result<Cell> {
    let wrong = || {
        bad(format!(
            "column {}: expected {}, found another type in the database",
            f.column,
            f.ty.name()
        ))
    };
    Ok(match (v, &f.ty) {
        (Value::Null, _) => Cell::Null,
        (Value::Int(n), FieldType::Int(_) | FieldType::Money(_)) => Cell::Int(*n),
        (Value::Int(n), FieldType::Enum(_)) if numeric_enum(f) => Cell::Text(n.to_string()),
        (Value::Real(x), FieldType::Decimal { .. }) => Cell::Real(*x),
        (Value::Int(n), FieldType::Decimal { .. }) => Cell::Real(*n as f64),
        (Value::Bool(b), FieldType::Bool) => Cell::Bool(*b),
        (Value::Int(n @ (0 | 1)), FieldType::Bool) => Cell::Bool(*n == 1),
        (Value::Text(t), FieldType::Date) => Cell::Date(columns::parse_date(t).ok_or_else(wrong)?),
        (Value::Text(t), FieldType::EnumList(_)) => Cell::List(
            t.split(';')
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect(),
        ),
        (
            Value::Text(t),
            FieldType::Text
            | FieldType::Note
            | FieldType::Enum(_)
            | FieldType::Ref(_)
            | FieldType::Area
            | FieldType::IdNumber,
        ) => Cell::Text(t.clone()),
        _ => return Err(wrong()),
    })
}

fn col_list<T: ActivityRecord>() -> String {
    T::cols().join(", ")
}

/// The single-row upsert: inserts, or updates only when the content changed
/// (or the row was deleted), as for facilities.
fn upsert_sql<T: ActivityRecord>(rows: usize) -> String {
    let n = T::cols().len() + 1;
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let ph: Vec<String> = (0..n).map(|i| format!("${}", 2 + r * n + i)).collect();
            format!("({}, $1, $1)", ph.join(", "))
        })
        .collect();
    let sets: Vec<String> = T::cols()
        .iter()
        .skip(1)
        .chain(&["row_hash"])
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO {t} ({cols}, row_hash, created_at, updated_at) VALUES {} \
         ON CONFLICT (id) DO UPDATE SET {}, updated_at = excluded.updated_at, deleted_at = NULL \
         WHERE {t}.row_hash <> excluded.row_hash OR {t}.deleted_at IS NOT NULL",
        values.join(", "),
        sets.join(", "),
        t = T::table(),
        cols = col_list::<T>(),
    )
}

/// A plain multi-row INSERT (for rows known to be new: cheaper on SQLite).
fn insert_sql<T: ActivityRecord>(rows: usize) -> String {
    let n = T::cols().len() + 1;
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let ph: Vec<String> = (0..n).map(|i| format!("${}", 2 + r * n + i)).collect();
            format!("({}, $1, $1)", ph.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} ({}, row_hash, created_at, updated_at) VALUES {}",
        T::table(),
        col_list::<T>(),
        values.join(", ")
    )
}

/// The record's values followed by its row hash.
fn values_with_hash<T: ActivityRecord>(item: &T, out: &mut Vec<Value>) {
    out.extend(item.params());
    out.push(row_hash(&item.cells()).into());
}

/// What a bulk write did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Rows per statement: within SQLite's 32,766 and PostgreSQL's 65,535 parameters.
fn chunk_rows<T: ActivityRecord>() -> usize {
    (20_000 / (T::cols().len() + 1)).clamp(1, 1000)
}

/// Inserts or updates records (already validated and checked) with multi-row
/// statements, inside the caller's transaction. Rows whose content is stored
/// already are left alone and counted as unchanged.
pub fn write_many<T: ActivityRecord>(
    conn: &mut Conn,
    items: &[T],
    now: &str,
    mut progress: impl FnMut(usize),
) -> Result<WriteCounts> {
    let mut counts = WriteCounts::default();
    let empty = conn.query_i64(
        &format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {} LIMIT 1) t",
            T::table()
        ),
        &[],
    )? == 0;
    let per = chunk_rows::<T>();
    // Into an empty table, a large load goes in id order with the secondary
    // indexes dropped and rebuilt after: building an index once is several
    // times cheaper than growing it row by row. Both databases have
    // transactional DDL, so a failure leaves the indexes as they were.
    let mut sorted: Vec<&T> = items.iter().collect();
    let rebuild = if empty && items.len() >= BULK_ROWS {
        sorted.sort_unstable_by(|a, b| a.id().cmp(b.id()));
        drop_indexes(conn, T::table())?
    } else {
        Vec::new()
    };
    let mut done = 0;
    for chunk in sorted.chunks(per) {
        if empty {
            write_chunk(conn, chunk.iter().copied(), now, false)?;
            counts.inserted += chunk.len() as u64;
        } else {
            let ph: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let ids: Vec<Value> = chunk.iter().map(|x| x.id().into()).collect();
            let stored: std::collections::HashMap<String, (String, bool)> = conn
                .query(
                    &format!(
                        "SELECT id, row_hash, deleted_at IS NOT NULL AS deleted FROM {} WHERE id IN ({})",
                        T::table(),
                        ph.join(", ")
                    ),
                    &ids,
                )?
                .into_iter()
                .map(|r| {
                    Ok((
                        r.get::<String>("id")?,
                        (r.get::<String>("row_hash")?, r.get::<bool>("deleted")?),
                    ))
                })
                .collect::<Result<_>>()?;
            let mut new = Vec::new();
            let mut changed = Vec::new();
            for &item in chunk {
                match stored.get(item.id()) {
                    None => new.push(item),
                    Some((hash, deleted)) => {
                        if !deleted && *hash == row_hash(&item.cells()) {
                            counts.unchanged += 1;
                        } else {
                            changed.push(item);
                        }
                    }
                }
            }
            counts.inserted += new.len() as u64;
            counts.updated += changed.len() as u64;
            if !new.is_empty() {
                write_chunk(conn, new.into_iter(), now, false)?;
            }
            if !changed.is_empty() {
                write_chunk(conn, changed.into_iter(), now, true)?;
            }
        }
        done += chunk.len();
        progress(done);
    }
    for sql in rebuild {
        conn.batch(&sql)?;
    }
    Ok(counts)
}

/// Loads of at least this many rows into an empty table rebuild its indexes.
const BULK_ROWS: usize = 50_000;

/// Drops the secondary indexes of `table`; returns the statements that create
/// them again.
fn drop_indexes(conn: &mut Conn, table: &str) -> Result<Vec<String>> {
    let rows = match conn.backend() {
        Backend::Sqlite => conn.query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 \
             AND sql IS NOT NULL ORDER BY name",
            &[table.into()],
        )?,
        Backend::Postgres => conn.query(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i \
             JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = to_regnamespace(i.schemaname) \
             JOIN pg_index x ON x.indexrelid = c.oid \
             WHERE i.tablename = $1 AND i.schemaname = current_schema() AND NOT x.indisprimary \
             ORDER BY i.indexname",
            &[table.into()],
        )?,
    };
    let mut create = Vec::new();
    for r in rows {
        let (name, sql) = match conn.backend() {
            Backend::Sqlite => (r.get::<String>("name")?, r.get::<String>("sql")?),
            Backend::Postgres => (r.get::<String>("indexname")?, r.get::<String>("indexdef")?),
        };
        conn.batch(&format!("DROP INDEX {name}"))?;
        create.push(sql);
    }
    Ok(create)
}

fn write_chunk<'a, T: ActivityRecord + 'a>(
    conn: &mut Conn,
    items: impl ExactSizeIterator<Item = &'a T>,
    now: &str,
    upsert: bool,
) -> Result<()> {
    let n = items.len();
    let mut params = Vec::with_capacity(1 + n * (T::cols().len() + 1));
    params.push(Value::from(now));
    for item in items {
        values_with_hash(item, &mut params);
    }
    let sql = if upsert {
        upsert_sql::<T>(n)
    } else {
        insert_sql::<T>(n)
    };
    conn.execute(&sql, &params)?;
    crate::versions::bump(conn, crate::versions::of_table(T::table()))?;
    Ok(())
}

/// Inserts or updates one record (already validated; its references exist).
pub fn upsert<T: ActivityRecord>(conn: &mut Conn, item: &T, now: &str) -> Result<Upserted> {
    let existed = conn.query_opt(
        &format!(
            "SELECT row_hash, deleted_at FROM {} WHERE id = $1",
            T::table()
        ),
        &[item.id().into()],
    )?;
    let mut params = vec![Value::from(now)];
    values_with_hash(item, &mut params);
    let hash = params.last().cloned().unwrap_or(Value::Null);
    conn.execute(&upsert_sql::<T>(1), &params)?;
    crate::versions::bump(conn, crate::versions::of_table(T::table()))?;
    Ok(match existed {
        None => Upserted::Inserted,
        Some(r)
            if Value::Text(r.get::<String>("row_hash")?) == hash
                && r.get::<Option<String>>("deleted_at")?.is_none() =>
        {
            Upserted::Unchanged
        }
        Some(_) => Upserted::Updated,
    })
}

/// The `FROM` of a scoped read of `T` (the table is `t`) and the scope's
/// conditions (` AND …`), through the facility or person the record belongs
/// to. The system reads the table alone.
fn scoped_from<T: ActivityRecord>(scope: &Scope, p: &mut Vec<Value>) -> (String, String) {
    let mut w = String::new();
    if scope.role().is_none() {
        return (format!("{} t", T::table()), w);
    }
    let from = match T::register().scope {
        ScopeRule::Facility(col) => {
            scope.push_sql(&mut w, p, "s.area_path", Some("s.id"));
            format!("{} t JOIN facility s ON s.id = t.{col}", T::table())
        }
        ScopeRule::Person(col) => {
            scope.push_sql(&mut w, p, "s.area_path", None);
            format!("{} t JOIN person s ON s.id = t.{col}", T::table())
        }
        ScopeRule::AreaPath(col) => {
            scope.push_sql(&mut w, p, &format!("t.{col}"), None);
            format!("{} t", T::table())
        }
        ScopeRule::City => format!("{} t", T::table()),
    };
    (from, w)
}

fn t_cols<T: ActivityRecord>() -> String {
    T::cols()
        .iter()
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Live records of `T` in the scope matching `cond` (on `t`, parameters from
/// `$1`), in `order`.
fn select_where<T: ActivityRecord>(
    conn: &mut Conn,
    scope: &Scope,
    cond: &str,
    params: &[Value],
    order: &str,
) -> Result<Vec<T>> {
    scope.require(T::read_perm())?;
    let mut p = params.to_vec();
    let (from, w) = scoped_from::<T>(scope, &mut p);
    conn.query(
        &format!(
            "SELECT {} FROM {from} WHERE t.deleted_at IS NULL AND {cond}{w} ORDER BY {order}",
            t_cols::<T>(),
        ),
        &p,
    )?
    .iter()
    .map(T::from_db)
    .collect()
}

/// One live record in the scope (outside it: not found).
pub fn get<T: ActivityRecord>(conn: &mut Conn, scope: &Scope, id: &str) -> Result<T> {
    select_where::<T>(conn, scope, "t.id = $1", &[id.into()], "t.id")?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::NotFound {
            what: T::table(),
            id: id.to_string(),
        })
}

/// Whether a record with this id, live or deleted, lies in the scope.
pub fn get_any<T: ActivityRecord>(conn: &mut Conn, scope: &Scope, id: &str) -> Result<bool> {
    let mut p = vec![Value::from(id)];
    let (from, w) = scoped_from::<T>(scope, &mut p);
    Ok(conn
        .query_opt(&format!("SELECT t.id FROM {from} WHERE t.id = $1{w}"), &p)?
        .is_some())
}

/// Marks a record deleted. The activity registers are written by the
/// city-wide import, so deleting needs [`Perm::Import`]; the record must be in
/// the scope like any read.
pub fn soft_delete<T: ActivityRecord>(conn: &mut Conn, scope: &Scope, id: &str) -> Result<()> {
    scope.require(Perm::Import)?;
    get::<T>(conn, scope, id)?;
    let n = conn.execute(
        &format!(
            "UPDATE {} SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
            T::table()
        ),
        &[crate::now_rfc3339().into(), id.into()],
    )?;
    crate::versions::bump(conn, crate::versions::of_table(T::table()))?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: T::table(),
            id: id.to_string(),
        });
    }
    Ok(())
}

/// The live staff of a facility, in id order.
pub fn staff_of_facility(conn: &mut Conn, scope: &Scope, facility_id: &str) -> Result<Vec<Staff>> {
    select_where(
        conn,
        scope,
        "t.facility_id = $1",
        &[facility_id.into()],
        "t.id",
    )
}

/// The live service records of a person, by date.
pub fn services_of_person(
    conn: &mut Conn,
    scope: &Scope,
    person_id: &str,
) -> Result<Vec<ServiceRecord>> {
    select_where(
        conn,
        scope,
        "t.person_id = $1",
        &[person_id.into()],
        "t.date, t.id",
    )
}

/// The live service records a facility gave from `from` to `to` (inclusive),
/// by date: of the people in the scope.
pub fn services_of_facility(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ServiceRecord>> {
    select_where(
        conn,
        scope,
        "t.facility_id = $1 AND t.date >= $2 AND t.date <= $3",
        &[facility_id.into(), from.into(), to.into()],
        "t.date, t.id",
    )
}

/// The live enrolments of a facility, by start date: of the infants in the scope.
pub fn enrolments_of_facility(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
) -> Result<Vec<Enrolment>> {
    select_where(
        conn,
        scope,
        "t.facility_id = $1",
        &[facility_id.into()],
        "t.start_date, t.id",
    )
}

/// The live enrolments of an infant, by start date.
pub fn enrolments_of_infant(
    conn: &mut Conn,
    scope: &Scope,
    infant_id: &str,
) -> Result<Vec<Enrolment>> {
    select_where(
        conn,
        scope,
        "t.infant_id = $1",
        &[infant_id.into()],
        "t.start_date, t.id",
    )
}

/// The live residences of a care home, by admission: of the people in the scope.
pub fn residences_of_facility(
    conn: &mut Conn,
    scope: &Scope,
    facility_id: &str,
) -> Result<Vec<Residence>> {
    select_where(
        conn,
        scope,
        "t.facility_id = $1",
        &[facility_id.into()],
        "t.admitted_date, t.id",
    )
}

/// The live residences of a person, by admission.
pub fn residences_of_person(
    conn: &mut Conn,
    scope: &Scope,
    person_id: &str,
) -> Result<Vec<Residence>> {
    select_where(
        conn,
        scope,
        "t.person_id = $1",
        &[person_id.into()],
        "t.admitted_date, t.id",
    )
}

/// A count over `T` in the scope (an aggregate: the read permission or
/// [`Perm::Aggregates`]).
fn count_where<T: ActivityRecord>(
    conn: &mut Conn,
    scope: &Scope,
    what: &str,
    cond: &str,
    params: &[Value],
) -> Result<i64> {
    if !scope.can(T::read_perm()) {
        scope.require(Perm::Aggregates)?;
    }
    let mut p = params.to_vec();
    let (from, w) = scoped_from::<T>(scope, &mut p);
    conn.query_i64(
        &format!("SELECT {what} FROM {from} WHERE t.deleted_at IS NULL{cond}{w}"),
        &p,
    )
}

/// Live records of a table in the scope.
pub fn count<T: ActivityRecord>(conn: &mut Conn, scope: &Scope) -> Result<i64> {
    count_where::<T>(conn, scope, "COUNT(*)", "", &[])
}

/// Staff of `role` employed on `on` (hired by then and not yet left); with
/// `certified`, only those holding a certificate.
pub fn count_staff(
    conn: &mut Conn,
    scope: &Scope,
    role: StaffRole,
    on: NaiveDate,
    certified: bool,
) -> Result<i64> {
    let cert = if certified {
        match conn.backend() {
            Backend::Postgres => " AND t.certified",
            Backend::Sqlite => " AND t.certified <> 0",
        }
    } else {
        ""
    };
    count_where::<Staff>(
        conn,
        scope,
        "COUNT(*)",
        &format!(
            " AND t.role = $1 AND t.hired_date <= $2 AND (t.left_date IS NULL OR t.left_date > $2){cert}"
        ),
        &[role.code().into(), on.into()],
    )
}

/// Service records of `kind` dated `from` to `to` (inclusive).
pub fn count_services(
    conn: &mut Conn,
    scope: &Scope,
    kind: ServiceKind,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<i64> {
    count_where::<ServiceRecord>(
        conn,
        scope,
        "COUNT(*)",
        " AND t.kind = $1 AND t.date >= $2 AND t.date <= $3",
        &[kind.code().into(), from.into(), to.into()],
    )
}

/// Distinct people given a service of `kind` from `from` to `to` (inclusive).
pub fn count_people_served(
    conn: &mut Conn,
    scope: &Scope,
    kind: ServiceKind,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<i64> {
    count_where::<ServiceRecord>(
        conn,
        scope,
        "COUNT(DISTINCT t.person_id)",
        " AND t.kind = $1 AND t.date >= $2 AND t.date <= $3",
        &[kind.code().into(), from.into(), to.into()],
    )
}

/// Every live record in the scope in id order, streamed to `f` in pages (for
/// export; the caller checks [`ActivityRecord::EXPORT`] and audits).
pub fn for_each<T: ActivityRecord>(
    conn: &mut Conn,
    scope: &Scope,
    mut f: impl FnMut(&T) -> Result<()>,
) -> Result<usize> {
    scope.require(T::read_perm())?;
    let mut after = String::new();
    let mut n = 0;
    loop {
        let mut p: Vec<Value> = vec![after.as_str().into()];
        let (from, w) = scoped_from::<T>(scope, &mut p);
        let rows = conn.query(
            &format!(
                "SELECT {} FROM {from} WHERE t.deleted_at IS NULL AND t.id > $1{w} ORDER BY t.id LIMIT 5000",
                t_cols::<T>(),
            ),
            &p,
        )?;
        if rows.is_empty() {
            return Ok(n);
        }
        for r in &rows {
            let x = T::from_db(r)?;
            f(&x)?;
            n += 1;
            after = x.id().to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_number_their_placeholders_per_row() {
        let sql = insert_sql::<Residence>(2);
        assert!(
            sql.contains("($2, $3, $4, $5, $6, $7, $1, $1), ($8, $9, $10, $11, $12, $13, $1, $1)")
        );
        assert!(upsert_sql::<Staff>(1).contains("WHERE staff.row_hash <> excluded.row_hash"));
    }
}
