//! The `irn-gateway` scenario: the same IRNs straight at the IRP sandbox and through the
//! gateway (with an API token, pre-validation, the session manager, signature checks and a
//! metadata record; sandbox mode, because the IRP sandbox's GSTINs are NIC-style dummies that
//! production mode's checksum rejects), in one run on one machine: added latency at
//! concurrency 1, throughput at concurrency 64, and the auth calls the gateway made.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use gateway::config::SettingsLayer;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::irn_direct::{onboard, sample_invoice, start_sandbox};
use crate::stats::RunStats;

pub(crate) const GSTIN: &str = "02AMBPG7773M002";

/// A gateway started in this process, with a token and a verified owner of [`GSTIN`].
pub(crate) struct Gateway {
    pub(crate) base: String,
    pub(crate) token: String,
    pub(crate) owner: String,
    pub(crate) http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts a gateway in sandbox mode against the IRP at `irp_base`, with verified credentials.
pub(crate) async fn start_gateway(
    irp_base: &str,
    client_id: &str,
    client_secret: &str,
    public_key_pem: &str,
    username: &str,
) -> anyhow::Result<Gateway> {
    let http = reqwest::Client::new();
    let certificate = http
        .get(format!("{irp_base}/keys/signing-certificate.pem"))
        .send()
        .await?
        .text()
        .await?;
    let dir = tempfile::tempdir()?;
    let key_file = dir.path().join("irp.pem");
    std::fs::write(&key_file, public_key_pem)?;
    let cert_file = dir.path().join("irp-signing.pem");
    std::fs::write(&cert_file, certificate)?;
    let mut settings = gateway::Settings::resolve(SettingsLayer {
        mode: Some("sandbox".into()),
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(dir.path().to_path_buf()),
        database_url: Some(format!(
            "sqlite://{}",
            dir.path().join("gateway.db").display()
        )),
        master_key: Some(gateway::vault::MasterKey::generate().to_base64()),
        ..Default::default()
    })?;
    settings.irp = Some(gateway::irp::IrpSettings {
        endpoints: gateway::irp::IrpEndpoint::only(irp_base),
        public_key_file: key_file,
        signing_certificate_file: Some(cert_file),
        client_id: client_id.to_string(),
        client_secret: SecretString::from(client_secret.to_string()),
        breaker_cooldown_ms: 30_000,
    });
    let app = gateway::Application::build(settings).await?;
    let addr = app.local_addr();
    let state = app.state().clone();
    let password = SecretString::from("bench password 123".to_string());
    let user =
        gateway::service::auth::create_user(&state, "irn-bench@example.com", &password, None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token =
        gateway::service::auth::issue_token(&state, user.account_id, Some(user.id), "bench")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    let base = format!("http://{addr}");
    let token = token.value.expose_secret().to_string();
    let owner: Value = http
        .post(format!("{base}/v2/owners"))
        .header("X-Cleartax-Auth-Token", &token)
        .json(&json!({"kind": "GSTIN", "gstin": GSTIN}))
        .send()
        .await?
        .json()
        .await?;
    let owner = owner["id"].as_str().context("owner id")?.to_string();
    let stored: Value = http
        .post(format!(
            "{base}/v2/nic_credentials/store_nic_credentials?verify=true"
        ))
        .header("X-Cleartax-Auth-Token", &token)
        .header("owner_id", &owner)
        .json(&json!({"gstin": GSTIN, "username": username, "password": "Bench@1234"}))
        .send()
        .await?
        .json()
        .await?;
    if stored["verification"]["status"] != "VERIFIED" {
        bail!("the gateway could not verify the bench credentials: {stored}");
    }
    Ok(Gateway {
        base,
        token,
        owner,
        http,
        _dir: dir,
    })
}

/// Generates IRNs through the gateway.
pub(crate) async fn through_gateway(
    gw: Arc<Gateway>,
    concurrency: usize,
    duration: Option<Duration>,
    requests: Option<u64>,
    prefix: &str,
) -> RunStats {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let gw = gw.clone();
        let issued = issued.clone();
        let prefix = prefix.to_string();
        workers.push(tokio::spawn(async move {
            let mut stats = RunStats::default();
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if requests.is_some_and(|limit| i >= limit)
                    || duration.is_some_and(|d| started.elapsed() >= d)
                {
                    break;
                }
                let body = json!([{"transaction": sample_invoice(&format!("{prefix}{i}"))}]);
                let sent = Instant::now();
                let response = gw
                    .http
                    .put(format!("{}/v2/eInvoice/generate", gw.base))
                    .header("X-Cleartax-Auth-Token", &gw.token)
                    .header("owner_id", &gw.owner)
                    .header("gstin", GSTIN)
                    .json(&body)
                    .send()
                    .await;
                let ok = match response {
                    Ok(r) if r.status() == 200 => r
                        .json::<Value>()
                        .await
                        .ok()
                        .is_some_and(|v| v[0]["document_status"] == "IRN_GENERATED"),
                    _ => false,
                };
                if ok {
                    stats.latencies_us.push(sent.elapsed().as_micros() as u64);
                } else {
                    *stats.errors.entry("not_generated".into()).or_default() += 1;
                }
            }
            stats
        }));
    }
    let mut total = RunStats::default();
    for w in workers {
        if let Ok(stats) = w.await {
            total.merge(stats);
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// The IRP's auth calls so far, from its metrics.
pub(crate) async fn auth_calls(irp_base: &str) -> u64 {
    let text = match reqwest::get(format!("{irp_base}/metrics")).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .filter(|l| l.starts_with("irp_auth_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Runs the comparison and prints it.
pub async fn run(
    target: Option<String>,
    sequential: u64,
    concurrency: usize,
    duration: Duration,
    json_output: bool,
) -> anyhow::Result<()> {
    let irp_base = match target {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => start_sandbox().await?,
    };
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let username = format!("gw{}", &run_id[..8]);
    let onboarded = onboard(&irp_base, &username)
        .await
        .context("onboarding at the sandbox")?;
    let auth_before = auth_calls(&irp_base).await;
    let gw = Arc::new(
        start_gateway(
            &irp_base,
            &onboarded.client_id,
            &onboarded.client_secret,
            &onboarded.public_key_pem,
            &username,
        )
        .await?,
    );
    let tag = &run_id[..4];

    // Warm both paths, then concurrency 1.
    crate::irn_direct::run(
        onboarded.client.clone(),
        onboarded.session.clone(),
        4,
        None,
        Some(100),
        &format!("WD{tag}/"),
    )
    .await;
    through_gateway(gw.clone(), 4, None, Some(100), &format!("WG{tag}/")).await;
    let direct_1 = crate::irn_direct::run(
        onboarded.client.clone(),
        onboarded.session.clone(),
        1,
        None,
        Some(sequential),
        &format!("D1{tag}/"),
    )
    .await;
    let gateway_1 =
        through_gateway(gw.clone(), 1, None, Some(sequential), &format!("G1{tag}/")).await;
    let direct_n = crate::irn_direct::run(
        onboarded.client.clone(),
        onboarded.session.clone(),
        concurrency,
        Some(duration),
        None,
        &format!("DN{tag}/"),
    )
    .await;
    let gateway_n = through_gateway(
        gw.clone(),
        concurrency,
        Some(duration),
        None,
        &format!("GN{tag}/"),
    )
    .await;
    let gateway_auth = auth_calls(&irp_base).await - auth_before;

    let added_p50 = gateway_1.percentile_ms(50.0) - direct_1.percentile_ms(50.0);
    let added_p99 = gateway_1.percentile_ms(99.0) - direct_1.percentile_ms(99.0);
    let ratio = gateway_n.throughput() / direct_n.throughput();
    if json_output {
        println!(
            "{}",
            json!({
                "scenario": "irn-gateway",
                "direct_c1": direct_1.to_json("irn-direct", 1, "sandbox"),
                "gateway_c1": gateway_1.to_json("irn-gateway", 1, "sqlite"),
                "direct_cN": direct_n.to_json("irn-direct", concurrency, "sandbox"),
                "gateway_cN": gateway_n.to_json("irn-gateway", concurrency, "sqlite"),
                "added_p50_ms": added_p50,
                "added_p99_ms": added_p99,
                "throughput_ratio": ratio,
                "gateway_auth_calls": gateway_auth,
                "gstins": 1,
            })
        );
    } else {
        let line = |name: &str, s: &RunStats| {
            println!(
                "{name}: {} IRNs in {:.1} s = {:.0} IRN/s; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms; errors {:?}",
                s.latencies_us.len(),
                s.elapsed.as_secs_f64(),
                s.throughput(),
                s.percentile_ms(50.0),
                s.percentile_ms(90.0),
                s.percentile_ms(99.0),
                s.errors
            )
        };
        line("direct  c=1 ", &direct_1);
        line("gateway c=1 ", &gateway_1);
        line(&format!("direct  c={concurrency}"), &direct_n);
        line(&format!("gateway c={concurrency}"), &gateway_n);
        println!("added latency at c=1: p50 {added_p50:.2} ms, p99 {added_p99:.2} ms");
        println!(
            "throughput at c={concurrency}: gateway/direct = {:.0}%",
            ratio * 100.0
        );
        println!("auth calls by the gateway: {gateway_auth} for 1 GSTIN (token lifetime 60 min)");
    }
    Ok(())
}
