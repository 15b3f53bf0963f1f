//! The one policy every IRP operation runs under (generate, cancel, get, and whatever comes
//! next): the stored credentials of the row, its session (one auth call per token lifetime),
//! one re-authentication when the IRP ends a session (1005), retries of transient failures
//! (2146, 2147, 5001, HTTP 5xx, no connection, no answer) with backoff and jitter, and the
//! circuit breaker. What an answer means for a document (2150, 9999, reconciliation after no
//! answer) stays with the operation, inside the call it passes here.

use std::future::Future;
use std::time::Duration;

use irp_client::{IrpError, Session};
use rand::Rng;

use super::credentials::load;
use super::onboarding::{identity, next_step, GspIdentity};
use super::outcome::{DocumentStatus, Outcome, OutcomeError};
use super::{Actor, FieldError, ServiceError};
use crate::ids::{AccountId, OwnerId};
use crate::irp::sessions::SessionError;
use crate::irp::IrpContext;
use crate::metrics::{CallOutcome, IrpOperation};
use crate::state::AppState;
use crate::storage::{CredentialRecord, IrpSessionKey, VerificationStatus};
use crate::vault::{CredentialSlot, VaultError};

/// Maps what the IRP said to a status and the next step for it (see [`onboarding::next_step`]).
/// Evidence for the split (`nic-irp-api.md` §9, §11): 1014 is "Inactive User" (GSTIN not
/// enabled or not active); 3025 and 3033–3036 are the frozen, suspended and cancelled account
/// codes. Which of them NIC sends for a frozen user (3025) and a blocked one (3033–3036) is
/// UNVERIFIED; the IRP sandbox answers so.
pub fn classify(error: &IrpError, gsp: &GspIdentity) -> (VerificationStatus, String) {
    let codes = error.codes();
    let has = |c: &str| codes.contains(&c);
    let status = if has("1019") {
        VerificationStatus::WrongPassword
    } else if has("1017") {
        VerificationStatus::UnknownUser
    } else if has("1018") {
        VerificationStatus::NotMappedToGsp
    } else if has("3025") {
        VerificationStatus::UserFrozen
    } else if ["3033", "3034", "3035", "3036"].iter().any(|c| has(c)) {
        VerificationStatus::Blocked
    } else if has("1014") {
        VerificationStatus::GstinNotEnabled
    } else if let IrpError::Nic { .. } = error {
        return (
            VerificationStatus::IrpUnavailable,
            format!(
                "the IRP refused the check ({}); try again later",
                codes.join(", ")
            ),
        );
    } else {
        VerificationStatus::IrpUnavailable
    };
    (status, next_step(status, gsp))
}

/// Attempts for transient failures.
pub const ATTEMPTS: u32 = 3;

/// Whether a failure may go away on its own (and so is worth a retry).
pub fn is_transient(error: &IrpError) -> bool {
    match error {
        IrpError::Nic { .. } => ["2146", "2147", "5001"].iter().any(|c| error.has_code(c)),
        IrpError::Http(status) => *status >= 500,
        IrpError::Connect(_) | IrpError::NoAnswer(_) => true,
        IrpError::Protocol(_) => false,
    }
}

async fn backoff(attempt: u32) {
    let base = 50u64 << attempt.min(5);
    let jitter = rand::thread_rng().gen_range(0..=base);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

/// The credentials of one row, opened for a call.
pub struct Credentials {
    /// The row's session key.
    pub key: IrpSessionKey,
    password: secrecy::SecretString,
    account_id: AccountId,
}

/// The 429 for an account that may make no IRP auth call for a GSTIN now.
pub fn throttled(retry_after_secs: u64) -> ServiceError {
    ServiceError::Throttled {
        error: FieldError::new(
            "too_many_irp_logins",
            format!("too many failed IRP logins for this GSTIN from your account; retry in {retry_after_secs} s"),
            "gstin",
        ),
        retry_after_secs,
    }
}

/// Opens the password of a stored credential row for the IRP.
pub async fn open_credentials(
    state: &AppState,
    irp: &IrpContext,
    actor: Actor,
    record: CredentialRecord,
) -> Result<Credentials, VaultError> {
    let slot = CredentialSlot {
        owner_id: record.owner_id,
        gstin: &record.gstin,
        version: record.version,
    };
    let opened = state
        .vault
        .open_secret_fresh(state.store.as_ref(), &record.password_ciphertext, slot)
        .await;
    state.metrics.vault("open", opened.is_ok());
    let password = opened?;
    Ok(Credentials {
        key: IrpSessionKey {
            client_id: irp.client.client_id().to_string(),
            owner_id: record.owner_id,
            gstin: record.gstin.to_string(),
            version: record.version,
            username: record.username,
        },
        password,
        account_id: actor.account_id,
    })
}

impl Credentials {
    /// The row's IRP session (see [`crate::irp::sessions::SessionManager::session`]).
    pub async fn session(&self, irp: &IrpContext) -> Result<Session, SessionError> {
        irp.sessions
            .session(&irp.client, &self.key, &self.password, self.account_id)
            .await
    }
}

/// Opens the stored credentials of (owner, GSTIN); the outcome to answer when there are none.
pub async fn credentials(
    state: &AppState,
    irp: &IrpContext,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    status: DocumentStatus,
) -> Result<Credentials, Outcome> {
    let record = load(state, actor, owner_id, gstin).await.map_err(|_| {
        Outcome::failed(status, vec![OutcomeError::platform("NIC_CREDENTIALS_MISSING", format!("no NIC API credentials are stored for owner {owner_id} and GSTIN {gstin}; store them with store_nic_credentials"))])
    })?;
    open_credentials(state, irp, actor, record)
        .await
        .map_err(|_| {
            Outcome::failed(
                status,
                vec![OutcomeError::platform(
                    "VAULT_ERROR",
                    "the stored credentials could not be opened",
                )],
            )
        })
}

/// The outcome of an operation when the gateway has no IRP connection configured.
pub fn not_configured(status: DocumentStatus) -> Outcome {
    Outcome::failed(
        status,
        vec![OutcomeError::platform(
            "IRP_NOT_CONFIGURED",
            "the gateway has no IRP connection configured",
        )],
    )
}

/// What every IRP operation starts with: the IRP context and the opened credentials of
/// (owner, GSTIN), or the outcome (with `status`) that says why there are none.
pub async fn connect<'s>(
    state: &'s AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    status: DocumentStatus,
) -> Result<(&'s IrpContext, Credentials), Outcome> {
    let irp = irp(state).map_err(|_| not_configured(status))?;
    let creds = credentials(state, irp, actor, owner_id, gstin, status).await?;
    Ok((irp, creds))
}

