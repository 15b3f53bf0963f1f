//! E-invoices through the gateway, against an IRP sandbox with test controls, both over real
//! HTTP: the happy path, pre-validation, duplicates (recovered and conflicting), a fault
//! matrix (1005 in flight, a connection dropped after commit, 5xx bursts, the IRP down then
//! up) with the sandbox's counters proving no IRN is created twice, and single flight.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

pub use testkit::invoices::{invoice, SELLERS};

/// A gateway configured against a sandbox with test controls; API users `apiuser0`…`apiuser9`
/// (password `Api@12345`) for the ten sellers, stored under one owner per GSTIN.
pub struct World {
    pub app: TestApp,
    pub irp: String,
    pub owners: Vec<Uuid>,
    pub irp_settings: gateway::irp::IrpSettings,
    _irp: testkit::irp::RunningSandbox,
}

pub async fn world(db: Db, breaker_cooldown_ms: i64) -> Option<World> {
    let sandbox = testkit::irp::sandbox_with_controls().await;
    let (client_id, secret) = sandbox
        .provision_demo(
            "einvoice",
            "AAGCE4321K",
            SELLERS[0].0,
            "apiuser0",
            "Api@12345",
        )
        .await
        .unwrap();
    for (i, (gstin, _)) in SELLERS.iter().enumerate().skip(1) {
        sandbox
            .provision_api_user(&client_id, gstin, &format!("apiuser{i}"), "Api@12345")
            .await
            .unwrap();
    }
    let running = testkit::irp::RunningSandbox::serve(sandbox).await;
    let irp = running.gateway_settings(&client_id, &secret, true, breaker_cooldown_ms);
    let app = TestApp::spawn(
        db,
        Options {
            irp: Some(irp.clone()),
            ..Options::mode("sandbox")
        },
    )
    .await?;
    let mut owners = Vec::new();
    for (i, (gstin, _)) in SELLERS.iter().enumerate() {
        let owner = Uuid::new_v4();
        let r = app
            .send(app.client.post(app.url("/v2/nic_credentials/store_nic_credentials")).header("owner_id", owner.to_string()).json(&json!({"gstin": gstin, "username": format!("apiuser{i}"), "password": "Api@12345"})))
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        owners.push(owner);
    }
    Some(World {
        app,
        irp: running.base_url.clone(),
        owners,
        irp_settings: irp,
        _irp: running,
    })
}

impl World {
    pub async fn generate(
        &self,
        seller: usize,
        documents: Vec<Value>,
        dry_run: bool,
    ) -> (u16, Value, Option<String>) {
        let path = if dry_run {
            "/v2/eInvoice/generate?dryRun=true"
        } else {
            "/v2/eInvoice/generate"
        };
        let body: Vec<Value> = documents
            .into_iter()
            .map(|d| json!({"transaction": d, "custom_fields": {"erp_id": "X1"}}))
            .collect();
        let r = self
            .app
            .send(
                self.app
                    .client
                    .put(self.app.url(path))
                    .header("owner_id", self.owners[seller].to_string())
                    .header("gstin", SELLERS[seller].0)
                    .json(&body),
            )
            .await;
        let retry_after = r
            .headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        (r.status, r.body, retry_after)
    }

    pub async fn one(&self, seller: usize, doc: Value) -> Value {
        let (status, body, _) = self.generate(seller, vec![doc], false).await;
        assert_eq!(status, 200, "{body}");
        body[0].clone()
    }

