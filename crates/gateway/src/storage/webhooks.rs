//! What the store keeps for webhooks: the webhooks of each account, and the outbox of their
//! deliveries (one row per event and webhook, written in the transaction of the change).

use async_trait::async_trait;
use uuid::Uuid;

use super::{AccountId, OwnerId, StoreError, Timestamp};
use crate::events::OutboxEvent;

/// A webhook of an account. The signing secret is sealed by the vault.
#[derive(Clone, sqlx::FromRow)]
pub struct WebhookRecord {
    /// Its id.
    pub id: Uuid,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types it receives, comma-separated.
    pub events: String,
    /// The signing secret, sealed under the label [`WebhookRecord::secret_label`].
    pub secret_sealed: Vec<u8>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When it was deleted (deleted webhooks receive nothing).
    pub deleted_at: Option<Timestamp>,
}

impl WebhookRecord {
    /// The vault label that binds a sealed secret to its webhook.
    pub fn secret_label(id: Uuid) -> String {
        format!("webhook-secret|{id}")
    }
}

impl std::fmt::Debug for WebhookRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("secret_sealed", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// One event's delivery to one webhook, with its latest attempt.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRecord {
    /// The event (the `webhook-id` is derived from it).
    pub event_id: Uuid,
    /// The webhook.
    pub webhook_id: Uuid,
    /// The webhook's account.
    pub account_id: AccountId,
    /// The event type.
    pub event_type: String,
    /// The JSON body.
    pub payload: String,
    /// When the event happened (Unix ms).
    pub created_at: Timestamp,
    /// Attempts so far.
    pub attempts: i64,
    /// When the next attempt is due; `None` once delivered or given up.
    pub next_attempt_at: Option<Timestamp>,
    /// When it was last tried.
    pub last_attempt_at: Option<Timestamp>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When the receiver accepted it.
    pub delivered_at: Option<Timestamp>,
}

/// A delivery that is due, with where it goes.
#[derive(Clone, sqlx::FromRow)]
pub struct DueDelivery {
    /// The event.
    pub event_id: Uuid,
    /// The webhook.
    pub webhook_id: Uuid,
    /// The event type.
    pub event_type: String,
    /// The JSON body.
    pub payload: String,
    /// When the event happened.
    pub created_at: Timestamp,
    /// Attempts so far.
    pub attempts: i64,
    /// When it became due (the claim checks that no one else claimed it meanwhile).
    pub next_attempt_at: Timestamp,
    /// The webhook's URL.
    pub url: String,
    /// The webhook's sealed secret.
    pub secret_sealed: Vec<u8>,
}

/// What one delivery attempt did.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// When it was made.
    pub at: Timestamp,
    /// The receiver's HTTP status, if it answered.
    pub status: Option<i64>,
    /// Why it failed (`None` when delivered).
    pub error: Option<String>,
    /// When to try again; `None` when delivered or given up.
    pub next_attempt_at: Option<Timestamp>,
}

/// A stored credential whose password is older than the configured age and was not reported.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AgedCredential {
    /// The account.
    pub account_id: AccountId,
    /// The owner.
    pub owner_id: OwnerId,
    /// The GSTIN.
    pub gstin: String,
    /// The API user.
    pub username: String,
    /// The credential version.
    pub version: i64,
    /// When the password was stored.
    pub updated_at: Timestamp,
}

/// Webhooks and their outbox.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Adds a webhook.
    async fn insert_webhook(&self, webhook: &WebhookRecord) -> Result<(), StoreError>;
    /// The account's live webhooks, oldest first.
    async fn list_webhooks(&self, account_id: AccountId) -> Result<Vec<WebhookRecord>, StoreError>;
    /// One live webhook of the account.
    async fn get_webhook(
        &self,
        account_id: AccountId,
        id: Uuid,
    ) -> Result<Option<WebhookRecord>, StoreError>;
    /// Deletes a webhook of the account and gives up its pending deliveries; false when the
    /// account has no such live webhook.
    async fn delete_webhook(
        &self,
        account_id: AccountId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Writes an event into the outbox of every live webhook that receives it (a change that
    /// writes nothing else); returns how many deliveries were queued.
    async fn enqueue_event(&self, event: &OutboxEvent) -> Result<u64, StoreError>;
    /// The newest deliveries of a webhook of the account.
    async fn list_deliveries(
        &self,
        account_id: AccountId,
        webhook_id: Uuid,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// Deliveries due at `now`, oldest first, with their webhooks.
    async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError>;
    /// Claims a due delivery until `until` (so another replica does not send it meanwhile);
    /// false when someone else claimed or finished it.
    async fn claim_delivery(
        &self,
        delivery: &DueDelivery,
        until: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Records an attempt.
    async fn record_attempt(
        &self,
        event_id: Uuid,
        webhook_id: Uuid,
        attempt: &AttemptResult,
    ) -> Result<(), StoreError>;
    /// Makes a delivery of the account due again at `now` (same event, same `webhook-id`);
    /// false when there is no such delivery.
    async fn resend_delivery(
        &self,
        account_id: AccountId,
        webhook_id: Uuid,
        event_id: Uuid,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Credentials stored before `stored_before` whose age was not reported for their version.
    async fn credentials_past_password_age(
        &self,
        stored_before: Timestamp,
        limit: i64,
    ) -> Result<Vec<AgedCredential>, StoreError>;
    /// In one transaction: marks the version's age as reported and queues `event`; false
    /// (nothing queued) when it was reported already or the row changed.
    async fn report_password_age(
        &self,
        credential: &AgedCredential,
        event: &OutboxEvent,
    ) -> Result<bool, StoreError>;
}
