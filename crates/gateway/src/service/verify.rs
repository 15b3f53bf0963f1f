//! Verified credentials: authenticating at the IRP with stored credentials and recording what
//! it said as a status a person can act on. A live session is checked with one cheap call
//! instead of a new login, so checking never spends an auth call needlessly. A new pair can also be checked before it replaces the
//! stored one (`verify=before`), since a password change is when credentials break.

use super::credentials::{self, load, StoreRequest};
use super::irp_call::{open_credentials, throttled};
use super::onboarding::identity;
use super::{Actor, FieldError, ServiceError};
use crate::clock::Timestamp;
use crate::ids::OwnerId;
use crate::irp::sessions::SessionError;
use crate::state::AppState;
use crate::storage::{AuditAction, VerificationStatus};

/// The outcome of a check.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The GSTIN.
    pub gstin: String,
    /// `VERIFIED`, `WRONG_PASSWORD`, `UNKNOWN_USER`, `NOT_MAPPED_TO_GSP`, `GSTIN_NOT_ENABLED`,
    /// `USER_FROZEN`, `BLOCKED` or `IRP_UNAVAILABLE`.
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
            // At the first IRP that is up. A live session is asked one cheap question (the
            // GSTIN's own details): if the IRP ended it (a frozen or blocked user, a changed
            // password), it is dropped and the row authenticates again, so a change on the
            // portal shows within one verify.
            let site = irp.preferred(now);
            let mut checked = creds.session(irp, site).await;
            if let Ok(session) = &checked {
                if let Err(e) = site.client.gstin_details(session, &record.gstin).await {
                    if e.has_code("1005") {
                        irp.sessions.invalidate(&creds.key(site), session).await;
                        checked = creds.session(irp, site).await;
                    }
                }
            }
            match checked {
                Ok(_) => (VerificationStatus::Verified, None),
                Err(SessionError::Throttled { retry_after_secs }) => {
                    return Err(throttled(retry_after_secs));
                }
                Err(SessionError::Irp(e)) => {
                    let (status, advice) = classify(&e, &identity(state));
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
    // A new status queued `credentials.status_changed` with the same commit.
    state.webhook_dispatch.wake();
    Ok(Verification {
        gstin: record.gstin.to_string(),
        status,
        last_error,
        verified_at: now,
    })
}

/// What a store checked at the IRP first did.
#[derive(Debug)]
pub enum CheckedStore {
    /// The IRP accepted the new pair: it is stored (this version) and verified.
    Replaced {
        /// The new version.
        version: i64,
        /// The check.
        verification: Verification,
    },
    /// The IRP refused the new pair (or could not be asked): the stored pair stays in use.
    Kept {
        /// The check.
        verification: Verification,
    },
}

/// Checks a new pair at the IRP and stores it only if the IRP accepts it; either way the change
/// history records the outcome. The owner's right to the GSTIN is checked before the IRP is
/// asked, and the attempt counts against the account's budget of failed logins.
pub async fn store_if_accepted(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    request: StoreRequest,
    request_id: Option<String>,
) -> Result<CheckedStore, ServiceError> {
    let gstin = credentials::validate(state, &request)?;
    credentials::owner_may_store(state, actor, owner_id, &gstin).await?;
    let Some(irp) = &state.irp else {
        return Err(ServiceError::Unavailable {
            error: FieldError::general(
                "irp_not_configured",
                "the gateway has no IRP connection configured, so the new credentials cannot be checked first",
            ),
            retry_after_secs: 60,
        });
    };
    let now = state.now();
    let checked = irp
        .sessions
        .try_credentials(
            &irp.preferred(now).client,
            gstin.as_str(),
            &request.username,
            &request.password,
            actor.account_id,
        )
        .await;
    let refused = match checked {
        Ok(()) => None,
        Err(SessionError::Throttled { retry_after_secs }) => {
            return Err(throttled(retry_after_secs))
        }
        Err(SessionError::Irp(e)) => Some(classify(&e, &identity(state))),
    };
    if let Some((status, advice)) = refused {
        tracing::info!(gstin = %gstin, status = status.as_str(), "new credentials refused; the stored ones stay");
        state
            .store
            .record_audit(&credentials::credential_event(
                actor,
                AuditAction::CredentialsRefused,
                (owner_id, &gstin),
                &request.username,
                request_id,
                now,
            ))
            .await?;
        return Ok(CheckedStore::Kept {
            verification: Verification {
                gstin: gstin.to_string(),
                status,
                last_error: Some(advice),
                verified_at: now,
            },
        });
    }
    let version = credentials::store(state, actor, owner_id, request, request_id).await?;
    state
        .store
        .set_verification(
            owner_id,
            gstin.as_str(),
            version,
            VerificationStatus::Verified,
            None,
            now,
        )
        .await?;
    state.webhook_dispatch.wake();
    Ok(CheckedStore::Replaced {
        version,
        verification: Verification {
            gstin: gstin.to_string(),
            status: VerificationStatus::Verified,
            last_error: None,
            verified_at: now,
        },
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
