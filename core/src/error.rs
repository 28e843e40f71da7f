//! The errors a domain service can return. The API layer maps each kind to one HTTP
//! problem; internal causes (database, pool) are logged there, never sent to a client.

use crate::db::DbError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object does not exist, or the caller may not know that it does.
    #[error("not found")]
    NotFound,
    /// The request is well-formed but breaks a rule (field, message).
    #[error("invalid {field}: {message}")]
    Invalid { field: String, message: String },
    /// The request conflicts with the current state (a duplicate, a wrong transition).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The caller is known but this action is not theirs to take.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The caller asked too often; it may try again after this many seconds.
    #[error("too many requests, retry after {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: i64 },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("internal: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        crate::db::note_error(&e);
        match e {
            diesel::result::Error::NotFound => Self::NotFound,
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("an object with the same unique value already exists".into())
            }
            other => Self::Db(DbError::Query(other)),
        }
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        Self::Db(DbError::Pool(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
