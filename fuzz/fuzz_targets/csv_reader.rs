//! The CSV reader on any bytes: decoding (UTF-8, GB18030), records, row
//! numbers and the import limits. Rows or an error; never a panic, and no row
//! outside the limits.
#![no_main]

use laoxiao_store::io::ImportLimits;
use laoxiao_store::io::read::{CsvSource, RowSource, decode_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks tight limits (so that they are hit) or the defaults.
    let (tight, data) = match data.split_first() {
        Some((b, rest)) => (b & 1 == 1, rest),
        None => (false, data),
    };
    let limits = if tight {
        ImportLimits {
            max_rows: 8,
            max_columns: 6,
            max_cell_chars: 32,
            max_cells: 30,
            ..ImportLimits::default()
        }
    } else {
        ImportLimits::default()
    };
    let Ok(text) = decode_text(data) else { return };
    let mut src = CsvSource::new(&text, limits);
    let Ok(Some((_, header))) = src.header() else {
        return;
    };
    assert!(header.len() as u64 <= limits.max_columns);
    let (mut cells, mut bad) = (Vec::new(), Vec::new());
    let mut last = 0;
    while let Ok(Some(row)) = src.next_row(&mut cells, &mut bad) {
        assert!(cells.len() as u64 <= limits.max_columns);
        assert!(row > last, "row numbers increase");
        last = row;
    }
});
