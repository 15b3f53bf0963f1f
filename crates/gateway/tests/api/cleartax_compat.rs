//! The gateway driven the way real ClearTax clients parse its answers: a JS client
//! (`Array.isArray(data) ? data[0] : data`, `document_status === 'NOT_CREATED'`), ERPNext's
//! connector (`govt_response.Success == "Y"`, `error_source == 'CLEARTAX'`, then splitting
//! `"field : message"`), and an Odoo-style client (`content[0]['govt_response']['Success']`).
//! Each test names the contract bullet it checks.

use serde_json::{json, Value};

use crate::einvoice::{invoice, world, World, SELLERS};
use crate::helpers::Db;
use crate::on_both_backends;

/// `Array.isArray(data) ? data[0] : data`, as the JS client reads every answer.
fn first(data: &Value) -> &Value {
    match data {
        Value::Array(items) => &items[0],
        other => other,
    }
}

/// ERPNext's connector: platform errors are the ones with `error_source == 'CLEARTAX'`, and
/// their message is split on `" : "` into the field and the text.
fn platform_errors(result: &Value) -> Vec<(String, String)> {
    result["govt_response"]["ErrorDetails"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["error_source"] == "CLEARTAX")
        .map(|e| {
            let message = e["error_message"].as_str().unwrap_or("");
            let (field, text) = message.split_once(" : ").unwrap_or(("", message));
            (field.to_string(), text.to_string())
        })
        .collect()
}

async fn get(w: &World, seller: usize, query: &str) -> (u16, Value) {
    let r = w
        .app
        .send(
            w.app
                .client
                .get(w.app.url(&format!("/v2/eInvoice/get?{query}")))
                .header("owner_id", w.owners[seller].to_string())
                .header("gstin", SELLERS[seller].0),
        )
        .await;
    (r.status, r.body)
}

/// Bullet 2: `document_status` takes ClearTax's values only.
async fn document_status_values(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let allowed = [
        "IRN_GENERATED",
        "NOT_CREATED",
        "DOCUMENT_VALIDATION",
        "IRN_CANCELLED",
        "IRN_GENERATION_FAILED",
    ];
    let generated = w.one(0, invoice(s, b, "CT/0001", 100.0)).await;
    assert_eq!(generated["document_status"], "IRN_GENERATED");
    let irn = generated["govt_response"]["Irn"]
        .as_str()
        .unwrap()
        .to_string();

    // A dry run is always DOCUMENT_VALIDATION, valid or not.
    let (_, dry_ok, _) = w
        .generate(0, vec![invoice(s, b, "CT/0002", 100.0)], true)
        .await;
    let mut broken = invoice(s, b, "CT/0003", 100.0);
    broken["ItemList"][0]["HsnCd"] = json!("12");
    let (_, dry_bad, _) = w.generate(0, vec![broken.clone()], true).await;
    assert_eq!(first(&dry_ok)["document_status"], "DOCUMENT_VALIDATION");
    assert_eq!(first(&dry_ok)["govt_response"]["Success"], "Y");
    assert_eq!(first(&dry_bad)["document_status"], "DOCUMENT_VALIDATION");
    assert_eq!(first(&dry_bad)["govt_response"]["Success"], "N");

    // A refused generate is NOT_CREATED, which the JS client tests for.
    let refused = w.one(0, broken).await;
    assert!(refused["document_status"] == "NOT_CREATED", "{refused}");

    // Get: generated, then cancelled; an IRN nobody knows fails.
    let (_, got) = get(&w, 0, &format!("irn={irn}")).await;
    assert_eq!(first(&got)["document_status"], "IRN_GENERATED", "{got}");
    assert_eq!(
        first(&got)["transaction"]["DocDtls"]["No"],
        "CT/0001",
        "{got}"
    );
    let cancelled = w.cancel(0, &irn).await;
    assert_eq!(cancelled["document_status"], "IRN_CANCELLED", "{cancelled}");
    let (_, got) = get(&w, 0, &format!("irn={irn}")).await;
    assert_eq!(first(&got)["document_status"], "IRN_CANCELLED", "{got}");
    assert_eq!(first(&got)["govt_response"]["Status"], "CNL");
    let unknown = "a".repeat(64);
    let (_, got) = get(&w, 0, &format!("irn={unknown}")).await;
    assert_eq!(
        first(&got)["document_status"],
        "IRN_GENERATION_FAILED",
        "{got}"
    );
    assert_eq!(first(&got)["govt_response"]["Success"], "N");
    // A refused cancel reports the IRN's real state: unknown here.
    let refused_cancel = w.cancel(0, &unknown).await;
    assert_eq!(refused_cancel["document_status"], "IRN_GENERATION_FAILED");

    for result in [
        &generated,
        first(&dry_ok),
        first(&dry_bad),
        &refused,
        &cancelled,
        &refused_cancel,
    ] {
        let status = result["document_status"].as_str().unwrap();
        assert!(allowed.contains(&status), "{status} is not ClearTax's");
    }
}
on_both_backends!(
    document_status_takes_cleartax_values,
    document_status_values
);

