//! Plain rows as the stores read and write them, in the domain's types.

use uuid::Uuid;

use gst_core::Gstin;

use crate::clock::Timestamp;
use crate::ids::{AccountId, OwnerId, UserId};

/// A customer account: owners, tokens and users hang off it.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    /// Account id.
    pub id: AccountId,
    /// Display name.
    pub name: String,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A person who logs in with email and password.
#[derive(Clone, sqlx::FromRow)]
pub struct UserRecord {
    /// User id.
    pub id: UserId,
    /// The account the user belongs to.
    pub account_id: AccountId,
    /// Lower-cased email.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Creation time.
    pub created_at: Timestamp,
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
    pub account_id: AccountId,
    /// The user who created it, if any.
    pub user_id: Option<UserId>,
    /// A label chosen by its creator.
    pub label: String,
    /// SHA-256 of the token value.
    pub token_hash: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last time it authenticated a request.
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked.
    pub revoked_at: Option<Timestamp>,
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

/// Declares an enum stored as text: its variants with their one spelling (in the database and
/// in answers), `as_str`, `parse`, and the conversion the row mappers use.
macro_rules! stored_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stored and API spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// Parses the stored spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = super::StoreError;

            fn try_from(text: String) -> Result<Self, Self::Error> {
                $name::parse(&text).ok_or_else(|| {
                    super::StoreError::Corrupt(format!("{} {text}", stringify!($name)))
                })
            }
        }
    };
}

stored_enum!(
    /// What an owner names.
    OwnerKind {
        /// A business, by PAN.
        Pan = "PAN",
        /// One GST registration.
        Gstin = "GSTIN",
        /// A branch of a GSTIN.
        Branch = "BRANCH",
    }
);

stored_enum!(
    /// What the IRP said of stored credentials the last time they were checked.
    VerificationStatus {
        /// Not checked since they were stored.
        Unverified = "UNVERIFIED",
        /// The IRP accepted them.
        Verified = "VERIFIED",
        /// 1019.
        WrongPassword = "WRONG_PASSWORD",
        /// 1017.
        UnknownUser = "UNKNOWN_USER",
        /// 1018: the API user belongs to another GSP.
        NotMappedToGsp = "NOT_MAPPED_TO_GSP",
        /// 1014 ("Inactive User"): the GSTIN is not enabled for e-invoicing or not active.
        GstinNotEnabled = "GSTIN_NOT_ENABLED",
        /// 3025: the API user is frozen on the portal (until the taxpayer unfreezes it).
        UserFrozen = "USER_FROZEN",
        /// 3033–3036: the IRP blocked the API user or the account.
        Blocked = "BLOCKED",
        /// The IRP could not be asked.
        IrpUnavailable = "IRP_UNAVAILABLE",
    }
);

stored_enum!(
    /// What an audit event records.
    AuditAction {
        /// NIC credentials were stored (a new version).
        CredentialsStored = "nic_credentials.store",
        /// NIC credentials were deleted.
        CredentialsDeleted = "nic_credentials.delete",
        /// New NIC credentials were checked before replacing the stored ones, and the IRP
        /// refused them: the stored pair stays in use.
        CredentialsRefused = "nic_credentials.refused",
        /// The vault's data key was rotated.
        VaultKeyRotated = "vault.rotate",
    }
);

stored_enum!(
    /// An e-invoice's state at the IRP.
    EinvoiceStatus {
        /// Active.
        Active = "ACT",
        /// Cancelled.
        Cancelled = "CNL",
    }
);

/// What an owner names, with the identities of that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerIdentity {
    /// A business, by PAN.
    Pan {
        /// The PAN.
        pan: String,
    },
    /// One GST registration, under a PAN owner when one was named.
    Gstin {
        /// The GSTIN.
        gstin: Gstin,
        /// The PAN in the GSTIN, when it is one.
        pan: Option<String>,
        /// The PAN owner above it.
        parent_id: Option<OwnerId>,
    },
    /// A branch of a GSTIN owner: its GSTIN and PAN are the parent's.
    Branch {
        /// The parent's GSTIN.
        gstin: Gstin,
        /// The parent's PAN.
        pan: Option<String>,
        /// The GSTIN owner it belongs to.
        parent_id: OwnerId,
    },
}

impl OwnerIdentity {
    /// The kind, without its data.
    pub fn kind(&self) -> OwnerKind {
        match self {
            OwnerIdentity::Pan { .. } => OwnerKind::Pan,
            OwnerIdentity::Gstin { .. } => OwnerKind::Gstin,
            OwnerIdentity::Branch { .. } => OwnerKind::Branch,
        }
    }

    /// The PAN, where known.
    pub fn pan(&self) -> Option<&str> {
        match self {
            OwnerIdentity::Pan { pan } => Some(pan),
            OwnerIdentity::Gstin { pan, .. } | OwnerIdentity::Branch { pan, .. } => pan.as_deref(),
        }
    }

    /// The GSTIN (the parent's for a branch); none for a PAN owner.
    pub fn gstin(&self) -> Option<&Gstin> {
        match self {
            OwnerIdentity::Pan { .. } => None,
            OwnerIdentity::Gstin { gstin, .. } | OwnerIdentity::Branch { gstin, .. } => Some(gstin),
        }
    }

    /// The owner above: a PAN for a GSTIN, a GSTIN for a branch.
    pub fn parent_id(&self) -> Option<OwnerId> {
        match self {
            OwnerIdentity::Pan { .. } => None,
            OwnerIdentity::Gstin { parent_id, .. } => *parent_id,
            OwnerIdentity::Branch { parent_id, .. } => Some(*parent_id),
        }
    }
}

