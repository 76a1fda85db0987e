//! Import, load and export of the activity registers (staff, service records,
//! enrolments, residences, student cohorts). Every row is validated and its
//! references checked (facilities, classes and people must be live on the
//! register, and of the right kind); one transaction writes all rows or none.

use std::collections::HashSet;

use chrono::NaiveDate;
use laoxiao_model::activity::{
    Enrolment, InsuranceEnrolment, Residence, ServiceRecord, Staff, StudentCohort,
};
use laoxiao_model::alarms::Device;
use laoxiao_model::columns::{
    RecordKind, catalogue_from_row, cohort_from_row, enrolment_from_row, insurance_from_row,
    residence_from_row, service_from_row, staff_from_row,
};
use laoxiao_model::refs::KnownRefs;
use laoxiao_model::register::{Cell, FieldType};
use laoxiao_model::{Checker, ClassType, FacilityKind, FieldError, PersonRole};
use serde::Serialize;

use super::bulk::{Counts, in_people_tx};
use super::import::{Errors, ImportOptions, ImportReport, Layout, Seen, read_all};
use super::read::RowSource;
use crate::Store;
use crate::activity::{self, ActivityRecord, WriteCounts};
use crate::db::{Conn, Value};
use crate::error::Result;
use crate::scope::Scope;

/// The activity records to load in one go (see [`load_activity`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ActivityBatch<'a> {
    pub staff: &'a [Staff],
    pub services: &'a [ServiceRecord],
    pub enrolments: &'a [Enrolment],
    pub residences: &'a [Residence],
    pub student_cohorts: &'a [StudentCohort],
    /// 参保登记
    pub insurance: &'a [InsuranceEnrolment],
}

impl ActivityBatch<'_> {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.staff.len()
            + self.services.len()
            + self.enrolments.len()
            + self.residences.len()
            + self.student_cohorts.len()
            + self.insurance.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What [`load_activity`] did, per kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActivityReport {
    pub staff: ImportReport,
    pub services: ImportReport,
    pub enrolments: ImportReport,
    pub residences: ImportReport,
    pub student_cohorts: ImportReport,
    pub insurance: ImportReport,
}

/// What the reference rules may look at: every live facility (with its kind)
/// and class (with its facility), and the people the records name (with their
/// register). An import sees the whole register, as before.
fn load_refs(
    conn: &mut Conn,
    ck: &Checker<'_>,
    person_ids: &mut dyn Iterator<Item = &str>,
) -> Result<KnownRefs> {
    let mut refs = KnownRefs::default().with_class_ages(ck.class_limits);
    for r in conn.query(
        "SELECT id, kind FROM facility WHERE deleted_at IS NULL",
        &[],
    )? {
        let kind: String = r.get("kind")?;
        if let Some(k) = FacilityKind::parse(&kind) {
            refs.facilities.insert(r.get("id")?, k);
        }
    }
    for r in conn.query(
        "SELECT id, facility_id, class_type FROM childcare_class WHERE deleted_at IS NULL",
        &[],
    )? {
        let id: String = r.get("id")?;
        if let Some(t) = ClassType::parse(&r.get::<String>("class_type")?) {
            refs.class_types.insert(id.clone(), t);
        }
        refs.classes.insert(id, r.get("facility_id")?);
    }
    let wanted: HashSet<&str> = person_ids.collect();
    let mut wanted: Vec<&str> = wanted.into_iter().collect();
    wanted.sort_unstable();
    for chunk in wanted.chunks(500) {
        let ph: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let ids: Vec<Value> = chunk.iter().map(|s| (*s).into()).collect();
        for r in conn.query(
            &format!(
                "SELECT id, role, birth_date FROM person WHERE deleted_at IS NULL AND id IN ({})",
                ph.join(", ")
            ),
            &ids,
        )? {
            let role: String = r.get("role")?;
            let id: String = r.get("id")?;
            if let Some(role) = PersonRole::parse(&role) {
                // Only an enrolment's child needs a birth date (its class's
                // ages): not the million elderly people of a service load.
                if role == PersonRole::Infant {
                    refs.birth_dates
                        .insert(id.clone(), r.get::<NaiveDate>("birth_date")?);
                }
                refs.people.insert(id, role);
            }
        }
    }
    Ok(refs)
}

