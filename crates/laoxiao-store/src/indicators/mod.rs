//! The indicator monitor (指标监测): the plan's indicators for every area and
//! period, computed from the registers ([`facts`] + `laoxiao_rules::indicators`)
//! or reported by the responsible units, with their status against target;
//! publication (发布) freezes a period's values; recomputation lists what
//! changed since.
//!
//! Tables (migration 0013): `indicator_reported_value`, `indicator_area_target`,
//! `area_population` (residents, reference figures), `indicator_publication`
//! and `indicator_published_value`. Every write bumps the `indicator` version,
//! so kept tables and facts are dropped by every server at its next request.

pub mod excel;
pub mod facts;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::NaiveDate;
use laoxiao_model::{AreaLevel, FieldError};
use laoxiao_rules::indicators::{
    self, AreaTarget, Computed, Definition, Method, MonthValue, Period, Source, Status, StatusKind,
    definitions,
};
use laoxiao_rules::plan::Target;
use serde::Serialize;

use crate::audit::{self, Event};
use crate::db::{Conn, Value};
use crate::error::{Result, RowError, StoreError};
use crate::scope::{Perm, Scope};
use crate::versions::{self, Versions};
use crate::{Reference, now_rfc3339};

/// Reported values are bounded (no plan figure comes near).
const MAX_ABS_VALUE: f64 = 1e9;
/// Records named behind a count, at most.
pub const MAX_RECORDS: usize = 200;
/// Rows of one report, at most.
pub const MAX_REPORT_ROWS: usize = 10_000;
/// Tables kept per process (periods × days asked).
const MAX_KEPT_TABLES: usize = 32;

/// One indicator's value for one area and period, with its status.
#[derive(Debug, Clone, Serialize)]
pub struct IndicatorValue {
    pub indicator: u32,
    pub area_code: String,
    pub area_name: String,
    pub level: AreaLevel,
    pub period: String,
    pub method: Method,
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// Rounded to the definition's decimals; `None`: no data.
    pub value: Option<f64>,
    #[serde(flatten)]
    pub status: Status,
    /// Not published yet (暂定): the registers may still change it.
    pub provisional: bool,
    /// The publication it comes from, when published.
    pub publication: Option<i64>,
    /// Reported values: who entered it, when, and their note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub months: Vec<MonthValue>,
}

/// Every indicator for every area for one period.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub period: Period,
    /// The day the values describe (the period's end, or today if earlier).
    pub as_of: NaiveDate,
    pub definitions_version: String,
    /// The publication shown, if these are published values.
    pub publication: Option<Publication>,
    pub values: Vec<IndicatorValue>,
    /// Milliseconds spent reading facts (0 if kept) and computing.
    pub facts_ms: f64,
    pub compute_ms: f64,
    #[serde(skip)]
    pub versions: Versions,
}

impl Table {
    /// The value of one indicator in one area.
    pub fn get(&self, indicator: u32, area: &str) -> Option<&IndicatorValue> {
        self.values
            .iter()
            .find(|v| v.indicator == indicator && v.area_code == area)
    }
}

/// A publication (发布) of a period's values.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Publication {
    pub id: i64,
    pub period: String,
    pub as_of: String,
    pub published_at: String,
    pub published_by: String,
    pub definitions_version: String,
    /// The register versions the values were computed at (`person=…;…`).
    pub register_versions: String,
    pub note: Option<String>,
}

/// Tables kept per process, by period and day.
#[derive(Debug, Default)]
pub struct KeptTables {
    tables: Mutex<HashMap<(Period, NaiveDate), Arc<Table>>>,
}

fn defs() -> Result<&'static indicators::Definitions> {
    definitions().map_err(|e| StoreError::Reference(e.to_string()))
}

fn versions_text(v: &Versions) -> String {
    format!(
        "person={};facility={};activity={};indicator={}",
        v.person, v.facility, v.activity, v.indicator
    )
}

/// The day a period's values describe.
pub fn as_of(period: Period, today: NaiveDate) -> NaiveDate {
    period.end().min(today)
}

/// Every area's own targets: (indicator, area code) → targets.
fn area_targets(conn: &mut Conn) -> Result<HashMap<(u32, String), Vec<AreaTarget>>> {
    let mut out: HashMap<(u32, String), Vec<AreaTarget>> = HashMap::new();
    for r in conn.query(
        "SELECT indicator, area_code, year, target FROM indicator_area_target",
        &[],
    )? {
        let raw: String = r.get("target")?;
        let Ok(target) = Target::parse(&raw) else {
            continue;
        };
        let n = u32::try_from(r.get::<i64>("indicator")?).unwrap_or(0);
        out.entry((n, r.get("area_code")?))
            .or_default()
            .push(AreaTarget {
                year: i32::try_from(r.get::<i64>("year")?).unwrap_or(0),
                target,
            });
    }
    Ok(out)
}

