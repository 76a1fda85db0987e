//! Exporting a register as CSV (UTF-8 with BOM, so Excel shows Chinese
//! correctly) or XLSX, with English or Chinese headers. ID numbers are masked
//! unless full numbers are asked for; a masked export says so in its ID-number
//! header, and the importer refuses such files. Text cells that a
//! spreadsheet would run as formulas are quoted (see `formula`).

use std::io::Write;
use std::path::Path;

use laoxiao_model::columns::{
    self, ColType, Column, HeaderLang, RecordKind, class_to_row, facility_to_row, person_to_row,
};
use laoxiao_model::person::mask_id_number;
use laoxiao_model::{Person, PersonRole};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde::{Deserialize, Serialize};

use super::formula::neutralise;
use super::import::{MASKED_ID_HEADER_EN, MASKED_ID_HEADER_ZH};
use crate::error::{Result, StoreError};
use crate::facilities::{self, FacilityQuery};
use crate::scope::{Perm, Scope};
use crate::{Store, people};

/// File format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
        }
    }

    /// The MIME type, for downloads.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    /// The format named by a path's extension (`.csv`, `.xlsx`).
    pub fn from_path(path: &Path) -> Option<ExportFormat> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "xlsx" => Some(ExportFormat::Xlsx),
            _ => None,
        }
    }
}

/// The most data rows an XLSX sheet holds (1,048,576 rows less the header).
const XLSX_MAX_ROWS: usize = 1_048_575;

fn xlsx_err(e: XlsxError) -> StoreError {
    StoreError::File(format!("XLSX: {e}"))
}

/// Exports the live records of `kind` to `out`; returns the number of rows.
pub fn export(
    store: &Store,
    scope: &Scope,
    kind: RecordKind,
    format: ExportFormat,
    lang: HeaderLang,
    full_id_numbers: bool,
    out: &Path,
) -> Result<usize> {
    let file = std::fs::File::create(out)
        .map_err(|e| StoreError::File(format!("{}: {e}", out.display())))?;
    let mut w = std::io::BufWriter::new(file);
    let n = export_to_writer(store, scope, kind, format, lang, full_id_numbers, &mut w)?;
    w.flush()
        .map_err(|e| StoreError::File(format!("{}: {e}", out.display())))?;
    Ok(n)
}

/// Exports to any writer (a download); returns the number of rows.
/// Exports of people need [`Perm::ExportPeople`], full ID numbers also
/// [`Perm::RevealIds`]; every export of people is audited.
pub fn export_to_writer<W: Write + Send>(
    store: &Store,
    scope: &Scope,
    kind: RecordKind,
    format: ExportFormat,
    lang: HeaderLang,
    full_id_numbers: bool,
    out: W,
) -> Result<usize> {
    let people_kind = matches!(kind, RecordKind::Elderly | RecordKind::Infants);
    if people_kind {
        scope.require(Perm::ExportPeople)?;
        if full_id_numbers {
            scope.require(Perm::RevealIds)?;
        }
    }
    let n = export_unaudited(store, scope, kind, format, lang, full_id_numbers, out)?;
    if people_kind {
        crate::audit::append(
            &mut store.conn()?,
            scope,
            crate::audit::Event {
                action: if full_id_numbers {
                    "export_full_ids"
                } else {
                    "export"
                },
                entity: kind.code(),
                entity_id: None,
                before: None,
                after: Some(format!("{{\"rows\":{n}}}")),
            },
        )?;
    }
    Ok(n)
}