/// The ids of people a record names (its references to a people register).
fn person_refs<T: ActivityRecord>(x: &T) -> impl Iterator<Item = String> {
    T::register()
        .fields
        .iter()
        .zip(x.to_cells())
        .filter_map(|(f, c)| match (&f.ty, c) {
            (FieldType::Ref("elderly" | "infants" | "people"), Cell::Text(id)) => Some(id),
            _ => None,
        })
}

/// Validates records: their fields, repeated ids, and their references.
fn check<'a, T: ActivityRecord + 'a>(
    store: &Store,
    today: NaiveDate,
    items: impl Iterator<Item = (usize, &'a T)>,
    refs: &KnownRefs,
    errs: &mut Errors,
) {
    let mut seen = Seen::default();
    for (row, x) in items {
        errs.fields(row, x.validate(&store.checker(), today));
        if let Some(first) = seen.first(x.id(), row) {
            errs.push(
                row,
                "id",
                format!("duplicate id {:?}: also on row {first}", x.id()),
            );
        }
        errs.fields(row, x.references(refs));
    }
}

fn counts(rows: usize, w: WriteCounts) -> Counts {
    Counts {
        rows: rows as u64,
        inserted: w.inserted,
        updated: w.updated,
        unchanged: w.unchanged,
    }
}

fn import_kind<T: ActivityRecord>(
    store: &Store,
    src: &mut dyn RowSource,
    layout: &Layout,
    opts: &ImportOptions<'_>,
    today: NaiveDate,
    errs: &mut Errors,
    parse: impl Fn(laoxiao_model::columns::Row<'_>) -> std::result::Result<T, Vec<FieldError>>,
) -> Result<Counts> {
    let (rows, values): (Vec<usize>, Vec<T>) = read_all(src, layout, opts, errs, parse)?
        .into_iter()
        .unzip();
    let mut conn = store.conn()?;
    let c = in_people_tx(&mut conn, &store.reference, opts.dry_run, false, |conn| {
        let named: Vec<String> = values.iter().flat_map(person_refs).collect();
        let refs = load_refs(
            conn,
            &store.checker(),
            &mut named.iter().map(String::as_str),
        )?;
        check(store, today, rows.iter().copied().zip(&values), &refs, errs);
        std::mem::replace(errs, Errors::new("")).check()?;
        let w = activity::write_many(conn, &values, &crate::now_rfc3339(), |_| {})?;
        let c = counts(values.len(), w);
        super::import::audit_import(conn, opts, T::kind(), c)?;
        Ok(c)
    })?;
    Ok(c)
}

/// The import of one activity kind from a file's rows (called by the importer
/// once the header is read).
pub(crate) fn import_source(
    store: &Store,
    kind: RecordKind,
    src: &mut dyn RowSource,
    layout: &Layout,
    opts: &ImportOptions<'_>,
    today: NaiveDate,
    errs: &mut Errors,
) -> Result<Counts> {
    match kind {
        RecordKind::Staff => import_kind(store, src, layout, opts, today, errs, staff_from_row),
        RecordKind::Services => {
            import_kind(store, src, layout, opts, today, errs, service_from_row)
        }
        RecordKind::Enrolments => {
            import_kind(store, src, layout, opts, today, errs, enrolment_from_row)
        }
        RecordKind::Residences => {
            import_kind(store, src, layout, opts, today, errs, residence_from_row)
        }
        RecordKind::StudentCohorts => {
            import_kind(store, src, layout, opts, today, errs, cohort_from_row)
        }
        RecordKind::Insurance => {
            import_kind(store, src, layout, opts, today, errs, insurance_from_row)
        }
        RecordKind::Catalogue => {
            import_kind(store, src, layout, opts, today, errs, catalogue_from_row)
        }
        RecordKind::HomeCareBeds => import_kind(
            store,
            src,
            layout,
            opts,
            today,
            errs,
            laoxiao_model::columns::home_care_from_row,
        ),
        RecordKind::Devices => import_kind(
            store,
            src,
            layout,
            opts,
            today,
            errs,
            laoxiao_model::columns::record_from_row::<Device>,
        ),
        RecordKind::Facilities
        | RecordKind::Classes
        | RecordKind::Elderly
        | RecordKind::Infants => Err(crate::StoreError::Database(format!(
            "{kind} is not an activity register"
        ))),
    }
}

/// Writes activity records built in memory (the synthetic city) through the
/// import's checks, in one transaction, all or nothing. The facilities, classes
/// and people they name must be on the register already (load them first with
/// [`super::load_records`]). Row numbers in errors are 1-based positions in
/// each slice, and columns are prefixed with the slice (`services.person_id`).
pub fn load_activity(
    store: &Store,
    batch: &ActivityBatch<'_>,
    progress: Option<&dyn Fn(u64, u64)>,
) -> Result<ActivityReport> {
    load_activity_on(store, batch, progress, chrono::Local::now().date_naive())
}

/// [`load_activity`] with dates checked against `today`.
pub fn load_activity_on(
    store: &Store,
    batch: &ActivityBatch<'_>,
    progress: Option<&dyn Fn(u64, u64)>,
    today: NaiveDate,
) -> Result<ActivityReport> {
    load_activity_in(store, batch, progress, today, false)
}

/// [`load_activity_on`] while a server reads the same database: the load
/// stays in WAL mode, so pages go on reading while it runs (the demo's
/// insurance register, loaded after the demo starts serving).
pub fn load_activity_while_serving(
    store: &Store,
    batch: &ActivityBatch<'_>,
    today: NaiveDate,
) -> Result<ActivityReport> {
    load_activity_in(store, batch, None, today, true)
}

fn load_activity_in(
    store: &Store,
    batch: &ActivityBatch<'_>,
    progress: Option<&dyn Fn(u64, u64)>,
    today: NaiveDate,
    keep_wal: bool,
) -> Result<ActivityReport> {
    let now = crate::now_rfc3339();
    let total = batch.len() as u64;
    let mut conn = store.conn()?;
    let done = std::cell::Cell::new(0u64);
    let tick = |n: usize| {
        if let Some(p) = progress {
            p(done.get() + n as u64, total);
        }
    };
    let report = in_people_tx(&mut conn, &store.reference, false, keep_wal, |conn| {
        let mut people = batch
            .services
            .iter()
            .map(|s| s.person_id.as_str())
            .chain(batch.enrolments.iter().map(|e| e.infant_id.as_str()))
            .chain(batch.residences.iter().map(|r| r.person_id.as_str()))
            .chain(batch.insurance.iter().map(|r| r.person_id.as_str()));
        let refs = load_refs(conn, &store.checker(), &mut people)?;
        let mut errs = Errors::new("staff.");
        check(store, today, numbered(batch.staff), &refs, &mut errs);
        let mut e = Errors::new("services.");
        check(store, today, numbered(batch.services), &refs, &mut e);
        errs.append(e);
        let mut e = Errors::new("enrolments.");
        check(store, today, numbered(batch.enrolments), &refs, &mut e);
        errs.append(e);
        let mut e = Errors::new("residences.");
        check(store, today, numbered(batch.residences), &refs, &mut e);
        errs.append(e);
        let mut e = Errors::new("student_cohorts.");
        check(store, today, numbered(batch.student_cohorts), &refs, &mut e);
        errs.append(e);
        let mut e = Errors::new("insurance.");
        check(store, today, numbered(batch.insurance), &refs, &mut e);
        errs.append(e);
        errs.check()?;
        let write = |kind: RecordKind, c: Counts| {
            done.set(done.get() + c.rows);
            ImportReport::new(kind, c, false)
        };
        let cohorts = activity::write_many(conn, batch.student_cohorts, &now, &tick)?;
        let student_cohorts = write(
            RecordKind::StudentCohorts,
            counts(batch.student_cohorts.len(), cohorts),
        );
        let w = activity::write_many(conn, batch.staff, &now, &tick)?;
        let staff = write(RecordKind::Staff, counts(batch.staff.len(), w));
        let w = activity::write_many(conn, batch.residences, &now, &tick)?;
        let residences = write(RecordKind::Residences, counts(batch.residences.len(), w));
        let w = activity::write_many(conn, batch.enrolments, &now, &tick)?;
        let enrolments = write(RecordKind::Enrolments, counts(batch.enrolments.len(), w));
        let w = activity::write_many(conn, batch.services, &now, &tick)?;
        let services = write(RecordKind::Services, counts(batch.services.len(), w));
        let w = activity::write_many(conn, batch.insurance, &now, &tick)?;
        let insurance = write(RecordKind::Insurance, counts(batch.insurance.len(), w));
        Ok(ActivityReport {
            staff,
            services,
            enrolments,
            residences,
            student_cohorts,
            insurance,
        })
    })?;
    if let Some(p) = progress {
        p(total, total);
    }
    Ok(report)
}

fn numbered<T>(items: &[T]) -> impl Iterator<Item = (usize, &T)> {
    items.iter().enumerate().map(|(i, x)| (i + 1, x))
}

/// Cells of every live record of an activity `kind` in the scope, in id
/// order. Needs the kind's export permission ([`ActivityRecord::export_perm`]);
/// every export is audited, like an export of people.
pub(crate) fn for_each_row(
    store: &Store,
    scope: &Scope,
    kind: RecordKind,
    mut f: impl FnMut(Vec<String>) -> Result<()>,
) -> Result<usize> {
    fn run<T: ActivityRecord>(
        conn: &mut Conn,
        scope: &Scope,
        f: &mut impl FnMut(Vec<String>) -> Result<()>,
    ) -> Result<usize> {
        scope.require(T::export_perm())?;
        activity::for_each::<T>(conn, scope, |x| f(x.cells()))
    }
    let mut conn = store.conn()?;
    let n = match kind {
        RecordKind::Staff => run::<Staff>(&mut conn, scope, &mut f)?,
        RecordKind::Services => run::<ServiceRecord>(&mut conn, scope, &mut f)?,
        RecordKind::Enrolments => run::<Enrolment>(&mut conn, scope, &mut f)?,
        RecordKind::Residences => run::<Residence>(&mut conn, scope, &mut f)?,
        RecordKind::StudentCohorts => run::<StudentCohort>(&mut conn, scope, &mut f)?,
        RecordKind::Insurance => run::<InsuranceEnrolment>(&mut conn, scope, &mut f)?,
        RecordKind::Catalogue => {
            run::<laoxiao_model::family::ServiceItem>(&mut conn, scope, &mut f)?
        }
        RecordKind::HomeCareBeds => {
            run::<laoxiao_model::HomeCareContract>(&mut conn, scope, &mut f)?
        }
        RecordKind::Devices => run::<Device>(&mut conn, scope, &mut f)?,
        RecordKind::Facilities
        | RecordKind::Classes
        | RecordKind::Elderly
        | RecordKind::Infants => return Ok(0),
    };
    crate::audit::append(
        &mut conn,
        scope,
        crate::audit::Event {
            action: "export",
            entity: kind.code(),
            entity_id: None,
            before: None,
            after: Some(format!("{{\"rows\":{n}}}")),
        },
    )?;
    Ok(n)
}
