//! Reading import files into rows of text cells: CSV (UTF-8 with or without a
//! BOM, else GB18030, which is what Excel in China saves) and spreadsheets
//! (XLSX, first sheet, read cell by cell). Blank rows are skipped; row numbers
//! are the ones a spreadsheet shows (the header is row 1 when it is the first line).

use std::borrow::Cow;
use std::io::{Cursor, Read};

use calamine::{Data, Reader};

pub use super::formula::{neutralise, unquote};

use super::limits::{Counter, ImportLimits, Limit};
use crate::error::{Result, StoreError};

/// The kind of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    /// XLSX (a zip file; XLS, XLSB and ODS are refused).
    Spreadsheet,
}

/// Decides the format from the content (ZIP or OLE signature) and the name.
pub fn detect(name: &str, bytes: &[u8]) -> Result<FileFormat> {
    let ext = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(FileFormat::Spreadsheet);
    }
    // Old binary workbooks are not read: their reader builds the whole
    // declared grid in memory.
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(StoreError::UnsupportedFile(format!(
            "{name} is an old-format (.xls) workbook; save it as .xlsx or CSV"
        )));
    }
    match ext.as_str() {
        "csv" | "txt" | "" => Ok(FileFormat::Csv),
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Err(StoreError::UnsupportedFile(format!(
            "{name} is named .{ext} but is not a spreadsheet file"
        ))),
        _ => Err(StoreError::UnsupportedFile(format!(
            "{name}: expected a .csv or .xlsx file"
        ))),
    }
}

/// The bytes of a CSV file as UTF-8: a UTF-8 BOM is dropped; bytes that are not
/// valid UTF-8 are decoded as GB18030 (a superset of GBK and GB2312).
pub fn decode_text(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(body).is_ok() {
        return Ok(Cow::Borrowed(body));
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(StoreError::UnsupportedFile(
            "the CSV file is UTF-16; save it as \"CSV UTF-8\" or as .xlsx".into(),
        ));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(body);
    if had_errors {
        return Err(StoreError::UnsupportedFile(
            "the CSV file is neither UTF-8 nor GB18030/GBK text".into(),
        ));
    }
    Ok(Cow::Owned(text.into_owned().into_bytes()))
}

/// A cell that could not be read (a spreadsheet error value such as `#N/A`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCell {
    /// 0-based column position.
    pub col: usize,
    pub reason: String,
}

/// A source of rows: the header first, then data rows.
pub trait RowSource: Send {
    /// The header row's number and cells; `None` when the file has no rows at all.
    fn header(&mut self) -> Result<Option<(usize, Vec<String>)>>;
    /// Reads the next non-blank data row into `cells` (reusing its strings) and
    /// returns its row number, or `None` at the end.
    fn next_row(
        &mut self,
        cells: &mut Vec<String>,
        bad: &mut Vec<BadCell>,
    ) -> Result<Option<usize>>;
    /// `(done, total)` in the source's own units, for progress.
    fn progress(&self) -> (u64, u64);
    /// About how many data rows there are (to size tables up front).
    fn rows_hint(&self) -> usize;
}

fn set_cells<'a>(cells: &mut Vec<String>, values: impl Iterator<Item = &'a str>) {
    let mut n = 0;
    for v in values {
        if n < cells.len() {
            cells[n].clear();
            cells[n].push_str(v);
        } else {
            cells.push(v.to_string());
        }
        n += 1;
    }
    cells.truncate(n);
}

/// Line breaks in `b` as the CSV reader and spreadsheets see them: `\n`,
/// `\r\n`, and a lone `\r` (old Mac files), each counted once.
fn line_breaks(b: &[u8]) -> u64 {
    // The plain count vectorises; lone carriage returns are rare and looked
    // for only when there is a carriage return at all.
    let lf = b.iter().filter(|&&c| c == b'\n').count() as u64;
    if !b.contains(&b'\r') {
        return lf;
    }
    let lone_cr = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'))
        .count() as u64;
    lf + lone_cr
}

