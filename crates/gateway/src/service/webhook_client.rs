//! The webhook delivery worker's HTTP client and wake-up call (held by the shared state), and
//! what a delivery is made of: the Standard Webhooks signature and the retry schedule.

use hmac::{Hmac, Mac};
use rand::Rng;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use tokio::sync::Notify;

use crate::clock::Timestamp;
use crate::config::WebhookSettings;

/// How long deliveries are retried.
pub const RETRY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;
/// The longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 60 * 60 * 1000;

/// The delivery worker's HTTP client and its wake-up call.
pub struct WebhookDispatch {
    client: reqwest::Client,
    wake: Notify,
    settings: WebhookSettings,
}

impl WebhookDispatch {
    /// A client that waits `settings.timeout` for a receiver and follows no redirects.
    pub fn new(settings: WebhookSettings) -> Self {
        let client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("einvoice-webhooks")
            .build()
            .unwrap_or_default();
        WebhookDispatch {
            client,
            wake: Notify::new(),
            settings,
        }
    }

    /// Tells the worker that something was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Resolves when something was queued.
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// The HTTP client deliveries go through.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// How deliveries are made.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }
}

/// The `webhook-signature` value for a message: `v1,` and the base64 of the HMAC-SHA256, keyed
/// by the secret's bytes (the base64 after `whsec_`), of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &SecretString, id: &str, timestamp: i64, body: &str) -> Option<String> {
    use base64::Engine;
    let encoded = secret.expose_secret().strip_prefix("whsec_")?;
    let key = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?,
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// When to try again after `attempts` failed attempts: about `base · 2^(attempts-1)` (half to
/// all of it, at random), at most an hour; `None` once that falls outside the 24-hour window.
pub fn next_attempt(
    settings: &WebhookSettings,
    created_at: Timestamp,
    attempts: i64,
    now: Timestamp,
) -> Option<Timestamp> {
    let base = i64::try_from(settings.retry_base.as_millis()).unwrap_or(MAX_BACKOFF_MS);
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let backoff = base.saturating_mul(1i64 << exponent).min(MAX_BACKOFF_MS);
    let wait = rand::thread_rng().gen_range(backoff / 2..=backoff.max(1));
    let at = now.millis() + wait;
    (at - created_at.millis() <= RETRY_WINDOW_MS).then_some(Timestamp(at))
}
