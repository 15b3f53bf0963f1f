//! The SQL texts of the store that more than one statement shares, and the audit insert that
//! every audited change runs in its own transaction. Portable SQL: both databases run it as is.

use sqlx::{Database, Encode, Type};
use uuid::Uuid;

use super::{AuditEvent, OwnerId};
use crate::events::OutboxEvent;

/// The insert of one audit event (run inside the transaction of the change it records).
pub(super) fn audit_insert<'q, DB: Database>(
    event: &'q AuditEvent,
) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    Uuid: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<Uuid>: Encode<'q, DB>,
    Option<i64>: Encode<'q, DB>,
    Option<&'q str>: Encode<'q, DB>,
{
    sqlx::query(INSERT_AUDIT)
        .bind(event.account_id)
        .bind(event.actor_token_id)
        .bind(event.action.as_str())
        .bind(event.owner_id.map(OwnerId::uuid))
        .bind(event.gstin.as_deref())
        .bind(event.username.as_deref())
        .bind(event.version)
        .bind(event.request_id.as_deref())
        .bind(event.at)
}

pub(super) const INSERT_AUDIT: &str = "INSERT INTO audit_events \
    (account_id, actor_token_id, action, owner_id, gstin, username, version, request_id, at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
pub(super) const SELECT_OWNER: &str =
    "SELECT id, account_id, kind, name, pan, gstin, parent_id, created_at FROM owners";
pub(super) const SELECT_TOKEN: &str =
    "SELECT id, account_id, user_id, label, token_hash, created_at, \
    last_used_at, revoked_at FROM auth_tokens";
pub(super) const SELECT_CREDENTIAL: &str = "SELECT owner_id, gstin, username, key_version, \
    password_ciphertext, version, updated_at, verify_status, last_verified_at, last_error \
    FROM nic_credentials";
pub(super) const UPSERT_CREDENTIAL: &str = "INSERT INTO nic_credentials \
    (owner_id, gstin, username, key_version, password_ciphertext, version, updated_at, \
    account_id, actor_token_id, request_id) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
    ON CONFLICT (owner_id, gstin) DO UPDATE SET username = excluded.username, \
    key_version = excluded.key_version, password_ciphertext = excluded.password_ciphertext, \
    version = excluded.version, updated_at = excluded.updated_at, \
    account_id = excluded.account_id, actor_token_id = excluded.actor_token_id, \
    request_id = excluded.request_id, verify_status = 'UNVERIFIED', last_error = NULL \
    WHERE nic_credentials.version = $11";
/// How often a store retries when another writer bumped the version in between.
pub(super) const PUT_ATTEMPTS: usize = 64;
/// Re-encrypts one credential for a rotation, unless it was stored again since it was read.
pub(super) const RESEAL_CREDENTIAL: &str = "UPDATE nic_credentials SET key_version = $1, \
    password_ciphertext = $2 WHERE owner_id = $3 AND gstin = $4 AND version = $5";
/// The current version of one credential row.
pub(super) const CURRENT_VERSION: &str =
    "SELECT version FROM nic_credentials WHERE owner_id = $1 AND gstin = $2";
/// The highest version a credential row ever had: the audit trail keeps every store, also of
/// rows deleted since. Read only when there is no row (a row's version is already its highest).
pub(super) const LAST_AUDITED_VERSION: &str = "SELECT MAX(version) FROM audit_events \
    WHERE owner_id = $1 AND gstin = $2 AND action = 'nic_credentials.store'";
pub(super) const SELECT_AUDIT: &str =
    "SELECT account_id, actor_token_id, action, owner_id, gstin, \
    username, version, request_id, at FROM audit_events";

const ENQUEUE_FOR_ALL: &str = "INSERT INTO webhook_deliveries \
    (event_id, webhook_id, account_id, event_type, payload, created_at, attempts, next_attempt_at) \
    SELECT $1, id, account_id, $2, $3, $4, 0, $4 FROM webhooks \
    WHERE deleted_at IS NULL AND (',' || events || ',') LIKE $5";
const ENQUEUE_FOR_ACCOUNT: &str = "INSERT INTO webhook_deliveries \
    (event_id, webhook_id, account_id, event_type, payload, created_at, attempts, next_attempt_at) \
    SELECT $1, id, account_id, $2, $3, $4, 0, $4 FROM webhooks \
    WHERE deleted_at IS NULL AND (',' || events || ',') LIKE $5 AND account_id = $6";

/// The insert that queues an event for every live webhook receiving it (run inside the
/// transaction of the change it reports, or on its own).
pub(super) fn enqueue<'q, DB: Database>(
    event: &'q OutboxEvent,
) -> sqlx::query::Query<'q, DB, DB::Arguments<'q>>
where
    Uuid: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    &'q str: Encode<'q, DB> + Type<DB>,
{
    let sql = match event.account_id {
        Some(_) => ENQUEUE_FOR_ACCOUNT,
        None => ENQUEUE_FOR_ALL,
    };
    let query = sqlx::query(sql)
        .bind(event.id)
        .bind(event.kind.as_str())
        .bind(event.payload.as_str())
        .bind(event.at.millis())
        .bind(format!("%,{},%", event.kind.as_str()));
    match event.account_id {
        Some(account_id) => query.bind(account_id.uuid()),
        None => query,
    }
}
