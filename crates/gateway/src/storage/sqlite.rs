//! The embedded SQLite backend: WAL journal, `synchronous=NORMAL` (a committed write survives a
//! process crash), foreign keys on, a busy timeout, one writer connection and a pool of readers.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::Pool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use super::dialect::Dialect;
use super::sql::SqlStore;
use super::{Backend, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The store on an embedded SQLite file.
pub type SqliteStore = SqlStore<Sqlite>;

/// How often the background task copies the WAL back into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(500);

#[async_trait]
impl Dialect for Sqlite {
    const BACKEND: Backend = Backend::Sqlite;

    async fn begin_write(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }

    async fn migrate(pool: &Pool<Self>) -> Result<(), StoreError> {
        MIGRATOR.run(pool).await?;
        Ok(())
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlStore<Sqlite> {
    /// Opens (creating if missing) the database file at `path`.
    pub async fn open(path: &str) -> Result<Self, StoreError> {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
            }
        }
        // Created 0600 before SQLite opens it (SQLite gives its WAL and shared-memory files the
        // same mode), so the file is never readable by others, not even for a moment.
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let created = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path);
            match created {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(StoreError::Database(sqlx::Error::Io(e))),
            }
        }
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // Commits never wait for a checkpoint (and its fsync): the writer does not checkpoint
        // automatically; a background task does, passively, twice a second.
        // An embedded file has no connection to lose: a ping before each use would only cost
        // a round trip to the connection's thread.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(
                options
                    .clone()
                    .pragma("wal_autocheckpoint", "0")
                    // After a checkpoint the WAL file is cut back to 32 MiB at most.
                    .pragma("journal_size_limit", "33554432"),
            )
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        restrict_to_owner(path)?;
        let checkpoint_pool = reader.clone();
        let checkpointer = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECKPOINT_INTERVAL);
            loop {
                ticks.tick().await;
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&checkpoint_pool)
                    .await
                {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
            }
        });
        Ok(SqlStore {
            writer,
            reader,
            background: Some(checkpointer),
        })
    }
}

/// The database and its WAL and shared-memory files are readable by their owner only (0600):
/// they hold sealed secrets, and e-invoice metadata in the clear.
fn restrict_to_owner(path: &str) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [
            path.to_string(),
            format!("{path}-wal"),
            format!("{path}-shm"),
        ] {
            match std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::Database(sqlx::Error::Io(e))),
            }
        }
    }
    Ok(())
}
