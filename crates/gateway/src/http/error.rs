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
            details: errors
                .into_iter()
                .map(|e| ErrorDetail {
                    error_code: e.code.to_string(),
                    error_message: e.message,
                    field: e.field,
                })
                .collect(),
            retry_after_secs: None,
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::BadRequest(f) => Self::from_fields(StatusCode::BAD_REQUEST, vec![f]),
            ServiceError::Unauthenticated(f) => {
                Self::from_fields(StatusCode::UNAUTHORIZED, vec![f])
            }
            ServiceError::Forbidden(f) => Self::from_fields(StatusCode::FORBIDDEN, vec![f]),
            ServiceError::NotFound(f) => Self::from_fields(StatusCode::NOT_FOUND, vec![f]),
            ServiceError::Conflict(f) => Self::from_fields(StatusCode::CONFLICT, vec![f]),
            ServiceError::Invalid(fs) => Self::from_fields(StatusCode::UNPROCESSABLE_ENTITY, fs),
            ServiceError::Throttled {
                error,
                retry_after_secs,
            } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..Self::from_fields(StatusCode::TOO_MANY_REQUESTS, vec![error])
            },
            ServiceError::Unavailable {
                error,
                retry_after_secs,
            } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..Self::from_fields(StatusCode::SERVICE_UNAVAILABLE, vec![error])
            },
            ServiceError::Internal(message) => {
                tracing::error!(error = %message, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "something went wrong on our side; quote the x-request-id header when reporting it",
                    None,
                )
            }
        }
    }
}

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
        response
    }
}

/// Handler results.
pub type ApiResult<T> = Result<T, ApiError>;
