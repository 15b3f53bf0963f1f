//! Admission control over real HTTP: the bulkhead answers 429 with Retry-After at once when
//! `max_in_flight` requests are being handled (and admits again when they finish); a GSTIN's
//! rate of IRP calls per account (a batch counts each document) and its budget of IRP
//! refusals give 429 naming the GSTIN, without limiting another account on the same GSTIN.
//! Towards the IRP, at most `irp_max_connections` calls are open at once; the rest wait their
//! turn, and when they are all taken, accounts take turns for the next place that frees. Not
//! storage behaviour, so SQLite only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::helpers::{Db, Options, TestApp};

async fn app_with(adjust: fn(&mut gateway::Settings)) -> TestApp {
    TestApp::spawn(
        Db::Sqlite,
        Options {
            adjust: Some(adjust),
            ..Options::mode("sandbox")
        },
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bulkhead_refuses_at_once_past_max_in_flight() {
    let app = app_with(|s| s.admission.max_in_flight = 2).await;
    // Two requests whose bodies never finish hold both places. One that came while a probe
    // held a place was refused (it has an answer already): it is sent again.
    let hold = || async {
        let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        tokio::io::AsyncWriteExt::write_all(
            &mut stream,
            b"POST /v2/owners HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n{\"kind\":",
        )
        .await
        .unwrap();
        stream
    };
    let mut held = vec![hold().await, hold().await];
    let full = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let probe = app.send(app.client.get(app.url("/v2/owners"))).await;
            let mut answered = Vec::new();
            for (i, stream) in held.iter().enumerate() {
                let mut byte = [0u8; 1];
                if stream.try_read(&mut byte).is_ok() {
                    answered.push(i);
                }
            }
            if probe.status == 429 && answered.is_empty() {
                return probe;
            }
            assert!([200, 429].contains(&probe.status), "{:?}", probe.body);
            for i in answered {
                held[i] = hold().await;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the bulkhead filled");
    assert_eq!(full.error_codes(), ["overloaded"]);
    assert_eq!(full.headers["retry-after"], "1");
    // Probes, the OpenAPI document and metrics stay answerable.
    assert_eq!(
        app.send(app.client.get(app.url("/healthz"))).await.status,
        200
    );
    // The held clients hang up; their places free up.
    drop(held);
    tokio::time::timeout(Duration::from_secs(20), async {
        while app.send(app.client.get(app.url("/v2/owners"))).await.status == 429 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("places freed");
    let again = app.send(app.client.get(app.url("/v2/owners"))).await;
    assert_eq!(again.status, 200);
    let metrics = app.scrape_metrics().await;
    assert!(
        metrics.contains(r#"einvoice_admission_refusals_total{reason="overloaded"}"#),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gstins_rate_and_error_budget_are_per_account() {
    let app = app_with(|s| {
        s.admission.gstin_calls_per_minute = 3;
        s.admission.gstin_refusal_limit = 2;
    })
    .await;
    let user = app
        .send(
            app.client
                .post(app.url("/v2/sandbox/api-users"))
                .json(&json!({"state_code": "29"})),
        )
        .await;
    assert_eq!(user.status, 200, "{:?}", user.body);
    let gstin = user.body["gstin"].as_str().unwrap().to_string();
    let generate = |token: Option<&str>, docs: &[&str]| {
        let body: Vec<_> = docs
            .iter()
            .map(|no| {
                json!({"transaction": testkit::invoices::invoice(&gstin, testkit::invoices::SELLERS[0].1, no, 100.0)})
            })
            .collect();
        let mut request = app
            .client
            .put(app.url("/v2/eInvoice/generate"))
            .header("gstin", &gstin)
            .json(&body);
        if let Some(token) = token {
            request = request.header("X-Cleartax-Auth-Token", token);
        }
        app.send(request)
    };
    // Three calls a minute: a batch of two, then one; the next batch waits.
    let first = generate(None, &["RL/1", "RL/2"]).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body[0]["document_status"], "IRN_GENERATED");
    assert_eq!(generate(None, &["RL/3"]).await.status, 200);
    let limited = generate(None, &["RL/4"]).await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert_eq!(limited.error_codes(), ["gstin_rate_limited"]);
    assert_eq!(limited.body["errorDetails"][0]["field"], "gstin");
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=61).contains(&wait), "{wait}");

    // Another account with an owner for the same GSTIN is not limited by this one.
    let (_, token_b) = app.new_account("b@admission.test").await;
    app.new_gstin_owner(Some(&token_b), &gstin).await;
    let other = generate(Some(&token_b), &["RL/B1"]).await;
    assert_eq!(other.status, 200, "{:?}", other.body);
    assert_eq!(other.body[0]["document_status"], "NOT_CREATED");

    // Refusals: two cancels of IRNs the IRP does not hold (2148), then held back.
    let budget_app = app_with(|s| s.admission.gstin_refusal_limit = 2).await;
    let user = budget_app
        .send(
            budget_app
                .client
                .post(budget_app.url("/v2/sandbox/api-users"))
                .json(&json!({"state_code": "29"})),
        )
        .await;
    let gstin = user.body["gstin"].as_str().unwrap().to_string();
    let cancel = || {
        budget_app.send(
            budget_app
                .client
                .put(budget_app.url("/v2/eInvoice/cancel"))
                .header("gstin", &gstin)
                .json(&json!([{"irn": "ab".repeat(32), "CnlRsn": "1", "CnlRem": "budget"}])),
        )
    };
    for _ in 0..2 {
        let refused = cancel().await;
        assert_eq!(refused.status, 200, "{:?}", refused.body);
        assert_eq!(
            refused.body[0]["govt_response"]["ErrorDetails"][0]["error_code"], "2148",
            "{:?}",
            refused.body
        );
    }
    let held = cancel().await;
    assert_eq!(held.status, 429, "{:?}", held.body);
    assert_eq!(held.error_codes(), ["gstin_error_budget"]);
    assert!(held.headers.get("retry-after").is_some());
}

/// A gateway in sandbox mode against `irp`, with two places there (`irp_max_connections`).
async fn with_two_irp_places(
    irp: &testkit::irp::RunningSandbox,
    client_id: &str,
    secret: &str,
) -> TestApp {
    TestApp::spawn(
        Db::Sqlite,
        Options {
            irp: Some(irp.gateway_settings(client_id, secret, true, 60_000)),
            adjust: Some(|s| s.irp_max_connections = 2),
            ..Options::mode("sandbox")
        },
    )
    .await
    .unwrap()
}

/// Calls the IRP is handling now, and the most it handled at once.
#[derive(Default)]
struct OpenCalls {
    now: AtomicUsize,
    peak: AtomicUsize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_open_at_the_irp_are_bounded_and_the_rest_wait_their_turn() {
    const SELLER: &str = testkit::invoices::SELLERS[0].0;
    const BUYER: &str = testkit::invoices::SELLERS[0].1;
    let sandbox = testkit::irp::sandbox_with_controls().await;
    let (client_id, secret) = sandbox
        .provision_demo("einvoice", "AAGCE4321K", SELLER, "apiuser0", "Api@12345")
        .await
        .unwrap();
    let open = Arc::new(OpenCalls::default());
    let watched = open.clone();
    let irp = testkit::irp::RunningSandbox::serve_wrapped(sandbox, move |router| {
        router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let open = watched.clone();
                async move {
                    let now = open.now.fetch_add(1, Ordering::SeqCst) + 1;
                    open.peak.fetch_max(now, Ordering::SeqCst);
                    let response = next.run(request).await;
                    open.now.fetch_sub(1, Ordering::SeqCst);
                    response
                }
            },
        ))
    })
    .await;
    let app = with_two_irp_places(&irp, &client_id, &secret).await;
    let stored = app
        .send(
            app.client
                .post(app.url("/v2/nic_credentials/store_nic_credentials"))
                .json(&json!({"gstin": SELLER, "username": "apiuser0", "password": "Api@12345"})),
        )
        .await;
    assert_eq!(stored.status, 200, "{:?}", stored.body);
    // The IRP takes half a second over each generate, so the calls overlap.
    let fault = reqwest::Client::new()
        .post(format!("{}/sandbox/faults", irp.base_url))
        .json(&json!({"kind": "latency", "ms": 500, "operation": "generate", "count": 8}))
        .send()
        .await
        .unwrap();
    assert!(fault.status().is_success());
    open.peak.store(0, Ordering::SeqCst);
    let burst = futures_util::future::join_all((0..8).map(|i| {
        app.send(
            app.client
                .put(app.url("/v2/eInvoice/generate"))
                .header("gstin", SELLER)
                .json(&json!([{"transaction": testkit::invoices::invoice(SELLER, BUYER, &format!("BOUND/{i}"), 1000.0)}])),
        )
    }));
    // Meanwhile the gateway's gauge shows the two calls open.
    let sample = r#"einvoice_irp_calls_open{irp="NIC1"}"#;
    let watch = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let open = gauge(&app.scrape_metrics().await, sample);
            if open == Some(2.0) {
                return;
            }
            assert!(open.is_some_and(|n| n <= 2.0), "{sample}: {open:?}");
            tokio::task::yield_now().await;
        }
    });
    let (generated, watched) = tokio::join!(burst, watch);
    assert!(watched.is_ok(), "the gauge never showed two calls open");
    for answer in &generated {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(
            answer.body[0]["document_status"], "IRN_GENERATED",
            "{:?}",
            answer.body
        );
    }
    // Never more than two at once, and two at once while the others waited.
    assert_eq!(open.peak.load(Ordering::SeqCst), 2);
}