/// Rows of a CSV text (already UTF-8).
pub struct CsvSource<'a> {
    text: &'a [u8],
    counter: Counter,
    reader: csv::Reader<&'a [u8]>,
    record: csv::ByteRecord,
    /// Line breaks in `text[..scanned]`.
    scanned: usize,
    breaks: u64,
    /// Line breaks inside quoted cells of the records read so far; a
    /// spreadsheet shows such a record as one row.
    inner: u64,
}

impl<'a> CsvSource<'a> {
    pub fn new(text: &'a [u8], limits: ImportLimits) -> CsvSource<'a> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        CsvSource {
            text,
            counter: Counter::new(limits),
            reader,
            record: csv::ByteRecord::new(),
            scanned: 0,
            breaks: 0,
            inner: 0,
        }
    }

    /// Reads one record; returns its row number as a spreadsheet shows it. The
    /// csv reader skips empty lines, which a spreadsheet shows as rows, so the
    /// number comes from the line breaks before the record's first byte.
    fn read(&mut self, cells: &mut Vec<String>) -> Result<Option<usize>> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| {
                    StoreError::File(match e.position() {
                        Some(p) => format!("CSV near byte {}: {e}", p.byte()),
                        None => format!("CSV: {e}"),
                    })
                })?;
            if !more {
                return Ok(None);
            }
            let mut start = self.record.position().map(|p| p.byte()).unwrap_or(0) as usize;
            while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
                start += 1;
            }
            if start > self.scanned {
                let gap = &self.text[self.scanned..start.min(self.text.len())];
                self.breaks += line_breaks(gap);
                self.scanned = start;
            }
            let row = (1 + self.breaks).saturating_sub(self.inner) as usize;
            self.inner += self.record.iter().map(line_breaks).sum::<u64>();
            // The text is UTF-8 and the reader splits only at ASCII bytes, so
            // the record's bytes are UTF-8 too: checked once, then sliced.
            let all = std::str::from_utf8(self.record.as_slice())
                .map_err(|_| StoreError::File(format!("row {row}: not UTF-8 text")))?;
            let record = &self.record;
            let field = |i: usize| record.range(i).and_then(|r| all.get(r)).unwrap_or_default();
            // Trailing empty fields (a line of commas) are not columns: only
            // the cells up to the last with a value are kept, and counted.
            let width = (0..record.len())
                .rev()
                .find(|&i| !field(i).trim().is_empty())
                .map_or(0, |i| i + 1);
            if width == 0 {
                continue;
            }
            let limits = self.counter.limits;
            let mut filled = 0;
            for i in 0..width {
                let f = field(i);
                if !f.is_empty() {
                    limits.check_cell(row, i, f)?;
                    filled += 1;
                }
            }
            self.counter.row(row, width, filled)?;
            set_cells(cells, (0..width).map(|i| unquote(field(i))));
            return Ok(Some(row));
        }
    }
}

impl RowSource for CsvSource<'_> {
    fn header(&mut self) -> Result<Option<(usize, Vec<String>)>> {
        let mut cells = Vec::new();
        Ok(self.read(&mut cells)?.map(|row| (row, cells)))
    }

    fn next_row(
        &mut self,
        cells: &mut Vec<String>,
        _bad: &mut Vec<BadCell>,
    ) -> Result<Option<usize>> {
        self.read(cells)
    }

    fn progress(&self) -> (u64, u64) {
        (self.reader.position().byte(), self.text.len() as u64)
    }

    fn rows_hint(&self) -> usize {
        // Register rows run from about 100 to 300 bytes.
        self.text.len() / 160
    }
}

/// Parts an XLSX file may hold; real ones have a few dozen.
const MAX_XLSX_PARTS: usize = 10_000;
/// Parts smaller than this are not held to the compression-ratio limit.
const RATIO_FLOOR: u64 = 1 << 20;

