//! What differs between SQLite and PostgreSQL for the one store implementation: how a write
//! transaction starts, migrations, and reading a statement's row count.

use async_trait::async_trait;
use sqlx::pool::Pool;
use sqlx::{Database, Transaction};

use super::{Backend, StoreError};

/// What differs between the databases.
#[async_trait]
pub trait Dialect: Database {
    /// Which backend this is.
    const BACKEND: Backend;
    /// Starts a transaction that will write (SQLite takes the write lock at once, so that two
    /// writers never deadlock upgrading their locks).
    async fn begin_write(pool: &Pool<Self>) -> Result<Transaction<'static, Self>, sqlx::Error>;
    /// Applies this backend's migrations.
    async fn migrate(pool: &Pool<Self>) -> Result<(), StoreError>;
    /// How many rows a statement changed.
    fn rows_affected(result: &Self::QueryResult) -> u64;
}
