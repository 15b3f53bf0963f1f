//! The shared state of one sandbox: its database, keys, clock, faults and counters.

use std::ops::Deref;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::clock::SandboxClock;
use crate::config::SandboxConfig;
use crate::counters::{Counters, Faults};
use crate::error::SandboxError;
use crate::keys::IrpKeys;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A client's credentials check, cached in memory (clients change only through the portal,
/// which invalidates the entry).
#[derive(Debug, Clone)]
pub struct CachedClient {
    /// `salt$sha256` of the secret.
    pub secret_hash: String,
    /// Comma-separated whitelisted IPs.
    pub whitelist: String,
}

/// A live session, cached in memory (written through to the database).
#[derive(Clone)]
pub struct CachedSession {
    /// The client it was issued to.
    pub client_id: String,
    /// The GSTIN.
    pub gstin: String,
    /// The API user.
    pub username: String,
    /// The session key.
    pub sek: [u8; 32],
    /// Expiry, Unix ms.
    pub expires_at: i64,
    /// The IRP that issued it (a session is valid only there).
    pub irp: String,
}

/// Everything a request handler needs.
pub struct Inner {
    /// Settings.
    pub config: SandboxConfig,
    /// State.
    pub pool: SqlitePool,
    /// Encryption and signing keys.
    pub keys: IrpKeys,
    /// Settable clock.
    pub clock: SandboxClock,
    /// Counters.
    pub counters: Arc<Counters>,
    /// The masters the validator checks against (HSN, units, PINs), and PIN centroids for e-way bill distances.
    pub masters: Arc<irp_protocol::masters::Masters>,
    ack_sequence: AtomicU64,
    /// Clients by id.
    pub clients: std::sync::RwLock<std::collections::HashMap<String, CachedClient>>,
    /// Sessions by AuthToken.
    pub sessions: std::sync::RwLock<std::collections::HashMap<String, CachedSession>>,
    /// Group commit of new e-invoices.
    pub writer: crate::writer::EinvoiceWriter,
    /// Status of every taxpayer in the master (changed only through the sandbox itself).
    taxpayers: std::sync::RwLock<std::collections::HashMap<String, TaxpayerState>>,
    ephemeral_db: Option<std::path::PathBuf>,
}

/// A taxpayer's standing in the master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxpayerState {
    /// `ACT`, `CNL`, `INA` or `SUS`.
    pub status: String,
    /// Blocked from e-invoicing.
    pub blocked: bool,
    /// Enabled for e-invoicing.
    pub enabled: bool,
    /// Aggregate annual turnover in crore rupees, when the master flags it.
    pub aato_crore: Option<i64>,
}

/// The turnover (crore rupees) from which documents must be reported within 30 days (2305):
/// AATO of 10 crore and above since 1 April 2025 (`nic-irp-api.md` §8).
pub const LATE_REPORTING_AATO_CRORE: i64 = 10;
/// How many days after its date a document of such a taxpayer may still be reported.
pub const LATE_REPORTING_DAYS: i64 = 30;

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(path) = &self.ephemeral_db {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
    }
}

/// The IRP a sandbox handle serves as (NIC runs NIC1 and NIC2 over one IRN registry), with
/// the faults injected into that IRP alone.
pub struct Site {
    /// `NIC1` or `NIC2`.
    pub name: String,
    /// Injected faults.
    pub faults: Faults,
}

/// The name of the first IRP.
pub const FIRST_IRP: &str = "NIC1";

/// A cheaply clonable handle on a sandbox, serving as one of its IRPs.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
    site: Arc<Site>,
}

