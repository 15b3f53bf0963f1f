//! The `ewb-gateway` scenario: e-way bills by IRN straight at the IRP sandbox and through the
//! gateway (`POST /v2/eInvoice/ewaybill`, with exactly-once reconciliation and a record per
//! bill), in one run: added latency at concurrency 1, throughput at concurrency N, and a count
//! of the bills the IRP raised against those the gateway answered (no duplicate, none lost).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use serde_json::{json, Value};

use crate::irn_direct::{onboard, sample_invoice, start_sandbox};
use crate::irn_gateway::{start_gateway, Gateway, GSTIN};
use crate::stats::RunStats;

fn road(irn: &str) -> Value {
    json!({"Irn": irn, "Distance": 350, "TransMode": "1", "TransId": "29AAFCD5862R1ZX",
        "TransName": "Bench Movers", "VehNo": "HP01AB1234", "VehType": "R"})
}

/// IRNs made straight at the IRP, to raise bills on.
async fn irns(
    client: &irp_client::IrpClient,
    session: &irp_client::Session,
    prefix: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let data = client
            .generate(session, &sample_invoice(&format!("{prefix}{i}")))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        out.push(data["Irn"].as_str().context("IRN")?.to_string());
    }
    Ok(out)
}

async fn direct(
    client: Arc<irp_client::IrpClient>,
    session: irp_client::Session,
    irns: Vec<String>,
    concurrency: usize,
) -> RunStats {
    let irns = Arc::new(irns);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (client, session, irns, next) =
            (client.clone(), session.clone(), irns.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut stats = RunStats::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(irn) = irns.get(i) else { break };
                let sent = Instant::now();
                match client.generate_ewb(&session, &road(irn)).await {
                    Ok(_) => stats.latencies_us.push(sent.elapsed().as_micros() as u64),
                    Err(e) => *stats.errors.entry(e.to_string()).or_default() += 1,
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

async fn through_gateway(gw: Arc<Gateway>, irns: Vec<String>, concurrency: usize) -> RunStats {
    let irns = Arc::new(irns);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (gw, irns, next) = (gw.clone(), irns.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut stats = RunStats::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(irn) = irns.get(i) else { break };
                let sent = Instant::now();
                let response = gw
                    .http
                    .post(format!("{}/v2/eInvoice/ewaybill", gw.base))
                    .header("X-Cleartax-Auth-Token", &gw.token)
                    .header("owner_id", &gw.owner)
                    .header("gstin", GSTIN)
                    .json(&json!([road(irn)]))
                    .send()
                    .await;
                let ok = match response {
                    Ok(r) if r.status() == 200 => r
                        .json::<Value>()
                        .await
                        .ok()
                        .is_some_and(|v| v[0]["govt_response"]["Success"] == "Y"),
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

async fn bills_raised(irp_base: &str) -> u64 {
    let text = match reqwest::get(format!("{irp_base}/metrics")).await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .find_map(|l| l.strip_prefix("irp_ewbs_generated_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// Runs the comparison over `count` IRNs per phase and prints it.
pub async fn run(count: usize, concurrency: usize, json_output: bool) -> anyhow::Result<()> {
    let irp_base = start_sandbox().await?;
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let username = format!("ew{}", &run_id[..8]);
    let onboarded = onboard(&irp_base, &username).await.context("onboarding")?;
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
    let (client, session) = (onboarded.client.clone(), onboarded.session.clone());
    let tag = &run_id[..4];
    let mut phases = Vec::new();
    for (name, width) in [("c1", 1), ("cN", concurrency)] {
        let for_direct = irns(&client, &session, &format!("ED{name}{tag}/"), count).await?;
        let for_gateway = irns(&client, &session, &format!("EG{name}{tag}/"), count).await?;
        let d = direct(client.clone(), session.clone(), for_direct, width).await;
        let g = through_gateway(gw.clone(), for_gateway, width).await;
        phases.push((d, g));
    }
    let raised = bills_raised(&irp_base).await;
    let answered: usize = phases
        .iter()
        .map(|(d, g)| d.latencies_us.len() + g.latencies_us.len())
        .sum();
    let (d1, g1) = &phases[0];
    let (dn, gn) = &phases[1];
    let added_p50 = g1.percentile_ms(50.0) - d1.percentile_ms(50.0);
    let ratio = gn.throughput() / dn.throughput();
    if json_output {
        println!(
            "{}",
            json!({"scenario": "ewb-gateway", "direct_c1": d1.to_json("ewb-direct", 1, "sandbox"),
                "gateway_c1": g1.to_json("ewb-gateway", 1, "sqlite"), "direct_cN": dn.to_json("ewb-direct", concurrency, "sandbox"),
                "gateway_cN": gn.to_json("ewb-gateway", concurrency, "sqlite"), "added_p50_ms": added_p50,
                "throughput_ratio": ratio, "bills_raised_at_irp": raised, "bills_answered": answered})
        );
    } else {
        let line = |name: &str, s: &RunStats| {
            println!(
                "{name}: {} bills in {:.1} s = {:.0} EWB/s; p50 {:.2} ms, p99 {:.2} ms; errors {:?}",
                s.latencies_us.len(),
                s.elapsed.as_secs_f64(),
                s.throughput(),
                s.percentile_ms(50.0),
                s.percentile_ms(99.0),
                s.errors
            )
        };
        line("direct  c=1 ", d1);
        line("gateway c=1 ", g1);
        line(&format!("direct  c={concurrency}"), dn);
        line(&format!("gateway c={concurrency}"), gn);
        println!("added latency at c=1: p50 {added_p50:.2} ms");
        println!(
            "throughput at c={concurrency}: gateway/direct = {:.0}%",
            ratio * 100.0
        );
        println!("bills raised at the IRP: {raised}; answered as raised: {answered}");
    }
    Ok(())
}
