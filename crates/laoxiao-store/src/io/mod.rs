//! Import and export of the registers.
//!
//! - [`import_file`], [`import_bytes`], [`import_reader`]: CSV (UTF-8, with or
//!   without BOM, or GB18030/GBK) and XLSX files with English or Chinese
//!   headers. Every row is validated and every error is reported as
//!   `row N, column X: reason`; one transaction writes all rows or none.
//! - [`load_records`]: the same checks and write path for records built in
//!   memory (the `demo` command's synthetic city).
//! - [`load_activity`]: the same for the activity registers (staff, service
//!   records, enrolments, residences, student cohorts), after [`load_records`].
//! - [`export`]: CSV (UTF-8 with BOM) or XLSX, ID numbers masked unless asked,
//!   cells that a spreadsheet would run as formulas quoted ([`neutralise`]).
//! - [`ImportLimits`]: what one import may hold (rows, columns, cell length,
//!   cells, file and decompressed sizes), from the configuration.
//! - [`write_template`]: an XLSX template with dropdowns and a 填写说明 sheet.
//!
//! The formats themselves (columns, headers, cell parsing) are
//! `laoxiao_model::columns`; `docs/import-formats.md` describes them for users.

mod activity;
mod bulk;
mod encode;
mod export;
mod formula;
mod import;
mod limits;
pub mod read;
mod template;

pub use activity::{
    ActivityBatch, ActivityReport, load_activity, load_activity_on, load_activity_while_serving,
};
pub use export::{ExportFormat, export, export_to_writer};
pub use formula::{neutralise, unquote};
pub use import::{
    ImportOptions, ImportReport, LoadReport, MASKED_ID_HEADER_EN, MASKED_ID_HEADER_ZH,
    import_bytes, import_bytes_on, import_file, import_file_on, import_reader, load_records,
    load_records_on,
};
pub use limits::{ImportLimits, Limit};
pub use template::{template_bytes, write_template};

#[cfg(test)]
mod tests;