impl Deref for Sandbox {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl Sandbox {
    /// Opens (or creates) the state, loads or generates keys, and seeds a fresh database.
    pub async fn open(config: SandboxConfig) -> Result<Self, SandboxError> {
        // "In memory" is a private database file on a RAM-backed file system (/dev/shm where
        // there is one), so that several connections can share it; it is removed on drop.
        let (path, ephemeral) = match &config.db_path {
            Some(path) => (path.clone(), false),
            None => {
                let shm = std::path::Path::new("/dev/shm");
                let dir = if shm.is_dir() {
                    shm.to_path_buf()
                } else {
                    std::env::temp_dir()
                };
                remove_stale_state(&dir);
                (
                    dir.join(format!(
                        "irp-sandbox-{}-{}.db",
                        std::process::id(),
                        random_alnum(10)
                    )),
                    true,
                )
            }
        };
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(if ephemeral {
                SqliteSynchronous::Off
            } else {
                SqliteSynchronous::Normal
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("mmap_size", "268435456")
            .pragma("cache_size", "-65536");
        // An embedded file has no connection to lose: no ping before each use (one round trip
        // to the connection's thread fewer per query, the e-invoice writer's batches included).
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let keys = IrpKeys::load_or_generate(&pool).await?;
        let seeded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM taxpayers")
            .fetch_one(&pool)
            .await?;
        if seeded == 0 {
            crate::seed::seed(&pool, config.taxpayers, config.seed).await?;
        }
        let last_ack: Option<i64> = sqlx::query_scalar("SELECT MAX(ack_no) FROM einvoices")
            .fetch_one(&pool)
            .await?;
        let sequence = last_ack.map(|a| (a % 10_000_000_000) as u64).unwrap_or(0);
        let rows: Vec<(String, String, bool, bool, Option<i64>)> = sqlx::query_as(
            "SELECT gstin, status, blocked, einvoice_enabled, aato_crore FROM taxpayers",
        )
        .fetch_all(&pool)
        .await?;
        let taxpayers = rows
            .into_iter()
            .map(|(gstin, status, blocked, enabled, aato_crore)| {
                (
                    gstin,
                    TaxpayerState {
                        status,
                        blocked,
                        enabled,
                        aato_crore,
                    },
                )
            })
            .collect();
        let counters = Arc::new(Counters::default());
        let writer = crate::writer::EinvoiceWriter::start(pool.clone(), counters.clone());
        let inner = Arc::new(Inner {
            config,
            pool,
            keys,
            clock: SandboxClock::default(),
            counters,
            masters: Arc::new(irp_protocol::masters::Masters::load()),
            ack_sequence: AtomicU64::new(sequence),
            writer,
            clients: Default::default(),
            sessions: Default::default(),
            taxpayers: std::sync::RwLock::new(taxpayers),
            ephemeral_db: ephemeral.then_some(path),
        });
        Ok(Sandbox {
            inner,
            site: Arc::new(Site {
                name: FIRST_IRP.to_string(),
                faults: Faults::default(),
            }),
        })
    }

    /// The same sandbox (registry, keys, taxpayers, clock) serving as another IRP, e.g.
    /// `NIC2`: its own sessions and its own faults.
    pub fn as_irp(&self, name: &str) -> Sandbox {
        Sandbox {
            inner: self.inner.clone(),
            site: Arc::new(Site {
                name: name.to_string(),
                faults: Faults::default(),
            }),
        }
    }

    /// The IRP this handle serves as.
    pub fn irp(&self) -> &str {
        &self.site.name
    }

    /// The faults injected into this IRP.
    pub fn faults(&self) -> &Faults {
        &self.site.faults
    }

    /// The next acknowledgement number: 2 digits, the 2-digit year, `1`, then a 10-digit
    /// sequence (the layout seen in real AckNos, `nic-irp-api.md` §4).
    pub fn next_ack_no(&self, year: i32) -> i64 {
        let sequence = self.ack_sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let prefix: i64 = 11;
        prefix * 10_000_000_000_000
            + i64::from(year % 100) * 100_000_000_000
            + 10_000_000_000
            + (sequence % 10_000_000_000) as i64
    }
}

impl Inner {
    /// Ends sessions (in memory and in the database) that match: all, a GSTIN's, or a user's.
    pub async fn end_sessions(
        &self,
        gstin: Option<&str>,
        username: Option<&str>,
    ) -> Result<u64, sqlx::Error> {
        if let Ok(mut sessions) = self.sessions.write() {
            sessions.retain(|_, s| {
                let hit = gstin.is_none_or(|g| s.gstin == g)
                    && username.is_none_or(|u| s.username.eq_ignore_ascii_case(u));
                !hit
            });
        }
        let done = sqlx::query("DELETE FROM sessions WHERE ($1 IS NULL OR gstin = $1) AND ($2 IS NULL OR username = $2 COLLATE NOCASE)")
            .bind(gstin)
            .bind(username)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// A taxpayer's standing, or `None` when the GSTIN is not in the master.
    pub fn taxpayer(&self, gstin: &str) -> Option<TaxpayerState> {
        self.taxpayers.read().ok()?.get(gstin).cloned()
    }

    /// Records a new taxpayer or a change of standing, in the database and in memory.
    pub async fn set_taxpayer(
        &self,
        gstin: &str,
        state: TaxpayerState,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("UPDATE taxpayers SET status = $1, blocked = $2, einvoice_enabled = $3, aato_crore = $4 WHERE gstin = $5")
            .bind(&state.status)
            .bind(state.blocked)
            .bind(state.enabled)
            .bind(state.aato_crore)
            .bind(gstin)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 1 {
            if let Ok(mut taxpayers) = self.taxpayers.write() {
                taxpayers.insert(gstin.to_string(), state);
            }
        }
        Ok(done.rows_affected() == 1)
    }

    /// Makes the IRP's master hold a stale status for a taxpayer (`stale`) while the common
    /// portal keeps its current one, until a sync GSTIN call. False when the GSTIN is unknown.
    pub async fn mark_stale(&self, gstin: &str, stale: &str) -> Result<bool, sqlx::Error> {
        let Some(mut state) = self.taxpayer(gstin) else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE taxpayers SET portal_status = COALESCE(portal_status, status) WHERE gstin = $1",
        )
        .bind(gstin)
        .execute(&self.pool)
        .await?;
        state.status = stale.to_string();
        self.set_taxpayer(gstin, state).await
    }

    /// Refreshes a taxpayer from the common portal (sync GSTIN): a stale status is replaced by
    /// the portal's. False when the GSTIN is unknown.
    pub async fn sync_taxpayer(&self, gstin: &str) -> Result<bool, sqlx::Error> {
        let Some(mut state) = self.taxpayer(gstin) else {
            return Ok(false);
        };
        let portal: Option<Option<String>> =
            sqlx::query_scalar("SELECT portal_status FROM taxpayers WHERE gstin = $1")
                .bind(gstin)
                .fetch_optional(&self.pool)
                .await?;
        if let Some(Some(fresh)) = portal {
            sqlx::query("UPDATE taxpayers SET portal_status = NULL WHERE gstin = $1")
                .bind(gstin)
                .execute(&self.pool)
                .await?;
            state.status = fresh;
            self.set_taxpayer(gstin, state).await?;
        }
        Ok(true)
    }

    /// Adds a freshly inserted taxpayer to the in-memory master.
    pub fn remember_taxpayer(&self, gstin: &str) {
        if let Ok(mut taxpayers) = self.taxpayers.write() {
            taxpayers.insert(
                gstin.to_string(),
                TaxpayerState {
                    status: "ACT".into(),
                    blocked: false,
                    enabled: true,
                    aato_crore: None,
                },
            );
        }
    }

    /// Forgets a cached client (after its whitelist changed).
    pub fn forget_client(&self, client_id: &str) {
        if let Ok(mut clients) = self.clients.write() {
            clients.remove(client_id);
        }
    }
}

/// Removes the state files of sandboxes whose process is gone (a crash skips their cleanup).
fn remove_stale_state(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("irp-sandbox-") else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        if !pid.is_empty()
            && pid.bytes().all(|b| b.is_ascii_digit())
            && !std::path::Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Hashes a secret (client secret, password) with a random salt: `salt$sha256`.
pub fn hash_secret(secret: &str) -> String {
    use rand::RngCore;
    use sha2::{Digest, Sha256};
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let salt: String = salt.iter().map(|b| format!("{b:02x}")).collect();
    let digest = Sha256::digest(format!("{salt}{secret}").as_bytes());
    let digest: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{salt}${digest}")
}

/// Checks a secret against [`hash_secret`]'s output, in constant time.
pub fn verify_secret(secret: &str, stored: &str) -> bool {
    use sha2::{Digest, Sha256};
    use subtle::ConstantTimeEq;
    let Some((salt, expected)) = stored.split_once('$') else {
        return false;
    };
    let digest = Sha256::digest(format!("{salt}{secret}").as_bytes());
    let digest: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    digest.as_bytes().ct_eq(expected.as_bytes()).into()
}

/// A random string of letters and digits.
pub fn random_alnum(len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

impl Sandbox {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hash_with_salt_and_verify() {
        let a = hash_secret("s3cret");
        assert_ne!(a, hash_secret("s3cret"));
        assert!(verify_secret("s3cret", &a));
        assert!(!verify_secret("s3cret!", &a));
        assert!(!verify_secret("s3cret", "garbage"));
        assert_eq!(random_alnum(25).len(), 25);
    }
}
