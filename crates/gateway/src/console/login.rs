//! Logging in to the console with email and password (Argon2id, throttled like the API's
//! token login, through the same service function) and logging out.

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use secrecy::SecretString;
use serde::Deserialize;

use super::layout::{bare_page, csrf_field, respond};
use super::session::{self, ConsoleRejection, ConsoleSession, CsrfForm, LOGIN_COOKIE};
use crate::service::{auth, ServiceError};
use crate::state::AppState;

/// Why the login page is shown.
#[derive(Deserialize)]
pub struct LoginQuery {
    /// Set when a session expired.
    pub expired: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: SecretString,
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    message: Option<&str>,
) -> Response {
    let (new_cookie, csrf) = session::login_csrf(state, headers);
    let markup = bare_page(
        "Log in",
        html! {
            h1 { "Log in to the console" }
            @if let Some(message) = message {
                p.error role="alert" { (message) }
            }
            form.card method="post" action="/console/login" {
                (csrf_field(&csrf))
                label for="email" { "Email" }
                input #email type="email" name="email" value=(email) autocomplete="username" required autofocus;
                label for="password" { "Password" }
                input #password type="password" name="password" autocomplete="current-password" required;
                button type="submit" { "Log in" }
            }
        },
    );
    let mut response = respond(status, markup);
    if let Some(value) = new_cookie {
        response.headers_mut().append(
            header::SET_COOKIE,
            session::set_cookie(state, headers, LOGIN_COOKIE, &value, 3600),
        );
    }
    response
}

/// `GET /console/login`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    if let Ok(Some(_)) = session::current(&state, &headers).await {
        return Redirect::to("/console/overview").into_response();
    }
    let message = query.expired.map(|_| "Your session ended; log in again.");
    login_page(&state, &headers, StatusCode::OK, "", message)
}

/// `POST /console/login`.
pub async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let client =
        crate::http::extract::client_address(&state, request.headers(), request.extensions());
    let (form, posted_csrf) = match session::read_form::<LoginForm>(request, &state).await {
        Ok(read) => read,
        Err(rejection) => return rejection.into_response(),
    };
    let expected = session::cookie(&headers, LOGIN_COOKIE)
        .map(|value| session::csrf_token(state.csrf_key.as_slice(), &value));
    if !expected
        .as_deref()
        .is_some_and(|e| session::csrf_matches(posted_csrf.as_deref(), e))
    {
        return ConsoleRejection::Forgery.into_response();
    }
    let user = match auth::check_login(&state, &form.email, &form.password, &client).await {
        Ok(user) => user,
        Err(ServiceError::Throttled { error, .. }) => {
            return login_page(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                &form.email,
                Some(&error.message),
            )
        }
        Err(ServiceError::Unauthenticated(_)) => {
            return login_page(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                &form.email,
                Some("The email or password is wrong."),
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "console login failed");
            return ConsoleRejection::Internal.into_response();
        }
    };
    let value = match session::start(&state, &user).await {
        Ok(value) => value,
        Err(e) => {
            tracing::error!(error = %e, "console session could not be started");
            return ConsoleRejection::Internal.into_response();
        }
    };
    let mut response = Redirect::to("/console/overview").into_response();
    let cookies = response.headers_mut();
    cookies.append(
        header::SET_COOKIE,
        session::session_cookie(&state, &headers, &value),
    );
    cookies.append(
        header::SET_COOKIE,
        session::set_cookie(&state, &headers, LOGIN_COOKIE, "", 0),
    );
    response
}

/// The logout form has nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// `POST /console/logout`.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    CsrfForm { session, .. }: CsrfForm<Empty>,
) -> Response {
    if let Err(e) = session::end(&state, &session).await {
        tracing::error!(error = %e, "console logout failed");
        return ConsoleRejection::Internal.into_response();
    }
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(&state, &headers, session::SESSION_COOKIE, "", 0),
    );
    response
}

/// `GET /console`: the overview, or the login page.
pub async fn home(session: Result<ConsoleSession, ConsoleRejection>) -> Redirect {
    match session {
        Ok(_) => Redirect::to("/console/overview"),
        Err(_) => Redirect::to("/console/login"),
    }
}
