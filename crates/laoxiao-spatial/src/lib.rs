//! The geometry of laoxiao (一老一小): coordinate systems (WGS-84, GCJ-02,
//! BD-09) and their conversions, distances, boundaries with fast
//! point-in-polygon tests, the metric projection for planning, and the
//! planning algorithms (population grids, coverage, floating-catchment
//! accessibility, facility siting). No I/O and no domain types: the model and
//! the rules build on it.

pub mod access;
pub mod boundary;
pub mod coords;
pub mod grid;
pub mod index;
pub mod proj;
pub mod siting;

pub use boundary::{Boundary, IndexedBoundary};
pub use coords::{
    CoordSystem, EARTH_RADIUS_M, bd09_to_gcj02, bd09_to_wgs84, distance_m, from_wgs84,
    gcj02_to_bd09, gcj02_to_wgs84, to_wgs84, wgs84_to_bd09, wgs84_to_gcj02,
};
pub use grid::{CellKey, CellNearest, Grid};
pub use index::PointIndex;
pub use proj::{Xy, project, unproject};
