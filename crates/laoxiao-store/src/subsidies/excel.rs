//! The payout list (发放清单) of a run: every line in the caller's scope with
//! its payee, account holder, rule, period and amount, then the totals per
//! county and rule, as CSV (UTF-8 with a BOM) or XLSX with Chinese headers.
//! Amounts are yuan with two decimals, written from integer fen (never a
//! float sum); text cells a spreadsheet could run as a formula are quoted.

use rust_xlsxwriter::{Format, Workbook};

use super::{LineQuery, Run, Totals, lines, run, totals};
use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::io::ExportFormat;
use crate::io::neutralise;
use crate::scope::Scope;
use laoxiao_rules::subsidies::yuan;

/// The payout list's columns.
pub const HEADERS: &[&str] = &[
    "序号",
    "县（市、区）代码",
    "补助项目",
    "项目代码",
    "期间",
    "类型",
    "收款对象类型",
    "收款对象编号",
    "收款对象",
    "账户名",
    "补助对象编号",
    "金额（元）",
    "市级承担（元）",
    "县（市、区）承担（元）",
    "使用占位参数",
];

/// Columns holding amounts (written as numbers, not quoted).
const AMOUNT_COLS: [usize; 3] = [11, 12, 13];

const SUM_HEADERS: &[&str] = &[
    "汇总",
    "代码",
    "名称",
    "笔数",
    "金额（元）",
    "市级承担（元）",
    "县（市、区）承担（元）",
];

fn kind_zh(k: &str) -> &'static str {
    match k {
        "award" => "一次性奖补",
        "adjustment" => "更正（补发/扣回）",
        _ => "正常发放",
    }
}

fn file_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::File(e.to_string())
}

/// Rows of text cells.
type Rows = Vec<Vec<String>>;

/// The run's lines and totals as rows of text.
fn rows(conn: &mut Conn, scope: &Scope, id: i64) -> Result<(Run, Rows, Rows)> {
    let r = run(conn, scope, id)?;
    let mut out = Vec::new();
    let mut q = LineQuery {
        limit: Some(super::MAX_PAGE),
        ..Default::default()
    };
    loop {
        let page = lines(conn, scope, id, &q)?;
        for s in &page.items {
            let l = &s.line;
            let kind = serde_json::to_value(l.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let pk = serde_json::to_value(l.payee_kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            out.push(vec![
                s.line_no.to_string(),
                l.county_code.clone(),
                s.rule_zh.clone(),
                s.rule.clone(),
                l.period.clone(),
                kind_zh(&kind).to_string(),
                pk,
                l.payee_id.clone(),
                l.payee_name.clone(),
                l.account_holder.clone(),
                l.subject_id.clone(),
                yuan(l.amount_fen).replace(',', ""),
                yuan(l.city_fen).replace(',', ""),
                yuan(l.county_fen).replace(',', ""),
                if l.placeholder { "是" } else { "否" }.to_string(),
            ]);
        }
        match page.next_cursor {
            Some(c) => q.after = c.parse().ok(),
            None => break,
        }
    }
    let t: Totals = totals(conn, scope, id)?;
    let mut sums = Vec::new();
    let push = |what: &str, s: &super::Sum, sums: &mut Vec<Vec<String>>| {
        sums.push(vec![
            what.to_string(),
            s.key.clone(),
            s.label.clone(),
            s.lines.to_string(),
            yuan(s.amount_fen).replace(',', ""),
            yuan(s.city_fen).replace(',', ""),
            yuan(s.county_fen).replace(',', ""),
        ]);
    };
    for s in &t.by_county {
        push("按县（市、区）", s, &mut sums);
    }
    for s in &t.by_rule {
        push("按补助项目", s, &mut sums);
    }
    for s in &t.by_county_rule {
        push("按县（市、区）和项目", s, &mut sums);
    }
    push("合计", &t.total, &mut sums);
    Ok((r, out, sums))
}

/// The payout list of run `id` as a file.
pub fn payout_list(
    conn: &mut Conn,
    scope: &Scope,
    id: i64,
    format: ExportFormat,
) -> Result<Vec<u8>> {
    let (r, lines, sums) = rows(conn, scope, id)?;
    let title = format!(
        "补助发放清单 run {} · {} · {} · 参数版本 {}{}",
        r.id,
        r.period,
        r.status.code(),
        r.parameters_version,
        if r.placeholder {
            " · 含占位参数（收入为占位值）"
        } else {
            ""
        }
    );
    match format {
        ExportFormat::Csv => {
            let mut out = b"\xEF\xBB\xBF".to_vec();
            {
                let mut w = csv::WriterBuilder::new()
                    .flexible(true)
                    .from_writer(&mut out);
                w.write_record([neutralise(&title).as_ref()])
                    .map_err(file_err)?;
                w.write_record(HEADERS).map_err(file_err)?;
                for row in &lines {
                    let cells: Vec<String> = row
                        .iter()
                        .enumerate()
                        .map(|(j, c)| {
                            if AMOUNT_COLS.contains(&j) {
                                c.clone()
                            } else {
                                neutralise(c).into_owned()
                            }
                        })
                        .collect();
                    w.write_record(&cells).map_err(file_err)?;
                }
                w.write_record([""]).map_err(file_err)?;
                w.write_record(SUM_HEADERS).map_err(file_err)?;
                for row in &sums {
                    let cells: Vec<String> = row
                        .iter()
                        .enumerate()
                        .map(|(j, c)| {
                            if j >= 3 {
                                c.clone()
                            } else {
                                neutralise(c).into_owned()
                            }
                        })
                        .collect();
                    w.write_record(&cells).map_err(file_err)?;
                }
                w.flush().map_err(file_err)?;
            }
            Ok(out)
        }
        ExportFormat::Xlsx => {
            let mut book = Workbook::new();
            let bold = Format::new().set_bold();
            let money = Format::new().set_num_format("#,##0.00");
            type Sheet<'a> = (&'a str, &'a [&'a str], &'a Rows, &'a [usize]);
            let sheets: [Sheet<'_>; 2] = [
                ("发放明细", HEADERS, &lines, &AMOUNT_COLS),
                ("汇总", SUM_HEADERS, &sums, &[4, 5, 6]),
            ];
            for (name, headers, rows, amounts) in sheets {
                let ws = book.add_worksheet();
                ws.set_name(name).map_err(file_err)?;
                ws.write_string_with_format(0, 0, neutralise(&title).as_ref(), &bold)
                    .map_err(file_err)?;
                for (j, h) in headers.iter().enumerate() {
                    ws.write_string_with_format(1, j as u16, *h, &bold)
                        .map_err(file_err)?;
                    ws.set_column_width(j as u16, 14.0).map_err(file_err)?;
                }
                for (i, r) in rows.iter().enumerate() {
                    let row = (i + 2) as u32;
                    for (j, c) in r.iter().enumerate() {
                        match (amounts.contains(&j), c.parse::<f64>()) {
                            (true, Ok(v)) => {
                                ws.write_number_with_format(row, j as u16, v, &money)
                                    .map_err(file_err)?;
                            }
                            _ => {
                                ws.write_string(row, j as u16, neutralise(c).as_ref())
                                    .map_err(file_err)?;
                            }
                        }
                    }
                }
                ws.set_freeze_panes(2, 0).map_err(file_err)?;
            }
            book.save_to_buffer().map_err(file_err)
        }
    }
}
