//! E-way bills through the gateway, against the IRP sandbox over HTTP, as ERPNext's ClearTax
//! connector calls them: an array posted to `/v2/eInvoice/ewaybill` and `[0].govt_response`
//! read; the cancel with ClearTax's reasons; EwbDtls inside generate; cancel-IRN refused while
//! a bill is active, naming it; the government-compatible call; bad input; and a fault matrix
//! after which every bill the IRP raised is the one the gateway answered and recorded, once.

use serde_json::{json, Value};

use crate::einvoice::{invoice, world, World, SELLERS};
use crate::helpers::Db;
use crate::on_both_backends;

async fn post(w: &World, path: &str, body: Value) -> (u16, Value) {
    let r = w
        .app
        .send(
            w.app
                .client
                .post(w.app.url(path))
                .header("gstin", SELLERS[0].0)
                .json(&body),
        )
        .await;
    (r.status, r.body)
}

/// ERPNext's reading: `response[0]` when it is an array, then `govt_response`.
fn first_govt(body: &Value) -> &Value {
    match body {
        Value::Array(items) => &items[0]["govt_response"],
        other => &other["govt_response"],
    }
}

fn road(irn: &str) -> Value {
    json!({"Irn": irn, "Distance": 120, "TransMode": "1", "TransId": "29AAFCD5862R1ZX",
        "TransName": "Fast Movers", "VehNo": "KA01AB1234", "VehType": "R"})
}

