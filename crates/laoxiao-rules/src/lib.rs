//! Rules of the laoxiao (一老一小) platform: the Jiaxing plan's targets and
//! reference tables (`plan`), which the rule checks compare live figures
//! against, and the national standards (`standards`: the childcare class-size
//! table and caregiver ratios that class validation applies; `assessment`:
//! the ability assessment of GB/T 42195-2022).

pub mod admission;
pub mod alarms;
pub mod assessment;
pub mod childcare_bill;
pub mod entitlements;
pub mod error;
pub mod filing;
pub mod indicators;
pub mod inspections;
pub mod key_projects;
pub mod open_data;
pub mod plan;
pub mod planning;
pub mod pow;
pub mod standards;
pub mod subsidies;
pub mod visits;
pub mod vouchers;

pub use error::RulesError;

/// An embedded rules file parsed once per process: its text is compiled in,
/// so parsing it on every request would only repeat the same work.
pub(crate) fn parsed_once<T>(
    cell: &'static std::sync::OnceLock<Result<T, RulesError>>,
    parse: impl FnOnce() -> Result<T, RulesError>,
) -> Result<&'static T, RulesError> {
    cell.get_or_init(parse).as_ref().map_err(Clone::clone)
}
pub use plan::Plan;
pub use standards::{ClassLimit, ClassLimits};
