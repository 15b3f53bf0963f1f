//! The portal's flows as web pages under `/portal/ui/`, so that a person can rehearse the
//! whole journey offline: taxpayer registration, login, API Registration → Create API User
//! (through a GSP or direct), client credentials registration, user management, and the
//! outbox of "sent" OTPs. Each page calls the same handler as the JSON API, so the rules exist
//! once.

pub mod account;
pub mod api_users;
pub mod ewaybills;
pub mod layout;
pub mod registration;

use layout::{error_box, error_status, respond};

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use maud::html;
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::portal::{self, OutboxQuery};
use crate::state::Sandbox;

const STYLESHEET: &str = include_str!("../../assets/portal.css");

/// The page routes.
pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/portal/ui", get(home))
        .route("/portal/ui/", get(home))
        .route("/portal/ui/assets/portal.css", get(stylesheet))
        .route("/portal/ui/outbox", get(outbox))
        .route(
            "/portal/ui/register",
            get(registration::start).post(registration::send_otp),
        )
        .route("/portal/ui/register/verify", post(registration::verify_otp))
        .route(
            "/portal/ui/register/create",
            post(registration::create_user),
        )
        .route(
            "/portal/ui/clients/register",
            get(registration::client_start).post(registration::client_send_otp),
        )
        .route(
            "/portal/ui/clients/verify",
            post(registration::client_verify),
        )
        .route(
            "/portal/ui/login",
            get(account::login_form).post(account::login),
        )
        .route("/portal/ui/logout", post(account::logout))
        .route("/portal/ui/home", get(account::dashboard))
        .route(
            "/portal/ui/api-registration",
            get(api_users::api_registration),
        )
        .route("/portal/ui/api-users/send-otp", post(api_users::api_user_otp))
        .route("/portal/ui/api-users", post(api_users::create_api_user))
        .route("/portal/ui/users", get(api_users::users))
        .route("/portal/ui/ewaybills", get(ewaybills::ewaybills))
        .route("/portal/ui/users/{username}/freeze", post(api_users::freeze))
        .route(
            "/portal/ui/users/{username}/unfreeze",
            post(api_users::unfreeze),
        )
        .route(
            "/portal/ui/users/{username}/password/send-otp",
            post(api_users::password_otp),
        )
        .route(
            "/portal/ui/users/{username}/password",
            post(api_users::change_password),
        )
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
        .into_response()
}

async fn home() -> Response {
    respond(
        StatusCode::OK,
        "Home",
        html! {
            h1 { "e-Invoice System: sandbox portal" }
            p { "Rehearse the e-invoice portal's journeys offline. OTPs are not sent anywhere: read them in the " a href="/portal/ui/outbox" { "outbox" } "." }
            ul.choices {
                li { a href="/portal/ui/register" { "Registration" } ": create your e-invoice portal user for a GSTIN" }
                li { a href="/portal/ui/login" { "Login" } ", then API Registration → Create API User (through a GSP, or direct), and User Management" }
                li { a href="/portal/ui/clients/register" { "Client credentials registration" } " for a GSP, ERP, e-commerce operator or taxpayer" }
            }
        },
    )
}

/// `GET /portal/ui/outbox?mobile=`: the SMS and emails "sent".
async fn outbox(State(sandbox): State<Sandbox>, Query(query): Query<OutboxFilter>) -> Response {
    let mobile = query.mobile.clone().filter(|m| !m.trim().is_empty());
    let answer = portal::outbox(
        State(sandbox),
        Query(OutboxQuery {
            mobile: mobile.clone(),
        }),
    )
    .await;
    let messages = match answer {
        Ok(Json(value)) => value["messages"].as_array().cloned().unwrap_or_default(),
        Err(e) => return respond(error_status(&e), "Outbox", error_box(&e)),
    };
    respond(
        StatusCode::OK,
        "Outbox",
        html! {
            h1 { "Outbox" }
            form.inline method="get" action="/portal/ui/outbox" {
                label for="outbox-mobile" { "Mobile" }
                input #outbox-mobile type="text" name="mobile" value=(mobile.unwrap_or_default()) inputmode="numeric";
                button type="submit" { "Filter" }
            }
            @if messages.is_empty() { p { "No messages." } }
            @else {
                table #outbox {
                    thead { tr { th scope="col" { "To" } th scope="col" { "When" } th scope="col" { "Message" } } }
                    tbody {
                        @for m in &messages {
                            tr {
                                td { (m["mobile"].as_str().unwrap_or("")) br; (m["email"].as_str().unwrap_or("")) }
                                td { (m["at"].as_str().unwrap_or("")) }
                                td.message { (m["message"].as_str().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// The outbox filter.
#[derive(Deserialize)]
pub struct OutboxFilter {
    /// Only messages to this mobile.
    pub mobile: Option<String>,
}
