//! Key rotation: a new data key, re-wrapping under a new master key, and re-encrypting every
//! stored credential in batches of short transactions, each resumable from where the last
//! stopped.

use std::sync::atomic::Ordering;

use aes_gcm::aead::KeyInit;
use aes_gcm::{Aes256Gcm, Key};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::{
    new_data_key, unwrap_raw, wrap_data_key, CredentialSlot, MasterKey, Vault, VaultError,
};
use crate::clock::Timestamp;
use crate::ids::{AccountId, OwnerId};
use crate::storage::{AuditAction, AuditEvent, Store, StoreError, VaultKeyRecord};

/// Credentials re-encrypted per transaction by a rotation: each batch holds the writer only
/// briefly, so stores and reads go on while a rotation runs.
pub const ROTATION_BATCH: i64 = 500;

/// Passes a rotation makes at most (the first, then sweeps until one finds nothing to do).
const ROTATION_SWEEPS: usize = 4;

impl Vault {
    /// Adds a new data key, then re-encrypts every stored credential under it in batches of
    /// [`ROTATION_BATCH`], each its own short transaction (the key version of each row marks the
    /// progress, so an interrupted rotation is finished by the next one). With `new_master`,
    /// every data key is also re-wrapped under that master key. Running gateways learn the new
    /// version by themselves ([`Vault::refresh`]). Returns how many credentials were re-encrypted.
    pub async fn rotate(
        &mut self,
        store: &dyn Store,
        master: &MasterKey,
        new_master: Option<&MasterKey>,
        now: Timestamp,
    ) -> Result<u64, VaultError> {
        let wrapping = new_master.unwrap_or(master);
        let records = store.list_vault_keys().await?;
        let mut rewrapped = Vec::new();
        if new_master.is_some() {
            for record in &records {
                let plain = unwrap_raw(master, record)?;
                rewrapped.push(VaultKeyRecord {
                    version: record.version,
                    wrapped_key: wrap_data_key(wrapping, record.version, &plain)?,
                    created_at: record.created_at,
                });
            }
        }
        let version = records.iter().map(|r| r.version).max().unwrap_or(0) + 1;
        let data_key = new_data_key();
        let new_record = VaultKeyRecord {
            version,
            wrapped_key: wrap_data_key(wrapping, version, &data_key)?,
            created_at: now,
        };
        let audit = AuditEvent {
            account_id: AccountId(Uuid::nil()),
            actor_token_id: None,
            action: AuditAction::VaultKeyRotated,
            owner_id: None,
            gstin: None,
            username: None,
            version: Some(version),
            request_id: None,
            at: now,
        };
        store.add_vault_key(&new_record, &rewrapped, &audit).await?;
        {
            let mut keys = self
                .keys
                .write()
                .map_err(|_| VaultError::UnknownKeyVersion(version))?;
            keys.insert(
                version,
                Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(data_key.as_ref())),
            );
        }
        self.current.store(version, Ordering::Release);
        if let Some(new_master) = new_master {
            self.master = new_master.duplicate();
        }
        self.reseal_all(store, version).await
    }

    /// Re-encrypts every credential sealed under a key older than `version`: one pass through
    /// the table, then sweeps for rows a gateway wrote with its older key meanwhile.
    async fn reseal_all(&self, store: &dyn Store, version: i64) -> Result<u64, VaultError> {
        let reseal = |record: &crate::storage::CredentialRecord| -> Result<Vec<u8>, StoreError> {
            let slot = CredentialSlot {
                owner_id: record.owner_id,
                gstin: &record.gstin,
                version: record.version,
            };
            let secret = self
                .open_secret(&record.password_ciphertext, slot)
                .map_err(|e| StoreError::Vault(e.to_string()))?;
            self.seal_with(version, secret.expose_secret().as_bytes(), slot)
                .map(|(_, sealed)| sealed)
                .map_err(|e| StoreError::Vault(e.to_string()))
        };
        let mut total = 0;
        for _pass in 0..ROTATION_SWEEPS {
            let mut resealed_in_pass = 0;
            let mut after: Option<(OwnerId, String)> = None;
            loop {
                let batch = store
                    .reseal_credentials(version, after.as_ref(), ROTATION_BATCH, &reseal)
                    .await?;
                resealed_in_pass += batch.resealed;
                match batch.last {
                    Some(last) => after = Some(last),
                    None => break,
                }
            }
            total += resealed_in_pass;
            if resealed_in_pass == 0 {
                break;
            }
        }
        Ok(total)
    }
}
