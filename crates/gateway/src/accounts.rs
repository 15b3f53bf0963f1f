//! Secrets that identify our own users: Argon2id password hashes and API auth tokens.
//! Tokens are 256 random bits, shown once, and stored only as their SHA-256.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Prefix of every API token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "einv_";

/// Hashes a password with Argon2id and a random salt into a PHC string.
pub fn hash_password(password: &SecretString) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)?
        .to_string())
}

/// Checks a password against a PHC string (constant-time inside Argon2).
pub fn verify_password(password: &SecretString, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that an unknown email costs
/// as much time as a wrong password.
pub fn dummy_password_hash() -> String {
    hash_password(&SecretString::from("no such user".to_string())).unwrap_or_default()
}

/// Bounds password hashing: at most one Argon2id computation per core at a time (each takes
/// about 19 MiB and tens of milliseconds), a short queue behind them, and a refusal (429)
/// beyond it, so a burst of logins cannot exhaust memory.
pub struct HashingGate {
    running: tokio::sync::Semaphore,
    admitted: std::sync::atomic::AtomicUsize,
    max_admitted: usize,
}

/// The gate is full: retry shortly.
#[derive(Debug, Clone, Copy)]
pub struct HashingBusy;

impl HashingGate {
    /// `concurrent` hashes at once, and up to `queued` more waiting.
    pub fn new(concurrent: usize, queued: usize) -> Self {
        HashingGate {
            running: tokio::sync::Semaphore::new(concurrent.max(1)),
            admitted: std::sync::atomic::AtomicUsize::new(0),
            max_admitted: concurrent.max(1) + queued,
        }
    }

    /// One hash per core, and four per core waiting.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores, 4 * cores)
    }

    /// Runs `work` (a password hash or check) on the blocking pool once a slot is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashingBusy> {
        use std::sync::atomic::Ordering;
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.max_admitted {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(HashingBusy);
        }
        let result = async {
            let _permit = self.running.acquire().await.map_err(|_| HashingBusy)?;
            tokio::task::spawn_blocking(work)
                .await
                .map_err(|_| HashingBusy)
        }
        .await;
        self.admitted.fetch_sub(1, Ordering::AcqRel);
        result
    }
}

/// A fresh API token: the value (shown once) and the hash to store.
pub fn new_api_token() -> (SecretString, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let value = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash_api_token(&value);
    (SecretString::from(value), hash)
}

/// The SHA-256 of a token value, as stored.
pub fn hash_api_token(value: &str) -> Vec<u8> {
    Sha256::digest(value.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let password = SecretString::from("correct horse".to_string());
        let phc = hash_password(&password).unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password(&password, &phc));
        assert!(!verify_password(
            &SecretString::from("wrong".to_string()),
            &phc
        ));
        assert!(!verify_password(&password, "not a phc string"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, hash_a) = new_api_token();
        let (b, _) = new_api_token();
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert!(a.expose_secret().starts_with(TOKEN_PREFIX));
        assert_eq!(a.expose_secret().len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash_a, hash_api_token(a.expose_secret()));
        assert_eq!(hash_a.len(), 32);
    }
}
