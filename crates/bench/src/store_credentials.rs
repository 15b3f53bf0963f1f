//! The `store-credentials` scenario: `POST /v2/nic_credentials/store_nic_credentials` with a
//! token, spread over many owners, at a fixed concurrency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::json;

use crate::stats::RunStats;

/// Where and how hard to push.
pub struct Plan {
    /// Base URL of the gateway.
    pub base_url: String,
    /// API token (none in sandbox mode).
    pub token: Option<String>,
    /// Owner ids to spread stores over, with their GSTIN.
    pub owners: Vec<(String, String)>,
    /// Concurrent clients.
    pub concurrency: usize,
    /// Stop after this long...
    pub duration: Option<Duration>,
    /// ...or after this many requests.
    pub requests: Option<u64>,
}

/// Creates `count` GSTIN owners through the API; returns (owner id, GSTIN) pairs.
pub async fn create_owners(
    client: &reqwest::Client,
    base_url: &str,
    token: Option<&str>,
    count: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    let pan = "AAFCD5862R";
    let mut owners = Vec::with_capacity(count);
    for i in 0..count {
        let state = 1 + (i % 37);
        let entity = b"123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(i / 37) % 35] as char;
        let first14 = format!("{state:02}{pan}{entity}Z");
        let check = gst_check(&first14);
        let gstin = format!("{first14}{check}");
        let mut request = client
            .post(format!("{base_url}/v2/owners"))
            .json(&json!({"kind": "GSTIN", "gstin": gstin}));
        if let Some(t) = token {
            request = request.header("X-Cleartax-Auth-Token", t);
        }
        let response = request.send().await?;
        if response.status() != 201 {
            bail!(
                "creating an owner failed: {} {}",
                response.status(),
                response.text().await.unwrap_or_default()
            );
        }
        let body: serde_json::Value = response.json().await?;
        let id = body["id"].as_str().context("owner id")?.to_string();
        owners.push((id, gstin));
    }
    Ok(owners)
}

fn gst_check(first14: &str) -> char {
    gst_core::check_character(first14).unwrap_or('0')
}

/// Runs the plan and returns the merged figures.
pub async fn run(plan: Plan) -> anyhow::Result<RunStats> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.concurrency)
        .build()?;
    let plan = Arc::new(plan);
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..plan.concurrency {
        let client = client.clone();
        let plan = plan.clone();
        let issued = issued.clone();
        workers.push(tokio::spawn(async move {
            let mut stats = RunStats::default();
            let url = format!("{}/v2/nic_credentials/store_nic_credentials", plan.base_url);
            let mut n = worker;
            loop {
                let i = issued.fetch_add(1, Ordering::Relaxed);
                if plan.requests.is_some_and(|limit| i >= limit) || plan.duration.is_some_and(|d| started.elapsed() >= d) {
                    break;
                }
                let (owner, gstin) = &plan.owners[n % plan.owners.len()];
                n += plan.concurrency;
                let body = json!({"gstin": gstin, "username": "benchuser1", "password": format!("Bench@{i}")});
                let mut request = client.post(&url).header("owner_id", owner).header("Content-Type", "application/json").body(body.to_string());
                if let Some(t) = &plan.token {
                    request = request.header("X-Cleartax-Auth-Token", t);
                }
                let sent = Instant::now();
                match request.send().await {
                    Ok(response) if response.status() == 200 => {
                        let _ = response.bytes().await;
                        stats.latencies_us.push(sent.elapsed().as_micros() as u64);
                    }
                    Ok(response) => *stats.errors.entry(format!("http_{}", response.status().as_u16())).or_default() += 1,
                    Err(e) => *stats.errors.entry(if e.is_timeout() { "timeout".into() } else { "transport".into() }).or_default() += 1,
                }
            }
            stats
        }));
    }
    let mut total = RunStats::default();
    for w in workers {
        total.merge(w.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}
