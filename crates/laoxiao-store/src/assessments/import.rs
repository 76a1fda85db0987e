//! Bulk import of assessments done on paper (纸质评估补录): a CSV or XLSX
//! file, one row per finished assessment, columns by English key or Chinese
//! header. All or nothing: every bad row is named (row, column, reason) and
//! nothing is written unless every row is good. Each row is created and
//! finished exactly as through the API (the person's level, the service
//! record, the due day, the audit entries), in one transaction.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use laoxiao_rules::assessment::Standard;
use serde::Serialize;

use super::{Draft, Reason, create_in, finish_in, new_id, row_errors, standard};
use crate::db::Conn;
use crate::error::{Result, RowError, StoreError};
use crate::io::ImportLimits;
use crate::io::read::{self, BadCell, CsvSource, FileFormat, RowSource, SheetSource};
use crate::scope::{Perm, Scope};
use crate::{Reference, audit};

/// Most rows one file may hold (a county's paper backlog is a few thousand).
pub const MAX_ROWS: usize = 20_000;

/// The fixed columns: key and Chinese header. The 26 item columns follow,
/// named by item code (`B.1.1`) or the item's Chinese name.
pub const COLUMNS: &[(&str, &str)] = &[
    ("person_id", "老年人编号"),
    ("assessed_on", "评估日期"),
    ("reason", "评估原因"),
    ("assessor1_id", "评估员1编号"),
    ("assessor2_id", "评估员2编号"),
    ("organisation_id", "评估机构编号"),
    ("coma", "昏迷"),
    ("dementia", "痴呆"),
    ("mental_disorder", "其他精神和行为障碍"),
    ("risk_fall", "近30天跌倒次数"),
    ("risk_wandering", "近30天走失次数"),
    ("risk_choking", "近30天噎食次数"),
    ("risk_self_harm", "近30天自杀自伤次数"),
    ("risk_other", "近30天其他风险事件次数"),
];

const REQUIRED: &[&str] = &[
    "person_id",
    "assessed_on",
    "reason",
    "assessor1_id",
    "assessor2_id",
];

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub dry_run: bool,
    /// The assessments created (empty on a dry run: they were rolled back).
    pub ids: Vec<String>,
}

/// The header a column key is known by: key, Chinese header, item code or item name.
fn column_key(std: &Standard, header: &str) -> Option<String> {
    let h = header.trim();
    if let Some((k, _)) = COLUMNS.iter().find(|(k, zh)| *k == h || *zh == h) {
        return Some((*k).to_string());
    }
    std.items
        .iter()
        .find(|i| i.code == h || i.zh == h || i.key == h)
        .map(|i| i.code.clone())
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "" | "0" | "false" | "否" | "无" | "no" | "FALSE" => Some(false),
        "1" | "true" | "是" | "有" | "yes" | "TRUE" => Some(true),
        _ => None,
    }
}

