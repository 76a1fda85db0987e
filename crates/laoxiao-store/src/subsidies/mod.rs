//! Subsidy runs (补助发放): the store side of `laoxiao_rules::subsidies`.
//!
//! [`prepare`] reads the registers into a snapshot, the ledger (awards paid,
//! amounts paid per period) and the parameters (embedded, with the loaded
//! county incomes), runs the rules and stores a **draft** with every line,
//! its explanation and the notes on who got nothing. Preparing a period
//! again replaces its draft (idempotent: the same registers give the same
//! lines). A second account approves ([`review`]) — never the one who
//! prepared it — and [`mark_paid`] records it paid and writes its awards
//! into the ledger, whose primary key makes a second payment of an award
//! impossible. Approved and paid runs never change: the database's triggers
//! refuse it (migration 0014), not only this code.
//!
//! Tables (migration 0014): `subsidy_run`, `subsidy_line`, `subsidy_note`,
//! `subsidy_award`, `subsidy_income`.

pub mod excel;

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::NaiveDate;
use laoxiao_model::facility::{ChildcareClass, Facility};
use laoxiao_model::person::mask_name;
use laoxiao_model::{Enrolment, StudentCohort};
use laoxiao_rules::subsidies::{
    self, CostCell, Dated, Elder, Explanation, Hold, Ledger, Line, LineKind, MonthShare, Note,
    Outcome, Paid, Params, PayeeKind, Period, Rule, Snapshot, Value as PValue,
};
use serde::Serialize;

use crate::activity::ActivityRecord;
use crate::audit::{self, Event};
use crate::db::{Conn, Row, Value};
use crate::error::{Result, StoreError};
use crate::scope::{Perm, Scope};
use crate::{Page, now_rfc3339, versions};

/// The most lines a page of a run's lines holds.
pub const MAX_PAGE: u32 = 500;
/// Lines of a run, at most (bounds a run over a bad snapshot).
pub const MAX_LINES: usize = 2_000_000;
/// A reform file's size, at most.
pub const MAX_REFORM_BYTES: usize = 64 * 1024;
/// Income rows of one load, at most.
pub const MAX_INCOME_ROWS: usize = 10_000;

/// Status of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Approved,
    Paid,
    Rejected,
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Approved => "approved",
            Status::Paid => "paid",
            Status::Rejected => "rejected",
        }
    }
    fn parse(s: &str) -> Status {
        match s {
            "approved" => Status::Approved,
            "paid" => Status::Paid,
            "rejected" => Status::Rejected,
            _ => Status::Draft,
        }
    }
}

/// A run as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: i64,
    /// `monthly` or `annual`.
    pub cadence: String,
    pub period: String,
    pub status: Status,
    pub prepared_by: String,
    pub prepared_at: String,
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub review_note: Option<String>,
    pub paid_by: Option<String>,
    pub paid_at: Option<String>,
    pub parameters_version: String,
    pub register_versions: String,
    pub snapshot_digest: String,
    /// A placeholder parameter (a county income) decided some line.
    pub placeholder: bool,
    pub line_count: i64,
    pub total_fen: i64,
    pub adjustment_fen: i64,
    pub city_fen: i64,
    pub county_fen: i64,
    pub note_count: i64,
    /// The number of paid runs when it was prepared: a run paid since makes
    /// this one stale (its awards and adjustments were computed without it).
    pub ledger_version: i64,
}

/// A stored line.
#[derive(Debug, Clone, Serialize)]
pub struct StoredLine {
    pub run_id: i64,
    pub line_no: i64,
    pub rule: String,
    pub rule_zh: String,
    #[serde(flatten)]
    pub line: Line,
}

/// A sum over lines of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Sum {
    pub key: String,
    pub label: String,
    pub lines: i64,
    pub amount_fen: i64,
    pub city_fen: i64,
    pub county_fen: i64,
}

/// A run's totals, as the caller's scope sees them.
#[derive(Debug, Clone, Serialize)]
pub struct Totals {
    pub by_county: Vec<Sum>,
    pub by_rule: Vec<Sum>,
    /// `county/rule` keys.
    pub by_county_rule: Vec<Sum>,
    pub total: Sum,
}

fn invalid(field: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid(vec![laoxiao_model::FieldError::new(field, reason.into())])
}

fn rules_err(e: laoxiao_rules::RulesError) -> StoreError {
    invalid("parameters", e.to_string())
}

/// The county's name, or the city's.
fn area_names(conn: &mut Conn) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for r in conn.query(
        "SELECT code, name FROM area WHERE level IN ('city', 'county')",
        &[],
    )? {
        out.insert(r.get::<String>("code")?, r.get::<String>("name")?);
    }
    Ok(out)
}

/// The parameters in force: the embedded files with the loaded incomes.
pub fn params(conn: &mut Conn) -> Result<Params> {
    let mut p = Params::embedded().map_err(rules_err)?.clone();
    for r in conn.query(
        "SELECT county_code, year, yuan, source FROM subsidy_income ORDER BY county_code, year",
        &[],
    )? {
        let county: String = r.get("county_code")?;
        let year: i64 = r.get("year")?;
        let y = i32::try_from(year).unwrap_or(2020);
        let name = laoxiao_rules::subsidies::income_param(&county);
        let v = Dated {
            from: NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default(),
            until: NaiveDate::from_ymd_opt(y, 12, 31),
            value: PValue::Int(r.get("yuan")?),
            placeholder: false,
            source: Some(r.get("source")?),
            reform: false,
        };
        // An income for a county the files do not name is refused at load.
        if p.has(&name) {
            p.add_values(&name, vec![v]).map_err(rules_err)?;
        }
    }
    Ok(p)
}

