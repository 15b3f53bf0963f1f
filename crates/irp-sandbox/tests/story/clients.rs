//! Real clients' flows as they write their requests (issue "IRP sandbox fidelity", proof):
//! Mittal-Analytics' gst_irn (Python `json.dumps` with its default `", "`/`": "` separators),
//! india-compliance (`sort_keys=True`, `indent=1`) and Odoo (upper-case `GSTIN` and `POS`
//! keys, which NIC reads in any case). Each generates, reads its IRN back and finds the signed
//! invoice in NIC's schema order and casing.

use irp_sandbox::Profile;
use serde_json::{json, Value};

use crate::client::Session;
use crate::fidelity::assert_signed_in_schema_order;
use crate::story::{invoice, world, World, HP_GSTIN};

async fn hp_session(w: &World) -> Session {
    w.gsp
        .auth_v104(HP_GSTIN, "hpapiuser1", "Api@12345", false)
        .await
        .unwrap()
}

/// JSON text as Python's `json.dumps` writes it: `", "` and `": "` without indentation, else
/// `","` at line ends and `indent` spaces per level; keys sorted when asked.
fn python_dumps(value: &Value, indent: Option<usize>, sort_keys: bool, level: usize) -> String {
    let pad = |level: usize| indent.map(|n| " ".repeat(n * level)).unwrap_or_default();
    let (open_sep, item_sep, close_sep) = match indent {
        Some(_) => (
            format!("\n{}", pad(level + 1)),
            format!(",\n{}", pad(level + 1)),
            format!("\n{}", pad(level)),
        ),
        None => (String::new(), ", ".to_string(), String::new()),
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if sort_keys {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            let body: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        Value::String(k.clone()),
                        python_dumps(v, indent, sort_keys, level + 1)
                    )
                })
                .collect();
            format!("{{{open_sep}{}{close_sep}}}", body.join(&item_sep))
        }
        Value::Array(items) if !items.is_empty() => {
            let body: Vec<String> = items
                .iter()
                .map(|v| python_dumps(v, indent, sort_keys, level + 1))
                .collect();
            format!("[{open_sep}{}{close_sep}]", body.join(&item_sep))
        }
        other => other.to_string(),
    }
}

/// Generates from the body text, reads the IRN back, and checks the signed invoice.
async fn generate_and_read_back(w: &World, session: &Session, body: &str) -> Value {
    let generated = w
        .gsp
        .post_encrypted_text("/eicore/v1.03/Invoice", session, body)
        .await;
    assert!(generated.envelope.is_success(), "{:?}", generated.envelope);
    let irn = generated.data["Irn"].as_str().unwrap().to_string();
    let fetched = w
        .gsp
        .get(&format!("/eicore/v1.03/Invoice/irn/{irn}"), session)
        .await;
    assert!(fetched.envelope.is_success(), "{:?}", fetched.envelope);
    assert_eq!(
        fetched.data["SignedInvoice"],
        generated.data["SignedInvoice"]
    );
    let signed =
        irp_protocol::jwt::decode(generated.data["SignedInvoice"].as_str().unwrap()).unwrap();
    assert_signed_in_schema_order(&signed.data);
    signed.data
}

#[tokio::test]
async fn gst_irn_writes_python_json_dumps_bodies() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let body = python_dumps(&invoice("GSTIRN/0001"), None, false, 0);
    assert!(body.contains("\"Version\": \"1.1\", "));
    let signed = generate_and_read_back(&w, &hp, &body).await;
    assert_eq!(signed["DocDtls"]["No"], "GSTIRN/0001");
}

#[tokio::test]
async fn india_compliance_writes_sorted_keys_with_indent_1() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let body = python_dumps(&invoice("IC/0001"), Some(1), true, 0);
    assert!(
        body.starts_with("{\n \"BuyerDtls\": {\n  \"Addr1\""),
        "{body}"
    );
    let signed = generate_and_read_back(&w, &hp, &body).await;
    let seller: Vec<&String> = signed["SellerDtls"].as_object().unwrap().keys().collect();
    assert_eq!(
        seller,
        ["Gstin", "LglNm", "TrdNm", "Addr1", "Loc", "Pin", "Stcd"]
    );
}

#[tokio::test]
async fn odoo_writes_gstin_and_pos_in_upper_case() {
    let w = world(Profile::Sandbox).await;
    let hp = hp_session(&w).await;
    let mut doc = invoice("ODOO/0001");
    for (block, keys) in [
        ("SellerDtls", &["Gstin"][..]),
        ("BuyerDtls", &["Gstin", "Pos"][..]),
    ] {
        let map = doc[block].as_object_mut().unwrap();
        for key in keys {
            let value = map.shift_remove(*key).unwrap();
            map.insert(key.to_ascii_uppercase(), value);
        }
    }
    assert_eq!(doc["BuyerDtls"]["POS"], json!("36"));
    let signed = generate_and_read_back(&w, &hp, &doc.to_string()).await;
    assert_eq!(signed["SellerDtls"]["Gstin"], HP_GSTIN);
    assert_eq!(signed["BuyerDtls"]["Pos"], "36");
    assert!(signed["BuyerDtls"].get("POS").is_none());
}
