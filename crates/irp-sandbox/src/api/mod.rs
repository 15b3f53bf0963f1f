//! The IRP API (`nic-irp-api.md` §2–§5), with NIC's exact paths, headers and codes.

pub mod auth;
pub mod einvoice;
pub mod ewaybill;
pub mod master;
pub mod stored;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use irp_protocol::crypto::AesKey;
use irp_protocol::envelope::Envelope;
use irp_protocol::errors;
use irp_protocol::keys::canonicalize;
use serde_json::Value;

use crate::config::Profile;
use crate::counters::FaultKind;
use crate::error::IrpFailure;
use crate::state::{verify_secret, CachedClient, CachedSession, Sandbox};

/// The caller's address, when the server records it.
pub struct Peer(pub Option<SocketAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
        ))
    }
}

/// A header by any of its spellings (NIC documents `client_id`; some clients send `client-id`).
pub fn header(headers: &HeaderMap, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| headers.get(*n))
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Checks `client_id`/`client_secret` (1011, 1012, 1010) and, under the production profile,
/// that the caller's address is whitelisted for the client (3059).
pub async fn verify_client(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<String, IrpFailure> {
    let client_id = header(headers, &["client_id", "client-id"])
        .ok_or(IrpFailure::code(errors::CLIENT_ID_MISSING, &[]))?;
    let secret = header(headers, &["client_secret", "client-secret"])
        .ok_or(IrpFailure::code(errors::CLIENT_SECRET_MISSING, &[]))?;
    let cached = sandbox
        .clients
        .read()
        .ok()
        .and_then(|c| c.get(&client_id).cloned());
    let entry = match cached {
        Some(entry) => entry,
        None => {
            let row: Option<(String, String)> = sqlx::query_as(
                "SELECT secret_hash, whitelisted_ips FROM clients WHERE client_id = $1",
            )
            .bind(&client_id)
            .fetch_optional(&sandbox.pool)
            .await?;
            let Some((secret_hash, whitelist)) = row else {
                return Err(IrpFailure::code(errors::INVALID_CLIENT, &[]));
            };
            let entry = CachedClient {
                secret_hash,
                whitelist,
            };
            if let Ok(mut clients) = sandbox.clients.write() {
                clients.insert(client_id.clone(), entry.clone());
            }
            entry
        }
    };
    let (secret_hash, whitelist) = (entry.secret_hash, entry.whitelist);
    if !verify_secret(&secret, &secret_hash) {
        return Err(IrpFailure::code(errors::INVALID_CLIENT, &[]));
    }
    if sandbox.config.profile == Profile::Production {
        let ip = peer.map(|p| p.ip().to_string()).unwrap_or_default();
        if !whitelist
            .split(',')
            .any(|w| !w.is_empty() && w.trim() == ip)
        {
            return Err(IrpFailure::code(errors::CLIENT_NOT_WHITELISTED, &[]));
        }
    }
    Ok(client_id)
}

/// A live session, as found by its token.
pub struct Session {
    /// The client it was issued to.
    pub client_id: String,
    /// The GSTIN it was issued for.
    pub gstin: String,
    /// The API user.
    pub username: String,
    /// The session key.
    pub sek: AesKey,
}

/// Checks the headers of an `eicore`/`eivital` call against a live session: 1004, 1006,
/// 1005 (unknown, expired, or another user's or client's token), 1015 (another GSTIN).
pub async fn verify_session(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Session, IrpFailure> {
    let user = header(headers, &["user_name", "user-name", "username"])
        .ok_or(IrpFailure::code(errors::USER_NAME_MISSING, &[]))?;
    session_of(sandbox, headers, peer, Some(user)).await
}

/// As [`verify_session`], for the e-way bill system's calls, which send no user name (the
/// token names the user).
pub async fn verify_session_without_user(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Result<Session, IrpFailure> {
    let user = header(headers, &["user_name", "user-name", "username"]);
    session_of(sandbox, headers, peer, user).await
}

async fn session_of(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
    user: Option<String>,
) -> Result<Session, IrpFailure> {
    let client_id = verify_client(sandbox, headers, peer).await?;
    let gstin = header(headers, &["gstin"])
        .ok_or(IrpFailure::code(errors::GSTIN_HEADER_MISSING, &[]))?
        .to_ascii_uppercase();
    let token = header(headers, &["authtoken", "auth-token"])
        .ok_or(IrpFailure::code(errors::INVALID_TOKEN, &[]))?;
    let cached = sandbox
        .sessions
        .read()
        .ok()
        .and_then(|s| s.get(&token).cloned());
    let cached = match cached {
        Some(entry) => Some(entry),
        None => {
            let row: Option<(String, String, String, Vec<u8>, i64, String)> =
                sqlx::query_as("SELECT client_id, gstin, username, sek, expires_at, irp FROM sessions WHERE auth_token = $1")
                    .bind(&token)
                    .fetch_optional(&sandbox.pool)
                    .await?;
            match row {
                Some((client_id, gstin, username, sek, expires_at, irp)) => {
                    let sek: [u8; 32] = sek
                        .as_slice()
                        .try_into()
                        .map_err(|_| IrpFailure::Internal("corrupt session key".into()))?;
                    let entry = CachedSession {
                        client_id,
                        gstin,
                        username,
                        sek,
                        expires_at,
                        irp,
                    };
                    if let Ok(mut sessions) = sandbox.sessions.write() {
                        sessions.insert(token.clone(), entry.clone());
                    }
                    Some(entry)
                }
                None => None,
            }
        }
    };
    let Some(CachedSession {
        client_id: s_client,
        gstin: s_gstin,
        username: s_user,
        sek,
        expires_at,
        irp,
    }) = cached
    else {
        return Err(IrpFailure::code(errors::INVALID_TOKEN, &[]));
    };
    // A token is valid only at the IRP that issued it.
    if expires_at <= sandbox.clock.now_ms()
        || irp != sandbox.irp()
        || s_client != client_id
        || user
            .as_deref()
            .is_some_and(|u| !s_user.eq_ignore_ascii_case(u))
    {
        return Err(IrpFailure::code(errors::INVALID_TOKEN, &[]));
    }
    if s_gstin != gstin {
        return Err(IrpFailure::code(errors::TOKEN_GSTIN_MISMATCH, &[]));
    }
    let sek = AesKey::from_slice(&sek).map_err(|e| IrpFailure::Internal(e.to_string()))?;
    Ok(Session {
        client_id,
        gstin,
        username: s_user,
        sek,
    })
}

/// Applies the faults queued for an operation: waits for latency, and returns an immediate
/// failure for injected NIC errors and HTTP statuses. Returns whether to drop the connection
/// after committing.
pub async fn apply_faults(sandbox: &Sandbox, operation: &str) -> Result<bool, IrpFailure> {
    let mut drop_after_commit = false;
    for fault in sandbox.faults().take(operation) {
        match fault {
            FaultKind::Latency(ms) => {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await
            }
            FaultKind::NicError(code) => {
                let known = errors::lookup(&code).unwrap_or(errors::APPLICATION_ERROR);
                return Err(IrpFailure::Nic(Box::new(Envelope::error(known, &[]))));
            }
            FaultKind::HttpStatus(status) => {
                let status = axum::http::StatusCode::from_u16(status)
                    .unwrap_or(axum::http::StatusCode::SERVICE_UNAVAILABLE);
                return Err(IrpFailure::Http(status));
            }
            FaultKind::DropAfterCommit => drop_after_commit = true,
        }
    }
    Ok(drop_after_commit)
}

/// Encrypts a success payload with the session key: `{"Status":1,"Data":"<b64>"}`.
pub fn encrypted_success(sek: &AesKey, data: &serde_json::Value) -> Envelope {
    Envelope::success(serde_json::Value::String(
        sek.encrypt_b64(data.to_string().as_bytes()),
    ))
}

/// Counts an error answer and passes it on.
pub fn counted(sandbox: &Sandbox, failure: IrpFailure) -> IrpFailure {
    if let IrpFailure::Nic(envelope) = &failure {
        for code in envelope.error_codes() {
            sandbox.counters.error(code);
        }
    }
    failure
}

/// Answers a call: the envelope, or (after a committed `drop_after_commit` fault) a dropped
/// connection, or the counted failure.
pub fn respond(sandbox: &Sandbox, result: Result<(Envelope, bool), IrpFailure>) -> Response {
    match result {
        Ok((envelope, false)) => Json(envelope).into_response(),
        Ok((_, true)) => {
            // The work is committed; the client gets no answer (a dropped connection).
            let failing = futures_util::stream::once(async {
                Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other(
                    "connection dropped by fault injection",
                ))
            });
            Response::new(Body::from_stream(failing))
        }
        Err(failure) => counted(sandbox, failure).into_response(),
    }
}

/// The decrypted, canonical JSON of a request's `Data`.
pub fn decrypt_body(session: &Session, body: &[u8]) -> Result<Value, IrpFailure> {
    let schema_error = |what: &str| IrpFailure::code(errors::SCHEMA, &[what]);
    let envelope: Value =
        serde_json::from_slice(body).map_err(|_| schema_error("the body is not JSON"))?;
    let data = canonicalize(envelope)
        .get("Data")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| schema_error("Data is required"))?;
    let plain = session
        .sek
        .decrypt_b64(&data)
        .map_err(|_| schema_error("Data could not be decrypted with the session key"))?;
    let value: Value =
        serde_json::from_slice(&plain).map_err(|_| schema_error("decrypted Data is not JSON"))?;
    Ok(canonicalize(value))
}