/// Bullet 3: get answers an array, for one IRN or several (repeated, or a comma list), in the
/// order asked.
async fn get_many(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let one = w.one(0, invoice(s, b, "CT/0101", 100.0)).await;
    let two = w.one(0, invoice(s, b, "CT/0102", 200.0)).await;
    let irn1 = one["govt_response"]["Irn"].as_str().unwrap().to_string();
    let irn2 = two["govt_response"]["Irn"].as_str().unwrap().to_string();
    let (status, single) = get(&w, 0, &format!("irn={irn1}")).await;
    assert_eq!(status, 200);
    assert!(single.is_array(), "{single}");
    assert_eq!(single[0]["govt_response"]["Irn"], json!(irn1));
    for query in [
        format!("irn={irn2}&irn={irn1}"),
        format!("irn={irn2},{irn1}"),
    ] {
        let (status, both) = get(&w, 0, &query).await;
        assert_eq!(status, 200, "{both}");
        let irns: Vec<&str> = both
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["govt_response"]["Irn"].as_str().unwrap())
            .collect();
        assert_eq!(irns, [irn2.as_str(), irn1.as_str()], "{query}");
    }
    let (status, none) = get(&w, 0, "").await;
    assert_eq!(
        (status, none["errorDetails"][0]["field"].as_str()),
        (400, Some("irn"))
    );
    let eleven = [irn1.as_str(); 11].join(",");
    let (status, _) = get(&w, 0, &format!("irn={eleven}")).await;
    assert_eq!(status, 422);
}
on_both_backends!(get_answers_an_array_for_several_irns, get_many);

