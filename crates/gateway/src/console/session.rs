//! Console logins and request forgery protection: the session cookie (only its SHA-256 is
//! stored), idle and absolute expiry, and the CSRF token every form carries.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::config::Mode;
use crate::service::{Actor, ServiceError};
use crate::state::AppState;
use crate::storage::{UserRecord, WebSessionRecord};

/// The cookie that carries a console login.
pub const SESSION_COOKIE: &str = "einvoice_session";
/// The cookie that binds the login form's CSRF token before anyone is logged in.
pub const LOGIN_COOKIE: &str = "einvoice_login";
/// A session ends this long after login, however active.
pub const ABSOLUTE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT_MS: i64 = 30 * 60 * 1000;
/// Activity is written at most this often.
const TOUCH_INTERVAL_MS: i64 = 60 * 1000;

/// A logged-in console user.
#[derive(Clone)]
pub struct ConsoleSession {
    /// The session row.
    pub record: WebSessionRecord,
    /// The CSRF token of this session's forms.
    pub csrf: String,
}

impl ConsoleSession {
    /// What the page frame shows of this session's user.
    pub fn page_user(&self) -> super::layout::PageUser<'_> {
        super::layout::PageUser {
            email: &self.record.email,
            csrf: &self.csrf,
        }
    }

    /// Who acts: the account, with the session id recorded as the actor of what it changes.
    pub fn actor(&self) -> Actor {
        Actor {
            account_id: self.record.account_id,
            token_id: Some(self.record.id),
        }
    }
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

/// The CSRF token of a cookie value: an HMAC-SHA256 under a key derived from the master key
/// (the same on every replica, never sent anywhere). The cookie is `HttpOnly` and
/// `SameSite=Strict`, so another site can neither read it nor, without the key, compute this
/// from a cookie it planted.
pub fn csrf_token(key: &[u8], cookie_value: &str) -> String {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(b"einvoice-csrf|");
    mac.update(cookie_value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Reads one cookie from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
}

/// Whether cookies must be `Secure`: in production mode, and whenever a proxy says the client
/// came over HTTPS.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.settings.mode == Mode::Production
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, scoped to the console.
pub fn set_cookie(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    max_age_secs: i64,
) -> HeaderValue {
    let cookie = Cookie::build((name.to_string(), value.to_string()))
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(max_age_secs))
        .secure(secure(state, headers))
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The login form's anti-forgery pair: the cookie value to set (if none yet) and the token.
pub fn login_csrf(state: &AppState, headers: &HeaderMap) -> (Option<String>, String) {
    match cookie(headers, LOGIN_COOKIE).filter(|v| v.len() >= 32) {
        Some(value) => (None, csrf_token(state.csrf_key.as_slice(), &value)),
        None => {
            let value = random_secret();
            let token = csrf_token(state.csrf_key.as_slice(), &value);
            (Some(value), token)
        }
    }
}

/// Starts a session for a user who just proved their password; returns the cookie value.
pub async fn start(state: &AppState, user: &UserRecord) -> Result<SecretString, ServiceError> {
    let value = random_secret();
    let now = state.now();
    let record = WebSessionRecord {
        id: Uuid::new_v4(),
        account_id: user.account_id,
        user_id: user.id,
        email: user.email.clone(),
        secret_hash: hash(&value),
        created_at: now,
        last_seen_at: now,
        expires_at: now + ABSOLUTE_LIFETIME_MS,
        ended_at: None,
    };
    state.store.insert_web_session(&record).await?;
    tracing::info!(session_id = %record.id, user_id = %user.id, "console login");
    Ok(SecretString::from(value))
}

/// Ends the session (logout).
pub async fn end(state: &AppState, session: &ConsoleSession) -> Result<(), ServiceError> {
    state
        .store
        .end_web_session(session.record.id, state.now())
        .await?;
    tracing::info!(session_id = %session.record.id, "console logout");
    Ok(())
}

/// Resolves the session cookie to a live session, or `None`.
pub async fn current(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<ConsoleSession>, ServiceError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let digest = hash(&value);
    let Some(record) = state.store.find_web_session(&digest).await? else {
        return Ok(None);
    };
    let now = state.now();
    let live = record.ended_at.is_none()
        && record.expires_at > now
        && now - record.last_seen_at < IDLE_TIMEOUT_MS
        && bool::from(record.secret_hash.ct_eq(&digest));
    if !live {
        return Ok(None);
    }
    if now - record.last_seen_at >= TOUCH_INTERVAL_MS {
        state.store.touch_web_session(record.id, now).await?;
    }
    Ok(Some(ConsoleSession {
        csrf: csrf_token(state.csrf_key.as_slice(), &value),
        record,
    }))
}

/// Why a console request was refused before its handler ran.
pub enum ConsoleRejection {
    /// Not logged in (or the session expired): go to the login page.
    Login,
    /// The form's CSRF token is missing or wrong.
    Forgery,
    /// The form could not be read.
    BadForm(String),
    /// A fault of ours.
    Internal,
}

impl IntoResponse for ConsoleRejection {
    fn into_response(self) -> Response {
        match self {
            ConsoleRejection::Login => Redirect::to("/console/login?expired=1").into_response(),
            ConsoleRejection::Forgery => super::layout::error_page(
                StatusCode::FORBIDDEN,
                "This form could not be accepted",
                "It did not carry this session's security token (it may be from another site, or from before you logged in again). Go back, reload the page and try again.",
            ),
            ConsoleRejection::BadForm(message) => super::layout::error_page(
                StatusCode::BAD_REQUEST,
                "This form could not be read",
                &message,
            ),
            ConsoleRejection::Internal => super::layout::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The request could not be completed. Try again in a moment.",
            ),
        }
    }
}

