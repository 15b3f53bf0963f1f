//! The two migration sets describe one schema: after migrating a fresh SQLite file and a fresh
//! PostgreSQL database, every table has the same columns, the same NOT NULL columns and the same
//! primary key. Types differ only as the dialects do (BLOB/BYTEA/UUID, INTEGER/BIGINT).

use std::collections::BTreeSet;

use sqlx::Row;

use crate::helpers::{database_url, Db};

/// (table, column, not null, part of the primary key)
type Schema = BTreeSet<(String, String, bool, bool)>;

async fn sqlite_schema(url: &str) -> Schema {
    let store = gateway::storage::open(url).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut schema = Schema::new();
    for table in tables {
        let rows = sqlx::query(&format!("PRAGMA table_info({table})"))
            .fetch_all(&mut conn)
            .await
            .unwrap();
        for row in rows {
            let name: String = row.get("name");
            let not_null: i64 = row.get("notnull");
            let pk: i64 = row.get("pk");
            // SQLite lets a primary key column hold NULL unless it says NOT NULL; PostgreSQL
            // makes every primary key column NOT NULL.
            schema.insert((table.clone(), name, not_null == 1 || pk > 0, pk > 0));
        }
    }
    schema
}

async fn postgres_schema(url: &str) -> Schema {
    let store = gateway::storage::open(url).await.unwrap();
    store.migrate().await.unwrap();
    store.close().await;
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT c.table_name, c.column_name, c.is_nullable, \
         EXISTS (SELECT 1 FROM information_schema.table_constraints t \
                 JOIN information_schema.key_column_usage k \
                   ON k.constraint_name = t.constraint_name AND k.table_name = t.table_name \
                 WHERE t.constraint_type = 'PRIMARY KEY' AND t.table_name = c.table_name \
                   AND k.column_name = c.column_name) AS pk \
         FROM information_schema.columns c \
         WHERE c.table_schema = 'public' AND c.table_name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            let nullable: String = row.get("is_nullable");
            (
                row.get::<String, _>("table_name"),
                row.get::<String, _>("column_name"),
                nullable == "NO",
                row.get::<bool, _>("pk"),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_sets_describe_one_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = database_url(Db::Sqlite, &dir).await.unwrap();
    let Some(postgres) = testkit::postgres::fresh_database().await else {
        return;
    };
    let (sqlite, postgres) = (
        sqlite_schema(&sqlite).await,
        postgres_schema(&postgres).await,
    );
    assert!(sqlite.len() > 50, "{sqlite:?}");
    let only_sqlite: Vec<_> = sqlite.difference(&postgres).collect();
    let only_postgres: Vec<_> = postgres.difference(&sqlite).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "the migrations drifted apart:\nonly in SQLite: {only_sqlite:?}\nonly in PostgreSQL: {only_postgres:?}"
    );
}
