//! The taxpayer's portal login: the login page and cookie, logout, the dashboard, and the
//! menu every logged-in page shows.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::{cookie, error_box, error_status, respond, PORTAL_COOKIE};
use crate::json::PortalJson;
use crate::portal::taxpayers::{self, Login};
use crate::portal::{portal_user, PortalUser};
use crate::state::Sandbox;

/// The portal login cookie: `HttpOnly`, `SameSite=Strict`, scoped to the pages.
fn portal_cookie(value: &str, max_age_secs: i64) -> String {
    axum_extra::extract::cookie::Cookie::build((PORTAL_COOKIE, value.to_string()))
        .path("/portal/ui")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
        .to_string()
}

/// The headers the JSON handlers expect from a logged-in user.
fn bearer(headers: &HeaderMap) -> Option<HeaderMap> {
    let token = cookie(headers, PORTAL_COOKIE)?;
    let mut out = HeaderMap::new();
    out.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).ok()?,
    );
    Some(out)
}

/// The logged-in user and the headers to act as them, or a redirect to the login page.
pub(super) async fn logged_in(
    sandbox: &Sandbox,
    headers: &HeaderMap,
) -> Result<(PortalUser, HeaderMap), Response> {
    let Some(auth) = bearer(headers) else {
        return Err(Redirect::to("/portal/ui/login").into_response());
    };
    match portal_user(sandbox, &auth).await {
        Ok(user) => Ok((user, auth)),
        Err(_) => Err(Redirect::to("/portal/ui/login").into_response()),
    }
}

fn login_page(user_id: &str, error: Option<Markup>) -> Markup {
    html! {
        h1 { "Login" }
        @if let Some(e) = error { (e) }
        form.card method="post" action="/portal/ui/login" {
            label for="login-user" { "User id" }
            input #login-user type="text" name="user_id" value=(user_id) required autocomplete="username";
            label for="login-password" { "Password" }
            input #login-password type="password" name="password" required autocomplete="current-password";
            button #login type="submit" { "Login" }
        }
        p { "No user yet? " a href="/portal/ui/register" { "Register" } "." }
    }
}

/// `GET /portal/ui/login`.
pub async fn login_form() -> Response {
    respond(StatusCode::OK, "Login", login_page("", None))
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    password: String,
}

/// `POST /portal/ui/login`: the portal session token goes into an `HttpOnly` cookie.
pub async fn login(State(sandbox): State<Sandbox>, Form(form): Form<LoginForm>) -> Response {
    let answer = taxpayers::login(
        State(sandbox),
        PortalJson(Login {
            user_id: form.user_id.trim().to_string(),
            password: form.password,
        }),
    )
    .await;
    match answer {
        Ok(Json(value)) => {
            let token = value["token"].as_str().unwrap_or("");
            let mut response = Redirect::to("/portal/ui/home").into_response();
            if let Ok(cookie) = HeaderValue::from_str(&portal_cookie(token, 1800)) {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(e) => respond(
            error_status(&e),
            "Login",
            login_page(&form.user_id, Some(error_box(&e))),
        ),
    }
}

/// `POST /portal/ui/logout`.
pub async fn logout() -> Response {
    let mut response = Redirect::to("/portal/ui/login").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&portal_cookie("", 0)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub(super) fn menu(user: &PortalUser) -> Markup {
    html! {
        nav.menu aria-label="Account" {
            span { "Logged in as " strong { (user.user_id) } " · GSTIN " strong #current-gstin { (user.gstin) } }
            a href="/portal/ui/home" { "Dashboard" }
            a href="/portal/ui/api-registration" { "API Registration" }
            a href="/portal/ui/users" { "User Management" }
            a href="/portal/ui/ewaybills" { "E-way bills" }
            form.inline method="post" action="/portal/ui/logout" { button.link type="submit" { "Logout" } }
        }
    }
}

/// `GET /portal/ui/home`.
pub async fn dashboard(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let (user, _) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    respond(
        StatusCode::OK,
        "Dashboard",
        html! {
            (menu(&user))
            h1 { "Dashboard" }
            ul.choices {
                li { a href="/portal/ui/api-registration" { "API Registration → Create API User" } }
                li { a href="/portal/ui/users" { "User Management" } ": change an API user's password, freeze or unfreeze it" }
            }
        },
    )
}
