//! Reads the registers into the indicator engine's [`Facts`]: one pass per
//! register in id order, in batches, only the fields definitions test. The
//! facts are kept (in [`Kept`]) until a register or the indicator tables
//! change; every server sees another's writes through the register versions.
//!
//! Memory at scale 1, estimated from the row sizes: about 40 bytes per
//! person and 16 per service record or enrolment, plus the ids (to name the
//! records behind a count): about 110 MB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use laoxiao_model::activity::{SkillGrade, StaffRole};
use laoxiao_model::facility::{FacilityLevel, FacilityStatus, FilingStatus, Rating};
use laoxiao_model::person::{LivingArrangement, PersonStatus, SpecialDifficulty};
use laoxiao_model::{AreaTree, FacilityKind, PersonRole, ServiceKind};
use laoxiao_rules::indicators::facts::{
    CohortFact, FacilityFact, NONE, PersonEvent, PersonFact, ResidentsFact, StaffFact, day, opt_day,
};
use laoxiao_rules::indicators::{Cond, Facts, Relation, definitions};

use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::versions::{self, Versions};

/// Rows per round trip.
const BATCH: i64 = 50_000;

/// Ids of one register in the facts' order, in one arena.
#[derive(Debug, Default)]
pub struct Ids {
    text: String,
    ends: Vec<u32>,
}

impl Ids {
    fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
    }

    /// The id at a position.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end)
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Positions sorted by id bytes (the database's order may follow its
    /// collation), for lookups by id.
    fn sorted(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.len() as u32).collect();
        if !self.is_sorted() {
            order.sort_unstable_by(|a, b| self.get(*a as usize).cmp(&self.get(*b as usize)));
        }
        order
    }

    fn is_sorted(&self) -> bool {
        (1..self.len()).all(|i| self.get(i - 1) <= self.get(i))
    }
}

/// The facts with the ids behind them and the versions they were read at.
#[derive(Debug)]
pub struct Loaded {
    pub facts: Facts,
    pub person_ids: Ids,
    pub facility_ids: Ids,
    pub staff_ids: Ids,
    pub versions: Versions,
    /// How long the read took.
    pub took: Duration,
}

/// The facts a process keeps (in [`crate::Reference`]).
#[derive(Debug, Default)]
pub struct Kept {
    held: Mutex<Option<Arc<Loaded>>>,
}

