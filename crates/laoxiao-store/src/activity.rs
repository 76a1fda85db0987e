//! The activity registers: staff (从业人员), service records (服务记录), childcare
//! enrolments (入托), care-home residences (入住) and eldercare student cohorts.
//!
//! One generic repository serves all five through [`ActivityRecord`]: upserts
//! that skip unchanged rows by `row_hash` (as for facilities), bulk writes with
//! multi-row statements, lookups by person and by facility, and counts for the
//! indicator queries.

use chrono::NaiveDate;
use laoxiao_model::activity::{
    Enrolment, Residence, ServiceKind, ServiceRecord, SkillGrade, Staff, StaffRole, StudentCohort,
};
use laoxiao_model::columns::{
    self, RecordKind, cohort_to_row, enrolment_to_row, residence_to_row, service_to_row,
    staff_to_row,
};
use laoxiao_model::person::AbilityLevel;

use crate::db::{Backend, Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{Upserted, row_hash};

/// What an activity record belongs to, and so which scope covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A facility (this column): the facility's area and, for operators, the
    /// facility itself.
    Facility(&'static str),
    /// A person (this column): the person's residence area.
    Person(&'static str),
    /// Nothing placed in an area (city-wide statistics).
    City,
}

fn bad(e: String) -> StoreError {
    StoreError::Database(e)
}

fn date(r: &Row, i: usize) -> Result<NaiveDate> {
    let t = r.text(i);
    columns::parse_date(&t).ok_or_else(|| bad(format!("bad date {t:?} in the database")))
}

fn opt_date(r: &Row, i: usize) -> Option<NaiveDate> {
    r.opt_text(i).and_then(|t| columns::parse_date(&t))
}

/// A record of one of the activity tables.
pub trait ActivityRecord: Sized + Send + Sync {
    /// The table.
    const TABLE: &'static str;
    /// The import/export kind.
    const KIND: RecordKind;
    /// What the record belongs to (the scope of reads goes through it).
    const VIA: Via;
    /// The permission to read records one by one.
    const READ: Perm;
    /// The permission to export them (each export audited).
    const EXPORT: Perm;
    /// Columns in [`ActivityRecord::params`] order; the first is `id`.
    const COLS: &'static [&'static str];
    fn id(&self) -> &str;
    /// Values in [`ActivityRecord::COLS`] order.
    fn params(&self) -> Vec<Value>;
    /// Reads a record from the columns selected in [`ActivityRecord::COLS`] order.
    fn from_db(r: &Row) -> Result<Self>;
    /// The record as import/export cells (what `row_hash` covers).
    fn cells(&self) -> Vec<String>;
}

impl ActivityRecord for Staff {
    const TABLE: &'static str = "staff";
    const KIND: RecordKind = RecordKind::Staff;
    const VIA: Via = Via::Facility("facility_id");
    const READ: Perm = Perm::ReadFacilities;
    const EXPORT: Perm = Perm::ExportPeople;
    const COLS: &'static [&'static str] = &[
        "id",
        "facility_id",
        "role",
        "name",
        "certified",
        "certificate",
        "skill_grade",
        "hired_date",
        "left_date",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn params(&self) -> Vec<Value> {
        vec![
            self.id.as_str().into(),
            self.facility_id.as_str().into(),
            self.role.code().into(),
            self.name.as_str().into(),
            self.certified.into(),
            self.certificate.clone().into(),
            self.skill_grade.code().into(),
            self.hired_date.into(),
            self.left_date.into(),
        ]
    }
    fn from_db(r: &Row) -> Result<Self> {
        Ok(Staff {
            id: r.text(0),
            facility_id: r.text(1),
            role: r.text(2).parse::<StaffRole>().map_err(bad)?,
            name: r.text(3),
            certified: r.bool(4),
            certificate: r.opt_text(5),
            skill_grade: r.text(6).parse::<SkillGrade>().map_err(bad)?,
            hired_date: date(r, 7)?,
            left_date: opt_date(r, 8),
        })
    }
    fn cells(&self) -> Vec<String> {
        staff_to_row(self)
    }
}

impl ActivityRecord for ServiceRecord {
    const TABLE: &'static str = "service_record";
    const KIND: RecordKind = RecordKind::Services;
    const VIA: Via = Via::Person("person_id");
    const READ: Perm = Perm::ReadPeople;
    const EXPORT: Perm = Perm::ExportPeople;
    const COLS: &'static [&'static str] = &[
        "id",
        "person_id",
        "kind",
        "date",
        "facility_id",
        "ability_level",
        "note",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn params(&self) -> Vec<Value> {
        vec![
            self.id.as_str().into(),
            self.person_id.as_str().into(),
            self.kind.code().into(),
            self.date.into(),
            self.facility_id.clone().into(),
            self.ability_level.map(|a| i64::from(a.number())).into(),
            self.note.clone().into(),
        ]
    }
    fn from_db(r: &Row) -> Result<Self> {
        Ok(ServiceRecord {
            id: r.text(0),
            person_id: r.text(1),
            kind: r.text(2).parse::<ServiceKind>().map_err(bad)?,
            date: date(r, 3)?,
            facility_id: r.opt_text(4),
            ability_level: r
                .opt_int(5)
                .map(|n| n.to_string().parse::<AbilityLevel>())
                .transpose()
                .map_err(bad)?,
            note: r.opt_text(6),
        })
    }
    fn cells(&self) -> Vec<String> {
        service_to_row(self)
    }
}

impl ActivityRecord for Enrolment {
    const TABLE: &'static str = "enrolment";
    const KIND: RecordKind = RecordKind::Enrolments;
    const VIA: Via = Via::Person("infant_id");
    const READ: Perm = Perm::ReadPeople;
    const EXPORT: Perm = Perm::ExportPeople;
    const COLS: &'static [&'static str] = &[
        "id",
        "infant_id",
        "facility_id",
        "class_id",
        "start_date",
        "end_date",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn params(&self) -> Vec<Value> {
        vec![
            self.id.as_str().into(),
            self.infant_id.as_str().into(),
            self.facility_id.as_str().into(),
            self.class_id.clone().into(),
            self.start_date.into(),
            self.end_date.into(),
        ]
    }
    fn from_db(r: &Row) -> Result<Self> {
        Ok(Enrolment {
            id: r.text(0),
            infant_id: r.text(1),
            facility_id: r.text(2),
            class_id: r.opt_text(3),
            start_date: date(r, 4)?,
            end_date: opt_date(r, 5),
        })
    }
    fn cells(&self) -> Vec<String> {
        enrolment_to_row(self)
    }
}

impl ActivityRecord for Residence {
    const TABLE: &'static str = "residence";
    const KIND: RecordKind = RecordKind::Residences;
    const VIA: Via = Via::Person("person_id");
    const READ: Perm = Perm::ReadPeople;
    const EXPORT: Perm = Perm::ExportPeople;
    const COLS: &'static [&'static str] = &[
        "id",
        "person_id",
        "facility_id",
        "admitted_date",
        "discharged_date",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn params(&self) -> Vec<Value> {
        vec![
            self.id.as_str().into(),
            self.person_id.as_str().into(),
            self.facility_id.as_str().into(),
            self.admitted_date.into(),
            self.discharged_date.into(),
        ]
    }
    fn from_db(r: &Row) -> Result<Self> {
        Ok(Residence {
            id: r.text(0),
            person_id: r.text(1),
            facility_id: r.text(2),
            admitted_date: date(r, 3)?,
            discharged_date: opt_date(r, 4),
        })
    }
    fn cells(&self) -> Vec<String> {
        residence_to_row(self)
    }
}

impl ActivityRecord for StudentCohort {
    const TABLE: &'static str = "student_cohort";
    const KIND: RecordKind = RecordKind::StudentCohorts;
    const VIA: Via = Via::City;
    const READ: Perm = Perm::Aggregates;
    const EXPORT: Perm = Perm::Aggregates;
    const COLS: &'static [&'static str] = &[
        "id",
        "institution",
        "program",
        "intake_year",
        "enrolled",
        "graduated",
    ];
    fn id(&self) -> &str {
        &self.id
    }
    fn params(&self) -> Vec<Value> {
        vec![
            self.id.as_str().into(),
            self.institution.as_str().into(),
            self.program.as_str().into(),
            self.intake_year.into(),
            self.enrolled.into(),
            self.graduated.into(),
        ]
    }
    fn from_db(r: &Row) -> Result<Self> {
        Ok(StudentCohort {
            id: r.text(0),
            institution: r.text(1),
            program: r.text(2),
            intake_year: r.int(3),
            enrolled: r.int(4),
            graduated: r.int(5),
        })
    }
    fn cells(&self) -> Vec<String> {
        cohort_to_row(self)
    }
}