/// Loads county incomes (county code, year, yuan, source), replacing the
/// placeholder for each county and year given.
pub fn set_income(
    conn: &mut Conn,
    scope: &Scope,
    rows: &[(String, i64, i64, String)],
) -> Result<usize> {
    scope.require(Perm::ManageSubsidies)?;
    if rows.len() > MAX_INCOME_ROWS {
        return Err(invalid("rows", format!("more than {MAX_INCOME_ROWS}")));
    }
    let embedded = Params::embedded().map_err(rules_err)?;
    for (i, (county, year, yuan, source)) in rows.iter().enumerate() {
        let row = i + 1;
        if !embedded.has(&laoxiao_rules::subsidies::income_param(county)) {
            return Err(invalid(
                "county_code",
                format!("row {row}: {county:?} is not a county of the city"),
            ));
        }
        if !(2000..=2035).contains(year) {
            return Err(invalid(
                "year",
                format!("row {row}: {year} is not a year from 2000 to 2035"),
            ));
        }
        if !(1_000..=10_000_000).contains(yuan) {
            return Err(invalid(
                "yuan",
                format!("row {row}: {yuan} is not an annual income in yuan (1,000–10,000,000)"),
            ));
        }
        if source.trim().is_empty() || source.chars().count() > 200 {
            return Err(invalid(
                "source",
                format!("row {row}: give the figure's source (at most 200 characters)"),
            ));
        }
    }
    let now = now_rfc3339();
    conn.transaction(|c| {
        for (county, year, yuan, source) in rows {
            c.execute("DELETE FROM subsidy_income WHERE county_code = $1 AND year = $2", &[county.as_str().into(), (*year).into()])?;
            c.execute(
                "INSERT INTO subsidy_income (county_code, year, yuan, source, entered_by, entered_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[county.as_str().into(), (*year).into(), (*yuan).into(), source.trim().into(), scope.actor.user.as_str().into(), now.as_str().into()],
            )?;
        }
        audit::append(
            c,
            scope,
            Event {
                action: "subsidy.income",
                entity: "subsidy_income",
                entity_id: None,
                before: None,
                after: Some(serde_json::json!({"rows": rows.len()}).to_string()),
            },
        )?;
        Ok(rows.len())
    })
}

/// The registers as the rules read them, for periods within `from`–`to`:
/// facilities and classes, enrolments overlapping the dates, the elderly old
/// enough for the centenarian allowance by `to`, the student cohorts.
pub fn snapshot(
    conn: &mut Conn,
    params: &Params,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Snapshot> {
    let fcols = Facility::cols().join(", ");
    let facilities = conn
        .query(
            &format!("SELECT {fcols} FROM facility WHERE deleted_at IS NULL ORDER BY id"),
            &[],
        )?
        .iter()
        .map(Facility::from_db)
        .collect::<Result<Vec<_>>>()?;
    let ccols = ChildcareClass::cols().join(", ");
    let classes = conn
        .query(
            &format!("SELECT {ccols} FROM childcare_class WHERE deleted_at IS NULL ORDER BY id"),
            &[],
        )?
        .iter()
        .map(ChildcareClass::from_db)
        .collect::<Result<Vec<_>>>()?;
    let ecols = Enrolment::cols().join(", ");
    let enrolments = conn
        .query(
            &format!(
                "SELECT {ecols} FROM enrolment WHERE deleted_at IS NULL AND start_date <= $1 \
                 AND (end_date IS NULL OR end_date >= $2) ORDER BY id"
            ),
            &[to.to_string().into(), from.to_string().into()],
        )?
        .iter()
        .map(Enrolment::from_db)
        .collect::<Result<Vec<_>>>()?;
    let kcols = StudentCohort::cols().join(", ");
    let cohorts = conn
        .query(
            &format!("SELECT {kcols} FROM student_cohort WHERE deleted_at IS NULL ORDER BY id"),
            &[],
        )?
        .iter()
        .map(StudentCohort::from_db)
        .collect::<Result<Vec<_>>>()?;
    // Born by the end of `to`'s month, `age` years earlier.
    let age = params
        .int("centenarian.age", to)
        .map(|(v, _)| v)
        .unwrap_or(100)
        .clamp(0, 150);
    let cut = NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&to) - i32::try_from(age).unwrap_or(100),
        12,
        31,
    )
    .unwrap_or_default();
    let mut elders = Vec::new();
    for r in conn.query(
        "SELECT id, name, birth_date, hukou_area_code, status, death_date FROM person \
         WHERE role = 'elderly' AND deleted_at IS NULL AND birth_date <= $1 ORDER BY id",
        &[cut.to_string().into()],
    )? {
        elders.push(elder(&r)?);
    }
    // Inspection holds (暂缓拨付) on the period's last day, or today when
    // that is still to come (docs/subsidies.md, "Inspection holds").
    let day = to.min(chrono::Utc::now().date_naive());
    let holds = crate::inspections::subsidy_holds(conn, "/330400/", day)?
        .into_iter()
        .map(|h| Hold {
            facility_id: h.facility_id,
            reason: h.reason,
            inspection_id: h.inspection_id,
            since: h.since,
        })
        .collect();
    Ok(Snapshot {
        facilities,
        classes,
        enrolments,
        elders,
        cohorts,
        holds,
    })
}

fn date(r: &Row, col: &str) -> Result<Option<NaiveDate>> {
    let s: Option<String> = r.get(col)?;
    s.map(|s| {
        s.parse::<NaiveDate>()
            .map_err(|_| StoreError::Database(format!("person.{col}: {s:?} is not a date")))
    })
    .transpose()
}

fn elder(r: &Row) -> Result<Elder> {
    let name: String = r.get("name")?;
    let status: String = r.get("status")?;
    Ok(Elder {
        id: r.get("id")?,
        // Payout lists show names masked (PIPL); the register id identifies.
        name: mask_name(&name),
        birth_date: date(r, "birth_date")?.unwrap_or_default(),
        hukou_area_code: r.get("hukou_area_code")?,
        status: status.parse().unwrap_or_default(),
        death_date: date(r, "death_date")?,
    })
}