struct ReportedRow {
    value: f64,
    by: String,
    at: String,
    note: Option<String>,
}

fn reported(conn: &mut Conn, period: Period) -> Result<HashMap<(u32, String), ReportedRow>> {
    let mut out = HashMap::new();
    for r in conn.query(
        "SELECT indicator, area_code, value, entered_by, entered_at, note \
         FROM indicator_reported_value WHERE period = $1",
        &[period.to_string().into()],
    )? {
        let n = u32::try_from(r.get::<i64>("indicator")?).unwrap_or(0);
        out.insert(
            (n, r.get("area_code")?),
            ReportedRow {
                value: r.get("value")?,
                by: r.get("entered_by")?,
                at: r.get("entered_at")?,
                note: r.get("note")?,
            },
        );
    }
    Ok(out)
}

/// The live (unpublished) values of a period: computed from the registers
/// now, with the reported values entered for it. Kept until a register or an
/// indicator table changes.
pub fn live(
    conn: &mut Conn,
    reference: &Reference,
    period: Period,
    today: NaiveDate,
) -> Result<Arc<Table>> {
    let day = as_of(period, today);
    let now = versions::read(conn)?;
    if let Ok(kept) = reference.indicator_tables.tables.lock()
        && let Some(t) = kept.get(&(period, day))
        && t.versions == now
    {
        return Ok(Arc::clone(t));
    }
    let started = Instant::now();
    let loaded = reference.indicator_facts.get(conn, &reference.areas)?;
    let facts_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    let ds = defs()?;
    let all: Vec<&Definition> = ds.all.iter().collect();
    let computed = indicators::compute(&all, &loaded.facts, &reference.areas, period, day);
    let compute_ms = started.elapsed().as_secs_f64() * 1000.0;
    let reported = reported(conn, period)?;
    let targets = area_targets(conn)?;
    let values = assemble(ds, &reference.areas, period, computed, reported, &targets);
    let table = Arc::new(Table {
        period,
        as_of: day,
        definitions_version: ds.version.clone(),
        publication: None,
        values,
        facts_ms,
        compute_ms,
        versions: loaded.versions,
    });
    if let Ok(mut kept) = reference.indicator_tables.tables.lock() {
        if kept.len() >= MAX_KEPT_TABLES {
            kept.clear();
        }
        kept.insert((period, day), Arc::clone(&table));
    }
    Ok(table)
}

fn assemble(
    ds: &indicators::Definitions,
    areas: &laoxiao_model::AreaTree,
    period: Period,
    computed: Vec<Computed>,
    mut reported: HashMap<(u32, String), ReportedRow>,
    targets: &HashMap<(u32, String), Vec<AreaTarget>>,
) -> Vec<IndicatorValue> {
    let mut by_key: HashMap<(u32, String), Computed> = computed
        .into_iter()
        .map(|c| ((c.indicator, c.area_code.clone()), c))
        .collect();
    let mut out = Vec::new();
    for d in &ds.all {
        if !d.periods.contains(&period.kind()) {
            continue;
        }
        for a in areas.all() {
            if !d.allows(a.level) {
                continue;
            }
            let key = (d.number, a.code.clone());
            let own = targets.get(&key).map(Vec::as_slice).unwrap_or(&[]);
            let (numerator, denominator, value, months, rep) = match d.method {
                Method::Computed => match by_key.remove(&key) {
                    Some(c) => (c.numerator, c.denominator, c.value, c.months, None),
                    None => (None, None, None, Vec::new(), None),
                },
                Method::Reported => {
                    let r = reported.remove(&key);
                    (None, None, r.as_ref().map(|r| r.value), Vec::new(), r)
                }
            };
            let value = value.map(|v| d.round(v));
            out.push(IndicatorValue {
                indicator: d.number,
                area_code: a.code.clone(),
                area_name: a.name.clone(),
                level: a.level,
                period: period.to_string(),
                method: d.method,
                numerator,
                denominator,
                value,
                status: indicators::status::status(d, a.level, own, period.year, value),
                provisional: true,
                publication: None,
                reported_by: rep.as_ref().map(|r| r.by.clone()),
                reported_at: rep.as_ref().map(|r| r.at.clone()),
                note: rep.and_then(|r| r.note),
                months,
            });
        }
    }
    out
}

fn publication_of(r: &crate::db::Row) -> Result<Publication> {
    Ok(Publication {
        id: r.get("id")?,
        period: r.get("period")?,
        as_of: r.get("as_of")?,
        published_at: r.get("published_at")?,
        published_by: r.get("published_by")?,
        definitions_version: r.get("definitions_version")?,
        register_versions: r.get("register_versions")?,
        note: r.get("note")?,
    })
}

