//! The one implementation of [`Store`], written once for SQLite and PostgreSQL: every method
//! has one body and one SQL text (portable SQL: `$n` placeholders, `ON CONFLICT`, row values,
//! `CAST`), rows are read by `sqlx::FromRow`, and what the two databases do differently (how a
//! write transaction starts, migrations, connecting) is the small [`Dialect`] trait, implemented
//! in `sqlite.rs` and `postgres.rs`.
//!
//! Why a generic implementation over `sqlx::Database` rather than `sqlx::Any` (no `Uuid`) or a
//! query builder: the SQL already was the same text on both, so one generic body over the two
//! concrete drivers keeps it as SQL, checked by both test suites.

use async_trait::async_trait;
use sqlx::pool::Pool;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};
use uuid::Uuid;

use super::dialect::Dialect;
use super::queries::*;
use super::*;

/// The store over a writer pool and a reader pool (the same pool on PostgreSQL; one writer
/// connection and several readers on SQLite), and a background task to stop on close.
pub struct SqlStore<DB: Database> {
    pub(super) writer: Pool<DB>,
    pub(super) reader: Pool<DB>,
    pub(super) background: Option<tokio::task::JoinHandle<()>>,
}

impl<DB: Database> Drop for SqlStore<DB> {
    fn drop(&mut self) {
        if let Some(task) = &self.background {
            task.abort();
        }
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait]
impl<DB: Dialect> Store for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'q> Uuid: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> i64: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Vec<u8>: Encode<'q, DB> + Decode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    for<'q> Option<Uuid>: Encode<'q, DB>,
    for<'q> Option<i64>: Encode<'q, DB>,
    for<'q> Option<String>: Encode<'q, DB>,
    for<'q> Option<&'q str>: Encode<'q, DB>,
    usize: ColumnIndex<DB::Row>,
    for<'r> UserRecord: FromRow<'r, DB::Row>,
    for<'r> TokenRecord: FromRow<'r, DB::Row>,
    for<'r> OwnerRecord: FromRow<'r, DB::Row>,
    for<'r> VaultKeyRecord: FromRow<'r, DB::Row>,
    for<'r> CredentialRecord: FromRow<'r, DB::Row>,
    for<'r> AuditEvent: FromRow<'r, DB::Row>,
    for<'r> EinvoiceRecord: FromRow<'r, DB::Row>,
    for<'r> WebSessionRecord: FromRow<'r, DB::Row>,
    Self: WebhookStore,
{
    fn backend(&self) -> Backend {
        DB::BACKEND
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        DB::migrate(&self.writer).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn close(&self) {
        if let Some(task) = &self.background {
            task.abort();
        }
        self.reader.close().await;
        self.writer.close().await;
    }

    async fn ensure_account(&self, account: &AccountRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO accounts (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(account.id)
            .bind(&account.name)
            .bind(account.created_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO users (id, account_id, email, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(user.id)
            .bind(user.account_id)
            .bind(&user.email)
            .bind(&user.password_hash)
            .bind(user.created_at)
            .execute(&self.writer)
            .await
            .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict("a user with this email") } else { e.into() })?;
        Ok(())
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, account_id, email, password_hash, created_at FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(UserRecord::from_row).transpose()?)
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO auth_tokens (id, account_id, user_id, label, token_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(token.id)
            .bind(token.account_id)
            .bind(token.user_id.map(UserId::uuid))
            .bind(&token.label)
            .bind(&token.token_hash)
            .bind(token.created_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn find_token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError> {
        let row = sqlx::query(&format!("{SELECT_TOKEN} WHERE token_hash = $1"))
            .bind(hash)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(TokenRecord::from_row).transpose()?)
    }

    async fn list_tokens(&self, account_id: AccountId) -> Result<Vec<TokenRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_TOKEN} WHERE account_id = $1 ORDER BY created_at DESC"
        ))
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(TokenRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn revoke_token(
        &self,
        account_id: AccountId,
        token_id: Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE auth_tokens SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
            .bind(at)
            .bind(token_id)
            .bind(account_id)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn touch_token(&self, token_id: Uuid, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE auth_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(token_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn insert_owner(&self, owner: &OwnerRecord) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO owners (id, account_id, kind, name, pan, gstin, parent_id, created_at) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
        )
        .bind(owner.id)
        .bind(owner.account_id)
        .bind(owner.kind().as_str())
        .bind(&owner.name)
        .bind(owner.pan())
        .bind(owner.gstin().map(|g| g.as_str()))
        .bind(owner.parent_id().map(OwnerId::uuid))
        .bind(owner.created_at)
        .execute(&self.writer)
        .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn get_owner(
        &self,
        account_id: AccountId,
        owner_id: OwnerId,
    ) -> Result<Option<OwnerRecord>, StoreError> {
        let row = sqlx::query(&format!("{SELECT_OWNER} WHERE id = $1 AND account_id = $2"))
            .bind(owner_id)
            .bind(account_id)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(OwnerRecord::from_row).transpose()?)
    }

    async fn owners_for_gstin(
        &self,
        account_id: AccountId,
        gstin: &str,
    ) -> Result<Vec<OwnerRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_OWNER} WHERE account_id = $1 AND (gstin = $2 OR id IN \
             (SELECT owner_id FROM nic_credentials WHERE account_id = $3 AND gstin = $4)) \
             ORDER BY created_at, id"
        ))
        .bind(account_id)
        .bind(gstin)
        .bind(account_id)
        .bind(gstin)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(OwnerRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn list_owners(&self, account_id: AccountId) -> Result<Vec<OwnerRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_OWNER} WHERE account_id = $1 ORDER BY created_at, id"
        ))
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(OwnerRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn list_vault_keys(&self) -> Result<Vec<VaultKeyRecord>, StoreError> {
        let rows =
            sqlx::query("SELECT version, wrapped_key, created_at FROM vault_keys ORDER BY version")
                .fetch_all(&self.writer)
                .await?;
        Ok(rows
            .iter()
            .map(VaultKeyRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn insert_vault_key(&self, key: &VaultKeyRecord) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO vault_keys (version, wrapped_key, created_at) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING")
            .bind(key.version)
            .bind(&key.wrapped_key)
            .bind(key.created_at)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn add_vault_key(
        &self,
        new_key: &VaultKeyRecord,
        rewrapped: &[VaultKeyRecord],
        audit: &AuditEvent,
    ) -> Result<(), StoreError> {
        let mut tx = DB::begin_write(&self.writer).await?;
        for key in rewrapped {
            sqlx::query("UPDATE vault_keys SET wrapped_key = $1 WHERE version = $2")
                .bind(&key.wrapped_key)
                .bind(key.version)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO vault_keys (version, wrapped_key, created_at) VALUES ($1, $2, $3)",
        )
        .bind(new_key.version)
        .bind(&new_key.wrapped_key)
        .bind(new_key.created_at)
        .execute(&mut *tx)
        .await?;
        audit_insert(audit).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reseal_credentials(
        &self,
        key_version: i64,
        after: Option<&(OwnerId, String)>,
        limit: i64,
        reseal: ResealFn<'_>,
    ) -> Result<ResealBatch, StoreError> {
        let mut tx = DB::begin_write(&self.writer).await?;
        let (after_owner, after_gstin) = match after {
            Some((owner, gstin)) => (*owner, gstin.as_str()),
            None => (OwnerId(Uuid::nil()), ""),
        };
        let rows = sqlx::query(&format!(
            "{SELECT_CREDENTIAL} WHERE key_version < $1 AND (owner_id, gstin) > ($2, $3) ORDER BY owner_id, gstin LIMIT $4"
        ))
        .bind(key_version)
        .bind(after_owner)
        .bind(after_gstin)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let mut batch = ResealBatch::default();
        for row in &rows {
            let record = CredentialRecord::from_row(row)?;
            let sealed = reseal(&record)?;
            let done = sqlx::query(RESEAL_CREDENTIAL)
                .bind(key_version)
                .bind(sealed)
                .bind(record.owner_id)
                .bind(&record.gstin)
                .bind(record.version)
                .execute(&mut *tx)
                .await?;
            batch.resealed += DB::rows_affected(&done);
            batch.last = Some((record.owner_id, record.gstin.to_string()));
        }
        tx.commit().await?;
        Ok(batch)
    }

    async fn put_credential(&self, put: CredentialPut<'_>) -> Result<i64, StoreError> {
        // Optimistic: read the current version, seal for the next one, and write only if the
        // version is still the one read. The triggers audit the write in the same statement.
        for _ in 0..PUT_ATTEMPTS {
            let current: Option<i64> = sqlx::query_scalar(CURRENT_VERSION)
                .bind(put.owner_id)
                .bind(put.gstin)
                .fetch_optional(&self.reader)
                .await?;
            let expected = current.unwrap_or(0);
            // Versions never repeat, also after a delete: a verification already running
            // for an earlier write can never be taken for this one.
            let last = match current {
                Some(version) => version,
                None => sqlx::query_scalar::<_, Option<i64>>(LAST_AUDITED_VERSION)
                    .bind(put.owner_id)
                    .bind(put.gstin)
                    .fetch_one(&self.reader)
                    .await?
                    .unwrap_or(0),
            };
            let version = last + 1;
            let (key_version, ciphertext) = (put.seal)(version)?;
            let done = sqlx::query(UPSERT_CREDENTIAL)
                .bind(put.owner_id)
                .bind(put.gstin)
                .bind(put.username)
                .bind(key_version)
                .bind(ciphertext)
                .bind(version)
                .bind(put.updated_at)
                .bind(put.audit.account_id)
                .bind(put.audit.actor_token_id)
                .bind(&put.audit.request_id)
                .bind(expected)
                .execute(&self.writer)
                .await?;
            if DB::rows_affected(&done) == 1 {
                return Ok(version);
            }
            tokio::task::yield_now().await;
        }
        Err(StoreError::Contention)
    }

    async fn get_credential(
        &self,
        owner_id: OwnerId,
        gstin: &str,
    ) -> Result<Option<CredentialRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "{SELECT_CREDENTIAL} WHERE owner_id = $1 AND gstin = $2"
        ))
        .bind(owner_id)
        .bind(gstin)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(CredentialRecord::from_row).transpose()?)
    }

    async fn delete_credential(
        &self,
        owner_id: OwnerId,
        gstin: &str,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let mut tx = DB::begin_write(&self.writer).await?;
        let done = sqlx::query("DELETE FROM nic_credentials WHERE owner_id = $1 AND gstin = $2")
            .bind(owner_id)
            .bind(gstin)
            .execute(&mut *tx)
            .await?;
        if DB::rows_affected(&done) == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        audit_insert(audit).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn record_audit(&self, audit: &AuditEvent) -> Result<(), StoreError> {
        let mut tx = DB::begin_write(&self.writer).await?;
        audit_insert(audit).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_verification(
        &self,
        owner_id: OwnerId,
        gstin: &str,
        version: i64,
        status: VerificationStatus,
        error: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut tx = DB::begin_write(&self.writer).await?;
        let row: Option<(String, Uuid)> = sqlx::query_as("SELECT verify_status, account_id FROM nic_credentials WHERE owner_id = $1 AND gstin = $2 AND version = $3")
            .bind(owner_id)
            .bind(gstin)
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        let Some((previous, account_id)) = row else {
            tx.rollback().await?;
            return Ok(false);
        };
        sqlx::query("UPDATE nic_credentials SET verify_status = $1, last_error = $2, last_verified_at = $3 WHERE owner_id = $4 AND gstin = $5 AND version = $6")
            .bind(status.as_str())
            .bind(error)
            .bind(at)
            .bind(owner_id)
            .bind(gstin)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        // A new status is reported to the account's webhooks by the same commit.
        if previous != status.as_str() {
            let place = crate::events::CredentialPlace {
                account_id: AccountId(account_id),
                owner_id,
                gstin,
            };
            let event = crate::events::status_changed(place, &previous, status.as_str(), error, at);
            enqueue::<DB>(&event).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn credentials_due_for_check(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<(AccountId, OwnerId, String)>, StoreError> {
        Ok(sqlx::query_as("SELECT account_id, owner_id, gstin FROM nic_credentials WHERE last_verified_at IS NULL OR last_verified_at < $1 ORDER BY COALESCE(last_verified_at, 0) LIMIT $2")
            .bind(before)
            .bind(limit)
            .fetch_all(&self.reader)
            .await?)
    }

    async fn count_credentials(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM nic_credentials")
            .fetch_one(&self.reader)
            .await?)
    }

    async fn count_credentials_by_status(
        &self,
    ) -> Result<Vec<(VerificationStatus, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT verify_status, COUNT(*) FROM nic_credentials GROUP BY verify_status",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(|(status, count)| {
                VerificationStatus::parse(&status)
                    .map(|status| (status, count))
                    .ok_or_else(|| StoreError::Corrupt(format!("verification status {status:?}")))
            })
            .collect()
    }

    fn pool_connections(&self) -> (i64, i64) {
        let open = i64::from(self.writer.size()) + i64::from(self.reader.size());
        let idle = (self.writer.num_idle() + self.reader.num_idle()) as i64;
        (open, idle)
    }

    async fn list_credentials(
        &self,
        account_id: AccountId,
    ) -> Result<Vec<CredentialRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_CREDENTIAL} WHERE owner_id IN (SELECT id FROM owners WHERE account_id = $1) ORDER BY gstin, owner_id"
        ))
        .bind(account_id)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(CredentialRecord::from_row)
            .collect::<Result<_, _>>()?)
    }

    async fn list_audit_events(
        &self,
        account_id: AccountId,
        owner_id: OwnerId,
        gstin: Option<&str>,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "{SELECT_AUDIT} WHERE account_id = $1 AND owner_id = $2 AND (CAST($3 AS TEXT) IS NULL OR gstin = $3) ORDER BY id"
        ))
        .bind(account_id)
        .bind(owner_id)
        .bind(gstin)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .iter()
            .map(AuditEvent::from_row)
            .collect::<Result<_, _>>()?)
    }
}