/// What paid runs paid, and the awards in the ledger.
pub fn ledger(conn: &mut Conn) -> Result<Ledger> {
    let mut l = Ledger::default();
    for r in conn.query("SELECT award_key FROM subsidy_award", &[])? {
        l.awards.insert(r.get("award_key")?);
    }
    let mut sums: BTreeMap<(String, String, String), Paid> = BTreeMap::new();
    for r in conn.query(
        "SELECT l.run_id, l.rule, l.subject_id, l.period, l.amount_fen, l.city_fen, l.county_fen, \
         l.payee_kind, l.payee_id, l.payee_name, l.account_holder, l.county_code \
         FROM subsidy_line l JOIN subsidy_run r ON r.id = l.run_id \
         WHERE r.status = 'paid' AND l.kind <> 'award' ORDER BY l.run_id, l.line_no",
        &[],
    )? {
        let rule_code: String = r.get("rule")?;
        let Some(rule) = Rule::from_code(&rule_code) else {
            continue;
        };
        let key = (
            rule_code,
            r.get::<String>("subject_id")?,
            r.get::<String>("period")?,
        );
        let run: i64 = r.get("run_id")?;
        let pk: String = r.get("payee_kind")?;
        let e = sums.entry(key.clone()).or_insert_with(|| Paid {
            rule,
            subject_id: key.1.clone(),
            period: key.2.clone(),
            amount_fen: 0,
            city_fen: 0,
            county_fen: 0,
            runs: Vec::new(),
            payee_kind: payee_kind(&pk),
            payee_id: String::new(),
            payee_name: String::new(),
            account_holder: String::new(),
            county_code: String::new(),
        });
        e.amount_fen += r.get::<i64>("amount_fen")?;
        e.city_fen += r.get::<i64>("city_fen")?;
        e.county_fen += r.get::<i64>("county_fen")?;
        if !e.runs.contains(&run) {
            e.runs.push(run);
        }
        e.payee_id = r.get("payee_id")?;
        e.payee_name = r.get("payee_name")?;
        e.account_holder = r.get("account_holder")?;
        e.county_code = r.get("county_code")?;
    }
    l.paid = sums.into_values().collect();
    Ok(l)
}

fn payee_kind(s: &str) -> PayeeKind {
    match s {
        "person" => PayeeKind::Person,
        "operator" => PayeeKind::Operator,
        "school" => PayeeKind::School,
        _ => PayeeKind::Facility,
    }
}

fn code_of<T: Serialize>(x: &T) -> String {
    serde_json::to_value(x)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The dates a run at `period` reads: back to the look-back's start.
fn window(params: &Params, period: Period) -> (NaiveDate, NaiveDate) {
    match period {
        Period::Month(m) => {
            let back = params
                .int("corrections.lookback_months", m.last())
                .map(|(v, _)| v)
                .unwrap_or(24)
                .clamp(0, 120);
            (m.add(-i32::try_from(back).unwrap_or(24)).first(), m.last())
        }
        Period::Year(y) => (
            NaiveDate::from_ymd_opt(y - 10, 1, 1).unwrap_or_default(),
            NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or_default(),
        ),
    }
}

/// Timings of a prepare, for the benchmark.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    pub read_ms: f64,
    pub rules_ms: f64,
    pub store_ms: f64,
}

/// Computes the period's run and stores it as a draft (replacing the
/// period's draft if there is one). City-wide accounts with
/// [`Perm::ManageSubsidies`] only: a run pays the whole city.
pub fn prepare(conn: &mut Conn, scope: &Scope, period: Period) -> Result<(Run, Timing)> {
    scope.require(Perm::ManageSubsidies)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "only a city-wide account prepares the city's subsidy runs".into(),
        ));
    }
    let t0 = Instant::now();
    let params = params(conn)?;
    let (from, to) = window(&params, period);
    let snap = snapshot(conn, &params, from, to)?;
    let ledger = ledger(conn)?;
    let vers = versions::read(conn)?;
    let t1 = Instant::now();
    let out = subsidies::run(&snap, &params, period, &ledger).map_err(rules_err)?;
    let t2 = Instant::now();
    if out.lines.len() > MAX_LINES {
        return Err(StoreError::Conflict(format!(
            "{} lines: more than a run may hold ({MAX_LINES})",
            out.lines.len()
        )));
    }
    let register_versions = format!(
        "person={} facility={} activity={}",
        vers.person, vers.facility, vers.activity
    );
    let digest = snap.digest();
    let run = store_draft(
        conn,
        scope,
        period,
        &params,
        &out,
        &register_versions,
        &digest,
    )?;
    let t3 = Instant::now();
    Ok((
        run,
        Timing {
            read_ms: (t1 - t0).as_secs_f64() * 1e3,
            rules_ms: (t2 - t1).as_secs_f64() * 1e3,
            store_ms: (t3 - t2).as_secs_f64() * 1e3,
        },
    ))
}

fn area_path_of(county: &str) -> String {
    if county == "330400" || county.is_empty() {
        "/330400/".to_string()
    } else {
        format!("/330400/{county}/")
    }
}

