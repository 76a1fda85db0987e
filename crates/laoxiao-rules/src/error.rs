//! Errors of the rules crate, each with a stable code for APIs and logs.

/// Errors of the rules crate.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RulesError {
    /// Embedded plan data could not be parsed or is inconsistent. This is a
    /// build defect (the CSV ships inside the binary), not a user error.
    #[error("plan data {file}: {reason}")]
    PlanData { file: &'static str, reason: String },
    /// A target cell is none of "N", "N以上", "N以下", "/" or "-".
    #[error("invalid target value {raw:?}")]
    InvalidTarget { raw: String },
    /// An embedded national standard could not be parsed (a build defect, not
    /// user input).
    #[error("reference data {file}: {reason}")]
    ReferenceData { file: &'static str, reason: String },
    /// An indicator definition file is invalid (names the file and why).
    #[error("indicator definition {file}: {reason}")]
    Definition { file: String, reason: String },
    /// A period is not a year (2020–2035) or a month of one (`2022-06`).
    #[error("invalid period {raw:?}: give a year from 2020 to 2035 (2022) or a month (2022-06)")]
    Period { raw: String },
    /// A subsidy parameter file (embedded or a reform) is invalid.
    #[error("parameter file {file}: {reason}")]
    Parameters { file: String, reason: String },
    /// A rule asked for a parameter that has no value on the day it needs.
    #[error("parameter {name}: {reason}")]
    Parameter { name: String, reason: String },
    /// An assessment answer is not one of its item's options, or an item is
    /// missing or unknown (GB/T 42195-2022 Annex B); names the item.
    #[error("assessment item {item}: {reason}")]
    Answer { item: String, reason: String },
    /// A subsidy test-case file is invalid.
    #[error("test cases {file}: {reason}")]
    Cases { file: String, reason: String },
}

impl RulesError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            RulesError::PlanData { .. } => "plan_data_invalid",
            RulesError::InvalidTarget { .. } => "target_invalid",
            RulesError::ReferenceData { .. } => "reference_data_invalid",
            RulesError::Definition { .. } => "indicator_definition_invalid",
            RulesError::Period { .. } => "period_invalid",
            RulesError::Parameters { .. } => "parameters_invalid",
            RulesError::Parameter { .. } => "parameter_missing",
            RulesError::Cases { .. } => "cases_invalid",
            RulesError::Answer { .. } => "assessment_answer_invalid",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let e = RulesError::PlanData {
            file: "x.csv",
            reason: "bad".into(),
        };
        assert_eq!(e.code(), "plan_data_invalid");
        assert_eq!(e.to_string(), "plan data x.csv: bad");
        let e = RulesError::InvalidTarget { raw: "约5".into() };
        assert_eq!(e.code(), "target_invalid");
    }
}
