//! How the console shows a service error: the status and messages a form page re-renders
//! with, or an error page. Shared by every console page.

use axum::http::StatusCode;
use axum::response::Response;

use crate::service::{FieldError, ServiceError};

/// Splits a service error into the status to answer and the messages to show.
/// Form pages re-render with these; an internal error's cause is logged here, since a form
/// page carries no cause to the middleware that logs server errors.
pub fn error_parts(error: ServiceError) -> (StatusCode, Vec<FieldError>) {
    if let Some(cause) = error.cause() {
        tracing::error!(cause, "console request failed");
    }
    (error.status(), error.details())
}

/// An error page for a failed request (the cause of a 500 goes to the server-error log).
pub fn failure(error: ServiceError) -> Response {
    let cause = error.cause();
    let message = error
        .details()
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let mut response =
        super::layout::error_page(error.status(), "This could not be done", &message);
    if let Some(cause) = cause {
        response
            .extensions_mut()
            .insert(crate::http::error::ServerErrorCause(cause));
    }
    response
}