/// A PAN, GSTIN or branch of an account; credentials are stored per owner and GSTIN.
#[derive(Debug, Clone)]
pub struct OwnerRecord {
    /// Owner id (the `owner_id` header).
    pub id: OwnerId,
    /// The account it belongs to.
    pub account_id: AccountId,
    /// Display name.
    pub name: String,
    /// What it names.
    pub identity: OwnerIdentity,
    /// Creation time.
    pub created_at: Timestamp,
}

impl OwnerRecord {
    /// What it names, without the data.
    pub fn kind(&self) -> OwnerKind {
        self.identity.kind()
    }

    /// The PAN, where known.
    pub fn pan(&self) -> Option<&str> {
        self.identity.pan()
    }

    /// The GSTIN (the parent's for a branch).
    pub fn gstin(&self) -> Option<&Gstin> {
        self.identity.gstin()
    }

    /// The owner above it.
    pub fn parent_id(&self) -> Option<OwnerId> {
        self.identity.parent_id()
    }
}

/// An owner as its row stores it (kind, and the columns that kind uses).
#[derive(sqlx::FromRow)]
struct OwnerRow {
    id: OwnerId,
    account_id: AccountId,
    #[sqlx(try_from = "String")]
    kind: OwnerKind,
    name: String,
    pan: Option<String>,
    gstin: Option<Gstin>,
    parent_id: Option<OwnerId>,
    created_at: Timestamp,
}

impl TryFrom<OwnerRow> for OwnerRecord {
    type Error = super::StoreError;

    fn try_from(row: OwnerRow) -> Result<Self, Self::Error> {
        let corrupt = |what: &str| {
            super::StoreError::Corrupt(format!(
                "{} owner {} without {what}",
                row.kind.as_str(),
                row.id
            ))
        };
        let identity = match row.kind {
            OwnerKind::Pan => OwnerIdentity::Pan {
                pan: row.pan.clone().ok_or_else(|| corrupt("a PAN"))?,
            },
            OwnerKind::Gstin => OwnerIdentity::Gstin {
                gstin: row.gstin.clone().ok_or_else(|| corrupt("a GSTIN"))?,
                pan: row.pan.clone(),
                parent_id: row.parent_id,
            },
            OwnerKind::Branch => OwnerIdentity::Branch {
                gstin: row.gstin.clone().ok_or_else(|| corrupt("a GSTIN"))?,
                pan: row.pan.clone(),
                parent_id: row.parent_id.ok_or_else(|| corrupt("a parent"))?,
            },
        };
        Ok(OwnerRecord {
            id: row.id,
            account_id: row.account_id,
            name: row.name,
            identity,
            created_at: row.created_at,
        })
    }
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for OwnerRecord
where
    OwnerRow: sqlx::FromRow<'r, R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        OwnerRow::from_row(row)?
            .try_into()
            .map_err(|e: super::StoreError| sqlx::Error::Decode(Box::new(e)))
    }
}

/// A data key of the vault, wrapped (encrypted) under the master key.
#[derive(Clone, sqlx::FromRow)]
pub struct VaultKeyRecord {
    /// Key version, named in every ciphertext.
    pub version: i64,
    /// Nonce and AES-256-GCM ciphertext of the 32-byte data key.
    pub wrapped_key: Vec<u8>,
    /// Creation time.
    pub created_at: Timestamp,
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
    pub owner_id: OwnerId,
    /// The GSTIN.
    pub gstin: Gstin,
    /// The NIC API username.
    pub username: String,
    /// The vault key version that sealed the password.
    pub key_version: i64,
    /// The sealed password.
    pub password_ciphertext: Vec<u8>,
    /// Bumped on every store.
    pub version: i64,
    /// Last store time.
    pub updated_at: Timestamp,
    /// `UNVERIFIED` until checked at the IRP, then `VERIFIED`, `WRONG_PASSWORD`, …
    #[sqlx(try_from = "String")]
    pub verify_status: VerificationStatus,
    /// When the IRP last checked them.
    pub last_verified_at: Option<Timestamp>,
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
    pub account_id: AccountId,
    /// The token that made the request (none for the sandbox account or the CLI).
    pub actor_token_id: Option<Uuid>,
    /// What happened.
    #[sqlx(try_from = "String")]
    pub action: AuditAction,
    /// The owner concerned.
    pub owner_id: Option<OwnerId>,
    /// The GSTIN concerned.
    pub gstin: Option<Gstin>,
    /// The NIC username concerned.
    pub username: Option<String>,
    /// The credential version written.
    pub version: Option<i64>,
    /// The request id.
    pub request_id: Option<String>,
    /// When.
    pub at: Timestamp,
}

/// A console login; only the SHA-256 of the cookie value is kept.
#[derive(Clone, sqlx::FromRow)]
pub struct WebSessionRecord {
    /// Session id (recorded as the actor of what the session changes).
    pub id: Uuid,
    /// The account acted for.
    pub account_id: AccountId,
    /// The user who logged in.
    pub user_id: UserId,
    /// The user's email (read back with the session).
    pub email: String,
    /// SHA-256 of the cookie value.
    pub secret_hash: Vec<u8>,
    /// Login time.
    pub created_at: Timestamp,
    /// Last request.
    pub last_seen_at: Timestamp,
    /// Absolute expiry.
    pub expires_at: Timestamp,
    /// Logout time.
    pub ended_at: Option<Timestamp>,
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
