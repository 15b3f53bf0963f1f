//! `GET /metrics`, scraped as Prometheus would after a generate: the counters moved (HTTP by
//! route template, IRP calls by operation and outcome, auth calls, documents, vault
//! operations) and the gauges read (credentials by status, live sessions, the breaker, the
//! database pool); no GSTIN or username is in any label; a scrape through a proxy (with
//! `X-Forwarded-For`) is refused on the main listener. On both backends.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

const DEMO: &str = "29AAFCD5862R000";

/// The value of the one sample named exactly `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
}

async fn counters_move(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let owner = Uuid::new_v4();
    let stored = app
        .send(
            app.client
                .post(app.url("/v2/nic_credentials/store_nic_credentials?verify=true"))
                .header("owner_id", owner.to_string())
                .json(&json!({"gstin": DEMO, "username": "demouser01", "password": "Demo@1234"})),
        )
        .await;
    assert_eq!(stored.body["verification"]["status"], "VERIFIED");
    let before = app.scrape_metrics().await;
    let generated = app
        .send(
            app.client
                .put(app.url("/v2/eInvoice/generate"))
                .header("owner_id", owner.to_string())
                .header("gstin", DEMO)
                .json(&json!([{"transaction": testkit::invoices::invoice(DEMO, testkit::invoices::SELLERS[0].1, "MET/0001", 1000.0)}])),
        )
        .await;
    assert_eq!(generated.body[0]["document_status"], "IRN_GENERATED");
    let after = app.scrape_metrics().await;

    let moved = |series: &str| {
        let was = before
            .lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        sample(&after, series) - was
    };
    assert_eq!(
        moved(
            r#"einvoice_http_requests_total{route="/v2/eInvoice/generate",method="PUT",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        moved(r#"einvoice_irp_calls_total{operation="generate",outcome="ok",code=""}"#),
        1.0
    );
    assert_eq!(
        moved(r#"einvoice_documents_total{kind="einvoice",event="generated"}"#),
        1.0
    );
    assert_eq!(
        moved(r#"einvoice_irp_call_duration_seconds_count{operation="generate"}"#),
        1.0
    );
    // The store with verify: one seal, one open, one auth call (before the first scrape).
    assert_eq!(
        sample(
            &after,
            r#"einvoice_vault_operations_total{operation="seal",outcome="ok"}"#
        ),
        1.0
    );
    assert!(
        sample(
            &after,
            r#"einvoice_vault_operations_total{operation="open",outcome="ok"}"#
        ) >= 1.0
    );
    assert_eq!(
        sample(
            &after,
            r#"einvoice_irp_auth_calls_total{outcome="ok",code=""}"#
        ),
        1.0
    );
    assert_eq!(
        sample(&after, r#"einvoice_credentials{status="VERIFIED"}"#),
        1.0
    );
    assert_eq!(
        sample(&after, r#"einvoice_credentials{status="WRONG_PASSWORD"}"#),
        0.0
    );
    assert_eq!(sample(&after, "einvoice_irp_live_sessions"), 1.0);
    assert_eq!(
        sample(&after, "einvoice_irp_circuit_breaker_open{irp=\"NIC1\"}"),
        0.0
    );
    assert_eq!(sample(&after, "einvoice_irp_calls_open{irp=\"NIC1\"}"), 0.0);
    assert_eq!(
        sample(&after, "einvoice_irp_calls_waiting{irp=\"NIC1\"}"),
        0.0
    );
    assert_eq!(sample(&after, "einvoice_irp_requests_waiting"), 0.0);
    assert!(sample(&after, "einvoice_db_pool_connections") >= 1.0);
    // Route templates, not paths; nothing that names a taxpayer.
    assert!(
        !after.contains(DEMO) && !after.contains("demouser01"),
        "{after}"
    );
    assert!(!after.contains(&owner.to_string()), "{after}");

    // Through a proxy, the main listener does not serve it.
    let proxied = app
        .client
        .get(app.url("/metrics"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 404);
}
on_both_backends!(
    a_scrape_after_a_generate_shows_the_counters_moved,
    counters_move
);

async fn own_listener(db: Db) {
    let options = Options {
        adjust: Some(|settings| {
            settings.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
        }),
        ..Options::mode("production")
    };
    let Some(app) = TestApp::spawn(db, options).await else {
        return;
    };
    // Not on the main listener, even from this machine.
    let main = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404);
    let own = format!("http://{}/metrics", app.metrics_addr.unwrap());
    let scraped = app.client.get(&own).send().await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("einvoice_http_requests_total"), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}
on_both_backends!(
    metrics_listen_serves_metrics_on_its_own_address,
    own_listener
);