fn col_list<T: ActivityRecord>() -> String {
    T::COLS.join(", ")
}

/// The single-row upsert: inserts, or updates only when the content changed
/// (or the row was deleted), as for facilities.
fn upsert_sql<T: ActivityRecord>(rows: usize) -> String {
    let n = T::COLS.len() + 1;
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let ph: Vec<String> = (0..n).map(|i| format!("${}", 2 + r * n + i)).collect();
            format!("({}, $1, $1)", ph.join(", "))
        })
        .collect();
    let sets: Vec<String> = T::COLS
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
        t = T::TABLE,
        cols = col_list::<T>(),
    )
}

/// A plain multi-row INSERT (for rows known to be new: cheaper on SQLite).
fn insert_sql<T: ActivityRecord>(rows: usize) -> String {
    let n = T::COLS.len() + 1;
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let ph: Vec<String> = (0..n).map(|i| format!("${}", 2 + r * n + i)).collect();
            format!("({}, $1, $1)", ph.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO {} ({}, row_hash, created_at, updated_at) VALUES {}",
        T::TABLE,
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
    (20_000 / (T::COLS.len() + 1)).clamp(1, 1000)
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
            T::TABLE
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
        drop_indexes(conn, T::TABLE)?
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
                        "SELECT id, row_hash, deleted_at IS NOT NULL FROM {} WHERE id IN ({})",
                        T::TABLE,
                        ph.join(", ")
                    ),
                    &ids,
                )?
                .into_iter()
                .map(|r| (r.text(0), (r.text(1), r.bool(2))))
                .collect();
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
        let (name, sql) = (r.text(0), r.text(1));
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
    let mut params = Vec::with_capacity(1 + n * (T::COLS.len() + 1));
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
    Ok(())
}

