//! Verified credentials: authenticating at the IRP with stored credentials and recording what
//! it said as a status a person can act on. A live session counts as verified, so checking
//! never spends an auth call needlessly.

use irp_client::IrpError;
use uuid::Uuid;

use super::credentials::load;
use super::{Actor, FieldError, ServiceError};
use crate::irp::sessions::SessionError;
use crate::state::AppState;
use crate::storage::IrpSessionKey;
use crate::vault::CredentialSlot;

/// The outcome of a check.
#[derive(Debug, Clone)]
pub struct Verification {
    /// The GSTIN.
    pub gstin: String,
    /// `VERIFIED`, `WRONG_PASSWORD`, `UNKNOWN_USER`, `NOT_MAPPED_TO_GSP`, `GSTIN_NOT_ENABLED`,
    /// `BLOCKED` or `IRP_UNAVAILABLE`.
    pub status: &'static str,
    /// What to do, in plain words (none when verified).
    pub last_error: Option<String>,
    /// When (Unix ms).
    pub verified_at: i64,
}

/// Maps what the IRP said to a status and advice.
pub fn classify(error: &IrpError) -> (&'static str, String) {
    let codes = error.codes();
    let has = |c: &str| codes.contains(&c);
    if has("1019") {
        ("WRONG_PASSWORD", "the IRP says the password is wrong (1019); update it here with the current NIC API password".into())
    } else if has("1017") {
        ("UNKNOWN_USER", "the IRP does not know this API username for the GSTIN (1017); check the username, or create an API user on the e-invoice portal".into())
    } else if has("1018") {
        ("NOT_MAPPED_TO_GSP", "this API user was created for another GSP (1018); create one for us on the e-invoice portal (API Registration, Create API User, Through GSP)".into())
    } else if has("1014") {
        ("GSTIN_NOT_ENABLED", "the GSTIN is not enabled for e-invoicing, or this API user is frozen or blocked (1014); check on the e-invoice portal".into())
    } else if ["3025", "3033", "3034", "3035", "3036"]
        .iter()
        .any(|c| has(c))
    {
        (
            "BLOCKED",
            format!(
                "the IRP has blocked this account ({}); contact the e-invoice helpdesk",
                codes.join(", ")
            ),
        )
    } else if let IrpError::Nic { .. } = error {
        (
            "IRP_UNAVAILABLE",
            format!(
                "the IRP refused the check ({}); try again later",
                codes.join(", ")
            ),
        )
    } else {
        (
            "IRP_UNAVAILABLE",
            "the IRP did not answer; the credentials will be checked again later".into(),
        )
    }
}

/// Checks stored credentials at the IRP and records the status.
pub async fn verify(
    state: &AppState,
    actor: Actor,
    owner_id: Uuid,
    gstin: &str,
) -> Result<Verification, ServiceError> {
    let record = load(state, actor, owner_id, gstin).await?;
    let now = state.now();
    let (status, last_error) = match &state.irp {
        None => (
            "IRP_UNAVAILABLE",
            Some("the gateway has no IRP connection configured".to_string()),
        ),
        Some(irp) => {
            let key = IrpSessionKey {
                client_id: irp.client.client_id().to_string(),
                owner_id,
                gstin: record.gstin.clone(),
                version: record.version,
                username: record.username.clone(),
            };
            let slot = CredentialSlot {
                owner_id,
                gstin: &record.gstin,
                version: record.version,
            };
            let password = state
                .vault
                .open_secret_fresh(state.store.as_ref(), &record.password_ciphertext, slot)
                .await?;
            match irp
                .sessions
                .session(state, irp, &key, &password, actor.account_id)
                .await
            {
                Ok(_) => ("VERIFIED", None),
                Err(SessionError::Throttled { retry_after_secs }) => {
                    return Err(ServiceError::Throttled {
                        error: FieldError::new(
                            "too_many_irp_logins",
                            format!("too many failed IRP logins for this GSTIN from your account; retry in {retry_after_secs} s"),
                            "gstin",
                        ),
                        retry_after_secs,
                    });
                }
                Err(SessionError::Irp(e)) => {
                    let (status, advice) = classify(&e);
                    tracing::info!(gstin = %record.gstin, status, "credential check failed");
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
        gstin: record.gstin,
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
                tracing::debug!(%owner_id, gstin = %v.gstin, status = v.status, "periodic credential check");
            }
            Err(e) => {
                tracing::warn!(%owner_id, %gstin, error = %e, "periodic credential check failed")
            }
        }
    }
    Ok(checked)
}