#[allow(clippy::too_many_arguments)]
fn store_draft(
    conn: &mut Conn,
    scope: &Scope,
    period: Period,
    params: &Params,
    out: &Outcome,
    register_versions: &str,
    digest: &str,
) -> Result<Run> {
    let now = now_rfc3339();
    let by = scope.actor.user.clone();
    let cadence = code_of(&period.cadence());
    let p = period.to_string();
    let total: i64 = out.lines.iter().map(|l| l.amount_fen).sum();
    let adj: i64 = out
        .lines
        .iter()
        .filter(|l| l.kind == LineKind::Adjustment)
        .map(|l| l.amount_fen)
        .sum();
    let city: i64 = out.lines.iter().map(|l| l.city_fen).sum();
    let county: i64 = out.lines.iter().map(|l| l.county_fen).sum();
    conn.transaction(|c| {
        if let Some(r) = c.query_opt(
            "SELECT id FROM subsidy_run WHERE period = $1 AND status = 'approved'",
            &[p.as_str().into()],
        )? {
            let id: i64 = r.get("id")?;
            return Err(StoreError::Conflict(format!(
                "run {id} for {p} is approved and awaits payment: mark it paid first"
            )));
        }
        let existing: Option<i64> = c
            .query_opt(
                "SELECT id FROM subsidy_run WHERE period = $1 AND status = 'draft' ORDER BY id DESC",
                &[p.as_str().into()],
            )?
            .map(|r| r.get("id"))
            .transpose()?;
        let vals: Vec<Value> = vec![
            by.as_str().into(),
            now.as_str().into(),
            params.version().into(),
            register_versions.into(),
            digest.into(),
            out.placeholder().into(),
            (out.lines.len() as i64).into(),
            total.into(),
            adj.into(),
            city.into(),
            county.into(),
            (out.notes.len() as i64).into(),
            ledger_version(c)?.into(),
        ];
        let id = match existing {
            Some(id) => {
                c.execute("DELETE FROM subsidy_line WHERE run_id = $1", &[id.into()])?;
                c.execute("DELETE FROM subsidy_note WHERE run_id = $1", &[id.into()])?;
                let mut v = vals.clone();
                v.push(id.into());
                c.execute(
                    "UPDATE subsidy_run SET prepared_by = $1, prepared_at = $2, parameters_version = $3, \
                     register_versions = $4, snapshot_digest = $5, placeholder = $6, line_count = $7, \
                     total_fen = $8, adjustment_fen = $9, city_fen = $10, county_fen = $11, note_count = $12, \
                     ledger_version = $13 WHERE id = $14",
                    &v,
                )?;
                id
            }
            None => {
                let mut v: Vec<Value> = vec![cadence.as_str().into(), p.as_str().into()];
                v.extend(vals);
                c.query_opt(
                    "INSERT INTO subsidy_run (cadence, period, status, prepared_by, prepared_at, \
                     parameters_version, register_versions, snapshot_digest, placeholder, line_count, \
                     total_fen, adjustment_fen, city_fen, county_fen, note_count, ledger_version) \
                     VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
                    &v,
                )?
                .ok_or_else(|| StoreError::Database("the run id was not returned".into()))?
                .get("id")?
            }
        };
        insert_lines(c, id, &out.lines)?;
        insert_notes(c, id, &out.notes)?;
        audit::append(
            c,
            scope,
            Event {
                action: "subsidy.prepare",
                entity: "subsidy_run",
                entity_id: Some(&id.to_string()),
                before: None,
                after: Some(
                    serde_json::json!({"period": p, "lines": out.lines.len(), "total_fen": total, "parameters_version": params.version()})
                        .to_string(),
                ),
            },
        )?;
        get_run(c, id)
    })
}

fn insert_lines(c: &mut Conn, id: i64, lines: &[Line]) -> Result<()> {
    const COLS: usize = 19;
    for (k, chunk) in lines.chunks(300).enumerate() {
        let mut sql = String::from(
            "INSERT INTO subsidy_line (run_id, line_no, rule, kind, period, payee_kind, payee_id, payee_name, \
             account_holder, subject_id, county_code, area_path, amount_fen, city_fen, county_fen, award_key, \
             placeholder, explanation, months) VALUES ",
        );
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * COLS);
        for (i, l) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let marks: Vec<String> = (1..=COLS).map(|j| format!("${}", i * COLS + j)).collect();
            sql.push_str(&format!("({})", marks.join(", ")));
            let months = if l.months.is_empty() {
                None
            } else {
                serde_json::to_string(&l.months).ok()
            };
            params.extend([
                Value::Int(id),
                Value::Int((k * 300 + i + 1) as i64),
                l.rule.code().into(),
                code_of(&l.kind).into(),
                l.period.as_str().into(),
                code_of(&l.payee_kind).into(),
                l.payee_id.as_str().into(),
                l.payee_name.as_str().into(),
                l.account_holder.as_str().into(),
                l.subject_id.as_str().into(),
                l.county_code.as_str().into(),
                area_path_of(&l.county_code).into(),
                l.amount_fen.into(),
                l.city_fen.into(),
                l.county_fen.into(),
                l.award_key.clone().into(),
                l.placeholder.into(),
                serde_json::to_string(&l.explanation)
                    .map_err(|e| StoreError::Database(e.to_string()))?
                    .into(),
                months.into(),
            ]);
        }
        c.execute(&sql, &params)?;
    }
    Ok(())
}

fn insert_notes(c: &mut Conn, id: i64, notes: &[Note]) -> Result<()> {
    const COLS: usize = 7;
    for (k, chunk) in notes.chunks(500).enumerate() {
        let mut sql = String::from(
            "INSERT INTO subsidy_note (run_id, note_no, rule, period, payee_id, subject_id, reason) VALUES ",
        );
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * COLS);
        for (i, n) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let marks: Vec<String> = (1..=COLS).map(|j| format!("${}", i * COLS + j)).collect();
            sql.push_str(&format!("({})", marks.join(", ")));
            params.extend([
                Value::Int(id),
                Value::Int((k * 500 + i + 1) as i64),
                n.rule.code().into(),
                n.period.as_str().into(),
                n.payee_id.as_str().into(),
                n.subject_id.as_str().into(),
                n.reason.as_str().into(),
            ]);
        }
        c.execute(&sql, &params)?;
    }
    Ok(())
}

fn ledger_version(c: &mut Conn) -> Result<i64> {
    c.query_i64(
        "SELECT COUNT(*) FROM subsidy_run WHERE status = 'paid'",
        &[],
    )
}

/// Refuses a run prepared before another run was paid.
fn check_fresh(c: &mut Conn, run: &Run) -> Result<()> {
    if ledger_version(c)? != run.ledger_version {
        let last: i64 = c.query_i64(
            "SELECT COALESCE(MAX(id), 0) FROM subsidy_run WHERE status = 'paid'",
            &[],
        )?;
        return Err(StoreError::Conflict(format!(
            "run {last} was paid after run {} was prepared: its awards and adjustments may be paid already; prepare {} again",
            run.id, run.period
        )));
    }
    Ok(())
}