/// A row's cells (by key) as a draft, or the row's errors.
fn parse_row(
    std: &Standard,
    row: usize,
    cells: &BTreeMap<String, String>,
) -> std::result::Result<Draft, Vec<RowError>> {
    let mut errs = Vec::new();
    let mut err = |col: &str, why: String| {
        errs.push(RowError {
            row,
            column: col.to_string(),
            reason: why,
        })
    };
    let get = |k: &str| cells.get(k).map(|s| s.trim()).unwrap_or("");
    for k in REQUIRED {
        if get(k).is_empty() {
            err(k, "required".into());
        }
    }
    let assessed_on = match NaiveDate::parse_from_str(get("assessed_on"), "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) if get("assessed_on").is_empty() => None,
        Err(_) => {
            err("assessed_on", "a date YYYY-MM-DD".into());
            None
        }
    };
    let reason = match Reason::parse(get("reason")) {
        Some(Reason::Review) => {
            err(
                "reason",
                "a review is entered through the console (it names the appealed assessment)".into(),
            );
            None
        }
        Some(r) => Some(r),
        None if get("reason").is_empty() => None,
        None => {
            err(
                "reason",
                "one of first, routine, immediate, other (首次评估, 常规评估, 即时评估, 其他)"
                    .into(),
            );
            None
        }
    };
    let mut answers = BTreeMap::new();
    for it in &std.items {
        let v = get(&it.code);
        if v.is_empty() {
            err(&it.code, format!("{} is not answered", it.zh));
            continue;
        }
        match v.parse::<u8>() {
            Ok(n) if it.options.iter().any(|o| o.score == n) => {
                answers.insert(it.code.clone(), n);
            }
            _ => {
                let allowed: Vec<String> = it.options.iter().map(|o| o.score.to_string()).collect();
                err(
                    &it.code,
                    format!("{}: one of {}", it.zh, allowed.join(", ")),
                );
            }
        }
    }
    let mut flags = [false; 3];
    for (i, k) in ["coma", "dementia", "mental_disorder"].iter().enumerate() {
        match parse_bool(get(k)) {
            Some(b) => flags[i] = b,
            None => err(k, "是/否 (true/false, 1/0)".into()),
        }
    }
    let mut risk_events = BTreeMap::new();
    for t in &std.risk_events {
        let col = format!("risk_{}", t.key);
        let v = get(&col);
        if v.is_empty() {
            continue;
        }
        match v.parse::<u32>() {
            Ok(n) if n <= laoxiao_rules::assessment::MAX_RISK_EVENTS => {
                if n > 0 {
                    risk_events.insert(t.key.clone(), n);
                }
            }
            _ => err(
                &col,
                format!(
                    "a count from 0 to {}",
                    laoxiao_rules::assessment::MAX_RISK_EVENTS
                ),
            ),
        }
    }
    let (Some(assessed_on), Some(reason)) = (assessed_on, reason) else {
        return Err(errs);
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut diagnoses = Vec::new();
    if flags[1] {
        diagnoses.push("dementia".to_string());
    }
    if flags[2] {
        diagnoses.push("mental_disorder".to_string());
    }
    let org = get("organisation_id");
    Ok(Draft {
        person_id: get("person_id").to_string(),
        reason,
        assessed_on,
        assessor1_id: get("assessor1_id").to_string(),
        assessor2_id: get("assessor2_id").to_string(),
        organisation_id: (!org.is_empty()).then(|| org.to_string()),
        answers,
        coma: flags[0],
        diagnoses,
        risk_events,
        review_of: None,
    })
}

/// Reads a file's rows as (row number, cells by column key).
pub fn read_rows(name: &str, bytes: &[u8]) -> Result<Vec<(usize, BTreeMap<String, String>)>> {
    let std = standard()?;
    let limits = ImportLimits::default();
    let text;
    let mut source: Box<dyn RowSource> = match read::detect(name, bytes)? {
        FileFormat::Csv => {
            text = read::decode_text(bytes)?;
            Box::new(CsvSource::new(&text, limits))
        }
        FileFormat::Spreadsheet => Box::new(SheetSource::new(bytes, limits)?),
    };
    let Some((hrow, header)) = source.header()? else {
        return Err(StoreError::File("the file is empty".into()));
    };
    let mut keys = Vec::with_capacity(header.len());
    let mut errs = Vec::new();
    for h in &header {
        match column_key(std, h) {
            Some(k) if keys.contains(&Some(k.clone())) => {
                errs.push(RowError {
                    row: hrow,
                    column: h.chars().take(40).collect(),
                    reason: "column given twice".into(),
                });
                keys.push(None);
            }
            Some(k) => keys.push(Some(k)),
            None => {
                errs.push(RowError {
                    row: hrow,
                    column: h.chars().take(40).collect(),
                    reason: "unknown column".into(),
                });
                keys.push(None);
            }
        }
    }
    if !errs.is_empty() {
        return Err(StoreError::ImportRejected(errs));
    }
    let mut rows = Vec::new();
    let mut cells = Vec::new();
    let mut bad: Vec<BadCell> = Vec::new();
    while let Some(n) = source.next_row(&mut cells, &mut bad)? {
        if rows.len() >= MAX_ROWS {
            return Err(StoreError::File(format!(
                "more than {MAX_ROWS} rows; split the file"
            )));
        }
        for b in bad.drain(..) {
            errs.push(RowError {
                row: n,
                column: keys.get(b.col).cloned().flatten().unwrap_or_default(),
                reason: b.reason,
            });
        }
        let mut m = BTreeMap::new();
        for (i, c) in cells.iter().enumerate() {
            match keys.get(i) {
                Some(Some(k)) => {
                    m.insert(k.clone(), c.clone());
                }
                _ if c.trim().is_empty() => {}
                _ => errs.push(RowError {
                    row: n,
                    column: format!("column {}", i + 1),
                    reason: "a value under no header".into(),
                }),
            }
        }
        rows.push((n, m));
    }
    if !errs.is_empty() {
        return Err(StoreError::ImportRejected(errs));
    }
    Ok(rows)
}

/// Imports the rows of a file: every row is a finished assessment. All or
/// nothing; `dry_run` checks everything and writes nothing. `Assess`.
pub fn import(
    conn: &mut Conn,
    reference: &Reference,
    scope: &Scope,
    name: &str,
    bytes: &[u8],
    today: NaiveDate,
    dry_run: bool,
) -> Result<ImportReport> {
    scope.require(Perm::Assess)?;
    let std = standard()?;
    let rows = read_rows(name, bytes)?;
    let mut errs = Vec::new();
    let mut drafts = Vec::with_capacity(rows.len());
    for (n, cells) in &rows {
        match parse_row(std, *n, cells) {
            Ok(d) => drafts.push((*n, d)),
            Err(e) => errs.extend(e),
        }
    }
    if !errs.is_empty() {
        return Err(StoreError::ImportRejected(errs));
    }
    let count = drafts.len();
    let result = conn.transaction_with(!dry_run, |c| {
        let mut ids = Vec::with_capacity(count);
        let mut errs = Vec::new();
        for (n, d) in &drafts {
            let dup = c.query_opt(
                "SELECT id FROM ability_assessment WHERE person_id = $1 AND assessed_on = $2 \
                 AND state <> 'draft'",
                &[d.person_id.as_str().into(), d.assessed_on.into()],
            )?;
            if dup.is_some() {
                errs.push(RowError {
                    row: *n,
                    column: "assessed_on".into(),
                    reason: "this person has a finished assessment on this day already".into(),
                });
                continue;
            }
            let id = new_id();
            let step = c.transaction(|c| {
                create_in(c, scope, &id, d, today)?;
                finish_in(c, reference, scope, &id, today)
            });
            match step {
                Ok(_) => ids.push(id),
                Err(e @ (StoreError::Invalid(_) | StoreError::NotFound { .. })) => {
                    errs.extend(row_errors(*n, e))
                }
                Err(e) => return Err(e),
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::ImportRejected(errs));
        }
        audit::append(
            c,
            scope,
            audit::Event {
                action: "assessment_import",
                entity: "ability_assessment",
                entity_id: None,
                before: None,
                after: Some(serde_json::json!({ "rows": count }).to_string()),
            },
        )?;
        Ok(ids)
    })?;
    Ok(ImportReport {
        rows: count,
        dry_run,
        ids: if dry_run { Vec::new() } else { result },
    })
}

/// The header row of a blank import file (keys), for the template and docs.
pub fn header() -> Result<Vec<String>> {
    let std = standard()?;
    let mut h: Vec<String> = COLUMNS.iter().map(|(k, _)| (*k).to_string()).collect();
    h.extend(std.items.iter().map(|i| i.code.clone()));
    Ok(h)
}

/// The header row of a blank import file in Chinese (the paper form's
/// words), for the console's template; read back like the keys.
pub fn header_zh() -> Result<Vec<String>> {
    let std = standard()?;
    let mut h: Vec<String> = COLUMNS.iter().map(|(_, zh)| (*zh).to_string()).collect();
    h.extend(std.items.iter().map(|i| i.zh.clone()));
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Chinese template's headers read back as the same columns as the
    /// keys, one for one, in order.
    #[test]
    fn the_chinese_header_reads_back_as_the_keys() {
        let std = standard().expect("standard");
        let zh = header_zh().expect("zh");
        let keys = header().expect("keys");
        assert_eq!(zh.len(), keys.len());
        assert_eq!(zh.len(), COLUMNS.len() + 26);
        let back: Vec<String> = zh
            .iter()
            .map(|h| column_key(std, h).unwrap_or_else(|| panic!("unknown header {h}")))
            .collect();
        assert_eq!(back, keys);
        assert_eq!(zh[0], "老年人编号");
    }
}
