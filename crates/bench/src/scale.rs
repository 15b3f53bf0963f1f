//! The `scale` scenario: a production-mode gateway in its own process (the sibling `einvoice`
//! binary) is loaded in stages up to N credentials (default 1,000,000) spread over 10,000 PAN
//! owners, 100 GSTINs each. At every stage it measures the p99 of a store (overriding stored
//! credentials) and of a lookup, the gateway's resident memory, and the database size; at the
//! end it stops the gateway and times `einvoice keys rotate` over everything.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::processes::{einvoice_binary, memory};
use crate::stats::RunStats;

/// Owners, GSTINs per owner, and the stages to measure at.
pub struct Plan {
    /// Credentials at the last stage.
    pub credentials: u64,
    /// PAN owners.
    pub owners: u64,
    /// `sqlite` (a file in a temporary directory) or a PostgreSQL server URL.
    pub database_url: Option<String>,
    /// Requests per latency sample.
    pub sample: u64,
    /// Print JSON lines.
    pub json: bool,
}

struct Gateway {
    child: Child,
    base: String,
    pid: u32,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn einvoice(
    data_dir: &Path,
    database_url: &Option<String>,
    master_key: &str,
) -> anyhow::Result<Command> {
    let mut command = Command::new(einvoice_binary()?);
    command
        .env("EINVOICE_MODE", "production")
        .env("EINVOICE_MASTER_KEY", master_key)
        .env("EINVOICE_DATA_DIR", data_dir)
        .env("EINVOICE_BODY_LIMIT_BYTES", "1048576")
        .env_remove("RUST_LOG");
    if let Some(url) = database_url {
        command.env("EINVOICE_DATABASE_URL", url);
    }
    Ok(command)
}

fn start(
    data_dir: &Path,
    database_url: &Option<String>,
    master_key: &str,
) -> anyhow::Result<Gateway> {
    let mut child = einvoice(data_dir, database_url, master_key)?
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
    let base = line.trim().rsplit(' ').next().unwrap_or("").to_string();
    if !base.starts_with("http://") {
        bail!("the gateway did not start: {line}");
    }
    let pid = child.id();
    Ok(Gateway { child, base, pid })
}

/// A PAN for owner `i`: five letters (holder type C), four digits, a letter.
fn pan(i: u64) -> String {
    let letter = |n: u64| char::from(b'A' + (n % 26) as u8);
    format!(
        "{}{}{}C{}{:04}{}",
        letter(i / 26 / 26 / 26),
        letter(i / 26 / 26),
        letter(i / 26),
        letter(i),
        i % 10_000,
        letter(i / 7)
    )
}

/// The `k`-th GSTIN of a PAN: a known state code and an entity number, with its check
/// character.
fn gstin(pan: &str, k: u64) -> String {
    let states: Vec<gst_core::StateCode> = gst_core::StateCode::all().collect();
    let entities = b"123456789ABCDEFGHJKLMNPQRSTUVWXY";
    let state = states[(k as usize) % states.len()];
    let entity = char::from(entities[(k as usize / states.len()) % entities.len()]);
    let first14 = format!("{state}{pan}{entity}Z");
    let check = gst_core::check_character(&first14).unwrap_or('0');
    format!("{first14}{check}")
}

async fn parallel<F, Fut>(jobs: u64, concurrency: usize, job: F) -> RunStats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let job = job.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut stats = RunStats::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= jobs {
                    break;
                }
                let sent = Instant::now();
                match job(n).await {
                    Ok(()) => stats.latencies_us.push(sent.elapsed().as_micros() as u64),
                    Err(kind) => *stats.errors.entry(kind).or_default() += 1,
                }
            }
            stats
        }));
    }
    let mut all = RunStats::default();
    for w in workers {
        if let Ok(s) = w.await {
            all.merge(s);
        }
    }
    all.elapsed = started.elapsed();
    all
}

fn status_error(status: reqwest::StatusCode) -> Result<(), String> {
    if status.is_success() {
        Ok(())
    } else {
        Err(status.to_string())
    }
}

