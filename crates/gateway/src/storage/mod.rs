//! Persistence for the gateway behind one trait, [`Store`], with a SQLite implementation (the
//! embedded default) and a PostgreSQL one (for several replicas). Queries are runtime `sqlx`
//! queries; each backend has its own migrations. The conformance suite in the integration tests
//! runs the same story against both.

mod dialect;
mod document_records;
mod postgres;
mod queries;
mod records;
mod sql;
mod sql_documents;
mod sql_sessions;
mod sql_webhooks;
mod sqlite;
mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;

pub use crate::clock::Timestamp;
pub use crate::ids::{AccountId, OwnerId, UserId};

pub use dialect::Dialect;
pub use document_records::*;
pub use postgres::PostgresStore;
pub use records::*;
pub use sql::SqlStore;
pub use sqlite::SqliteStore;
pub use webhooks::*;

/// What can go wrong in the storage layer. Messages never contain secret values.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key already holds this value.
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The database URL is not one we understand.
    #[error("unsupported database URL (use sqlite://PATH or postgres://...): {0}")]
    UnsupportedUrl(String),
    /// Sealing or re-encrypting a secret inside a transaction failed.
    #[error("vault: {0}")]
    Vault(String),
    /// The database reported an error.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Too many concurrent writers to one credential; retry later.
    #[error("too many concurrent writes to the same credentials")]
    Contention,
    /// A stored value could not be read back.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Seals a secret for a given credential version: returns the vault key version used and the
/// ciphertext. Called inside the write transaction, once the new version is known.
pub type SealFn<'a> = &'a (dyn Fn(i64) -> Result<(i64, Vec<u8>), StoreError> + Send + Sync);

/// Re-encrypts one stored credential under the new vault key; returns the new ciphertext.
pub type ResealFn<'a> =
    &'a (dyn Fn(&CredentialRecord) -> Result<Vec<u8>, StoreError> + Send + Sync);

/// What one batch of a key rotation did.
#[derive(Debug, Clone, Default)]
pub struct ResealBatch {
    /// Credentials re-encrypted.
    pub resealed: u64,
    /// The last (owner, GSTIN) looked at; `None` when the batch found no row.
    pub last: Option<(OwnerId, String)>,
}

/// A request to store (or override) the NIC credentials of one owner and GSTIN.
pub struct CredentialPut<'a> {
    /// The owner the credentials belong to.
    pub owner_id: OwnerId,
    /// The GSTIN, upper-case.
    pub gstin: &'a str,
    /// The NIC API username.
    pub username: &'a str,
    /// Encrypts the password for the version the store assigns.
    pub seal: SealFn<'a>,
    /// Unix milliseconds.
    pub updated_at: Timestamp,
    /// Who writes: the account, token and request id are recorded with the row and copied
    /// into the audit trail by the same statement (the action is always `nic_credentials.store`).
    pub audit: AuditEvent,
}

/// Identifies one IRP session. NIC issues sessions per client, GSTIN and API user; the gateway
/// binds each one further to the credential row whose password obtained it (owner, GSTIN and
/// credential version, which never repeats), so no other row, in this account or another, can
/// use it, whatever username it names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IrpSessionKey {
    /// The IRP that issued it (`NIC1`, `NIC2`): each IRP has its own sessions.
    pub irp: String,
    /// Our GSP client id.
    pub client_id: String,
    /// The owner of the credential row.
    pub owner_id: OwnerId,
    /// The GSTIN.
    pub gstin: String,
    /// The credential version whose password obtained the session.
    pub version: i64,
    /// The API user (not part of the identity: the row's version already fixes it).
    pub username: String,
}

impl IrpSessionKey {
    /// The vault label that binds a sealed session to this key.
    pub fn label(&self) -> String {
        format!(
            "irp-session|{}|{}|{}|{}|{}|{}",
            self.irp, self.client_id, self.owner_id, self.gstin, self.version, self.username
        )
    }
}

