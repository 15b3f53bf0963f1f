//! Plain rows as the stores read and write them. Times are Unix milliseconds.

use uuid::Uuid;

/// A customer account: owners, tokens and users hang off it.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    /// Account id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: i64,
}

/// A person who logs in with email and password.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRecord {
    /// User id.
    pub id: Uuid,
    /// The account the user belongs to.
    pub account_id: Uuid,
    /// Lower-cased email.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Creation time.
    pub created_at: i64,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("password_hash", &"[redacted]")
            .finish()
    }
}

/// An API auth token; only the SHA-256 of its value is kept.
#[derive(Clone, sqlx::FromRow)]
pub struct TokenRecord {
    /// Token id (shown in lists and audit events).
    pub id: Uuid,
    /// The account it acts for.
    pub account_id: Uuid,
    /// The user who created it, if any.
    pub user_id: Option<Uuid>,
    /// A label chosen by its creator.
    pub label: String,
    /// SHA-256 of the token value.
    pub token_hash: Vec<u8>,
    /// Creation time.
    pub created_at: i64,
    /// Last time it authenticated a request.
    pub last_used_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("label", &self.label)
            .field("token_hash", &"[redacted]")
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}

/// What an owner names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    /// A business, by PAN.
    Pan,
    /// One GST registration.
    Gstin,
    /// A branch of a GSTIN.
    Branch,
}

impl OwnerKind {
    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Pan => "PAN",
            OwnerKind::Gstin => "GSTIN",
            OwnerKind::Branch => "BRANCH",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PAN" => Some(OwnerKind::Pan),
            "GSTIN" => Some(OwnerKind::Gstin),
            "BRANCH" => Some(OwnerKind::Branch),
            _ => None,
        }
    }
}

impl TryFrom<String> for OwnerKind {
    type Error = super::StoreError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        OwnerKind::parse(&text)
            .ok_or_else(|| super::StoreError::Corrupt(format!("owner kind {text}")))
    }
}

/// What the IRP said of stored credentials the last time they were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationStatus {
    /// Not checked since they were stored.
    Unverified,
    /// The IRP accepted them.
    Verified,
    /// 1019.
    WrongPassword,
    /// 1017.
    UnknownUser,
    /// 1018: the API user belongs to another GSP.
    NotMappedToGsp,
    /// 1014: the GSTIN is not enabled, or the user is frozen or blocked.
    GstinNotEnabled,
    /// 3025, 3033–3036: the IRP blocked the account.
    Blocked,
    /// The IRP could not be asked.
    IrpUnavailable,
}

impl VerificationStatus {
    const ALL: [VerificationStatus; 8] = [
        VerificationStatus::Unverified,
        VerificationStatus::Verified,
        VerificationStatus::WrongPassword,
        VerificationStatus::UnknownUser,
        VerificationStatus::NotMappedToGsp,
        VerificationStatus::GstinNotEnabled,
        VerificationStatus::Blocked,
        VerificationStatus::IrpUnavailable,
    ];

    /// The stored and API spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Unverified => "UNVERIFIED",
            VerificationStatus::Verified => "VERIFIED",
            VerificationStatus::WrongPassword => "WRONG_PASSWORD",
            VerificationStatus::UnknownUser => "UNKNOWN_USER",
            VerificationStatus::NotMappedToGsp => "NOT_MAPPED_TO_GSP",
            VerificationStatus::GstinNotEnabled => "GSTIN_NOT_ENABLED",
            VerificationStatus::Blocked => "BLOCKED",
            VerificationStatus::IrpUnavailable => "IRP_UNAVAILABLE",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl TryFrom<String> for VerificationStatus {
    type Error = super::StoreError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        VerificationStatus::parse(&text)
            .ok_or_else(|| super::StoreError::Corrupt(format!("verification status {text}")))
    }
}

/// A PAN, GSTIN or branch of an account; credentials are stored per owner and GSTIN.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnerRecord {
    /// Owner id (the `owner_id` header).
    pub id: Uuid,
    /// The account it belongs to.
    pub account_id: Uuid,
    /// What it names.
    #[sqlx(try_from = "String")]
    pub kind: OwnerKind,
    /// Display name.
    pub name: String,
    /// The PAN (for PAN owners, and GSTIN owners with a PAN-based GSTIN).
    pub pan: Option<String>,
    /// The GSTIN (for GSTIN owners, and the parent's for branches).
    pub gstin: Option<String>,
    /// The parent owner: a PAN for a GSTIN, a GSTIN for a branch.
    pub parent_id: Option<Uuid>,
    /// Creation time.
    pub created_at: i64,
}

