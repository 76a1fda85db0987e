//! The command line, run as the built binary from the outside (ripgrep's
//! integration tests are the model): every verb, its output and its errors.
//! Tests declared with `clitest!` run on SQLite and, when TEST_DATABASE_URL is
//! set, again on PostgreSQL.

#[macro_use]
mod harness;

mod audit;
mod backup;
mod demo;
mod export;
mod import;
mod keys;
mod plan;
mod readme;
mod serve;
mod subsidies;
mod supervise;
mod synth;
mod template;
mod user;
