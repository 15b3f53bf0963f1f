//! Taxpayer registration on the portal (GSTIN and registered mobile, an OTP, then a user id
//! and password), login, and sub-users (at most 10, suffix at most 4 characters).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{check_password_rule, check_user_id, otp, portal_user, VerifyOtp};
use crate::error::PortalError;
use crate::state::{hash_secret, random_alnum, verify_secret, Sandbox};

const PORTAL_SESSION_MS: i64 = 30 * 60 * 1000;

/// Start registration.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRegistration {
    /// The GSTIN.
    pub gstin: String,
    /// Its registered mobile.
    pub mobile: String,
    /// Its registered email (checked when given).
    #[serde(default)]
    pub email: Option<String>,
}

/// Create the portal user after the OTP.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// The verified request.
    pub request_id: String,
    /// 6 to 15 letters and digits, unique.
    pub user_id: String,
    /// NIC's password rule (3003).
    pub password: String,
}

/// Log in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// The portal user id.
    pub user_id: String,
    /// Its password.
    pub password: String,
}

/// Create a sub-user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubUser {
    /// At most 4 characters (3010).
    pub suffix: String,
    /// NIC's password rule.
    pub password: String,
}

/// Step 1: shows the company details and sends an OTP to the registered mobile.
#[utoipa::path(post, path = "/portal/register/send-otp", tag = "portal", request_body = StartRegistration, responses((status = 200, description = "OTP sent")))]
pub async fn send_otp(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<StartRegistration>,
) -> Result<Json<Value>, PortalError> {
    let gstin = body.gstin.to_ascii_uppercase();
    let row: Option<(String, String, String, String)> =
        sqlx::query_as("SELECT legal_name, mobile, email, status FROM taxpayers WHERE gstin = $1")
            .bind(&gstin)
            .fetch_optional(&sandbox.pool)
            .await?;
    let Some((name, mobile, email, status)) = row else {
        return Err(PortalError::nic(
            irp_protocol::errors::GSTIN_NOT_PRESENT,
            &[&gstin],
        ));
    };
    if status != "ACT" {
        return Err(PortalError::nic(irp_protocol::errors::GSTIN_INACTIVE, &[]));
    }
    if mobile != body.mobile.trim() {
        return Err(PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "mobile_mismatch",
            "this is not the mobile registered for the GSTIN",
        ));
    }
    if body
        .email
        .as_deref()
        .is_some_and(|e| !e.trim().eq_ignore_ascii_case(&email))
    {
        return Err(PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email_mismatch",
            "this is not the email registered for the GSTIN",
        ));
    }
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM portal_users WHERE gstin = $1 AND parent_user_id IS NULL",
    )
    .bind(&gstin)
    .fetch_optional(&sandbox.pool)
    .await?;
    if exists.is_some() {
        return Err(PortalError::new(
            StatusCode::CONFLICT,
            "already_registered",
            "this GSTIN is already registered on the portal; log in instead",
        ));
    }
    let request_id = otp::send(
        &sandbox,
        "registration",
        &mobile,
        &email,
        &json!({"gstin": gstin}),
    )
    .await?;
    Ok(Json(
        json!({"request_id": request_id, "legal_name": name, "message": "OTP sent to the registered mobile"}),
    ))
}

/// Step 2: verifies the OTP.
#[utoipa::path(post, path = "/portal/register/verify-otp", tag = "portal", request_body = VerifyOtp, responses((status = 200, description = "Verified")))]
pub async fn verify_otp(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<VerifyOtp>,
) -> Result<Json<Value>, PortalError> {
    let context = otp::verify(&sandbox, &body.request_id, "registration", &body.otp).await?;
    Ok(Json(
        json!({"request_id": body.request_id, "gstin": context["gstin"], "verified": true}),
    ))
}