fn run_of(r: &Row) -> Result<Run> {
    Ok(Run {
        id: r.get("id")?,
        cadence: r.get("cadence")?,
        period: r.get("period")?,
        status: Status::parse(&r.get::<String>("status")?),
        prepared_by: r.get("prepared_by")?,
        prepared_at: r.get("prepared_at")?,
        reviewed_by: r.get("reviewed_by")?,
        reviewed_at: r.get("reviewed_at")?,
        review_note: r.get("review_note")?,
        paid_by: r.get("paid_by")?,
        paid_at: r.get("paid_at")?,
        parameters_version: r.get("parameters_version")?,
        register_versions: r.get("register_versions")?,
        snapshot_digest: r.get("snapshot_digest")?,
        placeholder: r.get("placeholder")?,
        line_count: r.get("line_count")?,
        total_fen: r.get("total_fen")?,
        adjustment_fen: r.get("adjustment_fen")?,
        city_fen: r.get("city_fen")?,
        county_fen: r.get("county_fen")?,
        note_count: r.get("note_count")?,
        ledger_version: r.get("ledger_version")?,
    })
}

fn get_run(c: &mut Conn, id: i64) -> Result<Run> {
    let r = c
        .query_opt("SELECT * FROM subsidy_run WHERE id = $1", &[id.into()])?
        .ok_or_else(|| StoreError::NotFound {
            what: "subsidy run",
            id: id.to_string(),
        })?;
    run_of(&r)
}

/// Reads require [`Perm::ReadSubsidies`]; a county's account sees every
/// run's header (the city's figures are public to it) but only its own lines.
pub fn runs(conn: &mut Conn, scope: &Scope) -> Result<Vec<Run>> {
    scope.require(Perm::ReadSubsidies)?;
    conn.query("SELECT * FROM subsidy_run ORDER BY id DESC LIMIT 500", &[])?
        .iter()
        .map(run_of)
        .collect()
}

pub fn run(conn: &mut Conn, scope: &Scope, id: i64) -> Result<Run> {
    scope.require(Perm::ReadSubsidies)?;
    get_run(conn, id)
}

/// Filters on a run's lines.
#[derive(Debug, Clone, Default)]
pub struct LineQuery {
    pub county: Option<String>,
    pub rule: Option<String>,
    /// The payee's id, exactly.
    pub payee: Option<String>,
    pub kind: Option<String>,
    /// The last line number of the previous page.
    pub after: Option<i64>,
    pub limit: Option<u32>,
}

fn line_of(r: &Row) -> Result<StoredLine> {
    let rule_code: String = r.get("rule")?;
    let rule = Rule::from_code(&rule_code)
        .ok_or_else(|| StoreError::Database(format!("unknown rule {rule_code:?}")))?;
    let kind: String = r.get("kind")?;
    let expl: String = r.get("explanation")?;
    let explanation: Explanation = serde_json::from_str(&expl)
        .map_err(|e| StoreError::Database(format!("explanation: {e}")))?;
    let months: Option<String> = r.get("months")?;
    let months: Vec<MonthShare> = months
        .and_then(|m| serde_json::from_str(&m).ok())
        .unwrap_or_default();
    Ok(StoredLine {
        run_id: r.get("run_id")?,
        line_no: r.get("line_no")?,
        rule: rule_code,
        rule_zh: rule.zh().to_string(),
        line: Line {
            rule,
            kind: match kind.as_str() {
                "award" => LineKind::Award,
                "adjustment" => LineKind::Adjustment,
                _ => LineKind::Regular,
            },
            period: r.get("period")?,
            payee_kind: payee_kind(&r.get::<String>("payee_kind")?),
            payee_id: r.get("payee_id")?,
            payee_name: r.get("payee_name")?,
            account_holder: r.get("account_holder")?,
            subject_id: r.get("subject_id")?,
            county_code: r.get("county_code")?,
            amount_fen: r.get("amount_fen")?,
            city_fen: r.get("city_fen")?,
            county_fen: r.get("county_fen")?,
            award_key: r.get("award_key")?,
            placeholder: r.get("placeholder")?,
            months,
            explanation,
        },
    })
}

fn check_filter(field: &str, v: &str) -> Result<()> {
    if v.is_empty() || v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(invalid(field, "1 to 100 printable characters"));
    }
    Ok(())
}

/// A page of a run's lines in the caller's scope.
pub fn lines(conn: &mut Conn, scope: &Scope, id: i64, q: &LineQuery) -> Result<Page<StoredLine>> {
    scope.require(Perm::ReadSubsidies)?;
    get_run(conn, id)?;
    let limit = q.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let mut p: Vec<Value> = vec![id.into()];
    let mut w = String::from("run_id = $1");
    scope.push_sql(&mut w, &mut p, "area_path", None);
    for (col, v) in [
        ("county_code", &q.county),
        ("rule", &q.rule),
        ("payee_id", &q.payee),
        ("kind", &q.kind),
    ] {
        if let Some(v) = v {
            check_filter(col, v)?;
            p.push(v.as_str().into());
            w.push_str(&format!(" AND {col} = ${}", p.len()));
        }
    }
    if let Some(a) = q.after {
        p.push(a.into());
        w.push_str(&format!(" AND line_no > ${}", p.len()));
    }
    p.push(i64::from(limit + 1).into());
    let rows = conn.query(
        &format!(
            "SELECT * FROM subsidy_line WHERE {w} ORDER BY line_no LIMIT ${}",
            p.len()
        ),
        &p,
    )?;
    let mut items: Vec<StoredLine> = rows.iter().map(line_of).collect::<Result<_>>()?;
    let next_cursor = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|l| l.line_no.to_string())
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// One line of a run (outside the caller's scope: not found).
pub fn line(conn: &mut Conn, scope: &Scope, id: i64, line_no: i64) -> Result<StoredLine> {
    scope.require(Perm::ReadSubsidies)?;
    let mut p: Vec<Value> = vec![id.into(), line_no.into()];
    let mut w = String::from("run_id = $1 AND line_no = $2");
    scope.push_sql(&mut w, &mut p, "area_path", None);
    let r = conn
        .query_opt(&format!("SELECT * FROM subsidy_line WHERE {w}"), &p)?
        .ok_or_else(|| StoreError::NotFound {
            what: "subsidy line",
            id: format!("{id}/{line_no}"),
        })?;
    line_of(&r)
}