fn export_unaudited<W: Write + Send>(
    store: &Store,
    scope: &Scope,
    kind: RecordKind,
    format: ExportFormat,
    lang: HeaderLang,
    full_id_numbers: bool,
    out: W,
) -> Result<usize> {
    let masked = !full_id_numbers && matches!(kind, RecordKind::Elderly | RecordKind::Infants);
    let cols = columns::columns(kind);
    let headers: Vec<&str> = cols
        .iter()
        .map(|c| match (c.key, lang, masked) {
            ("id_number", HeaderLang::English, true) => MASKED_ID_HEADER_EN,
            ("id_number", HeaderLang::Chinese, true) => MASKED_ID_HEADER_ZH,
            (_, HeaderLang::English, _) => c.file_key,
            (_, HeaderLang::Chinese, _) => c.zh,
        })
        .collect();
    match format {
        ExportFormat::Csv => {
            let mut out = out;
            out.write_all(b"\xEF\xBB\xBF")
                .map_err(|e| StoreError::File(e.to_string()))?;
            let mut w = csv::Writer::from_writer(out);
            let csv_err = |e: csv::Error| StoreError::File(format!("CSV: {e}"));
            w.write_record(&headers).map_err(csv_err)?;
            let n = for_each_row(store, scope, kind, masked, |cells| {
                let cells = localise(cols, cells, lang);
                w.write_record(
                    cols.iter()
                        .zip(&cells)
                        .map(|(c, v)| CsvCell(csv_cell(c, v))),
                )
                .map_err(csv_err)
            })?;
            w.flush().map_err(|e| StoreError::File(e.to_string()))?;
            Ok(n)
        }
        ExportFormat::Xlsx => {
            let mut book = Workbook::new();
            let sheet = book
                .add_worksheet_with_constant_memory()
                .map_err(xlsx_err)?;
            sheet.set_name(kind.label_zh()).map_err(xlsx_err)?;
            let bold = Format::new().set_bold();
            let date = Format::new().set_num_format("yyyy-mm-dd");
            for (i, h) in headers.iter().enumerate() {
                sheet
                    .write_string_with_format(0, i as u16, *h, &bold)
                    .map_err(xlsx_err)?;
                sheet
                    .set_column_width(i as u16, column_width(&cols[i]))
                    .map_err(xlsx_err)?;
            }
            sheet.set_freeze_panes(1, 0).map_err(xlsx_err)?;
            let mut row = 0u32;
            let n = for_each_row(store, scope, kind, masked, |cells| {
                if row as usize >= XLSX_MAX_ROWS {
                    return Err(StoreError::File(format!(
                        "more than {XLSX_MAX_ROWS} rows do not fit in one XLSX sheet; export CSV"
                    )));
                }
                row += 1;
                let cells = localise(cols, cells, lang);
                write_xlsx_row(sheet, row, cols, &cells, &date).map_err(xlsx_err)
            })?;
            book.save_to_writer(out).map_err(xlsx_err)?;
            Ok(n)
        }
    }
}

/// A sensible column width in characters.
pub(crate) fn column_width(c: &Column) -> f64 {
    let header = c.zh.chars().count() as f64 * 2.0 + 2.0;
    let body: f64 = match (c.key, c.ty) {
        ("id_number", _) => 21.0,
        ("name" | "address" | "operator_name", _) => 24.0,
        ("operator_credit_code", _) => 21.0,
        (k, _) if k.ends_with("area_code") => 14.0,
        (_, ColType::Date) => 12.0,
        (_, ColType::Enum(_) | ColType::EnumList(_)) => 16.0,
        _ => 10.0,
    };
    header.max(body).min(40.0)
}

/// A cell for the CSV writer without a copy of unchanged text.
struct CsvCell<'a>(std::borrow::Cow<'a, str>);

impl AsRef<[u8]> for CsvCell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// A CSV cell: numbers in numeric columns as they are (a negative number is
/// not a formula), any other text neutralised against formula injection.
fn csv_cell<'a>(c: &Column, v: &'a str) -> std::borrow::Cow<'a, str> {
    match c.ty {
        ColType::Int(_) | ColType::Money(_) | ColType::Decimal { .. }
            if v.parse::<f64>().is_ok() =>
        {
            v.into()
        }
        _ => neutralise(v),
    }
}

/// Writes one data row with numbers as numbers and dates as dates; text is
/// neutralised against formula injection.
fn write_xlsx_row(
    sheet: &mut Worksheet,
    row: u32,
    cols: &[Column],
    cells: &[String],
    date: &Format,
) -> std::result::Result<(), XlsxError> {
    for (i, (c, v)) in cols.iter().zip(cells).enumerate() {
        let col = i as u16;
        if v.is_empty() {
            continue;
        }
        match c.ty {
            ColType::Int(_) | ColType::Money(_) | ColType::Decimal { .. } => match v.parse::<f64>()
            {
                Ok(x) => sheet.write_number(row, col, x)?,
                Err(_) => sheet.write_string(row, col, neutralise(v))?,
            },
            ColType::Date => match columns::parse_date(v).and_then(|d| {
                use chrono::Datelike;
                ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8).ok()
            }) {
                Some(dt) => sheet.write_datetime_with_format(row, col, &dt, date)?,
                None => sheet.write_string(row, col, neutralise(v))?,
            },
            _ => sheet.write_string(row, col, neutralise(v))?,
        };
    }
    Ok(())
}

