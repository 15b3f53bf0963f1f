//! The web console for people who keep NIC credentials up to date: login, Settings → Business
//! Settings (businesses, GSTINs, the NIC API username and password form, Verify, status and
//! history), Settings → Integrations (API tokens) and the GSTIN overview. Server-rendered with
//! maud; it works without JavaScript, and calls the same service functions as the API.

pub mod business;
pub mod einvoices;
pub mod errors;
pub mod gstin;
pub mod integrations;
pub mod layout;
pub mod login;
pub mod onboarding;
pub mod overview;
pub mod session;
pub mod webhooks;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::state::AppState;

const STYLESHEET: &str = include_str!("../../assets/console.css");
const SCRIPT: &str = include_str!("../../assets/console.js");

/// The console's Content-Security-Policy: only our own stylesheet and script, no framing, and
/// forms that post only to us.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'";

/// Who may open a console page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageAccess {
    /// Anyone: the login page, logout's redirect target, assets.
    Public,
    /// A logged-in user; anyone else is sent to the login page.
    Session,
}

/// One console route.
#[derive(Debug, Clone)]
pub struct Page {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{param}` placeholders.
    pub path: &'static str,
    /// Who may open it.
    pub access: PageAccess,
}

fn console_routes() -> Vec<(Page, MethodRouter<AppState>)> {
    use PageAccess::{Public, Session};
    let page = |method: Method, path: &'static str, access: PageAccess| Page {
        method,
        path,
        access,
    };
    vec![
        (page(Method::GET, "/console", Public), get(login::home)),
        (page(Method::GET, "/console/", Public), get(login::home)),
        (
            page(Method::GET, "/console/login", Public),
            get(login::show),
        ),
        (
            page(Method::POST, "/console/login", Public),
            post(login::submit),
        ),
        (
            page(Method::POST, "/console/logout", Session),
            post(login::logout),
        ),
        (
            page(Method::GET, "/console/overview", Session),
            get(overview::show),
        ),
        (
            page(Method::GET, "/console/check/gstin", Session),
            get(business::check_gstin),
        ),
        (
            page(Method::GET, "/console/settings", Public),
            get(settings_home),
        ),
        (
            page(Method::GET, "/console/settings/business", Session),
            get(business::show),
        ),
        (
            page(
                Method::POST,
                "/console/settings/business/businesses",
                Session,
            ),
            post(business::add_business),
        ),
        (
            page(Method::POST, "/console/settings/business/gstins", Session),
            post(business::add_gstin),
        ),
        (
            page(
                Method::GET,
                "/console/settings/business/gstins/new",
                Session,
            ),
            get(onboarding::start),
        ),
        (
            page(
                Method::POST,
                "/console/settings/business/gstins/new",
                Session,
            ),
            post(onboarding::submit_start),
        ),
        (
            page(
                Method::GET,
                "/console/settings/business/gstins/{owner_id}",
                Session,
            ),
            get(gstin::show_gstin),
        ),
        (
            page(
                Method::GET,
                "/console/settings/business/gstins/{owner_id}/onboarding",
                Session,
            ),
            get(onboarding::show),
        ),
        (
            page(
                Method::POST,
                "/console/settings/business/gstins/{owner_id}/onboarding",
                Session,
            ),
            post(onboarding::save_and_verify),
        ),
        (
            page(
                Method::POST,
                "/console/settings/business/gstins/{owner_id}/sandbox-user",
                Session,
            ),
            post(onboarding::create_sandbox_user),
        ),
        (
            page(
                Method::POST,
                "/console/settings/business/gstins/{owner_id}/password",
                Session,
            ),
            post(gstin::change_password),
        ),
        (
            page(
                Method::GET,
                "/console/settings/business/gstins/{owner_id}/einvoices",
                Session,
            ),
            get(einvoices::list),
        ),
        (
            page(
                Method::GET,
                "/console/settings/business/gstins/{owner_id}/einvoices/{irn}",
                Session,
            ),
            get(einvoices::show),
        ),
        (
            page(
                Method::GET,
                "/console/settings/business/gstins/{owner_id}/einvoices/{irn}/pdf",
                Session,
            ),
            get(einvoices::pdf),
        ),
        (
            page(
                Method::POST,
                "/console/settings/business/gstins/{owner_id}/credentials",
                Session,
            ),
            post(gstin::save_credentials),
        ),
        (
            page(
                Method::POST,
                "/console/settings/business/gstins/{owner_id}/verify",
                Session,
            ),
            post(gstin::verify_credentials),
        ),
        (
            page(Method::GET, "/console/settings/integrations", Session),
            get(integrations::show),
        ),
        (
            page(
                Method::POST,
                "/console/settings/integrations/tokens",
                Session,
            ),
            post(integrations::create),
        ),
        (
            page(
                Method::POST,
                "/console/settings/integrations/tokens/{id}/revoke",
                Session,
            ),
            post(integrations::revoke),
        ),
        (
            page(
                Method::GET,
                "/console/settings/integrations/webhooks",
                Session,
            ),
            get(webhooks::show),
        ),
        (
            page(
                Method::POST,
                "/console/settings/integrations/webhooks",
                Session,
            ),
            post(webhooks::create),
        ),
        (
            page(
                Method::GET,
                "/console/settings/integrations/webhooks/{id}",
                Session,
            ),
            get(webhooks::log),
        ),
        (
            page(
                Method::POST,
                "/console/settings/integrations/webhooks/{id}/delete",
                Session,
            ),
            post(webhooks::delete),
        ),
        (
            page(
                Method::POST,
                "/console/settings/integrations/webhooks/{id}/deliveries/{event_id}/resend",
                Session,
            ),
            post(webhooks::resend),
        ),
        (
            page(Method::GET, "/console/assets/console.css", Public),
            get(stylesheet),
        ),
        (
            page(Method::GET, "/console/assets/console.js", Public),
            get(script),
        ),
    ]
}

/// Every console route, for checks over all of them.
pub fn endpoints() -> Vec<Page> {
    console_routes().into_iter().map(|(p, _)| p).collect()
}

/// The console's routes under `/console`: the pages that need a login form a group behind
/// [`session::require_session`], so the table's access column is what is enforced.
pub fn router(state: &AppState) -> Router<AppState> {
    let mut public = Router::new();
    let mut logged_in = Router::new();
    for (page, handler) in console_routes() {
        match page.access {
            PageAccess::Public => public = public.route(page.path, handler),
            PageAccess::Session => logged_in = logged_in.route(page.path, handler),
        }
    }
    let logged_in = logged_in.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        session::require_session,
    ));
    let router = public.merge(logged_in);
    // The console's own security headers, on every console answer.
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(header(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header(header::REFERRER_POLICY, "no-referrer"))
        .layer(header(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=()",
        ))
        .layer(header(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
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
