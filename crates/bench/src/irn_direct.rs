//! The `irn-direct` scenario: IRNs generated straight at the IRP sandbox by a client that does
//! NIC's full crypto (RSA auth, AES-encrypted payloads), and the machine's limit measured in
//! the same run: `openssl speed -multi N rsa2048` sign/s ÷ 2 (each IRN carries two RS256
//! signatures).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use irp_client::{IrpClient, IrpConfig, Session};
use irp_protocol::crypto::RsaPublicKey;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::stats::RunStats;

/// A goods invoice, Himachal Pradesh to Telangana, IGST 18%, with the given number.
pub fn sample_invoice(doc_no: &str) -> Value {
    json!({
        "Version": "1.1",
        "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B", "RegRev": "N"},
        "DocDtls": {"Typ": "INV", "No": doc_no, "Dt": "01/11/2026"},
        "SellerDtls": {"Gstin": "02AMBPG7773M002", "LglNm": "Himachal Test Traders", "Addr1": "Mall Road", "Loc": "Shimla", "Pin": 171001, "Stcd": "02"},
        "BuyerDtls": {"Gstin": "36AMBPG7773M002", "LglNm": "Telangana Test Traders", "Pos": "36", "Addr1": "MG Road", "Loc": "Hyderabad", "Pin": 500001, "Stcd": "36"},
        "ItemList": [{
            "SlNo": "1", "IsServc": "N", "HsnCd": "84713010", "Qty": 2, "Unit": "NOS",
            "UnitPrice": 1000.0, "TotAmt": 2000.0, "Discount": 0, "AssAmt": 2000.0, "GstRt": 18,
            "IgstAmt": 360.0, "CgstAmt": 0, "SgstAmt": 0, "TotItemVal": 2360.0
        }],
        "ValDtls": {"AssVal": 2000.0, "IgstVal": 360.0, "CgstVal": 0, "SgstVal": 0, "TotInvVal": 2360.0}
    })
}

/// A sandbox running in this process; its base URL.
pub async fn start_sandbox() -> anyhow::Result<String> {
    let config = irp_sandbox::SandboxConfig {
        taxpayers: 5,
        ..Default::default()
    };
    let sandbox = irp_sandbox::Sandbox::open(config).await?;
    let running = testkit::irp::RunningSandbox::serve(sandbox).await;
    Ok(running.base_url.clone())
}

async fn post(
    http: &reqwest::Client,
    url: String,
    token: Option<&str>,
    body: Value,
) -> anyhow::Result<Value> {
    let mut request = http.post(url).json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await?;
    let status = response.status();
    let value: Value = response.json().await?;
    if !status.is_success() {
        bail!("portal answered {status}: {value}");
    }
    Ok(value)
}

async fn last_otp(http: &reqwest::Client, base: &str, mobile: &str) -> anyhow::Result<String> {
    let outbox: Value = http
        .get(format!("{base}/portal/outbox?mobile={mobile}"))
        .send()
        .await?
        .json()
        .await?;
    let message = outbox["messages"][0]["message"]
        .as_str()
        .context("no OTP in the outbox")?;
    Ok(message.split_whitespace().next().unwrap_or("").to_string())
}

/// Walks the portal: registers the demo GSP and the Himachal taxpayer, creates an API user
/// through the GSP, and returns a client and a session for it.
/// What onboarding at the sandbox produced.
pub struct Onboarded {
    /// A client for the GSP.
    pub client: Arc<IrpClient>,
    /// A session for the API user.
    pub session: Session,
    /// The GSP's client id.
    pub client_id: String,
    /// The GSP's client secret.
    pub client_secret: String,
    /// The IRP's encryption key, PEM.
    pub public_key_pem: String,
}