/// How a call under the policy ended without a result.
pub enum CallFailure {
    /// No session: the outcome says why (wrong password, throttled, IRP down…).
    Session(Outcome),
    /// Transient failures until the attempts or the breaker ran out.
    Exhausted(IrpError),
    /// An answer that no retry changes.
    Refused(IrpError),
}

/// The row's session, or the outcome that explains why there is none.
pub async fn session(
    state: &AppState,
    irp: &IrpContext,
    creds: &Credentials,
    status: DocumentStatus,
) -> Result<Session, Outcome> {
    creds.session(irp).await.map_err(|e| match e {
        SessionError::Throttled { retry_after_secs } => Outcome::failed(
            status,
            vec![OutcomeError::platform(
                "AUTH_THROTTLED",
                format!("too many failed IRP logins for this GSTIN; retry in {retry_after_secs} s"),
            )],
        ),
        SessionError::Irp(e) => {
            if is_transient(&e) {
                report_failure(state, irp);
            }
            let (verdict, advice) = classify(&e, &identity(state));
            let mut errors = OutcomeError::govt(&e);
            errors.push(OutcomeError::platform(verdict.as_str(), advice));
            Outcome::failed(status, errors)
        }
    })
}

/// Runs `call` (the IRP `operation`, measured) with the row's session under the policy: re-authenticates once on 1005, retries
/// transient failures up to [`ATTEMPTS`] while the breaker stays closed, and keeps the breaker
/// informed. `status` is the document status a missing session answers with.
pub async fn with_session<T, Call, Fut>(
    state: &AppState,
    irp: &IrpContext,
    creds: &Credentials,
    (operation, status): (IrpOperation, DocumentStatus),
    mut call: Call,
) -> Result<T, CallFailure>
where
    Call: FnMut(Session) -> Fut,
    Fut: Future<Output = Result<T, IrpError>>,
{
    let mut reauthenticated = false;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let session = session(state, irp, creds, status)
            .await
            .map_err(CallFailure::Session)?;
        let started = std::time::Instant::now();
        let answer = call(session.clone()).await;
        let (outcome, code) = match &answer {
            Ok(_) => (CallOutcome::ok, None),
            Err(e @ IrpError::Nic { .. }) => (CallOutcome::refused, e.codes().first().copied()),
            Err(_) => (CallOutcome::transport, None),
        };
        state
            .metrics
            .irp_call(operation, outcome, code, started.elapsed());
        match answer {
            Ok(value) => {
                report_answer(state, irp);
                return Ok(value);
            }
            Err(e) if e.has_code("1005") && !reauthenticated => {
                report_answer(state, irp);
                irp.sessions.invalidate(&creds.key, &session).await;
                reauthenticated = true;
            }
            Err(e) if is_transient(&e) => {
                report_failure(state, irp);
                if attempt >= ATTEMPTS || irp.breaker.open_for(state.now()).is_some() {
                    return Err(CallFailure::Exhausted(e));
                }
                backoff(attempt).await;
            }
            Err(e) => {
                report_answer(state, irp);
                return Err(CallFailure::Refused(e));
            }
        }
    }
}

/// The name IRP events carry.
const IRP_NAME: &str = "IRP";

/// Tells the breaker the IRP failed; the first opening since it last answered is reported to
/// webhooks as `irp.unavailable` (queued in the background, so the call is not held up).
pub(super) fn report_failure(state: &AppState, irp: &IrpContext) {
    if irp.breaker.failure(state.now()) {
        report_availability(state, false);
    }
}

/// Tells the breaker the IRP answered; after an outage, `irp.recovered` is reported.
pub(super) fn report_answer(state: &AppState, irp: &IrpContext) {
    if irp.breaker.success() {
        report_availability(state, true);
    }
}

fn report_availability(state: &AppState, available: bool) {
    let state = state.clone();
    let event = crate::events::irp_availability(available, IRP_NAME, state.now());
    tokio::spawn(async move { super::webhooks::emit(&state, event).await });
}

/// The IRP context, or the error that says none is configured.
pub(super) fn irp(state: &AppState) -> Result<&IrpContext, ServiceError> {
    state
        .irp
        .as_deref()
        .ok_or_else(|| ServiceError::Unavailable {
            error: FieldError::general(
                "irp_not_configured",
                "the gateway has no IRP connection configured",
            ),
            retry_after_secs: 60,
        })
}

/// An IRN as the IRP takes it: trimmed, lower case.
pub(super) fn irp_ascii(irn: &str) -> String {
    irn.trim().to_ascii_lowercase()
}