/// The latest publication of a period.
pub fn publication(conn: &mut Conn, period: Period) -> Result<Option<Publication>> {
    conn.query_opt(
        "SELECT id, period, as_of, published_at, published_by, definitions_version, \
         register_versions, note FROM indicator_publication WHERE period = $1 \
         ORDER BY id DESC LIMIT 1",
        &[period.to_string().into()],
    )?
    .map(|r| publication_of(&r))
    .transpose()
}

/// Every publication, newest first.
pub fn publications(conn: &mut Conn) -> Result<Vec<Publication>> {
    conn.query(
        "SELECT id, period, as_of, published_at, published_by, definitions_version, \
         register_versions, note FROM indicator_publication ORDER BY id DESC LIMIT 500",
        &[],
    )?
    .iter()
    .map(publication_of)
    .collect()
}

/// The values of a period as shown by default: the latest publication's if
/// the period was published, else the live (provisional) ones.
pub fn table(
    conn: &mut Conn,
    reference: &Reference,
    period: Period,
    today: NaiveDate,
    live_only: bool,
) -> Result<Arc<Table>> {
    if !live_only && let Some(p) = publication(conn, period)? {
        return published(conn, reference, p).map(Arc::new);
    }
    live(conn, reference, period, today)
}

/// A publication's frozen values.
fn published(conn: &mut Conn, reference: &Reference, p: Publication) -> Result<Table> {
    let ds = defs()?;
    let period = Period::parse(&p.period).map_err(|e| StoreError::Database(e.to_string()))?;
    let mut values = Vec::new();
    for r in conn.query(
        "SELECT indicator, area_code, method, numerator, denominator, value, status, \
         target_year, target, target_value, expected, gap, own_target, reported_by, reported_at, note \
         FROM indicator_published_value WHERE publication_id = $1 ORDER BY indicator, area_code",
        &[p.id.into()],
    )? {
        let code: String = r.get("area_code")?;
        let Some(area) = reference.areas.get(&code) else { continue };
        let n = u32::try_from(r.get::<i64>("indicator")?).unwrap_or(0);
        let status: String = r.get("status")?;
        let method: String = r.get("method")?;
        values.push(IndicatorValue {
            indicator: n,
            area_code: code.clone(),
            area_name: area.name.clone(),
            level: area.level,
            period: p.period.clone(),
            method: if method == "reported" { Method::Reported } else { Method::Computed },
            numerator: r.get("numerator")?,
            denominator: r.get("denominator")?,
            value: r.get("value")?,
            status: Status {
                status: status_of(&status),
                target_year: r.get::<Option<i64>>("target_year")?.and_then(|y| i32::try_from(y).ok()),
                target: r.get("target")?,
                target_value: r.get("target_value")?,
                expected: r.get("expected")?,
                gap: r.get("gap")?,
                own_target: r.get("own_target")?,
            },
            provisional: false,
            publication: Some(p.id),
            reported_by: r.get("reported_by")?,
            reported_at: r.get("reported_at")?,
            note: r.get("note")?,
            months: Vec::new(),
        });
    }
    // The order definitions and the tree give, as live tables have it.
    let order: HashMap<u32, usize> = ds
        .all
        .iter()
        .enumerate()
        .map(|(i, d)| (d.number, i))
        .collect();
    let area_order: HashMap<&str, usize> = reference
        .areas
        .all()
        .iter()
        .enumerate()
        .map(|(i, a)| (a.code.as_str(), i))
        .collect();
    values.sort_by_key(|v| {
        (
            order.get(&v.indicator).copied().unwrap_or(usize::MAX),
            area_order
                .get(v.area_code.as_str())
                .copied()
                .unwrap_or(usize::MAX),
        )
    });
    Ok(Table {
        period,
        as_of: NaiveDate::parse_from_str(&p.as_of, "%Y-%m-%d").unwrap_or_default(),
        definitions_version: p.definitions_version.clone(),
        publication: Some(p),
        values,
        facts_ms: 0.0,
        compute_ms: 0.0,
        versions: Versions::default(),
    })
}

fn status_of(code: &str) -> StatusKind {
    match code {
        "met" => StatusKind::Met,
        "on_track" => StatusKind::OnTrack,
        "behind" => StatusKind::Behind,
        "no_target" => StatusKind::NoTarget,
        _ => StatusKind::NoData,
    }
}