/// Step 3: creates the portal user id and password.
#[utoipa::path(post, path = "/portal/register/create-user", tag = "portal", request_body = CreateUser, responses((status = 200, description = "User created")))]
pub async fn create_user(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<CreateUser>,
) -> Result<Json<Value>, PortalError> {
    let row: Option<(String, bool)> = sqlx::query_as(
        "SELECT context, verified FROM otps WHERE request_id = $1 AND purpose = 'registration'",
    )
    .bind(&body.request_id)
    .fetch_optional(&sandbox.pool)
    .await?;
    let Some((context, true)) = row else {
        return Err(PortalError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "otp_not_verified",
            "verify the OTP first",
        ));
    };
    let gstin = serde_json::from_str::<Value>(&context)
        .ok()
        .and_then(|c| c["gstin"].as_str().map(str::to_string))
        .unwrap_or_default();
    check_user_id(&body.user_id)?;
    check_password_rule(&body.password)?;
    let done = sqlx::query("INSERT OR IGNORE INTO portal_users (user_id, gstin, password_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&body.user_id)
        .bind(&gstin)
        .bind(hash_secret(&body.password))
        .bind(sandbox.clock.now_ms())
        .execute(&sandbox.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(PortalError::new(
            StatusCode::CONFLICT,
            "user_id_taken",
            "this user id is taken; choose another",
        ));
    }
    sqlx::query("DELETE FROM otps WHERE request_id = $1")
        .bind(&body.request_id)
        .execute(&sandbox.pool)
        .await?;
    Ok(Json(
        json!({"user_id": body.user_id, "gstin": gstin, "message": "Your e-invoice portal user is created"}),
    ))
}

/// Logs in; returns a bearer token for the portal.
#[utoipa::path(post, path = "/portal/login", tag = "portal", request_body = Login, responses((status = 200, description = "Logged in")))]
pub async fn login(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<Login>,
) -> Result<Json<Value>, PortalError> {
    let row: Option<(String, String, String)> =
        sqlx::query_as("SELECT user_id, gstin, password_hash FROM portal_users WHERE user_id = $1")
            .bind(&body.user_id)
            .fetch_optional(&sandbox.pool)
            .await?;
    let Some((user_id, gstin, hash)) =
        row.filter(|(_, _, hash)| verify_secret(&body.password, hash))
    else {
        return Err(PortalError::new(
            StatusCode::UNAUTHORIZED,
            "1008",
            "Invalid login credentials",
        ));
    };
    let _ = hash;
    let token = random_alnum(32);
    sqlx::query(
        "INSERT INTO portal_sessions (token, user_id, gstin, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&token)
    .bind(&user_id)
    .bind(&gstin)
    .bind(sandbox.clock.now_ms() + PORTAL_SESSION_MS)
    .execute(&sandbox.pool)
    .await?;
    Ok(Json(
        json!({"token": token, "user_id": user_id, "gstin": gstin}),
    ))
}

/// Creates a sub-user `<user>_<suffix>` (3010 for a long suffix, 3007 past ten).
#[utoipa::path(post, path = "/portal/sub-users", tag = "portal", request_body = SubUser, responses((status = 200, description = "Sub-user created")))]
pub async fn create_sub_user(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    crate::json::PortalJson(body): crate::json::PortalJson<SubUser>,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(&sandbox, &headers).await?;
    if body.suffix.is_empty()
        || body.suffix.chars().count() > 4
        || !body.suffix.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(PortalError::nic(irp_protocol::errors::SUB_USER_SUFFIX, &[]));
    }
    check_password_rule(&body.password)?;
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM portal_users WHERE gstin = $1 AND parent_user_id IS NOT NULL",
    )
    .bind(&user.gstin)
    .fetch_one(&sandbox.pool)
    .await?;
    if count >= 10 {
        return Err(PortalError::nic(irp_protocol::errors::SUB_USER_LIMIT, &[]));
    }
    let user_id = format!("{}_{}", user.user_id, body.suffix);
    let done = sqlx::query("INSERT OR IGNORE INTO portal_users (user_id, gstin, parent_user_id, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&user_id)
        .bind(&user.gstin)
        .bind(&user.user_id)
        .bind(hash_secret(&body.password))
        .bind(sandbox.clock.now_ms())
        .execute(&sandbox.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(PortalError::new(
            StatusCode::CONFLICT,
            "user_id_taken",
            "this sub-user exists",
        ));
    }
    Ok(Json(json!({"user_id": user_id})))
}
