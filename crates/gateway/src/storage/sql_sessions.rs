//! The session part of the one store implementation (see `sql.rs`): sealed IRP sessions and
//! their auth leases, bound to credential rows, and console logins.

use async_trait::async_trait;
use sqlx::{ColumnIndex, Decode, Encode, Executor, FromRow, IntoArguments, Type};
use uuid::Uuid;

use super::dialect::Dialect;
use super::sql::SqlStore;
use super::{
    AccountId, IrpSessionKey, OwnerId, SessionStore, StoreError, Timestamp, WebSessionRecord,
};

const SELECT_WEB_SESSION: &str = "SELECT s.id, s.account_id, s.user_id, u.email, s.secret_hash, \
    s.created_at, s.last_seen_at, s.expires_at, s.ended_at \
    FROM web_sessions s JOIN users u ON u.id = s.user_id";

#[async_trait]
impl<DB: Dialect> SessionStore for SqlStore<DB>
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
    for<'r> WebSessionRecord: FromRow<'r, DB::Row>,
{
    async fn put_irp_session(
        &self,
        key: &IrpSessionKey,
        sealed: &[u8],
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO irp_sessions (client_id, owner_id, gstin, version, username, sealed, expires_at, irp) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
            ON CONFLICT (irp, client_id, owner_id, gstin, version) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at")
            .bind(&key.client_id)
            .bind(key.owner_id)
            .bind(&key.gstin)
            .bind(key.version)
            .bind(&key.username)
            .bind(sealed)
            .bind(expires_at)
            .bind(&key.irp)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn get_irp_session(
        &self,
        key: &IrpSessionKey,
    ) -> Result<Option<(Vec<u8>, Timestamp)>, StoreError> {
        Ok(sqlx::query_as("SELECT sealed, expires_at FROM irp_sessions WHERE client_id = $1 AND owner_id = $2 AND gstin = $3 AND version = $4 AND irp = $5")
            .bind(&key.client_id)
            .bind(key.owner_id)
            .bind(&key.gstin)
            .bind(key.version)
            .bind(&key.irp)
            .fetch_optional(&self.reader)
            .await?)
    }

    async fn delete_irp_sessions(&self, owner_id: OwnerId, gstin: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM irp_sessions WHERE owner_id = $1 AND gstin = $2")
            .bind(owner_id)
            .bind(gstin)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn claim_auth_lease(
        &self,
        key: &IrpSessionKey,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("INSERT INTO irp_auth_leases (client_id, owner_id, gstin, version, holder, until, irp) VALUES ($1, $2, $3, $4, $5, $6, $8) \
            ON CONFLICT (irp, client_id, owner_id, gstin, version) DO UPDATE SET holder = excluded.holder, until = excluded.until \
            WHERE irp_auth_leases.until < $7 OR irp_auth_leases.holder = excluded.holder")
            .bind(&key.client_id)
            .bind(key.owner_id)
            .bind(&key.gstin)
            .bind(key.version)
            .bind(holder)
            .bind(until)
            .bind(now)
            .bind(&key.irp)
            .execute(&self.writer)
            .await?;
        Ok(DB::rows_affected(&done) == 1)
    }

    async fn release_auth_lease(
        &self,
        key: &IrpSessionKey,
        holder: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM irp_auth_leases WHERE client_id = $1 AND owner_id = $2 AND gstin = $3 AND version = $4 AND holder = $5 AND irp = $6")
            .bind(&key.client_id)
            .bind(key.owner_id)
            .bind(&key.gstin)
            .bind(key.version)
            .bind(holder)
            .bind(&key.irp)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn insert_web_session(&self, session: &WebSessionRecord) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO web_sessions (id, account_id, user_id, secret_hash, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(session.id)
            .bind(session.account_id)
            .bind(session.user_id)
            .bind(&session.secret_hash)
            .bind(session.created_at)
            .bind(session.last_seen_at)
            .bind(session.expires_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn find_web_session(
        &self,
        secret_hash: &[u8],
    ) -> Result<Option<WebSessionRecord>, StoreError> {
        let row = sqlx::query(&format!("{SELECT_WEB_SESSION} WHERE s.secret_hash = $1"))
            .bind(secret_hash)
            .fetch_optional(&self.reader)
            .await?;
        Ok(row.as_ref().map(WebSessionRecord::from_row).transpose()?)
    }

    async fn get_web_session(
        &self,
        account_id: AccountId,
        id: Uuid,
    ) -> Result<Option<WebSessionRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "{SELECT_WEB_SESSION} WHERE s.id = $1 AND s.account_id = $2"
        ))
        .bind(id)
        .bind(account_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.as_ref().map(WebSessionRecord::from_row).transpose()?)
    }

    async fn touch_web_session(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE web_sessions SET last_seen_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn end_web_session(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query("UPDATE web_sessions SET ended_at = $1 WHERE id = $2 AND ended_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