fn sums(conn: &mut Conn, scope: &Scope, id: i64, group: &str) -> Result<Vec<(String, Sum)>> {
    let mut p: Vec<Value> = vec![id.into()];
    let mut w = String::from("run_id = $1");
    scope.push_sql(&mut w, &mut p, "area_path", None);
    let rows = conn.query(
        &format!(
            "SELECT {group} AS k, COUNT(*) AS n, CAST(SUM(amount_fen) AS BIGINT) AS a, CAST(SUM(city_fen) AS BIGINT) AS c, CAST(SUM(county_fen) AS BIGINT) AS d \
             FROM subsidy_line WHERE {w} GROUP BY {group} ORDER BY {group}"
        ),
        &p,
    )?;
    rows.iter()
        .map(|r| {
            let k: String = r.get("k")?;
            Ok((
                k.clone(),
                Sum {
                    key: k,
                    label: String::new(),
                    lines: r.get("n")?,
                    amount_fen: r.get("a")?,
                    city_fen: r.get("c")?,
                    county_fen: r.get("d")?,
                },
            ))
        })
        .collect()
}

/// A run's totals by county, by rule, and by both, in the caller's scope.
pub fn totals(conn: &mut Conn, scope: &Scope, id: i64) -> Result<Totals> {
    scope.require(Perm::ReadSubsidies)?;
    get_run(conn, id)?;
    let names = area_names(conn)?;
    let label_county = |k: &str| names.get(k).cloned().unwrap_or_else(|| k.to_string());
    let label_rule =
        |k: &str| Rule::from_code(k).map_or_else(|| k.to_string(), |r| r.zh().to_string());
    let mut by_county: Vec<Sum> = sums(conn, scope, id, "county_code")?
        .into_iter()
        .map(|(k, mut s)| {
            s.label = label_county(&k);
            s
        })
        .collect();
    by_county.sort_by(|a, b| a.key.cmp(&b.key));
    let by_rule: Vec<Sum> = sums(conn, scope, id, "rule")?
        .into_iter()
        .map(|(k, mut s)| {
            s.label = label_rule(&k);
            s
        })
        .collect();
    let cat = "county_code || '/' || rule";
    let by_county_rule: Vec<Sum> = sums(conn, scope, id, cat)?
        .into_iter()
        .map(|(k, mut s)| {
            let (c, r) = k.split_once('/').unwrap_or((&k, ""));
            s.label = format!("{} · {}", label_county(c), label_rule(r));
            s
        })
        .collect();
    let mut total = Sum {
        key: "total".into(),
        label: "合计".into(),
        ..Default::default()
    };
    for s in &by_county {
        total.lines += s.lines;
        total.amount_fen += s.amount_fen;
        total.city_fen += s.city_fen;
        total.county_fen += s.county_fen;
    }
    Ok(Totals {
        by_county,
        by_rule,
        by_county_rule,
        total,
    })
}

/// Approves (or rejects) a draft. The reviewer must be a second account:
/// never the one who prepared it. An approval is refused when an award in
/// the run has been paid since it was prepared (prepare it again).
pub fn review(
    conn: &mut Conn,
    scope: &Scope,
    id: i64,
    approve: bool,
    note: Option<&str>,
) -> Result<Run> {
    scope.require(Perm::ManageSubsidies)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "only a city-wide account reviews the city's subsidy runs".into(),
        ));
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(invalid("note", "longer than 500 characters"));
    }
    let now = now_rfc3339();
    conn.transaction(|c| {
        let run = get_run(c, id)?;
        if run.status != Status::Draft {
            return Err(StoreError::Conflict(format!("run {id} is {}, not a draft", run.status.code())));
        }
        if run.prepared_by == scope.actor.user {
            return Err(StoreError::Forbidden(format!(
                "run {id} was prepared by {}: a second account must review it (四眼原则)",
                run.prepared_by
            )));
        }
        if approve {
            if let Some(r) = c.query_opt(
                "SELECT l.award_key, a.run_id FROM subsidy_line l JOIN subsidy_award a ON a.award_key = l.award_key \
                 WHERE l.run_id = $1",
                &[id.into()],
            )? {
                let key: String = r.get("award_key")?;
                let paid_in: i64 = r.get("run_id")?;
                return Err(StoreError::Conflict(format!(
                    "award {key} was paid in run {paid_in} after this draft was prepared: prepare the period again"
                )));
            }
            check_fresh(c, &run)?;
        }
        let status = if approve { "approved" } else { "rejected" };
        c.execute(
            "UPDATE subsidy_run SET status = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4 WHERE id = $5",
            &[status.into(), scope.actor.user.as_str().into(), now.as_str().into(), note.into(), id.into()],
        )?;
        audit::append(
            c,
            scope,
            Event {
                action: if approve { "subsidy.approve" } else { "subsidy.reject" },
                entity: "subsidy_run",
                entity_id: Some(&id.to_string()),
                before: None,
                after: Some(serde_json::json!({"status": status, "note": note}).to_string()),
            },
        )?;
        get_run(c, id)
    })
}

/// Marks an approved run paid and writes its awards into the ledger. An
/// award already in the ledger fails the whole transaction (never paid twice).
pub fn mark_paid(conn: &mut Conn, scope: &Scope, id: i64) -> Result<Run> {
    scope.require(Perm::ManageSubsidies)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "only a city-wide account marks the city's runs paid".into(),
        ));
    }
    let now = now_rfc3339();
    conn.transaction(|c| {
        let run = get_run(c, id)?;
        if run.status != Status::Approved {
            return Err(StoreError::Conflict(format!("run {id} is {}: only an approved run is paid", run.status.code())));
        }
        let awards = c.query(
            "SELECT line_no, rule, subject_id, award_key, amount_fen FROM subsidy_line WHERE run_id = $1 AND award_key IS NOT NULL",
            &[id.into()],
        )?;
        for a in &awards {
            let key: String = a.get("award_key")?;
            if let Some(r) = c.query_opt("SELECT run_id FROM subsidy_award WHERE award_key = $1", &[key.as_str().into()])? {
                let paid_in: i64 = r.get("run_id")?;
                return Err(StoreError::Conflict(format!("award {key} was already paid in run {paid_in}")));
            }
            c.execute(
                "INSERT INTO subsidy_award (award_key, rule, subject_id, run_id, line_no, amount_fen, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    key.as_str().into(),
                    a.get::<String>("rule")?.into(),
                    a.get::<String>("subject_id")?.into(),
                    id.into(),
                    a.get::<i64>("line_no")?.into(),
                    a.get::<i64>("amount_fen")?.into(),
                    now.as_str().into(),
                ],
            )?;
        }
        check_fresh(c, &run)?;
        c.execute(
            "UPDATE subsidy_run SET status = 'paid', paid_by = $1, paid_at = $2 WHERE id = $3",
            &[scope.actor.user.as_str().into(), now.as_str().into(), id.into()],
        )?;
        audit::append(
            c,
            scope,
            Event {
                action: "subsidy.paid",
                entity: "subsidy_run",
                entity_id: Some(&id.to_string()),
                before: None,
                after: Some(serde_json::json!({"status": "paid", "awards": awards.len(), "total_fen": run.total_fen}).to_string()),
            },
        )?;
        get_run(c, id)
    })
}

