//! Errors and error responses: IRP API failures are HTTP 200 envelopes with `Status: 0` and
//! NIC codes; portal failures are 4xx JSON `{"success": false, "error": {"code", "message"}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use irp_protocol::envelope::Envelope;
use irp_protocol::errors::NicCode;

/// Internal failures of the sandbox itself.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The state database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Keys could not be generated or loaded.
    #[error("keys: {0}")]
    Keys(String),
}

/// An IRP API answer that is not a success: a NIC error envelope, or an injected fault.
#[derive(Debug)]
pub enum IrpFailure {
    /// `Status: 0` with these errors (HTTP 200, as NIC answers).
    Nic(Box<Envelope>),
    /// A bare HTTP status (injected 5xx).
    Http(StatusCode),
    /// The sandbox failed (HTTP 500 with a 5001 envelope).
    Internal(String),
}

impl IrpFailure {
    /// A failure with one catalogue code.
    pub fn code(code: NicCode, args: &[&str]) -> Self {
        IrpFailure::Nic(Box::new(Envelope::error(code, args)))
    }
}

impl From<SandboxError> for IrpFailure {
    fn from(e: SandboxError) -> Self {
        IrpFailure::Internal(e.to_string())
    }
}

impl From<sqlx::Error> for IrpFailure {
    fn from(e: sqlx::Error) -> Self {
        IrpFailure::Internal(e.to_string())
    }
}

impl IntoResponse for IrpFailure {
    fn into_response(self) -> Response {
        match self {
            IrpFailure::Nic(envelope) => Json(*envelope).into_response(),
            IrpFailure::Http(status) => (status, "upstream unavailable").into_response(),
            IrpFailure::Internal(message) => {
                tracing::error!(error = %message, "sandbox failure");
                let envelope = Envelope::error(irp_protocol::errors::APPLICATION_ERROR, &[]);
                (StatusCode::INTERNAL_SERVER_ERROR, Json(envelope)).into_response()
            }
        }
    }
}

/// A portal (web) error.
#[derive(Debug)]
pub struct PortalError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code (a NIC code where one exists).
    pub code: String,
    /// What is wrong.
    pub message: String,
}

impl PortalError {
    /// A 400/401/403/404/409/422 error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        PortalError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// From a NIC code, as 422.
    pub fn nic(code: NicCode, args: &[&str]) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            code.code,
            code.format(args),
        )
    }
}

impl From<sqlx::Error> for PortalError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "portal database failure");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the portal failed; try again",
        )
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"success": false, "error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}