/// Bullet 4: the platform's own errors say `error_source: CLEARTAX` and read
/// `"<json path> : <message>"`; the IRP's say `GOVT`.
async fn error_shape(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let mut broken = invoice(s, b, "CT/0201", 100.0);
    broken["ItemList"][0]["HsnCd"] = json!("12");
    let refused = w.one(0, broken).await;
    assert_eq!(refused["govt_response"]["Success"], "N");
    let errors = platform_errors(&refused);
    assert!(!errors.is_empty(), "{refused}");
    assert!(
        errors
            .iter()
            .any(|(field, text)| field.contains("HsnCd") && !text.is_empty()),
        "{errors:?}"
    );
    let other_seller = w.one(0, invoice(SELLERS[1].0, s, "CT/0202", 100.0)).await;
    let errors = platform_errors(&other_seller);
    assert_eq!(errors[0].0, "SellerDtls.Gstin", "{other_seller}");
    // ClearTax's numeric codes where its catalogue has one, with the stable string beside it:
    // 500 for a seller that is not the header's GSTIN, 201 for missing NIC credentials.
    let mismatch = &other_seller["govt_response"]["ErrorDetails"][0];
    assert_eq!(mismatch["error_code"], "500", "{mismatch}");
    assert_eq!(mismatch["gateway_error_code"], "SELLER_GSTIN_MISMATCH");
    let bare = w
        .app
        .send(
            w.app
                .client
                .post(w.app.url("/v2/owners"))
                .json(&json!({"kind": "GSTIN", "gstin": s, "name": "no credentials"})),
        )
        .await;
    assert_eq!(bare.status, 201, "{:?}", bare.body);
    let no_credentials = first(
        &w.app
            .send(
                w.app
                    .client
                    .put(w.app.url("/v2/eInvoice/generate"))
                    .header("owner_id", bare.body["id"].as_str().unwrap())
                    .header("gstin", s)
                    .json(&json!([{"transaction": invoice(s, b, "CT/0204", 100.0)}])),
            )
            .await
            .body,
    )
    .clone();
    assert_eq!(no_credentials["document_status"], "NOT_CREATED");
    let missing = &no_credentials["govt_response"]["ErrorDetails"][0];
    assert_eq!(missing["error_code"], "201", "{missing}");
    assert_eq!(missing["error_source"], "CLEARTAX");
    assert_eq!(missing["gateway_error_code"], "NIC_CREDENTIALS_MISSING");
    // Codes without a ClearTax number keep the gateway's string.
    let mut broken = invoice(s, b, "CT/0205", 100.0);
    broken["ItemList"][0]["HsnCd"] = json!("12");
    let refused = w.one(0, broken).await;
    let first_error = &refused["govt_response"]["ErrorDetails"][0];
    assert_eq!(first_error["error_code"], first_error["gateway_error_code"]);

    let ok = w.one(0, invoice(s, b, "CT/0203", 100.0)).await;
    let irn = ok["govt_response"]["Irn"].as_str().unwrap().to_string();
    w.cancel(0, &irn).await;
    let again = w.cancel(0, &irn).await;
    assert_eq!(
        again["govt_response"]["ErrorDetails"][0]["error_source"],
        "GOVT"
    );
}
on_both_backends!(errors_say_cleartax_or_govt, error_shape);

/// Bullet 6: `Success` agrees with the errors, and a cancel carries `Status` and `CancelDate`.
async fn success_agrees(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let ok = w.one(0, invoice(s, b, "CT/0301", 100.0)).await;
    let irn = ok["govt_response"]["Irn"].as_str().unwrap().to_string();
    let cancelled = w.cancel(0, &irn).await;
    let again = w.cancel(0, &irn).await;
    for result in [&ok, &cancelled, &again] {
        let success = result["govt_response"]["Success"] == "Y";
        let has_errors = result["govt_response"]["ErrorDetails"]
            .as_array()
            .is_some_and(|e| !e.is_empty());
        assert_ne!(success, has_errors, "{result}");
    }
    assert_eq!(cancelled["govt_response"]["Status"], "CNL");
    assert!(cancelled["govt_response"]["CancelDate"].is_string());
    assert_eq!(again["govt_response"]["Success"], "N");
}
on_both_backends!(success_agrees_with_the_errors, success_agrees);

/// Bullet 7 (in part): `CnlRsn` as a number, and `dryRun=TRUE`.
async fn liberal_inputs(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let r = w
        .app
        .send(
            w.app
                .client
                .put(w.app.url("/v2/eInvoice/generate?dryRun=TRUE"))
                .header("owner_id", w.owners[0].to_string())
                .header("gstin", s)
                .json(&json!([{"transaction": invoice(s, b, "CT/0401", 100.0)}])),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body[0]["document_status"], "DOCUMENT_VALIDATION");
    let ok = w.one(0, invoice(s, b, "CT/0402", 100.0)).await;
    let irn = ok["govt_response"]["Irn"].as_str().unwrap().to_string();
    let r = w
        .app
        .send(
            w.app
                .client
                .put(w.app.url("/v2/eInvoice/cancel"))
                .header("owner_id", w.owners[0].to_string())
                .header("gstin", s)
                .json(&json!([{"irn": irn, "CnlRsn": 1, "CnlRem": "Duplicate"}])),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body[0]["document_status"], "IRN_CANCELLED",
        "{:?}",
        r.body
    );
}
on_both_backends!(numeric_reasons_and_upper_case_flags, liberal_inputs);

