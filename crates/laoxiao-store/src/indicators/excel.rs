//! Indicator files: the plan's table for one area and period with the
//! current values (CSV or XLSX, Chinese headers), and the reported-values
//! file that round-trips (written by `indicators report-template` and the
//! API, read by `indicators report-values`).

use laoxiao_rules::indicators::{Method, definitions};
use laoxiao_rules::plan::IndicatorGroup;
use rust_xlsxwriter::{Format, Workbook};

use super::{Report, Table};
use crate::error::{Result, RowError, StoreError};
use crate::io::ExportFormat;
use crate::io::ImportLimits;
use crate::io::read::{
    BadCell, CsvSource, FileFormat, RowSource, SheetSource, decode_text, detect,
};
use crate::io::{neutralise, unquote};

/// The plan table's columns (Chinese headers, as the plan prints them, then ours).
pub const TABLE_HEADERS: &[&str] = &[
    "类别",
    "序号",
    "指标",
    "单位",
    "2020年",
    "2022年",
    "2025年",
    "责任单位",
    "区划代码",
    "区划",
    "期间",
    "当前值",
    "分子",
    "分母",
    "状态",
    "下一目标",
    "目标年份",
    "差距",
    "来源",
    "发布状态",
];

/// The reported-values file's columns: (key, Chinese header).
pub const REPORT_COLUMNS: &[(&str, &str)] = &[
    ("indicator", "指标序号"),
    ("area_code", "区划代码"),
    ("period", "期间"),
    ("value", "数值"),
    ("note", "备注"),
];

fn fmt_num(v: Option<f64>) -> String {
    v.map(|v| {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    })
    .unwrap_or_default()
}

/// The plan's table for one area: a row per indicator the area has.
pub fn table_rows(t: &Table, area_code: &str) -> Result<Vec<Vec<String>>> {
    let defs = definitions().map_err(|e| StoreError::Reference(e.to_string()))?;
    let mut rows = Vec::new();
    for d in &defs.all {
        let Some(v) = t.get(d.number, area_code) else {
            continue;
        };
        rows.push(vec![
            match d.group {
                IndicatorGroup::Elderly => "养老".to_string(),
                IndicatorGroup::Childcare => "托育".to_string(),
            },
            d.number.to_string(),
            d.name_zh.clone(),
            d.unit.clone().unwrap_or_default(),
            d.baseline_2020.raw.clone(),
            d.target_2022.raw.clone(),
            d.target_2025.raw.clone(),
            d.responsible_unit.clone(),
            v.area_code.clone(),
            v.area_name.clone(),
            v.period.clone(),
            fmt_num(v.value),
            v.numerator.map(|n| n.to_string()).unwrap_or_default(),
            v.denominator.map(|n| n.to_string()).unwrap_or_default(),
            v.status.status.label_zh().to_string(),
            v.status.target.clone().unwrap_or_default(),
            v.status
                .target_year
                .map(|y| y.to_string())
                .unwrap_or_default(),
            fmt_num(v.status.gap),
            match d.method {
                Method::Computed => "登记册计算".to_string(),
                Method::Reported => "责任单位填报".to_string(),
            },
            if v.provisional {
                "暂定".to_string()
            } else {
                "已发布".to_string()
            },
        ]);
    }
    Ok(rows)
}

/// Writes header + rows as CSV (UTF-8 with a BOM, so spreadsheets read the
/// Chinese) or XLSX; text cells that a spreadsheet could run as a formula
/// are quoted.
pub fn write(
    headers: &[&str],
    rows: &[Vec<String>],
    format: ExportFormat,
    sheet: &str,
) -> Result<Vec<u8>> {
    match format {
        ExportFormat::Csv => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(headers)
                    .map_err(|e| StoreError::File(e.to_string()))?;
                for r in rows {
                    w.write_record(r.iter().map(|c| neutralise(c).into_owned()))
                        .map_err(|e| StoreError::File(e.to_string()))?;
                }
                w.flush().map_err(|e| StoreError::File(e.to_string()))?;
            }
            Ok(out)
        }
        ExportFormat::Xlsx => {
            let mut book = Workbook::new();
            let ws = book.add_worksheet();
            ws.set_name(sheet)
                .map_err(|e| StoreError::File(e.to_string()))?;
            let bold = Format::new().set_bold();
            for (j, h) in headers.iter().enumerate() {
                ws.write_string_with_format(0, j as u16, *h, &bold)
                    .map_err(|e| StoreError::File(e.to_string()))?;
                ws.set_column_width(j as u16, if *h == "指标" { 40.0 } else { 12.0 })
                    .map_err(|e| StoreError::File(e.to_string()))?;
            }
            for (i, r) in rows.iter().enumerate() {
                for (j, c) in r.iter().enumerate() {
                    ws.write_string((i + 1) as u32, j as u16, neutralise(c).as_ref())
                        .map_err(|e| StoreError::File(e.to_string()))?;
                }
            }
            ws.set_freeze_panes(1, 0)
                .map_err(|e| StoreError::File(e.to_string()))?;
            book.save_to_buffer()
                .map_err(|e| StoreError::File(e.to_string()))
        }
    }
}