/// A gauge's value in the metrics text.
fn gauge(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
}

/// Polls the metrics until `sample` reads `value`.
async fn until_gauge(app: &TestApp, sample: &str, value: f64) {
    let reached = tokio::time::timeout(Duration::from_secs(30), async {
        while gauge(&app.scrape_metrics().await, sample) != Some(value) {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(reached.is_ok(), "{sample} never read {value}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_take_turns_at_the_irp_when_its_places_are_all_taken() {
    let (seller_a, buyer) = testkit::invoices::SELLERS[0];
    let (seller_b, _) = testkit::invoices::SELLERS[1];
    let sandbox = testkit::irp::sandbox_with_controls().await;
    let (client_id, secret) = sandbox
        .provision_demo("einvoice", "AAGCE4321K", seller_a, "apiuser0", "Api@12345")
        .await
        .unwrap();
    sandbox
        .provision_api_user(&client_id, seller_b, "apiuser1", "Api@12345")
        .await
        .unwrap();
    // While the gate is shut the IRP holds every generate; it notes whose each was (the `Gstin`
    // header of NIC's protocol) in the order they reached it.
    let (gate, gate_watch) = tokio::sync::watch::channel(true);
    let arrivals = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let noted = arrivals.clone();
    let irp = testkit::irp::RunningSandbox::serve_wrapped(sandbox, move |router| {
        router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let (noted, mut gate) = (noted.clone(), gate_watch.clone());
                async move {
                    if request.uri().path() == "/eicore/v1.03/Invoice" {
                        let gstin = request.headers()["gstin"].to_str().unwrap().to_string();
                        noted.lock().unwrap().push(gstin);
                        gate.wait_for(|open| *open).await.unwrap();
                    }
                    next.run(request).await
                }
            },
        ))
    })
    .await;
    let app = with_two_irp_places(&irp, &client_id, &secret).await;
    let mut tenants = Vec::new();
    for (email, seller, username) in [
        ("burst@example.com", seller_a, "apiuser0"),
        ("single@example.com", seller_b, "apiuser1"),
    ] {
        let (_, token) = app.new_account(email).await;
        let owner = app.new_gstin_owner(Some(&token), seller).await.to_string();
        let stored = app
            .store_nic_credentials(
                Some(&token),
                Some(&owner),
                &json!({"gstin": seller, "username": username, "password": "Api@12345"}),
            )
            .await;
        assert_eq!(stored.status, 200, "{:?}", stored.body);
        tenants.push((token, owner, seller));
    }
    let generate = |(token, owner, seller): &(String, String, &str), doc: String| {
        app.send(
            app.client
                .put(app.url("/v2/eInvoice/generate"))
                .header("X-Cleartax-Auth-Token", token)
                .header("owner_id", owner)
                .header("gstin", *seller)
                .json(&json!([{"transaction": testkit::invoices::invoice(seller, buyer, &doc, 1000.0)}])),
        )
    };
    // Each account has its IRP session first (an auth call takes a connection too).
    for (n, tenant) in tenants.iter().enumerate() {
        let first = generate(tenant, format!("FIRST/{n}")).await;
        assert_eq!(
            first.body[0]["document_status"], "IRN_GENERATED",
            "{:?}",
            first.body
        );
    }
    arrivals.lock().unwrap().clear();
    gate.send(false).unwrap();
    // Requests wait for their turn before their bodies are read.
    let waiting = "einvoice_irp_requests_waiting";
    // One account sends eight at once: two reach the IRP, six wait. Then the other sends one,
    // then one whose body is not JSON, which waits too: its body is read only at its turn.
    let burst =
        futures_util::future::join_all((0..8).map(|i| generate(&tenants[0], format!("BURST/{i}"))));
    let (token_b, owner_b, _) = &tenants[1];
    let not_json = app.send(
        app.client
            .put(app.url("/v2/eInvoice/generate"))
            .header("X-Cleartax-Auth-Token", token_b)
            .header("owner_id", owner_b)
            .header("gstin", seller_b)
            .header("Content-Type", "application/json")
            .body("[{\"transaction\": "),
    );
    let single = async {
        until_gauge(&app, waiting, 6.0).await;
        let after_single = async {
            until_gauge(&app, waiting, 7.0).await;
            let opener = async {
                until_gauge(&app, waiting, 8.0).await;
                // Checks that need no body do not wait: a GSTIN of the other account's is
                // refused at once, while every turn is taken.
                let foreign = app
                    .send(
                        app.client
                            .put(app.url("/v2/eInvoice/generate"))
                            .header("X-Cleartax-Auth-Token", token_b)
                            .header("gstin", seller_a)
                            .json(&json!([{"transaction": testkit::invoices::invoice(seller_a, buyer, "FOREIGN/1", 1000.0)}])),
                    )
                    .await;
                assert!(
                    [403, 404].contains(&foreign.status),
                    "{} {:?}",
                    foreign.status,
                    foreign.body
                );
                assert_eq!(gauge(&app.scrape_metrics().await, waiting), Some(8.0));
                gate.send(true).unwrap();
            };
            tokio::join!(not_json, opener).0
        };
        tokio::join!(generate(&tenants[1], "SINGLE/1".into()), after_single)
    };
    let (burst, (single, not_json)) = tokio::join!(burst, single);
    assert_eq!(not_json.status, 400, "{:?}", not_json.body);
    for answer in burst.iter().chain([&single]) {
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        assert_eq!(
            answer.body[0]["document_status"], "IRN_GENERATED",
            "{:?}",
            answer.body
        );
    }
    // The burst's account had its turn first (its queue was there first), then the other's:
    // the single call was at most the fourth at the IRP, not the ninth behind the burst.
    let arrivals = arrivals.lock().unwrap().clone();
    assert_eq!(arrivals.len(), 9, "{arrivals:?}");
    let position = arrivals.iter().position(|gstin| gstin == seller_b).unwrap();
    assert!(
        position <= 3,
        "the single call came {}th: {arrivals:?}",
        position + 1
    );
    let metrics = app.scrape_metrics().await;
    assert_eq!(
        gauge(&metrics, r#"einvoice_irp_calls_waiting{irp="NIC1"}"#),
        Some(0.0)
    );
    assert_eq!(gauge(&app.scrape_metrics().await, waiting), Some(0.0));
}
