//! How real clients call and recover (issue "IRP sandbox fidelity", section "How real clients
//! recover"): `sup_gstin` grants nothing to an API user of another GSTIN; cancelling an unknown
//! well-formed IRN is 2148 (2145 stays for malformed ones); an absent or `"false"`
//! `ForceRefreshAccessToken` is accepted; the client is checked before the body is opened;
//! get-by-document's query names are read in any case; `/healthz`, `/readyz`; and the document
//! type signed in upper case; a stale master status that only sync GSTIN refreshes; master
//! data that public clients assert.

use base64::Engine;
use irp_protocol::crypto::AesKey;
use irp_protocol::envelope::Envelope;
use irp_sandbox::Profile;
use serde_json::json;

use crate::client::Session;
use crate::story::{invoice, world, World, HP_GSTIN};

const DELHI_GSTIN: &str = "07AAFCD5862R007";
const DELHI_MOBILE: &str = "9000000003";

async fn hp_session(w: &World) -> Session {
    w.gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap()
}

/// A v1.04 auth whose JSON payload is written by hand (as clients in other languages send it).
async fn raw_auth(w: &World, payload: serde_json::Value, client_secret: &str) -> Envelope {
    let inner = base64::engine::general_purpose::STANDARD.encode(payload.to_string());
    let data = w.gsp.key.encrypt_b64(inner.as_bytes()).unwrap();
    let response = w
        .gsp
        .http
        .post(format!("{}/eivital/v1.04/auth", w.base))
        .header("client_id", &w.gsp.client_id)
        .header("client_secret", client_secret)
        .header("Gstin", HP_GSTIN)
        .json(&json!({"Data": data}))
        .send()
        .await
        .unwrap();
    Envelope::parse(&response.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn sup_gstin_grants_nothing_to_another_gstins_user() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let doc = invoice("SUP/0001");
    let generated = w.gsp.generate(&hp, &doc).await;
    let irn = generated.data["Irn"].as_str().unwrap().to_string();

    // Another taxpayer, with its own API user through the same GSP.
    let delhi_token = w
        .portal
        .register_taxpayer(DELHI_GSTIN, DELHI_MOBILE, "delhitrader", "Portal@123")
        .await;
    let (status, created) = w
        .portal
        .create_api_user(
            &delhi_token,
            DELHI_MOBILE,
            &w.gsp.client_id,
            "delhiapi01",
            "Api@12345",
        )
        .await;
    assert_eq!(status, 200, "{created}");
    let delhi = w
        .gsp
        .auth_v104(DELHI_GSTIN, "delhiapi01", "Api@12345", false)
        .await
        .unwrap();
    let with_sup = |path: String| {
        w.gsp
            .http
            .get(format!("{}{path}", w.base))
            .header("client_id", &w.gsp.client_id)
            .header("client_secret", &w.gsp.client_secret)
            .header("Gstin", DELHI_GSTIN)
            .header("user_name", "delhiapi01")
            .header("AuthToken", &delhi.token)
            .header("sup_gstin", HP_GSTIN)
    };
    // By IRN: 2143, and no signed invoice in the answer.
    let by_irn = with_sup(format!("/eicore/v1.03/Invoice/irn/{irn}"))
        .send()
        .await
        .unwrap();
    let envelope = Envelope::parse(&by_irn.bytes().await.unwrap()).unwrap();
    assert_eq!(envelope.error_codes(), ["2143"]);
    assert!(envelope.data.is_none());
    // By document: not found at all (2154).
    let dt = doc["DocDtls"]["Dt"].as_str().unwrap();
    let by_doc = with_sup(format!(
        "/eicore/v1.03/Invoice/irnbydocdetails?doctype=INV&docnum=SUP/0001&docdate={dt}"
    ))
    .send()
    .await
    .unwrap();
    let envelope = Envelope::parse(&by_doc.bytes().await.unwrap()).unwrap();
    assert_eq!(envelope.error_codes(), ["2154"]);
    // The e-way bill of another GSTIN's IRN: 2143 too.
    let ewb = with_sup(format!("/eiewb/v1.03/ewaybill/irn/{irn}"))
        .send()
        .await
        .unwrap();
    let envelope = Envelope::parse(&ewb.bytes().await.unwrap()).unwrap();
    assert_eq!(envelope.error_codes(), ["2143"]);
    // The supplier itself still reads it, with or without sup_gstin naming itself.
    let own = w
        .gsp
        .get(&format!("/eicore/v1.03/Invoice/irn/{irn}"), &hp)
        .await;
    assert!(own.envelope.is_success());

    // The e-commerce operator that reported a supply (TranDtls.EcmGstin) reads it.
    let mut reported = invoice("SUP/0002");
    reported["TranDtls"]["EcmGstin"] = json!(DELHI_GSTIN);
    let generated = w.gsp.generate(&hp, &reported).await;
    assert!(generated.envelope.is_success(), "{:?}", generated.envelope);
    let reported_irn = generated.data["Irn"].as_str().unwrap();
    let by_operator = with_sup(format!("/eicore/v1.03/Invoice/irn/{reported_irn}"))
        .send()
        .await
        .unwrap();
    let envelope = Envelope::parse(&by_operator.bytes().await.unwrap()).unwrap();
    assert!(envelope.is_success(), "{envelope:?}");
}

#[tokio::test]
async fn cancelling_an_unknown_irn_is_2148_and_a_malformed_one_2145() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let unknown = w.gsp.cancel(&hp, &"a".repeat(64), "1", "Duplicate").await;
    assert_eq!(unknown.codes(), ["2148"]);
    let malformed = w.gsp.cancel(&hp, &"z".repeat(64), "1", "Duplicate").await;
    assert_eq!(malformed.codes(), ["2145"]);
    let short = w.gsp.cancel(&hp, "abc", "1", "Duplicate").await;
    assert_eq!(short.codes(), ["2145"]);
}