/// The plan's table with the current values for one area, as a file.
pub fn export_table(t: &Table, area_code: &str, format: ExportFormat) -> Result<Vec<u8>> {
    let rows = table_rows(t, area_code)?;
    write(TABLE_HEADERS, &rows, format, "指标监测")
}

/// Reported values as a file in the import format.
pub fn write_reports(values: &[Report], format: ExportFormat) -> Result<Vec<u8>> {
    let headers: Vec<&str> = REPORT_COLUMNS.iter().map(|(_, zh)| *zh).collect();
    let rows: Vec<Vec<String>> = values
        .iter()
        .map(|r| {
            vec![
                r.indicator.to_string(),
                r.area_code.clone(),
                r.period.clone(),
                fmt_num(Some(r.value)),
                r.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    write(&headers, &rows, format, "填报值")
}

/// Reads a reported-values file (CSV or XLSX; Chinese or English headers).
/// Every bad cell is reported with its row and column; nothing is returned
/// unless every row reads.
pub fn read_reports(name: &str, bytes: &[u8], limits: ImportLimits) -> Result<Vec<Report>> {
    let text;
    let mut source: Box<dyn RowSource> = match detect(name, bytes)? {
        FileFormat::Csv => {
            text = decode_text(bytes)?;
            Box::new(CsvSource::new(&text, limits))
        }
        FileFormat::Spreadsheet => Box::new(SheetSource::new(bytes, limits)?),
    };
    let Some((_, header)) = source.header()? else {
        return Err(StoreError::File("the file is empty".into()));
    };
    let mut at = [None; 5];
    for (j, h) in header.iter().enumerate() {
        let h = h.trim();
        if let Some(k) = REPORT_COLUMNS
            .iter()
            .position(|(key, zh)| h.eq_ignore_ascii_case(key) || h == *zh)
        {
            at[k] = Some(j);
        }
    }
    let missing: Vec<&str> = REPORT_COLUMNS
        .iter()
        .zip(&at)
        .filter(|(c, a)| a.is_none() && c.0 != "note")
        .map(|(c, _)| c.1)
        .collect();
    if !missing.is_empty() {
        return Err(StoreError::File(format!(
            "missing column(s): {}",
            missing.join(", ")
        )));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut cells = Vec::new();
    let mut bad: Vec<BadCell> = Vec::new();
    while let Some(row) = source.next_row(&mut cells, &mut bad)? {
        let cell = |k: usize| -> String {
            at[k]
                .and_then(|j| cells.get(j))
                .map(|s| unquote(s.trim()).to_string())
                .unwrap_or_default()
        };
        for b in bad.drain(..) {
            errors.push(RowError {
                row,
                column: header.get(b.col).cloned().unwrap_or_default(),
                reason: b.reason,
            });
        }
        let indicator = cell(0);
        let value = cell(3);
        let n = indicator.parse::<u32>().ok().filter(|n| *n <= 1000);
        let v = value.parse::<f64>().ok().filter(|v| v.is_finite());
        if n.is_none() {
            errors.push(RowError {
                row,
                column: "indicator".into(),
                reason: format!("{:?} is not an indicator number", short(&indicator)),
            });
        }
        if v.is_none() {
            errors.push(RowError {
                row,
                column: "value".into(),
                reason: format!("{:?} is not a number", short(&value)),
            });
        }
        if let (Some(indicator), Some(value)) = (n, v) {
            let note = cell(4);
            out.push((
                row,
                Report {
                    indicator,
                    area_code: cell(1),
                    period: cell(2),
                    value,
                    note: (!note.is_empty()).then_some(note),
                },
            ));
        }
        if errors.len() > 1000 {
            break;
        }
    }
    if !errors.is_empty() {
        return Err(StoreError::ImportRejected(errors));
    }
    if out.len() > super::MAX_REPORT_ROWS {
        return Err(StoreError::File(format!(
            "more than {} rows",
            super::MAX_REPORT_ROWS
        )));
    }
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

fn short(s: &str) -> String {
    s.chars().take(24).collect()
}
