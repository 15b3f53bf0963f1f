//! The credential vault: envelope encryption with AES-256-GCM. A master key (from the
//! environment, a file, or generated in sandbox mode) wraps versioned data keys stored in the
//! database; data keys seal NIC passwords. Every ciphertext names its key version and is bound
//! by associated data to its owner, GSTIN and credential version, so a ciphertext copied to
//! another row fails to open. A running gateway learns key versions added by a rotation
//! elsewhere (the CLI, another replica) without a restart.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::RwLock;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

mod error;
mod master_key;
mod rotation;

pub use error::VaultError;
pub use master_key::MasterKey;
pub use rotation::ROTATION_BATCH;

use crate::clock::Timestamp;
use crate::ids::OwnerId;
use crate::storage::{Store, VaultKeyRecord};

/// First bytes of every sealed credential: format tag and format version.
const SEALED_MAGIC: &[u8; 2] = b"E1";
const NONCE_LEN: usize = 12;
const HEADER_LEN: usize = 2 + 4 + NONCE_LEN;

fn wrap_aad(version: i64) -> Vec<u8> {
    format!("einvoice/vault-key/v{version}").into_bytes()
}

/// The associated data that binds a sealed NIC password to its row.
fn credential_aad(key_version: i64, owner_id: OwnerId, gstin: &str, version: i64) -> Vec<u8> {
    format!("einvoice/nic-credential|key={key_version}|owner={owner_id}|gstin={gstin}|version={version}").into_bytes()
}

/// Where a sealed NIC password belongs: the associated data it is bound to.
#[derive(Debug, Clone, Copy)]
pub struct CredentialSlot<'a> {
    /// The owner.
    pub owner_id: OwnerId,
    /// The GSTIN.
    pub gstin: &'a str,
    /// The credential version.
    pub version: i64,
}

/// The unwrapped data keys, by version, and the master key that unwraps new ones. Built at
/// start-up and held in the app state; [`Vault::refresh`] adds versions created since.
pub struct Vault {
    keys: RwLock<BTreeMap<i64, Aes256Gcm>>,
    current: AtomicI64,
    master: MasterKey,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("key_versions", &self.versions())
            .field("current", &self.current_version())
            .finish()
    }
}

fn wrap_data_key(
    master: &MasterKey,
    version: i64,
    data_key: &[u8; 32],
) -> Result<Vec<u8>, VaultError> {
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let ciphertext = master
        .cipher()
        .encrypt(
            &nonce,
            Payload {
                msg: data_key,
                aad: &wrap_aad(version),
            },
        )
        .map_err(|_| VaultError::Authentication)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

fn unwrap_data_key(master: &MasterKey, record: &VaultKeyRecord) -> Result<Aes256Gcm, VaultError> {
    let plain = unwrap_raw(master, record)?;
    Ok(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(plain.as_ref())))
}

fn new_data_key() -> Zeroizing<[u8; 32]> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(bytes.as_mut());
    bytes
}

impl Vault {
    /// Opens the vault of a store with the master key: unwraps every data key, creating the
    /// first one on a fresh database. A wrong master key is an error and changes nothing.
    pub async fn open(
        store: &dyn Store,
        master: &MasterKey,
        now: Timestamp,
    ) -> Result<Self, VaultError> {
        let mut records = store.list_vault_keys().await?;
        if records.is_empty() {
            let data_key = new_data_key();
            let record = VaultKeyRecord {
                version: 1,
                wrapped_key: wrap_data_key(master, 1, &data_key)?,
                created_at: now,
            };
            store.insert_vault_key(&record).await?;
            // Another replica may have created version 1 first: read back what won.
            records = store.list_vault_keys().await?;
        }
        let mut keys = BTreeMap::new();
        for record in &records {
            keys.insert(record.version, unwrap_data_key(master, record)?);
        }
        let current = keys
            .keys()
            .next_back()
            .copied()
            .ok_or(VaultError::UnknownKeyVersion(1))?;
        Ok(Vault {
            keys: RwLock::new(keys),
            current: AtomicI64::new(current),
            master: master.duplicate(),
        })
    }

    /// The version new ciphertexts are sealed with.
    pub fn current_version(&self) -> i64 {
        self.current.load(Ordering::Acquire)
    }