/// Inserts or updates one record (already validated; its references exist).
pub fn upsert<T: ActivityRecord>(conn: &mut Conn, item: &T, now: &str) -> Result<Upserted> {
    let existed = conn.query_opt(
        &format!(
            "SELECT row_hash, deleted_at FROM {} WHERE id = $1",
            T::TABLE
        ),
        &[item.id().into()],
    )?;
    let mut params = vec![Value::from(now)];
    values_with_hash(item, &mut params);
    let hash = params.last().cloned().unwrap_or(Value::Null);
    conn.execute(&upsert_sql::<T>(1), &params)?;
    Ok(match existed {
        None => Upserted::Inserted,
        Some(r) if Value::Text(r.text(0)) == hash && r.opt_text(1).is_none() => Upserted::Unchanged,
        Some(_) => Upserted::Updated,
    })
}

/// The `FROM` of a scoped read of `T` (the table is `t`) and the scope's
/// conditions (` AND …`), through the facility or person the record belongs
/// to. The system reads the table alone.
fn scoped_from<T: ActivityRecord>(scope: &Scope, p: &mut Vec<Value>) -> (String, String) {
    let mut w = String::new();
    if scope.role().is_none() {
        return (format!("{} t", T::TABLE), w);
    }
    let from = match T::VIA {
        Via::Facility(col) => {
            scope.push_sql(&mut w, p, "s.area_path", Some("s.id"));
            format!("{} t JOIN facility s ON s.id = t.{col}", T::TABLE)
        }
        Via::Person(col) => {
            scope.push_sql(&mut w, p, "s.area_path", None);
            format!("{} t JOIN person s ON s.id = t.{col}", T::TABLE)
        }
        Via::City => format!("{} t", T::TABLE),
    };
    (from, w)
}

fn t_cols<T: ActivityRecord>() -> String {
    T::COLS
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
    scope.require(T::READ)?;
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
            what: T::TABLE,
            id: id.to_string(),
        })
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
            T::TABLE
        ),
        &[crate::now_rfc3339().into(), id.into()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound {
            what: T::TABLE,
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
    if !scope.can(T::READ) {
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
    scope.require(T::READ)?;
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
        assert_eq!(
            Residence::COLS.len(),
            columns::columns(Residence::KIND).len()
        );
        assert_eq!(Staff::COLS.len(), columns::columns(Staff::KIND).len());
        assert_eq!(
            ServiceRecord::COLS.len(),
            columns::columns(ServiceRecord::KIND).len()
        );
        assert_eq!(
            Enrolment::COLS.len(),
            columns::columns(Enrolment::KIND).len()
        );
        assert_eq!(
            StudentCohort::COLS.len(),
            columns::columns(StudentCohort::KIND).len()
        );
        assert!(upsert_sql::<Staff>(1).contains("WHERE staff.row_hash <> excluded.row_hash"));
    }
}