pub async fn onboard(base: &str, username: &str) -> anyhow::Result<Onboarded> {
    let http = reqwest::Client::new();
    let started = post(&http, format!("{base}/portal/clients/register"), None, json!({"kind": "GSP", "pan": irp_sandbox::seed::DEMO_GSP_PAN, "mobile": "9000000100", "email": "gsp@sandbox.test"})).await?;
    let otp = last_otp(&http, base, "9000000100").await?;
    let issued = post(
        &http,
        format!("{base}/portal/clients/verify"),
        None,
        json!({"request_id": started["request_id"], "otp": otp}),
    )
    .await?;
    let client_id = issued["client_id"]
        .as_str()
        .context("client_id")?
        .to_string();
    let secret = issued["client_secret"]
        .as_str()
        .context("client_secret")?
        .to_string();

    let started = post(
        &http,
        format!("{base}/portal/register/send-otp"),
        None,
        json!({"gstin": "02AMBPG7773M002", "mobile": "9000000004"}),
    )
    .await?;
    let otp = last_otp(&http, base, "9000000004").await?;
    post(
        &http,
        format!("{base}/portal/register/verify-otp"),
        None,
        json!({"request_id": started["request_id"], "otp": otp}),
    )
    .await?;
    post(&http, format!("{base}/portal/register/create-user"), None, json!({"request_id": started["request_id"], "user_id": "benchuser01", "password": "Bench@1234"})).await?;
    let login = post(
        &http,
        format!("{base}/portal/login"),
        None,
        json!({"user_id": "benchuser01", "password": "Bench@1234"}),
    )
    .await?;
    let token = login["token"].as_str().context("portal token")?.to_string();
    let started = post(
        &http,
        format!("{base}/portal/api-users/send-otp"),
        Some(&token),
        json!({}),
    )
    .await?;
    let otp = last_otp(&http, base, "9000000004").await?;
    post(
        &http,
        format!("{base}/portal/api-users"),
        Some(&token),
        json!({"request_id": started["request_id"], "otp": otp, "mode": "GSP", "gsp_client_id": client_id, "username": username, "password": "Bench@1234"}),
    )
    .await?;

    let pem = http
        .get(format!("{base}/keys/encryption-public-key.pem"))
        .send()
        .await?
        .text()
        .await?;
    let client = IrpClient::new(IrpConfig {
        base_url: base.to_string(),
        public_key: RsaPublicKey::from_pem(&pem)?,
        client_id: client_id.clone(),
        client_secret: SecretString::from(secret.clone()),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
        max_connections: usize::MAX,
    })?;
    let session = client
        .authenticate(
            "02AMBPG7773M002",
            username,
            &SecretString::from("Bench@1234".to_string()),
            false,
        )
        .await?;
    Ok(Onboarded {
        client: Arc::new(client),
        session,
        client_id,
        client_secret: secret,
        public_key_pem: pem,
    })
}

/// Generates unique invoices at `concurrency` for `duration` (or `requests`).
pub async fn run(
    client: Arc<IrpClient>,
    session: Session,
    concurrency: usize,
    duration: Option<Duration>,
    requests: Option<u64>,
    prefix: &str,
) -> RunStats {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let session = session.clone();
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
                let invoice = sample_invoice(&format!("{prefix}{i}"));
                let sent = Instant::now();
                match client.generate(&session, &invoice).await {
                    Ok(_) => stats.latencies_us.push(sent.elapsed().as_micros() as u64),
                    Err(e) => {
                        let kind = e
                            .codes()
                            .first()
                            .map(|c| format!("nic_{c}"))
                            .unwrap_or_else(|| "transport".into());
                        *stats.errors.entry(kind).or_default() += 1;
                    }
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

/// `openssl speed -multi N rsa2048` sign/s (all processes together), or `None` without openssl.
pub fn openssl_rsa2048_signs_per_second(processes: usize, seconds: u32) -> Option<f64> {
    let output = std::process::Command::new("openssl")
        .args([
            "speed",
            "-multi",
            &processes.to_string(),
            "-seconds",
            &seconds.to_string(),
            "rsa2048",
        ])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().rev().find(|l| {
        l.trim_start().starts_with("rsa 2048 bits") || l.trim_start().starts_with("rsa  2048 bits")
    })?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse::<f64>().ok())
        .collect();
    // sign (s), verify (s), sign/s, verify/s (the bit count parses too: skip it).
    numbers.iter().rev().nth(1).copied()
}