/// The layer of the console's logged-in group: resolves the session cookie before any handler
/// of the group runs, and hands the session to it; anyone else goes to the login page.
pub async fn require_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match current(&state, request.headers()).await {
        Ok(Some(session)) => {
            request.extensions_mut().insert(session);
            next.run(request).await
        }
        Ok(None) => ConsoleRejection::Login.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console session lookup failed");
            ConsoleRejection::Internal.into_response()
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ConsoleSession {
    type Rejection = ConsoleRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<ConsoleSession>()
            .cloned()
            .ok_or_else(|| {
                // Only a page placed outside the logged-in group gets here: a fault of ours.
                tracing::error!(
                    "a console page that needs a session is not behind the session layer"
                );
                ConsoleRejection::Internal
            })
    }
}

#[derive(Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// A form with nothing but its CSRF token (Verify, Revoke, Delete, Send again, …).
#[derive(serde::Deserialize)]
pub struct TokenOnlyForm {}

/// A URL-encoded form posted by a logged-in user, accepted only with the session's CSRF token
/// in its `csrf` field.
pub struct CsrfForm<T> {
    /// The session that posted it.
    pub session: ConsoleSession,
    /// The form's fields.
    pub form: T,
}

/// Checks a posted token against the expected one, in constant time.
pub fn csrf_matches(posted: Option<&str>, expected: &str) -> bool {
    posted.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())))
}

/// Reads a URL-encoded body and the CSRF field in it.
pub async fn read_form<T: DeserializeOwned>(
    request: Request,
    state: &AppState,
) -> Result<(T, Option<String>), ConsoleRejection> {
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(ConsoleRejection::BadForm(
            "send the form as application/x-www-form-urlencoded".into(),
        ));
    }
    let bytes = Bytes::from_request(request, state)
        .await
        .map_err(|_| ConsoleRejection::BadForm("the form is too large or unreadable".into()))?;
    if let Ok(pairs) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes) {
        if let Some((name, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(ConsoleRejection::BadForm(format!(
                "{name}: text must not contain a NUL character"
            )));
        }
    }
    let csrf = serde_urlencoded::from_bytes::<CsrfField>(&bytes)
        .ok()
        .and_then(|f| f.csrf);
    let form = serde_urlencoded::from_bytes::<T>(&bytes)
        .map_err(|e| ConsoleRejection::BadForm(format!("the form is incomplete: {e}")))?;
    Ok((form, csrf))
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = ConsoleRejection;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = request.into_parts();
        let session = ConsoleSession::from_request_parts(&mut parts, state).await?;
        let (form, csrf) = read_form::<T>(Request::from_parts(parts, body), state).await?;
        if !csrf_matches(csrf.as_deref(), &session.csrf) {
            tracing::warn!(session_id = %session.record.id, "console form without a valid CSRF token refused");
            return Err(ConsoleRejection::Forgery);
        }
        Ok(CsrfForm { session, form })
    }
}

/// The cookie value of a new session, for `Set-Cookie`.
pub fn session_cookie(state: &AppState, headers: &HeaderMap, value: &SecretString) -> HeaderValue {
    set_cookie(
        state,
        headers,
        SESSION_COOKIE,
        value.expose_secret(),
        ABSOLUTE_LIFETIME_MS / 1000,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; einvoice_session=abc; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn csrf_tokens_depend_on_the_cookie_and_compare_exactly() {
        let a = csrf_token(b"key", "one");
        assert_ne!(a, csrf_token(b"key", "two"));
        assert_ne!(
            a,
            csrf_token(b"other key", "one"),
            "keyed by the server's secret"
        );
        assert!(csrf_matches(Some(&a), &a));
        assert!(!csrf_matches(Some(&a[1..]), &a));
        assert!(!csrf_matches(None, &a));
    }
}
