//! What NIC signs and what NIC rejects, against the real vectors (`shared/reference/vectors/`):
//! the signed `data` of every real SignedInvoice is reproduced byte for byte from a request in
//! another key order, with nulls and unknown keys; and each master-data and arithmetic rule
//! rejects one fault with one error, while every invoice NIC signed passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use irp_protocol::keys::canonicalize;
use irp_protocol::masters::Masters;
use irp_protocol::signed::{normalised, signed_invoice_data};
use irp_protocol::validate::{validate_invoice, Rules, Violation};
use serde_json::{json, Map, Value};
use time::{Date, Month};

fn vector(name: &str) -> Value {
    let path = format!(
        "{}/../../../shared/reference/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
        .unwrap()
}

/// The same JSON with every object's keys in reverse order, a null and an unknown key added to
/// every object, and `ItemNo` taken out of items (NIC adds it).
fn scrambled(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            out.insert("UnknownKey".into(), json!("not in the schema"));
            for (key, inner) in map.iter().rev() {
                if key == "ItemNo" && inner == &json!(0) {
                    continue;
                }
                out.insert(key.clone(), scrambled(inner));
            }
            out.insert("NullField".into(), Value::Null);
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(scrambled).collect()),
        other => other.clone(),
    }
}

#[test]
fn signed_data_is_the_invoice_in_schema_order_with_numbers_as_sent() {
    let jwts = vector("signed-jwts.json");
    let mut checked = 0;
    for case in jwts["jwts"].as_array().unwrap() {
        if case["kind"] != "SignedInvoice" {
            continue;
        }
        let raw_text = case["payload_data_raw"].as_str().unwrap();
        let raw: Value = serde_json::from_str(raw_text).unwrap();
        let mut request = raw.as_object().unwrap().clone();
        let ack_no = request.shift_remove("AckNo").unwrap().as_i64().unwrap();
        let ack_dt = request
            .shift_remove("AckDt")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let irn = request
            .shift_remove("Irn")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        let mut request = scrambled(&Value::Object(request));
        // A request with "inv" is signed as "INV" (`nic-irp-api.md` §15).
        request["DocDtls"]["Typ"] = json!("inv");
        let request = canonicalize(request);
        let signed = signed_invoice_data(
            normalised(request.as_object().unwrap()),
            ack_no,
            &ack_dt,
            &irn,
        );
        let name = case["name"].as_str().unwrap();
        if name == "cleartax-sandbox-2020-signed-invoice" {
            // A schema 1.01 document: its BuyerDtls puts Stcd after Em, where the 1.1
            // documents of 2021-2023 put it after Pin. Every other key is in place.
            assert_eq!(signed, raw, "{name}");
            let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
            assert_eq!(keys(&signed), keys(&raw), "{name}");
            assert_eq!(keys(&signed["ItemList"][0]), keys(&raw["ItemList"][0]));
        } else {
            // Byte for byte, once the .NET escapes of "+" and "&" in the production
            // document are read as the characters.
            let expected = raw_text.replace("\\u002B", "+").replace("\\u0026", "&");
            assert_eq!(signed.to_string(), expected, "{name}");
        }
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn numbers_keep_their_text_to_the_paisa_and_beyond_f64() {
    let text = r#"{"TotInvVal":99999999999999.99,"AssVal":6000.00,"Qty":1.000,"CrDay":0}"#;
    let value: Value = serde_json::from_str(text).unwrap();
    assert_eq!(value.to_string(), text);
}

fn today() -> Date {
    Date::from_calendar_date(2026, Month::November, 21).unwrap()
}

/// The accepted 2021 sandbox invoice, then `change` applied; the violations with masters.
fn violations_after(change: impl FnOnce(&mut Value)) -> Vec<Violation> {
    let masters = Masters::load();
    let mut invoice = vector("invoices/egc-sandbox-2021-b2b-goods-igst.json")["invoice"].clone();
    change(&mut invoice);
    validate_invoice(
        &invoice,
        Rules {
            today: today(),
            strict_gstin: false,
            masters: Some(&masters),
        },
    )
}

/// A named change to the invoice and the one (code, path) it must cause.
type Case = (
    &'static str,
    Box<dyn FnOnce(&mut Value)>,
    (&'static str, &'static str),
);

fn codes(violations: &[Violation]) -> Vec<(&'static str, String)> {
    violations
        .iter()
        .map(|v| (v.code, v.path.clone()))
        .collect()
}

#[test]
fn master_data_rules_give_nics_codes_one_per_fault() {
    assert_eq!(codes(&violations_after(|_| {})), []);
    let cases: Vec<Case> = vec![
        (
            "unit not in the UQC list",
            Box::new(|i| i["ItemList"][0]["Unit"] = json!("PIECE")),
            ("2177", "ItemList[0].Unit"),
        ),
        (
            "HSN laid out well but not in the master",
            Box::new(|i| i["ItemList"][0]["HsnCd"] = json!("95069999")),
            ("2176", "ItemList[0].HsnCd"),
        ),
        (
            "buyer PIN in another state",
            Box::new(|i| i["BuyerDtls"]["Pin"] = json!(560001)),
            ("2178", "BuyerDtls.Pin"),
        ),
        (
            "PIN of no sorting district",
            Box::new(|i| i["SellerDtls"]["Pin"] = json!(100001)),
            ("3042", "SellerDtls.Pin"),
        ),
        (
            "goods line without quantity",
            Box::new(|i| {
                i["ItemList"][0].as_object_mut().unwrap().remove("Qty");
            }),
            ("2238", "ItemList[0].Qty"),
        ),
        (
            "goods line without unit",
            Box::new(|i| {
                i["ItemList"][0].as_object_mut().unwrap().remove("Unit");
            }),
            ("2239", "ItemList[0].Unit"),
        ),
        (
            "reverse charge on an export",
            Box::new(|i| {
                i["TranDtls"]["RegRev"] = json!("Y");
                i["TranDtls"]["SupTyp"] = json!("SEZWP");
            }),
            ("2162", "TranDtls.RegRev"),
        ),
        (
            "a payment block field too long",
            Box::new(|i| i["PayDtls"] = json!({"AccDet": "1234567890123456789"})),
            ("2140", "PayDtls.AccDet"),
        ),
        (
            "a preceding document with a bad date",
            Box::new(|i| {
                i["RefDtls"] = json!({"PrecDocDtls": [{"InvNo": "DOC/1", "InvDt": "2021-06-01"}]})
            }),
            ("2140", "RefDtls.PrecDocDtls[0].InvDt"),
        ),
        (
            "an export country code in lower case",
            Box::new(|i| i["ExpDtls"] = json!({"CntCode": "ae"})),
            ("2140", "ExpDtls.CntCode"),
        ),
        (
            "a unit too short (one schema error, not also 2239)",
            Box::new(|i| i["ItemList"][0]["Unit"] = json!("AB")),
            ("2140", "ItemList[0].Unit"),
        ),
        (
            "a seller GSTIN too short (one schema error, not also its layout)",
            Box::new(|i| i["SellerDtls"]["Gstin"] = json!("01AMBPG7773M00")),
            ("2140", "SellerDtls.Gstin"),
        ),
        (
            "a batch without its name",
            Box::new(|i| i["ItemList"][0]["BchDtls"] = json!({"ExpDt": "01/01/2030"})),
            ("2140", "ItemList[0].BchDtls.Nm"),
        ),
    ];
    for (name, change, (code, path)) in cases {
        let found = violations_after(change);
        assert_eq!(
            codes(&found),
            [(code, path.to_string())],
            "{name}: {found:?}"
        );
    }
}

#[test]
fn tax_must_match_the_rate_within_a_rupee_and_other_sums_too() {
    // IGST 18% of 600 is 108: 108.99 passes, 109.50 does not (one error: the line's
    // TotItemVal and the totals are moved with it).
    let with_igst = |igst: f64| {
        violations_after(move |i| {
            i["ItemList"][0]["IgstAmt"] = json!(igst);
            i["ItemList"][0]["TotItemVal"] = json!(600.0 + igst);
            i["ValDtls"]["IgstVal"] = json!(igst);
            i["ValDtls"]["TotInvVal"] = json!(600.0 + igst);
            i["ValDtls"]["TotInvValFc"] = json!(600.0 + igst);
        })
    };
    assert_eq!(codes(&with_igst(108.99)), []);
    assert_eq!(
        codes(&with_igst(109.5)),
        [("2234", "ItemList[0].IgstAmt".to_string())]
    );
    // An intra-state supply: CGST and SGST are half the rate each.
    let intra = |cgst: f64| {
        violations_after(move |i| {
            i["BuyerDtls"]["Pos"] = json!("01");
            let item = &mut i["ItemList"][0];
            item["IgstAmt"] = json!(0);
            item["CgstAmt"] = json!(cgst);
            item["SgstAmt"] = json!(cgst);
            item["TotItemVal"] = json!(600.0 + 2.0 * cgst);
            i["ValDtls"]["IgstVal"] = json!(0);
            i["ValDtls"]["CgstVal"] = json!(cgst);
            i["ValDtls"]["SgstVal"] = json!(cgst);
            i["ValDtls"]["TotInvVal"] = json!(600.0 + 2.0 * cgst);
            i["ValDtls"]["TotInvValFc"] = json!(600.0 + 2.0 * cgst);
        })
    };
    assert_eq!(codes(&intra(54.0)), []);
    assert_eq!(
        codes(&intra(60.0)),
        [("2235", "ItemList[0].CgstAmt".to_string())]
    );
    // Exports without payment carry a rate and no tax.
    let export = violations_after(|i| {
        i["TranDtls"]["SupTyp"] = json!("SEZWOP");
        i["ItemList"][0]["IgstAmt"] = json!(0);
        i["ItemList"][0]["TotItemVal"] = json!(600.0);
        i["ValDtls"]["IgstVal"] = json!(0);
        i["ValDtls"]["TotInvVal"] = json!(600.0);
        i["ValDtls"]["TotInvValFc"] = json!(600.0);
    });
    assert_eq!(codes(&export), []);
    // TotInvVal keeps NIC's one-rupee window (2189), with NIC's wording.
    let total = violations_after(|i| i["ValDtls"]["TotInvVal"] = json!(709.5));
    assert_eq!(codes(&total), [("2189", "ValDtls.TotInvVal".to_string())]);
    assert_eq!(total[0].message, "Invalid total invoice value");
}