/// Inspects an XLSX (zip) file before parsing it: the number of parts, and the
/// size each part really decompresses to (not the size its header declares),
/// alone, in total and over its compressed size. A zip bomb is refused after
/// at most about the limit's worth of decompression.
pub fn check_zip(bytes: &[u8], limits: &ImportLimits) -> Result<()> {
    let bad = |e: zip::result::ZipError| {
        StoreError::UnsupportedFile(format!("not a readable XLSX (zip) file: {e}"))
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    if zip.len() > MAX_XLSX_PARTS {
        return Err(StoreError::UnsupportedFile(format!(
            "the XLSX file has {} parts; a workbook has a few dozen",
            zip.len()
        )));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).map_err(bad)?;
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        let packed = part.compressed_size();
        let by_ratio = packed
            .saturating_mul(limits.max_xlsx_ratio)
            .max(RATIO_FLOOR);
        let cap = limits
            .max_xlsx_part_bytes
            .min(by_ratio)
            .min(limits.max_xlsx_bytes.saturating_sub(total));
        // One byte more than allowed tells "over" from "exactly at".
        let n = std::io::copy(
            &mut (&mut part).take(cap.saturating_add(1)),
            &mut std::io::sink(),
        )
        .map_err(|e| StoreError::UnsupportedFile(format!("XLSX part {name}: {e}")))?;
        if n > cap {
            let (limit, what) = if cap == limits.max_xlsx_part_bytes {
                (
                    Limit::XlsxPartBytes,
                    format!("XLSX part {name} decompresses to more bytes"),
                )
            } else if cap == by_ratio {
                (
                    Limit::XlsxRatio,
                    format!(
                        "XLSX part {name} ({packed} bytes compressed) decompresses more than \
                         {} times",
                        limits.max_xlsx_ratio
                    ),
                )
            } else {
                (
                    Limit::XlsxBytes,
                    "the XLSX parts decompress to more bytes".to_string(),
                )
            };
            return Err(limits.exceeded(limit, what));
        }
        total += n;
    }
    Ok(())
}

/// One row of a sheet as the reading thread hands it over.
struct SheetRow {
    row: usize,
    cells: Vec<String>,
    bad: Vec<BadCell>,
}

enum SheetMsg {
    /// The rows the sheet declares (for progress only: it may lie).
    Declared(u64),
    Row(SheetRow),
    Failed(StoreError),
}

/// Rows of the first sheet of an XLSX workbook, read cell by cell on a thread
/// of its own: memory follows the cells present, never the range the sheet
/// declares (a sheet may declare A1:XFD1048576 and hold two cells).
pub struct SheetSource {
    rx: std::sync::mpsc::Receiver<SheetMsg>,
    done: u64,
    declared: u64,
    ended: bool,
}

impl SheetSource {
    pub fn new(bytes: &[u8], limits: ImportLimits) -> Result<SheetSource> {
        check_zip(bytes, &limits)?;
        let mut book: calamine::Xlsx<_> = calamine::Reader::new(Cursor::new(bytes.to_vec()))
            .map_err(|e: calamine::XlsxError| {
                StoreError::UnsupportedFile(format!("not a readable XLSX workbook: {e}"))
            })?;
        let first = book
            .sheet_names()
            .first()
            .cloned()
            .ok_or_else(|| StoreError::File("the workbook has no sheets".into()))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(256);
        std::thread::Builder::new()
            .name("xlsx-read".into())
            .spawn(move || {
                let cells = match book.worksheet_cells_reader(&first) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(SheetMsg::Failed(StoreError::File(format!(
                            "first sheet: {e}"
                        ))));
                        return;
                    }
                };
                if let Err(e) = read_sheet(cells, limits, &tx) {
                    let _ = tx.send(SheetMsg::Failed(e));
                }
            })
            .map_err(|e| StoreError::File(format!("could not start the XLSX reader: {e}")))?;
        // The first message says the sheet opened (and what it declares).
        let declared = match rx.recv() {
            Ok(SheetMsg::Declared(n)) => n,
            Ok(SheetMsg::Failed(e)) => return Err(e),
            Ok(SheetMsg::Row(_)) | Err(_) => 0,
        };
        Ok(SheetSource {
            rx,
            done: 0,
            declared,
            ended: false,
        })
    }

    fn read(&mut self) -> Result<Option<SheetRow>> {
        if self.ended {
            return Ok(None);
        }
        loop {
            match self.rx.recv() {
                Ok(SheetMsg::Declared(n)) => self.declared = n,
                Ok(SheetMsg::Row(r)) => {
                    self.done += 1;
                    return Ok(Some(r));
                }
                Ok(SheetMsg::Failed(e)) => {
                    self.ended = true;
                    return Err(e);
                }
                // The thread ended: every row was sent.
                Err(_) => {
                    self.ended = true;
                    return Ok(None);
                }
            }
        }
    }
}

