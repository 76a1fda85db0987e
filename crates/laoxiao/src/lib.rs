//! The `laoxiao` command: configuration, the synthetic city and the commands
//! that tie the crates together (`cli`, one module per verb group). `main.rs`
//! only parses flags (clap) and calls in here.

pub mod cli;
pub mod config;
pub mod process;
pub mod synth;