/// Bullets 8 and 9: a store answers `{"success": true, "errorDetails": null}`; ClearTax's own
/// sample username and sub-users with `_` are stored; spaces around a username are refused with
/// a message that says so; an unusual one is stored with a warning.
async fn store_as_cleartax(db: Db) {
    let Some(app) =
        crate::helpers::TestApp::spawn(db, crate::helpers::Options::mode("sandbox")).await
    else {
        return;
    };
    let owner = uuid::Uuid::new_v4().to_string();
    let store = |username: &'static str| {
        app.client
            .post(app.url("/einv/v2/nic_credentials/store_nic_credentials"))
            .header("owner_id", &owner)
            .json(&json!({"gstin": "29AAFCD5862R000", "username": username, "password": "Secret@123"}))
    };
    for username in ["API_TEST", "demouser01_erp"] {
        let r = app.send(store(username)).await;
        assert_eq!(r.status, 200, "{username}: {:?}", r.body);
        assert_eq!(r.body["success"], true);
        assert!(
            r.body.get("errorDetails").is_some_and(Value::is_null),
            "{:?}",
            r.body
        );
        assert!(r.body.get("warnings").is_none(), "{username}: {:?}", r.body);
    }
    let r = app.send(store("apiuser01 ")).await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.error_codes(), ["invalid_username"]);
    assert!(
        r.body["errorDetails"][0]["error_message"]
            .as_str()
            .unwrap()
            .contains("space"),
        "{:?}",
        r.body
    );
    let r = app.send(store("a.b")).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.body["warnings"][0]["error_code"], "unusual_username",
        "{:?}",
        r.body
    );
}
on_both_backends!(
    stores_answer_and_accept_usernames_as_cleartax,
    store_as_cleartax
);

