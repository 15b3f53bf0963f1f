//! E-way bills by IRN, driven through `irp-client`: generate IRN → e-way bill by IRN → 4002 on
//! a repeat → cancel IRN refused with 2230 → cancel the bill (the e-way bill system's API) →
//! cancel IRN succeeds. Then `EwbDtls` inside generate: a bill in the same answer, EWBERR
//! (4019, as in the real vector), EWBPPD with the distance from the PIN master; and the checks.

use irp_client::{IrpClient, IrpConfig};
use irp_protocol::crypto::RsaPublicKey;
use irp_protocol::ewb::CancelEwb;
use irp_sandbox::Profile;
use secrecy::SecretString;
use serde_json::{json, Value};

use crate::story::{invoice, world, World, HP_GSTIN};

async fn client(w: &World) -> (IrpClient, irp_client::Session) {
    let pem = reqwest::get(format!("{}/keys/encryption-public-key.pem", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let client = IrpClient::new(IrpConfig {
        base_url: w.base.clone(),
        public_key: RsaPublicKey::from_pem(&pem).unwrap(),
        client_id: w.gsp.client_id.clone(),
        client_secret: SecretString::from(w.gsp.client_secret.clone()),
        connect_timeout: std::time::Duration::from_secs(5),
        request_timeout: std::time::Duration::from_secs(30),
        max_connections: 64,
    })
    .unwrap();
    let session = client
        .authenticate(
            HP_GSTIN,
            "hpapiuser1",
            &SecretString::from("Api@12345".to_string()),
            false,
        )
        .await
        .unwrap();
    (client, session)
}

/// The vector's goods invoice, with a Shimla PIN for the seller (the vector's is not an India
/// Post PIN) so that distances can be computed.
fn goods(doc_no: &str) -> Value {
    let mut doc = invoice(doc_no);
    doc["SellerDtls"]["Pin"] = json!(171001);
    doc
}

fn road_request(irn: &str) -> Value {
    json!({"Irn": irn, "Distance": 850, "TransMode": "1", "TransId": "29AAFCD5862R1ZX",
        "TransName": "Fast Movers", "VehNo": "HP01AB1234", "VehType": "R"})
}

async fn counters(w: &World) -> Value {
    reqwest::get(format!("{}/sandbox/counters", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn ewaybill_story_from_irn_to_cancellation() {
    let w = world(Profile::Sandbox).await;
    let (irp, session) = client(&w).await;
    let generated = irp.generate(&session, &goods("EWB/0001")).await.unwrap();
    let irn = generated["Irn"].as_str().unwrap().to_string();
    assert!(generated["EwbNo"].is_null());

    // An e-way bill by IRN, by road: 12 digits, valid by NIC's rule (one day per 200 km).
    let request = road_request(&irn);
    let (bill, info) = irp.generate_ewb(&session, &request).await.unwrap();
    assert_eq!(bill.ewb_no.to_string().len(), 12);
    assert!(info.is_empty(), "the distance was given");
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let generated_at = time::PrimitiveDateTime::parse(&bill.ewb_dt, &format).unwrap();
    let valid_till =
        time::PrimitiveDateTime::parse(bill.ewb_valid_till.as_deref().unwrap(), &format).unwrap();
    assert_eq!(
        valid_till.date(),
        generated_at.date() + time::Duration::days(5)
    );
    assert_eq!((valid_till.hour(), valid_till.minute()), (23, 59));

    // Get-by-IRN of the e-invoice carries the bill; get-EWB-by-IRN too.
    let einvoice = irp.get_by_irn(&session, &irn).await.unwrap();
    assert_eq!(einvoice["EwbNo"], json!(bill.ewb_no));
    assert_eq!(einvoice["EwbValidTill"], json!(bill.ewb_valid_till));
    let doc = goods("EWB/0001");
    let by_doc = irp
        .get_by_document(
            &session,
            "INV",
            "EWB/0001",
            doc["DocDtls"]["Dt"].as_str().unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(by_doc["EwbNo"], json!(bill.ewb_no));
    let fetched = irp.get_ewb_by_irn(&session, &irn).await.unwrap();
    assert_eq!(fetched["EwbNo"], json!(bill.ewb_no));
    assert_eq!(fetched["Status"], "ACT");

    // A second bill for the same IRN: 4002. The IRN cannot be cancelled while it is active: 2230.
    let again = irp.generate_ewb(&session, &request).await.unwrap_err();
    assert_eq!(again.codes(), ["4002"]);
    let refused = irp
        .cancel(&session, &irn, "1", "Duplicate")
        .await
        .unwrap_err();
    assert_eq!(refused.codes(), ["2230"]);

    // Cancel the bill through the e-way bill system's API, then the IRN.
    let cancelled = irp
        .cancel_ewb(
            &session,
            &CancelEwb {
                ewb_no: bill.ewb_no,
                cancel_rsn_code: 3,
                cancel_rmrk: "Data Entry Mistake".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(cancelled.eway_bill_no, bill.ewb_no.to_string());
    assert!(cancelled.cancel_date.ends_with("AM") || cancelled.cancel_date.ends_with("PM"));
    let twice = irp
        .cancel_ewb(
            &session,
            &CancelEwb {
                ewb_no: bill.ewb_no,
                cancel_rsn_code: 3,
                cancel_rmrk: "again".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(twice.codes(), ["312"]);
    assert!(irp.get_by_irn(&session, &irn).await.unwrap()["EwbNo"].is_null());
    assert_eq!(
        irp.get_ewb_by_irn(&session, &irn).await.unwrap()["Status"],
        "CNL"
    );
    let done = irp.cancel(&session, &irn, "1", "Duplicate").await.unwrap();
    assert_eq!(done["Irn"], json!(irn));
    // A cancelled IRN gets no bill: 2302.
    let inactive = irp.generate_ewb(&session, &request).await.unwrap_err();
    assert_eq!(inactive.codes(), ["2302"]);

    // The taxpayer sees its bills on the portal: the JSON list and the page.
    let listed: Value = w
        .portal
        .http
        .get(format!("{}/portal/ewaybills", w.base))
        .bearer_auth(&w.taxpayer_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listed["ewaybills"][0]["ewb_no"],
        json!(bill.ewb_no),
        "{listed}"
    );
    assert_eq!(listed["ewaybills"][0]["status"], "CNL");
    let page = w
        .portal
        .http
        .get(format!("{}/portal/ui/ewaybills", w.base))
        .header("cookie", format!("irp_portal={}", w.taxpayer_token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("data-ewb=\"{}\"", bill.ewb_no)),
        "{page}"
    );
    assert!(page.contains("Cancelled"));

    // A bill can be cancelled within 24 hours of its generation only: 315 after.
    let irn = irp.generate(&session, &goods("EWB/0002")).await.unwrap()["Irn"]
        .as_str()
        .unwrap()
        .to_string();
    let (late, _) = irp
        .generate_ewb(&session, &road_request(&irn))
        .await
        .unwrap();
    let moved = reqwest::Client::new()
        .post(format!("{}/sandbox/clock", w.base))
        .json(&json!({"advance_secs": 25 * 3600}))
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
    let session = irp
        .authenticate(
            HP_GSTIN,
            "hpapiuser1",
            &SecretString::from("Api@12345".to_string()),
            true,
        )
        .await
        .unwrap();
    let too_late = irp
        .cancel_ewb(
            &session,
            &CancelEwb {
                ewb_no: late.ewb_no,
                cancel_rsn_code: 4,
                cancel_rmrk: "Others".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(too_late.codes(), ["315"]);

    let c = counters(&w).await;
    assert_eq!(c["ewbs_generated"], 2, "{c}");
    assert_eq!(c["ewb_cancellations"], 1, "{c}");
}

#[tokio::test]
async fn ewb_details_inside_generate() {
    let w = world(Profile::Sandbox).await;
    let (irp, session) = client(&w).await;

    // A valid part: the bill comes in the same answer.
    let mut doc = goods("EWB/0101");
    doc["EwbDtls"] =
        json!({"Distance": 1500, "TransMode": "1", "VehNo": "HP01AB1234", "VehType": "R"});
    let answer = irp.generate_with_info(&session, &doc).await.unwrap();
    assert_eq!(
        answer.data["EwbNo"].to_string().len(),
        12,
        "{}",
        answer.data
    );
    assert!(answer.data["EwbValidTill"].is_string());
    assert!(answer.info.is_empty());

    // No transporter and no vehicle: the IRN stands, the bill fails with 4019 in EWBERR,
    // exactly as in generate-irn-success-ewb-error-in-info.json.
    let mut doc = goods("EWB/0102");
    doc["EwbDtls"] = json!({"Distance": 0});
    let answer = irp.generate_with_info(&session, &doc).await.unwrap();
    assert!(answer.data["Irn"].is_string());
    assert!(answer.data["EwbNo"].is_null());
    assert_eq!(answer.info[0].inf_cd, "EWBERR");
    let real = crate::vector("nic-responses/generate-irn-success-ewb-error-in-info.json");
    assert_eq!(answer.info[0].desc, real["response"]["info"][0]["Desc"]);

    // Distance 0 with a transporter: NIC computes the PIN-to-PIN distance (Shimla 171001 to
    // Hyderabad 500055 from the PIN master) and says so in EWBPPD; validity follows it.
    let mut doc = goods("EWB/0103");
    doc["EwbDtls"] = json!({"Distance": 0, "TransId": "29AAFCD5862R1ZX", "TransName": "Fast Movers", "TransMode": "1", "VehNo": "HP01AB1234"});
    let answer = irp.generate_with_info(&session, &doc).await.unwrap();
    assert_eq!(answer.info[0].inf_cd, "EWBPPD", "{:?}", answer.info);
    let text = answer.info[0].desc.as_str().unwrap();
    let km: u32 = text
        .trim_start_matches("Pin-Pin calc distance: ")
        .trim_end_matches("KM")
        .parse()
        .unwrap();
    let expected = w.sandbox.masters.pins.distance_km(171001, 500055).unwrap();
    assert_eq!(km, expected);
    assert!((1800..2400).contains(&km), "{km}");
    assert!(answer.data["EwbNo"].is_number());

    // A distance far above the PIN-to-PIN one: 4038; out of range: 4013; road without a
    // vehicle: 4011. The IRN is generated each time.
    for (n, part, code) in [
        (
            4,
            json!({"Distance": 3900, "TransId": "29AAFCD5862R1ZX"}),
            "4038",
        ),
        (
            5,
            json!({"Distance": 4500, "TransId": "29AAFCD5862R1ZX"}),
            "4013",
        ),
        (6, json!({"Distance": 100, "TransMode": "1"}), "4011"),
    ] {
        let mut doc = goods(&format!("EWB/010{n}"));
        doc["EwbDtls"] = part;
        let answer = irp.generate_with_info(&session, &doc).await.unwrap();
        assert!(answer.data["Irn"].is_string());
        assert_eq!(answer.info[0].inf_cd, "EWBERR");
        assert_eq!(
            answer.info[0].desc[0]["ErrorCode"], code,
            "{:?}",
            answer.info
        );
    }

    // Services only: 4009. A credit note: 4010.
    let mut services = goods("EWB/0107");
    services["ItemList"][0]["HsnCd"] = json!("998311");
    services["ItemList"][0]["IsServc"] = json!("Y");
    let generated = irp.generate(&session, &services).await.unwrap();
    let request = json!({"Irn": generated["Irn"], "Distance": 100, "TransId": "29AAFCD5862R1ZX"});
    assert_eq!(
        irp.generate_ewb(&session, &request)
            .await
            .unwrap_err()
            .codes(),
        ["4009"]
    );
}