#[tokio::test]
async fn auth_reads_the_flag_leniently_and_checks_the_client_first() {
    let w = world(Profile::Sandbox).await;
    let app_key = AesKey::generate();
    let app_key = secrecy::ExposeSecret::expose_secret(&app_key.to_base64()).to_string();
    for flag in [
        None,
        Some(json!("false")),
        Some(json!("FALSE")),
        Some(json!(false)),
    ] {
        let mut payload =
            json!({"UserName": "hpapiuser1", "Password": "Api@12345", "AppKey": app_key});
        if let Some(flag) = &flag {
            payload["ForceRefreshAccessToken"] = flag.clone();
        }
        let answer = raw_auth(&w, payload, &w.gsp.client_secret).await;
        assert!(answer.is_success(), "{flag:?}: {answer:?}");
    }
    // A wrong client secret is 1010 even when the body cannot be opened (not 1013).
    let wrong_client = w
        .gsp
        .http
        .post(format!("{}/eivital/v1.04/auth", w.base))
        .header("client_id", &w.gsp.client_id)
        .header("client_secret", "not-the-secret")
        .header("Gstin", HP_GSTIN)
        .json(&json!({"Data": "bm90IGFuIFJTQSBibG9jaw=="}))
        .send()
        .await
        .unwrap();
    let envelope = Envelope::parse(&wrong_client.bytes().await.unwrap()).unwrap();
    assert_eq!(envelope.error_codes(), ["1010"]);
    // With the right client, the same body is the decryption error.
    let right_client = w
        .gsp
        .http
        .post(format!("{}/eivital/v1.04/auth", w.base))
        .header("client_id", &w.gsp.client_id)
        .header("client_secret", &w.gsp.client_secret)
        .header("Gstin", HP_GSTIN)
        .json(&json!({"Data": "bm90IGFuIFJTQSBibG9jaw=="}))
        .send()
        .await
        .unwrap();
    let envelope = Envelope::parse(&right_client.bytes().await.unwrap()).unwrap();
    assert_eq!(envelope.error_codes(), ["1013"]);
}