/// Bullets 7 and 8: every documented key is in a result (null when it has no value), and the
/// keys ClearTax clients add to an item are echoed or ignored, never a 400.
async fn documented_keys(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let r = w
        .app
        .send(
            w.app
                .client
                .put(w.app.url("/v2/eInvoice/generate"))
                .header("owner_id", w.owners[0].to_string())
                .header("gstin", s)
                .json(&json!([
                    {"transaction": invoice(s, b, "CT/0501", 100.0),
                     "transaction_id": "ERP-42",
                     "transaction_metadata": {"source": "erp"},
                     "group_id": "ignored"},
                    {"transaction": invoice(s, b, "CT/0502", 100.0)},
                ])),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let (with_keys, without) = (&r.body[0], &r.body[1]);
    for key in [
        "owner_id",
        "gstin",
        "transaction_id",
        "group_id",
        "custom_fields",
        "errors",
        "deleted",
        "error_response",
        "document_status",
        "govt_response",
    ] {
        assert!(without.get(key).is_some(), "{key} missing: {without}");
    }
    assert!(without["govt_response"].get("info").is_some());
    // The registered document, as the IRP signed it.
    assert_eq!(
        without["transaction"]["DocDtls"]["No"], "CT/0502",
        "{without}"
    );
    assert_eq!(without["transaction"]["SellerDtls"]["Gstin"], s);
    assert_eq!(with_keys["transaction_id"], "ERP-42");
    assert_eq!(with_keys["transaction_metadata"]["source"], "erp");
    assert_eq!(with_keys["owner_id"], w.owners[0].to_string());
    assert_eq!(with_keys["gstin"], s);
    assert!(without["custom_fields"].is_null() && without["errors"].is_null());
    assert_eq!(without["deleted"], false);
}
on_both_backends!(results_carry_every_documented_key, documented_keys);

/// Bullet 1: `owner_id` is optional. Today's ClearTax clients send the token and the `gstin`
/// header only; the gateway finds the owner from the account and the GSTIN, and a choice it
/// cannot make is a 409 naming the candidates' kinds.
async fn without_owner_id(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let call = |method: reqwest::Method, path: &str| {
        w.app
            .client
            .request(method, w.app.url(path))
            .header("gstin", s)
    };
    let generated = w
        .app
        .send(
            call(reqwest::Method::PUT, "/einv/v2/eInvoice/generate")
                .json(&json!([{"transaction": invoice(s, b, "CT/0601", 100.0)}])),
        )
        .await;
    assert_eq!(generated.status, 200, "{:?}", generated.body);
    let result = first(&generated.body);
    assert_eq!(result["document_status"], "IRN_GENERATED", "{result}");
    assert_eq!(result["owner_id"], w.owners[0].to_string());
    let irn = result["govt_response"]["Irn"].as_str().unwrap().to_string();
    let got = w
        .app
        .send(call(
            reqwest::Method::GET,
            &format!("/einv/v2/eInvoice/get?irn={irn}"),
        ))
        .await;
    assert_eq!(first(&got.body)["document_status"], "IRN_GENERATED");
    let verified = w
        .app
        .send(
            call(reqwest::Method::POST, "/einv/v2/nic_credentials/verify")
                .json(&json!({"gstin": s})),
        )
        .await;
    assert_eq!(verified.status, 200, "{:?}", verified.body);
    assert_eq!(verified.body["status"], "VERIFIED");

    // A second GSTIN owner of the same GSTIN: the gateway cannot choose.
    let second = w
        .app
        .send(
            w.app
                .client
                .post(w.app.url("/v2/owners"))
                .json(&json!({"kind": "GSTIN", "gstin": s, "name": "second"})),
        )
        .await;
    assert_eq!(second.status, 201, "{:?}", second.body);
    let ambiguous = w
        .app
        .send(
            call(reqwest::Method::PUT, "/einv/v2/eInvoice/generate")
                .json(&json!([{"transaction": invoice(s, b, "CT/0602", 100.0)}])),
        )
        .await;
    assert_eq!(ambiguous.status, 409, "{:?}", ambiguous.body);
    assert_eq!(ambiguous.error_codes(), ["ambiguous_owner"]);
    let message = ambiguous.body["errorDetails"][0]["error_message"]
        .as_str()
        .unwrap();
    assert!(message.contains("GSTIN, GSTIN"), "{message}");
    // With owner_id, the caller chooses.
    let chosen = w
        .app
        .send(
            call(reqwest::Method::PUT, "/einv/v2/eInvoice/generate")
                .header("owner_id", w.owners[0].to_string())
                .json(&json!([{"transaction": invoice(s, b, "CT/0603", 100.0)}])),
        )
        .await;
    assert_eq!(first(&chosen.body)["document_status"], "IRN_GENERATED");
    // Another account naming the same GSTIN finds none of this account's owners.
    let other = gateway::service::auth::create_user(
        &w.app.state,
        "other-tenant@example.com",
        &secrecy::SecretString::from("other tenant password".to_string()),
        None,
    )
    .await
    .unwrap();
    let other_token =
        gateway::service::auth::issue_token(&w.app.state, other.account_id, None, "erp")
            .await
            .unwrap();
    let before = w.counters().await["irns_generated"].clone();
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            "/einv/v2/eInvoice/generate".to_string(),
            Some(json!([{"transaction": invoice(s, b, "CT/0604", 100.0)}])),
        ),
        (
            reqwest::Method::GET,
            format!("/einv/v2/eInvoice/get?irn={irn}"),
            None,
        ),
        (
            reqwest::Method::POST,
            "/einv/v1/govt/api/Cancel".to_string(),
            Some(json!({"irn": irn, "CnlRsn": "1", "CnlRem": "x"})),
        ),
    ] {
        let mut request = call(method, &path).header(
            "X-Cleartax-Auth-Token",
            secrecy::ExposeSecret::expose_secret(&other_token.value),
        );
        if let Some(body) = body {
            request = request.json(&body);
        }
        let r = w.app.send(request).await;
        assert_eq!(r.status, 404, "{path}: {:?}", r.body);
        assert_eq!(r.error_codes(), ["owner_not_found"], "{path}");
        assert!(
            !r.body.to_string().contains(&w.owners[0].to_string()),
            "{path} leaks the owner"
        );
    }
    assert_eq!(
        w.counters().await["irns_generated"],
        before,
        "nothing reached the IRP"
    );
    let mine = w
        .app
        .send(
            call(
                reqwest::Method::GET,
                &format!("/einv/v2/eInvoice/get?irn={irn}"),
            )
            .header("owner_id", w.owners[0].to_string()),
        )
        .await;
    assert_eq!(
        first(&mine.body)["document_status"],
        "IRN_GENERATED",
        "still active"
    );

    // A GSTIN the account has nothing for.
    let unknown = w
        .app
        .send(
            w.app
                .client
                .get(w.app.url(&format!("/einv/v2/eInvoice/get?irn={irn}")))
                .header("gstin", "27AAFCD5862R1ZV"),
        )
        .await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    assert_eq!(unknown.error_codes(), ["owner_not_found"]);
}
on_both_backends!(owner_id_is_optional, without_owner_id);

