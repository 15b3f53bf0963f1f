//! The story the issue asks for, then the error codes one by one.

use irp_protocol::irn::compute_irn;
use irp_protocol::jwt;
use irp_sandbox::seed::{DEMO_GSP_PAN, OTHER_GSP_PAN};
use irp_sandbox::Profile;
use serde_json::{json, Value};

use crate::client::{NicClient, Session};
use crate::portal::Portal;
use crate::{start, vector};

const GSP_MOBILE: &str = "9000000100";
const OTHER_GSP_MOBILE: &str = "9000000200";
pub(crate) const HP_GSTIN: &str = "02AMBPG7773M002";
const HP_MOBILE: &str = "9000000004";

/// A goods invoice from Himachal Pradesh to Telangana that NIC's sandbox signed (IGST 18%).
pub(crate) fn invoice(doc_no: &str) -> Value {
    let doc = vector("invoices/ic-sandbox-2023-b2b-goods-igst.json");
    let mut invoice = doc.get("invoice").cloned().unwrap_or(doc);
    invoice["DocDtls"]["No"] = json!(doc_no);
    invoice
}

pub(crate) struct World {
    pub(crate) base: String,
    pub(crate) portal: Portal,
    pub(crate) gsp: NicClient,
    pub(crate) sandbox: irp_sandbox::Sandbox,
    pub(crate) taxpayer_token: String,
}

pub(crate) async fn world(profile: Profile) -> World {
    let running = start(profile).await;
    let portal = Portal {
        base: running.base.clone(),
        http: reqwest::Client::new(),
    };
    // 1. A GSP registers and gets client credentials.
    let (client_id, secret) = portal
        .register_client("GSP", DEMO_GSP_PAN, GSP_MOBILE, "gsp@sandbox.test")
        .await;
    assert_eq!(client_id.len(), 15);
    // 2. A taxpayer registers on the portal.
    let taxpayer_token = portal
        .register_taxpayer(HP_GSTIN, HP_MOBILE, "hptraders1", "Portal@123")
        .await;
    // 3. It creates an API user through that GSP.
    let (status, created) = portal
        .create_api_user(
            &taxpayer_token,
            HP_MOBILE,
            &client_id,
            "hpapiuser1",
            "Api@12345",
        )
        .await;
    assert_eq!(status, 200, "{created}");
    assert!(created["ack_no"].as_str().unwrap().starts_with("ACK"));
    let gsp = NicClient::new(&running.base, &client_id, &secret).await;
    World {
        base: running.base,
        portal,
        gsp,
        sandbox: running.sandbox,
        taxpayer_token,
    }
}

