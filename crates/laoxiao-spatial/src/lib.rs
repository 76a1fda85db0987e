//! Spatial engine (placeholder crate body is filled by later issues).