/// Publishes a period: freezes its live values with the registers' versions
/// and the definitions' version. A period may be published again (after a
/// correction); the latest publication is the one shown.
pub fn publish(
    conn: &mut Conn,
    scope: &Scope,
    reference: &Reference,
    period: Period,
    today: NaiveDate,
    note: Option<&str>,
) -> Result<Publication> {
    scope.require(Perm::PublishIndicators)?;
    if !scope.is_city_wide() {
        return Err(StoreError::Forbidden(
            "only a city-wide account publishes the city's indicators".into(),
        ));
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 500) {
        return Err(invalid("note", "longer than 500 characters"));
    }
    let t = live(conn, reference, period, today)?;
    let now = now_rfc3339();
    let by = scope.actor.user.clone();
    conn.transaction(|c| {
        let id: i64 = c
            .query_opt(
                "INSERT INTO indicator_publication (period, as_of, published_at, published_by, \
                 definitions_version, register_versions, note) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    period.to_string().into(),
                    t.as_of.into(),
                    now.as_str().into(),
                    by.as_str().into(),
                    t.definitions_version.as_str().into(),
                    versions_text(&t.versions).into(),
                    note.into(),
                ],
            )?
            .ok_or_else(|| StoreError::Database("the publication id was not returned".into()))?
            .get("id")?;
        insert_values(c, id, &t.values)?;
        audit::append(
            c,
            scope,
            Event {
                action: "indicator.publish",
                entity: "indicator_publication",
                entity_id: Some(&id.to_string()),
                before: None,
                after: Some(
                    serde_json::json!({"period": period.to_string(), "as_of": t.as_of, "values": t.values.len(), "definitions_version": t.definitions_version})
                        .to_string(),
                ),
            },
        )?;
        versions::bump(c, versions::INDICATOR)?;
        Ok(Publication {
            id,
            period: period.to_string(),
            as_of: t.as_of.to_string(),
            published_at: now.clone(),
            published_by: by.clone(),
            definitions_version: t.definitions_version.clone(),
            register_versions: versions_text(&t.versions),
            note: note.map(str::to_string),
        })
    })
}

fn insert_values(c: &mut Conn, id: i64, values: &[IndicatorValue]) -> Result<()> {
    const COLS: usize = 16;
    // Multi-row inserts, well under both databases' parameter limits.
    for chunk in values.chunks(400) {
        let mut sql = String::from(
            "INSERT INTO indicator_published_value (publication_id, indicator, area_code, method, \
             numerator, denominator, value, status, target_year, target, target_value, expected, gap, \
             own_target, reported_by, reported_at) VALUES ",
        );
        let mut params: Vec<Value> = Vec::with_capacity(chunk.len() * COLS);
        for (i, v) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let marks: Vec<String> = (1..=COLS).map(|k| format!("${}", i * COLS + k)).collect();
            sql.push_str(&format!("({})", marks.join(", ")));
            params.extend([
                Value::Int(id),
                Value::Int(i64::from(v.indicator)),
                v.area_code.as_str().into(),
                (if v.method == Method::Reported {
                    "reported"
                } else {
                    "computed"
                })
                .into(),
                v.numerator.into(),
                v.denominator.into(),
                v.value.into(),
                v.status.status.code().into(),
                v.status.target_year.map(i64::from).into(),
                v.status.target.clone().into(),
                v.status.target_value.into(),
                v.status.expected.into(),
                v.status.gap.into(),
                v.status.own_target.into(),
                v.reported_by.clone().into(),
                v.reported_at.clone().into(),
            ]);
        }
        c.execute(&sql, &params)?;
    }
    Ok(())
}

/// One value that differs between a publication and a recomputation.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub indicator: u32,
    pub area_code: String,
    pub published: Option<f64>,
    pub now: Option<f64>,
    pub published_numerator: Option<i64>,
    pub numerator: Option<i64>,
    pub published_denominator: Option<i64>,
    pub denominator: Option<i64>,
    /// Why: which side changed, or that a reported value was changed.
    pub reason: String,
}

/// What recomputing a published period would change.
#[derive(Debug, Clone, Serialize)]
pub struct Recomputation {
    pub publication: Publication,
    pub definitions_version: String,
    pub register_versions: String,
    /// Why values may differ: the definitions and registers changed since.
    pub reasons: Vec<String>,
    pub changes: Vec<Change>,
}

