//! The XLSX reader on any bytes: the zip inspection (part sizes, ratio), the
//! workbook parser and the cell-by-cell sheet reader. Rows or an error; never
//! a panic or an abort, whatever the file declares.
#![no_main]

use laoxiao_store::io::ImportLimits;
use laoxiao_store::io::read::{RowSource, SheetSource};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Small enough that a bomb is refused within the fuzzer's memory limit.
    let limits = ImportLimits {
        max_xlsx_bytes: 64 << 20,
        max_xlsx_part_bytes: 32 << 20,
        ..ImportLimits::default()
    };
    let Ok(mut src) = SheetSource::new(data, limits) else {
        return;
    };
    let Ok(Some((_, header))) = src.header() else {
        return;
    };
    assert!(header.len() as u64 <= limits.max_columns);
    let (mut cells, mut bad) = (Vec::new(), Vec::new());
    while let Ok(Some(_)) = src.next_row(&mut cells, &mut bad) {
        assert!(cells.len() as u64 <= limits.max_columns);
        bad.clear();
    }
});