/// Bullet 7 (in part): the `branch` header names a branch of the GSTIN. A store without
/// `owner_id` makes the branch under the GSTIN owner; calls with it act for that branch; an
/// unknown branch is a 404 naming it; a branch that is not the `owner_id`'s name is refused.
async fn branch_header(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let stored = w
        .app
        .send(
            w.app
                .client
                .post(w.app.url("/einv/v2/nic_credentials/store_nic_credentials"))
                .header("gstin", s)
                .header("branch", "Pune Warehouse")
                .json(&json!({"gstin": s, "username": "apiuser0", "password": "Api@12345"})),
        )
        .await;
    assert_eq!(stored.status, 200, "{:?}", stored.body);
    let owners = w.app.send(w.app.client.get(w.app.url("/v2/owners"))).await;
    let branch = owners.body["owners"]
        .as_array()
        .or(owners.body.as_array())
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "BRANCH")
        .cloned()
        .unwrap_or_else(|| panic!("no branch in {:?}", owners.body));
    assert_eq!(branch["name"], "Pune Warehouse");
    assert_eq!(branch["parent_id"], w.owners[0].to_string());
    let generate = |branch_name: &'static str, doc: &'static str| {
        w.app
            .client
            .put(w.app.url("/einv/v2/eInvoice/generate"))
            .header("gstin", s)
            .header("branch", branch_name)
            .json(&json!([{"transaction": invoice(s, b, doc, 100.0)}]))
    };
    let generated = w.app.send(generate("pune warehouse", "CT/0901")).await;
    assert_eq!(generated.status, 200, "{:?}", generated.body);
    let result = first(&generated.body);
    assert_eq!(result["document_status"], "IRN_GENERATED", "{result}");
    assert_eq!(result["owner_id"], branch["id"], "acts for the branch");
    let unknown = w.app.send(generate("Nashik", "CT/0902")).await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    assert_eq!(unknown.error_codes(), ["branch_not_found"]);
    assert!(unknown.body.to_string().contains("Nashik"));
    let mismatch = w
        .app
        .send(generate("Pune Warehouse", "CT/0903").header("owner_id", w.owners[0].to_string()))
        .await;
    assert_eq!(mismatch.status, 422, "{:?}", mismatch.body);
    assert_eq!(mismatch.error_codes(), ["branch_mismatch"]);
    // Without the header, the GSTIN owner is still the one chosen.
    let plain = w
        .app
        .send(
            w.app
                .client
                .put(w.app.url("/einv/v2/eInvoice/generate"))
                .header("gstin", s)
                .json(&json!([{"transaction": invoice(s, b, "CT/0904", 100.0)}])),
        )
        .await;
    assert_eq!(first(&plain.body)["owner_id"], w.owners[0].to_string());
}
on_both_backends!(branch_header_names_a_branch, branch_header);

/// Bullet 11: an XML body is answered 415, naming JSON (the README says so), and nothing
/// reaches the IRP.
async fn xml_is_refused(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let before = w.counters().await["irns_generated"].clone();
    let xml = w
        .app
        .send(
            w.app
                .client
                .put(w.app.url("/einv/v2/eInvoice/generate"))
                .header("gstin", SELLERS[0].0)
                .header("content-type", "application/xml")
                .header("accept", "application/xml")
                .body("<transactions><transaction><Version>1.1</Version></transaction></transactions>"),
        )
        .await;
    assert_eq!(xml.status, 415, "{:?}", xml.body);
    assert_eq!(xml.error_codes(), ["unsupported_media_type"]);
    let message = xml.body["errorDetails"][0]["error_message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("XML") && message.contains("application/json"),
        "{message}"
    );
    assert_eq!(w.counters().await["irns_generated"], before);
}
on_both_backends!(xml_bodies_are_answered_415_naming_json, xml_is_refused);

