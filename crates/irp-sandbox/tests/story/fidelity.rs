//! What NIC signs and rejects, over HTTP (issue "IRP sandbox fidelity"): the signed invoice is
//! the request in schema order without nulls or unknown keys, numbers as sent; master data
//! (units) and the GSTIN master (3028 for an unknown buyer) are checked; and a taxpayer whose
//! turnover the master flags at 10 crore or more must report within 30 days (2305).

use irp_protocol::keys::canonicalize;
use irp_protocol::signed::{normalised, signed_invoice_data};
use irp_sandbox::Profile;
use serde_json::{json, Map, Value};

use crate::client::Session;
use crate::story::{invoice, world, World, HP_GSTIN};

async fn hp_session(w: &World) -> Session {
    w.gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap()
}

/// Every object's keys reversed, with a null and an unknown key.
fn scrambled(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            out.insert("Unknown".into(), json!(1));
            for (key, inner) in map.iter().rev() {
                out.insert(key.clone(), scrambled(inner));
            }
            out.insert("Nothing".into(), Value::Null);
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(scrambled).collect()),
        other => other.clone(),
    }
}

/// The top-level keys of the story invoice's signed data, in NIC's order.
pub(crate) fn assert_signed_in_schema_order(data: &Value) {
    let keys: Vec<&String> = data.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "AckNo",
            "AckDt",
            "Irn",
            "Version",
            "TranDtls",
            "DocDtls",
            "SellerDtls",
            "BuyerDtls",
            "ItemList",
            "ValDtls",
            "PayDtls"
        ]
    );
}

/// Evidence: `signed-jwts.json`, where NIC re-ordered an Odoo request (`data_key_order`).
#[tokio::test]
async fn the_signed_invoice_is_the_request_in_schema_order() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let doc = invoice("ORD/0001");
    let generated = w.gsp.generate(&hp, &scrambled(&doc)).await;
    assert!(generated.envelope.is_success(), "{:?}", generated.envelope);
    let signed =
        irp_protocol::jwt::decode(generated.data["SignedInvoice"].as_str().unwrap()).unwrap();
    let expected = signed_invoice_data(
        normalised(canonicalize(doc).as_object().unwrap()),
        generated.data["AckNo"].as_i64().unwrap(),
        generated.data["AckDt"].as_str().unwrap(),
        generated.data["Irn"].as_str().unwrap(),
    );
    assert_eq!(signed.data.to_string(), expected.to_string());
    assert_signed_in_schema_order(&signed.data);
    let text = signed.data.to_string();
    assert!(
        !text.contains("Unknown") && !text.contains("Nothing"),
        "{text}"
    );
    // The numbers as the request wrote them (`ic-sandbox-2023-b2b-goods-igst.json`).
    assert!(text.contains(r#""UnitPrice":1200.0,"#), "{text}");
    assert!(text.contains(r#""Discount":0,"#), "{text}");
}

#[tokio::test]
async fn master_data_and_the_gstin_master_are_checked() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let mut bad_unit = invoice("MST/0001");
    bad_unit["ItemList"][0]["Unit"] = json!("PIECE");
    let refused = w.gsp.generate(&hp, &bad_unit).await;
    assert_eq!(refused.codes(), ["2177"]);
    assert_eq!(
        refused.envelope.error_details.as_ref().unwrap()[0].error_message,
        "Invalid Unit Code(s)-PIECE"
    );

    // A buyer the IRP's master does not hold: 3028, naming it.
    let mut unknown_buyer = invoice("MST/0002");
    unknown_buyer["BuyerDtls"]["Gstin"] = json!("36AAAAA0000A1Z5");
    let refused = w.gsp.generate(&hp, &unknown_buyer).await;
    assert_eq!(refused.codes(), ["3028"]);
    assert!(
        refused.envelope.error_details.as_ref().unwrap()[0]
            .error_message
            .contains("36AAAAA0000A1Z5"),
        "{:?}",
        refused.envelope
    );
}

/// Evidence: the 30-day rule for AATO of 10 crore and above from 1 April 2025
/// (`nic-irp-api.md` §8, advisory); its error code 2305 is UNVERIFIED (§14, question 5).
#[tokio::test]
async fn large_taxpayers_must_report_within_30_days() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let flag = |crore: Value| {
        reqwest::Client::new()
            .post(format!("{}/sandbox/faults", w.base))
            .json(&json!({"kind": "set_aato", "gstin": HP_GSTIN, "status": crore}))
            .send()
    };
    assert_eq!(flag(json!(25)).await.unwrap().status(), 200);
    // The vector's document is dated 02/10/2023.
    let refused = w.gsp.generate(&hp, &invoice("LATE/0001")).await;
    assert_eq!(refused.codes(), ["2305"]);
    // A document of today passes.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+5:30))
        .date();
    let mut fresh = invoice("LATE/0002");
    fresh["DocDtls"]["Dt"] = json!(format!(
        "{:02}/{:02}/{}",
        today.day(),
        u8::from(today.month()),
        today.year()
    ));
    let accepted = w.gsp.generate(&hp, &fresh).await;
    assert!(accepted.envelope.is_success(), "{:?}", accepted.envelope);
    // Under 10 crore, old documents are accepted again.
    assert_eq!(flag(json!(5)).await.unwrap().status(), 200);
    let accepted = w.gsp.generate(&hp, &invoice("LATE/0001")).await;
    assert!(accepted.envelope.is_success(), "{:?}", accepted.envelope);
}
