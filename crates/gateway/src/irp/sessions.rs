//! One live IRP session per credential row (client, owner, GSTIN, credential version): reused
//! until the last 10 minutes of its token, then refreshed with ForceRefreshAccessToken;
//! concurrent requests for one row wait on a single auth call; sessions are sealed by the vault
//! into the store, so a restart or another replica reuses them. A session is only ever handed to
//! the row whose password obtained it: a row naming the same NIC username with another password
//! (in this account or another) authenticates for itself and fails. Storing or deleting a row
//! ends that row's sessions and no other. Failed auth calls are limited per (account, GSTIN), so
//! no tenant can probe usernames or get someone's API user locked at NIC.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use irp_client::{IrpError, Session};
use irp_protocol::crypto::AesKey;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use subtle::ConstantTimeEq;

use irp_client::IrpClient;

use crate::clock::Clock;
use crate::clock::Timestamp;
use crate::ids::{AccountId, OwnerId};
use crate::metrics::{CallOutcome, Metrics};
use crate::storage::{IrpSessionKey, Store};
use crate::throttle::FailureThrottle;
use crate::vault::Vault;

/// Failed auth calls allowed per (account, GSTIN) in [`AUTH_FAILURE_WINDOW`].
pub const AUTH_FAILURE_LIMIT: u32 = 10;
/// The window of [`AUTH_FAILURE_LIMIT`].
pub const AUTH_FAILURE_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Why no session could be had.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The IRP refused or did not answer.
    #[error(transparent)]
    Irp(#[from] IrpError),
    /// Too many failed auth calls for this account and GSTIN; no call was made.
    #[error("too many failed IRP logins for this GSTIN; retry in {retry_after_secs} s")]
    Throttled {
        /// Seconds until an auth call is allowed again.
        retry_after_secs: u64,
    },
}

/// Whether an auth failure says something about the credentials (and so counts against the
/// account's budget for the GSTIN), rather than about the IRP's health.
fn is_credential_failure(error: &IrpError) -> bool {
    [
        "1014", "1017", "1018", "1019", "3025", "3033", "3034", "3035", "3036",
    ]
    .iter()
    .any(|code| error.has_code(code))
}

fn budget_key(account_id: AccountId, gstin: &str) -> String {
    format!("{account_id}|{gstin}")
}

/// NIC honours a forced refresh only in a token's last 10 minutes; we refresh there.
pub const REFRESH_WINDOW_MS: i64 = 10 * 60 * 1000;

#[derive(Clone)]
struct Live {
    session: Session,
    expires_at: Timestamp,
}

type Slot = Arc<tokio::sync::Mutex<Option<Live>>>;

