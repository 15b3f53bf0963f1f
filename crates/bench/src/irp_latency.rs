//! The `irp-latency` scenario: scale at real IRP latency. The IRP sandbox and the gateway each
//! run as their own process (`einvoice sandbox`, `einvoice serve`, found next to this binary),
//! the sandbox answers every generate 400 ms late, and the same load runs direct and through
//! the gateway at two concurrencies over many GSTINs, side by side in one run. Reported:
//! throughput (against concurrency / latency), p50/p99, errors, the gateway's auth calls per
//! GSTIN, its peak RSS, and its own CPU time per IRN (from `/proc`).

use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use irp_client::{IrpClient, Session};
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::irn_direct::onboard;
use crate::irn_gateway::auth_calls;
use crate::processes::{cpu_seconds, einvoice_binary, memory, pin, Memory, Placement, Process};
use crate::stats::RunStats;

/// Dummy GSTINs the sandbox portal gives per state and PAN.
const DUMMIES_PER_STATE: usize = 9;
/// The buyer's state, which the sellers avoid (so that IGST applies).
const BUYER_STATE: u32 = 36;
/// The buyer every invoice names (a taxpayer the sandbox knows).
const BUYER: &str = "36AAECF1151A1ZC";
const PASSWORD: &str = "Bench@1234";

/// What to run.
pub struct Plan {
    /// GSTINs to spread the load over.
    pub gstins: usize,
    /// The concurrencies, each run direct and through the gateway.
    pub concurrencies: Vec<usize>,
    /// Measured seconds per run.
    pub duration: Duration,
    /// Injected IRP latency.
    pub latency_ms: u64,
    /// Where the processes run: `None` lets the scheduler share every core among all three.
    pub placement: Option<Placement>,
    /// Print JSON.
    pub json: bool,
}

/// CPU seconds each process used during one measured run.
#[derive(Clone, Copy, Default)]
struct CpuUse {
    load_generator: f64,
    sandbox: f64,
    gateway: f64,
}

impl CpuUse {
    fn now(sandbox: u32, gateway: u32) -> CpuUse {
        CpuUse {
            load_generator: cpu_seconds(std::process::id()),
            sandbox: cpu_seconds(sandbox),
            gateway: cpu_seconds(gateway),
        }
    }

    fn since(self, before: CpuUse) -> CpuUse {
        CpuUse {
            load_generator: self.load_generator - before.load_generator,
            sandbox: self.sandbox - before.sandbox,
            gateway: self.gateway - before.gateway,
        }
    }

    /// Milliseconds of CPU per IRN, by process.
    fn per_irn_ms(self, irns: usize) -> Value {
        let per = |s: f64| (s * 1000.0 / irns.max(1) as f64 * 100.0).round() / 100.0;
        json!({
            "load_generator": per(self.load_generator),
            "sandbox": per(self.sandbox),
            "gateway": per(self.gateway),
        })
    }
}

/// One concurrency, direct and through the gateway.
struct Round {
    concurrency: usize,
    direct: RunStats,
    direct_cpu: CpuUse,
    gateway: RunStats,
    gateway_cpu: CpuUse,
    gateway_memory: Memory,
    /// The gateway's calls open at the IRP halfway through.
    calls_open: f64,
    /// Its calls waiting for a place at the IRP then.
    calls_waiting: f64,
    /// Its requests waiting for their turn then (bodies unread).
    requests_waiting: f64,
}

/// After `delay`, the gateway's calls open at the IRP and waiting for a place there, and its
/// requests waiting for their turn (from its `/metrics`, served to loopback).
async fn irp_places_in_use(base: Arc<String>, delay: Duration) -> (f64, f64, f64) {
    tokio::time::sleep(delay).await;
    let Ok(answer) = reqwest::get(format!("{base}/metrics")).await else {
        return (f64::NAN, f64::NAN, f64::NAN);
    };
    let text = answer.text().await.unwrap_or_default();
    let gauge = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (
        gauge(r#"einvoice_irp_calls_open{irp="NIC1"}"#),
        gauge(r#"einvoice_irp_calls_waiting{irp="NIC1"}"#),
        gauge("einvoice_irp_requests_waiting"),
    )
}

/// What the load generator reads of the gateway's answer: the status and the first error
/// code. The rest (the signed invoice, the QR code) is skipped, not built into a value, so the
/// load generator costs about as little per IRN as in the direct run.
#[derive(serde::Deserialize)]
struct GatewayResult {
    document_status: String,
    govt_response: Option<GovtResponse>,
}

#[derive(serde::Deserialize)]
struct GovtResponse {
    #[serde(rename = "ErrorDetails")]
    error_details: Option<Vec<GovtError>>,
}

#[derive(serde::Deserialize)]
struct GovtError {
    error_code: Option<String>,
}

/// Sends `concurrency` loops of generate calls for `duration`, the GSTINs taken in turn.
async fn drive<F, Fut>(concurrency: usize, duration: Duration, call: F) -> RunStats
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let call = Arc::new(call);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (call, issued) = (call.clone(), issued.clone());
        workers.push(tokio::spawn(async move {
            let mut stats = RunStats::default();
            while started.elapsed() < duration {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                match call(i).await {
                    Ok(()) => stats.latencies_us.push(sent.elapsed().as_micros() as u64),
                    Err(kind) => *stats.errors.entry(kind).or_default() += 1,
                }
            }
            stats
        }));
    }
    let mut total = RunStats::default();
    for worker in workers {
        if let Ok(stats) = worker.await {
            total.merge(stats);
        }
    }
    total.elapsed = started.elapsed();
    total
}

