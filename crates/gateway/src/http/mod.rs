//! The HTTP surface: routes, middleware (request ids, tracing, timeouts, body limits, security
//! headers) and the OpenAPI document.

pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use error::ApiError;
use routes::{einvoice, health, nic_credentials, owners, tokens};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Builds the gateway's router with all middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.body_limit_bytes;
    let timeout = state.settings.request_timeout;
    Router::new()
        .route(
            "/v2/nic_credentials/store_nic_credentials",
            post(nic_credentials::store_nic_credentials),
        )
        .route(
            "/einv/v2/nic_credentials/store_nic_credentials",
            post(nic_credentials::store_nic_credentials),
        )
        .route(
            "/v2/nic_credentials/verify",
            post(nic_credentials::verify_nic_credentials),
        )
        .route(
            "/v2/nic_credentials/bulk",
            post(nic_credentials::bulk_nic_credentials),
        )
        .route(
            "/einv/v2/nic_credentials/verify",
            post(nic_credentials::verify_nic_credentials),
        )
        .route(
            "/v2/nic_credentials",
            get(nic_credentials::get_nic_credentials)
                .delete(nic_credentials::delete_nic_credentials),
        )
        .route("/v2/eInvoice/generate", put(einvoice::generate))
        .route("/einv/v2/eInvoice/generate", put(einvoice::generate))
        .route("/v2/eInvoice/cancel", put(einvoice::cancel))
        .route("/einv/v2/eInvoice/cancel", put(einvoice::cancel))
        .route("/v2/eInvoice/get", get(einvoice::get))
        .route("/einv/v2/eInvoice/get", get(einvoice::get))
        .route(
            "/v2/auth/tokens",
            post(tokens::create_token).get(tokens::list_tokens),
        )
        .route("/v2/auth/tokens/{id}", delete(tokens::revoke_token))
        .route(
            "/v2/owners",
            post(owners::create_owner).get(owners::list_owners),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(openapi_json))
        .merge(crate::console::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(middleware::from_fn_with_state(timeout, enforce_timeout))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                let path = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or("unmatched");
                let request_id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %request.method(), path, request_id)
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi::document())
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "route_not_found",
        "no such endpoint",
        None,
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method",
        None,
    )
}

async fn enforce_timeout(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            "the request took too long and was abandoned; it is safe to retry",
            None,
        )
        .into_response(),
    }
}
