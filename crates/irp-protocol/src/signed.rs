//! What the IRP signs as a SignedInvoice's `data` (`nic-irp-api.md` §7 and §15): `AckNo`,
//! `AckDt` and `Irn`, then the invoice in schema order whatever order the request used,
//! without nulls or unknown keys, with `DocDtls.Typ` in upper case and `ItemNo` at the head of
//! every item. Numbers are written as they were sent (the workspace's `serde_json` keeps
//! their text), so `6000.00` stays `6000.00`.

use serde_json::{json, Map, Value};

use crate::schema::{in_schema_order, INVOICE};

/// The invoice as NIC normalises it before computing the IRN and signing: schema order, no
/// nulls or unknown keys, `DocDtls.Typ` in upper case. Keys must already be in NIC's casing.
pub fn normalised(invoice: &Map<String, Value>) -> Map<String, Value> {
    let mut doc = in_schema_order(INVOICE, invoice);
    if let Some(Value::Object(doc_dtls)) = doc.get_mut("DocDtls") {
        if let Some(Value::String(typ)) = doc_dtls.get_mut("Typ") {
            *typ = typ.to_ascii_uppercase();
        }
    }
    if let Some(Value::Array(items)) = doc.get_mut("ItemList") {
        for item in items.iter_mut() {
            if let Value::Object(fields) = item {
                if !fields.contains_key("ItemNo") {
                    let mut with_no = Map::with_capacity(fields.len() + 1);
                    with_no.insert("ItemNo".into(), json!(0));
                    with_no.append(fields);
                    *fields = with_no;
                }
            }
        }
    }
    doc
}

/// The SignedInvoice `data` of a [`normalised`] invoice.
pub fn signed_invoice_data(
    normalised: Map<String, Value>,
    ack_no: i64,
    ack_dt: &str,
    irn: &str,
) -> Value {
    let mut signed = Map::with_capacity(normalised.len() + 3);
    signed.insert("AckNo".into(), json!(ack_no));
    signed.insert("AckDt".into(), json!(ack_dt));
    signed.insert("Irn".into(), json!(irn));
    signed.extend(normalised);
    Value::Object(signed)
}
