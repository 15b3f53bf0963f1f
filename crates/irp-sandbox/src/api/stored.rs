//! E-invoices as the sandbox stores them, found by IRN or by document, for the e-invoice and
//! e-way bill endpoints.

use axum::http::HeaderMap;
use irp_protocol::errors;

use super::header;
use crate::error::IrpFailure;
use crate::state::Sandbox;

/// An e-invoice as stored.
pub(crate) struct Stored {
    pub(crate) irn: String,
    pub(crate) gstin: String,
    pub(crate) ack_no: i64,
    pub(crate) ack_dt: String,
    pub(crate) signed_invoice: String,
    pub(crate) signed_qr_code: String,
    pub(crate) status: String,
    pub(crate) cancel_date: Option<String>,
    pub(crate) created_at: i64,
    /// The IRP that generated it.
    pub(crate) irp: String,
}

pub(crate) type StoredRow = (
    String,
    String,
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    String,
);

pub(crate) fn stored(row: StoredRow) -> Stored {
    Stored {
        irn: row.0,
        gstin: row.1,
        ack_no: row.2,
        ack_dt: row.3,
        signed_invoice: row.4,
        signed_qr_code: row.5,
        status: row.6,
        cancel_date: row.7,
        created_at: row.8,
        irp: row.9,
    }
}

pub(crate) const SELECT_STORED: &str = "SELECT irn, gstin, ack_no, ack_dt, signed_invoice, signed_qr_code, status, cancel_date, created_at, irp FROM einvoices";

/// The e-invoice of a document of a GSTIN in a financial year.
pub(crate) async fn find_by_doc(
    sandbox: &Sandbox,
    gstin: &str,
    fy: &str,
    doc_type: &str,
    doc_key: &str,
) -> Result<Option<Stored>, IrpFailure> {
    let row: Option<StoredRow> = sqlx::query_as(&format!("{SELECT_STORED} WHERE gstin = $1 AND financial_year = $2 AND doc_type = $3 AND doc_key = $4"))
        .bind(gstin)
        .bind(fy)
        .bind(doc_type)
        .bind(doc_key)
        .fetch_optional(&sandbox.pool)
        .await?;
    Ok(row.map(stored))
}

/// The e-invoice of an IRN, as this IRP holds it: one generated at the other IRP only when the
/// `irp` header names that IRP (NIC's criss-cross operations, `nic-irp-api.md` §3). Without
/// it the IRP does not find the IRN (2148 from the callers); that answer is UNVERIFIED.
pub(crate) async fn find_by_irn(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    irn: &str,
) -> Result<Option<Stored>, IrpFailure> {
    let row: Option<StoredRow> = sqlx::query_as(&format!("{SELECT_STORED} WHERE irn = $1"))
        .bind(irn.to_ascii_lowercase())
        .fetch_optional(&sandbox.pool)
        .await?;
    let named = header(headers, &["irp"]);
    Ok(row.map(stored).filter(|found| {
        found.irp == sandbox.irp() || named.is_some_and(|n| n.eq_ignore_ascii_case(&found.irp))
    }))
}

/// Whether a session's GSTIN may read a stored e-invoice: its supplier's, or the e-commerce
/// operator's that reported the supply for that supplier (`TranDtls.EcmGstin` of the signed
/// invoice). A `sup_gstin` header alone grants nothing.
pub(crate) fn readable_by(stored: &Stored, session_gstin: &str) -> bool {
    if stored.gstin == session_gstin {
        return true;
    }
    irp_protocol::jwt::decode(&stored.signed_invoice)
        .ok()
        .and_then(|signed| {
            signed
                .data
                .get("TranDtls")
                .and_then(|t| t.get("EcmGstin"))
                .and_then(serde_json::Value::as_str)
                .map(|ecm| ecm.eq_ignore_ascii_case(session_gstin))
        })
        .unwrap_or(false)
}

/// The e-invoice of an IRN as a session may read it (get by IRN, get e-way bill by IRN):
/// 2148 when the IRP does not hold it; 2143 when it is another supplier's and the session is
/// not the e-commerce operator that reported it, or when `sup_gstin` names another supplier.
pub(crate) async fn readable_by_irn(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    session_gstin: &str,
    irn: &str,
) -> Result<Stored, IrpFailure> {
    let found = find_by_irn(sandbox, headers, irn)
        .await?
        .ok_or(IrpFailure::code(errors::IRN_DATA_NOT_AVAILABLE, &[]))?;
    let supplier = header(headers, &["sup_gstin"]).map(|g| g.to_ascii_uppercase());
    if supplier.is_some_and(|s| s != found.gstin) || !readable_by(&found, session_gstin) {
        return Err(IrpFailure::code(errors::IRN_OF_OTHER_GSTIN, &[]));
    }
    Ok(found)
}
