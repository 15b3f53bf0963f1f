//! The one JSON error shape of the API:
//! `{"success": false, "errorDetails": [{"error_code", "error_message", "field"}]}`, with the
//! fitting status. 5xx bodies carry a generic message; the detail goes to the log.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::service::{FieldError, ServiceError};

/// One entry of `errorDetails`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_gstin`.
    pub error_code: String,
    /// What is wrong and what to do.
    pub error_message: String,
    /// The body key, header or query parameter at fault, if any.
    pub field: Option<String>,
}

impl From<FieldError> for ErrorDetail {
    fn from(e: FieldError) -> Self {
        ErrorDetail {
            error_code: e.code.to_string(),
            error_message: e.message,
            field: e.field,
        }
    }
}

/// The error body.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Always false.
    pub success: bool,
    /// Every problem found.
    #[serde(rename = "errorDetails")]
    pub error_details: Vec<ErrorDetail>,
}

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    details: Vec<ErrorDetail>,
    retry_after_secs: Option<u64>,
    cause: Option<String>,
}

impl ApiError {
    /// An error with one detail.
    pub fn new(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        field: Option<&str>,
    ) -> Self {
        ApiError {
            status,
            details: vec![ErrorDetail {
                error_code: code.to_string(),
                error_message: message.into(),
                field: field.map(str::to_string),
            }],
            retry_after_secs: None,
            cause: None,
        }
    }

    /// 400 naming a field.
    pub fn bad_request(code: &str, message: impl Into<String>, field: Option<&str>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message, field)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    fn from_fields(status: StatusCode, errors: Vec<FieldError>) -> Self {
        ApiError {
            status,
            details: errors.into_iter().map(ErrorDetail::from).collect(),
            retry_after_secs: None,
            cause: None,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError {
            retry_after_secs: e.retry_after_secs(),
            cause: e.cause(),
            ..Self::from_fields(e.status(), e.details())
        }
    }
}

/// The cause of a 5xx answer, carried in the response's extensions to the one middleware that
/// logs server errors ([`crate::http::log_server_errors`]); never sent.
#[derive(Debug, Clone)]
pub struct ServerErrorCause(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            success: false,
            error_details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ServerErrorCause(cause));
        }
        response
    }
}

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;
