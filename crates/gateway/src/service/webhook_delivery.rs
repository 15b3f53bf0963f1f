//! Delivering the webhook outbox: each due delivery is claimed (so one replica sends it),
//! signed as Standard Webhooks sign (`webhook-id`, `webhook-timestamp`, `webhook-signature` =
//! `v1,` and the base64 of HMAC-SHA256 over `id.timestamp.body`), POSTed, and recorded. A
//! failure is retried with exponential backoff and jitter for 24 hours. Delivery is
//! at-least-once: the `webhook-id` is the same on every attempt.

use std::time::Duration;

use secrecy::SecretString;

use super::webhook_client::{next_attempt, sign};
use super::ServiceError;
use crate::clock::Timestamp;
use crate::events::{self, CredentialPlace, EventKind, OutboxEvent};
use crate::state::AppState;
use crate::storage::{AttemptResult, DueDelivery, WebhookRecord};

/// Deliveries sent at once.
const PARALLEL_DELIVERIES: usize = 16;
/// How often the password-age sweep runs.
const PASSWORD_AGE_SWEEP_MS: i64 = 60 * 1000;
/// The longest error text kept in the delivery log.
const MAX_ERROR_LEN: usize = 200;

async fn attempt(state: &AppState, delivery: &DueDelivery) -> (Option<i64>, Option<String>) {
    let secret = match state.vault.open_labelled(
        &WebhookRecord::secret_label(delivery.webhook_id),
        &delivery.secret_sealed,
    ) {
        Ok(plain) => SecretString::from(String::from_utf8_lossy(&plain).into_owned()),
        Err(e) => {
            state.metrics.vault("open", false);
            return (
                None,
                Some(format!("the webhook's secret could not be opened: {e}")),
            );
        }
    };
    let id = OutboxEvent::message_id(delivery.event_id);
    let timestamp = state.now().millis() / 1000;
    let Some(signature) = sign(&secret, &id, timestamp, &delivery.payload) else {
        return (None, Some("the webhook's secret is malformed".into()));
    };
    let sent = state
        .webhook_dispatch
        .client()
        .post(&delivery.url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(delivery.payload.clone())
        .send()
        .await;
    match sent {
        Ok(answer) if answer.status().is_success() => (Some(answer.status().as_u16().into()), None),
        Ok(answer) => (
            Some(answer.status().as_u16().into()),
            Some(format!(
                "the receiver answered HTTP {}",
                answer.status().as_u16()
            )),
        ),
        Err(e) => {
            let reason = if e.is_timeout() {
                "the receiver did not answer in time".to_string()
            } else if e.is_connect() {
                "could not connect to the receiver".to_string()
            } else {
                e.without_url().to_string()
            };
            (None, Some(reason.chars().take(MAX_ERROR_LEN).collect()))
        }
    }
}

async fn deliver(state: &AppState, delivery: DueDelivery) -> Result<bool, ServiceError> {
    let settings = *state.webhook_dispatch.settings();
    let lease = i64::try_from(settings.timeout.as_millis()).unwrap_or(60_000) + 5_000;
    let now = state.now();
    if !state
        .store
        .claim_delivery(&delivery, Timestamp(now.millis() + lease))
        .await?
    {
        return Ok(false);
    }
    let (status, error) = attempt(state, &delivery).await;
    let at = state.now();
    let attempts = delivery.attempts + 1;
    let next_attempt_at = error
        .as_ref()
        .and_then(|_| next_attempt(&settings, delivery.created_at, attempts, at));
    let outcome = match (&error, next_attempt_at) {
        (None, _) => "delivered",
        (Some(_), Some(_)) => "failed",
        (Some(_), None) => "given_up",
    };
    if let Some(kind) = EventKind::parse(&delivery.event_type) {
        state.metrics.webhook_delivery(kind, outcome);
    }
    let error = match (error, outcome) {
        (Some(e), "given_up") => Some(format!("gave up after 24 hours; last: {e}")),
        (e, _) => e,
    };
    tracing::debug!(webhook = %delivery.webhook_id, event = %delivery.event_type, outcome, "webhook delivery attempt");
    state
        .store
        .record_attempt(
            delivery.event_id,
            delivery.webhook_id,
            &AttemptResult {
                at,
                status,
                error,
                next_attempt_at,
            },
        )
        .await?;
    Ok(true)
}

/// Sends up to `limit` due deliveries (several at once); returns how many were attempted.
pub async fn deliver_due_once(state: &AppState, limit: i64) -> Result<usize, ServiceError> {
    use futures_util::StreamExt;
    let due = state.store.due_deliveries(state.now(), limit).await?;
    let results: Vec<_> = futures_util::stream::iter(due)
        .map(|delivery| deliver(state, delivery))
        .buffer_unordered(PARALLEL_DELIVERIES)
        .collect()
        .await;
    let mut attempted = 0;
    for result in results {
        match result {
            Ok(true) => attempted += 1,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "a webhook delivery could not be recorded"),
        }
    }
    Ok(attempted)
}

/// Reports each password stored longer than the configured age before `now`, once per
/// version; returns how many were reported.
pub async fn password_age_sweep_once(
    state: &AppState,
    now: Timestamp,
    limit: i64,
) -> Result<usize, ServiceError> {
    let days = state.settings.webhooks.password_age_days;
    if days == 0 {
        return Ok(0);
    }
    let before = Timestamp(now.millis() - i64::from(days) * 24 * 60 * 60 * 1000);
    let mut reported = 0;
    for credential in state
        .store
        .credentials_past_password_age(before, limit)
        .await?
    {
        let place = CredentialPlace {
            account_id: credential.account_id,
            owner_id: credential.owner_id,
            gstin: &credential.gstin,
        };
        let event = events::password_age(
            place,
            &credential.username,
            credential.updated_at,
            days,
            now,
        );
        if state.store.report_password_age(&credential, &event).await? {
            reported += 1;
        }
    }
    if reported > 0 {
        state.webhook_dispatch.wake();
    }
    Ok(reported)
}

/// The worker: delivers what is due whenever something is queued, and at least every
/// `min(retry base, 1 s)`; sweeps password ages every minute. Runs until aborted.
pub async fn run(state: AppState) {
    let settings = *state.webhook_dispatch.settings();
    let poll = settings.retry_base.min(Duration::from_secs(1));
    let mut last_sweep = i64::MIN;
    loop {
        if state.now().millis().saturating_sub(last_sweep) >= PASSWORD_AGE_SWEEP_MS {
            last_sweep = state.now().millis();
            if let Err(e) = password_age_sweep_once(&state, state.now(), 100).await {
                tracing::warn!(error = %e, "password-age sweep failed");
            }
        }
        match deliver_due_once(&state, 64).await {
            // A full batch: there may be more due at once.
            Ok(64) => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook deliveries failed"),
        }
        let _ = tokio::time::timeout(poll, state.webhook_dispatch.woken()).await;
    }
}
