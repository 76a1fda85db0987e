//! Rules of the laoxiao (一老一小) platform. For now: the Jiaxing plan's
//! targets and reference tables (`plan`), which the rule checks compare
//! live figures against.

pub mod error;
pub mod plan;

pub use error::RulesError;
pub use plan::Plan;