async fn database_size(data_dir: &Path, database_url: &Option<String>) -> anyhow::Result<u64> {
    match database_url {
        None => {
            // The database's own size (pages in use, WAL included), not the WAL file's length,
            // which SQLite reuses without shrinking.
            use sqlx::Connection;
            let url = format!(
                "sqlite://{}?mode=ro",
                data_dir.join("einvoice.db").display()
            );
            let mut conn = sqlx::SqliteConnection::connect(&url).await?;
            let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
                .fetch_one(&mut conn)
                .await?;
            let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
                .fetch_one(&mut conn)
                .await?;
            conn.close().await?;
            Ok((pages * page_size) as u64)
        }
        Some(url) => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(url).await?;
            let size: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
                .fetch_one(&mut conn)
                .await?;
            conn.close().await?;
            Ok(size as u64)
        }
    }
}

/// Checkpoints SQLite's WAL into the database (PostgreSQL needs nothing).
async fn settle(data_dir: &Path, database_url: &Option<String>) -> anyhow::Result<()> {
    if database_url.is_none() {
        use sqlx::Connection;
        let url = format!("sqlite://{}", data_dir.join("einvoice.db").display());
        let mut conn = sqlx::SqliteConnection::connect(&url).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        conn.close().await?;
    }
    Ok(())
}

