//! Store errors, each with a stable snake_case code and the HTTP status it maps to.

use laoxiao_model::FieldError;
use serde::Serialize;

/// One rejected row of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based data row number as a spreadsheet user counts it (the header is row 1).
    pub row: usize,
    /// Column key (English), or the header as written when it is unknown.
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "row {}, column {}: {}",
            self.row, self.column, self.reason
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("could not connect to the database: {0}")]
    Connect(String),
    #[error("migration {version} failed: {reason}")]
    Migration { version: i64, reason: String },
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    #[error("invalid input: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Conflict(String),
    /// The ID number is registered in an area outside the caller's scope. Says
    /// nothing more (no record id, area or name): the caller already holds the
    /// number, and the transfer request needs to know that it is registered.
    #[error("this person is registered in another area; request a transfer (POST /api/transfers)")]
    RegisteredElsewhere,
    #[error("import rejected: {} row error(s); nothing was written", .0.len())]
    ImportRejected(Vec<RowError>),
    #[error("unsupported file: {0}")]
    UnsupportedFile(String),
    #[error("file error: {0}")]
    File(String),
    /// An import went over one of its configured limits (`[import]` in the
    /// config file, or the environment variable named).
    #[error("{what}: over the import limit {limit} = {value} (set by [import] {limit} or {env})")]
    LimitExceeded {
        limit: &'static str,
        env: &'static str,
        value: u64,
        what: String,
    },
    #[error("unsupported database URL {0:?}: use a file path, sqlite://PATH or postgres://…")]
    BadUrl(String),
    #[error("reference data: {0}")]
    Reference(String),
    /// A missing or malformed key or security setting.
    #[error("configuration: {0}")]
    Config(String),
    /// Encryption or decryption failed (wrong key, tampered value).
    #[error("cryptography: {0}")]
    Crypto(String),
    /// The caller's role may not do this at all (403).
    #[error("{0}")]
    Forbidden(String),
    /// An uploaded file is larger than the configured limit (413).
    #[error("the file is over the upload limit of {limit} bytes (set by [uploads] max_bytes)")]
    UploadTooLarge { limit: u64 },
    /// An uploaded file is not one of the accepted types, judged by its
    /// first bytes, not by its name or declared type (415).
    #[error("{0}")]
    UploadType(String),
}

impl StoreError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            StoreError::Database(_) => "database_error",
            StoreError::Connect(_) => "database_unavailable",
            StoreError::Migration { .. } => "migration_failed",
            StoreError::NotFound { .. } => "not_found",
            StoreError::Invalid(_) => "validation_failed",
            StoreError::Conflict(_) => "conflict",
            StoreError::RegisteredElsewhere => "registered_elsewhere",
            StoreError::ImportRejected(_) => "import_rejected",
            StoreError::UnsupportedFile(_) => "unsupported_file",
            StoreError::File(_) => "file_unreadable",
            StoreError::LimitExceeded { .. } => "import_limit_exceeded",
            StoreError::BadUrl(_) => "bad_database_url",
            StoreError::Reference(_) => "reference_data_invalid",
            StoreError::Config(_) => "configuration_error",
            StoreError::Crypto(_) => "crypto_error",
            StoreError::Forbidden(_) => "forbidden",
            StoreError::UploadTooLarge { .. } => "upload_too_large",
            StoreError::UploadType(_) => "unsupported_upload_type",
        }
    }

    /// The HTTP status this error maps to.
    pub fn http_status(&self) -> u16 {
        match self {
            StoreError::NotFound { .. } => 404,
            StoreError::Invalid(_) | StoreError::ImportRejected(_) => 422,
            StoreError::Conflict(_) | StoreError::RegisteredElsewhere => 409,
            StoreError::Forbidden(_) => 403,
            StoreError::LimitExceeded { .. } | StoreError::UploadTooLarge { .. } => 413,
            StoreError::UploadType(_) => 415,
            StoreError::UnsupportedFile(_) | StoreError::File(_) => 400,
            StoreError::Connect(_) => 503,
            _ => 500,
        }
    }
}

impl From<r2d2_sqlite::rusqlite::Error> for StoreError {
    fn from(e: r2d2_sqlite::rusqlite::Error) -> Self {
        use r2d2_sqlite::rusqlite::ffi;
        // A unique key hit by a concurrent writer is the caller's conflict, not a server fault.
        if let r2d2_sqlite::rusqlite::Error::SqliteFailure(f, _) = &e
            && (f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
        {
            return StoreError::Conflict("a record with the same key already exists".into());
        }
        // SQLite's messages name tables and constraints, not values.
        StoreError::Database(with_causes(&e))
    }
}

impl From<r2d2_postgres::postgres::Error> for StoreError {
    fn from(e: r2d2_postgres::postgres::Error) -> Self {
        // The server's own message is more useful than the wrapper's "db error".
        match e.as_db_error() {
            Some(db)
                if db.code() == &r2d2_postgres::postgres::error::SqlState::UNIQUE_VIOLATION =>
            {
                StoreError::Conflict("a record with the same key already exists".into())
            }
            Some(db) => StoreError::Database(format!("{}: {}", db.code().code(), db.message())),
            // Not the server's: "error serializing parameter 3" says little
            // without its cause (the source chain), which is kept here.
            None => StoreError::Database(with_causes(&e)),
        }
    }
}

/// An error and its `source()` chain as one message.
fn with_causes(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    for _ in 0..16 {
        let Some(c) = cur else { break };
        let s = c.to_string();
        if !out.ends_with(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = c.source();
    }
    out
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Connect(e.to_string())
    }
}

impl From<laoxiao_model::ModelError> for StoreError {
    fn from(e: laoxiao_model::ModelError) -> Self {
        match e {
            laoxiao_model::ModelError::Invalid(v) => StoreError::Invalid(v),
            other => StoreError::Reference(other.to_string()),
        }
    }
}

impl From<laoxiao_rules::RulesError> for StoreError {
    fn from(e: laoxiao_rules::RulesError) -> Self {
        StoreError::Reference(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