async fn new_irn(w: &World, doc_no: &str) -> String {
    let generated = w
        .one(0, invoice(SELLERS[0].0, SELLERS[1].0, doc_no, 5000.0))
        .await;
    generated["govt_response"]["Irn"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn story(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let irn = new_irn(&w, "EWB/G/1").await;

    // Raise it as the connector does: an array, `[0].govt_response`.
    let (status, body) = post(&w, "/einv/v2/eInvoice/ewaybill", json!([road(&irn)])).await;
    assert_eq!(status, 200, "{body}");
    let govt = first_govt(&body);
    assert_eq!(govt["Success"], "Y", "{body}");
    let ewb_no = govt["EwbNo"].as_i64().unwrap();
    assert_eq!(ewb_no.to_string().len(), 12);
    assert!(govt["EwbValidTill"].is_string());
    assert_eq!(body[0]["ewb_status"], "GENERATED");
    assert_eq!(body[0]["irn"], json!(irn));
    assert!(govt["ErrorDetails"].is_null());

    // Get returns the bill; the record keeps it.
    let got = w
        .app
        .send(
            w.app
                .client
                .get(w.app.url(&format!("/v2/eInvoice/get?irn={irn}")))
                .header("gstin", SELLERS[0].0),
        )
        .await;
    assert_eq!(got.body[0]["govt_response"]["EwbNo"], json!(ewb_no));
    let record = w
        .app
        .state
        .store
        .get_einvoice(gateway::state::SANDBOX_ACCOUNT_ID, &irn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.active_ewb().map(|e| e.ewb_no), Some(ewb_no));

    // The IRN cannot be cancelled while the bill is active: NIC's 2230, and the gateway names
    // the bill.
    let refused = w.cancel(0, &irn).await;
    assert_eq!(refused["govt_response"]["Success"], "N");
    let error = &refused["govt_response"]["ErrorDetails"][0];
    assert_eq!(error["error_code"], "2230", "{refused}");
    assert_eq!(error["error_source"], "GOVT");
    assert!(
        error["error_detail"]
            .as_str()
            .unwrap()
            .contains(&ewb_no.to_string()),
        "{error}"
    );

    // Cancel the bill with ClearTax's reason names, then the IRN.
    let (status, cancelled) = post(
        &w,
        "/v2/eInvoice/ewaybill/cancel",
        json!({"ewbNo": ewb_no, "cancelRsnCode": "DATA_ENTRY_MISTAKE", "cancelRmrk": "Wrong vehicle"}),
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["ewbStatus"], "CANCELLED", "{cancelled}");
    assert_eq!(cancelled["ewbNumber"], json!(ewb_no));
    assert_eq!(cancelled["irn"], json!(irn));
    assert!(cancelled["ownerId"].is_null());
    assert!(cancelled["errorDetails"].is_null());
    // Twice: the e-way bill system's 312, HTTP 200, no status.
    let (status, again) = post(
        &w,
        "/v2/eInvoice/ewaybill/cancel",
        json!({"ewbNo": ewb_no.to_string(), "cancelRsnCode": 3, "cancelRmrk": "again"}),
    )
    .await;
    assert_eq!(status, 200);
    assert!(again["ewbStatus"].is_null());
    assert_eq!(again["errorDetails"]["error_code"], "312", "{again}");
    assert_eq!(again["errorDetails"]["error_source"], "GOVT");
    let done = w.cancel(0, &irn).await;
    assert_eq!(done["document_status"], "IRN_CANCELLED", "{done}");

    // EwbDtls inside generate: the bill comes with the IRN, and is recorded.
    let mut doc = invoice(SELLERS[0].0, SELLERS[1].0, "EWB/G/2", 5000.0);
    doc["EwbDtls"] =
        json!({"Distance": 0, "TransId": "29AAFCD5862R1ZX", "TransName": "Fast Movers"});
    let generated = w.one(0, doc).await;
    let govt = &generated["govt_response"];
    assert_eq!(govt["Success"], "Y");
    assert!(govt["EwbNo"].is_i64(), "{generated}");
    assert!(
        govt["EwbValidTill"].is_null(),
        "Part A only has no validity yet"
    );
    assert_eq!(govt["info"][0]["InfCd"], "EWBPPD", "{generated}");
    let irn2 = govt["Irn"].as_str().unwrap();
    let record = w
        .app
        .state
        .store
        .get_einvoice(gateway::state::SANDBOX_ACCOUNT_ID, irn2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.ewb_no, govt["EwbNo"].as_i64());
    // A failing part: the IRN stands, EWBERR says why.
    let mut doc = invoice(SELLERS[0].0, SELLERS[1].0, "EWB/G/3", 5000.0);
    doc["EwbDtls"] = json!({"Distance": 0});
    let generated = w.one(0, doc).await;
    assert_eq!(generated["document_status"], "IRN_GENERATED");
    assert!(generated["govt_response"]["EwbNo"].is_null());
    assert_eq!(generated["govt_response"]["info"][0]["InfCd"], "EWBERR");
    assert_eq!(
        generated["govt_response"]["info"][0]["Desc"][0]["ErrorCode"],
        "4019"
    );

    // The government-compatible call: flat; a failure echoes the request, FAILED.
    let irn3 = new_irn(&w, "EWB/G/4").await;
    let (status, flat) = post(&w, "/einv/v1/govt/api/einvewb/ewaybill", road(&irn3)).await;
    assert_eq!(status, 200, "{flat}");
    assert_eq!(flat["Success"], "Y", "{flat}");
    assert!(flat["EwbNo"].is_i64());
    let irn4 = new_irn(&w, "EWB/G/5").await;
    let (_, failed) = post(
        &w,
        "/einv/v1/govt/api/einvewb/ewaybill",
        json!({"Irn": irn4, "Distance": 100, "TransMode": "1"}),
    )
    .await;
    assert_eq!(failed["Success"], "N");
    assert_eq!(failed["EwbStatus"], "FAILED");
    assert_eq!(failed["TransMode"], "1", "the request is echoed");
    assert_eq!(failed["ErrorDetails"][0]["error_code"], "4011");

    // Bad input is a 4xx naming the field.
    for (path, body, code, field) in [
        (
            "/v2/eInvoice/ewaybill",
            json!([{"Irn": "short", "Distance": 10}]),
            400,
            "[0].Irn",
        ),
        (
            "/v2/eInvoice/ewaybill",
            json!([{"Distance": 10}]),
            400,
            "Irn",
        ),
        (
            "/v2/eInvoice/ewaybill/cancel",
            json!({"ewbNo": 12, "cancelRsnCode": "OTHERS"}),
            400,
            "ewbNo",
        ),
        (
            "/v2/eInvoice/ewaybill/cancel",
            json!({"ewbNo": ewb_no, "cancelRsnCode": "LOST"}),
            400,
            "cancelRsnCode",
        ),
        (
            "/v2/eInvoice/ewaybill/cancel",
            json!({"ewbNo": ewb_no, "cancelRsnCode": "OTHERS", "cancelRmrk": "x".repeat(51)}),
            400,
            "cancelRmrk",
        ),
    ] {
        let (status, body) = post(&w, path, body).await;
        assert_eq!(status, code, "{path}: {body}");
        let named = body["errorDetails"][0]["field"].as_str().unwrap_or("");
        assert!(named.contains(field), "{path}: {body}");
    }
    let eleven: Vec<Value> = (0..11).map(|_| road(&irn3)).collect();
    let (status, _) = post(&w, "/v2/eInvoice/ewaybill", Value::Array(eleven)).await;
    assert_eq!(status, 422);
}
on_both_backends!(ewaybills_as_the_cleartax_connector_calls_them, story);

/// Faults while raising a bill: the answer dropped after the IRP committed it, HTTP 5xx, the
/// IRP down. After each, the request is sent again as a client would; every bill the IRP
/// raised is the one answered and recorded, and no IRN has two.
async fn faults(db: Db) {
    let Some(w) = world(db, 1_000).await else {
        return;
    };
    let mut expected_bills = 0;
    let dropped = json!({"kind": "drop_after_commit", "operation": "ewb_generate", "count": 1});
    for (n, faults) in [
        vec![dropped.clone()],
        vec![
            json!({"kind": "http_status", "status": 502, "operation": "ewb_generate", "count": 1}),
        ],
        vec![json!({"kind": "nic_error", "code": "5001", "operation": "ewb_generate", "count": 1})],
        // The answer is lost and so is the first reconciliation: sent again, the IRP says 4002
        // and the existing bill is adopted.
        vec![
            dropped,
            json!({"kind": "http_status", "status": 502, "operation": "ewb_get", "count": 1}),
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let irn = new_irn(&w, &format!("EWB/F/{n}")).await;
        for fault in faults {
            w.control(fault).await;
        }
        let (status, body) = post(&w, "/v2/eInvoice/ewaybill", json!([road(&irn)])).await;
        assert_eq!(status, 200, "{body}");
        let govt = first_govt(&body);
        assert_eq!(govt["Success"], "Y", "fault {n}: {body}");
        expected_bills += 1;
        // The client did not see the answer (or sends again anyway): the same bill, no second.
        let (_, again) = post(&w, "/v2/eInvoice/ewaybill", json!([road(&irn)])).await;
        let repeat = first_govt(&again);
        assert_eq!(repeat["Success"], "Y", "{again}");
        assert_eq!(repeat["EwbNo"], govt["EwbNo"], "one bill per IRN");
        assert_eq!(repeat["info"][0]["InfCd"], "EWBDUP");
        let record = w
            .app
            .state
            .store
            .get_einvoice(gateway::state::SANDBOX_ACCOUNT_ID, &irn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.ewb_no, govt["EwbNo"].as_i64(), "recorded");
    }
    // The IRP down: FAILED with the gateway's reason, nothing raised; then it is back, and the
    // same request raises exactly one bill.
    let irn = new_irn(&w, "EWB/F/down").await;
    w.control(
        json!({"kind": "http_status", "status": 503, "operation": "ewb_generate", "count": 100}),
    )
    .await;
    let (_, down) = post(&w, "/v2/eInvoice/ewaybill", json!([road(&irn)])).await;
    assert_eq!(down[0]["ewb_status"], "FAILED", "{down}");
    let codes: Vec<&str> = first_govt(&down)["ErrorDetails"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["gateway_error_code"].as_str())
        .collect();
    assert!(codes.contains(&"IRP_UNAVAILABLE"), "{down}");
    w.control(json!({"kind": "clear"})).await;
    let mut raised = None;
    for _ in 0..50 {
        let (status, body) = post(&w, "/v2/eInvoice/ewaybill", json!([road(&irn)])).await;
        if status == 200 && first_govt(&body)["Success"] == "Y" {
            raised = Some(body);
            break;
        }
        // The breaker is open for its cooldown: wait for the gateway's own Retry-After.
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(raised.is_some(), "the bill is raised once the IRP is back");
    expected_bills += 1;
    let c = w.counters().await;
    assert_eq!(c["ewbs_generated"], expected_bills, "no second bill: {c}");
}
on_both_backends!(ewaybill_faults_never_duplicate_or_lose_a_bill, faults);
