//! The `laoxiao` command: configuration, the synthetic city and the commands
//! that tie the crates together. `main.rs` only parses flags and calls in here.

pub mod config;
pub mod process;
pub mod synth;