/// Recomputes a published period and lists the values that differ from the
/// publication, and why.
pub fn recompute(
    conn: &mut Conn,
    reference: &Reference,
    period: Period,
    today: NaiveDate,
) -> Result<Recomputation> {
    let p = publication(conn, period)?.ok_or(StoreError::NotFound {
        what: "publication of period",
        id: period.to_string(),
    })?;
    let old = published(conn, reference, p.clone())?;
    let new = live(conn, reference, period, today)?;
    let mut reasons = Vec::new();
    if new.definitions_version != p.definitions_version {
        reasons.push(format!(
            "the definitions changed (published with {}, now {})",
            p.definitions_version, new.definitions_version
        ));
    }
    let now_v = versions_text(&new.versions);
    if now_v != p.register_versions {
        let before: BTreeMap<&str, &str> = p
            .register_versions
            .split(';')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        for kv in now_v.split(';') {
            if let Some((k, v)) = kv.split_once('=')
                && before.get(k) != Some(&v)
            {
                reasons.push(format!(
                    "the {k} register was written since (version {} then, {v} now)",
                    before.get(k).unwrap_or(&"?")
                ));
            }
        }
    }
    if new.as_of.to_string() != p.as_of {
        reasons.push(format!(
            "the period was published as of {}; it now stands as of {}",
            p.as_of, new.as_of
        ));
    }
    let old_map: HashMap<(u32, &str), &IndicatorValue> = old
        .values
        .iter()
        .map(|v| ((v.indicator, v.area_code.as_str()), v))
        .collect();
    let mut changes = Vec::new();
    for v in &new.values {
        let o = old_map.get(&(v.indicator, v.area_code.as_str()));
        let (pv, pn, pd) = o.map_or((None, None, None), |o| {
            (o.value, o.numerator, o.denominator)
        });
        if pv == v.value && pn == v.numerator && pd == v.denominator {
            continue;
        }
        let reason = if o.is_none() {
            "not in the publication".to_string()
        } else if v.method == Method::Reported {
            "the reported value was changed".to_string()
        } else {
            match (pn != v.numerator, pd != v.denominator) {
                (true, true) => "numerator and denominator changed".into(),
                (true, false) => "numerator changed".into(),
                (false, true) => "denominator changed".into(),
                (false, false) => "value changed".into(),
            }
        };
        changes.push(Change {
            indicator: v.indicator,
            area_code: v.area_code.clone(),
            published: pv,
            now: v.value,
            published_numerator: pn,
            numerator: v.numerator,
            published_denominator: pd,
            denominator: v.denominator,
            reason,
        });
    }
    Ok(Recomputation {
        publication: p,
        definitions_version: new.definitions_version.clone(),
        register_versions: now_v,
        reasons,
        changes,
    })
}

fn invalid(field: &str, reason: &str) -> StoreError {
    StoreError::Invalid(vec![FieldError::new(field, reason)])
}

/// One reported value (填报值).
#[derive(Debug, Clone, PartialEq, serde::Deserialize, Serialize)]
pub struct Report {
    pub indicator: u32,
    pub area_code: String,
    pub period: String,
    pub value: f64,
    #[serde(default)]
    pub note: Option<String>,
}

