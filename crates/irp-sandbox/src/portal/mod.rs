//! The e-invoice portal's flows as a JSON API under `/portal/`: client registration (GSP,
//! ERP, ECO, taxpayer), dummy GSTINs, taxpayer registration, login, API user creation
//! through a GSP or direct, user management, and the outbox of "sent" OTP messages.

pub mod api_users;
pub mod clients;
pub mod ewaybills;
pub mod otp;
pub mod taxpayers;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa::ToSchema;

use crate::error::PortalError;
use crate::state::Sandbox;

/// A logged-in portal user.
pub struct PortalUser {
    /// The user id.
    pub user_id: String,
    /// The GSTIN it belongs to.
    pub gstin: String,
}

/// Resolves `Authorization: Bearer <token>` to a portal user (401 otherwise).
pub async fn portal_user(
    sandbox: &Sandbox,
    headers: &HeaderMap,
) -> Result<PortalUser, PortalError> {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            PortalError::new(
                StatusCode::UNAUTHORIZED,
                "login_required",
                "log in first (POST /portal/login)",
            )
        })?;
    let row: Option<(String, String, i64)> =
        sqlx::query_as("SELECT user_id, gstin, expires_at FROM portal_sessions WHERE token = $1")
            .bind(token.trim())
            .fetch_optional(&sandbox.pool)
            .await?;
    match row {
        Some((user_id, gstin, expires_at)) if expires_at > sandbox.clock.now_ms() => {
            Ok(PortalUser { user_id, gstin })
        }
        _ => Err(PortalError::new(
            StatusCode::UNAUTHORIZED,
            "session_expired",
            "the portal session expired; log in again",
        )),
    }
}

/// NIC's password rule (3003): 8 to 15 characters with an upper-case letter, a lower-case
/// letter, a digit and one of `%$#@_!*`.
pub fn check_password_rule(password: &str) -> Result<(), PortalError> {
    let len = password.chars().count();
    let ok = (8..=15).contains(&len)
        && password.chars().any(|c| c.is_ascii_uppercase())
        && password.chars().any(|c| c.is_ascii_lowercase())
        && password.chars().any(|c| c.is_ascii_digit())
        && password.chars().any(|c| "%$#@_!*".contains(c));
    if ok {
        Ok(())
    } else {
        Err(PortalError::nic(irp_protocol::errors::PASSWORD_RULES, &[]))
    }
}

/// A user id or API username: 6 to 15 letters and digits.
pub fn check_user_id(user_id: &str) -> Result<(), PortalError> {
    let len = user_id.chars().count();
    if (6..=15).contains(&len) && user_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_user_id",
            "a user id has 6 to 15 letters and digits",
        ))
    }
}

/// `GET /portal/outbox?mobile=` query.
#[derive(Deserialize, IntoParams)]
pub struct OutboxQuery {
    /// Only messages to this mobile.
    pub mobile: Option<String>,
}

/// The SMS and emails the sandbox "sent", newest first.
#[utoipa::path(get, path = "/portal/outbox", tag = "portal", params(OutboxQuery), responses((status = 200, description = "Messages")))]
pub async fn outbox(
    State(sandbox): State<Sandbox>,
    Query(query): Query<OutboxQuery>,
) -> Result<Json<Value>, PortalError> {
    let rows: Vec<(String, String, String, i64)> = match &query.mobile {
        Some(m) => sqlx::query_as("SELECT mobile, email, message, at FROM outbox WHERE mobile = $1 ORDER BY id DESC LIMIT 100").bind(m).fetch_all(&sandbox.pool).await?,
        None => sqlx::query_as("SELECT mobile, email, message, at FROM outbox ORDER BY id DESC LIMIT 100").fetch_all(&sandbox.pool).await?,
    };
    let messages: Vec<Value> = rows
        .into_iter()
        .map(|(mobile, email, message, at)| json!({"mobile": mobile, "email": email, "message": message, "at": crate::clock::nic_datetime(at)}))
        .collect();
    Ok(Json(json!({"messages": messages})))
}

/// An OTP to verify.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyOtp {
    /// From the step that sent the OTP.
    pub request_id: String,
    /// The six digits.
    pub otp: String,
}

/// The rules for a new API user's id and password.
pub fn check_new_user(username: &str, password: &str) -> Result<(), PortalError> {
    check_user_id(username)?;
    check_password_rule(password)
}