    pub async fn cancel(&self, seller: usize, irn: &str) -> Value {
        let r = self
            .app
            .send(
                self.app
                    .client
                    .put(self.app.url("/v2/eInvoice/cancel"))
                    .header("owner_id", self.owners[seller].to_string())
                    .header("gstin", SELLERS[seller].0)
                    .json(&json!([{"irn": irn, "CnlRsn": "2", "CnlRem": "Data entry mistake"}])),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body[0].clone()
    }

    pub async fn control(&self, body: Value) {
        let r = reqwest::Client::new()
            .post(format!("{}/sandbox/faults", self.irp))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    pub async fn counters(&self) -> Value {
        reqwest::get(format!("{}/sandbox/counters", self.irp))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

async fn happy_path(db: Db) {
    let Some(w) = world(db, 30_000).await else {
        return;
    };
    let (s, b) = SELLERS[0];
    let generated = w.one(0, invoice(s, b, "GW/0001", 1000.0)).await;
    assert_eq!(generated["document_status"], "IRN_GENERATED", "{generated}");
    assert_eq!(generated["govt_response"]["Success"], "Y");
    assert_eq!(generated["custom_fields"]["erp_id"], "X1");
    let irn = generated["govt_response"]["Irn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(irn.len(), 64);
    assert!(
        generated["govt_response"]["SignedQRCode"]
            .as_str()
            .unwrap()
            .split('.')
            .count()
            == 3
    );
    // Only metadata is kept by default.
    let record = w
        .app
        .state
        .store
        .get_einvoice(gateway::state::SANDBOX_ACCOUNT_ID, &irn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.doc_no, "GW/0001");
    assert!(record.signed_invoice.is_none() && record.signed_qr_code.is_none());

    let got = w
        .app
        .send(
            w.app
                .client
                .get(w.app.url(&format!("/v2/eInvoice/get?irn={irn}")))
                .header("owner_id", w.owners[0].to_string())
                .header("gstin", s),
        )
        .await;
    assert_eq!(
        got.body[0]["document_status"], "IRN_GENERATED",
        "{:?}",
        got.body
    );
    assert_eq!(got.body[0]["govt_response"]["Irn"], json!(irn));

    let cancelled = w.cancel(0, &irn).await;
    assert_eq!(cancelled["document_status"], "IRN_CANCELLED", "{cancelled}");
    assert_eq!(cancelled["govt_response"]["Success"], "Y", "{cancelled}");
    assert_eq!(cancelled["govt_response"]["Status"], "CNL", "{cancelled}");
    assert!(cancelled["govt_response"]["CancelDate"].is_string());
    assert!(cancelled["govt_response"]["ErrorDetails"].is_null());
    // Cancelled before: the state is cancelled, but this call did not succeed.
    let again = w.cancel(0, &irn).await;
    assert_eq!(again["document_status"], "IRN_CANCELLED");
    assert_eq!(again["govt_response"]["Success"], "N", "{again}");
    assert_eq!(
        again["govt_response"]["ErrorDetails"][0]["error_code"],
        "9999"
    );
    assert_eq!(
        again["govt_response"]["ErrorDetails"][0]["error_source"],
        "GOVT"
    );
    let record = w
        .app
        .state
        .store
        .get_einvoice(gateway::state::SANDBOX_ACCOUNT_ID, &irn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.status.as_str(), "CNL");

    // A dry run and an invalid document never reach the IRP.
    let (status, dry, _) = w
        .generate(0, vec![invoice(s, b, "GW/0002", 10.0)], true)
        .await;
    assert_eq!(
        (status, dry[0]["document_status"].as_str()),
        (200, Some("DOCUMENT_VALIDATION"))
    );
    assert_eq!(dry[0]["govt_response"]["Success"], "Y", "{dry:?}");
    let mut broken = invoice(s, b, "GW/0003", 10.0);
    broken["ValDtls"]["TotInvVal"] = json!(99999.0);
    // Laid out well but not a real HSN code: 2176 (a malformed one is a schema error, 2140).
    broken["ItemList"][0]["HsnCd"] = json!("0000");
    let invalid = w.one(0, broken).await;
    assert_eq!(invalid["document_status"], "NOT_CREATED");
    assert_eq!(invalid["govt_response"]["Success"], "N");
    let codes: Vec<&str> = invalid["govt_response"]["ErrorDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["error_code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"2189") && codes.contains(&"2176"),
        "{codes:?}"
    );
    assert!(invalid["govt_response"]["ErrorDetails"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["error_source"] == "CLEARTAX"));
    let other_seller = w.one(0, invoice(SELLERS[1].0, b, "GW/0004", 10.0)).await;
    // ClearTax's number for a seller that is not the header's GSTIN, and the stable string.
    let mismatch = &other_seller["govt_response"]["ErrorDetails"][0];
    assert_eq!(mismatch["error_code"], "500", "{mismatch}");
    assert_eq!(mismatch["gateway_error_code"], "SELLER_GSTIN_MISMATCH");
    let c = w.counters().await;
    assert_eq!(c["irns_generated"], 1, "{c}");
    assert_eq!(
        c["errors_by_code"].as_object().unwrap().len(),
        1,
        "only 9999 reached the IRP as an error: {c}"
    );

    let (status, too_many, _) = w
        .generate(
            0,
            (0..11)
                .map(|i| invoice(s, b, &format!("GW/1{i}"), 1.0))
                .collect(),
            false,
        )
        .await;
    assert_eq!(
        (status, too_many["errorDetails"][0]["error_code"].as_str()),
        (422, Some("batch_size"))
    );
}
on_both_backends!(generate_get_and_cancel_through_the_gateway, happy_path);

async fn duplicates(db: Db) {
    let Some(w) = world(db, 30_000).await else {
        return;
    };
    let (s, b) = SELLERS[3];
    let first = w.one(3, invoice(s, b, "DUP/1", 500.0)).await;
    assert_eq!(first["document_status"], "IRN_GENERATED");
    // The same document again: the IRP says 2150; the gateway returns the existing IRN.
    let again = w.one(3, invoice(s, b, "DUP/1", 500.0)).await;
    assert_eq!(again["document_status"], "IRN_GENERATED", "{again}");
    assert_eq!(again["govt_response"]["Irn"], first["govt_response"]["Irn"]);
    assert_eq!(
        again["govt_response"]["AckNo"],
        first["govt_response"]["AckNo"]
    );
    // The same number with another total is a conflict, not a silent success.
    let conflict = w.one(3, invoice(s, b, "DUP/1", 900.0)).await;
    assert_eq!(conflict["document_status"], "NOT_CREATED");
    // Answered as NIC answers a duplicate: 2150 with the existing IRN in DUPIRN.
    assert_eq!(
        conflict["govt_response"]["ErrorDetails"][0]["error_code"],
        "2150"
    );
    assert_eq!(
        conflict["govt_response"]["ErrorDetails"][0]["error_source"],
        "GOVT"
    );
    assert!(conflict["govt_response"]["ErrorDetails"][0]["error_detail"]
        .as_str()
        .unwrap()
        .contains("different buyer or total"));
    assert_eq!(conflict["govt_response"]["info"][0]["InfCd"], "DUPIRN");
    assert_eq!(
        conflict["govt_response"]["info"][0]["Desc"]["Irn"],
        first["govt_response"]["Irn"]
    );
    assert_eq!(
        conflict["govt_response"]["info"][0]["Desc"]["AckNo"],
        first["govt_response"]["AckNo"]
    );
    let c = w.counters().await;
    assert_eq!(c["irns_generated"], 1);
    assert_eq!(c["duplicates"], 2);
}
on_both_backends!(
    duplicates_are_recovered_or_reported_as_conflicts,
    duplicates
);

async fn fault_matrix(db: Db) {
    let Some(w) = world(db, 300).await else {
        return;
    };
    let (s, b) = SELLERS[5];
    let ok = |v: &Value| assert_eq!(v["document_status"], "IRN_GENERATED", "{v}");

    // Warm up a session, then the IRP forgets every session: 1005 in flight, re-auth, retry.
    ok(&w.one(5, invoice(s, b, "F/1", 100.0)).await);
    w.control(json!({"kind": "invalidate_sessions"})).await;
    ok(&w.one(5, invoice(s, b, "F/2", 100.0)).await);
    assert_eq!(w.counters().await["auth_calls_total"], 2);

    // The connection drops after the IRP committed: reconcile by document, no second IRN.
    w.control(json!({"kind": "drop_after_commit", "operation": "generate"}))
        .await;
    ok(&w.one(5, invoice(s, b, "F/3", 100.0)).await);

    // A burst of two 503s: retried with backoff.
    w.control(json!({"kind": "http_status", "status": 503, "operation": "generate", "count": 2}))
        .await;
    ok(&w.one(5, invoice(s, b, "F/4", 100.0)).await);
    // Transient NIC errors too.
    w.control(json!({"kind": "nic_error", "code": "2146", "operation": "generate", "count": 1}))
        .await;
    ok(&w.one(5, invoice(s, b, "F/5", 100.0)).await);

    // The IRP goes down: requests fail after their retries, the breaker opens and the gateway
    // answers 503 with Retry-After at once; when the IRP is back, requests succeed again.
    w.control(json!({"kind": "http_status", "status": 502, "operation": "any", "count": 1000}))
        .await;
    let down = w.one(5, invoice(s, b, "F/6", 100.0)).await;
    assert_eq!(down["document_status"], "NOT_CREATED");
    let codes: Vec<(&str, &str)> = down["govt_response"]["ErrorDetails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["error_code"].as_str().unwrap(),
                e["gateway_error_code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(codes.contains(&("301", "IRP_UNAVAILABLE")), "{codes:?}");
    let mut fast = None;
    for _ in 0..5 {
        let (status, body, retry_after) = w
            .generate(5, vec![invoice(s, b, "F/6", 100.0)], false)
            .await;
        if status == 503 {
            fast = Some((body, retry_after));
            break;
        }
    }
    let (body, retry_after) = fast.expect("the circuit breaker never opened");
    assert_eq!(body["errorDetails"][0]["error_code"], "irp_unavailable");
    assert!(retry_after.is_some());
    w.control(json!({"kind": "clear"})).await;
    let mut recovered = None;
    for _ in 0..200 {
        let (status, body, _) = w
            .generate(5, vec![invoice(s, b, "F/6", 100.0)], false)
            .await;
        if status == 200 && body[0]["document_status"] == "IRN_GENERATED" {
            recovered = Some(body);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        recovered.is_some(),
        "the gateway did not recover after the IRP came back"
    );

    // Every acknowledged document has exactly one IRN.
    let c = w.counters().await;
    assert_eq!(c["irns_generated"], 6, "{c}");
    for (i, doc) in ["F/1", "F/2", "F/3", "F/4", "F/5", "F/6"]
        .iter()
        .enumerate()
    {
        let again = w.one(5, invoice(s, b, doc, 100.0)).await;
        ok(&again);
        assert_eq!(
            w.counters().await["irns_generated"],
            6,
            "document {i} got a second IRN"
        );
    }
}
on_both_backends!(faults_never_duplicate_or_lose_an_irn, fault_matrix);

async fn single_flight(db: Db) {
    let Some(w) = world(db, 30_000).await else {
        return;
    };
    let w = std::sync::Arc::new(w);
    let mut tasks = Vec::new();
    for n in 0..1000 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let seller = n % 10;
            let (s, b) = SELLERS[seller];
            let result = w.one(seller, invoice(s, b, &format!("SF/{n}"), 10.0)).await;
            result["document_status"].as_str().unwrap().to_string()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), "IRN_GENERATED");
    }
    let c = w.counters().await;
    assert_eq!(c["irns_generated"], 1000);
    assert_eq!(c["auth_calls_total"], 10, "one auth call per GSTIN: {c}");

    // The IRP's tokens expire: 500 concurrent requests all meet 1005, and still each GSTIN
    // costs one auth call (a request that finds a newer session does not end it).
    let moved = reqwest::Client::new()
        .post(format!("{}/sandbox/clock", w.irp))
        .json(&serde_json::json!({"advance_secs": 61 * 60}))
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
    let mut tasks = Vec::new();
    for n in 0..500 {
        let w = w.clone();
        tasks.push(tokio::spawn(async move {
            let seller = n % 10;
            let (s, b) = SELLERS[seller];
            let result = w
                .one(seller, invoice(s, b, &format!("SF2/{n}"), 10.0))
                .await;
            result["document_status"].as_str().unwrap().to_string()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), "IRN_GENERATED");
    }
    let c = w.counters().await;
    assert_eq!(c["irns_generated"], 1500);
    assert_eq!(
        c["auth_calls_total"], 20,
        "one more auth call per GSTIN after expiry: {c}"
    );
}
on_both_backends!(
    a_thousand_concurrent_generates_make_ten_auth_calls,
    single_flight
);

async fn two_replicas(db: Db) {
    let Some(w) = world(db, 30_000).await else {
        return;
    };
    // A second gateway on the same database, the same master key and the same IRP.
    let options = Options {
        irp: Some(w.irp_settings.clone()),
        database_url: Some(w.app.database_url.clone()),
        master_key: Some(w.app.master_key.clone()),
        ..Options::mode("sandbox")
    };
    let second = std::sync::Arc::new(TestApp::spawn(db, options).await.unwrap());
    let w = std::sync::Arc::new(w);
    let mut tasks = Vec::new();
    for n in 0..400 {
        let w = w.clone();
        let second = second.clone();
        tasks.push(tokio::spawn(async move {
            let seller = n % 10;
            let (s, b) = SELLERS[seller];
            let app = if n % 2 == 0 { &w.app } else { &*second };
            let body = json!([{"transaction": invoice(s, b, &format!("R/{n}"), 10.0)}]);
            let r = app
                .send(
                    app.client
                        .put(app.url("/v2/eInvoice/generate"))
                        .header("owner_id", w.owners[seller].to_string())
                        .header("gstin", s)
                        .json(&body),
                )
                .await;
            r.body[0]["document_status"]
                .as_str()
                .unwrap_or("")
                .to_string()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), "IRN_GENERATED");
    }
    let c = w.counters().await;
    assert_eq!(c["irns_generated"], 400);
    assert_eq!(
        c["auth_calls_total"], 10,
        "two replicas, one auth call per GSTIN: {c}"
    );
}
on_both_backends!(
    two_gateways_on_one_database_make_one_auth_call_per_gstin,
    two_replicas
);
