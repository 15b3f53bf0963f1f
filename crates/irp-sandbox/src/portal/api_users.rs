//! API users: created by a logged-in taxpayer after an OTP, "through GSP" (mapped to that
//! GSP's client) or "direct" (mapped to the taxpayer's own client for its PAN); password
//! change with an OTP; freeze, unfreeze and block.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::{check_new_user, check_password_rule, otp, portal_user};
use crate::error::PortalError;
use crate::state::{hash_secret, random_alnum, Sandbox};

/// Create an API user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiUser {
    /// From `send-otp`.
    pub request_id: String,
    /// The six digits.
    pub otp: String,
    /// `GSP` (through a GSP) or `DIRECT`.
    pub mode: String,
    /// The GSP's client id, for `GSP`.
    pub gsp_client_id: Option<String>,
    /// 6 to 15 letters and digits.
    pub username: String,
    /// NIC's password rule (3003).
    pub password: String,
}

/// Change an API user's password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// From the password OTP step.
    pub request_id: String,
    /// The six digits.
    pub otp: String,
    /// NIC's password rule (3003).
    pub new_password: String,
}

/// Inserts an API user, enforcing the username and password rules and one user per GSTIN and
/// client.
pub async fn insert_api_user(
    sandbox: &Sandbox,
    gstin: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<Value, PortalError> {
    check_new_user(username, password)?;
    let same_client: Option<String> =
        sqlx::query_scalar("SELECT username FROM api_users WHERE gstin = $1 AND client_id = $2")
            .bind(gstin)
            .bind(client_id)
            .fetch_optional(&sandbox.pool)
            .await?;
    if same_client.is_some() {
        return Err(PortalError::new(
            StatusCode::CONFLICT,
            "api_user_exists",
            "this GSTIN already has an API user for this client",
        ));
    }
    let ack_no = format!("ACK{}", random_alnum(12).to_ascii_uppercase());
    let done = sqlx::query("INSERT OR IGNORE INTO api_users (username, gstin, client_id, password_hash, status, ack_no, created_at) VALUES ($1, $2, $3, $4, 'ACTIVE', $5, $6)")
        .bind(username)
        .bind(gstin)
        .bind(client_id)
        .bind(hash_secret(password))
        .bind(&ack_no)
        .bind(sandbox.clock.now_ms())
        .execute(&sandbox.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(PortalError::new(
            StatusCode::CONFLICT,
            "username_taken",
            "this API username is taken; choose another",
        ));
    }
    Ok(
        json!({"ack_no": ack_no, "username": username, "gstin": gstin, "client_id": client_id, "message": "API user created"}),
    )
}

/// Sends the OTP that confirms API user creation.
#[utoipa::path(post, path = "/portal/api-users/send-otp", tag = "portal", responses((status = 200, description = "OTP sent")))]
pub async fn send_otp(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(&sandbox, &headers).await?;
    let (mobile, email): (String, String) =
        sqlx::query_as("SELECT mobile, email FROM taxpayers WHERE gstin = $1")
            .bind(&user.gstin)
            .fetch_one(&sandbox.pool)
            .await?;
    let request_id = otp::send(
        &sandbox,
        "API user creation",
        &mobile,
        &email,
        &json!({"gstin": user.gstin}),
    )
    .await?;
    Ok(Json(
        json!({"request_id": request_id, "message": "OTP sent to the registered mobile"}),
    ))
}

/// Creates the API user, through a GSP or direct.
#[utoipa::path(post, path = "/portal/api-users", tag = "portal", request_body = CreateApiUser, responses((status = 200, description = "API user created")))]
pub async fn create(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    crate::json::PortalJson(body): crate::json::PortalJson<CreateApiUser>,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(&sandbox, &headers).await?;
    let context = otp::verify(&sandbox, &body.request_id, "API user creation", &body.otp).await?;
    if context["gstin"].as_str() != Some(user.gstin.as_str()) {
        return Err(PortalError::new(
            StatusCode::FORBIDDEN,
            "otp_other_gstin",
            "this OTP was sent for another GSTIN",
        ));
    }
    let client_id = match body.mode.to_ascii_uppercase().as_str() {
        "GSP" => {
            let id = body.gsp_client_id.clone().unwrap_or_default();
            let is_gsp: Option<String> = sqlx::query_scalar(
                "SELECT client_id FROM clients WHERE client_id = $1 AND kind = 'GSP'",
            )
            .bind(&id)
            .fetch_optional(&sandbox.pool)
            .await?;
            is_gsp.ok_or_else(|| {
                PortalError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown_gsp",
                    "choose a GSP from GET /portal/gsps",
                )
            })?
        }
        "DIRECT" => {
            let pan = user.gstin.get(2..12).unwrap_or("");
            let own: Option<String> = sqlx::query_scalar("SELECT client_id FROM clients WHERE pan = $1 AND kind IN ('TAXPAYER', 'ERP') ORDER BY created_at LIMIT 1")
                .bind(pan)
                .fetch_optional(&sandbox.pool)
                .await?;
            own.ok_or_else(|| PortalError::nic(irp_protocol::errors::CLIENT_NOT_WHITELISTED, &[]))?
        }
        _ => {
            return Err(PortalError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_mode",
                "mode must be GSP or DIRECT",
            ))
        }
    };
    insert_api_user(
        &sandbox,
        &user.gstin,
        &client_id,
        &body.username,
        &body.password,
    )
    .await
    .map(Json)
}

