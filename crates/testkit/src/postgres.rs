//! A throwaway PostgreSQL cluster for the test binary, started with the Debian binaries
//! (`initdb`, `pg_ctl`) on first use and stopped by a watchdog when the test process exits.
//! Without PostgreSQL the tests that need it print that they were skipped, except under
//! `CI=true`, where they fail.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A running cluster.
pub struct Cluster {
    /// Its port on 127.0.0.1.
    pub port: u16,
}

static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();

fn find_bin(name: &str) -> Option<PathBuf> {
    if let Ok(out) = Command::new("which").arg(name).output() {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if out.status.success() && !path.is_empty() {
            return Some(PathBuf::from(path));
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin").join(name)))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL binary, as the `postgres` user when we are root (it refuses root).
fn pg_command(bin: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

fn start() -> Option<Cluster> {
    let (Some(initdb), Some(pg_ctl)) = (find_bin("initdb"), find_bin("pg_ctl")) else {
        return None;
    };
    let as_postgres = is_root();
    let dir = tempfile::Builder::new()
        .prefix("einvoice-pg-")
        .tempdir()
        .unwrap()
        .keep();
    let data = dir.join("data");
    if as_postgres {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(ok.success(), "chown of the cluster directory failed");
    }
    let out = pg_command(&initdb, as_postgres)
        .args(["-D"])
        .arg(&data)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
        dir.display()
    );
    let out = pg_command(&pg_ctl, as_postgres)
        .arg("-D")
        .arg(&data)
        .args(["-o", &options, "-l"])
        .arg(dir.join("log"))
        .args(["-w", "start"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pg_ctl start failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(dir.join("log")).unwrap_or_default()
    );
    // Stop and remove the cluster once this test process is gone.
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {run}{pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        run = if as_postgres { "runuser -u postgres -- " } else { "" },
        pg_ctl = pg_ctl.display(),
        data = data.display(),
        dir = dir.display(),
    );
    // `setsid -f` forks the watchdog into its own session and returns at once.
    let forked = Command::new("setsid")
        .args(["-f", "sh", "-c", &watchdog])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(forked.success(), "could not start the cluster watchdog");
    Some(Cluster { port })
}

/// The cluster, or `None` (with a message) when PostgreSQL is not installed outside CI.
pub fn cluster() -> Option<&'static Cluster> {
    CLUSTER
        .get_or_init(|| {
            let cluster = start();
            if cluster.is_none() {
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("CI=true but PostgreSQL (initdb, pg_ctl) is not installed");
                }
                eprintln!("SKIPPED: PostgreSQL tests (initdb/pg_ctl not found; apt-get install postgresql)");
            }
            cluster
        })
        .as_ref()
}

/// The database every migrated test database is copied from.
const TEMPLATE: &str = "einvoice_template";

/// Set once the template holds the gateway's migrated schema (per test process, like the
/// cluster).
static TEMPLATE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

async fn admin(cluster: &Cluster) -> sqlx::PgConnection {
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.port);
    <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap()
}

fn url_of(cluster: &Cluster, name: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{}/{name}", cluster.port)
}

async fn create_database(cluster: &Cluster, name: &str, template: Option<&str>) {
    let mut conn = admin(cluster).await;
    let from = template.map_or(String::new(), |t| format!(" TEMPLATE {t}"));
    sqlx::query(&format!("CREATE DATABASE {name}{from}"))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// A fresh, empty database in the cluster (for tests of the migrations themselves); its URL.
pub async fn fresh_database() -> Option<String> {
    let cluster = cluster()?;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    create_database(cluster, &name, None).await;
    Some(url_of(cluster, &name))
}

/// A fresh database that already holds the gateway's schema: a copy of a template migrated
/// once per test process, so each test skips the migrations (the gateway finds them applied).
pub async fn migrated_database() -> Option<String> {
    let cluster = cluster()?;
    TEMPLATE_READY
        .get_or_init(|| async {
            create_database(cluster, TEMPLATE, None).await;
            let store = gateway::storage::open(&url_of(cluster, TEMPLATE))
                .await
                .unwrap();
            store.migrate().await.unwrap();
            store.close().await;
            // A database is copied only while nobody is connected to it.
            let mut conn = admin(cluster).await;
            sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()")
                .bind(TEMPLATE)
                .execute(&mut conn)
                .await
                .unwrap();
        })
        .await;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    create_database(cluster, &name, Some(TEMPLATE)).await;
    Some(url_of(cluster, &name))
}
