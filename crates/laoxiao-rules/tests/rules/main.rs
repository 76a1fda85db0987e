//! The rules crate's integration tests: the indicators over a hand-made city,
//! and the subsidy rules' test cases (`data/policy/tests/*.yaml`).

mod indicators;
mod subsidies;