#[tokio::test]
async fn get_by_document_reads_query_names_in_any_case_and_health_answers() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let doc = invoice("CASE/0001");
    let generated = w.gsp.generate(&hp, &doc).await;
    assert!(generated.envelope.is_success());
    let dt = doc["DocDtls"]["Dt"].as_str().unwrap();
    for query in [
        format!("doctype=INV&docnum=CASE/0001&docdate={dt}"),
        format!("DocType=INV&DocNum=CASE/0001&DocDate={dt}"),
        format!("DOCTYPE=inv&DOCNUM=case/0001&DOCDATE={dt}"),
    ] {
        let found = w
            .gsp
            .get(
                &format!("/eicore/v1.03/Invoice/irnbydocdetails?{query}"),
                &hp,
            )
            .await;
        assert!(found.envelope.is_success(), "{query}: {:?}", found.envelope);
        assert_eq!(found.data["Irn"], generated.data["Irn"]);
    }
    let health = reqwest::get(format!("{}/healthz", w.base)).await.unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("{}/readyz", w.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
}

/// NIC signs the document type in upper case: a request with `inv` is hashed and signed as
/// `INV`, in the signed invoice and in the QR code's `DocTyp` (issue "What NIC signs").
#[tokio::test]
async fn a_lower_case_document_type_is_signed_upper_case() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let mut doc = invoice("TYP/0001");
    doc["DocDtls"]["Typ"] = json!("inv");
    let generated = w.gsp.generate(&hp, &doc).await;
    assert!(generated.envelope.is_success(), "{:?}", generated.envelope);
    let signed =
        irp_protocol::jwt::decode(generated.data["SignedInvoice"].as_str().unwrap()).unwrap();
    assert_eq!(signed.data["DocDtls"]["Typ"], "INV");
    let qr = irp_protocol::jwt::decode(generated.data["SignedQRCode"].as_str().unwrap()).unwrap();
    assert_eq!(qr.data["DocTyp"], "INV");
}

/// The master can hold a stale status that only a sync refreshes: india-compliance's
/// 3029 → sync GSTIN → retry path. Get-GSTIN shows the stale status; sync shows and keeps
/// the common portal's.
#[tokio::test]
async fn a_stale_status_is_refreshed_only_by_sync() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let marked = reqwest::Client::new()
        .post(format!("{}/sandbox/faults", w.base))
        .json(&json!({"kind": "mark_stale", "gstin": HP_GSTIN, "status": "SUS"}))
        .send()
        .await
        .unwrap();
    assert_eq!(marked.status(), 200);
    let refused = w.gsp.generate(&hp, &invoice("SYNC/0001")).await;
    assert_eq!(refused.codes(), ["3029"]);
    let get = w
        .gsp
        .get(&format!("/eivital/v1.03/Master/gstin/{HP_GSTIN}"), &hp)
        .await;
    assert_eq!(get.data["Status"], "SUS", "get does not refresh");
    let synced = w
        .gsp
        .get(&format!("/eivital/v1.04/Master/syncgstin/{HP_GSTIN}"), &hp)
        .await;
    assert_eq!(synced.data["Status"], "ACT");
    let get = w
        .gsp
        .get(&format!("/eivital/v1.03/Master/gstin/{HP_GSTIN}"), &hp)
        .await;
    assert_eq!(get.data["Status"], "ACT", "the sync is kept");
    let retried = w.gsp.generate(&hp, &invoice("SYNC/0001")).await;
    assert!(retried.envelope.is_success(), "{:?}", retried.envelope);
}

/// The master answers what public clients' tests assert against NIC's sandbox
/// (Mittal-Analytics' gst_irn: 29AAACP7879D1Z0).
#[tokio::test]
async fn the_master_holds_the_values_public_clients_assert() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let tally = w
        .gsp
        .get("/eivital/v1.03/Master/gstin/29AAACP7879D1Z0", &hp)
        .await;
    assert!(tally.envelope.is_success(), "{:?}", tally.envelope);
    assert_eq!(tally.data["LegalName"], "TALLY SOLUTIONS PVT LTD");
    assert_eq!(tally.data["AddrBnm"], "AMR TECH PARK II B");
    assert_eq!(tally.data["AddrLoc"], "HONGASANDRA");
    assert_eq!(tally.data["DtReg"], "2017-07-01");
    assert_eq!(tally.data["Status"], "ACT");
}
