//! The geometry of laoxiao (一老一小): coordinate systems (WGS-84, GCJ-02,
//! BD-09) and their conversions, distances, and boundaries with fast
//! point-in-polygon tests. No I/O and no domain types: the model builds on it.

pub mod boundary;
pub mod coords;

pub use boundary::{Boundary, IndexedBoundary};
pub use coords::{
    CoordSystem, EARTH_RADIUS_M, bd09_to_gcj02, bd09_to_wgs84, distance_m, from_wgs84,
    gcj02_to_bd09, gcj02_to_wgs84, to_wgs84, wgs84_to_bd09, wgs84_to_gcj02,
};