/// The short-lived sessions the gateway keeps: IRP sessions (sealed) with their auth leases,
/// and console logins.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores (or replaces) a sealed IRP session.
    async fn put_irp_session(
        &self,
        key: &IrpSessionKey,
        sealed: &[u8],
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// A sealed IRP session and its expiry.
    async fn get_irp_session(
        &self,
        key: &IrpSessionKey,
    ) -> Result<Option<(Vec<u8>, Timestamp)>, StoreError>;
    /// Deletes the IRP sessions of one credential row (every version, every client).
    async fn delete_irp_sessions(&self, owner_id: OwnerId, gstin: &str) -> Result<(), StoreError>;
    /// Claims the right to authenticate for a key until `until` (Unix ms): true when no other
    /// holder has a live lease.
    async fn claim_auth_lease(
        &self,
        key: &IrpSessionKey,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Gives a lease back.
    async fn release_auth_lease(&self, key: &IrpSessionKey, holder: &str)
        -> Result<(), StoreError>;
    /// Records a console login.
    async fn insert_web_session(&self, session: &WebSessionRecord) -> Result<(), StoreError>;
    /// A console session (live or not) by the SHA-256 of its cookie value, with its user's email.
    async fn find_web_session(
        &self,
        secret_hash: &[u8],
    ) -> Result<Option<WebSessionRecord>, StoreError>;
    /// A console session of the account by id, with its user's email (to name an actor).
    async fn get_web_session(
        &self,
        account_id: AccountId,
        id: Uuid,
    ) -> Result<Option<WebSessionRecord>, StoreError>;
    /// Records activity on a session.
    async fn touch_web_session(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError>;
    /// Ends a session (logout).
    async fn end_web_session(&self, id: Uuid, at: Timestamp) -> Result<(), StoreError>;
}

/// The documents the gateway registered at the IRP (e-invoices), per account.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Records an e-invoice (or replaces the record of the same IRN).
    async fn record_einvoice(&self, record: &EinvoiceRecord) -> Result<(), StoreError>;
    /// An e-invoice of the account by IRN.
    async fn get_einvoice(
        &self,
        account_id: AccountId,
        irn: &str,
    ) -> Result<Option<EinvoiceRecord>, StoreError>;
    /// A page of an owner's e-invoices, newest first: those created before `before` (a
    /// `(created_at, irn)` cursor from the previous page), optionally of one status.
    async fn list_einvoices(
        &self,
        account_id: AccountId,
        owner_id: OwnerId,
        status: Option<EinvoiceStatus>,
        before: Option<(Timestamp, String)>,
        limit: i64,
    ) -> Result<Vec<EinvoiceRecord>, StoreError>;
    /// Marks an e-invoice cancelled.
    async fn mark_einvoice_cancelled(
        &self,
        account_id: AccountId,
        irn: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Records the e-way bill of an e-invoice of the account (replacing a cancelled one);
    /// false when the account has no such e-invoice.
    async fn record_ewaybill(
        &self,
        account_id: AccountId,
        irn: &str,
        ewb: &EwbFields,
    ) -> Result<bool, StoreError>;
    /// The account's e-invoice whose e-way bill has this number.
    async fn einvoice_by_ewb(
        &self,
        account_id: AccountId,
        ewb_no: i64,
    ) -> Result<Option<EinvoiceRecord>, StoreError>;
    /// Marks an e-way bill of the account cancelled.
    async fn mark_ewaybill_cancelled(
        &self,
        account_id: AccountId,
        ewb_no: i64,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// Everything the gateway keeps, behind one object-safe trait.
#[async_trait]
pub trait Store: SessionStore + DocumentStore + WebhookStore + Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;
    /// Checks that the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Closes every connection, flushing what the backend needs to flush.
    async fn close(&self);

    /// Creates an account unless one with this id exists.
    async fn ensure_account(&self, account: &AccountRecord) -> Result<(), StoreError>;
    /// Adds a user; `Conflict` when the email is taken.
    async fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// Finds a user by lower-cased email.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Stores a new auth token (its hash only).
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// Finds a token by the SHA-256 of its value.
    async fn find_token_by_hash(&self, hash: &[u8]) -> Result<Option<TokenRecord>, StoreError>;
    /// Every token of an account, newest first.
    async fn list_tokens(&self, account_id: AccountId) -> Result<Vec<TokenRecord>, StoreError>;
    /// Revokes a token of this account; false when there is no such live token.
    async fn revoke_token(
        &self,
        account_id: AccountId,
        token_id: Uuid,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Records a token's last use.
    async fn touch_token(&self, token_id: Uuid, at: Timestamp) -> Result<(), StoreError>;

    /// Adds an owner; false (and nothing written) when the id is already taken by any account.
    async fn insert_owner(&self, owner: &OwnerRecord) -> Result<bool, StoreError>;
    /// An owner of this account, or `None` (also when it belongs to another account).
    async fn get_owner(
        &self,
        account_id: AccountId,
        owner_id: OwnerId,
    ) -> Result<Option<OwnerRecord>, StoreError>;
    /// The owners of an account, oldest first.
    async fn list_owners(&self, account_id: AccountId) -> Result<Vec<OwnerRecord>, StoreError>;

    /// Every vault key, by version.
    async fn list_vault_keys(&self) -> Result<Vec<VaultKeyRecord>, StoreError>;
    /// Adds the first vault key; false when that version already exists (another replica won).
    async fn insert_vault_key(&self, key: &VaultKeyRecord) -> Result<bool, StoreError>;
    /// In one transaction: adds `new_key`, replaces the wrapping of `rewrapped` keys, and
    /// records `audit`.
    async fn add_vault_key(
        &self,
        new_key: &VaultKeyRecord,
        rewrapped: &[VaultKeyRecord],
        audit: &AuditEvent,
    ) -> Result<(), StoreError>;
    /// In one transaction: re-encrypts with `reseal` up to `limit` credentials sealed under a
    /// key version below `key_version`, the first ones after `after` in (owner, GSTIN) order.
    /// A row stored again meanwhile is left to the next sweep.
    async fn reseal_credentials(
        &self,
        key_version: i64,
        after: Option<&(OwnerId, String)>,
        limit: i64,
        reseal: ResealFn<'_>,
    ) -> Result<ResealBatch, StoreError>;

    /// Stores or overrides credentials atomically, bumping the version; returns the new version.
    async fn put_credential(&self, put: CredentialPut<'_>) -> Result<i64, StoreError>;
    /// The stored credentials of one owner and GSTIN.
    async fn get_credential(
        &self,
        owner_id: OwnerId,
        gstin: &str,
    ) -> Result<Option<CredentialRecord>, StoreError>;
    /// Deletes them, recording `audit` in the same transaction; false when there were none.
    async fn delete_credential(
        &self,
        owner_id: OwnerId,
        gstin: &str,
        audit: &AuditEvent,
    ) -> Result<bool, StoreError>;
    /// Records an audit event on its own (a change that wrote nothing else, e.g. a new password
    /// the IRP refused before it replaced the stored one).
    async fn record_audit(&self, audit: &AuditEvent) -> Result<(), StoreError>;
    /// Records the outcome of checking credentials at the IRP, unless they were replaced
    /// since (`version` no longer current); returns whether it was recorded. A status that
    /// differs from the stored one queues `credentials.status_changed` in the same transaction.
    async fn set_verification(
        &self,
        owner_id: OwnerId,
        gstin: &str,
        version: i64,
        status: VerificationStatus,
        error: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
    /// Credentials not checked since `before` (or never), oldest first: (account, owner, GSTIN).
    async fn credentials_due_for_check(
        &self,
        before: Timestamp,
        limit: i64,
    ) -> Result<Vec<(AccountId, OwnerId, String)>, StoreError>;
    /// How many credentials are stored.
    async fn count_credentials(&self) -> Result<i64, StoreError>;
    /// How many credentials are stored, by verification status (for metrics).
    async fn count_credentials_by_status(
        &self,
    ) -> Result<Vec<(VerificationStatus, i64)>, StoreError>;
    /// Open and idle connections of the database pools (for metrics).
    fn pool_connections(&self) -> (i64, i64);

    /// The account's owners that a GSTIN points to: GSTIN owners (and branches) of that GSTIN,
    /// and owners with credentials stored for it; oldest first.
    async fn owners_for_gstin(
        &self,
        account_id: AccountId,
        gstin: &str,
    ) -> Result<Vec<OwnerRecord>, StoreError>;

    /// Every credential stored under the account's owners (for overviews), by GSTIN.
    async fn list_credentials(
        &self,
        account_id: AccountId,
    ) -> Result<Vec<CredentialRecord>, StoreError>;

    /// Audit events for one owner and GSTIN (or all of the owner's when `gstin` is `None`), oldest first.
    async fn list_audit_events(
        &self,
        account_id: AccountId,
        owner_id: OwnerId,
        gstin: Option<&str>,
    ) -> Result<Vec<AuditEvent>, StoreError>;
}

/// Opens the store a URL names: `sqlite://PATH` (created if missing) or `postgres://...`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Arc::new(SqliteStore::open(path).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact_url(url)))
    }
}

/// A URL with any password replaced, for error messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}
