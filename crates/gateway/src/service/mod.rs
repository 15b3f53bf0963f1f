//! The gateway's rules, independent of HTTP: the API handlers (and later the console pages and
//! the CLI) call these functions, so every rule exists once.

pub mod auth;
pub mod bulk;
pub mod credentials;
pub mod einvoice;
pub mod irp_call;
pub mod outcome;
pub mod owners;
pub mod text;
pub mod verify;

use crate::storage::StoreError;
use crate::vault::VaultError;

/// One problem with a request, naming the field where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Stable machine-readable code, e.g. `invalid_gstin`.
    pub code: &'static str,
    /// What is wrong and what to do, in plain words.
    pub message: String,
    /// The field (body key, header or query parameter) at fault.
    pub field: Option<String>,
}

impl FieldError {
    /// A field error.
    pub fn new(code: &'static str, message: impl Into<String>, field: impl Into<String>) -> Self {
        FieldError {
            code,
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// An error that concerns no particular field.
    pub fn general(code: &'static str, message: impl Into<String>) -> Self {
        FieldError {
            code,
            message: message.into(),
            field: None,
        }
    }
}

/// What a service call can fail with; the HTTP layer maps each variant to one status.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Malformed request (400).
    #[error("bad request")]
    BadRequest(FieldError),
    /// Missing or invalid credentials (401).
    #[error("unauthenticated")]
    Unauthenticated(FieldError),
    /// Understood but not allowed (403).
    #[error("forbidden")]
    Forbidden(FieldError),
    /// No such resource for this account (404).
    #[error("not found")]
    NotFound(FieldError),
    /// The resource already exists (409).
    #[error("conflict")]
    Conflict(FieldError),
    /// Well-formed but invalid values, all of them at once (422).
    #[error("invalid")]
    Invalid(Vec<FieldError>),
    /// Too many failures; retry after the given seconds (429).
    #[error("throttled")]
    Throttled {
        /// The error to show.
        error: FieldError,
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// A dependency (the IRP) is unavailable; retry after the given seconds (503).
    #[error("unavailable")]
    Unavailable {
        /// The error to show.
        error: FieldError,
        /// Seconds until a retry can succeed.
        retry_after_secs: u64,
    },
    /// A fault of ours (500); the message is logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Contention => ServiceError::Conflict(FieldError::general(
                "concurrent_update",
                "these credentials were being changed by many requests at once; retry",
            )),
            other => ServiceError::Internal(other.to_string()),
        }
    }
}

impl From<VaultError> for ServiceError {
    fn from(e: VaultError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

/// Who is making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The account acted for.
    pub account_id: uuid::Uuid,
    /// The token used; `None` for the sandbox account without a token, or the CLI.
    pub token_id: Option<uuid::Uuid>,
}
