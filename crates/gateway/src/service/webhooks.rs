//! Webhooks, per account: registering a URL for some events (the signing secret is shown once
//! and kept sealed), listing, deleting, the delivery log and a manual re-send; and the events
//! that are not written by the store itself (failed documents, IRP availability).

use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use uuid::Uuid;

use super::{Actor, FieldError, ServiceError};
use crate::events::{self, CredentialPlace, EventKind, OutboxEvent};
use crate::ids::OwnerId;
use crate::state::AppState;
use crate::storage::{DeliveryRecord, WebhookRecord};

/// Webhooks an account may have.
pub const MAX_WEBHOOKS_PER_ACCOUNT: usize = 10;
/// Deliveries the log shows.
pub const DELIVERY_LOG_LIMIT: i64 = 50;
/// The longest webhook URL.
const MAX_URL_LEN: usize = 2000;

/// A new webhook.
pub struct NewWebhook {
    /// Where deliveries go: https (or http in sandbox mode), without credentials in it.
    pub url: String,
    /// Event types; empty means every event.
    pub events: Vec<String>,
}

/// A webhook just made, with its secret (shown this once).
pub struct CreatedWebhook {
    /// The webhook.
    pub webhook: WebhookRecord,
    /// `whsec_` and the base64 of 24 random bytes: the Standard Webhooks secret format.
    pub secret: SecretString,
}