/// Reads a sheet's cells in stream order into rows and sends them; stops at
/// the first limit exceeded (or when the receiver is gone).
fn read_sheet<RS: std::io::Read + std::io::Seek>(
    mut reader: calamine::XlsxCellReader<'_, RS>,
    limits: ImportLimits,
    tx: &std::sync::mpsc::SyncSender<SheetMsg>,
) -> Result<()> {
    let dims = reader.dimensions();
    let declared = u64::from(dims.end.0.saturating_sub(dims.start.0)) + 1;
    if tx
        .send(SheetMsg::Declared(declared.min(limits.max_rows)))
        .is_err()
    {
        return Ok(());
    }
    let mut counter = Counter::new(limits);
    // The current row: its 0-based number and its (column, text) cells.
    let mut cur: Option<u32> = None;
    let mut cells: Vec<(u32, String)> = Vec::new();
    let mut bad: Vec<BadCell> = Vec::new();
    let flush = |row0: u32,
                 cells: &mut Vec<(u32, String)>,
                 bad: &mut Vec<BadCell>,
                 counter: &mut Counter|
     -> Result<Option<SheetRow>> {
        if cells.iter().all(|(_, t)| t.trim().is_empty()) && bad.is_empty() {
            cells.clear();
            return Ok(None);
        }
        let row = row0 as usize + 1;
        let width = cells
            .iter()
            .map(|(c, _)| *c as usize + 1)
            .chain(bad.iter().map(|b| b.col + 1))
            .max()
            .unwrap_or(0);
        counter.row(row, width, cells.len())?;
        let mut dense = vec![String::new(); width];
        for (c, t) in cells.drain(..) {
            dense[c as usize] = t;
        }
        Ok(Some(SheetRow {
            row,
            cells: dense,
            bad: std::mem::take(bad),
        }))
    };
    loop {
        let next = reader
            .next_cell()
            .map_err(|e| StoreError::File(format!("XLSX sheet: {e}")))?;
        let Some(cell) = next else { break };
        let (r, c) = cell.get_position();
        if cur != Some(r) {
            if let Some(prev) = cur {
                if r < prev {
                    return Err(StoreError::File(format!(
                        "row {}: the sheet lists its rows out of order (after row {})",
                        r as u64 + 1,
                        prev as u64 + 1
                    )));
                }
                if let Some(done) = flush(prev, &mut cells, &mut bad, &mut counter)?
                    && tx.send(SheetMsg::Row(done)).is_err()
                {
                    return Ok(());
                }
            }
            cur = Some(r);
        }
        let value: Data = cell.get_value().clone().into();
        if matches!(value, Data::Empty) {
            continue;
        }
        let row = r as usize + 1;
        // Checked before anything is sized by the column: a cell may sit at XFD.
        if u64::from(c) >= limits.max_columns {
            return Err(limits.exceeded(
                Limit::Columns,
                format!(
                    "row {row}, column {}: a value lies beyond the allowed columns",
                    super::import::col_letters(c as usize)
                ),
            ));
        }
        // A row lists each column once; more cells than columns is a crafted file.
        if cells.len() as u64 >= limits.max_columns {
            return Err(limits.exceeded(
                Limit::Columns,
                format!("row {row}: the row lists more cells than columns"),
            ));
        }
        match cell_text(&value) {
            Ok(t) => {
                limits.check_cell(row, c as usize, &t)?;
                cells.push((c, t));
            }
            Err(reason) => bad.push(BadCell {
                col: c as usize,
                reason,
            }),
        }
    }
    if let Some(prev) = cur
        && let Some(done) = flush(prev, &mut cells, &mut bad, &mut counter)?
    {
        let _ = tx.send(SheetMsg::Row(done));
    }
    Ok(())
}

