//! The web console for people who keep NIC credentials up to date: login, Settings → Business
//! Settings (businesses, GSTINs, the NIC API username and password form, Verify, status and
//! history), Settings → Integrations (API tokens) and the GSTIN overview. Server-rendered with
//! maud; it works without JavaScript, and calls the same service functions as the API.

pub mod business;
pub mod integrations;
pub mod layout;
pub mod login;
pub mod overview;
pub mod session;

use axum::extract::Request;
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

const STYLESHEET: &str = include_str!("../../assets/console.css");
const SCRIPT: &str = include_str!("../../assets/console.js");

/// The console's Content-Security-Policy: only our own stylesheet and script, no framing, and
/// forms that post only to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// The console's routes under `/console`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console", get(login::home))
        .route("/console/", get(login::home))
        .route("/console/login", get(login::show).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/overview", get(overview::show))
        .route("/console/check/gstin", get(business::check_gstin))
        .route("/console/settings", get(settings_home))
        .route("/console/settings/business", get(business::show))
        .route(
            "/console/settings/business/businesses",
            post(business::add_business),
        )
        .route(
            "/console/settings/business/gstins",
            post(business::add_gstin),
        )
        .route(
            "/console/settings/business/gstins/{owner_id}",
            get(business::show_gstin),
        )
        .route(
            "/console/settings/business/gstins/{owner_id}/credentials",
            post(business::save_credentials),
        )
        .route(
            "/console/settings/business/gstins/{owner_id}/verify",
            post(business::verify_credentials),
        )
        .route("/console/settings/integrations", get(integrations::show))
        .route(
            "/console/settings/integrations/tokens",
            post(integrations::create),
        )
        .route(
            "/console/settings/integrations/tokens/{id}/revoke",
            post(integrations::revoke),
        )
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(script))
        .layer(middleware::from_fn(security_headers))
}

async fn settings_home() -> axum::response::Redirect {
    axum::response::Redirect::to("/console/settings/business")
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        SCRIPT,
    )
        .into_response()
}

/// CSP and the usual headers on every console response.
async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    headers.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    response
}