/// Checks one report against the definitions, the tree and the scope.
fn check_report(
    reference: &Reference,
    scope: &Scope,
    r: &Report,
) -> std::result::Result<(), (String, String)> {
    let d = defs()
        .ok()
        .and_then(|ds| ds.all.iter().find(|d| d.number == r.indicator))
        .ok_or_else(|| {
            (
                "indicator".to_string(),
                format!("no plan indicator {}", r.indicator),
            )
        })?;
    if d.method != Method::Reported {
        return Err((
            "indicator".into(),
            format!(
                "indicator {} is computed from the registers, not reported",
                r.indicator
            ),
        ));
    }
    // Unknown and out-of-scope areas get the same answer.
    let area = reference
        .areas
        .get(r.area_code.trim())
        .filter(|a| scope.contains_path(&a.path))
        .ok_or_else(|| {
            (
                "area_code".to_string(),
                format!("no area {:?} in your scope", truncate(&r.area_code)),
            )
        })?;
    if !d.allows(area.level) {
        return Err((
            "area_code".into(),
            format!(
                "indicator {} has no {} values",
                r.indicator,
                area.level.label_en().to_lowercase()
            ),
        ));
    }
    let p = Period::parse(&r.period).map_err(|e| ("period".to_string(), e.to_string()))?;
    if !d.periods.contains(&p.kind()) {
        return Err((
            "period".into(),
            format!("indicator {} is reported by year", r.indicator),
        ));
    }
    if !r.value.is_finite() || r.value.abs() > MAX_ABS_VALUE {
        return Err((
            "value".into(),
            "must be a number between -1e9 and 1e9".into(),
        ));
    }
    if d.unit.as_deref() == Some("%") && !(0.0..=100.0).contains(&r.value) {
        return Err((
            "value".into(),
            "a percentage must be between 0 and 100".into(),
        ));
    }
    if r.note.as_deref().is_some_and(|n| n.chars().count() > 500) {
        return Err(("note".into(), "longer than 500 characters".into()));
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(24).collect()
}

/// Enters reported values (all or none): each checked, written with who and
/// when, audited. Row numbers in errors count as a spreadsheet does (the
/// header is row 1).
pub fn report(
    conn: &mut Conn,
    scope: &Scope,
    reference: &Reference,
    rows: &[Report],
) -> Result<usize> {
    scope.require(Perm::ReportIndicators)?;
    if rows.len() > MAX_REPORT_ROWS {
        return Err(StoreError::LimitExceeded {
            limit: "indicator_report_rows",
            env: "(fixed)",
            value: MAX_REPORT_ROWS as u64,
            what: format!("{} rows", rows.len()),
        });
    }
    let mut errors = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        if let Err((column, reason)) = check_report(reference, scope, r) {
            errors.push(RowError {
                row: i + 2,
                column,
                reason,
            });
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::ImportRejected(errors));
    }
    let now = now_rfc3339();
    let by = scope.actor.user.clone();
    conn.transaction(|c| {
        for r in rows {
            let period = Period::parse(&r.period).map_err(|e| invalid("period", &e.to_string()))?;
            let before = c
                .query_opt(
                    "SELECT value FROM indicator_reported_value WHERE indicator = $1 AND area_code = $2 AND period = $3",
                    &[i64::from(r.indicator).into(), r.area_code.trim().into(), period.to_string().into()],
                )?
                .map(|row| row.get::<f64>("value"))
                .transpose()?;
            c.execute(
                "INSERT INTO indicator_reported_value (indicator, area_code, period, value, note, entered_by, entered_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (indicator, area_code, period) DO UPDATE SET \
                 value = excluded.value, note = excluded.note, entered_by = excluded.entered_by, entered_at = excluded.entered_at",
                &[
                    i64::from(r.indicator).into(),
                    r.area_code.trim().into(),
                    period.to_string().into(),
                    r.value.into(),
                    r.note.clone().into(),
                    by.as_str().into(),
                    now.as_str().into(),
                ],
            )?;
            let id = format!("{}/{}/{}", r.indicator, r.area_code.trim(), period);
            audit::append(
                c,
                scope,
                Event {
                    action: "indicator.report",
                    entity: "indicator_value",
                    entity_id: Some(&id),
                    before: before.map(|v| serde_json::json!({ "value": v }).to_string()),
                    after: Some(serde_json::json!({ "value": r.value, "note": r.note }).to_string()),
                },
            )?;
        }
        versions::bump(c, versions::INDICATOR)?;
        Ok(rows.len())
    })
}

/// The reported values entered, for a period or all.
pub fn reported_values(conn: &mut Conn, period: Option<Period>) -> Result<Vec<Report>> {
    let (w, p): (&str, Vec<Value>) = match period {
        Some(p) => (" WHERE period = $1", vec![p.to_string().into()]),
        None => ("", vec![]),
    };
    conn.query(
        &format!("SELECT indicator, area_code, period, value, note FROM indicator_reported_value{w} ORDER BY period, indicator, area_code LIMIT 100000"),
        &p,
    )?
    .iter()
    .map(|r| {
        Ok(Report {
            indicator: u32::try_from(r.get::<i64>("indicator")?).unwrap_or(0),
            area_code: r.get("area_code")?,
            period: r.get("period")?,
            value: r.get("value")?,
            note: r.get("note")?,
        })
    })
    .collect()
}

/// Sets an area's own target for an indicator and year (a county's own
/// plan); `raw` in the plan's notation (`95`, `72以上`, `5以下`).
#[allow(clippy::too_many_arguments)] // the target's own fields, each checked here
pub fn set_target(
    conn: &mut Conn,
    scope: &Scope,
    reference: &Reference,
    indicator: u32,
    area_code: &str,
    year: i32,
    raw: &str,
    source: Option<&str>,
) -> Result<()> {
    scope.require(Perm::ReportIndicators)?;
    let d = defs()?
        .all
        .iter()
        .find(|d| d.number == indicator)
        .ok_or_else(|| invalid("indicator", &format!("no plan indicator {indicator}")))?;
    let area = reference
        .areas
        .get(area_code)
        .filter(|a| scope.contains_path(&a.path) && a.level != AreaLevel::City)
        .ok_or_else(|| {
            invalid(
                "area_code",
                "no county, town or village of that code in your scope",
            )
        })?;
    if !d.allows(area.level) {
        return Err(invalid(
            "area_code",
            &format!("indicator {indicator} has no values at this level"),
        ));
    }
    if !(2020..=2035).contains(&year) {
        return Err(invalid("year", "must be from 2020 (the baseline) to 2035"));
    }
    let t = Target::parse(raw).map_err(|e| invalid("target", &e.to_string()))?;
    if t.value.is_some_and(|v| v.value.abs() > MAX_ABS_VALUE) {
        return Err(invalid("target", "out of range"));
    }
    let source = source.map(str::trim).filter(|s| !s.is_empty());
    if source.is_some_and(|s| s.chars().count() > 200) {
        return Err(invalid("source", "longer than 200 characters"));
    }
    let now = now_rfc3339();
    conn.transaction(|c| {
        c.execute(
            "INSERT INTO indicator_area_target (indicator, area_code, year, target, source, entered_by, entered_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (indicator, area_code, year) DO UPDATE SET \
             target = excluded.target, source = excluded.source, entered_by = excluded.entered_by, entered_at = excluded.entered_at",
            &[
                i64::from(indicator).into(),
                area.code.as_str().into(),
                i64::from(year).into(),
                t.raw.trim().into(),
                source.into(),
                scope.actor.user.as_str().into(),
                now.as_str().into(),
            ],
        )?;
        let id = format!("{indicator}/{}/{year}", area.code);
        audit::append(
            c,
            scope,
            Event {
                action: "indicator.target",
                entity: "indicator_target",
                entity_id: Some(&id),
                before: None,
                after: Some(serde_json::json!({ "target": t.raw, "source": source }).to_string()),
            },
        )?;
        versions::bump(c, versions::INDICATOR)?;
        Ok(())
    })
}