impl RowSource for SheetSource {
    fn header(&mut self) -> Result<Option<(usize, Vec<String>)>> {
        Ok(self.read()?.map(|r| (r.row, r.cells)))
    }

    fn next_row(
        &mut self,
        cells: &mut Vec<String>,
        bad: &mut Vec<BadCell>,
    ) -> Result<Option<usize>> {
        Ok(self.read()?.map(|r| {
            *cells = r.cells;
            bad.extend(r.bad);
            r.row
        }))
    }

    fn progress(&self) -> (u64, u64) {
        (self.done, self.declared.max(self.done))
    }

    fn rows_hint(&self) -> usize {
        // Only for sizing: the declaration is not trusted beyond that.
        (self.declared.min(1 << 20)) as usize
    }
}

/// A spreadsheet cell as the text the column parsers read: whole numbers
/// without `.0`, dates as `YYYY-MM-DD`.
pub fn cell_text(cell: &Data) -> std::result::Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => unquote(s).to_string(),
        Data::Int(n) => n.to_string(),
        Data::Float(x) => float_text(*x),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, m, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            if (h, mi, s, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{m:02}-{d:02}")
            } else {
                format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
            }
        }
        Data::DateTime(dt) => float_text(dt.as_f64()),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("the cell holds the spreadsheet error {e}")),
    })
}

