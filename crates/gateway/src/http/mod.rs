//! The HTTP surface: routes grouped by access level, middleware (request ids, tracing, timeouts, body limits, security
//! headers) and the OpenAPI document.

pub mod access;
pub mod endpoint;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod routes;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;
pub use endpoint::{Access, Endpoint, CLEARTAX_PREFIX};
use error::ApiError;
use routes::{
    download, einvoice, ewaybill, govt, health, nic_credentials, onboarding, owners, tokens,
    webhooks,
};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The endpoints ClearTax serves both at the root (its legacy host: `/v2/...`,
/// `/v1/govt/api/...`) and under `/einv` (today's host).
fn cleartax_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(nic_credentials::store_nic_credentials))
        .routes(routes!(nic_credentials::verify_nic_credentials))
        .routes(routes!(einvoice::generate))
        .routes(routes!(einvoice::cancel))
        .routes(routes!(einvoice::get))
        .routes(routes!(download::download))
        .routes(routes!(ewaybill::generate))
        .routes(routes!(ewaybill::cancel))
        .routes(routes!(ewaybill::govt_generate))
        .routes(routes!(govt::generate))
        .routes(routes!(govt::cancel))
        .routes(routes!(govt::get))
}

/// Every API route, once, in the group of who may call it (see [`access::enforce`]).
fn groups() -> [(Access, OpenApiRouter<AppState>); 3] {
    [
        (
            Access::Public,
            OpenApiRouter::new()
                .routes(routes!(tokens::create_token))
                .routes(routes!(health::healthz))
                .routes(routes!(health::readyz))
                .routes(routes!(openapi_json)),
        ),
        (
            Access::Account,
            cleartax_routes()
                .nest(CLEARTAX_PREFIX, cleartax_routes())
                .routes(routes!(nic_credentials::bulk_nic_credentials))
                .routes(routes!(
                    nic_credentials::get_nic_credentials,
                    nic_credentials::delete_nic_credentials
                ))
                .routes(routes!(owners::create_owner, owners::list_owners))
                .routes(routes!(onboarding::gsp))
                .routes(routes!(onboarding::create_sandbox_api_user))
                .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
                .routes(routes!(webhooks::delete_webhook))
                .routes(routes!(webhooks::list_deliveries))
                .routes(routes!(webhooks::resend_delivery)),
        ),
        (
            Access::Token,
            OpenApiRouter::new()
                .routes(routes!(tokens::list_tokens))
                .routes(routes!(tokens::revoke_token)),
        ),
    ]
}

/// The endpoints of one group, from its OpenAPI paths.
fn endpoints_of(access: Access, group: &OpenApiRouter<AppState>) -> Vec<Endpoint> {
    let mut endpoints = Vec::new();
    for (path, item) in &group.get_openapi().paths.paths {
        for (method, operation) in openapi::operations(item) {
            if operation.is_some() {
                endpoints.push(Endpoint {
                    method,
                    path: path.clone(),
                    access,
                });
            }
        }
    }
    endpoints
}

/// Every API endpoint (the console's pages are listed by [`crate::console::endpoints`]).
pub fn endpoints() -> Vec<Endpoint> {
    groups()
        .iter()
        .flat_map(|(access, group)| endpoints_of(*access, group))
        .collect()
}

/// Admits a request while fewer than `max_in_flight` are being handled; otherwise 429 with
/// Retry-After, at once.
async fn bulkhead(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    match state.admission.enter() {
        Some(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        None => {
            state
                .metrics
                .admission_refused(crate::service::admission::Refusal::Overloaded.as_str());
            ApiError::from(state.admission.overloaded()).into_response()
        }
    }
}

/// Builds the gateway's router with all middleware.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.body_limit_bytes;
    let timeout = state.settings.request_timeout;
    // In production the gateway is reached over HTTPS (directly or through a proxy): browsers
    // must not fall back to plain HTTP.
    let hsts = (state.settings.mode == crate::config::Mode::Production)
        .then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains"));
    let mut api = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi());
    let mut endpoints = Vec::new();
    for (access, group) in groups() {
        endpoints.extend(endpoints_of(access, &group));
        let group = access::enforce(access, group, &state);
        // The bulkhead covers the endpoints that do work for an account (probes, the OpenAPI
        // document and token creation stay answerable when the gateway is full).
        let group = match access {
            Access::Public => group,
            Access::Account | Access::Token => {
                group.route_layer(middleware::from_fn_with_state(state.clone(), bulkhead))
            }
        };
        api = api.merge(group);
    }
    let (router, document) = api.split_for_parts();
    let document = Arc::new(openapi::document(document, &endpoints, state.is_sandbox()));
    let metrics = state.metrics.clone();
    router
        .merge(crate::console::router(&state))
        .route("/metrics", axum::routing::get(routes::metrics::metrics))
        .layer(Extension(document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(metrics, record_request))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::map_response(log_server_errors))
        .layer(middleware::from_fn_with_state(timeout, enforce_timeout))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            move |_: &Response| hsts.clone(),
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
        .layer(middleware::map_request(drop_unsafe_request_id))
        .with_state(state)
}

/// Counts every request by route template, method and status, with its latency.
async fn record_request(
    State(metrics): State<Arc<crate::metrics::Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = request.method().as_str().to_string();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    metrics.http_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// A client's `x-request-id` is kept only when short and plain (see
/// [`extract::is_safe_request_id`]); otherwise it is dropped and one is generated.
async fn drop_unsafe_request_id(mut request: Request) -> Request {
    let unsafe_id = request
        .headers()
        .get_all(REQUEST_ID)
        .iter()
        .any(|v| !extract::is_safe_request_id(v.as_bytes()))
        || request.headers().get_all(REQUEST_ID).iter().count() > 1;
    if unsafe_id {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

/// This OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
async fn openapi_json(
    Extension(document): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<utoipa::openapi::OpenApi> {
    Json(document.as_ref().clone())
}

/// A bug must not drop the connection: the client gets the API's error shape (500) and the
/// panic is logged (its message, never request data).
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        crate::service::INTERNAL_ERROR_CODE,
        "the gateway failed on this request; it has been logged",
        None,
    )
    .into_response()
}

/// The one place server errors are logged (API and console alike), with their cause when the
/// service layer gave one; the cause never reaches the client.
pub async fn log_server_errors(response: Response) -> Response {
    if response.status().is_server_error() {
        let cause = response
            .extensions()
            .get::<error::ServerErrorCause>()
            .map(|c| c.0.as_str())
            .unwrap_or("");
        tracing::error!(status = response.status().as_u16(), cause, "request failed");
    }
    response
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
