//! The master key: where it comes from (environment, file, or generated in sandbox mode), how
//! it is parsed and written (mode 0600), and that it is never printed.

use std::path::Path;

use aes_gcm::aead::{KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key};
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::error::VaultError;

/// The 32-byte key that wraps the data keys. Zeroed on drop; never printed.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        MasterKey(bytes)
    }

    /// Parses 32 bytes given as base64 (standard or URL-safe) or as 64 hex digits.
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let text = text.trim();
        let decoded = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            decode_hex(text)
        } else {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
                .ok()
                .map(Zeroizing::new)
        };
        let decoded = decoded.ok_or_else(|| VaultError::MasterKey("not base64 or hex".into()))?;
        let bytes: [u8; 32] = decoded.as_slice().try_into().map_err(|_| {
            VaultError::MasterKey(format!("must be 32 bytes, got {}", decoded.len()))
        })?;
        Ok(MasterKey(Zeroizing::new(bytes)))
    }

    /// The base64 form, for writing a key file.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(base64::engine::general_purpose::STANDARD.encode(self.0.as_ref()))
    }

    /// Loads the key from a file.
    pub fn from_file(path: &Path) -> Result<Self, VaultError> {
        let text =
            Zeroizing::new(
                std::fs::read_to_string(path).map_err(|error| VaultError::Io {
                    path: path.display().to_string(),
                    error,
                })?,
            );
        Self::parse(&text)
    }

    /// Writes the key to a new file readable by its owner only (mode 0600).
    pub fn write_new_file(&self, path: &Path) -> Result<(), VaultError> {
        use std::io::Write;
        let io = |error| VaultError::Io {
            path: path.display().to_string(),
            error,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path).map_err(io)?;
        file.write_all(self.to_base64().expose_secret().as_bytes())
            .map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(())
    }

    pub(super) fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.0.as_ref()))
    }

    pub(super) fn bytes(&self) -> &[u8] {
        self.0.as_ref()
    }

    pub(super) fn duplicate(&self) -> Self {
        MasterKey(Zeroizing::new(*self.0))
    }
}

fn decode_hex(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    let bytes = text.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len() / 2));
    for pair in bytes.chunks(2) {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out.push((hi * 16 + lo) as u8);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_key_parses_base64_and_hex_and_redacts_debug() {
        let key = MasterKey::generate();
        let b64 = key.to_base64();
        let parsed = MasterKey::parse(b64.expose_secret()).unwrap();
        assert_eq!(parsed.0.as_ref(), key.0.as_ref());
        let hex: String = key.0.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(MasterKey::parse(&hex).unwrap().0.as_ref(), key.0.as_ref());
        assert!(MasterKey::parse("c2hvcnQ=").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey([redacted])");
    }
}
