//! E-invoices to look at: the document as the IRP registered it, with its acknowledgement and
//! `SignedQRCode`, for the PDF download and the console's detail page. Found as `get` finds
//! them: the retained signed output, else the IRP's answer.

use serde_json::Value;

use super::einvoice::{self, DocumentStatus};
use super::{Actor, FieldError, ServiceError};
use crate::ids::OwnerId;
use crate::render::printed::{shown, PrintedEinvoice};
use crate::state::AppState;

/// A registered e-invoice, as the IRP signed it.
#[derive(Debug, Clone)]
pub struct RegisteredEinvoice {
    /// The IRN.
    pub irn: String,
    /// The IRP's acknowledgement number.
    pub ack_no: String,
    /// The IRP's acknowledgement date and time.
    pub ack_dt: String,
    /// Whether the IRN is cancelled.
    pub cancelled: bool,
    /// The IRP's `SignedQRCode` (a JWT; the QR code carries it as it is).
    pub signed_qr_code: String,
    /// The document as the IRP signed it.
    pub document: Value,
}

impl RegisteredEinvoice {
    /// What the PDF prints.
    pub fn printed(&self) -> PrintedEinvoice<'_> {
        PrintedEinvoice {
            irn: &self.irn,
            ack_no: self.ack_no.clone(),
            ack_dt: self.ack_dt.clone(),
            cancelled: self.cancelled,
            signed_qr_code: &self.signed_qr_code,
            document: &self.document,
        }
    }
}

/// The registered e-invoice of an IRN, or why there is none to show.
pub async fn registered(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    irn: &str,
) -> Result<RegisteredEinvoice, ServiceError> {
    let outcome = einvoice::get(state, actor, owner_id, gstin, irn).await;
    let found = outcome.errors.is_empty()
        && matches!(
            outcome.document_status,
            DocumentStatus::IrnGenerated | DocumentStatus::IrnCancelled
        );
    if let (true, Some(data), Some(document)) = (found, outcome.data, outcome.document) {
        let signed_qr_code = shown(data.get("SignedQRCode"));
        if !signed_qr_code.is_empty() {
            return Ok(RegisteredEinvoice {
                irn: irn.to_ascii_lowercase(),
                ack_no: shown(data.get("AckNo")),
                ack_dt: shown(data.get("AckDt")),
                cancelled: outcome.document_status == DocumentStatus::IrnCancelled,
                signed_qr_code,
                document: *document,
            });
        }
    }
    let why = outcome
        .errors
        .iter()
        .map(|e| format!("{} {}", e.code, e.message))
        .collect::<Vec<_>>()
        .join("; ");
    if outcome.errors.iter().any(|e| e.code == "IRP_UNAVAILABLE") {
        return Err(ServiceError::Unavailable {
            error: FieldError::new(
                "irp_unavailable",
                format!("the IRP is not answering, so the signed e-invoice {irn} cannot be fetched now; try again later"),
                "irns",
            ),
            retry_after_secs: 30,
        });
    }
    let retention = state.settings.retention_days;
    let message = if retention == 0 {
        format!("the signed e-invoice {irn} is not available: the IRP did not give it ({why}) and retention is off (retention_days = 0), so the gateway keeps no copy of signed invoices")
    } else {
        format!("the signed e-invoice {irn} is not available: the IRP did not give it ({why}) and the gateway has no copy kept within its {retention}-day retention")
    };
    Err(ServiceError::NotFound(FieldError::new(
        "einvoice_unavailable",
        message,
        "irns",
    )))
}