impl Kept {
    /// The facts at the database's current versions: the kept ones if no
    /// register changed since, else read again (one reader at a time; the
    /// others wait and share its result).
    pub fn get(&self, conn: &mut Conn, areas: &AreaTree) -> Result<Arc<Loaded>> {
        let now = versions::read(conn)?;
        let mut held = self
            .held
            .lock()
            .map_err(|_| StoreError::Database("indicator facts lock poisoned".into()))?;
        if let Some(l) = held.as_ref()
            && l.versions == now
        {
            return Ok(Arc::clone(l));
        }
        // What did not change is taken over from the facts held (a write to
        // one facility does not read a million people again).
        let prev = held.take();
        let loaded = Arc::new(load_reusing(conn, areas, now, prev.as_deref())?);
        drop(prev);
        *held = Some(Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Forgets the kept facts (tests, and memory pressure).
    pub fn clear(&self) {
        if let Ok(mut h) = self.held.lock() {
            *h = None;
        }
    }
}

fn position<T: PartialEq + Copy>(all: &[T], v: T) -> u8 {
    all.iter().position(|x| *x == v).unwrap_or(0) as u8
}

fn col(rows: &[Row], name: &str) -> Result<usize> {
    match rows.first() {
        Some(r) => r.index_of(name),
        None => Ok(0),
    }
}

/// Reads every batch of `sql` (which takes the last id as `$1` and holds
/// `{after}` where the id condition goes), calling `each` per row.
pub(crate) fn batches(
    conn: &mut Conn,
    sql: &str,
    params: &[Value],
    mut each: impl FnMut(&[Row]) -> Result<()>,
) -> Result<()> {
    let mut last: Option<String> = None;
    loop {
        let mut p: Vec<Value> = params.to_vec();
        let cond = match &last {
            Some(id) => {
                p.push(id.as_str().into());
                format!("id > ${}", p.len())
            }
            None => "1 = 1".to_string(),
        };
        let rows = conn.query(
            &format!(
                "{} ORDER BY id LIMIT {BATCH}",
                sql.replace("{after}", &cond)
            ),
            &p,
        )?;
        if rows.is_empty() {
            return Ok(());
        }
        each(&rows)?;
        let n = rows.len();
        let id_at = rows[0].index_of("id")?;
        last = Some(rows[n - 1].get_at(id_at)?);
        if (n as i64) < BATCH {
            return Ok(());
        }
    }
}

/// The service kinds any definition tests (only those records are read).
fn service_kinds_used() -> Result<Vec<ServiceKind>> {
    fn walk(c: &Cond, out: &mut Vec<u8>) {
        match c {
            Cond::Related(Relation::Service(k)) => out.extend(k),
            Cond::Not(c) => walk(c, out),
            Cond::Or(v) => v.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let defs = definitions().map_err(|e| StoreError::Reference(e.to_string()))?;
    let mut used = Vec::new();
    for d in &defs.all {
        for s in [&d.numerator, &d.denominator].into_iter().flatten() {
            s.conditions.iter().for_each(|c| walk(c, &mut used));
        }
    }
    used.sort_unstable();
    used.dedup();
    Ok(used
        .into_iter()
        .filter_map(|i| ServiceKind::ALL.get(usize::from(i)).copied())
        .collect())
}

fn hukou(code: Option<String>) -> (u64, u8) {
    match code {
        Some(c) if !c.is_empty() && c.len() <= 18 && c.bytes().all(|b| b.is_ascii_digit()) => {
            (c.parse().unwrap_or(0), c.len() as u8)
        }
        _ => (0, 0),
    }
}

/// Reads the facts (at versions `v`, read just before).
pub fn load(conn: &mut Conn, areas: &AreaTree, v: Versions) -> Result<Loaded> {
    load_reusing(conn, areas, v, None)
}

/// `YYYY-MM-DD` as days, without a parser per cell (the hot path reads
/// millions of dates).
fn ymd(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d")
            .ok()
            .map(day);
    }
    let n = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |a, c| {
            c.is_ascii_digit().then(|| a * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(n(0..4)? as i32, n(5..7)?, n(8..10)?).map(day)
}

/// Streams a query's rows on SQLite (no row is materialised as values);
/// `None` on PostgreSQL, whose callers use the batched path.
pub(crate) fn sqlite_each(
    conn: &mut Conn,
    sql: &str,
    params: &[&str],
    mut each: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<()>,
) -> Result<Option<()>> {
    let Some(c) = conn.as_sqlite() else {
        return Ok(None);
    };
    let db = |e: rusqlite::Error| StoreError::Database(e.to_string());
    let mut st = c.prepare(sql).map_err(db)?;
    let mut rows = st
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(db)?;
    while let Some(r) = rows.next().map_err(db)? {
        each(r).map_err(db)?;
    }
    Ok(Some(()))
}

// One argument per column read; the two readers (streamed and batched) share it.
#[allow(clippy::too_many_arguments)]
fn person_fact(
    area: u32,
    role: &str,
    status: &str,
    birth: i32,
    death: Option<i32>,
    moved: Option<i32>,
    hukou_code: Option<String>,
    ability: Option<i64>,
    dementia: bool,
    care_insurance: bool,
    cats: Option<&str>,
    living: Option<&str>,
) -> PersonFact {
    let status = PersonStatus::parse(status).unwrap_or_default();
    let (hukou, hukou_len) = hukou(hukou_code);
    let mut difficulty = 0u8;
    for c in cats.unwrap_or("").split(';') {
        if let Some(c) = SpecialDifficulty::parse(c) {
            difficulty |= 1 << position(SpecialDifficulty::ALL, c);
        }
    }
    PersonFact {
        area,
        infant: PersonRole::parse(role) == Some(PersonRole::Infant),
        birth,
        death: death.unwrap_or(NONE),
        moved_out: moved.unwrap_or(NONE),
        gone_undated: match status {
            PersonStatus::Deceased => death.is_none(),
            PersonStatus::MovedOut => moved.is_none(),
            PersonStatus::Active => false,
        },
        hukou,
        hukou_len,
        ability: ability
            .filter(|a| (0..=4).contains(a))
            .map_or(-1, |a| a as i8),
        dementia,
        care_insurance,
        difficulty,
        living: living
            .and_then(LivingArrangement::parse)
            .map_or(-1, |l| position(LivingArrangement::ALL, l) as i8),
    }
}

const PERSON_COLUMNS: &str = "id, role, residence_area_code, birth_date, death_date, moved_out_date, status, \
     hukou_area_code, ability_level, dementia, care_insurance, special_difficulty, living_arrangement";

fn load_people(
    conn: &mut Conn,
    area_pos: &HashMap<&str, u32>,
    f: &mut Facts,
    ids: &mut Ids,
) -> Result<()> {
    // A scan of the table in its own order: the planner would otherwise walk
    // a partial index (birth order) and fetch each row apart, ten times slower.
    let sql = format!("SELECT {PERSON_COLUMNS} FROM person NOT INDEXED WHERE deleted_at IS NULL");
    let streamed = sqlite_each(conn, &sql, &[], |r| {
        let area: String = r.get(2)?;
        let Some(&area) = area_pos.get(area.as_str()) else {
            return Ok(());
        };
        let text = |i: usize| -> rusqlite::Result<Option<String>> { r.get::<_, Option<String>>(i) };
        let date =
            |i: usize| -> rusqlite::Result<Option<i32>> { Ok(text(i)?.as_deref().and_then(ymd)) };
        let Some(birth) = date(3)? else { return Ok(()) };
        let id: String = r.get(0)?;
        let role: String = r.get(1)?;
        let status: String = r.get(6)?;
        f.people.push(person_fact(
            area,
            &role,
            &status,
            birth,
            date(4)?,
            date(5)?,
            text(7)?,
            r.get(8)?,
            r.get::<_, i64>(9)? != 0,
            r.get::<_, i64>(10)? != 0,
            text(11)?.as_deref(),
            text(12)?.as_deref(),
        ));
        ids.push(&id);
        Ok(())
    })?;
    if streamed.is_some() {
        return Ok(());
    }
    batches(
        conn,
        &format!("SELECT {PERSON_COLUMNS} FROM person WHERE deleted_at IS NULL AND {{after}}"),
        &[],
        |rows| {
            let ix: Vec<usize> = [
                "id",
                "role",
                "residence_area_code",
                "birth_date",
                "death_date",
                "moved_out_date",
                "status",
                "hukou_area_code",
                "ability_level",
                "dementia",
                "care_insurance",
                "special_difficulty",
                "living_arrangement",
            ]
            .iter()
            .map(|c| col(rows, c))
            .collect::<Result<_>>()?;
            for r in rows {
                let area: String = r.get_at(ix[2])?;
                let Some(&area) = area_pos.get(area.as_str()) else {
                    continue;
                };
                let id: String = r.get_at(ix[0])?;
                let role: String = r.get_at(ix[1])?;
                let status: String = r.get_at(ix[6])?;
                let death: Option<NaiveDate> = r.get_at(ix[4])?;
                let moved: Option<NaiveDate> = r.get_at(ix[5])?;
                let birth: NaiveDate = r.get_at(ix[3])?;
                let cats: Option<String> = r.get_at(ix[11])?;
                let living: Option<String> = r.get_at(ix[12])?;
                f.people.push(person_fact(
                    area,
                    &role,
                    &status,
                    day(birth),
                    death.map(day),
                    moved.map(day),
                    r.get_at(ix[7])?,
                    r.get_at(ix[8])?,
                    r.get_at(ix[9])?,
                    r.get_at(ix[10])?,
                    cats.as_deref(),
                    living.as_deref(),
                ));
                ids.push(&id);
            }
            Ok(())
        },
    )
}

/// Reads the facts at versions `v`, taking over from `prev` what no write
/// changed since: people (and what points at them) when the person and
/// activity versions hold, facilities and staff when theirs do.
pub fn load_reusing(
    conn: &mut Conn,
    areas: &AreaTree,
    v: Versions,
    prev: Option<&Loaded>,
) -> Result<Loaded> {
    let started = Instant::now();
    let area_pos: HashMap<&str, u32> = areas
        .all()
        .iter()
        .enumerate()
        .map(|(i, a)| (a.code.as_str(), i as u32))
        .collect();
    let prev = prev.filter(|p| p.versions.database == v.database);
    let same_people = prev
        .filter(|p| p.versions.person == v.person && p.versions.person_rebuilt == v.person_rebuilt);
    let same_activity = same_people.filter(|p| p.versions.activity == v.activity);
    let same_facilities =
        prev.filter(|p| p.versions.facility == v.facility && p.versions.activity == v.activity);
    let mut f = Facts::default();
    let mut person_ids = Ids::default();
    // ---- People ----
    match same_people {
        Some(p) => {
            f.people = p.facts.people.clone();
            person_ids = Ids {
                text: p.person_ids.text.clone(),
                ends: p.person_ids.ends.clone(),
            };
        }
        None => load_people(conn, &area_pos, &mut f, &mut person_ids)?,
    }
    let order = person_ids.sorted();
    let person_of = |id: &str| -> Option<u32> {
        order
            .binary_search_by(|p| person_ids.get(*p as usize).unwrap_or("").cmp(id))
            .ok()
            .map(|i| order[i])
    };
    // ---- Facilities (and staff, whose employers they are) ----
    let mut facility_ids = Ids::default();
    let mut facility_pos: HashMap<String, u32> = HashMap::new();
    let mut staff_ids = Ids::default();
    if let Some(p) = same_facilities {
        f.facilities = p.facts.facilities.clone();
        f.staff = p.facts.staff.clone();
        facility_ids = Ids {
            text: p.facility_ids.text.clone(),
            ends: p.facility_ids.ends.clone(),
        };
        staff_ids = Ids {
            text: p.staff_ids.text.clone(),
            ends: p.staff_ids.ends.clone(),
        };
    } else {
        batches(
            conn,
            "SELECT id, kind, level, area_code, status, opening_date, closed_date, rating, \
         rating_valid_from, rating_valid_until, filing_status, filing_date, beds, nursing_beds, \
         dementia_beds, approved_slots, smart, demonstration, inclusive FROM facility \
         WHERE deleted_at IS NULL AND {after}",
            &[],
            |rows| {
                for r in rows {
                    let area: String = r.get("area_code")?;
                    let Some(&area) = area_pos.get(area.as_str()) else {
                        continue;
                    };
                    let id: String = r.get("id")?;
                    let kind: String = r.get("kind")?;
                    let Some(kind) = FacilityKind::parse(&kind) else {
                        continue;
                    };
                    let level: Option<String> = r.get("level")?;
                    let rating: Option<String> = r.get("rating")?;
                    let status: String = r.get("status")?;
                    let status = FacilityStatus::parse(&status).unwrap_or_default();
                    let closed: Option<NaiveDate> = r.get("closed_date")?;
                    let filing: String = r.get("filing_status")?;
                    let int =
                        |c: &str| -> Result<i64> { Ok(r.get::<Option<i64>>(c)?.unwrap_or(0)) };
                    f.facilities.push(FacilityFact {
                        area,
                        kind: position(FacilityKind::ALL, kind),
                        level: level
                            .as_deref()
                            .and_then(FacilityLevel::parse)
                            .map_or(-1, |l| position(FacilityLevel::ALL, l) as i8),
                        rating: rating
                            .as_deref()
                            .and_then(Rating::parse)
                            .map_or(-1, |x| position(Rating::ALL, x) as i8),
                        // Today's state stands for every day the register has no
                        // date for: a planned or suspended place operates on none,
                        // a closed one without a date on none either.
                        not_operating: match status {
                            FacilityStatus::Operating => false,
                            FacilityStatus::Closed => closed.is_none(),
                            FacilityStatus::Planned | FacilityStatus::Suspended => true,
                        },
                        opening: opt_day(r.get("opening_date")?),
                        closed: opt_day(closed),
                        rating_from: opt_day(r.get("rating_valid_from")?),
                        rating_until: opt_day(r.get("rating_valid_until")?),
                        filing_status: position(
                            FilingStatus::ALL,
                            FilingStatus::parse(&filing).unwrap_or_default(),
                        ),
                        filing_date: opt_day(r.get("filing_date")?),
                        beds: int("beds")?,
                        nursing_beds: int("nursing_beds")?,
                        dementia_beds: int("dementia_beds")?,
                        approved_slots: int("approved_slots")?,
                        smart: r.get("smart")?,
                        demonstration: r.get("demonstration")?,
                        inclusive: r.get("inclusive")?,
                    });
                    facility_pos.insert(id.clone(), (f.facilities.len() - 1) as u32);
                    facility_ids.push(&id);
                }
                Ok(())
            },
        )?;
        batches(
            conn,
            "SELECT id, facility_id, role, certified, skill_grade, hired_date, left_date FROM staff \
         WHERE deleted_at IS NULL AND {after}",
            &[],
            |rows| {
                for r in rows {
                    let fid: String = r.get("facility_id")?;
                    let Some(&facility) = facility_pos.get(&fid) else {
                        continue;
                    };
                    let role: String = r.get("role")?;
                    let grade: String = r.get("skill_grade")?;
                    let Some(role) = StaffRole::parse(&role) else {
                        continue;
                    };
                    let id: String = r.get("id")?;
                    f.staff.push(StaffFact {
                        facility,
                        role: position(StaffRole::ALL, role),
                        certified: r.get("certified")?,
                        grade: position(
                            SkillGrade::ALL,
                            SkillGrade::parse(&grade).unwrap_or(SkillGrade::Ungraded),
                        ),
                        hired: day(r.get("hired_date")?),
                        left: opt_day(r.get("left_date")?),
                    });
                    staff_ids.push(&id);
                }
                Ok(())
            },
        )?;
    }

    // ---- What points at people: services, stays, insurance, intakes ----
    if let Some(p) = same_activity {
        f.services = p.facts.services.clone();
        f.residences = p.facts.residences.clone();
        f.insurance = p.facts.insurance.clone();
        f.cohorts = p.facts.cohorts.clone();
    } else {
        // ---- Services of the kinds definitions test ----
        for kind in service_kinds_used()? {
            let k = position(ServiceKind::ALL, kind);
            let streamed = sqlite_each(
                conn,
                "SELECT person_id, date FROM service_record WHERE kind = ?1 AND deleted_at IS NULL",
                &[kind.code()],
                |r| {
                    let pid: String = r.get(0)?;
                    let date: String = r.get(1)?;
                    if let (Some(person), Some(date)) = (person_of(&pid), ymd(&date)) {
                        f.services.push(PersonEvent {
                            person,
                            kind: k,
                            from: date,
                            until: date,
                        });
                    }
                    Ok(())
                },
            )?;
            if streamed.is_some() {
                continue;
            }
            batches(
                conn,
                "SELECT id, person_id, date FROM service_record \
             WHERE kind = $1 AND deleted_at IS NULL AND {after}",
                &[kind.code().into()],
                |rows| {
                    let (ip, id) = (col(rows, "person_id")?, col(rows, "date")?);
                    for r in rows {
                        let pid: String = r.get_at(ip)?;
                        if let Some(person) = person_of(&pid) {
                            let date = day(r.get_at(id)?);
                            f.services.push(PersonEvent {
                                person,
                                kind: k,
                                from: date,
                                until: date,
                            });
                        }
                    }
                    Ok(())
                },
            )?;
        }
        // ---- Care-home stays ----
        batches(
            conn,
            "SELECT id, person_id, admitted_date, discharged_date FROM residence \
         WHERE deleted_at IS NULL AND {after}",
            &[],
            |rows| {
                for r in rows {
                    let pid: String = r.get("person_id")?;
                    if let Some(person) = person_of(&pid) {
                        f.residences.push(PersonEvent {
                            person,
                            kind: 0,
                            from: day(r.get("admitted_date")?),
                            until: opt_day(r.get("discharged_date")?),
                        });
                    }
                }
                Ok(())
            },
        )?;
        // ---- Insurance enrolments (the end date is the last day covered) ----
        let streamed = sqlite_each(
            conn,
            "SELECT person_id, kind, start_date, end_date FROM insurance_enrolment WHERE deleted_at IS NULL",
            &[],
            |r| {
                let pid: String = r.get(0)?;
                let kind: String = r.get(1)?;
                let start: String = r.get(2)?;
                let end: Option<String> = r.get(3)?;
                if let (Some(person), Some(k), Some(from)) = (
                    person_of(&pid),
                    laoxiao_rules::indicators::parse_insurance_kind(&kind),
                    ymd(&start),
                ) {
                    let until = end.as_deref().and_then(ymd).map_or(NONE, |e| e + 1);
                    f.insurance.push(PersonEvent {
                        person,
                        kind: k,
                        from,
                        until,
                    });
                }
                Ok(())
            },
        )?;
        if streamed.is_none() {
            batches(
                conn,
                "SELECT id, person_id, kind, start_date, end_date FROM insurance_enrolment \
         WHERE deleted_at IS NULL AND {after}",
                &[],
                |rows| {
                    for r in rows {
                        let pid: String = r.get("person_id")?;
                        let kind: String = r.get("kind")?;
                        let Some(k) = laoxiao_rules::indicators::parse_insurance_kind(&kind) else {
                            continue;
                        };
                        if let Some(person) = person_of(&pid) {
                            let end: Option<NaiveDate> = r.get("end_date")?;
                            f.insurance.push(PersonEvent {
                                person,
                                kind: k,
                                from: day(r.get("start_date")?),
                                until: end.and_then(|e| e.succ_opt()).map_or(NONE, day),
                            });
                        }
                    }
                    Ok(())
                },
            )?;
        }
        // ---- Student intakes ----
        for r in conn.query(
            "SELECT intake_year, enrolled, graduated FROM student_cohort WHERE deleted_at IS NULL",
            &[],
        )? {
            f.cohorts.push(CohortFact {
                intake_year: i32::try_from(r.get::<i64>("intake_year")?).unwrap_or(0),
                enrolled: r.get("enrolled")?,
                graduated: r.get("graduated")?,
            });
        }
    }

    // ---- Residents (reference figures) ----
    for r in conn.query(
        "SELECT area_code, year, residents FROM area_population",
        &[],
    )? {
        let code: String = r.get("area_code")?;
        if let Some(&area) = area_pos.get(code.as_str()) {
            f.residents.push(ResidentsFact {
                area,
                year: i32::try_from(r.get::<i64>("year")?).unwrap_or(0),
                residents: r.get("residents")?,
            });
        }
    }
    f.finish();
    Ok(Loaded {
        facts: f,
        person_ids,
        facility_ids,
        staff_ids,
        versions: v,
        took: started.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_sort() {
        let mut ids = Ids::default();
        for s in ["b2", "a1", "c3"] {
            ids.push(s);
        }
        assert_eq!(ids.get(0), Some("b2"));
        assert_eq!(ids.get(2), Some("c3"));
        assert_eq!(ids.get(3), None);
        assert_eq!(ids.sorted(), vec![1, 0, 2]);
    }

    #[test]
    fn dates_read_fast_as_chrono_reads_them() {
        for t in ["2022-12-31", "2020-02-29", "1930-01-01"] {
            let want = day(NaiveDate::parse_from_str(t, "%Y-%m-%d").expect("date"));
            assert_eq!(ymd(t), Some(want));
        }
        assert_eq!(ymd("2021-02-29"), None);
        assert_eq!(ymd("2021-1x-01"), None);
        assert_eq!(ymd("garbage"), None);
    }

    #[test]
    fn hukou_codes_parse_or_are_none() {
        assert_eq!(hukou(Some("330402001".into())), (330_402_001, 9));
        assert_eq!(hukou(Some("abc".into())), (0, 0));
        assert_eq!(hukou(None), (0, 0));
    }
}