/// How long one replica may hold the right to authenticate a key.
const LEASE_MS: i64 = 15_000;
/// How often a replica waiting on another's auth call looks for the session it stores.
const LEASE_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// The sessions of this process, with the store that persists them (sealed by the vault) and
/// the clock that ages them.
pub struct SessionManager {
    slots: Mutex<HashMap<IrpSessionKey, Slot>>,
    /// Names this process in auth leases.
    holder: String,
    /// Failed auth calls per (account, GSTIN).
    auth_failures: FailureThrottle,
    store: Arc<dyn Store>,
    vault: Arc<Vault>,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

/// An auth call's outcome, for the metrics.
fn auth_outcome(result: &Result<Session, IrpError>) -> (CallOutcome, Option<&str>) {
    match result {
        Ok(_) => (CallOutcome::ok, None),
        Err(e @ IrpError::Nic { .. }) => (CallOutcome::refused, e.codes().first().copied()),
        Err(_) => (CallOutcome::transport, None),
    }
}

fn ist_to_ms(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let naive = time::PrimitiveDateTime::parse(text, format).ok()?;
    let t = naive.assume_offset(time::macros::offset!(+5:30));
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

impl SessionManager {
    /// A manager persisting sessions in `store`, sealed by `vault`.
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<Vault>,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        SessionManager {
            metrics,
            slots: Mutex::default(),
            holder: uuid::Uuid::new_v4().to_string(),
            auth_failures: FailureThrottle::new(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW),
            store,
            vault,
            clock,
        }
    }

    fn now(&self) -> Timestamp {
        Timestamp(self.clock.now_ms())
    }

    fn slot(&self, key: &IrpSessionKey) -> Slot {
        match self.slots.lock() {
            Ok(mut slots) => slots.entry(key.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }

    /// How many live sessions this process holds (for metrics; a slot busy authenticating
    /// counts as live).
    pub fn live_count(&self) -> usize {
        match self.slots.lock() {
            Ok(slots) => slots
                .values()
                .filter(|slot| slot.try_lock().map(|live| live.is_some()).unwrap_or(true))
                .count(),
            Err(_) => 0,
        }
    }

    /// `Some(seconds)` while the account may make no auth call for the GSTIN.
    pub fn auth_throttled(
        &self,
        account_id: AccountId,
        gstin: &str,
        now: Timestamp,
    ) -> Option<u64> {
        self.auth_failures
            .check(&budget_key(account_id, gstin), now)
    }

    /// A session for the credential row: the live one, a persisted one, or a new one from one
    /// auth call with the row's own password (concurrent callers for the same row share it).
    /// `account_id` is the row's account, whose failed auth calls are limited.
    pub async fn session(
        &self,
        client: &IrpClient,
        key: &IrpSessionKey,
        password: &SecretString,
        account_id: AccountId,
    ) -> Result<Session, SessionError> {
        let slot = self.slot(key);
        let mut live = slot.lock().await;
        let now = self.now();
        if let Some(current) = live.as_ref() {
            if current.expires_at - now > REFRESH_WINDOW_MS {
                return Ok(current.session.clone());
            }
        }
        // A restart or another replica may hold a fresher session; across replicas, one
        // authenticates (it holds a lease) and the others wait for the session it stores.
        let deadline = now + LEASE_MS;
        loop {
            let now = self.now();
            let claimed = self
                .store
                .claim_auth_lease(key, &self.holder, now, now + LEASE_MS)
                .await
                .unwrap_or(true);
            if let Some(restored) = self.restore(key, now).await {
                let fresh = restored.expires_at - now > REFRESH_WINDOW_MS;
                if fresh {
                    if claimed {
                        let _ = self.store.release_auth_lease(key, &self.holder).await;
                    }
                    let session = restored.session.clone();
                    *live = Some(restored);
                    return Ok(session);
                }
            }
            if claimed || now >= deadline {
                break;
            }
            tokio::time::sleep(LEASE_POLL).await;
        }
        let now = self.now();
        let budget = budget_key(account_id, &key.gstin);
        if let Some(retry_after_secs) = self.auth_failures.check(&budget, now) {
            let _ = self.store.release_auth_lease(key, &self.holder).await;
            return Err(SessionError::Throttled { retry_after_secs });
        }
        let force = live.as_ref().is_some_and(|l| l.expires_at > now);
        let result = client
            .authenticate(&key.gstin, &key.username, password, force)
            .await;
        let (outcome, code) = auth_outcome(&result);
        self.metrics.irp_auth(outcome, code);
        match &result {
            Ok(_) => self.auth_failures.record_success(&budget),
            Err(e) if is_credential_failure(e) => self.auth_failures.record_failure(&budget, now),
            Err(_) => {}
        }
        if let Ok(session) = &result {
            let expires_at = ist_to_ms(&session.token_expiry)
                .map(Timestamp)
                .unwrap_or(now + 50 * 60 * 1000);
            self.persist(key, session, expires_at).await;
            *live = Some(Live {
                session: session.clone(),
                expires_at,
            });
        }
        let _ = self.store.release_auth_lease(key, &self.holder).await;
        result.map_err(SessionError::Irp)
    }

    /// One auth call with credentials that are not stored (a new password checked before it
    /// replaces the stored one): it counts against the account's budget of failed logins for
    /// the GSTIN like any other, and the session it opens is not kept.
    pub async fn try_credentials(
        &self,
        client: &IrpClient,
        gstin: &str,
        username: &str,
        password: &SecretString,
        account_id: AccountId,
    ) -> Result<(), SessionError> {
        let now = self.now();
        let budget = budget_key(account_id, gstin);
        if let Some(retry_after_secs) = self.auth_failures.check(&budget, now) {
            return Err(SessionError::Throttled { retry_after_secs });
        }
        let result = client.authenticate(gstin, username, password, false).await;
        let (outcome, code) = auth_outcome(&result);
        self.metrics.irp_auth(outcome, code);
        match &result {
            Ok(_) => self.auth_failures.record_success(&budget),
            Err(e) if is_credential_failure(e) => self.auth_failures.record_failure(&budget, now),
            Err(_) => {}
        }
        result.map(|_| ()).map_err(SessionError::Irp)
    }

    /// Ends the session that the IRP refused (1005) for one key. When concurrent requests all
    /// see 1005 for the same token, the first ends it and re-authenticates; the others find a
    /// newer session and leave it alone, so one expiry costs one auth call.
    pub async fn invalidate(&self, key: &IrpSessionKey, refused: &Session) {
        let slot = self.slot(key);
        let mut live = slot.lock().await;
        let is_refused = |s: &Session| {
            bool::from(
                s.auth_token
                    .expose_secret()
                    .as_bytes()
                    .ct_eq(refused.auth_token.expose_secret().as_bytes()),
            )
        };
        match live.as_ref() {
            Some(current) if !is_refused(&current.session) => return,
            Some(_) => *live = None,
            None => {}
        }
        // The persisted copy goes too, unless another replica already replaced it.
        let persisted = self.restore(key, self.now()).await;
        if persisted.as_ref().is_some_and(|p| !is_refused(&p.session)) {
            return;
        }
        if let Err(e) = self
            .store
            .delete_irp_sessions(key.owner_id, &key.gstin)
            .await
        {
            tracing::warn!(error = %e, "could not delete a persisted IRP session");
        }
    }

    /// Ends every session of one credential row (it was stored again or deleted); sessions of
    /// other rows for the same GSTIN and username are left alone.
    pub async fn invalidate_row(&self, owner_id: OwnerId, gstin: &str) {
        let slots: Vec<Slot> = match self.slots.lock() {
            Ok(mut slots) => {
                let keys: Vec<IrpSessionKey> = slots
                    .keys()
                    .filter(|k| k.owner_id == owner_id && k.gstin == gstin)
                    .cloned()
                    .collect();
                keys.iter().filter_map(|k| slots.remove(k)).collect()
            }
            Err(_) => Vec::new(),
        };
        for slot in slots {
            *slot.lock().await = None;
        }
        if let Err(e) = self.store.delete_irp_sessions(owner_id, gstin).await {
            tracing::warn!(error = %e, "could not delete persisted IRP sessions");
        }
    }

    async fn persist(&self, key: &IrpSessionKey, session: &Session, expires_at: Timestamp) {
        let plain = zeroize::Zeroizing::new(
            json!({
                "token": session.auth_token.expose_secret(),
                "sek": base64::engine::general_purpose::STANDARD.encode(session.sek.bytes()),
                "expiry": session.token_expiry,
                "username": session.username,
            })
            .to_string(),
        );
        let sealed = match self.vault.seal_labelled(&key.label(), plain.as_bytes()) {
            Ok(sealed) => sealed,
            Err(e) => {
                tracing::warn!(error = %e, "could not seal an IRP session");
                return;
            }
        };
        if let Err(e) = self.store.put_irp_session(key, &sealed, expires_at).await {
            tracing::warn!(error = %e, "could not persist an IRP session");
        }
    }

    async fn restore(&self, key: &IrpSessionKey, now: Timestamp) -> Option<Live> {
        let (sealed, expires_at) = self.store.get_irp_session(key).await.ok()??;
        if expires_at <= now {
            return None;
        }
        let plain = self
            .vault
            .open_labelled_fresh(self.store.as_ref(), &key.label(), &sealed)
            .await
            .ok()?;
        let value: serde_json::Value = serde_json::from_slice(&plain).ok()?;
        let sek = base64::engine::general_purpose::STANDARD
            .decode(value["sek"].as_str()?)
            .ok()?;
        let session = Session {
            gstin: key.gstin.clone(),
            username: value["username"].as_str()?.to_string(),
            auth_token: SecretString::from(value["token"].as_str()?.to_string()),
            sek: AesKey::from_slice(&sek).ok()?,
            token_expiry: value["expiry"].as_str()?.to_string(),
            irp: None,
        };
        Some(Live {
            session,
            expires_at,
        })
    }
}
