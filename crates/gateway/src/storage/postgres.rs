//! The PostgreSQL store, for deployments with several gateway replicas. Credential writes are
//! conditional on the version read (optimistic concurrency), so concurrent stores from
//! different replicas each get their own version number.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::Pool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Postgres, Transaction};

use super::dialect::Dialect;
use super::sql::SqlStore;
use super::{Backend, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The store on a PostgreSQL server.
pub type PostgresStore = SqlStore<Postgres>;

#[async_trait]
impl Dialect for Postgres {
    const BACKEND: Backend = Backend::Postgres;

    async fn begin_write(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, sqlx::Error> {
        pool.begin().await
    }

    async fn migrate(pool: &Pool<Self>) -> Result<(), StoreError> {
        MIGRATOR.run(pool).await?;
        Ok(())
    }

    fn rows_affected(result: &Self::QueryResult) -> u64 {
        result.rows_affected()
    }
}

impl SqlStore<Postgres> {
    /// Connects to the server a `postgres://` URL names.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(SqlStore {
            writer: pool.clone(),
            reader: pool,
            background: None,
        })
    }
}