/// A data key of the vault, wrapped (encrypted) under the master key.
#[derive(Clone, sqlx::FromRow)]
pub struct VaultKeyRecord {
    /// Key version, named in every ciphertext.
    pub version: i64,
    /// Nonce and AES-256-GCM ciphertext of the 32-byte data key.
    pub wrapped_key: Vec<u8>,
    /// Creation time.
    pub created_at: i64,
}

impl std::fmt::Debug for VaultKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultKeyRecord")
            .field("version", &self.version)
            .field("wrapped_key", &"[redacted]")
            .finish()
    }
}

/// Stored NIC credentials; the password only as ciphertext.
#[derive(Clone, sqlx::FromRow)]
pub struct CredentialRecord {
    /// The owner.
    pub owner_id: Uuid,
    /// The GSTIN.
    pub gstin: String,
    /// The NIC API username.
    pub username: String,
    /// The vault key version that sealed the password.
    pub key_version: i64,
    /// The sealed password.
    pub password_ciphertext: Vec<u8>,
    /// Bumped on every store.
    pub version: i64,
    /// Last store time.
    pub updated_at: i64,
    /// `UNVERIFIED` until checked at the IRP, then `VERIFIED`, `WRONG_PASSWORD`, …
    #[sqlx(try_from = "String")]
    pub verify_status: VerificationStatus,
    /// When the IRP last checked them.
    pub last_verified_at: Option<i64>,
    /// What the last check said, in plain words.
    pub last_error: Option<String>,
}

impl std::fmt::Debug for CredentialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRecord")
            .field("owner_id", &self.owner_id)
            .field("gstin", &self.gstin)
            .field("username", &self.username)
            .field("key_version", &self.key_version)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// Who did what, when, under which request. Never holds a secret.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEvent {
    /// The account acted upon.
    pub account_id: Uuid,
    /// The token that made the request (none for the sandbox account or the CLI).
    pub actor_token_id: Option<Uuid>,
    /// What happened, e.g. `nic_credentials.store`.
    pub action: String,
    /// The owner concerned.
    pub owner_id: Option<Uuid>,
    /// The GSTIN concerned.
    pub gstin: Option<String>,
    /// The NIC username concerned.
    pub username: Option<String>,
    /// The credential version written.
    pub version: Option<i64>,
    /// The request id.
    pub request_id: Option<String>,
    /// When.
    pub at: i64,
}

/// What the gateway keeps of an e-invoice: metadata, and the signed outputs only while an
/// opt-in retention lasts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EinvoiceRecord {
    /// The IRN.
    pub irn: String,
    /// The account.
    pub account_id: Uuid,
    /// The owner it was generated for.
    pub owner_id: Uuid,
    /// Seller GSTIN.
    pub gstin: String,
    /// INV, CRN or DBN.
    pub doc_type: String,
    /// Document number.
    pub doc_no: String,
    /// dd/mm/yyyy.
    pub doc_date: String,
    /// Acknowledgement number.
    pub ack_no: i64,
    /// Acknowledgement date, NIC format.
    pub ack_dt: String,
    /// `ACT` or `CNL`.
    pub status: String,
    /// SHA-256 of the request document.
    pub request_hash: Vec<u8>,
    /// The signed invoice, while retained.
    pub signed_invoice: Option<String>,
    /// The signed QR code, while retained.
    pub signed_qr_code: Option<String>,
    /// Retention end (Unix ms).
    pub retain_until: Option<i64>,
    /// When recorded.
    pub created_at: i64,
    /// When cancelled.
    pub cancelled_at: Option<i64>,
}

/// A console login; only the SHA-256 of the cookie value is kept.
#[derive(Clone, sqlx::FromRow)]
pub struct WebSessionRecord {
    /// Session id (recorded as the actor of what the session changes).
    pub id: Uuid,
    /// The account acted for.
    pub account_id: Uuid,
    /// The user who logged in.
    pub user_id: Uuid,
    /// The user's email (read back with the session).
    pub email: String,
    /// SHA-256 of the cookie value.
    pub secret_hash: Vec<u8>,
    /// Login time.
    pub created_at: i64,
    /// Last request.
    pub last_seen_at: i64,
    /// Absolute expiry.
    pub expires_at: i64,
    /// Logout time.
    pub ended_at: Option<i64>,
}

impl std::fmt::Debug for WebSessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSessionRecord")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("email", &self.email)
            .field("secret_hash", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}
