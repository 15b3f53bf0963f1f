//! Verified credentials: authenticating at the IRP with stored credentials and recording what
//! it said as a status a person can act on. A live session counts as verified, so checking
//! never spends an auth call needlessly.

use super::credentials::load;
use super::irp_call::{open_credentials, throttled};
use super::{Actor, ServiceError};
use crate::clock::Timestamp;
use crate::ids::OwnerId;
use crate::irp::sessions::SessionError;
use crate::state::AppState;
use crate::storage::VerificationStatus;

/// The outcome of a check.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The GSTIN.
    pub gstin: String,
    /// `VERIFIED`, `WRONG_PASSWORD`, `UNKNOWN_USER`, `NOT_MAPPED_TO_GSP`, `GSTIN_NOT_ENABLED`,
    /// `BLOCKED` or `IRP_UNAVAILABLE`.
    pub status: VerificationStatus,
    /// What to do, in plain words (none when verified).
    pub last_error: Option<String>,
    /// When (Unix ms).
    pub verified_at: Timestamp,
}

pub use super::irp_call::classify;

/// Checks stored credentials at the IRP and records the status.
pub async fn verify(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
) -> Result<Verification, ServiceError> {
    let record = load(state, actor, owner_id, gstin).await?;
    let now = state.now();
    let (status, last_error) = match &state.irp {
        None => (
            VerificationStatus::IrpUnavailable,
            Some("the gateway has no IRP connection configured".to_string()),
        ),
        Some(irp) => {
            let creds = open_credentials(state, irp, actor, record.clone()).await?;
            match creds.session(irp).await {
                Ok(_) => (VerificationStatus::Verified, None),
                Err(SessionError::Throttled { retry_after_secs }) => {
                    return Err(throttled(retry_after_secs));
                }
                Err(SessionError::Irp(e)) => {
                    let (status, advice) = classify(&e);
                    tracing::info!(gstin = %record.gstin, status = status.as_str(), "credential check failed");
                    (status, Some(advice))
                }
            }
        }
    };
    state
        .store
        .set_verification(
            owner_id,
            &record.gstin,
            record.version,
            status,
            last_error.as_deref(),
            now,
        )
        .await?;
    Ok(Verification {
        gstin: record.gstin.to_string(),
        status,
        last_error,
        verified_at: now,
    })
}

/// One round of the periodic health check: re-verifies up to `limit` credentials not checked
/// within `max_age_ms`. A live session counts as verified, so no auth call is spent on it.
/// Returns how many were checked.
pub async fn health_check_once(
    state: &AppState,
    max_age_ms: i64,
    limit: i64,
) -> Result<usize, ServiceError> {
    let due = state
        .store
        .credentials_due_for_check(state.now() - max_age_ms, limit)
        .await?;
    let mut checked = 0;
    for (account_id, owner_id, gstin) in due {
        let actor = Actor {
            account_id,
            token_id: None,
        };
        match verify(state, actor, owner_id, &gstin).await {
            Ok(v) => {
                checked += 1;
                tracing::debug!(%owner_id, gstin = %v.gstin, status = v.status.as_str(), "periodic credential check");
            }
            Err(e) => {
                tracing::warn!(%owner_id, %gstin, error = %e, "periodic credential check failed")
            }
        }
    }
    Ok(checked)
}
