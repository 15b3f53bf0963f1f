//! The rows of the documents the gateway registered: an e-invoice's metadata (its signed
//! outputs only while an opt-in retention lasts), and its e-way bill.

use gst_core::Gstin;

use super::EinvoiceStatus;
use crate::clock::Timestamp;
use crate::ids::{AccountId, OwnerId};

/// What the gateway keeps of an e-invoice: metadata, and the signed outputs only while an
/// opt-in retention lasts.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EinvoiceRecord {
    /// The IRN.
    pub irn: String,
    /// The account.
    pub account_id: AccountId,
    /// The owner it was generated for.
    pub owner_id: OwnerId,
    /// Seller GSTIN.
    pub gstin: Gstin,
    /// INV, CRN or DBN.
    pub doc_type: String,
    /// Document number.
    pub doc_no: String,
    /// dd/mm/yyyy.
    pub doc_date: String,
    /// Acknowledgement number.
    pub ack_no: i64,
    /// Acknowledgement date, NIC format.
    pub ack_dt: String,
    /// Active or cancelled.
    #[sqlx(try_from = "String")]
    pub status: EinvoiceStatus,
    /// SHA-256 of the request document.
    pub request_hash: Vec<u8>,
    /// The signed invoice, while retained.
    pub signed_invoice: Option<String>,
    /// The signed QR code, while retained.
    pub signed_qr_code: Option<String>,
    /// Retention end (Unix ms).
    pub retain_until: Option<Timestamp>,
    /// When recorded.
    pub created_at: Timestamp,
    /// When cancelled.
    pub cancelled_at: Option<Timestamp>,
    /// The e-way bill's number, once one was raised.
    pub ewb_no: Option<i64>,
    /// When the e-way bill was generated, NIC format.
    pub ewb_dt: Option<String>,
    /// Until when it is valid (none for Part A only), NIC format.
    pub ewb_valid_till: Option<String>,
    /// When the e-way bill was cancelled.
    pub ewb_cancelled_at: Option<Timestamp>,
    /// The IRP that generated it (`None`: the first, for records from before several IRPs).
    pub irp: Option<String>,
}

impl EinvoiceRecord {
    /// The e-way bill, while it is active.
    pub fn active_ewb(&self) -> Option<EwbFields> {
        match (self.ewb_no, &self.ewb_dt, self.ewb_cancelled_at) {
            (Some(ewb_no), Some(ewb_dt), None) => Some(EwbFields {
                ewb_no,
                ewb_dt: ewb_dt.clone(),
                ewb_valid_till: self.ewb_valid_till.clone(),
            }),
            _ => None,
        }
    }
}

/// An e-way bill as the IRP answered it: `EwbNo`, `EwbDt`, `EwbValidTill`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EwbFields {
    /// 12-digit number.
    pub ewb_no: i64,
    /// When generated, NIC format.
    pub ewb_dt: String,
    /// Valid until (none for Part A only).
    pub ewb_valid_till: Option<String>,
}

impl EwbFields {
    /// The fields of an IRP answer (`EwbNo`… of generate IRN, get by IRN or generate EWB), when
    /// it carries an e-way bill.
    pub fn from_answer(data: &serde_json::Value) -> Option<Self> {
        Some(EwbFields {
            ewb_no: data.get("EwbNo").and_then(serde_json::Value::as_i64)?,
            ewb_dt: data
                .get("EwbDt")
                .and_then(serde_json::Value::as_str)?
                .to_string(),
            ewb_valid_till: data
                .get("EwbValidTill")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
        })
    }
}
