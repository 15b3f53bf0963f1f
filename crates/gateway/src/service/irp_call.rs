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
use crate::irp::fair_share::Place;
use crate::irp::sessions::SessionError;
use crate::irp::{IrpContext, IrpSite};
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

/// The credentials of one row, opened for a call (at any of the IRPs).
pub struct Credentials {
    /// The row's session key at the preferred IRP.
    base: IrpSessionKey,
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
        base: IrpSessionKey {
            irp: irp.primary.name.clone(),
            client_id: irp.primary.client.client_id().to_string(),
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
    /// The row's session key at one IRP (each IRP issues its own sessions).
    pub fn key(&self, site: &IrpSite) -> IrpSessionKey {
        IrpSessionKey {
            irp: site.name.clone(),
            client_id: site.client.client_id().to_string(),
            ..self.base.clone()
        }
    }

    /// The row's session at one IRP (see
    /// [`crate::irp::sessions::SessionManager::session`]).
    pub async fn session(&self, irp: &IrpContext, site: &IrpSite) -> Result<Session, SessionError> {
        irp.sessions
            .session(
                &site.client,
                &self.key(site),
                &self.password,
                self.account_id,
            )
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
    /// No session: the outcome says why (wrong password, throttled…).
    Session(Outcome),
    /// No session because the IRP did not answer (another IRP may).
    Unreachable(Outcome),
    /// Transient failures until the attempts or the breaker ran out.
    Exhausted(IrpError),
    /// An answer that no retry changes.
    Refused(IrpError),
}

/// The row's session, or the outcome that explains why there is none.
pub async fn session(
    state: &AppState,
    irp: &IrpContext,
    site: &IrpSite,
    creds: &Credentials,
    status: DocumentStatus,
) -> Result<Session, CallFailure> {
    creds.session(irp, site).await.map_err(|e| match e {
        SessionError::Throttled { retry_after_secs } => CallFailure::Session(Outcome::failed(
            status,
            vec![OutcomeError::platform(
                "AUTH_THROTTLED",
                format!("too many failed IRP logins for this GSTIN; retry in {retry_after_secs} s"),
            )],
        )),
        SessionError::Irp(e) => {
            let (verdict, advice) = classify(&e, &identity(state));
            let mut errors = OutcomeError::govt(&e);
            errors.push(OutcomeError::platform(verdict.as_str(), advice));
            let outcome = Outcome::failed(status, errors);
            if is_transient(&e) {
                report_failure(state, site);
                CallFailure::Unreachable(outcome)
            } else {
                CallFailure::Session(outcome)
            }
        }
    })
}

/// Runs `call` (the IRP `operation`, measured) at one IRP with the row's session there, under
/// the policy: re-authenticates once on 1005, retries transient failures up to [`ATTEMPTS`]
/// while that IRP's breaker stays closed, and keeps the breaker informed. `status` is the
/// document status a missing session answers with.
pub async fn with_session<T, Call, Fut>(
    state: &AppState,
    (irp, site): (&IrpContext, &IrpSite),
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
        let session = session(state, irp, site, creds, status).await?;
        // Held over the call: when the IRP's places are all taken, accounts take turns.
        let place = site.places.enter(creds.account_id).await;
        let started = std::time::Instant::now();
        let answer = call(session.clone()).await;
        drop(place);
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
                report_answer(state, site);
                return Ok(value);
            }
            Err(e) if e.has_code("1005") && !reauthenticated => {
                report_answer(state, site);
                irp.sessions.invalidate(&creds.key(site), &session).await;
                reauthenticated = true;
            }
            Err(e) if is_transient(&e) => {
                report_failure(state, site);
                if attempt >= ATTEMPTS || site.breaker.open_for(state.now()).is_some() {
                    return Err(CallFailure::Exhausted(e));
                }
                backoff(attempt).await;
            }
            Err(e) => {
                report_answer(state, site);
                // Duplicates are how lost answers are recovered, not errors of the taxpayer's.
                if !e.has_code("2150") && !e.has_code("4002") {
                    state
                        .admission
                        .irp_refused(creds.account_id, &creds.base.gstin, state.now());
                }
                return Err(CallFailure::Refused(e));
            }
        }
    }
}