/// Bullet 7 (in part): a `gstin` header that disagrees with the body is refused, naming both.
async fn gstin_header_must_agree(db: Db) {
    let Some(app) =
        crate::helpers::TestApp::spawn(db, crate::helpers::Options::mode("sandbox")).await
    else {
        return;
    };
    let r = app
        .send(
            app.client
                .post(app.url("/einv/v2/nic_credentials/store_nic_credentials"))
                .header("gstin", "27AAFCD5862R1ZV")
                .json(&json!({"gstin": "29AAFCD5862R000", "username": "apiuser01", "password": "Secret@123"})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.error_codes(), ["gstin_mismatch"]);
    let message = r.body["errorDetails"][0]["error_message"].as_str().unwrap();
    assert!(
        message.contains("27AAFCD5862R1ZV") && message.contains("29AAFCD5862R000"),
        "{message}"
    );
}
on_both_backends!(
    a_gstin_header_that_disagrees_is_refused,
    gstin_header_must_agree
);

/// Bullet 10: the government-compatible API, as EshopBox's client calls it: one NIC object in,
/// one flat NIC-shaped answer out, with the stored credentials and the same exactly-once rules.
async fn government_compatible(db: Db) {
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let send = |method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut request = w
            .app
            .client
            .request(method, w.app.url(path))
            .header("gstin", s)
            .header("x-cleartax-product", "EInvoice");
        if let Some(body) = body {
            request = request.json(&body);
        }
        w.app.send(request)
    };
    let generated = send(
        reqwest::Method::POST,
        "/einv/v1/govt/api/Invoice/",
        Some(invoice(s, b, "CT/0701", 100.0)),
    )
    .await;
    assert_eq!(generated.status, 200, "{:?}", generated.body);
    assert_eq!(generated.body["Success"], "Y", "{:?}", generated.body);
    assert_eq!(generated.body["Status"], "ACT");
    assert!(generated.body["AckNo"].is_number());
    let irn = generated.body["Irn"].as_str().unwrap().to_string();

    // The same number with another total: NIC's 2150 with the existing IRN.
    let duplicate = send(
        reqwest::Method::POST,
        "/v1/govt/api/Invoice/",
        Some(invoice(s, b, "CT/0701", 900.0)),
    )
    .await;
    assert_eq!(duplicate.body["Success"], "N");
    assert_eq!(duplicate.body["ErrorDetails"][0]["error_code"], "2150");
    assert_eq!(duplicate.body["info"][0]["InfCd"], "DUPIRN");
    assert_eq!(duplicate.body["info"][0]["Desc"]["Irn"], json!(irn));

    let got = send(
        reqwest::Method::GET,
        &format!("/einv/v1/govt/api/Invoice/irn/{irn}"),
        None,
    )
    .await;
    assert_eq!(got.body["Success"], "Y", "{:?}", got.body);
    assert_eq!(got.body["Irn"], json!(irn));
    assert!(got.body["SignedInvoice"].is_string());

    let cancelled = send(
        reqwest::Method::POST,
        "/einv/v1/govt/api/Cancel",
        Some(json!({"irn": irn, "CnlRsn": "1", "CnlRem": "Duplicate"})),
    )
    .await;
    assert_eq!(cancelled.body["Success"], "Y", "{:?}", cancelled.body);
    assert_eq!(cancelled.body["Irn"], json!(irn));
    assert!(cancelled.body["CancelDate"].is_string());
    let got = send(
        reqwest::Method::GET,
        &format!("/einv/v1/govt/api/Invoice/irn/{irn}"),
        None,
    )
    .await;
    assert_eq!(got.body["Status"], "CNL", "{:?}", got.body);
    let c = w.counters().await;
    assert_eq!(c["irns_generated"], 1, "{c}");
}
on_both_backends!(the_government_compatible_api, government_compatible);
