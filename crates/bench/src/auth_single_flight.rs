//! The `auth-single-flight` scenario: many concurrent generate requests across several GSTINs
//! through a gateway whose sessions are cold, then again after the IRP's tokens expired. It
//! prints the IRP's auth calls (from the sandbox's counters) beside the GSTIN count: single
//! flight means exactly one auth call per GSTIN per token lifetime, however many requests wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use gateway::config::SettingsLayer;
use serde_json::{json, Value};

use crate::stats::RunStats;

use testkit::invoices::SELLERS;

fn invoice(seller: &str, buyer: &str, doc_no: &str) -> Value {
    json!({"transaction": testkit::invoices::invoice(seller, buyer, doc_no, 100.0)})
}

struct World {
    irp: String,
    gateway: String,
    owners: Vec<String>,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
    _irp: testkit::irp::RunningSandbox,
}

async fn world(gstins: usize) -> anyhow::Result<World> {
    let sandbox = testkit::irp::sandbox_with_controls().await;
    let (client_id, secret) = sandbox
        .provision_demo(
            "einvoice",
            irp_sandbox::seed::DEMO_GSP_PAN,
            SELLERS[0].0,
            "apiuser0",
            "Api@12345",
        )
        .await?;
    for (i, (gstin, _)) in SELLERS.iter().enumerate().take(gstins).skip(1) {
        sandbox
            .provision_api_user(&client_id, gstin, &format!("apiuser{i}"), "Api@12345")
            .await?;
    }
    let dir = tempfile::tempdir()?;
    let running = testkit::irp::RunningSandbox::serve(sandbox).await;
    let irp = running.base_url.clone();
    let mut settings = gateway::Settings::resolve(SettingsLayer {
        mode: Some("sandbox".into()),
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(dir.path().to_path_buf()),
        master_key: Some(gateway::vault::MasterKey::generate().to_base64()),
        ..Default::default()
    })?;
    settings.irp = Some(running.gateway_settings(&client_id, &secret, true, 30_000));
    let app = gateway::Application::build(settings).await?;
    let gateway = format!("http://{}", app.local_addr());
    tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    let http = reqwest::Client::new();
    let mut owners = Vec::new();
    for (i, (gstin, _)) in SELLERS.iter().enumerate().take(gstins) {
        let owner = uuid::Uuid::new_v4().to_string();
        let stored = http
            .post(format!("{gateway}/v2/nic_credentials/store_nic_credentials"))
            .header("owner_id", &owner)
            .json(&json!({"gstin": gstin, "username": format!("apiuser{i}"), "password": "Api@12345"}))
            .send()
            .await?;
        if !stored.status().is_success() {
            bail!("storing credentials for {gstin}: {}", stored.text().await?);
        }
        owners.push(owner);
    }
    Ok(World {
        irp,
        gateway,
        owners,
        http,
        _dir: dir,
        _irp: running,
    })
}

async fn auth_calls(world: &World) -> anyhow::Result<u64> {
    let counters: Value = world
        .http
        .get(format!("{}/sandbox/counters", world.irp))
        .send()
        .await?
        .json()
        .await?;
    counters["auth_calls_total"]
        .as_u64()
        .context("auth_calls_total in the sandbox counters")
}

async fn wave(world: Arc<World>, requests: u64, concurrency: usize, label: &str) -> RunStats {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let world = world.clone();
        let next = next.clone();
        let label = label.to_string();
        workers.push(tokio::spawn(async move {
            let mut stats = RunStats::default();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= requests {
                    break;
                }
                let seller = (n as usize) % world.owners.len();
                let (gstin, buyer) = SELLERS[seller];
                let doc = format!("SF{label}/{n}");
                let sent = Instant::now();
                let answer = world
                    .http
                    .put(format!("{}/v2/eInvoice/generate", world.gateway))
                    .header("owner_id", &world.owners[seller])
                    .header("gstin", gstin)
                    .json(&json!([invoice(gstin, buyer, &doc)]))
                    .send()
                    .await;
                match answer {
                    Ok(r) if r.status().is_success() => {
                        let body: Value = r.json().await.unwrap_or_default();
                        if body[0]["document_status"] == "IRN_GENERATED" {
                            stats.latencies_us.push(sent.elapsed().as_micros() as u64);
                        } else {
                            *stats.errors.entry("not generated".into()).or_default() += 1;
                        }
                    }
                    Ok(r) => *stats.errors.entry(r.status().to_string()).or_default() += 1,
                    Err(_) => *stats.errors.entry("transport".into()).or_default() += 1,
                }
            }
            stats
        }));
    }
    let mut all = RunStats::default();
    for w in workers {
        if let Ok(stats) = w.await {
            all.merge(stats);
        }
    }
    all.elapsed = started.elapsed();
    all
}

/// Runs two waves of `requests` generate calls across `gstins` GSTINs at `concurrency`: cold
/// sessions, then after the IRP's clock passed the token lifetime.
pub async fn run(
    requests: u64,
    concurrency: usize,
    gstins: usize,
    json: bool,
) -> anyhow::Result<()> {
    let gstins = gstins.clamp(1, SELLERS.len());
    let world = Arc::new(world(gstins).await?);
    let run_id = &uuid::Uuid::new_v4().simple().to_string()[..6];
    let before = auth_calls(&world).await?;
    let cold = wave(world.clone(), requests, concurrency, &format!("{run_id}A")).await;
    let after_cold = auth_calls(&world).await?;
    let moved = world
        .http
        .post(format!("{}/sandbox/clock", world.irp))
        .json(&json!({"advance_secs": 61 * 60}))
        .send()
        .await?;
    if !moved.status().is_success() {
        bail!("moving the sandbox clock: {}", moved.text().await?);
    }
    let expired = wave(world.clone(), requests, concurrency, &format!("{run_id}B")).await;
    let after_expiry = auth_calls(&world).await?;
    let report = |name: &str, stats: &RunStats, calls: u64| {
        json!({
            "wave": name,
            "requests": requests,
            "concurrency": concurrency,
            "gstins": gstins,
            "irns": stats.latencies_us.len(),
            "irn_per_s": stats.throughput(),
            "p50_ms": stats.percentile_ms(50.0),
            "p90_ms": stats.percentile_ms(90.0),
            "p99_ms": stats.percentile_ms(99.0),
            "errors": stats.errors,
            "auth_calls": calls,
            "auth_calls_per_gstin": calls as f64 / gstins as f64,
        })
    };
    let waves = [
        report("cold sessions", &cold, after_cold - before),
        report("after token expiry", &expired, after_expiry - after_cold),
    ];
    for w in &waves {
        if json {
            println!("{w}");
        } else {
            println!(
                "auth-single-flight {}: {} requests over {} GSTINs at concurrency {}: {} IRNs, {:.0} IRN/s, p50 {:.2} ms, p99 {:.2} ms, errors {}; IRP auth calls {} ({} per GSTIN)",
                w["wave"].as_str().unwrap_or(""),
                requests,
                gstins,
                concurrency,
                w["irns"],
                w["irn_per_s"].as_f64().unwrap_or(0.0),
                w["p50_ms"].as_f64().unwrap_or(0.0),
                w["p99_ms"].as_f64().unwrap_or(0.0),
                w["errors"],
                w["auth_calls"],
                w["auth_calls_per_gstin"]
            );
        }
    }
    Ok(())
}
