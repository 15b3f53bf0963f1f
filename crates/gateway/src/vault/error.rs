//! What can go wrong in the vault.

use crate::storage::StoreError;

/// What can go wrong with keys and ciphertexts. Never carries key or plaintext bytes.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The master key is missing (production mode), malformed, or given twice.
    #[error("master key: {0}")]
    MasterKey(String),
    /// The master key does not open this database's vault keys.
    #[error("the master key does not open vault key version {0} of this database; check EINVOICE_MASTER_KEY or EINVOICE_MASTER_KEY_FILE (nothing was changed)")]
    WrongMasterKey(i64),
    /// A ciphertext names a key version the vault does not have.
    #[error("unknown vault key version {0}")]
    UnknownKeyVersion(i64),
    /// A ciphertext failed authentication (wrong row, tampered, or wrong key).
    #[error("ciphertext does not authenticate for this owner, GSTIN and version")]
    Authentication,
    /// A ciphertext is too short or has an unknown format.
    #[error("malformed ciphertext")]
    Malformed,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing a key file failed.
    #[error("key file {path}: {error}")]
    Io {
        /// The file.
        path: String,
        /// What happened.
        error: std::io::Error,
    },
}