/// Sets resident figures (常住人口) of areas from a year on: reference
/// figures for the per-resident indicators (38).
pub fn set_residents(
    conn: &mut Conn,
    scope: &Scope,
    reference: &Reference,
    rows: &[(String, i32, i64, String)],
) -> Result<usize> {
    scope.require(Perm::ReportIndicators)?;
    if rows.len() > MAX_REPORT_ROWS {
        return Err(invalid("rows", "too many rows"));
    }
    let mut errors = Vec::new();
    for (i, (code, year, n, source)) in rows.iter().enumerate() {
        let row = i + 2;
        if reference
            .areas
            .get(code)
            .filter(|a| scope.contains_path(&a.path))
            .is_none()
        {
            errors.push(RowError {
                row,
                column: "area_code".into(),
                reason: format!("no area {:?} in your scope", truncate(code)),
            });
        }
        if !(2000..=2035).contains(year) {
            errors.push(RowError {
                row,
                column: "year".into(),
                reason: "must be from 2000 to 2035".into(),
            });
        }
        if !(0..=100_000_000).contains(n) {
            errors.push(RowError {
                row,
                column: "residents".into(),
                reason: "must be from 0 to 100,000,000".into(),
            });
        }
        if source.chars().count() > 200 {
            errors.push(RowError {
                row,
                column: "source".into(),
                reason: "longer than 200 characters".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::ImportRejected(errors));
    }
    conn.transaction(|c| {
        for (code, year, n, source) in rows {
            c.execute(
                "INSERT INTO area_population (area_code, year, residents, source) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (area_code, year) DO UPDATE SET residents = excluded.residents, source = excluded.source",
                &[code.as_str().into(), i64::from(*year).into(), (*n).into(), source.as_str().into()],
            )?;
        }
        audit::append(
            c,
            scope,
            Event {
                action: "indicator.residents",
                entity: "area_population",
                entity_id: None,
                before: None,
                after: Some(serde_json::json!({ "rows": rows.len() }).to_string()),
            },
        )?;
        versions::bump(c, versions::INDICATOR)?;
        Ok(rows.len())
    })
}

/// Replaces every resident figure (the demo writes its synthetic city's).
pub fn replace_residents(conn: &mut Conn, rows: &[(String, i32, i64, String)]) -> Result<()> {
    conn.transaction(|c| {
        c.execute("DELETE FROM area_population", &[])?;
        for (code, year, n, source) in rows {
            c.execute(
                "INSERT INTO area_population (area_code, year, residents, source) VALUES ($1, $2, $3, $4)",
                &[code.as_str().into(), i64::from(*year).into(), (*n).into(), source.as_str().into()],
            )?;
        }
        versions::bump(c, versions::INDICATOR)?;
        Ok(())
    })
}

/// The records behind a count, for callers allowed to read them.
#[derive(Debug, Clone, Serialize)]
pub struct Records {
    /// The register the ids belong to (`people`, `facilities`, `staff`).
    pub register: &'static str,
    pub numerator: Vec<String>,
    pub denominator: Vec<String>,
    /// More records than [`MAX_RECORDS`] matched; the lists stop there.
    pub truncated: bool,
}

/// A value explained: its definition, its numerator and denominator, the
/// child areas' values, and (for roles that may read the records) the
/// records counted.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub value: IndicatorValue,
    pub definition: &'static Definition,
    pub children: Vec<IndicatorValue>,
    /// Values of the same area in earlier years (from 2020), for trends.
    pub records: Option<Records>,
    /// Why the records are not listed, when they are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records_withheld: Option<String>,
}

fn register_of(s: Source) -> Option<(&'static str, Perm)> {
    match s {
        Source::Elderly | Source::Infants | Source::Births | Source::InfantDeaths => {
            Some(("people", Perm::ReadPeople))
        }
        Source::Facilities => Some(("facilities", Perm::ReadFacilities)),
        Source::Staff => Some(("staff", Perm::ReadFacilities)),
        _ => None,
    }
}

/// Explains one value (from the live table: the records are today's).
pub fn explain(
    conn: &mut Conn,
    scope: &Scope,
    reference: &Reference,
    indicator: u32,
    area_code: &str,
    period: Period,
    today: NaiveDate,
) -> Result<Explanation> {
    scope.require(Perm::Aggregates)?;
    let d = defs()?
        .all
        .iter()
        .find(|d| d.number == indicator)
        .ok_or(StoreError::NotFound {
            what: "indicator",
            id: indicator.to_string(),
        })?;
    let area = reference.areas.get(area_code).ok_or(StoreError::NotFound {
        what: "area",
        id: truncate(area_code),
    })?;
    let t = table(conn, reference, period, today, false)?;
    let value = t
        .get(indicator, area_code)
        .cloned()
        .ok_or(StoreError::NotFound {
            what: "value for indicator and area",
            id: format!("{indicator} {area_code}"),
        })?;
    let children: Vec<IndicatorValue> = reference
        .areas
        .children(area_code)
        .iter()
        .filter_map(|c| t.get(indicator, &c.code).cloned())
        .collect();
    let mut records = None;
    let mut withheld = None;
    if d.method == Method::Computed
        && let Some(num) = &d.numerator
    {
        match register_of(num.count) {
            None => {
                withheld =
                    Some("this indicator counts areas or reference figures, not records".into())
            }
            Some((register, perm)) => {
                if !scope.can(perm) {
                    withheld = Some(format!("your role may not read the {register} register"));
                } else if !scope.contains_path(&area.path) || scope.facility().is_some() {
                    withheld = Some("the area is outside your scope".into());
                } else {
                    let loaded = reference.indicator_facts.get(conn, &reference.areas)?;
                    let pos = reference
                        .areas
                        .all()
                        .iter()
                        .position(|a| a.code == area.code)
                        .unwrap_or(0);
                    let day = as_of(period, today);
                    let ids = |side: &indicators::Side| -> (Vec<String>, bool) {
                        let found = indicators::compute::records(
                            side,
                            &loaded.facts,
                            &reference.areas,
                            pos,
                            period,
                            day,
                            MAX_RECORDS + 1,
                        );
                        let more = found.len() > MAX_RECORDS;
                        let list = found
                            .into_iter()
                            .take(MAX_RECORDS)
                            .filter_map(|i| {
                                match side.count {
                                    Source::Facilities => loaded.facility_ids.get(i),
                                    Source::Staff => loaded.staff_ids.get(i),
                                    _ => loaded.person_ids.get(i),
                                }
                                .map(str::to_string)
                            })
                            .collect();
                        (list, more)
                    };
                    let (n, more_n) = ids(num);
                    let (dn, more_d) = match &d.denominator {
                        Some(s) if register_of(s.count).map(|r| r.0) == Some(register) => ids(s),
                        _ => (Vec::new(), false),
                    };
                    records = Some(Records {
                        register,
                        numerator: n,
                        denominator: dn,
                        truncated: more_n || more_d,
                    });
                    if register == "people" {
                        audit::append(
                            conn,
                            scope,
                            Event {
                                action: "indicator.records",
                                entity: "indicator_value",
                                entity_id: Some(&format!("{indicator}/{area_code}/{period}")),
                                before: None,
                                after: None,
                            },
                        )?;
                    }
                }
            }
        }
    }
    Ok(Explanation {
        value,
        definition: d,
        children,
        records,
        records_withheld: withheld,
    })
}

/// One indicator's values for an area over the years 2020 to `to`.
pub fn trend(
    conn: &mut Conn,
    reference: &Reference,
    indicator: u32,
    area_code: &str,
    to: i32,
    today: NaiveDate,
) -> Result<Vec<IndicatorValue>> {
    let mut out = Vec::new();
    for y in indicators::compute::FIRST_YEAR..=to.min(indicators::compute::LAST_YEAR) {
        let p = Period {
            year: y,
            month: None,
        };
        let t = table(conn, reference, p, today, false)?;
        if let Some(v) = t.get(indicator, area_code) {
            out.push(v.clone());
        }
    }
    Ok(out)
}
