//! `POST /eivital/v1.04/auth` and `/eivital/v1.03/auth`: client and user checks, then a
//! session (AuthToken + Sek) per (client, GSTIN, user). Re-auth within validity returns the
//! same token; a forced refresh is honoured only in its last 10 minutes.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use irp_protocol::crypto::{open_auth_v103, open_auth_v104, AesKey};
use irp_protocol::envelope::Envelope;
use irp_protocol::errors;
use irp_protocol::keys::canonicalize;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use super::{apply_faults, counted, header, verify_client, Peer};
use crate::clock::nic_datetime;
use crate::error::IrpFailure;
use crate::state::{random_alnum, verify_secret, Sandbox};

const REFRESH_WINDOW_MS: i64 = 10 * 60 * 1000;

struct AuthRequest {
    user_name: String,
    password: SecretString,
    app_key: AesKey,
    force_refresh: bool,
    gstin: Option<String>,
}

/// v1.04: `{"Data": b64(RSA(b64(JSON)))}` with a `Gstin` header.
pub async fn auth_v104(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        // NIC checks the client before it opens the body.
        apply_faults(&sandbox, "auth").await?;
        let client_id = verify_client(&sandbox, &headers, peer).await?;
        let data = body_field(&body, "Data")?;
        let Value::String(data) = data else {
            return Err(IrpFailure::code(errors::AUTH_FAILED, &[]));
        };
        let payload = open_auth_v104(&sandbox.keys.encryption, &data)
            .map_err(|_| IrpFailure::code(errors::PASSWORD_DECRYPTION, &[]))?;
        let app_key = AesKey::from_base64(payload.app_key.expose_secret())
            .map_err(|_| IrpFailure::code(errors::APPKEY_DECRYPTION, &[]))?;
        let gstin = header(&headers, &["gstin"])
            .ok_or(IrpFailure::code(errors::GSTIN_HEADER_MISSING, &[]))?;
        let request = AuthRequest {
            user_name: payload.user_name,
            password: payload.password,
            app_key,
            force_refresh: payload.force_refresh,
            gstin: Some(gstin.to_ascii_uppercase()),
        };
        authenticate(&sandbox, client_id, request).await
    }
    .await;
    respond(&sandbox, result)
}

/// v1.03: `{"data": {"UserName", "Password": b64(RSA), "AppKey": b64(RSA), ...}}`.
pub async fn auth_v103(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        apply_faults(&sandbox, "auth").await?;
        let client_id = verify_client(&sandbox, &headers, peer).await?;
        let data = body_field(&body, "Data")?;
        let (user_name, password, app_key, force_refresh) =
            open_auth_v103(&sandbox.keys.encryption, &data)
                .map_err(|_| IrpFailure::code(errors::PASSWORD_DECRYPTION, &[]))?;
        let request = AuthRequest {
            user_name,
            password,
            app_key,
            force_refresh,
            gstin: header(&headers, &["gstin"]).map(|g| g.to_ascii_uppercase()),
        };
        authenticate(&sandbox, client_id, request).await
    }
    .await;
    respond(&sandbox, result)
}

fn respond(sandbox: &Sandbox, result: Result<Envelope, IrpFailure>) -> Response {
    match result {
        Ok(envelope) => Json(envelope).into_response(),
        Err(failure) => counted(sandbox, failure).into_response(),
    }
}

fn body_field(body: &[u8], field: &str) -> Result<Value, IrpFailure> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| IrpFailure::code(errors::AUTH_FAILED, &[]))?;
    canonicalize(value)
        .get(field)
        .cloned()
        .ok_or(IrpFailure::code(errors::AUTH_FAILED, &[]))
}