    fn versions(&self) -> Vec<i64> {
        self.keys
            .read()
            .map(|keys| keys.keys().copied().collect())
            .unwrap_or_default()
    }

    fn has_version(&self, version: i64) -> bool {
        self.keys
            .read()
            .is_ok_and(|keys| keys.contains_key(&version))
    }

    /// A key for a purpose other than sealing (e.g. `csrf`), derived from the master key with
    /// HMAC-SHA256: the same on every replica that has the master key, and never stored.
    pub fn derive_key(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        if let Ok(mut mac) =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(self.master.bytes())
        {
            hmac::Mac::update(
                &mut mac,
                format!("einvoice/derived-key/{purpose}").as_bytes(),
            );
            out.copy_from_slice(&hmac::Mac::finalize(mac).into_bytes());
        }
        out
    }

    /// Learns the key versions the database has and this vault does not (a rotation by the CLI
    /// or another replica), and seals with the newest from then on. Returns how many were added.
    pub async fn refresh(&self, store: &dyn Store) -> Result<usize, VaultError> {
        let records = store.list_vault_keys().await?;
        let mut added = Vec::new();
        for record in records.iter().filter(|r| !self.has_version(r.version)) {
            added.push((record.version, unwrap_data_key(&self.master, record)?));
        }
        let count = added.len();
        if count > 0 {
            let mut keys = self
                .keys
                .write()
                .map_err(|_| VaultError::UnknownKeyVersion(0))?;
            for (version, cipher) in added {
                keys.entry(version).or_insert(cipher);
            }
            if let Some(newest) = keys.keys().next_back() {
                self.current.fetch_max(*newest, Ordering::AcqRel);
            }
        }
        Ok(count)
    }

    /// Opens a sealed secret like [`Vault::open_secret`]; a key version this vault does not
    /// know yet is looked up in the store first.
    pub async fn open_secret_fresh(
        &self,
        store: &dyn Store,
        sealed: &[u8],
        slot: CredentialSlot<'_>,
    ) -> Result<SecretString, VaultError> {
        match self.open_secret(sealed, slot) {
            Err(VaultError::UnknownKeyVersion(_)) => {
                self.refresh(store).await?;
                self.open_secret(sealed, slot)
            }
            other => other,
        }
    }

    /// Opens what [`Vault::seal_labelled`] sealed, learning new key versions like
    /// [`Vault::open_secret_fresh`].
    pub async fn open_labelled_fresh(
        &self,
        store: &dyn Store,
        label: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        match self.open_labelled(label, sealed) {
            Err(VaultError::UnknownKeyVersion(_)) => {
                self.refresh(store).await?;
                self.open_labelled(label, sealed)
            }
            other => other,
        }
    }

    /// Seals a secret for a credential slot under the current key.
    pub fn seal(
        &self,
        secret: &SecretString,
        slot: CredentialSlot<'_>,
    ) -> Result<(i64, Vec<u8>), VaultError> {
        self.seal_with(
            self.current_version(),
            secret.expose_secret().as_bytes(),
            slot,
        )
    }

    fn seal_with(
        &self,
        key_version: i64,
        plain: &[u8],
        slot: CredentialSlot<'_>,
    ) -> Result<(i64, Vec<u8>), VaultError> {
        let aad = credential_aad(key_version, slot.owner_id, slot.gstin, slot.version);
        self.seal_raw(key_version, plain, &aad)
            .map(|sealed| (key_version, sealed))
    }