async fn control(world: &World, path: &str, body: Value) -> Value {
    world
        .portal
        .http
        .post(format!("{}{path}", world.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn counters(world: &World) -> Value {
    world
        .portal
        .http
        .get(format!("{}/sandbox/counters", world.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_authenticate_generate_retrieve_and_cancel() {
    let w = world(Profile::Sandbox).await;

    // 4. Authenticate, v1.04 and v1.03; a second call within validity returns the same token.
    let session = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    assert_eq!(session.token.len(), 25);
    let again = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    assert_eq!(again.token, session.token);
    assert_eq!(again.sek.bytes(), session.sek.bytes());
    let legacy = w
        .gsp
        .auth_v103(HP_GSTIN, "hpapiuser1", "Api@12345")
        .await
        .unwrap();
    assert_eq!(legacy.token, session.token);
    let early_refresh = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", true)
        .await
        .unwrap();
    assert_eq!(
        early_refresh.token, session.token,
        "forced refresh is honoured only in the last 10 minutes"
    );

    // 5. Generate an IRN.
    let doc = invoice("STORY/0001");
    let generated = w.gsp.generate(&session, &doc).await;
    assert!(generated.envelope.is_success(), "{:?}", generated.envelope);
    let data = &generated.data;
    let today = irp_sandbox::clock::ist(w.sandbox.clock.now_ms()).date();
    let irn = compute_irn(
        HP_GSTIN,
        "INV",
        "STORY/0001",
        doc["DocDtls"]["Dt"].as_str().unwrap(),
        today,
    )
    .unwrap();
    assert_eq!(data["Irn"], json!(irn));
    assert_eq!(data["Status"], "ACT");
    let ack_no = data["AckNo"].as_i64().unwrap();
    assert_eq!(ack_no.to_string().len(), 15);
    assert_eq!(&ack_no.to_string()[4..5], "1");

    // The JWTs verify with the served certificate and carry the invoice and QR payloads.
    let pem = w
        .portal
        .http
        .get(format!("{}/keys/signing-certificate.pem", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cert = irp_protocol::crypto::pem_body(&pem, "CERTIFICATE").unwrap();
    let spki = jwt::certificate_public_key(&cert).unwrap();
    let signed = jwt::verify(data["SignedInvoice"].as_str().unwrap(), &spki).unwrap();
    assert_eq!(signed.issuer(), Some("NIC Sandbox"));
    assert_eq!(signed.kid().unwrap(), jwt::thumbprints(&cert).0);
    assert_eq!(signed.data["Irn"], json!(irn));
    assert_eq!(signed.data["AckNo"], json!(ack_no));
    assert_eq!(signed.data["ItemList"][0]["ItemNo"], json!(0));
    let qr = jwt::verify(data["SignedQRCode"].as_str().unwrap(), &spki).unwrap();
    let keys: Vec<&str> = qr
        .data
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "SellerGstin",
        "BuyerGstin",
        "DocNo",
        "DocTyp",
        "DocDt",
        "TotInvVal",
        "ItemCnt",
        "MainHsnCode",
        "Irn",
        "IrnDt",
    ];
    expected.sort();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(sorted, expected);
    assert_eq!(qr.data["ItemCnt"], json!(1));

    // 6. The same document again: 2150 with DUPIRN.
    let duplicate = w.gsp.generate(&session, &doc).await;
    assert_eq!(duplicate.codes(), ["2150"]);
    let info = duplicate.envelope.info_dtls.clone().unwrap();
    assert_eq!(info[0].inf_cd, "DUPIRN");
    assert_eq!(info[0].desc["Irn"], json!(irn));
    assert_eq!(info[0].desc["AckNo"], json!(ack_no));
    // Lower-case document numbers are the same document (upper-cased from June 2025).
    let lower = w.gsp.generate(&session, &invoice("story/0001")).await;
    assert_eq!(lower.codes(), ["2150"]);

    // 7. Get by IRN and by document.
    let by_irn = w
        .gsp
        .get(&format!("/eicore/v1.03/Invoice/irn/{irn}"), &session)
        .await;
    assert!(by_irn.envelope.is_success(), "{:?}", by_irn.envelope);
    assert_eq!(by_irn.data["AckNo"], json!(ack_no));
    assert_eq!(by_irn.data["SignedInvoice"], data["SignedInvoice"]);
    let date = doc["DocDtls"]["Dt"].as_str().unwrap();
    let by_doc = w.gsp.get(&format!("/eicore/v1.03/Invoice/irnbydocdetails?doctype=INV&docnum=STORY/0001&docdate={date}"), &session).await;
    assert_eq!(by_doc.data["Irn"], json!(irn));
    let missing = w
        .gsp
        .get(
            &format!(
                "/eicore/v1.03/Invoice/irnbydocdetails?doctype=INV&docnum=NOPE/1&docdate={date}"
            ),
            &session,
        )
        .await;
    assert_eq!(missing.codes(), ["2154"]);

    // 8. Cancel, then cancel again: 9999.
    let cancelled = w
        .gsp
        .cancel(&session, &irn, "2", "Data entry mistake")
        .await;
    assert!(cancelled.envelope.is_success(), "{:?}", cancelled.envelope);
    assert_eq!(cancelled.data["Irn"], json!(irn));
    assert!(cancelled.data["CancelDate"].is_string());
    let twice = w.gsp.cancel(&session, &irn, "2", "again").await;
    assert_eq!(twice.codes(), ["9999"]);
    let status = w
        .gsp
        .get(&format!("/eicore/v1.03/Invoice/irn/{irn}"), &session)
        .await;
    assert_eq!(status.data["Status"], "CNL");

    // 9. Another IRN; 25 hours later the token has expired and cancelling answers 2270.
    let second = w.gsp.generate(&session, &invoice("STORY/0002")).await;
    let second_irn = second.data["Irn"].as_str().unwrap().to_string();
    control(&w, "/sandbox/clock", json!({"advance_secs": 25 * 3600})).await;
    let expired = w.gsp.cancel(&session, &second_irn, "1", "late").await;
    assert_eq!(
        expired.codes(),
        ["1005"],
        "the 60-minute sandbox token outlived its expiry"
    );
    let fresh = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    assert_ne!(fresh.token, session.token);
    let late = w.gsp.cancel(&fresh, &second_irn, "1", "late").await;
    assert_eq!(late.codes(), ["2270"]);
    // Past the retrieval window, get by IRN answers 2283.
    control(&w, "/sandbox/clock", json!({"advance_secs": 24 * 3600})).await;
    let fresh = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    let old = w
        .gsp
        .get(&format!("/eicore/v1.03/Invoice/irn/{second_irn}"), &fresh)
        .await;
    assert_eq!(old.codes(), ["2283"]);

    let c = counters(&w).await;
    assert_eq!(c["irns_generated"], 2);
    assert_eq!(c["duplicates"], 2);
    assert_eq!(c["cancellations"], 1);
    let client = w.gsp.client_id.clone();
    assert_eq!(c["auth_calls"][&client][HP_GSTIN], 6);
    let metrics = w
        .portal
        .http
        .get(format!("{}/metrics", w.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("irp_irns_generated_total 2"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forced_refresh_in_the_last_ten_minutes_issues_a_new_token() {
    let w = world(Profile::Sandbox).await;
    let first = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    control(&w, "/sandbox/clock", json!({"advance_secs": 55 * 60})).await;
    let same = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    assert_eq!(same.token, first.token);
    let refreshed = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", true)
        .await
        .unwrap();
    assert_ne!(refreshed.token, first.token);
    assert_ne!(refreshed.expiry, first.expiry);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_errors_name_the_fault() {
    let w = world(Profile::Sandbox).await;
    let code = |r: Result<Session, irp_protocol::envelope::Envelope>| {
        r.err()
            .map(|e| e.error_codes().join(","))
            .unwrap_or_default()
    };
    assert_eq!(
        code(
            w.gsp
                .auth_v104(HP_GSTIN, "hpapiuser1", "Wrong@123", false)
                .await
        ),
        "1019"
    );
    assert_eq!(
        code(
            w.gsp
                .auth_v104(HP_GSTIN, "nosuchuser1", "Api@12345", false)
                .await
        ),
        "1017"
    );
    // A user mapped to another GSP.
    let (other_id, other_secret) = w
        .portal
        .register_client(
            "GSP",
            OTHER_GSP_PAN,
            OTHER_GSP_MOBILE,
            "other-gsp@sandbox.test",
        )
        .await;
    let other = NicClient::new(&w.base, &other_id, &other_secret).await;
    assert_eq!(
        code(
            other
                .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
                .await
        ),
        "1018"
    );
    // The same GSTIN can have a user for the other GSP too.
    let (status, _) = w
        .portal
        .create_api_user(
            &w.taxpayer_token,
            HP_MOBILE,
            &other_id,
            "hpapiuser2",
            "Api@23456",
        )
        .await;
    assert_eq!(status, 200);
    other
        .auth_v104(HP_GSTIN, "hpapiuser2", "Api@23456", false)
        .await
        .unwrap();
    // Wrong client secret.
    let bad = NicClient::new(&w.base, &w.gsp.client_id, "not-the-secret").await;
    assert_eq!(
        code(
            bad.auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
                .await
        ),
        "1010"
    );
    // A frozen user: its session ends and auth answers 1014; unfrozen, it works again.
    let session = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    let (status, _) = w
        .portal
        .post(
            "/portal/api-users/hpapiuser1/freeze",
            Some(&w.taxpayer_token),
            &json!({}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        code(
            w.gsp
                .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
                .await
        ),
        "3025"
    );
    assert_eq!(
        w.gsp.generate(&session, &invoice("FROZEN/1")).await.codes(),
        ["1005"]
    );
    w.portal
        .post(
            "/portal/api-users/hpapiuser1/unfreeze",
            Some(&w.taxpayer_token),
            &json!({}),
        )
        .await;
    let session = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    // Token errors: an unknown token is 1005; a token used for another GSTIN is 1015.
    let mut forged = session.clone();
    forged.token = "AAAAAAAAAAAAAAAAAAAAAAAAA".into();
    assert_eq!(
        w.gsp.generate(&forged, &invoice("T/1")).await.codes(),
        ["1005"]
    );
    let mut other_gstin = session.clone();
    other_gstin.gstin = "36AMBPG7773M002".into();
    assert_eq!(
        w.gsp.generate(&other_gstin, &invoice("T/2")).await.codes(),
        ["1015"]
    );
    // Password change with an OTP ends sessions; the new password works.
    let (_, started) = w
        .portal
        .post(
            "/portal/api-users/hpapiuser1/password/send-otp",
            Some(&w.taxpayer_token),
            &json!({}),
        )
        .await;
    let otp = w.portal.last_otp(HP_MOBILE).await;
    let (status, _) = w
        .portal
        .post(
            "/portal/api-users/hpapiuser1/password",
            Some(&w.taxpayer_token),
            &json!({"request_id": started["request_id"], "otp": otp, "new_password": "Changed@99"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        code(
            w.gsp
                .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
                .await
        ),
        "1019"
    );
    w.gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Changed@99", false)
        .await
        .unwrap();
    // A blocked GSTIN.
    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "block_gstin", "gstin": HP_GSTIN}),
    )
    .await;
    assert_eq!(
        code(
            w.gsp
                .auth_v104(HP_GSTIN, "hpapiuser1", "Changed@99", false)
                .await
        ),
        "1014"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_profile_accepts_clients_only_from_whitelisted_addresses() {
    let running = start(Profile::Production).await;
    let portal = Portal {
        base: running.base.clone(),
        http: reqwest::Client::new(),
    };
    let (client_id, secret) = portal
        .register_client("GSP", DEMO_GSP_PAN, GSP_MOBILE, "gsp@sandbox.test")
        .await;
    let token = portal
        .register_taxpayer("24AACCT6304M1ZB", "9000000010", "odooadmin1", "Portal@123")
        .await;
    let (status, _) = portal
        .create_api_user(&token, "9000000010", &client_id, "odooapi01", "Api@12345")
        .await;
    assert_eq!(status, 200);
    let gsp = NicClient::new(&running.base, &client_id, &secret).await;
    let refused = gsp
        .auth_v104("24AACCT6304M1ZB", "odooapi01", "Api@12345", false)
        .await
        .err()
        .unwrap();
    assert_eq!(refused.error_codes(), ["3059"]);
    let (status, _) = portal
        .post(
            "/portal/clients/whitelist",
            None,
            &json!({"client_id": client_id, "client_secret": secret, "ips": ["127.0.0.1"]}),
        )
        .await;
    assert_eq!(status, 200);
    let session = gsp
        .auth_v104("24AACCT6304M1ZB", "odooapi01", "Api@12345", false)
        .await
        .unwrap();

    // Every broken invoice vector gets its expected code (production rules, real GSTINs).
    let broken = vector("invoices/broken.json");
    for variant in broken["variants"].as_array().unwrap() {
        let answer = gsp.generate(&session, &variant["invoice"]).await;
        let mut codes = answer.codes();
        codes.dedup();
        assert_eq!(
            codes,
            [variant["expected_error_code"].as_str().unwrap()],
            "{}",
            variant["name"]
        );
    }
    // The accepted production invoice is signed with iss "NIC".
    let doc = vector("invoices/odoo-production-2023-b2b-services-igst.json");
    let invoice = doc.get("invoice").cloned().unwrap_or(doc);
    let answer = gsp.generate(&session, &invoice).await;
    assert!(answer.envelope.is_success(), "{:?}", answer.envelope);
    assert_eq!(
        jwt::decode(answer.data["SignedInvoice"].as_str().unwrap())
            .unwrap()
            .issuer(),
        Some("NIC")
    );
    assert_eq!(
        answer.data["Irn"],
        "ee72a3fd6a501a6f53948e89a4989a1ee4abfd0b2ed52bf54793ececd527e620"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_injected_and_counted() {
    let w = world(Profile::Sandbox).await;
    let session = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "nic_error", "code": "2146", "operation": "generate", "count": 2}),
    )
    .await;
    assert_eq!(
        w.gsp.generate(&session, &invoice("F/1")).await.codes(),
        ["2146"]
    );
    assert_eq!(
        w.gsp.generate(&session, &invoice("F/1")).await.codes(),
        ["2146"]
    );
    assert!(w
        .gsp
        .generate(&session, &invoice("F/1"))
        .await
        .envelope
        .is_success());
    for code in ["2147", "5001"] {
        control(
            &w,
            "/sandbox/faults",
            json!({"kind": "nic_error", "code": code, "operation": "generate"}),
        )
        .await;
        assert_eq!(
            w.gsp.generate(&session, &invoice("F/0")).await.codes(),
            [code]
        );
    }

    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "http_status", "status": 503, "operation": "generate"}),
    )
    .await;
    let data = session
        .sek
        .encrypt_b64(invoice("F/2").to_string().as_bytes());
    let response = w
        .gsp
        .http
        .post(format!("{}/eicore/v1.03/Invoice", w.base))
        .header("client_id", &w.gsp.client_id)
        .header("client_secret", &w.gsp.client_secret)
        .header("Gstin", HP_GSTIN)
        .header("user_name", "hpapiuser1")
        .header("AuthToken", &session.token)
        .json(&json!({"Data": data}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);

    // Dropped after commit: the client sees no answer, but the IRN exists (2150 on retry).
    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "drop_after_commit", "operation": "generate"}),
    )
    .await;
    let dropped = w
        .gsp
        .http
        .post(format!("{}/eicore/v1.03/Invoice", w.base))
        .header("client_id", &w.gsp.client_id)
        .header("client_secret", &w.gsp.client_secret)
        .header("Gstin", HP_GSTIN)
        .header("user_name", "hpapiuser1")
        .header("AuthToken", &session.token)
        .json(&json!({"Data": session.sek.encrypt_b64(invoice("F/3").to_string().as_bytes())}))
        .send()
        .await;
    let failed = match dropped {
        Err(_) => true,
        Ok(response) => response.bytes().await.is_err(),
    };
    assert!(failed, "the connection was not dropped");
    assert_eq!(
        w.gsp.generate(&session, &invoice("F/3")).await.codes(),
        ["2150"]
    );

    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "invalidate_sessions"}),
    )
    .await;
    assert_eq!(
        w.gsp.generate(&session, &invoice("F/4")).await.codes(),
        ["1005"]
    );

    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "latency", "ms": 300, "operation": "auth"}),
    )
    .await;
    let started = std::time::Instant::now();
    let session = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    let c = counters(&w).await;
    assert_eq!(c["irns_generated"], 2, "{c}");
    assert_eq!(c["errors_by_code"]["2146"], 2);
    assert_eq!(c["errors_by_code"]["1005"], 1);
    let _ = session;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gstin_master_and_portal_rules() {
    let w = world(Profile::Sandbox).await;
    let session = w
        .gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap();
    let details = w
        .gsp
        .get("/eivital/v1.03/Master/gstin/29AWGPV7107B1Z1", &session)
        .await;
    assert_eq!(details.data["LegalName"], "VIKAS EXPORTS");
    assert_eq!(details.data["Status"], "ACT");
    let unknown = w
        .gsp
        .get("/eivital/v1.03/Master/gstin/29ZZZZZ9999Z1Z5", &session)
        .await;
    assert_eq!(unknown.codes(), ["3001"]);
    let synced = w
        .gsp
        .get("/eivital/v1.03/Master/syncgstin/02AMBPG7773M002", &session)
        .await;
    assert_eq!(synced.data["Gstin"], HP_GSTIN);

    // An inactive seller gives 3029; a GSTIN unknown to the master, 3028.
    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "set_status", "gstin": HP_GSTIN, "status": "SUS"}),
    )
    .await;
    assert_eq!(
        w.gsp.generate(&session, &invoice("M/1")).await.codes(),
        ["3029"]
    );
    let (status, unknown) = w
        .portal
        .post(
            "/portal/register/send-otp",
            None,
            &json!({"gstin": "29ZZZZZ9999Z1Z5", "mobile": "9000000001"}),
        )
        .await;
    assert_eq!(
        (status, unknown["error"]["code"].as_str()),
        (422, Some("3028"))
    );
    control(
        &w,
        "/sandbox/faults",
        json!({"kind": "set_status", "gstin": HP_GSTIN, "status": "ACT"}),
    )
    .await;
    // Cancelling another GSTIN's IRN: 2143. The other GSTIN's IRN comes from a second
    // taxpayer with its own API user.
    let generated = w.gsp.generate(&session, &invoice("M/2")).await;
    let irn = generated.data["Irn"].as_str().unwrap().to_string();
    let tg_token = w
        .portal
        .register_taxpayer("36AMBPG7773M002", "9000000006", "tgtraders1", "Portal@123")
        .await;
    let (status, _) = w
        .portal
        .create_api_user(
            &tg_token,
            "9000000006",
            &w.gsp.client_id,
            "tgapiuser1",
            "Api@12345",
        )
        .await;
    assert_eq!(status, 200);
    let tg = w
        .gsp
        .auth_v104("36AMBPG7773M002", "tgapiuser1", "Api@12345", false)
        .await
        .unwrap();
    assert_eq!(
        w.gsp.cancel(&tg, &irn, "1", "not mine").await.codes(),
        ["2143"]
    );
    assert_eq!(
        w.gsp
            .get(&format!("/eicore/v1.03/Invoice/irn/{irn}"), &tg)
            .await
            .codes(),
        ["2143"]
    );

    // Dummy GSTINs for the GSP, and an API user for one.
    let (status, dummy) = w.portal.post("/portal/clients/dummy-gstins", None, &json!({"client_id": w.gsp.client_id, "client_secret": w.gsp.client_secret, "state_code": "29"})).await;
    assert_eq!(status, 200);
    let dummy = dummy["gstin"].as_str().unwrap().to_string();
    assert_eq!(dummy, format!("29{DEMO_GSP_PAN}001"));
    let (status, _) = w
        .portal
        .post("/portal/clients/api-users", None, &json!({"client_id": w.gsp.client_id, "client_secret": w.gsp.client_secret, "gstin": dummy, "username": "gspdummy01", "password": "Dummy@123"}))
        .await;
    assert_eq!(status, 200);
    w.gsp
        .auth_v104(&dummy, "gspdummy01", "Dummy@123", false)
        .await
        .unwrap();

    // Password rule 3003, user id rules, OTP limits, sub-users 3010 and 3007.
    let (status, weak) = w
        .portal
        .post(
            "/portal/register/send-otp",
            None,
            &json!({"gstin": "29AAFCD5862R000", "mobile": "9000000001"}),
        )
        .await;
    assert_eq!(status, 200);
    let otp = w.portal.last_otp("9000000001").await;
    for _ in 0..3 {
        let (status, _) = w
            .portal
            .post(
                "/portal/register/verify-otp",
                None,
                &json!({"request_id": weak["request_id"], "otp": "000000x"}),
            )
            .await;
        assert_eq!(status, 422);
    }
    let (status, locked) = w
        .portal
        .post(
            "/portal/register/verify-otp",
            None,
            &json!({"request_id": weak["request_id"], "otp": otp}),
        )
        .await;
    assert_eq!(
        (status, locked["error"]["code"].as_str()),
        (422, Some("otp_attempts"))
    );
    let (_, started) = w
        .portal
        .post(
            "/portal/register/send-otp",
            None,
            &json!({"gstin": "29AAFCD5862R000", "mobile": "9000000001"}),
        )
        .await;
    let otp = w.portal.last_otp("9000000001").await;
    w.portal
        .post(
            "/portal/register/verify-otp",
            None,
            &json!({"request_id": started["request_id"], "otp": otp}),
        )
        .await;
    let (status, weak_password) = w.portal.post("/portal/register/create-user", None, &json!({"request_id": started["request_id"], "user_id": "demokarna1", "password": "password"})).await;
    assert_eq!(
        (status, weak_password["error"]["code"].as_str()),
        (422, Some("3003"))
    );
    let (status, taken) = w.portal.post("/portal/register/create-user", None, &json!({"request_id": started["request_id"], "user_id": "hptraders1", "password": "Portal@123"})).await;
    assert_eq!(
        (status, taken["error"]["code"].as_str()),
        (409, Some("user_id_taken"))
    );
    let (status, long) = w
        .portal
        .post(
            "/portal/sub-users",
            Some(&w.taxpayer_token),
            &json!({"suffix": "toolong", "password": "Sub@12345"}),
        )
        .await;
    assert_eq!(
        (status, long["error"]["code"].as_str()),
        (422, Some("3010"))
    );
    for i in 0..10 {
        let (status, _) = w
            .portal
            .post(
                "/portal/sub-users",
                Some(&w.taxpayer_token),
                &json!({"suffix": format!("s{i}"), "password": "Sub@12345"}),
            )
            .await;
        assert_eq!(status, 200);
    }
    let (status, limit) = w
        .portal
        .post(
            "/portal/sub-users",
            Some(&w.taxpayer_token),
            &json!({"suffix": "s10", "password": "Sub@12345"}),
        )
        .await;
    assert_eq!(
        (status, limit["error"]["code"].as_str()),
        (422, Some("3007"))
    );
    let (status, bad_body) = w
        .portal
        .post("/portal/login", None, &json!({"user": "x"}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(bad_body["success"], false);
    // OTPs expire after five minutes.
    let (_, started) = w
        .portal
        .post(
            "/portal/api-users/send-otp",
            Some(&w.taxpayer_token),
            &json!({}),
        )
        .await;
    let otp = w.portal.last_otp(HP_MOBILE).await;
    control(&w, "/sandbox/clock", json!({"advance_secs": 6 * 60})).await;
    let (status, expired) = w
        .portal
        .post("/portal/api-users", Some(&w.taxpayer_token), &json!({"request_id": started["request_id"], "otp": otp, "mode": "GSP", "gsp_client_id": w.gsp.client_id, "username": "lateuser01", "password": "Late@1234"}))
        .await;
    assert_eq!(
        (status, expired["error"]["code"].as_str()),
        (422, Some("otp_expired"))
    );
    let doc = w.portal.get("/portal/openapi.json", None).await.1;
    assert!(doc["paths"]["/portal/api-users"]["post"].is_object());
}
