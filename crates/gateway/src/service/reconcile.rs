//! What the IRP already holds, checked before it is trusted: the signed invoice and QR code
//! verified against the IRP's certificate, an existing e-invoice fetched by document and
//! accepted only when it is the same document (seller, buyer, total).

use irp_client::{IrpClient, IrpError, Session};
use serde_json::{json, Value};

use super::outcome::{DocumentStatus, ErrorSource, Outcome, OutcomeError};
use crate::irp::IrpContext;

/// Checks SignedInvoice and SignedQRCode against the IRP's certificate; returns the signed
/// invoice's data.
pub(super) fn verified_invoice(irp: &IrpContext, data: &Value) -> Result<Value, OutcomeError> {
    let signed = data
        .get("SignedInvoice")
        .and_then(Value::as_str)
        .unwrap_or("");
    let qr = data
        .get("SignedQRCode")
        .and_then(Value::as_str)
        .unwrap_or("");
    match &irp.signing_public_key {
        Some(key) => {
            let invoice = irp_protocol::jwt::verify(signed, key).map_err(|e| {
                OutcomeError::platform(
                    "SIGNATURE_INVALID",
                    format!("the signed invoice does not verify against the IRP certificate: {e}"),
                )
            })?;
            irp_protocol::jwt::verify(qr, key).map_err(|e| {
                OutcomeError::platform(
                    "SIGNATURE_INVALID",
                    format!("the signed QR code does not verify against the IRP certificate: {e}"),
                )
            })?;
            Ok(invoice.data)
        }
        None => irp_protocol::jwt::decode(signed)
            .map(|d| d.data)
            .map_err(|e| {
                OutcomeError::platform(
                    "SIGNATURE_INVALID",
                    format!("the signed invoice cannot be decoded: {e}"),
                )
            }),
    }
}

pub(super) fn text<'a>(doc: &'a Value, block: &str, field: &str) -> &'a str {
    doc.get(block)
        .and_then(|b| b.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn total(doc: &Value) -> f64 {
    doc.get("ValDtls")
        .and_then(|v| v.get("TotInvVal"))
        .and_then(Value::as_f64)
        .unwrap_or(f64::NAN)
}

/// Whether an existing e-invoice is the same document: seller, buyer and total (±1).
fn same_document(ours: &Value, theirs: &Value) -> bool {
    text(ours, "SellerDtls", "Gstin").eq_ignore_ascii_case(text(theirs, "SellerDtls", "Gstin"))
        && text(ours, "BuyerDtls", "Gstin").eq_ignore_ascii_case(text(theirs, "BuyerDtls", "Gstin"))
        && (total(ours) - total(theirs)).abs() <= 1.0
}

/// Fetches the e-invoice of a document by its type, number and date: `Ok(None)` when the IRP
/// has none (2154).
pub(super) async fn fetch_by_document(
    client: &IrpClient,
    session: &Session,
    doc: &Value,
) -> Result<Option<Value>, IrpError> {
    let result = client
        .get_by_document(
            session,
            &text(doc, "DocDtls", "Typ").to_ascii_uppercase(),
            text(doc, "DocDtls", "No"),
            text(doc, "DocDtls", "Dt"),
        )
        .await;
    match result {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.has_code("2154") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Accepts an existing e-invoice for our document if it is the same document.
pub(super) fn adopt_existing(
    irp: &IrpContext,
    doc: &Value,
    existing: Value,
) -> Result<Value, Outcome> {
    let theirs = verified_invoice(irp, &existing)
        .map_err(|e| Outcome::failed(DocumentStatus::NotCreated, vec![e]))?;
    if same_document(doc, &theirs) {
        Ok(existing)
    } else {
        // As NIC answers a duplicate: 2150 with the existing IRN in a DUPIRN entry; why the
        // gateway did not take it as ours goes in the extra `error_detail`.
        let mut outcome = Outcome::failed(
            DocumentStatus::NotCreated,
            vec![OutcomeError {
                code: "2150".into(),
                message: "Duplicate IRN".into(),
                source: ErrorSource::Govt,
                detail: Some("the IRP already has an e-invoice for this document number with a different buyer or total; use a new document number (or cancel the existing IRN)".into()),
            }],
        );
        outcome.info.push(json!({
            "InfCd": "DUPIRN",
            "Desc": {
                "AckNo": existing.get("AckNo").cloned().unwrap_or(Value::Null),
                "AckDt": existing.get("AckDt").cloned().unwrap_or(Value::Null),
                "Irn": existing.get("Irn").cloned().unwrap_or(Value::Null),
            },
        }));
        Err(outcome)
    }
}
