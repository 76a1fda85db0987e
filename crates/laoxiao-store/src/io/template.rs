//! Import templates: an XLSX workbook whose first sheet has the Chinese headers
//! (bold, frozen), dropdowns for enumerated and yes/no columns, text format for
//! codes and ID numbers (so Excel does not turn them into numbers), date format
//! for dates; a second sheet 填写说明 explains every column.

use std::path::Path;

use laoxiao_model::columns::{self, ColType, Column, RecordKind};
use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, Format, Formula, Workbook, Worksheet, XlsxError,
};

use super::export::column_width;
use crate::error::{Result, StoreError};

fn xlsx_err(e: XlsxError) -> StoreError {
    StoreError::File(format!("XLSX: {e}"))
}

/// Rows that get the dropdowns and formats (Excel's sheet is 1,048,576 rows).
const LAST_ROW: u32 = 1_048_575;
const OPTIONS_SHEET: &str = "选项";
const HELP_SHEET: &str = "填写说明";

/// The type of a column in words, for the help sheet.
pub(crate) fn type_zh(ty: ColType) -> &'static str {
    match ty {
        ColType::Text | ColType::Ref(_) => "文本",
        ColType::Note => "文本（可多行）",
        ColType::Area => "区划代码（9 或 12 位）",
        ColType::IdNumber => "身份证号码（18 位）",
        ColType::Int(_) => "整数",
        ColType::Money(_) => "金额（元，最多两位小数）",
        ColType::Decimal { .. } => "小数",
        ColType::Date => "日期（YYYY-MM-DD）",
        ColType::Bool => "是/否",
        ColType::Enum(_) | ColType::CoordSystem => "单选",
        ColType::EnumList(_) => "多选（用“、”或“;”分隔）",
    }
}

/// Allowed values as `中文（identifier）`, for the help sheet and the docs.
pub(crate) fn allowed_values(ty: ColType) -> String {
    match ty {
        ColType::Enum(_) | ColType::EnumList(_) | ColType::CoordSystem => ty
            .values()
            .iter()
            .map(|e| format!("{}（{}）", e.zh, e.code))
            .collect::<Vec<_>>()
            .join("、"),
        ColType::Bool => "是、否".into(),
        _ => String::new(),
    }
}

/// Writes the template of `kind` to `path`.
pub fn write_template(kind: RecordKind, path: &Path) -> Result<()> {
    let bytes = template_bytes(kind)?;
    std::fs::write(path, bytes).map_err(|e| StoreError::File(format!("{}: {e}", path.display())))
}

/// The template of `kind` as XLSX bytes (a download).
pub fn template_bytes(kind: RecordKind) -> Result<Vec<u8>> {
    template_with_rows(kind, &[])
}