/// Why a payee gets what it gets in a period: the lines and notes computed
/// now from the registers, and the lines of stored runs for the period.
#[derive(Debug, Clone, Serialize)]
pub struct Explained {
    pub payee: String,
    pub period: String,
    pub parameters_version: String,
    /// Computed now (what a run prepared now would hold, awards and
    /// adjustments included).
    pub now: Vec<Line>,
    pub notes: Vec<Note>,
    /// Lines of stored runs for this payee and period.
    pub stored: Vec<StoredLine>,
}

/// Explains a payee's amounts for a period. The caller must read subsidies;
/// a county account sees a payee of its own county only.
pub fn explain(conn: &mut Conn, scope: &Scope, payee: &str, period: Period) -> Result<Explained> {
    scope.require(Perm::ReadSubsidies)?;
    check_filter("payee", payee)?;
    let params = params(conn)?;
    let (from, to) = window(&params, period);
    let snap = snapshot(conn, &params, from, to)?;
    let ledger = ledger(conn)?;
    let out = subsidies::run(&snap, &params, period, &ledger).map_err(rules_err)?;
    let in_scope = |county: &str| match scope.area_path() {
        None => true,
        Some(path) => area_path_of(county).starts_with(path),
    };
    let now: Vec<Line> = out
        .lines
        .into_iter()
        .filter(|l| l.payee_id == payee && in_scope(&l.county_code))
        .collect();
    let notes: Vec<Note> = if scope.is_city_wide() {
        out.notes
            .into_iter()
            .filter(|n| n.payee_id == payee)
            .collect()
    } else {
        Vec::new()
    };
    let mut p: Vec<Value> = vec![payee.into(), period.to_string().into()];
    let mut w = String::from("payee_id = $1 AND period = $2");
    scope.push_sql(&mut w, &mut p, "area_path", None);
    let stored = conn
        .query(
            &format!("SELECT * FROM subsidy_line WHERE {w} ORDER BY run_id, line_no LIMIT 200"),
            &p,
        )?
        .iter()
        .map(line_of)
        .collect::<Result<Vec<_>>>()?;
    if now.is_empty() && notes.is_empty() && stored.is_empty() {
        return Err(StoreError::NotFound {
            what: "subsidy payee",
            id: payee.chars().take(100).collect(),
        });
    }
    Ok(Explained {
        payee: payee.to_string(),
        period: period.to_string(),
        parameters_version: params.version().to_string(),
        now,
        notes,
        stored,
    })
}

/// A what-if: a year's cost month by month under the parameters in force
/// and under a reform, by rule and county.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIf {
    pub year: i32,
    pub baseline_version: String,
    pub reform_version: String,
    pub cells: Vec<CostCell>,
    pub by_month: Vec<Cost>,
    pub by_rule: Vec<Cost>,
    pub by_county: Vec<Cost>,
    pub total: Cost,
}

/// Baseline and reform sums under one key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Cost {
    pub key: String,
    pub label: String,
    pub baseline_fen: i64,
    pub reform_fen: i64,
    pub difference_fen: i64,
    pub baseline_city_fen: i64,
    pub reform_city_fen: i64,
}

fn group(
    cells: &[CostCell],
    key: impl Fn(&CostCell) -> String,
    label: impl Fn(&str) -> String,
) -> Vec<Cost> {
    let mut m: BTreeMap<String, Cost> = BTreeMap::new();
    for c in cells {
        let k = key(c);
        let e = m.entry(k.clone()).or_insert_with(|| Cost {
            label: label(&k),
            key: k,
            ..Default::default()
        });
        e.baseline_fen += c.baseline_fen;
        e.reform_fen += c.reform_fen;
        e.baseline_city_fen += c.baseline_city_fen;
        e.reform_city_fen += c.reform_city_fen;
        e.difference_fen = e.reform_fen - e.baseline_fen;
    }
    m.into_values().collect()
}

/// Costs a reform (a parameter file, the `data/policy` format) for a year.
pub fn whatif(conn: &mut Conn, scope: &Scope, year: i32, reform: &str) -> Result<WhatIf> {
    scope.require(Perm::ReadSubsidies)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "a what-if costs the whole city: a city-wide account runs it".into(),
        ));
    }
    if reform.len() > MAX_REFORM_BYTES {
        return Err(invalid(
            "reform",
            format!("larger than {} KiB", MAX_REFORM_BYTES / 1024),
        ));
    }
    if !(2022..=2035).contains(&year) {
        return Err(invalid("year", "a year from 2022 to 2035"));
    }
    let base = params(conn)?;
    let reformed = base
        .with_reform(reform)
        .map_err(|e| invalid("reform", e.to_string()))?;
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
    let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_default();
    let snap = snapshot(conn, &base, from, to)?;
    let ledger = ledger(conn)?;
    let cells = subsidies::whatif(&snap, &base, &reformed, year, &ledger).map_err(rules_err)?;
    let names = area_names(conn)?;
    let by_month = group(&cells, |c| c.month.clone(), |k| k.to_string());
    let by_rule = group(
        &cells,
        |c| c.rule.code().to_string(),
        |k| Rule::from_code(k).map_or_else(|| k.to_string(), |r| r.zh().to_string()),
    );
    let by_county = group(
        &cells,
        |c| c.county_code.clone(),
        |k| names.get(k).cloned().unwrap_or_else(|| k.to_string()),
    );
    let mut total = Cost {
        key: "total".into(),
        label: "合计".into(),
        ..Default::default()
    };
    for c in &by_month {
        total.baseline_fen += c.baseline_fen;
        total.reform_fen += c.reform_fen;
        total.baseline_city_fen += c.baseline_city_fen;
        total.reform_city_fen += c.reform_city_fen;
    }
    total.difference_fen = total.reform_fen - total.baseline_fen;
    Ok(WhatIf {
        year,
        baseline_version: base.version().to_string(),
        reform_version: reformed.version().to_string(),
        cells,
        by_month,
        by_rule,
        by_county,
        total,
    })
}