/// For Chinese headers, enumerated values and booleans in Chinese too (the
/// importer reads both).
fn localise(cols: &[Column], cells: Vec<String>, lang: HeaderLang) -> Vec<String> {
    if lang == HeaderLang::English {
        return cells;
    }
    cols.iter()
        .zip(cells)
        .map(|(c, v)| match c.ty {
            ColType::Bool => match columns::parse_bool(&v) {
                Some(true) => "是".to_string(),
                Some(false) => "否".to_string(),
                None => v,
            },
            ColType::Enum(values) => label(values, &v).unwrap_or(v),
            ColType::CoordSystem => label(c.ty.values(), &v).unwrap_or(v),
            ColType::EnumList(values) => v
                .split(';')
                .filter(|p| !p.is_empty())
                .map(|p| label(values, p).unwrap_or_else(|| p.to_string()))
                .collect::<Vec<_>>()
                .join("、"),
            _ => v,
        })
        .collect()
}

fn label(values: &[laoxiao_model::register::EnumValue], code: &str) -> Option<String> {
    values
        .iter()
        .find(|e| e.code == code)
        .map(|e| e.zh.to_string())
}

/// Cells of every live record of `kind`, in id order, with coordinates at full
/// precision (so that export and import round-trip exactly).
fn for_each_row(
    store: &Store,
    scope: &Scope,
    kind: RecordKind,
    masked: bool,
    mut f: impl FnMut(Vec<String>) -> Result<()>,
) -> Result<usize> {
    let cols = columns::columns(kind);
    let pos = |key: &str| cols.iter().position(|c| c.key == key);
    let (lng_i, lat_i) = (pos("lng"), pos("lat"));
    let exact = |cells: &mut Vec<String>, lng: Option<f64>, lat: Option<f64>| {
        for (i, v) in [(lng_i, lng), (lat_i, lat)] {
            if let (Some(i), Some(x)) = (i, v) {
                cells[i] = format!("{x}");
            }
        }
    };
    if let Some(n) = activity_rows(store, scope, kind, &mut f)? {
        return Ok(n);
    }
    let mut conn = store.conn()?;
    let mut n = 0;
    match kind {
        RecordKind::Facilities => {
            let mut q = FacilityQuery {
                limit: Some(1000),
                ..Default::default()
            };
            loop {
                let page = facilities::list(&mut conn, &store.reference, scope, &q)?;
                for fac in &page.items {
                    let mut cells = facility_to_row(fac);
                    exact(&mut cells, fac.lng, fac.lat);
                    f(cells)?;
                    n += 1;
                }
                match page.next_cursor {
                    Some(c) => q.after = Some(c),
                    None => break,
                }
            }
        }
        RecordKind::Classes => {
            for c in facilities::all_classes(&mut conn, scope)? {
                f(class_to_row(&c))?;
                n += 1;
            }
        }
        RecordKind::Staff
        | RecordKind::Services
        | RecordKind::Enrolments
        | RecordKind::Residences
        | RecordKind::StudentCohorts
        | RecordKind::Insurance
        | RecordKind::Catalogue
        | RecordKind::HomeCareBeds
        | RecordKind::Devices => {}
        RecordKind::Elderly | RecordKind::Infants => {
            let role = if kind == RecordKind::Elderly {
                PersonRole::Elderly
            } else {
                PersonRole::Infant
            };
            n = people::for_each(&mut conn, &store.reference, scope, role, |p: &Person| {
                let mut cells = person_to_row(p);
                if masked && let Some(i) = pos("id_number") {
                    cells[i] = mask_id_number(&p.id_number);
                }
                exact(&mut cells, p.lng, p.lat);
                f(cells)
            })?;
        }
    }
    Ok(n)
}

/// The activity registers' rows (`None` for the other kinds).
fn activity_rows(
    store: &Store,
    scope: &Scope,
    kind: RecordKind,
    f: &mut impl FnMut(Vec<String>) -> Result<()>,
) -> Result<Option<usize>> {
    match kind {
        RecordKind::Staff
        | RecordKind::Services
        | RecordKind::Enrolments
        | RecordKind::Residences
        | RecordKind::StudentCohorts
        | RecordKind::Insurance
        | RecordKind::Catalogue
        | RecordKind::HomeCareBeds
        | RecordKind::Devices => Ok(Some(super::activity::for_each_row(store, scope, kind, f)?)),
        _ => Ok(None),
    }
}