/// Runs the scenario.
pub async fn run(plan: Plan) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let master_key =
        secrecy::ExposeSecret::expose_secret(&gateway::vault::MasterKey::generate().to_base64())
            .to_string();
    let backend = if plan.database_url.is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    let added = einvoice(dir.path(), &plan.database_url, &master_key)?
        .args(["users", "add", "--email", "scale@bench.test"])
        .env("EINVOICE_USER_PASSWORD", "scale bench password")
        .stdout(Stdio::null())
        .status()?;
    if !added.success() {
        bail!("einvoice users add failed");
    }
    let gateway = start(dir.path(), &plan.database_url, &master_key)?;
    let base = gateway.base.clone();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{base}/v2/auth/tokens"))
        .json(&json!({"email": "scale@bench.test", "password": "scale bench password", "label": "scale"}))
        .send()
        .await?
        .json()
        .await?;
    let token = Arc::new(token["token"].as_str().context("token")?.to_string());

    // Owners.
    let owner_ids = Arc::new(std::sync::Mutex::new(vec![
        String::new();
        plan.owners as usize
    ]));
    {
        let (http, base, token, owner_ids) =
            (http.clone(), base.clone(), token.clone(), owner_ids.clone());
        let made = parallel(plan.owners, 16, move |i| {
            let (http, base, token, owner_ids) =
                (http.clone(), base.clone(), token.clone(), owner_ids.clone());
            async move {
                let r = http
                    .post(format!("{base}/v2/owners"))
                    .header("X-Cleartax-Auth-Token", token.as_str())
                    .json(&json!({"kind": "PAN", "pan": pan(i)}))
                    .send()
                    .await
                    .map_err(|_| "transport".to_string())?;
                let status = r.status();
                let body: Value = r.json().await.map_err(|_| "body".to_string())?;
                status_error(status)?;
                let id = body["id"].as_str().unwrap_or("").to_string();
                if let Ok(mut ids) = owner_ids.lock() {
                    ids[i as usize] = id;
                }
                Ok(())
            }
        })
        .await;
        if !made.errors.is_empty() {
            bail!("creating owners: {:?}", made.errors);
        }
    }
    let owner_ids: Arc<Vec<String>> =
        Arc::new(owner_ids.lock().map(|v| v.clone()).unwrap_or_default());
    let per_owner = plan.credentials.div_ceil(plan.owners);
    // Credential k belongs to owner k % owners, GSTIN k / owners of its PAN: every stage
    // spreads over all owners.
    let key_of = move |k: u64, owners: u64| (k % owners, k / owners);

    let mut stages = Vec::new();
    let mut stage = 1_000u64.min(plan.credentials);
    while stage < plan.credentials {
        stages.push(stage);
        stage *= 10;
    }
    stages.push(plan.credentials);
    let mut loaded = 0u64;
    let mut peak_rss = 0.0f64;
    let mut results = Vec::new();
    let load_started = Instant::now();
    for &target in &stages {
        // Load up to the stage through the bulk endpoint, 500 rows a request.
        let rows = target - loaded;
        let batches = rows.div_ceil(500);
        let first = loaded;
        let (h, b, t, o) = (http.clone(), base.clone(), token.clone(), owner_ids.clone());
        let owners = plan.owners;
        let load = parallel(batches, 4, move |batch| {
            let (http, base, token, owner_ids) = (h.clone(), b.clone(), t.clone(), o.clone());
            async move {
                let start = first + batch * 500;
                let end = (start + 500).min(target);
                let credentials: Vec<Value> = (start..end)
                    .map(|k| {
                        let (owner, g) = key_of(k, owners);
                        json!({"gstin": gstin(&pan(owner), g), "username": format!("scale{:06}", k % 1_000_000), "password": format!("Scale@{k}"), "owner_id": owner_ids[owner as usize]})
                    })
                    .collect();
                let r = http
                    .post(format!("{base}/v2/nic_credentials/bulk"))
                    .header("X-Cleartax-Auth-Token", token.as_str())
                    .json(&json!({"credentials": credentials}))
                    .send()
                    .await
                    .map_err(|_| "transport".to_string())?;
                let status = r.status();
                let body: Value = r.json().await.map_err(|_| "body".to_string())?;
                status_error(status)?;
                if body["errors"].as_u64() != Some(0) {
                    return Err(format!("row errors: {}", body["results"][0]));
                }
                Ok(())
            }
        })
        .await;
        if !load.errors.is_empty() {
            bail!("loading to {target}: {:?}", load.errors);
        }
        loaded = target;
        let rss = memory(gateway.pid).now;
        peak_rss = peak_rss.max(rss);

        // Let the bulk load settle (its WAL checkpointed) so that each stage measures steady
        // state, then warm up with a few hundred untimed lookups.
        settle(dir.path(), &plan.database_url).await?;

        // Store (override) and look up random loaded credentials.
        let sample = plan.sample;
        let pick = move |n: u64| (n.wrapping_mul(2_654_435_761) ^ (n >> 3)) % target;
        let (h, b, t, o) = (http.clone(), base.clone(), token.clone(), owner_ids.clone());
        let stores = parallel(sample, 8, move |n| {
            let (http, base, token, owner_ids) = (h.clone(), b.clone(), t.clone(), o.clone());
            async move {
                let (owner, g) = key_of(pick(n), owners);
                let r = http
                    .post(format!("{base}/v2/nic_credentials/store_nic_credentials"))
                    .header("X-Cleartax-Auth-Token", token.as_str())
                    .header("owner_id", &owner_ids[owner as usize])
                    .json(&json!({"gstin": gstin(&pan(owner), g), "username": "scaleover1", "password": format!("Over@{n}")}))
                    .send()
                    .await
                    .map_err(|_| "transport".to_string())?;
                status_error(r.status())
            }
        })
        .await;
        let (h, b, t, o) = (http.clone(), base.clone(), token.clone(), owner_ids.clone());
        let lookup = move |n: u64| {
            let (http, base, token, owner_ids) = (h.clone(), b.clone(), t.clone(), o.clone());
            async move {
                let (owner, g) = key_of(pick(n.wrapping_add(7_777)), owners);
                let r = http
                    .get(format!(
                        "{base}/v2/nic_credentials?owner_id={}&gstin={}",
                        owner_ids[owner as usize],
                        gstin(&pan(owner), g)
                    ))
                    .header("X-Cleartax-Auth-Token", token.as_str())
                    .send()
                    .await
                    .map_err(|_| "transport".to_string())?;
                status_error(r.status())
            }
        };
        let lookup = Arc::new(lookup);
        let warm = lookup.clone();
        parallel(sample / 4, 8, move |n| warm(n + sample)).await;
        let lookups = parallel(sample, 8, move |n| lookup(n)).await;
        let used = memory(gateway.pid);
        let (rss, hwm) = (used.now, used.peak);
        peak_rss = peak_rss.max(rss).max(hwm);
        let size = database_size(dir.path(), &plan.database_url).await?;
        let line = json!({
            "scenario": "scale",
            "backend": backend,
            "credentials": target,
            "owners": plan.owners,
            "gstins_per_owner": per_owner,
            "load_rows_per_s": rows as f64 / load.elapsed.as_secs_f64(),
            "store_p50_ms": stores.percentile_ms(50.0),
            "store_p99_ms": stores.percentile_ms(99.0),
            "lookup_p50_ms": lookups.percentile_ms(50.0),
            "lookup_p99_ms": lookups.percentile_ms(99.0),
            "errors": {"store": stores.errors, "lookup": lookups.errors},
            "rss_mib": rss,
            "peak_rss_mib": hwm,
            "database_bytes": size,
            "bytes_per_credential": size as f64 / target as f64,
        });
        if plan.json {
            println!("{line}");
        } else {
            println!(
                "scale {backend} {target:>9} credentials: loaded at {:.0} rows/s; store p50 {:.2} ms p99 {:.2} ms; lookup p50 {:.2} ms p99 {:.2} ms; RSS {:.1} MiB (peak {:.1}); database {:.1} MiB ({:.0} B/credential)",
                line["load_rows_per_s"].as_f64().unwrap_or(0.0),
                line["store_p50_ms"].as_f64().unwrap_or(0.0),
                line["store_p99_ms"].as_f64().unwrap_or(0.0),
                line["lookup_p50_ms"].as_f64().unwrap_or(0.0),
                line["lookup_p99_ms"].as_f64().unwrap_or(0.0),
                rss,
                hwm,
                size as f64 / 1_048_576.0,
                line["bytes_per_credential"].as_f64().unwrap_or(0.0),
            );
        }
        results.push(line);
    }
    let load_secs = load_started.elapsed().as_secs_f64();
    drop(gateway);

    // Key rotation over everything, with the gateway stopped.
    let rotated = einvoice(dir.path(), &plan.database_url, &master_key)?
        .args(["keys", "rotate"])
        .output()?;
    let rotation = String::from_utf8_lossy(&rotated.stdout).trim().to_string();
    if !rotated.status.success() {
        bail!(
            "keys rotate failed: {}",
            String::from_utf8_lossy(&rotated.stderr)
        );
    }
    let first = &results[0];
    let last = &results[results.len() - 1];
    let ratio = |key: &str| {
        last[key].as_f64().unwrap_or(0.0) / first[key].as_f64().unwrap_or(1.0).max(1e-9)
    };
    let summary = json!({
        "scenario": "scale",
        "backend": backend,
        "credentials": plan.credentials,
        "store_p99_ratio_last_to_first": ratio("store_p99_ms"),
        "lookup_p99_ratio_last_to_first": ratio("lookup_p99_ms"),
        "peak_rss_mib": last["peak_rss_mib"],
        "load_and_measure_secs": load_secs,
        "rotation": rotation,
    });
    if plan.json {
        println!("{summary}");
    } else {
        println!(
            "scale {backend}: store p99 at {} / at {} = {:.2}x; lookup p99 = {:.2}x (target at most 1.5x); peak RSS {:.1} MiB (target under 150); {rotation}",
            last["credentials"],
            first["credentials"],
            summary["store_p99_ratio_last_to_first"].as_f64().unwrap_or(0.0),
            summary["lookup_p99_ratio_last_to_first"].as_f64().unwrap_or(0.0),
            last["peak_rss_mib"].as_f64().unwrap_or(0.0),
        );
    }
    Ok(())
}