    fn seal_raw(&self, key_version: i64, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, VaultError> {
        let keys = self
            .keys
            .read()
            .map_err(|_| VaultError::UnknownKeyVersion(key_version))?;
        let cipher = keys
            .get(&key_version)
            .ok_or(VaultError::UnknownKeyVersion(key_version))?;
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(&nonce, Payload { msg: plain, aad })
            .map_err(|_| VaultError::Authentication)?;
        let mut out = Vec::with_capacity(HEADER_LEN + ciphertext.len());
        out.extend_from_slice(SEALED_MAGIC);
        out.extend_from_slice(
            &u32::try_from(key_version)
                .map_err(|_| VaultError::Malformed)?
                .to_be_bytes(),
        );
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    fn open_raw(
        &self,
        sealed: &[u8],
        aad: impl Fn(i64) -> Vec<u8>,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let key_version = Self::key_version_of(sealed)?;
        let keys = self
            .keys
            .read()
            .map_err(|_| VaultError::UnknownKeyVersion(key_version))?;
        let cipher = keys
            .get(&key_version)
            .ok_or(VaultError::UnknownKeyVersion(key_version))?;
        let nonce = Nonce::from_slice(&sealed[6..HEADER_LEN]);
        cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad: &aad(key_version),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Authentication)
    }

    /// The key version a sealed value names.
    pub fn key_version_of(sealed: &[u8]) -> Result<i64, VaultError> {
        if sealed.len() < HEADER_LEN || &sealed[..2] != SEALED_MAGIC {
            return Err(VaultError::Malformed);
        }
        let mut version = [0u8; 4];
        version.copy_from_slice(&sealed[2..6]);
        Ok(i64::from(u32::from_be_bytes(version)))
    }

    /// Opens a sealed secret; fails unless it was sealed for exactly this slot.
    pub fn open_secret(
        &self,
        sealed: &[u8],
        slot: CredentialSlot<'_>,
    ) -> Result<SecretString, VaultError> {
        let plain = self.open_raw(sealed, |kv| {
            credential_aad(kv, slot.owner_id, slot.gstin, slot.version)
        })?;
        let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Malformed)?;
        Ok(SecretString::from(text.to_owned()))
    }

    /// Seals other secrets (IRP session tokens and keys) bound to a label that names where
    /// they belong, e.g. `irp-session|client|gstin|user`.
    pub fn seal_labelled(&self, label: &str, plain: &[u8]) -> Result<Vec<u8>, VaultError> {
        let current = self.current_version();
        let aad = format!("einvoice/{label}|key={current}").into_bytes();
        self.seal_raw(current, plain, &aad)
    }

    /// Opens what [`Vault::seal_labelled`] sealed under the same label.
    pub fn open_labelled(
        &self,
        label: &str,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.open_raw(sealed, |kv| {
            format!("einvoice/{label}|key={kv}").into_bytes()
        })
    }
}

fn unwrap_raw(
    master: &MasterKey,
    record: &VaultKeyRecord,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let (nonce, ciphertext) = record
        .wrapped_key
        .split_at_checked(NONCE_LEN)
        .ok_or(VaultError::WrongMasterKey(record.version))?;
    let plain = Zeroizing::new(
        master
            .cipher()
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &wrap_aad(record.version),
                },
            )
            .map_err(|_| VaultError::WrongMasterKey(record.version))?,
    );
    let mut out = Zeroizing::new([0u8; 32]);
    if plain.len() != 32 {
        return Err(VaultError::WrongMasterKey(record.version));
    }
    out.copy_from_slice(&plain);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids;

    fn vault_with_one_key() -> Vault {
        let mut keys = BTreeMap::new();
        keys.insert(1, Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&[7u8; 32])));
        Vault {
            keys: RwLock::new(keys),
            current: AtomicI64::new(1),
            master: MasterKey::generate(),
        }
    }

    #[test]
    fn vault_debug_shows_no_key() {
        assert!(!format!("{:?}", vault_with_one_key()).contains("7"));
    }

    #[test]
    fn sealed_secret_opens_only_in_its_own_slot() {
        let vault = vault_with_one_key();
        let owner = uuid::Uuid::new_v4();
        let slot = CredentialSlot {
            owner_id: ids::OwnerId(owner),
            gstin: "29AAFCD5862R000",
            version: 3,
        };
        let secret = SecretString::from("Passw0rd!".to_string());
        let (version, sealed) = vault.seal(&secret, slot).unwrap();
        assert_eq!(version, 1);
        assert_eq!(Vault::key_version_of(&sealed).unwrap(), 1);
        assert_eq!(
            vault.open_secret(&sealed, slot).unwrap().expose_secret(),
            "Passw0rd!"
        );
        for other in [
            CredentialSlot { version: 4, ..slot },
            CredentialSlot {
                gstin: "24AAFCD5862R005",
                ..slot
            },
            CredentialSlot {
                owner_id: OwnerId::generate(),
                ..slot
            },
        ] {
            assert!(matches!(
                vault.open_secret(&sealed, other),
                Err(VaultError::Authentication)
            ));
        }
        let (_, again) = vault.seal(&secret, slot).unwrap();
        assert_ne!(sealed, again, "a fresh nonce per write");
    }
}