/// Runs `call` under the policy at each IRP in turn, those up first, until one answers: when an
/// IRP is down (retries exhausted, or no session because it does not answer) the next is
/// tried. `origin` is the IRP that generated the IRN the call names (sent as the `irp` header
/// to the other). Returns the answer and the IRP that gave it.
pub async fn at_any_irp<'i, T, Call, Fut>(
    state: &AppState,
    irp: &'i IrpContext,
    creds: &Credentials,
    (operation, status): (IrpOperation, DocumentStatus),
    origin: Option<&str>,
    mut call: Call,
) -> Result<(T, &'i IrpSite), CallFailure>
where
    Call: FnMut(&'i IrpSite, Session) -> Fut,
    Fut: Future<Output = Result<T, IrpError>>,
{
    let mut last = None;
    for site in irp.in_order(state.now()) {
        let result = with_session(state, (irp, site), creds, (operation, status), |session| {
            call(site, session.for_irn_from(origin, &site.name))
        })
        .await;
        match result {
            Ok(answer) => return Ok((answer, site)),
            Err(failure @ (CallFailure::Exhausted(_) | CallFailure::Unreachable(_))) => {
                tracing::warn!(irp = %site.name, operation = ?operation, "IRP down; trying the next");
                last = Some(failure);
            }
            Err(failure) => return Err(failure),
        }
    }
    Err(last.unwrap_or(CallFailure::Unreachable(Outcome::failed(
        status,
        vec![OutcomeError::platform(
            "IRP_UNAVAILABLE",
            "no IRP is answering; retry later",
        )],
    ))))
}

/// Tells an IRP's breaker it failed; the first opening since it last answered is reported to
/// webhooks as `irp.unavailable` (queued in the background, so the call is not held up).
pub(super) fn report_failure(state: &AppState, site: &IrpSite) {
    if site.breaker.failure(state.now()) {
        report_availability(state, &site.name, false);
    }
}

/// Tells an IRP's breaker it answered; after an outage, `irp.recovered` is reported.
pub(super) fn report_answer(state: &AppState, site: &IrpSite) {
    if site.breaker.success() {
        report_availability(state, &site.name, true);
    }
}

fn report_availability(state: &AppState, name: &str, available: bool) {
    let state = state.clone();
    let event = crate::events::irp_availability(available, name, state.now());
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

/// The IRP that generated an IRN of the account, as recorded.
pub(super) async fn origin_of(state: &AppState, actor: Actor, irn: &str) -> Option<String> {
    state
        .store
        .get_einvoice(actor.account_id, irn)
        .await
        .ok()
        .flatten()
        .and_then(|record| record.irp)
}

/// Admits `calls` IRP-bound calls of the caller for a GSTIN (counted by the metrics when not).
pub fn admit_irp_calls(
    state: &AppState,
    actor: Actor,
    gstin: &str,
    calls: usize,
) -> Result<(), ServiceError> {
    let calls = u32::try_from(calls).unwrap_or(u32::MAX);
    state
        .admission
        .admit(actor, gstin, calls, state.now())
        .map_err(|(refusal, error)| {
            state.metrics.admission_refused(refusal.as_str());
            error
        })
}

/// Waits for the caller's turn to send documents to the IRPs (see [`IrpContext::turns`]); the
/// turn is held until the returned place is dropped. `None` when no IRP is configured (the
/// request then fails as such, without waiting).
pub async fn turn(state: &AppState, actor: Actor) -> Option<Place> {
    let irp = state.irp.as_deref()?;
    Some(irp.turns.enter(actor.account_id).await)
}

/// An IRN as the IRP takes it: trimmed, lower case.
pub(super) fn irp_ascii(irn: &str) -> String {
    irn.trim().to_ascii_lowercase()
}
