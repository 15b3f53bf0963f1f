//! The webhook part of the one store implementation (see `sql.rs`): webhooks, and the outbox
//! of their deliveries with its claims (so several replicas never send one delivery at once).

use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, FromRow, IntoArguments, Type};
use uuid::Uuid;

use super::dialect::Dialect;
use super::queries::enqueue;
use super::sql::SqlStore;
use super::webhooks::*;
use super::{AccountId, StoreError, Timestamp};
use crate::events::OutboxEvent;

const SELECT_WEBHOOK: &str =
    "SELECT id, account_id, url, events, secret_sealed, created_at, deleted_at FROM webhooks";
const SELECT_DELIVERY: &str = "SELECT event_id, webhook_id, account_id, event_type, payload, \
    created_at, attempts, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at \
    FROM webhook_deliveries";
#[async_trait]
impl<DB: Dialect> WebhookStore for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Uuid: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> WebhookRecord: FromRow<'r, DB::Row>,
    for<'r> DeliveryRecord: FromRow<'r, DB::Row>,
    for<'r> DueDelivery: FromRow<'r, DB::Row>,
    for<'r> AgedCredential: FromRow<'r, DB::Row>,
{
    async fn insert_webhook(&self, webhook: &WebhookRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO webhooks (id, account_id, url, events, secret_sealed, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(webhook.id)
            .bind(webhook.account_id.uuid())
            .bind(webhook.url.as_str())
            .bind(webhook.events.as_str())
            .bind(webhook.secret_sealed.as_slice())
            .bind(webhook.created_at.millis())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn list_webhooks(&self, account_id: AccountId) -> Result<Vec<WebhookRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "{SELECT_WEBHOOK} WHERE account_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        ))
        .bind(account_id.uuid())
        .fetch_all(&self.reader)
        .await?)
    }

    async fn get_webhook(
        &self,
        account_id: AccountId,
        id: Uuid,
    ) -> Result<Option<WebhookRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "{SELECT_WEBHOOK} WHERE account_id = $1 AND id = $2 AND deleted_at IS NULL"
        ))
        .bind(account_id.uuid())
        .bind(id)
        .fetch_optional(&self.reader)
        .await?)
    }

    async fn delete_webhook(
        &self,
        account_id: AccountId,
        id: Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = DB::begin_write(&self.writer).await?;
        let done = sqlx::query("UPDATE webhooks SET deleted_at = $1 WHERE account_id = $2 AND id = $3 AND deleted_at IS NULL")
            .bind(at.millis())
            .bind(account_id.uuid())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&done) == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = NULL, last_error = 'the webhook was deleted' WHERE webhook_id = $1 AND next_attempt_at IS NOT NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn enqueue_event(&self, event: &OutboxEvent) -> Result<u64, StoreError> {
        let done = enqueue::<DB>(event).execute(&self.writer).await?;
        Ok(DB::rows_affected(&done))
    }

    async fn list_deliveries(
        &self,
        account_id: AccountId,
        webhook_id: Uuid,
        limit: i64,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        Ok(sqlx::query_as(&format!(
            "{SELECT_DELIVERY} WHERE account_id = $1 AND webhook_id = $2 ORDER BY created_at DESC, event_id LIMIT $3"
        ))
        .bind(account_id.uuid())
        .bind(webhook_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await?)
    }

    async fn due_deliveries(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        Ok(sqlx::query_as("SELECT d.event_id, d.webhook_id, d.event_type, d.payload, d.created_at, d.attempts, d.next_attempt_at, w.url, w.secret_sealed \
            FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
            WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $1 AND w.deleted_at IS NULL \
            ORDER BY d.next_attempt_at LIMIT $2")
            .bind(now.millis())
            .bind(limit)
            .fetch_all(&self.reader)
            .await?)
    }

    async fn claim_delivery(
        &self,
        delivery: &DueDelivery,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE event_id = $2 AND webhook_id = $3 AND next_attempt_at = $4")
            .bind(until.millis())
            .bind(delivery.event_id)
            .bind(delivery.webhook_id)
            .bind(delivery.next_attempt_at.millis())
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn record_attempt(
        &self,
        event_id: Uuid,
        webhook_id: Uuid,
        attempt: &AttemptResult,
    ) -> Result<(), StoreError> {
        let delivered = attempt.error.is_none().then_some(attempt.at.millis());
        sqlx::query("UPDATE webhook_deliveries SET attempts = attempts + 1, last_attempt_at = $1, last_status = $2, last_error = $3, next_attempt_at = $4, delivered_at = COALESCE($5, delivered_at) WHERE event_id = $6 AND webhook_id = $7")
            .bind(attempt.at.millis())
            .bind(attempt.status)
            .bind(attempt.error.as_deref())
            .bind(attempt.next_attempt_at.map(Timestamp::millis))
            .bind(delivered)
            .bind(event_id)
            .bind(webhook_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn resend_delivery(
        &self,
        account_id: AccountId,
        webhook_id: Uuid,
        event_id: Uuid,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE account_id = $2 AND webhook_id = $3 AND event_id = $4 \
            AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = $3 AND w.deleted_at IS NULL)")
            .bind(now.millis())
            .bind(account_id.uuid())
            .bind(webhook_id)
            .bind(event_id)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn credentials_past_password_age(
        &self,
        stored_before: Timestamp,
        limit: i64,
    ) -> Result<Vec<AgedCredential>, StoreError> {
        Ok(sqlx::query_as("SELECT account_id, owner_id, gstin, username, version, updated_at FROM nic_credentials \
            WHERE updated_at < $1 AND (age_notified_version IS NULL OR age_notified_version <> version) \
            ORDER BY updated_at LIMIT $2")
            .bind(stored_before.millis())
            .bind(limit)
            .fetch_all(&self.reader)
            .await?)
    }

    async fn report_password_age(
        &self,
        credential: &AgedCredential,
        event: &OutboxEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = DB::begin_write(&self.writer).await?;
        let done = sqlx::query("UPDATE nic_credentials SET age_notified_version = version WHERE owner_id = $1 AND gstin = $2 AND version = $3 \
            AND (age_notified_version IS NULL OR age_notified_version <> version)")
            .bind(credential.owner_id.uuid())
            .bind(credential.gstin.as_str())
            .bind(credential.version)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&done) == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        enqueue::<DB>(event).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }
}
