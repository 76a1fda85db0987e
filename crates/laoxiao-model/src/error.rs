//! Validation errors. Each names the field and the reason so that an import
//! can report `row N, column X: reason` and the API can return per-field details.

use serde::Serialize;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's identifier (English column name).
    pub field: String,
    /// Why the value was rejected, in plain words.
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// Errors of the model crate.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// One or more fields are invalid.
    #[error("invalid record: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// Embedded reference data could not be parsed (a build defect, not user input).
    #[error("reference data {file}: {reason}")]
    ReferenceData { file: &'static str, reason: String },
}

impl ModelError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::Invalid(_) => "validation_failed",
            ModelError::ReferenceData { .. } => "reference_data_invalid",
        }
    }
}