/// The GSTIN's API users.
#[utoipa::path(get, path = "/portal/api-users", tag = "portal", responses((status = 200, description = "API users")))]
pub async fn list(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(&sandbox, &headers).await?;
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT a.username, a.client_id, COALESCE(c.name, ''), a.status FROM api_users a LEFT JOIN clients c ON c.client_id = a.client_id WHERE a.gstin = $1 ORDER BY a.created_at",
    )
    .bind(&user.gstin)
    .fetch_all(&sandbox.pool)
    .await?;
    let users: Vec<Value> = rows
        .into_iter()
        .map(|(u, c, n, s)| json!({"username": u, "client_id": c, "client_name": n, "status": s}))
        .collect();
    Ok(Json(json!({"gstin": user.gstin, "api_users": users})))
}

async fn own_api_user(sandbox: &Sandbox, gstin: &str, username: &str) -> Result<(), PortalError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT username FROM api_users WHERE username = $1 AND gstin = $2")
            .bind(username)
            .bind(gstin)
            .fetch_optional(&sandbox.pool)
            .await?;
    found.map(|_| ()).ok_or_else(|| {
        PortalError::new(
            StatusCode::NOT_FOUND,
            "1017",
            "no such API user for your GSTIN",
        )
    })
}

/// Sends the OTP that confirms a password change.
#[utoipa::path(post, path = "/portal/api-users/{username}/password/send-otp", tag = "portal", params(("username" = String, Path)), responses((status = 200, description = "OTP sent")))]
pub async fn password_otp(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(&sandbox, &headers).await?;
    own_api_user(&sandbox, &user.gstin, &username).await?;
    let (mobile, email): (String, String) =
        sqlx::query_as("SELECT mobile, email FROM taxpayers WHERE gstin = $1")
            .bind(&user.gstin)
            .fetch_one(&sandbox.pool)
            .await?;
    let request_id = otp::send(
        &sandbox,
        "password change",
        &mobile,
        &email,
        &json!({"username": username}),
    )
    .await?;
    Ok(Json(json!({"request_id": request_id})))
}

/// Changes an API user's password.
#[utoipa::path(post, path = "/portal/api-users/{username}/password", tag = "portal", params(("username" = String, Path)), request_body = ChangePassword, responses((status = 200, description = "Changed")))]
pub async fn change_password(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
    crate::json::PortalJson(body): crate::json::PortalJson<ChangePassword>,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(&sandbox, &headers).await?;
    own_api_user(&sandbox, &user.gstin, &username).await?;
    let context = otp::verify(&sandbox, &body.request_id, "password change", &body.otp).await?;
    if !context["username"]
        .as_str()
        .is_some_and(|u| u.eq_ignore_ascii_case(&username))
    {
        return Err(PortalError::new(
            StatusCode::FORBIDDEN,
            "otp_other_user",
            "this OTP was sent for another user",
        ));
    }
    check_password_rule(&body.new_password)?;
    sqlx::query("UPDATE api_users SET password_hash = $1 WHERE username = $2")
        .bind(hash_secret(&body.new_password))
        .bind(&username)
        .execute(&sandbox.pool)
        .await?;
    sandbox.end_sessions(None, Some(&username)).await?;
    Ok(Json(
        json!({"username": username, "message": "password changed"}),
    ))
}

async fn set_status(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    username: &str,
    status: &str,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(sandbox, headers).await?;
    own_api_user(sandbox, &user.gstin, username).await?;
    let current: String = sqlx::query_scalar("SELECT status FROM api_users WHERE username = $1")
        .bind(username)
        .fetch_one(&sandbox.pool)
        .await?;
    if current == "BLOCKED" {
        return Err(PortalError::new(
            StatusCode::CONFLICT,
            "blocked",
            "a blocked API user cannot be changed",
        ));
    }
    sqlx::query("UPDATE api_users SET status = $1 WHERE username = $2")
        .bind(status)
        .bind(username)
        .execute(&sandbox.pool)
        .await?;
    if status != "ACTIVE" {
        sandbox.end_sessions(None, Some(username)).await?;
    }
    Ok(Json(json!({"username": username, "status": status})))
}

/// Freezes an API user (its sessions end; auth answers 3025 until it is unfrozen).
#[utoipa::path(post, path = "/portal/api-users/{username}/freeze", tag = "portal", params(("username" = String, Path)), responses((status = 200, description = "Frozen")))]
pub async fn freeze(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Json<Value>, PortalError> {
    set_status(&sandbox, &headers, &username, "FROZEN").await
}

/// Unfreezes an API user.
#[utoipa::path(post, path = "/portal/api-users/{username}/unfreeze", tag = "portal", params(("username" = String, Path)), responses((status = 200, description = "Active")))]
pub async fn unfreeze(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Json<Value>, PortalError> {
    set_status(&sandbox, &headers, &username, "ACTIVE").await
}

/// Blocks an API user for good (auth answers 3034).
#[utoipa::path(post, path = "/portal/api-users/{username}/block", tag = "portal", params(("username" = String, Path)), responses((status = 200, description = "Blocked")))]
pub async fn block(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Json<Value>, PortalError> {
    set_status(&sandbox, &headers, &username, "BLOCKED").await
}