fn float_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        // Shortest text that reads back as the same number.
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(usize, Vec<String>)> {
        let mut src = CsvSource::new(text.as_bytes(), ImportLimits::default());
        let mut out = Vec::new();
        if let Some(h) = src.header().expect("header") {
            out.push(h);
        }
        let mut cells = Vec::new();
        let mut bad = Vec::new();
        while let Some(r) = src.next_row(&mut cells, &mut bad).expect("row") {
            out.push((r, cells.clone()));
        }
        out
    }

    #[test]
    fn csv_row_numbers_count_blank_lines_and_quoted_breaks() {
        let got = rows("a,b\n1,2\n\n,\n3,\"x\ny\"\n\r\n4,5");
        let nums: Vec<usize> = got.iter().map(|r| r.0).collect();
        // header 1, "1,2" 2, blank 3, "," 4 (blank), "3,x y" 5, blank 6, "4,5" 7
        assert_eq!(nums, vec![1, 2, 5, 7]);
        assert_eq!(got[2].1, vec!["3".to_string(), "x\ny".to_string()]);
        let got = rows("\n\na,b\n1,2\n");
        assert_eq!(got.iter().map(|r| r.0).collect::<Vec<_>>(), vec![3, 4]);
        // Lone carriage returns end lines too (found by the csv_reader fuzz target).
        let got = rows("a,b\r1,2\r\r3,\"x\ry\"\r4,5\r\n6,7");
        assert_eq!(
            got.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![1, 2, 4, 5, 6]
        );
    }

    #[test]
    fn encodings() {
        let bom = b"\xEF\xBB\xBFid,name\n";
        assert_eq!(&*decode_text(bom).expect("bom"), b"id,name\n");
        // "姓名" in GBK.
        let gbk = b"\xD0\xD5\xC3\xFB,x\n";
        assert_eq!(
            std::str::from_utf8(&decode_text(gbk).expect("gbk")).expect("utf8"),
            "姓名,x\n"
        );
        assert!(decode_text(b"\xFF\xFEa\x00").is_err());
    }

    #[test]
    fn spreadsheet_cells_read_as_text() {
        assert_eq!(cell_text(&Data::Float(330402001.0)), Ok("330402001".into()));
        assert_eq!(cell_text(&Data::Float(120.5)), Ok("120.5".into()));
        let d = calamine::ExcelDateTime::new(45292.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(cell_text(&Data::DateTime(d)), Ok("2024-01-01".into()));
        assert!(cell_text(&Data::Error(calamine::CellErrorType::NA)).is_err());
    }

    fn limits(small: bool) -> ImportLimits {
        if small {
            ImportLimits {
                max_rows: 5,
                max_columns: 4,
                max_cell_chars: 16,
                max_cells: 20,
                ..ImportLimits::default()
            }
        } else {
            ImportLimits::default()
        }
    }

    /// Reads every row; checks that what comes out keeps to the limits.
    fn drain(src: &mut dyn RowSource, l: &ImportLimits) -> std::result::Result<(), TestCaseError> {
        let mut rows = 0u64;
        let mut check = |cells: &[String]| -> std::result::Result<(), TestCaseError> {
            prop_assert!(
                cells.len() as u64 <= l.max_columns,
                "{} columns",
                cells.len()
            );
            for c in cells {
                prop_assert!(c.chars().count() as u64 <= l.max_cell_chars);
            }
            rows += 1;
            prop_assert!(rows <= l.max_rows + 1);
            Ok(())
        };
        match src.header() {
            Ok(Some((_, h))) => check(&h)?,
            Ok(None) | Err(_) => return Ok(()),
        }
        let (mut cells, mut bad) = (Vec::new(), Vec::new());
        while let Ok(Some(_)) = src.next_row(&mut cells, &mut bad) {
            check(&cells)?;
        }
        Ok(())
    }

    /// A small valid workbook to damage.
    fn workbook() -> &'static [u8] {
        static BOOK: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        BOOK.get_or_init(|| {
            let mut book = rust_xlsxwriter::Workbook::new();
            let sheet = book.add_worksheet();
            for (c, h) in ["id", "name", "beds", "opening_date"].iter().enumerate() {
                sheet.write_string(0, c as u16, *h).expect("header");
            }
            for r in 1..4u32 {
                sheet.write_string(r, 0, format!("F{r}")).expect("id");
                sheet.write_string(r, 1, "养老院").expect("name");
                sheet.write_number(r, 2, f64::from(r) * 10.0).expect("beds");
            }
            book.save_to_buffer().expect("xlsx")
        })
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// The CSV reader takes any bytes: rows or an error, within the limits.
        #[test]
        fn csv_reader_takes_any_bytes(
            bytes in prop::collection::vec(any::<u8>(), 0..4096),
            small in any::<bool>(),
        ) {
            let l = limits(small);
            if let Ok(text) = decode_text(&bytes) {
                drain(&mut CsvSource::new(&text, l), &l)?;
            }
        }

        /// The same with text made of what CSV is made of.
        #[test]
        fn csv_reader_takes_any_csv_like_text(
            text in "[,\"\r\n a=é\u{0}\u{feff}]{0,400}",
            small in any::<bool>(),
        ) {
            let l = limits(small);
            if let Ok(text) = decode_text(text.as_bytes()) {
                drain(&mut CsvSource::new(&text, l), &l)?;
            }
        }

        /// The XLSX reader takes a damaged workbook: rows or an error.
        #[test]
        fn xlsx_reader_takes_damaged_files(
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            small in any::<bool>(),
        ) {
            let mut bytes = workbook().to_vec();
            for (i, b) in flips {
                let i = i.index(bytes.len());
                bytes[i] = b;
            }
            let l = limits(small);
            if let Ok(mut src) = SheetSource::new(&bytes, l) {
                drain(&mut src, &l)?;
            }
        }

        /// Quoting against formulas round-trips any text and leaves no trigger first.
        #[test]
        fn formula_quoting_round_trips(v in any::<String>(), lead in "[=+@'\t\r-]{0,3}") {
            let v = format!("{lead}{v}");
            let out = neutralise(&v);
            prop_assert!(!out.starts_with(['=', '+', '-', '@', '\t', '\r']), "{out:?}");
            prop_assert_eq!(unquote(&out), v.as_str());
        }
    }

    #[test]
    fn detects_formats() {
        assert!(matches!(detect("a.csv", b"id"), Ok(FileFormat::Csv)));
        assert!(matches!(detect("upload", b"id"), Ok(FileFormat::Csv)));
        assert!(matches!(
            detect("a.bin", b"PK\x03\x04rest"),
            Ok(FileFormat::Spreadsheet)
        ));
        assert!(detect("a.pdf", b"%PDF").is_err());
        assert!(detect("a.xlsx", b"id,name").is_err());
    }
}