/// The template with data rows filled in as a user would type them (used by
/// tests to check that a filled template imports).
pub(crate) fn template_with_rows(kind: RecordKind, rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let cols = columns::columns(kind);
    let mut book = Workbook::new();
    let text = Format::new().set_num_format("@");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let bold = Format::new().set_bold().set_background_color("#DDEBF7");

    // Options first in memory but added last, so the data sheet stays first.
    let mut options: Vec<(usize, Vec<&'static str>)> = Vec::new();
    {
        let sheet = book.add_worksheet();
        sheet.set_name(kind.label_zh()).map_err(xlsx_err)?;
        for (i, c) in cols.iter().enumerate() {
            let col = i as u16;
            sheet
                .write_string_with_format(0, col, c.zh, &bold)
                .map_err(xlsx_err)?;
            sheet
                .set_column_width(col, column_width(c))
                .map_err(xlsx_err)?;
            match c.ty {
                ColType::Text => {
                    sheet.set_column_format(col, &text).map_err(xlsx_err)?;
                }
                ColType::Date => {
                    sheet.set_column_format(col, &date).map_err(xlsx_err)?;
                }
                _ => {}
            }
            if let Some(dv) = validation(i, c, &mut options)? {
                sheet
                    .add_data_validation(1, col, LAST_ROW, col, &dv)
                    .map_err(xlsx_err)?;
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
        for (r, row) in rows.iter().enumerate() {
            fill_row(sheet, r as u32 + 1, cols, row, &text, &date)?;
        }
    }
    {
        let help = book.add_worksheet();
        help.set_name(HELP_SHEET).map_err(xlsx_err)?;
        let heads = ["列名", "英文键", "类型", "必填", "可选值"];
        for (i, h) in heads.iter().enumerate() {
            help.write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xlsx_err)?;
        }
        for (r, c) in cols.iter().enumerate() {
            let r = r as u32 + 1;
            let cells = [
                c.zh.to_string(),
                c.file_key.to_string(),
                type_zh(c.ty).to_string(),
                if c.required { "是" } else { "否" }.to_string(),
                allowed_values(c.ty),
            ];
            for (i, v) in cells.iter().enumerate() {
                help.write_string(r, i as u16, v).map_err(xlsx_err)?;
            }
        }
        let notes = [
            "第一行为表头，可用中文列名或英文键；从第二行起每行一条记录，空行会被跳过。",
            "导入为“全部成功或全部不写入”：任何一行有错，整个文件都不写入，并列出所有错误（第 N 行，列 X：原因）。",
            "编号相同的记录再次导入时会更新；内容未变的行保持不变。",
            "坐标默认为 WGS-84；高德/腾讯地图坐标请在“坐标系”列填 GCJ-02，百度地图坐标填 BD-09。",
            "身份证号码、区划代码请按文本填写（本模板已设为文本格式），以免被 Excel 改成科学计数法。",
        ];
        let base = cols.len() as u32 + 2;
        help.write_string_with_format(base, 0, "说明", &bold)
            .map_err(xlsx_err)?;
        for (i, n) in notes.iter().enumerate() {
            help.write_string(base + 1 + i as u32, 0, *n)
                .map_err(xlsx_err)?;
        }
        help.set_column_width(0, 18).map_err(xlsx_err)?;
        help.set_column_width(1, 22).map_err(xlsx_err)?;
        help.set_column_width(2, 22).map_err(xlsx_err)?;
        help.set_column_width(3, 6).map_err(xlsx_err)?;
        help.set_column_width(4, 80).map_err(xlsx_err)?;
        help.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    }
    {
        let opts = book.add_worksheet();
        opts.set_name(OPTIONS_SHEET).map_err(xlsx_err)?;
        for (i, (c, values)) in options.iter().enumerate() {
            opts.write_string(0, i as u16, cols[*c].zh)
                .map_err(xlsx_err)?;
            for (r, v) in values.iter().enumerate() {
                opts.write_string(r as u32 + 1, i as u16, *v)
                    .map_err(xlsx_err)?;
            }
        }
        opts.set_hidden(true);
    }
    book.save_to_buffer().map_err(xlsx_err)
}

/// The dropdown of a column, if it has one; enumerated values are listed on the
/// hidden options sheet (Excel limits inline lists to 255 characters).
fn validation(
    index: usize,
    c: &Column,
    options: &mut Vec<(usize, Vec<&'static str>)>,
) -> Result<Option<DataValidation>> {
    Ok(match c.ty {
        ColType::Bool => Some(
            DataValidation::new()
                .allow_list_strings(&["是", "否"])
                .map_err(xlsx_err)?,
        ),
        ColType::Enum(_) | ColType::EnumList(_) | ColType::CoordSystem => {
            let labels: Vec<&'static str> = c.ty.values().iter().map(|e| e.zh).collect();
            let n = labels.len();
            let col_no = options.len();
            options.push((index, labels));
            let letters = super::import::col_letters(col_no);
            let formula = format!("='{OPTIONS_SHEET}'!${letters}$2:${letters}${}", n + 1);
            let mut dv = DataValidation::new().allow_list_formula(Formula::new(formula));
            if matches!(c.ty, ColType::EnumList(_)) {
                // Several values may be typed; the list only suggests.
                dv = dv
                    .set_error_style(DataValidationErrorStyle::Information)
                    .set_input_message("可多选，用“、”分隔")
                    .map_err(xlsx_err)?;
            }
            Some(dv)
        }
        _ => None,
    })
}

/// Writes one row as typed by a user: dates as dates, numbers as numbers.
fn fill_row(
    sheet: &mut Worksheet,
    row: u32,
    cols: &[Column],
    cells: &[String],
    text: &Format,
    date: &Format,
) -> Result<()> {
    for (i, (c, v)) in cols.iter().zip(cells).enumerate() {
        let col = i as u16;
        if v.is_empty() {
            continue;
        }
        match c.ty {
            ColType::Int(_) | ColType::Money(_) | ColType::Decimal { .. }
                if v.parse::<f64>().is_ok() =>
            {
                let x = v.parse::<f64>().unwrap_or_default();
                sheet.write_number(row, col, x).map_err(xlsx_err)?;
            }
            ColType::Date => match columns::parse_date(v).and_then(|d| {
                use chrono::Datelike;
                rust_xlsxwriter::ExcelDateTime::from_ymd(
                    d.year() as u16,
                    d.month() as u8,
                    d.day() as u8,
                )
                .ok()
            }) {
                Some(dt) => {
                    sheet
                        .write_datetime_with_format(row, col, &dt, date)
                        .map_err(xlsx_err)?;
                }
                None => {
                    sheet.write_string(row, col, v).map_err(xlsx_err)?;
                }
            },
            _ => {
                sheet
                    .write_string_with_format(row, col, v, text)
                    .map_err(xlsx_err)?;
            }
        }
    }
    Ok(())
}

/// The column table of a kind in Markdown, as `docs/import-formats.md` shows it
/// (a test keeps the two identical).
#[cfg(test)]
pub(crate) fn columns_markdown(kind: RecordKind) -> String {
    let mut out = String::from(
        "| English key | Chinese header | Type | Required | Allowed values |\n|---|---|---|---|---|\n",
    );
    for c in columns::columns(kind) {
        let values = match c.ty {
            ColType::Enum(_) | ColType::EnumList(_) | ColType::CoordSystem => {
                c.ty.values()
                    .iter()
                    .map(|e| format!("`{}` {}", e.code, e.zh))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
            ColType::Bool => "`true`/`false`, 是/否, `1`/`0`".into(),
            ColType::Date => {
                "`YYYY-MM-DD` (also `YYYY/MM/DD`, `YYYYMMDD`, a spreadsheet date)".into()
            }
            _ => String::new(),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            c.file_key,
            c.zh,
            c.ty.name(),
            if c.required { "yes" } else { "" },
            values
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replaces the n-th column table of the document with the n-th kind's.
    fn bless(doc: &str) -> String {
        let header = "| English key | Chinese header |";
        let mut out = String::new();
        let mut lines = doc.lines().peekable();
        let mut kinds = RecordKind::ALL.iter();
        while let Some(l) = lines.next() {
            if l.starts_with(header) {
                let kind = kinds.next().expect("more tables than kinds");
                out.push_str(&columns_markdown(*kind));
                while lines.peek().is_some_and(|n| n.starts_with('|')) {
                    lines.next();
                }
            } else {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    /// `docs/import-formats.md` lists every column of every kind exactly as the
    /// code defines them.
    #[test]
    fn documented_columns_match_the_code() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/import-formats.md");
        let doc = std::fs::read_to_string(&path).expect("docs/import-formats.md");
        // `LAOXIAO_BLESS_DOCS=1 cargo test -p laoxiao-store --lib documented_columns`
        // rewrites the tables from the declarations (the kinds' sections are in
        // declaration order); the test then checks the result like any other.
        let doc = if std::env::var_os("LAOXIAO_BLESS_DOCS").is_some() {
            let blessed = bless(&doc);
            std::fs::write(&path, &blessed).expect("write docs/import-formats.md");
            blessed
        } else {
            doc
        };
        for kind in RecordKind::ALL {
            let table = columns_markdown(*kind);
            assert!(
                doc.contains(&table),
                "the {} table in docs/import-formats.md is out of date; it should read:\n\n{table}",
                kind.code()
            );
        }
    }
}