struct Direct {
    client: Arc<IrpClient>,
    sessions: Arc<Vec<(String, Session)>>,
}

async fn direct(d: &Direct, concurrency: usize, duration: Duration, tag: String) -> RunStats {
    let (client, sessions) = (d.client.clone(), d.sessions.clone());
    drive(concurrency, duration, move |i| {
        let (client, sessions, tag) = (client.clone(), sessions.clone(), tag.clone());
        async move {
            let (gstin, session) = &sessions[(i as usize) % sessions.len()];
            let invoice = testkit::invoices::invoice(gstin, BUYER, &format!("{tag}{i}"), 1000.0);
            client
                .generate(session, &invoice)
                .await
                .map(|_| ())
                .map_err(|e| {
                    e.codes()
                        .first()
                        .map(|c| format!("nic_{c}"))
                        .unwrap_or_else(|| "transport".into())
                })
        }
    })
    .await
}

async fn through_gateway(
    base: Arc<String>,
    gstins: Arc<Vec<String>>,
    concurrency: usize,
    duration: Duration,
    tag: String,
) -> RunStats {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap_or_default();
    drive(concurrency, duration, move |i| {
        let (http, base, gstins, tag) = (http.clone(), base.clone(), gstins.clone(), tag.clone());
        async move {
            let gstin = &gstins[(i as usize) % gstins.len()];
            let invoice = testkit::invoices::invoice(gstin, BUYER, &format!("{tag}{i}"), 1000.0);
            let answer = http
                .put(format!("{base}/v2/eInvoice/generate"))
                .header("gstin", gstin)
                .json(&json!([{ "transaction": invoice }]))
                .send()
                .await
                .map_err(|_| "transport".to_string())?;
            if answer.status() != 200 {
                return Err(format!("http_{}", answer.status().as_u16()));
            }
            let body = answer.bytes().await.map_err(|_| "body".to_string())?;
            let results: Vec<GatewayResult> =
                serde_json::from_slice(&body).map_err(|_| "body".to_string())?;
            match results.first() {
                Some(result) if result.document_status == "IRN_GENERATED" => Ok(()),
                Some(result) => Err(result
                    .govt_response
                    .as_ref()
                    .and_then(|govt| govt.error_details.as_ref()?.first())
                    .and_then(|detail| detail.error_code.as_deref())
                    .map(|c| format!("code_{c}"))
                    .unwrap_or_else(|| "not_generated".into())),
                None => Err("body".into()),
            }
        }
    })
    .await
}

