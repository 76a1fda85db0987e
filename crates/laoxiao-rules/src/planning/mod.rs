//! Spatial planning (设施布局规划): the plan's distance rules as data, and the
//! analyses built on the spatial crate — the population grid, who is covered
//! under each rule, accessibility (2SFCA), and where new facilities should go.
//!
//! The rules come from `data/planning/coverage.toml` (embedded; a planner may
//! load another file of the same format): the density classes of 三(一)2, the
//! 500 m / 1,000 m distance to a care institution (养老机构), the 15-minute
//! walk to home-care services (15分钟步行圈), and the childcare slot norms
//! (每千人口托位数). `docs/planning.md` explains each reading.

mod analysis;
mod params;
pub mod report;
pub mod siting;

pub use analysis::{
    Analysis, AreaCoverage, AreaSlots, CELL_SIZES, Cluster, Counts, FacilityPoint, Inputs, Options,
    PersonPoint, RuleCoverage, SlotStatus, Standing,
};
pub use params::{
    AccessDefaults, ChildcareNorms, CoverageRule, Density, DensityClass, Layer, Params,
    SitingDefaults, Walk,
};
pub use report::{
    AccessReport, AccessRequest, AccessRun, AccessSide, AreaAccess, AreaRef, CellFilter, CellRow,
    CoverageReport, FacilityRef, Reading, RuleInfo, SlotsReport,
};
