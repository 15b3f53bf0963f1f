//! One-time passwords: six digits to the registered mobile (written to the outbox), valid for
//! five minutes, three attempts, used once.

use axum::http::StatusCode;
use rand::Rng;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::PortalError;
use crate::state::{random_alnum, Sandbox};

const OTP_TTL_MS: i64 = 5 * 60 * 1000;
const MAX_ATTEMPTS: i64 = 3;

fn code_hash(request_id: &str, code: &str) -> Vec<u8> {
    Sha256::digest(format!("{request_id}:{code}").as_bytes()).to_vec()
}

/// Sends an OTP for `purpose` and remembers `context` for when it is verified.
pub async fn send(
    sandbox: &Sandbox,
    purpose: &str,
    mobile: &str,
    email: &str,
    context: &Value,
) -> Result<String, PortalError> {
    let request_id = random_alnum(20);
    let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
    let now = sandbox.clock.now_ms();
    sqlx::query("INSERT INTO otps (request_id, purpose, mobile, code_hash, context, expires_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&request_id)
        .bind(purpose)
        .bind(mobile)
        .bind(code_hash(&request_id, &code))
        .bind(context.to_string())
        .bind(now + OTP_TTL_MS)
        .execute(&sandbox.pool)
        .await?;
    sqlx::query("INSERT INTO outbox (mobile, email, message, at) VALUES ($1, $2, $3, $4)")
        .bind(mobile)
        .bind(email)
        .bind(format!("{code} is your OTP for {purpose} on the e-invoice portal. It is valid for 5 minutes. Do not share it."))
        .bind(now)
        .execute(&sandbox.pool)
        .await?;
    Ok(request_id)
}

/// Checks an OTP and returns its context; each OTP works once.
pub async fn verify(
    sandbox: &Sandbox,
    request_id: &str,
    purpose: &str,
    code: &str,
) -> Result<Value, PortalError> {
    let row: Option<(String, Vec<u8>, String, i64, i64, bool)> =
        sqlx::query_as("SELECT purpose, code_hash, context, expires_at, attempts, verified FROM otps WHERE request_id = $1")
            .bind(request_id)
            .fetch_optional(&sandbox.pool)
            .await?;
    let invalid = |code: &str, message: &str| {
        PortalError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    };
    let Some((stored_purpose, hash, context, expires_at, attempts, verified)) = row else {
        return Err(invalid("otp_unknown", "no OTP was sent for this request"));
    };
    if stored_purpose != purpose || verified {
        return Err(invalid(
            "otp_used",
            "this OTP was already used; request a new one",
        ));
    }
    if expires_at <= sandbox.clock.now_ms() {
        return Err(invalid("otp_expired", "the OTP expired; request a new one"));
    }
    if attempts >= MAX_ATTEMPTS {
        return Err(invalid(
            "otp_attempts",
            "too many wrong attempts; request a new OTP",
        ));
    }
    let matches: bool = subtle::ConstantTimeEq::ct_eq(
        code_hash(request_id, code.trim()).as_slice(),
        hash.as_slice(),
    )
    .into();
    if !matches {
        sqlx::query("UPDATE otps SET attempts = attempts + 1 WHERE request_id = $1")
            .bind(request_id)
            .execute(&sandbox.pool)
            .await?;
        return Err(invalid("otp_wrong", "the OTP is wrong"));
    }
    sqlx::query("UPDATE otps SET verified = 1 WHERE request_id = $1")
        .bind(request_id)
        .execute(&sandbox.pool)
        .await?;
    serde_json::from_str(&context).map_err(|_| invalid("otp_unknown", "the OTP request is corrupt"))
}
