//! The state every request handler and service function receives: settings, store, vault,
//! clock and throttles. Built once by [`crate::app::Application`]; there are no globals.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::clock::Clock;
use crate::clock::Timestamp;
use crate::config::{Mode, Settings};
use crate::ids::AccountId;
use crate::storage::Store;
use crate::throttle::FailureThrottle;
use crate::vault::Vault;

/// The account that sandbox-mode requests without a token act for.
pub const SANDBOX_ACCOUNT_ID: AccountId =
    AccountId(Uuid::from_u128(0x5a4d_b0c5_0000_4000_8000_0000_0000_0001));

/// The invalid tokens all addresses together may send per minute, as a multiple of the
/// per-address limit: many addresses cannot guess freely either.
const INVALID_TOKEN_CAP_FACTOR: u32 = 50;
/// Failed logins one address may make per 15 minutes, as a multiple of the per-email limit.
const LOGIN_ADDRESS_FACTOR: u32 = 4;

/// Shared, cheaply clonable application state.
#[derive(Clone)]
pub struct AppState {
    /// Resolved settings.
    pub settings: Arc<Settings>,
    /// The database.
    pub store: Arc<dyn Store>,
    /// The unwrapped data keys.
    pub vault: Arc<Vault>,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Failed logins, by email.
    pub login_throttle: Arc<FailureThrottle>,
    /// Failed token checks, by client address.
    pub token_throttle: Arc<FailureThrottle>,
    /// An Argon2 hash to verify against for unknown emails (equal timing).
    pub dummy_password_hash: Arc<String>,
    /// The IRP connection (none when not configured).
    pub irp: Option<Arc<crate::irp::IrpContext>>,
    /// Owners seen by this process (they never change).
    pub owner_cache: Arc<crate::service::owner_cache::OwnerCache>,
    /// Keys the console's CSRF tokens (derived from the master key).
    pub csrf_key: Arc<zeroize::Zeroizing<[u8; 32]>>,
    /// Invalid tokens from all addresses together, per minute.
    pub invalid_token_cap: Arc<FailureThrottle>,
    /// Failed logins per client address.
    pub login_address_throttle: Arc<FailureThrottle>,
    /// Failed logins per email, with growing delays.
    pub login_email_backoff: Arc<crate::throttle::Backoff>,
    /// Bounds concurrent password hashing (Argon2id needs about 19 MiB each).
    pub password_hashing: Arc<crate::accounts::HashingGate>,
    /// Prometheus metrics (`GET /metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The bulkhead and the per-GSTIN limits.
    pub admission: Arc<crate::service::admission::Admission>,
    /// The webhook delivery worker's client and wake-up call.
    pub webhook_dispatch: Arc<crate::service::webhook_client::WebhookDispatch>,
}

impl AppState {
    /// Assembles the state.
    pub fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        vault: Vault,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let login_throttle =
            FailureThrottle::new(settings.login_failure_limit, Duration::from_secs(15 * 60));
        let token_throttle =
            FailureThrottle::new(settings.token_failure_limit, Duration::from_secs(60));
        let csrf_key = Arc::new(vault.derive_key("csrf"));
        let invalid_token_cap = FailureThrottle::new(
            settings
                .token_failure_limit
                .saturating_mul(INVALID_TOKEN_CAP_FACTOR),
            Duration::from_secs(60),
        );
        let login_address_throttle = FailureThrottle::new(
            settings
                .login_failure_limit
                .saturating_mul(LOGIN_ADDRESS_FACTOR),
            Duration::from_secs(15 * 60),
        );
        let login_email_backoff = crate::throttle::Backoff::new(
            settings.login_failure_limit,
            Duration::from_secs(5),
            Duration::from_secs(15 * 60),
        );
        AppState {
            admission: Arc::new(crate::service::admission::Admission::new(
                &settings.admission,
            )),
            webhook_dispatch: Arc::new(crate::service::webhook_client::WebhookDispatch::new(
                settings.webhooks,
            )),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            csrf_key,
            invalid_token_cap: Arc::new(invalid_token_cap),
            login_address_throttle: Arc::new(login_address_throttle),
            login_email_backoff: Arc::new(login_email_backoff),
            password_hashing: Arc::new(crate::accounts::HashingGate::for_this_machine()),
            settings: Arc::new(settings),
            store,
            vault: Arc::new(vault),
            clock,
            login_throttle: Arc::new(login_throttle),
            token_throttle: Arc::new(token_throttle),
            dummy_password_hash: Arc::new(crate::accounts::dummy_password_hash()),
            owner_cache: Arc::new(crate::service::owner_cache::OwnerCache::new(100_000)),
            irp: None,
        }
    }

    /// Whether the gateway runs in sandbox mode.
    pub fn is_sandbox(&self) -> bool {
        self.settings.mode == Mode::Sandbox
    }

    /// The GSTIN strictness of the mode.
    pub fn gstin_strictness(&self) -> gst_core::Strictness {
        match self.settings.mode {
            Mode::Sandbox => gst_core::Strictness::Sandbox,
            Mode::Production => gst_core::Strictness::Production,
        }
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.clock.now_ms())
    }
}
