//! Reading import files into rows of text cells: CSV (UTF-8 with or without a
//! BOM, else GB18030, which is what Excel in China saves) and spreadsheets
//! (XLSX, also XLS and ODS, first sheet). Blank rows are skipped; row numbers
//! are the ones a spreadsheet shows (the header is row 1 when it is the first line).

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader};

use crate::error::{Result, StoreError};

/// The kind of an import file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    /// XLSX (and XLS/XLSB/ODS, read the same way).
    Spreadsheet,
}

/// Decides the format from the content (ZIP or OLE signature) and the name.
pub fn detect(name: &str, bytes: &[u8]) -> Result<FileFormat> {
    let ext = std::path::Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let zip = bytes.starts_with(b"PK\x03\x04");
    let ole = bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]);
    if zip || ole {
        return Ok(FileFormat::Spreadsheet);
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

fn is_blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
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

/// Rows of a CSV text (already UTF-8).
pub struct CsvSource<'a> {
    text: &'a [u8],
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
    pub fn new(text: &'a [u8]) -> CsvSource<'a> {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text);
        CsvSource {
            text,
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
                self.breaks += gap.iter().filter(|&&b| b == b'\n').count() as u64;
                self.scanned = start;
            }
            let row = (1 + self.breaks).saturating_sub(self.inner) as usize;
            self.inner += self
                .record
                .iter()
                .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
                .sum::<u64>();
            // The text is UTF-8 and the reader splits only at ASCII bytes, so
            // the record's bytes are UTF-8 too: checked once, then sliced.
            let all = std::str::from_utf8(self.record.as_slice())
                .map_err(|_| StoreError::File(format!("row {row}: not UTF-8 text")))?;
            let record = &self.record;
            set_cells(
                cells,
                (0..record.len())
                    .map(|i| record.range(i).and_then(|r| all.get(r)).unwrap_or_default()),
            );
            if is_blank(cells) {
                continue;
            }
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

/// Rows of the first sheet of a workbook.
pub struct SheetSource {
    range: calamine::Range<Data>,
    next: usize,
}

impl SheetSource {
    pub fn new(bytes: &[u8]) -> Result<SheetSource> {
        let mut book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| StoreError::UnsupportedFile(format!("not a readable workbook: {e}")))?;
        let range = book
            .worksheet_range_at(0)
            .ok_or_else(|| StoreError::File("the workbook has no sheets".into()))?
            .map_err(|e| StoreError::File(format!("first sheet: {e}")))?;
        Ok(SheetSource { range, next: 0 })
    }

    /// Absolute 1-based row number of relative row `i`.
    fn row_no(&self, i: usize) -> usize {
        self.range.start().map(|(r, _)| r as usize).unwrap_or(0) + i + 1
    }

    /// Empty cells before the range's first column, so positions match the sheet.
    fn lead(&self) -> usize {
        self.range.start().map(|(_, c)| c as usize).unwrap_or(0)
    }

    fn read(&mut self, cells: &mut Vec<String>, bad: &mut Vec<BadCell>) -> Option<usize> {
        let lead = self.lead();
        while self.next < self.range.height() {
            let i = self.next;
            self.next += 1;
            cells.clear();
            cells.resize(lead, String::new());
            for c in 0..self.range.width() {
                let cell = self.range.get((i, c)).unwrap_or(&Data::Empty);
                match cell_text(cell) {
                    Ok(s) => cells.push(s),
                    Err(reason) => {
                        bad.push(BadCell {
                            col: lead + c,
                            reason,
                        });
                        cells.push(String::new());
                    }
                }
            }
            if is_blank(cells) && bad.is_empty() {
                continue;
            }
            return Some(self.row_no(i));
        }
        None
    }
}

impl RowSource for SheetSource {
    fn header(&mut self) -> Result<Option<(usize, Vec<String>)>> {
        let mut cells = Vec::new();
        let mut bad = Vec::new();
        Ok(self.read(&mut cells, &mut bad).map(|row| (row, cells)))
    }

    fn next_row(
        &mut self,
        cells: &mut Vec<String>,
        bad: &mut Vec<BadCell>,
    ) -> Result<Option<usize>> {
        Ok(self.read(cells, bad))
    }

    fn progress(&self) -> (u64, u64) {
        (self.next as u64, self.range.height() as u64)
    }

    fn rows_hint(&self) -> usize {
        self.range.height()
    }
}

/// A spreadsheet cell as the text the column parsers read: whole numbers
/// without `.0`, dates as `YYYY-MM-DD`.
pub fn cell_text(cell: &Data) -> std::result::Result<String, String> {
    Ok(match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
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
        let mut src = CsvSource::new(text.as_bytes());
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