/// Authenticates an API user for a client already checked.
async fn authenticate(
    sandbox: &Sandbox,
    client_id: String,
    request: AuthRequest,
) -> Result<Envelope, IrpFailure> {
    let user: Option<(String, String, String, String, String)> =
        sqlx::query_as("SELECT username, gstin, client_id, password_hash, status FROM api_users WHERE username = $1")
            .bind(&request.user_name)
            .fetch_optional(&sandbox.pool)
            .await?;
    let Some((username, user_gstin, user_client, password_hash, status)) = user else {
        return Err(IrpFailure::code(errors::INVALID_USER, &[]));
    };
    let gstin = request.gstin.unwrap_or_else(|| user_gstin.clone());
    if gstin != user_gstin {
        return Err(IrpFailure::code(errors::INVALID_USER, &[]));
    }
    sandbox.counters.auth_call(&client_id, &gstin);
    if user_client != client_id {
        return Err(IrpFailure::code(errors::CLIENT_NOT_MAPPED, &[]));
    }
    if !verify_secret(request.password.expose_secret(), &password_hash) {
        return Err(IrpFailure::code(errors::WRONG_PASSWORD, &[]));
    }
    // A frozen API user is 3025 and a blocked one 3034 (the frozen/suspended/cancelled
    // account codes, `nic-irp-api.md` §11; which code NIC sends for which is UNVERIFIED); a
    // GSTIN not enabled or not active is 1014, "Inactive User".
    match status.as_str() {
        "FROZEN" => return Err(IrpFailure::code(errors::API_USER_FROZEN, &[])),
        "BLOCKED" => return Err(IrpFailure::code(errors::API_USER_BLOCKED, &[])),
        _ => {}
    }
    let taxpayer = sandbox.taxpayer(&gstin);
    let enabled = matches!(&taxpayer, Some(t) if t.status == "ACT" && !t.blocked && t.enabled);
    if status != "ACTIVE" || !enabled {
        return Err(IrpFailure::code(errors::INACTIVE_USER, &[]));
    }

    let now = sandbox.clock.now_ms();
    let existing: Option<(String, Vec<u8>, i64)> = sqlx::query_as(
        "SELECT auth_token, sek, expires_at FROM sessions WHERE client_id = $1 AND gstin = $2 AND username = $3 AND expires_at > $4 AND irp = $5 ORDER BY expires_at DESC LIMIT 1",
    )
    .bind(&client_id)
    .bind(&gstin)
    .bind(&username)
    .bind(now)
    .bind(sandbox.irp())
    .fetch_optional(&sandbox.pool)
    .await?;
    let refresh_allowed = |expires_at: i64| expires_at - now <= REFRESH_WINDOW_MS;
    let (token, sek, expires_at) = match existing {
        Some((token, sek, expires_at))
            if !(request.force_refresh && refresh_allowed(expires_at)) =>
        {
            (
                token,
                AesKey::from_slice(&sek).map_err(|e| IrpFailure::Internal(e.to_string()))?,
                expires_at,
            )
        }
        _ => {
            let token = random_alnum(25);
            let sek = AesKey::generate();
            let expires_at = now + sandbox.config.profile.token_minutes() * 60 * 1000;
            sqlx::query("INSERT INTO sessions (auth_token, client_id, gstin, username, sek, issued_at, expires_at, irp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(&token)
                .bind(&client_id)
                .bind(&gstin)
                .bind(&username)
                .bind(sek.bytes().as_slice())
                .bind(now)
                .bind(expires_at)
                .bind(sandbox.irp())
                .execute(&sandbox.pool)
                .await?;
            if let Ok(mut sessions) = sandbox.sessions.write() {
                sessions.insert(
                    token.clone(),
                    crate::state::CachedSession {
                        client_id: client_id.clone(),
                        gstin: gstin.clone(),
                        username: username.clone(),
                        sek: *sek.bytes(),
                        expires_at,
                        irp: sandbox.irp().to_string(),
                    },
                );
            }
            (token, sek, expires_at)
        }
    };
    Ok(Envelope::success(json!({
        "ClientId": client_id,
        "UserName": username,
        "AuthToken": token,
        "Sek": request.app_key.seal_key(&sek),
        "TokenExpiry": nic_datetime(expires_at),
    })))
}
