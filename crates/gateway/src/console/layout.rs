//! The console's page frame (header, user menu with Settings at the top right, main area),
//! status badges and small form helpers, as compiled, auto-escaping maud templates.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use crate::clock::{rfc3339, Timestamp};
use crate::service::FieldError;
use crate::storage::VerificationStatus;

/// Which part of the console a page belongs to (for the navigation).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The GSTIN overview.
    Overview,
    /// Settings → Business Settings.
    Business,
    /// Settings → Integrations.
    Integrations,
    /// Pages outside the navigation (login, errors).
    None,
}

/// Renders markup as an HTML response with the given status.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    (status, markup).into_response()
}

fn head(title: &str) -> Markup {
    html! {
        (DOCTYPE)
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · einvoice console" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// What the page frame shows of the logged-in user.
pub struct PageUser<'a> {
    /// The user's email, in the user menu.
    pub email: &'a str,
    /// The session's CSRF token, for the logout form.
    pub csrf: &'a str,
}

/// A full page for a logged-in user.
pub fn page(user: &PageUser<'_>, section: Section, title: &str, body: Markup) -> Markup {
    html! {
        html lang="en" {
            (head(title))
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/console/overview" { "einvoice" }
                    nav aria-label="Main" {
                        a href="/console/overview" aria-current=[(section == Section::Overview).then_some("page")] { "GSTIN overview" }
                    }
                    details.user-menu {
                        summary { span.user-name { (user.email) } }
                        div.menu {
                            a href="/console/settings/business" { "Settings" }
                            form method="post" action="/console/logout" {
                                (csrf_field(user.csrf))
                                button.link type="submit" { "Log out" }
                            }
                        }
                    }
                }
                main #main {
                    @if matches!(section, Section::Business | Section::Integrations) {
                        h1 { "Settings" }
                        nav.tabs aria-label="Settings" {
                            a href="/console/settings/business" aria-current=[(section == Section::Business).then_some("page")] { "Business Settings" }
                            a href="/console/settings/integrations" aria-current=[(section == Section::Integrations).then_some("page")] { "Integrations" }
                        }
                    }
                    (body)
                }
            }
        }
    }
}

/// A page for someone not logged in (login, errors).
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        html lang="en" {
            (head(title))
            body {
                header.topbar { a.brand href="/console/overview" { "einvoice" } }
                main #main.narrow { (body) }
            }
        }
    }
}

/// An error page a person can act on.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    respond(
        status,
        bare_page(
            title,
            html! {
                h1 { (title) }
                p.error role="alert" { (message) }
                p { a href="/console/overview" { "Back to the console" } }
            },
        ),
    )
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// The messages of `errors` that concern `field`, shown under it.
pub fn field_errors(errors: &[FieldError], field: &str, id: &str) -> Markup {
    let messages: Vec<&str> = errors
        .iter()
        .filter(|e| e.field.as_deref() == Some(field))
        .map(|e| e.message.as_str())
        .collect();
    html! {
        @if !messages.is_empty() {
            p.field-error id=(id) role="alert" {
                @for (i, m) in messages.iter().enumerate() {
                    @if i > 0 { br; }
                    (m)
                }
            }
        }
    }
}

/// The messages of `errors` that concern no field shown in the form.
pub fn general_errors(errors: &[FieldError], shown_fields: &[&str]) -> Markup {
    let messages: Vec<&str> = errors
        .iter()
        .filter(|e| {
            e.field
                .as_deref()
                .is_none_or(|f| !shown_fields.contains(&f))
        })
        .map(|e| e.message.as_str())
        .collect();
    html! {
        @if !messages.is_empty() {
            div.error role="alert" {
                @for m in &messages { p { (m) } }
            }
        }
    }
}

/// Whether `field` has an error (for `aria-invalid`).
pub fn has_error(errors: &[FieldError], field: &str) -> bool {
    errors.iter().any(|e| e.field.as_deref() == Some(field))
}

/// The plain-language label of a verification status (`None`: no credentials stored).
pub fn status_label(status: Option<VerificationStatus>) -> &'static str {
    match status {
        None => "Missing",
        Some(VerificationStatus::Verified) => "Verified",
        Some(VerificationStatus::WrongPassword) => "Wrong password",
        Some(VerificationStatus::UnknownUser) => "Unknown API user",
        Some(VerificationStatus::NotMappedToGsp) => "Not mapped to our GSP",
        Some(VerificationStatus::GstinNotEnabled) => "GSTIN not enabled",
        Some(VerificationStatus::UserFrozen) => "API user frozen",
        Some(VerificationStatus::Blocked) => "Blocked",
        Some(VerificationStatus::IrpUnavailable) => "IRP unavailable",
        Some(VerificationStatus::Unverified) => "Unverified",
    }
}

/// Whether a status needs someone's attention.
pub fn needs_attention(status: Option<VerificationStatus>) -> bool {
    status != Some(VerificationStatus::Verified)
}

/// A status badge.
pub fn status_badge(status: Option<VerificationStatus>) -> Markup {
    let class = match status {
        Some(VerificationStatus::Verified) => "badge ok",
        None | Some(VerificationStatus::Unverified) => "badge neutral",
        Some(VerificationStatus::IrpUnavailable) => "badge warn",
        Some(_) => "badge bad",
    };
    let code = status.map_or("MISSING", VerificationStatus::as_str);
    html! { span class=(class) data-status=(code) { (status_label(status)) } }
}

/// A time for people: `2026-11-22 10:04 UTC`.
pub fn human_time(at: Timestamp) -> String {
    let text = rfc3339(at);
    match (text.get(..10), text.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => text,
    }
}

/// A date for people: `2026-11-22`.
pub fn human_date(at: Timestamp) -> String {
    rfc3339(at).get(..10).unwrap_or_default().to_string()
}
