//! The portal pages' frame and small helpers: the page shell, answering with a page, error
//! boxes, and reading the login cookie.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::error::PortalError;

/// The cookie that carries a portal login.
pub const PORTAL_COOKIE: &str = "irp_portal";

/// Renders a page of the sandbox portal.
pub fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · e-Invoice System (sandbox)" }
                link rel="stylesheet" href="/portal/ui/assets/portal.css";
            }
            body {
                header.banner {
                    a href="/portal/ui" { "e-Invoice System" }
                    span.tag { "SANDBOX: nothing here is real" }
                    nav aria-label="Portal" {
                        a href="/portal/ui/register" { "Registration" }
                        a href="/portal/ui/login" { "Login" }
                        a href="/portal/ui/clients/register" { "Client credentials" }
                        a href="/portal/ui/outbox" { "Outbox" }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// Answers with a page.
pub fn respond(status: StatusCode, title: &str, body: Markup) -> Response {
    (status, page(title, body)).into_response()
}

/// An error box for a failed step.
pub fn error_box(error: &PortalError) -> Markup {
    html! { p.error role="alert" { (error.message) " (" (error.code) ")" } }
}

/// The status a page answers with when a step failed.
pub fn error_status(error: &PortalError) -> StatusCode {
    error.status
}

/// Reads one cookie.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}