fn check_url(state: &AppState, url: &str) -> Result<(), FieldError> {
    let invalid = |message: &str| FieldError::new("invalid_url", message.to_string(), "url");
    if url.len() > MAX_URL_LEN {
        return Err(invalid("the URL is longer than 2000 characters"));
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| invalid("not an absolute http(s) URL"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if state.is_sandbox() => {}
        "http" => return Err(invalid("webhooks need https in production mode")),
        _ => return Err(invalid("not an absolute http(s) URL")),
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host"));
    }
    if !state.is_sandbox() && is_internal(&parsed) {
        return Err(invalid(
            "webhooks go to public hosts in production mode, not to loopback, private or link-local addresses",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "put no credentials in the URL: deliveries are signed, verify the webhook-signature header",
        ));
    }
    Ok(())
}

/// Whether a URL names this machine or a private, link-local or unspecified address literally
/// (a first guard against webhooks aimed inside the gateway's network; a public name that
/// resolves inside it is not caught here).
fn is_internal(url: &reqwest::Url) -> bool {
    use std::net::IpAddr;
    let Some(host) = url.host_str() else {
        return true;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => internal_v4(v4),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(internal_v4)
        }
        Err(_) => {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    }
}

fn internal_v4(v4: std::net::Ipv4Addr) -> bool {
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
}

fn check_events(events: &[String]) -> Result<String, FieldError> {
    let mut kinds = Vec::new();
    for event in events {
        let kind = EventKind::parse(event.trim()).ok_or_else(|| {
            FieldError::new(
                "unknown_event",
                format!(
                    "unknown event type {:?}; use {}",
                    event.chars().take(60).collect::<String>(),
                    EventKind::ALL.map(EventKind::as_str).join(", ")
                ),
                "events",
            )
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        kinds = EventKind::ALL.to_vec();
    }
    Ok(kinds
        .into_iter()
        .map(EventKind::as_str)
        .collect::<Vec<_>>()
        .join(","))
}

/// Registers a webhook for the account.
pub async fn create(
    state: &AppState,
    actor: Actor,
    new: NewWebhook,
) -> Result<CreatedWebhook, ServiceError> {
    let url = new.url.trim().to_string();
    let mut problems = Vec::new();
    if let Err(e) = check_url(state, &url) {
        problems.push(e);
    }
    let events = check_events(&new.events).map_err(|e| problems.push(e)).ok();
    let Some(events) = events.filter(|_| problems.is_empty()) else {
        return Err(ServiceError::Invalid(problems));
    };
    if state.store.list_webhooks(actor.account_id).await?.len() >= MAX_WEBHOOKS_PER_ACCOUNT {
        return Err(ServiceError::Conflict(FieldError::general(
            "too_many_webhooks",
            format!("an account has at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks; delete one first"),
        )));
    }
    let id = Uuid::new_v4();
    let mut key = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    let secret = SecretString::from(format!(
        "whsec_{}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key)
    ));
    let sealed = state
        .vault
        .seal_labelled(
            &WebhookRecord::secret_label(id),
            secret.expose_secret().as_bytes(),
        )
        .map_err(ServiceError::internal)?;
    let webhook = WebhookRecord {
        id,
        account_id: actor.account_id,
        url,
        events,
        secret_sealed: sealed,
        created_at: state.now(),
        deleted_at: None,
    };
    state.store.insert_webhook(&webhook).await?;
    Ok(CreatedWebhook { webhook, secret })
}

/// The account's webhooks.
pub async fn list(state: &AppState, actor: Actor) -> Result<Vec<WebhookRecord>, ServiceError> {
    Ok(state.store.list_webhooks(actor.account_id).await?)
}

fn not_found() -> ServiceError {
    ServiceError::NotFound(FieldError::new(
        "webhook_not_found",
        "no webhook with this id in your account",
        "id",
    ))
}

/// Deletes a webhook of the account; its pending deliveries are given up.
pub async fn delete(state: &AppState, actor: Actor, id: Uuid) -> Result<(), ServiceError> {
    if state
        .store
        .delete_webhook(actor.account_id, id, state.now())
        .await?
    {
        Ok(())
    } else {
        Err(not_found())
    }
}

/// A webhook of the account with its newest deliveries.
pub async fn deliveries(
    state: &AppState,
    actor: Actor,
    id: Uuid,
) -> Result<(WebhookRecord, Vec<DeliveryRecord>), ServiceError> {
    let webhook = state
        .store
        .get_webhook(actor.account_id, id)
        .await?
        .ok_or_else(not_found)?;
    let deliveries = state
        .store
        .list_deliveries(actor.account_id, id, DELIVERY_LOG_LIMIT)
        .await?;
    Ok((webhook, deliveries))
}

/// Sends a delivery again now, with the same `webhook-id` (receivers de-duplicate by it).
pub async fn resend(
    state: &AppState,
    actor: Actor,
    id: Uuid,
    event_id: Uuid,
) -> Result<(), ServiceError> {
    if state
        .store
        .resend_delivery(actor.account_id, id, event_id, state.now())
        .await?
    {
        state.webhook_dispatch.wake();
        Ok(())
    } else {
        Err(ServiceError::NotFound(FieldError::new(
            "delivery_not_found",
            "no delivery of this event to this webhook in your account",
            "event_id",
        )))
    }
}

/// Queues an event that no other write carries; failures are logged, never the caller's.
pub async fn emit(state: &AppState, event: OutboxEvent) {
    match state.store.enqueue_event(&event).await {
        Ok(0) => {}
        Ok(_) => state.webhook_dispatch.wake(),
        Err(e) => {
            tracing::warn!(event = event.kind.as_str(), error = %e, "could not queue a webhook event")
        }
    }
}

/// `einvoice.generation_failed` for a document the IRP did not register.
pub async fn generation_failed(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    document: &Value,
    errors: Value,
) {
    let identity = serde_json::json!({
        "Typ": document.pointer("/DocDtls/Typ"),
        "No": document.pointer("/DocDtls/No"),
        "Dt": document.pointer("/DocDtls/Dt"),
    });
    let place = CredentialPlace {
        account_id: actor.account_id,
        owner_id,
        gstin,
    };
    emit(
        state,
        events::generation_failed(place, identity, errors, state.now()),
    )
    .await;
}

#[cfg(test)]
mod tests {
    use super::is_internal;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.9/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://localhost:8443/x",
            "https://api.localhost/x",
        ] {
            assert!(
                is_internal(&reqwest::Url::parse(internal).unwrap()),
                "{internal}"
            );
        }
        for public in [
            "https://erp.example.com/hooks",
            "https://8.8.8.8/x",
            "https://[2001:db8::1]/x",
        ] {
            assert!(
                !is_internal(&reqwest::Url::parse(public).unwrap()),
                "{public}"
            );
        }
    }
}
