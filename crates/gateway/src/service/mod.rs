//! The gateway's rules, independent of HTTP: the API handlers (and later the console pages and
//! the CLI) call these functions, so every rule exists once.

pub mod admission;
pub mod auth;
pub mod bulk;
pub mod credentials;
pub mod einvoice;
pub mod ewaybill;
pub mod irp_call;
pub mod onboarding;
pub mod outcome;
pub mod owner_cache;
pub mod owners;
mod reconcile;
pub mod registered;
pub mod registration;
pub mod sandbox_users;
pub mod text;
pub mod verify;
pub mod webhook_client;
pub mod webhook_delivery;
pub mod webhooks;

use axum::http::StatusCode;

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
    /// A fault of ours (500); the cause is logged, never shown.
    #[error("internal error")]
    Internal(#[source] InternalCause),
}

/// What caused an internal error: kept whole (with its own sources) for the log.
pub type InternalCause = Box<dyn std::error::Error + Send + Sync>;

/// The one code a 500 answers with.
pub const INTERNAL_ERROR_CODE: &str = "internal_error";

impl ServiceError {
    /// An internal error with its cause.
    pub fn internal(cause: impl Into<InternalCause>) -> Self {
        ServiceError::Internal(cause.into())
    }

    /// The HTTP status the error answers with, wherever it is shown (API, console, bulk rows).
    pub fn status(&self) -> StatusCode {
        match self {
            ServiceError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) => StatusCode::CONFLICT,
            ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ServiceError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            ServiceError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds after which a retry can succeed (429 and 503).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ServiceError::Throttled {
                retry_after_secs, ..
            }
            | ServiceError::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// What the caller is shown: every field error, or for an internal error a general one
    /// (its cause is never shown).
    pub fn details(&self) -> Vec<FieldError> {
        match self {
            ServiceError::BadRequest(f)
            | ServiceError::Unauthenticated(f)
            | ServiceError::Forbidden(f)
            | ServiceError::NotFound(f)
            | ServiceError::Conflict(f) => vec![f.clone()],
            ServiceError::Invalid(fs) => fs.clone(),
            ServiceError::Throttled { error, .. } | ServiceError::Unavailable { error, .. } => {
                vec![error.clone()]
            }
            ServiceError::Internal(_) => vec![FieldError::general(
                INTERNAL_ERROR_CODE,
                "something went wrong on our side; quote the x-request-id header when reporting it",
            )],
        }
    }

    /// The cause of an internal error, with its sources, for the log.
    pub fn cause(&self) -> Option<String> {
        let ServiceError::Internal(cause) = self else {
            return None;
        };
        let mut text = cause.to_string();
        let mut source = cause.source();
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        Some(text)
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Contention => ServiceError::Conflict(FieldError::general(
                "concurrent_update",
                "these credentials were being changed by many requests at once; retry",
            )),
            other => ServiceError::internal(other),
        }
    }
}

impl From<VaultError> for ServiceError {
    fn from(e: VaultError) -> Self {
        ServiceError::internal(e)
    }
}

/// Who is making a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    /// The account acted for.
    pub account_id: crate::ids::AccountId,
    /// The token used; `None` for the sandbox account without a token, or the CLI.
    pub token_id: Option<uuid::Uuid>,
}
