//! Limits on what one import may hold, so that a small hostile file cannot
//! make the server allocate or work without bound: a 1.5 KB XLSX that declares
//! its last cell at XFD1048576, a zip bomb, a CSV line of a million commas.
//! Memory follows the data present; these bound the data present.
//!
//! The values come from the configuration (`[import]` in the config file,
//! `LAOXIAO_IMPORT_MAX_*`, `--import-max-*`) and are passed down with
//! [`super::ImportOptions`]; every refusal names the limit and its value.

use serde::Serialize;

use crate::error::StoreError;

/// The limits of one import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ImportLimits {
    /// Data rows (blank rows not counted).
    pub max_rows: u64,
    /// Columns of a row: the position of its last non-empty cell.
    pub max_columns: u64,
    /// Characters in one cell.
    pub max_cell_chars: u64,
    /// Non-empty cells in the whole file.
    pub max_cells: u64,
    /// Bytes of a CSV file (after decoding to UTF-8).
    pub max_csv_bytes: u64,
    /// Decompressed bytes of all parts of an XLSX file together.
    pub max_xlsx_bytes: u64,
    /// Decompressed bytes of one part of an XLSX file (a sheet, the shared strings).
    pub max_xlsx_part_bytes: u64,
    /// Decompressed size over compressed size of a part larger than 1 MiB.
    pub max_xlsx_ratio: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            // Jiaxing's elderly register is about 1.1 million people.
            max_rows: 3_000_000,
            // The widest register has 26 columns.
            max_columns: 100,
            // Addresses and notes are the longest cells (500 and 4,000 characters).
            max_cell_chars: 10_000,
            max_cells: 100_000_000,
            max_csv_bytes: 2 << 30,
            // Whole XLSX files are held in memory by the reader's shared-string
            // table; a million-row register goes by CSV.
            max_xlsx_bytes: 1 << 30,
            max_xlsx_part_bytes: 512 << 20,
            // Spreadsheet XML compresses 5 to 30 times; deflate reaches 1,000.
            max_xlsx_ratio: 200,
        }
    }
}

/// One limit: its name in the configuration and its environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Rows,
    Columns,
    CellChars,
    Cells,
    CsvBytes,
    XlsxBytes,
    XlsxPartBytes,
    XlsxRatio,
}

impl Limit {
    /// Every limit.
    pub const ALL: [Limit; 8] = [
        Limit::Rows,
        Limit::Columns,
        Limit::CellChars,
        Limit::Cells,
        Limit::CsvBytes,
        Limit::XlsxBytes,
        Limit::XlsxPartBytes,
        Limit::XlsxRatio,
    ];

    /// The key in the config file's `[import]` table.
    pub fn key(self) -> &'static str {
        match self {
            Limit::Rows => "max_rows",
            Limit::Columns => "max_columns",
            Limit::CellChars => "max_cell_chars",
            Limit::Cells => "max_cells",
            Limit::CsvBytes => "max_csv_bytes",
            Limit::XlsxBytes => "max_xlsx_bytes",
            Limit::XlsxPartBytes => "max_xlsx_part_bytes",
            Limit::XlsxRatio => "max_xlsx_ratio",
        }
    }

    /// The environment variable that sets it.
    pub fn env(self) -> &'static str {
        match self {
            Limit::Rows => "LAOXIAO_IMPORT_MAX_ROWS",
            Limit::Columns => "LAOXIAO_IMPORT_MAX_COLUMNS",
            Limit::CellChars => "LAOXIAO_IMPORT_MAX_CELL_CHARS",
            Limit::Cells => "LAOXIAO_IMPORT_MAX_CELLS",
            Limit::CsvBytes => "LAOXIAO_IMPORT_MAX_CSV_BYTES",
            Limit::XlsxBytes => "LAOXIAO_IMPORT_MAX_XLSX_BYTES",
            Limit::XlsxPartBytes => "LAOXIAO_IMPORT_MAX_XLSX_PART_BYTES",
            Limit::XlsxRatio => "LAOXIAO_IMPORT_MAX_XLSX_RATIO",
        }
    }
}

impl ImportLimits {
    /// The value of one limit.
    pub fn get(&self, l: Limit) -> u64 {
        match l {
            Limit::Rows => self.max_rows,
            Limit::Columns => self.max_columns,
            Limit::CellChars => self.max_cell_chars,
            Limit::Cells => self.max_cells,
            Limit::CsvBytes => self.max_csv_bytes,
            Limit::XlsxBytes => self.max_xlsx_bytes,
            Limit::XlsxPartBytes => self.max_xlsx_part_bytes,
            Limit::XlsxRatio => self.max_xlsx_ratio,
        }
    }

    /// Sets one limit.
    pub fn set(&mut self, l: Limit, v: u64) {
        let slot = match l {
            Limit::Rows => &mut self.max_rows,
            Limit::Columns => &mut self.max_columns,
            Limit::CellChars => &mut self.max_cell_chars,
            Limit::Cells => &mut self.max_cells,
            Limit::CsvBytes => &mut self.max_csv_bytes,
            Limit::XlsxBytes => &mut self.max_xlsx_bytes,
            Limit::XlsxPartBytes => &mut self.max_xlsx_part_bytes,
            Limit::XlsxRatio => &mut self.max_xlsx_ratio,
        };
        *slot = v;
    }

    /// The refusal for `what` going over limit `l`.
    pub(crate) fn exceeded(&self, l: Limit, what: impl Into<String>) -> StoreError {
        StoreError::LimitExceeded {
            limit: l.key(),
            env: l.env(),
            value: self.get(l),
            what: what.into(),
        }
    }

    /// Checks a cell's length; `chars` is counted only when the bytes could exceed it.
    pub(crate) fn check_cell(
        &self,
        row: usize,
        col: usize,
        text: &str,
    ) -> std::result::Result<(), StoreError> {
        if text.len() as u64 > self.max_cell_chars
            && text.chars().count() as u64 > self.max_cell_chars
        {
            return Err(self.exceeded(
                Limit::CellChars,
                format!(
                    "row {row}, column {}: the cell has {} characters",
                    super::import::col_letters(col),
                    text.chars().count()
                ),
            ));
        }
        Ok(())
    }
}

/// Counts rows and cells against the limits as a file is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counter {
    pub limits: ImportLimits,
    rows: u64,
    cells: u64,
}

impl Counter {
    pub fn new(limits: ImportLimits) -> Counter {
        Counter {
            limits,
            rows: 0,
            cells: 0,
        }
    }

    /// Counts one non-blank row (the header included) of `cells` cells,
    /// `width` wide (1-based position of its last cell).
    pub fn row(
        &mut self,
        row: usize,
        width: usize,
        cells: usize,
    ) -> std::result::Result<(), StoreError> {
        let l = &self.limits;
        if width as u64 > l.max_columns {
            return Err(l.exceeded(
                Limit::Columns,
                format!(
                    "row {row}, column {}: the row has {width} columns",
                    super::import::col_letters(width.saturating_sub(1))
                ),
            ));
        }
        self.rows += 1;
        // The header is not a data row.
        if self.rows > l.max_rows.saturating_add(1) {
            return Err(l.exceeded(
                Limit::Rows,
                format!("row {row}: the file has more data rows"),
            ));
        }
        self.cells += cells as u64;
        if self.cells > l.max_cells {
            return Err(l.exceeded(
                Limit::Cells,
                format!("row {row}: the file has more non-empty cells"),
            ));
        }
        Ok(())
    }
}