/// An award paid before the platform kept the ledger (上线前已发放).
#[derive(Debug, Clone)]
pub struct PaidAward {
    pub award_key: String,
    pub amount_fen: i64,
    pub paid_on: NaiveDate,
    pub source: String,
}

/// Records awards paid before the platform went live, so that no run pays
/// them again: one run of cadence `import`, paid at once, holding no lines,
/// and the awards in the ledger. Every row or none; a row naming an award
/// already in the ledger, or twice, is refused with its row number.
pub fn import_paid_awards(
    conn: &mut Conn,
    scope: &Scope,
    rows: &[PaidAward],
    today: NaiveDate,
) -> Result<Run> {
    scope.require(Perm::ManageSubsidies)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "only a city-wide account records the city's awards".into(),
        ));
    }
    if rows.is_empty() || rows.len() > MAX_INCOME_ROWS {
        return Err(invalid("rows", format!("1 to {MAX_INCOME_ROWS} rows")));
    }
    let mut seen = std::collections::BTreeSet::new();
    for (i, a) in rows.iter().enumerate() {
        let row = i + 1;
        if a.award_key.chars().count() > 200 || subsidies::award_rule(&a.award_key).is_none() {
            return Err(invalid(
                "award_key",
                format!(
                    "row {row}: {:?} is not an award key (class_filing:CLASS, sunflower_construction:FACILITY, wellness_alliance:…, demonstration:…, provincial_demonstration:…, chain:CREDIT_CODE)",
                    a.award_key.chars().take(200).collect::<String>()
                ),
            ));
        }
        if !(1..=10_000_000_000).contains(&a.amount_fen) {
            return Err(invalid(
                "amount",
                format!("row {row}: the amount must be above 0 and at most 100,000,000 yuan"),
            ));
        }
        if a.paid_on > today || a.paid_on < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
        {
            return Err(invalid(
                "paid_date",
                format!("row {row}: {} is not a date from 2000 to today", a.paid_on),
            ));
        }
        if a.source.trim().is_empty() || a.source.chars().count() > 200 {
            return Err(invalid(
                "source",
                format!("row {row}: give the payment's source (at most 200 characters)"),
            ));
        }
        if !seen.insert(a.award_key.as_str()) {
            return Err(invalid(
                "award_key",
                format!("row {row}: {} is given twice", a.award_key),
            ));
        }
    }
    let now = now_rfc3339();
    let by = scope.actor.user.clone();
    let total: i64 = rows.iter().map(|a| a.amount_fen).sum();
    let params = Params::embedded().map_err(rules_err)?;
    conn.transaction(|c| {
        for (i, a) in rows.iter().enumerate() {
            if let Some(r) = c.query_opt("SELECT run_id FROM subsidy_award WHERE award_key = $1", &[a.award_key.as_str().into()])? {
                let run: i64 = r.get("run_id")?;
                return Err(StoreError::Conflict(format!("row {}: award {} is already in the ledger (run {run})", i + 1, a.award_key)));
            }
        }
        let id: i64 = c
            .query_opt(
                "INSERT INTO subsidy_run (cadence, period, status, prepared_by, prepared_at, reviewed_by, reviewed_at, \
                 review_note, paid_by, paid_at, parameters_version, register_versions, snapshot_digest, placeholder, \
                 line_count, total_fen, adjustment_fen, city_fen, county_fen, note_count, ledger_version) \
                 VALUES ('import', 'import', 'paid', $1, $2, $1, $2, $3, $1, $2, $4, '', '', FALSE, 0, $5, 0, 0, 0, 0, 0) RETURNING id",
                &[by.as_str().into(), now.as_str().into(), format!("{} awards paid before the platform", rows.len()).into(), params.version().into(), total.into()],
            )?
            .ok_or_else(|| StoreError::Database("the run id was not returned".into()))?
            .get("id")?;
        for (i, a) in rows.iter().enumerate() {
            let (rule, subject) = subsidies::award_rule(&a.award_key).unwrap_or((Rule::ChainAward, ""));
            c.execute(
                "INSERT INTO subsidy_award (award_key, rule, subject_id, run_id, line_no, amount_fen, paid_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[a.award_key.as_str().into(), rule.code().into(), subject.into(), id.into(), ((i + 1) as i64).into(), a.amount_fen.into(), a.paid_on.to_string().into()],
            )?;
        }
        audit::append(
            c,
            scope,
            Event {
                action: "subsidy.import_awards",
                entity: "subsidy_run",
                entity_id: Some(&id.to_string()),
                before: None,
                after: Some(serde_json::json!({"awards": rows.len(), "total_fen": total, "sources": rows.iter().map(|a| a.source.trim()).collect::<std::collections::BTreeSet<_>>()}).to_string()),
            },
        )?;
        get_run(c, id)
    })
}

/// The two documented what-if examples (`docs/subsidies.md`).
pub const EXAMPLE_CENTENARIAN_800: &str =
    include_str!("../../../../docs/examples/reform-centenarian-800.toml");
pub const EXAMPLE_INCLUSIVE_PLUS_100: &str =
    include_str!("../../../../docs/examples/reform-inclusive-plus-100.toml");