/// Runs the scenario and prints it.
pub async fn run(plan: Plan) -> anyhow::Result<()> {
    let binary = einvoice_binary()?;
    let dir = tempfile::tempdir()?;
    let mut sandbox_command = Command::new(&binary);
    sandbox_command.args([
        "sandbox",
        "--port",
        "0",
        "--ephemeral",
        "--test-controls",
        "--taxpayers",
        "0",
    ]);
    let sandbox = Process::start(sandbox_command).await?;
    let irp = sandbox.url()?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let onboarded = onboard(&irp, &format!("lat{}", &run_id[..8]))
        .await
        .context("onboarding at the sandbox")?;
    // GSTINs of the GSP's own PAN, each with an API user through the GSP.
    let portal = onboarded.client.sandbox_portal();
    let password = SecretString::from(PASSWORD.to_string());
    let mut gstins = Vec::new();
    'states: for state in (1..=38).filter(|s| *s != BUYER_STATE) {
        for _ in 0..DUMMIES_PER_STATE {
            if gstins.len() == plan.gstins {
                break 'states;
            }
            // A state the portal (or the PIN table of the invoices) does not serve is skipped.
            let code = format!("{state:02}");
            if testkit::invoices::pin_in_state_of(&code) == 999_999 {
                continue 'states;
            }
            let Ok(gstin) = portal.dummy_gstin(&code).await else {
                continue 'states;
            };
            portal
                .create_dummy_api_user(&gstin, &format!("lat{:05}", gstins.len()), &password)
                .await?;
            gstins.push(gstin);
        }
    }
    if gstins.len() < plan.gstins {
        bail!(
            "the sandbox gave {} dummy GSTINs, not {}",
            gstins.len(),
            plan.gstins
        );
    }
    // The direct client's sessions (one auth call each, before any latency).
    let mut sessions = Vec::new();
    for (i, gstin) in gstins.iter().enumerate() {
        let session = onboarded
            .client
            .authenticate(gstin, &format!("lat{i:05}"), &password, false)
            .await?;
        sessions.push((gstin.clone(), session));
    }
    let http = reqwest::Client::new();
    let injected = http
        .post(format!("{irp}/sandbox/faults"))
        .json(&json!({"kind": "latency", "ms": plan.latency_ms, "operation": "generate", "count": u32::MAX}))
        .send()
        .await?;
    if !injected.status().is_success() {
        bail!("could not inject latency: {}", injected.status());
    }

    // The gateway, as its own process, configured against the sandbox.
    let key_file = dir.path().join("irp.pem");
    std::fs::write(&key_file, &onboarded.public_key_pem)?;
    let certificate = http
        .get(format!("{irp}/keys/signing-certificate.pem"))
        .send()
        .await?
        .text()
        .await?;
    let cert_file = dir.path().join("irp-signing.pem");
    std::fs::write(&cert_file, certificate)?;
    let max_concurrency = plan.concurrencies.iter().copied().max().unwrap_or(1);
    let mut gateway_command = Command::new(&binary);
    gateway_command
        .args([
            "serve",
            "--mode",
            "sandbox",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .args(["--irp-base-url", &irp, "--irp-public-key-file"])
        .arg(&key_file)
        .arg("--irp-signing-certificate-file")
        .arg(&cert_file)
        .args(["--irp-client-id", &onboarded.client_id])
        .env("EINVOICE_IRP_CLIENT_SECRET", &onboarded.client_secret)
        .env("EINVOICE_MAX_IN_FLIGHT", (max_concurrency * 2).to_string())
        .env("EINVOICE_GSTIN_CALLS_PER_MINUTE", "0")
        .env_remove("EINVOICE_MASTER_KEY")
        .env_remove("RUST_LOG");
    let gateway = Process::start(gateway_command).await?;
    let base = Arc::new(gateway.url()?);
    for (i, gstin) in gstins.iter().enumerate() {
        let stored = http
            .post(format!("{base}/v2/nic_credentials/store_nic_credentials"))
            .json(&json!({"gstin": gstin, "username": format!("lat{i:05}"), "password": PASSWORD}))
            .send()
            .await?;
        if !stored.status().is_success() {
            bail!("storing credentials: {}", stored.text().await?);
        }
    }
    let gstins = Arc::new(gstins);
    // What the gateway holds before any load (code, settings, pools), against which the
    // memory of the requests in flight is read.
    let idle = memory(gateway.pid());
    let direct_client = Direct {
        client: onboarded.client.clone(),
        sessions: Arc::new(sessions),
    };

    let place = |processes: &[(u32, bool)]| -> anyhow::Result<()> {
        if let Some(placement) = &plan.placement {
            for &(pid, is_gateway) in processes {
                let cores = if is_gateway {
                    &placement.gateway
                } else {
                    &placement.rest
                };
                pin(pid, cores)?;
            }
        }
        Ok(())
    };
    let processes = [
        (std::process::id(), false),
        (sandbox.pid(), false),
        (gateway.pid(), true),
    ];

    let auth_before = auth_calls(&irp).await;
    let mut rounds = Vec::new();
    for (round, &concurrency) in plan.concurrencies.iter().enumerate() {
        let tag = format!("{}{round}", &run_id[..4]);
        // Again before each run: threads started since the last pinning inherit it, but
        // threads started before it (by a thread not yet pinned) would not.
        place(&processes)?;
        let before = CpuUse::now(sandbox.pid(), gateway.pid());
        let direct_stats = direct(
            &direct_client,
            concurrency,
            plan.duration,
            format!("D{tag}/"),
        )
        .await;
        let direct_cpu = CpuUse::now(sandbox.pid(), gateway.pid()).since(before);
        place(&processes)?;
        let before = CpuUse::now(sandbox.pid(), gateway.pid());
        // Halfway through, where the requests are: at the IRP, or waiting for a place there.
        let midway = tokio::spawn(irp_places_in_use(base.clone(), plan.duration / 2));
        let gateway_stats = through_gateway(
            base.clone(),
            gstins.clone(),
            concurrency,
            plan.duration,
            format!("G{tag}/"),
        )
        .await;
        let (calls_open, calls_waiting, requests_waiting) = midway.await.unwrap_or_default();
        let gateway_cpu = CpuUse::now(sandbox.pid(), gateway.pid()).since(before);
        let gateway_memory = memory(gateway.pid());
        rounds.push(Round {
            concurrency,
            direct: direct_stats,
            direct_cpu,
            gateway: gateway_stats,
            gateway_cpu,
            gateway_memory,
            calls_open,
            calls_waiting,
            requests_waiting,
        });
    }
    let gateway_auth = auth_calls(&irp).await - auth_before;
    let placement = plan
        .placement
        .as_ref()
        .map(Placement::describe)
        .unwrap_or_else(|| "all processes share every core".into());

    let ideal = |c: usize| c as f64 / (plan.latency_ms as f64 / 1000.0);
    if plan.json {
        let runs: Vec<Value> = rounds
            .iter()
            .map(|r| {
                let irns = r.gateway.latencies_us.len();
                json!({
                    "concurrency": r.concurrency,
                    "ideal_irn_per_s": ideal(r.concurrency),
                    "direct": r.direct.to_json("irp-latency-direct", r.concurrency, "sandbox"),
                    "gateway": r.gateway.to_json("irp-latency-gateway", r.concurrency, "sqlite"),
                    "throughput_ratio": r.gateway.throughput() / r.direct.throughput(),
                    "direct_cpu_ms_per_irn": r.direct_cpu.per_irn_ms(r.direct.latencies_us.len()),
                    "gateway_cpu_ms_per_irn": r.gateway_cpu.per_irn_ms(irns),
                    "gateway_cpu_s": r.gateway_cpu.gateway,
                    "gateway_irn_per_cpu_s": irns as f64 / r.gateway_cpu.gateway.max(0.001),
                    "gateway_irp_calls_open_midway": r.calls_open,
                    "gateway_irp_calls_waiting_midway": r.calls_waiting,
                    "gateway_irp_requests_waiting_midway": r.requests_waiting,
                    "gateway_peak_rss_mib": r.gateway_memory.peak,
                    "gateway_rss_mib": r.gateway_memory.now,
                    "gateway_anonymous_mib": r.gateway_memory.anonymous,
                })
            })
            .collect();
        println!(
            "{}",
            json!({
                "scenario": "irp-latency",
                "latency_ms": plan.latency_ms,
                "gstins": gstins.len(),
                "placement": placement,
                "gateway_idle_rss_mib": idle.now,
                "gateway_idle_anonymous_mib": idle.anonymous,
                "gateway_auth_calls": gateway_auth,
                "runs": runs,
            })
        );
        return Ok(());
    }
    println!(
        "irp-latency: {} ms injected on every generate, {} GSTINs, {} s per run; sandbox and gateway in their own processes; {placement}",
        plan.latency_ms,
        gstins.len(),
        plan.duration.as_secs()
    );
    for r in &rounds {
        let c = r.concurrency;
        let line = |name: &str, s: &RunStats, cpu: CpuUse| {
            let per_irn = cpu.per_irn_ms(s.latencies_us.len());
            println!(
                "  {name} c={c}: {:.0} IRN/s (ideal {:.0}); p50 {:.0} ms, p99 {:.0} ms; errors {:?}; CPU ms per IRN: load generator {}, sandbox {}, gateway {}",
                s.throughput(),
                ideal(c),
                s.percentile_ms(50.0),
                s.percentile_ms(99.0),
                s.errors,
                per_irn["load_generator"],
                per_irn["sandbox"],
                per_irn["gateway"],
            )
        };
        line("direct ", &r.direct, r.direct_cpu);
        line("gateway", &r.gateway, r.gateway_cpu);
        println!(
            "  c={c}: gateway/direct = {:.0}%; gateway RSS {:.0} MiB (peak {:.0} MiB, anonymous {:.0} MiB); gateway CPU {:.1} s = {:.0} IRN per CPU-second; halfway {} calls open at the IRP, {} waiting for a place there, {} requests waiting for their turn",
            r.gateway.throughput() / r.direct.throughput() * 100.0,
            r.gateway_memory.now,
            r.gateway_memory.peak,
            r.gateway_memory.anonymous,
            r.gateway_cpu.gateway,
            r.gateway.latencies_us.len() as f64 / r.gateway_cpu.gateway.max(0.001),
            r.calls_open,
            r.calls_waiting,
            r.requests_waiting,
        );
    }
    println!(
        "auth calls by the gateway: {gateway_auth} for {} GSTINs; gateway RSS before the load {:.0} MiB ({:.0} MiB anonymous)",
        gstins.len(),
        idle.now,
        idle.anonymous
    );
    Ok(())
}
