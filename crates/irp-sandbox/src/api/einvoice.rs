//! E-invoices: generate (`POST /eicore/v1.03/Invoice`), get by IRN, get by document, cancel.
//! Payloads travel AES-256-ECB-encrypted under the session key.

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use irp_protocol::envelope::{Envelope, ErrorDetail, InfoDetail};
use irp_protocol::errors;
use irp_protocol::irn::{compute_irn, financial_year, parse_doc_date};
use irp_protocol::signed::{normalised, signed_invoice_data};
use irp_protocol::validate::{validate_canonical, Rules};
use serde_json::{json, Map, Value};

use super::ewaybill::{ewb_fields, ewb_of, raise, EwbRow, NotRaised};
use super::stored::{find_by_doc, find_by_irn, readable_by, readable_by_irn, Stored};
use super::{apply_faults, decrypt_body, encrypted_success, header, respond, verify_session, Peer};
use crate::clock::{nic_datetime, parse_nic_datetime};
use crate::config::Profile;
use crate::error::IrpFailure;
use crate::state::{Sandbox, LATE_REPORTING_AATO_CRORE, LATE_REPORTING_DAYS};
use crate::writer::NewEinvoice;

const HOUR_MS: i64 = 3600 * 1000;

/// The answer's fields for an e-invoice and its active e-way bill, if any.
fn einvoice_data(s: &Stored, ewb: Option<&EwbRow>) -> Value {
    let mut data = json!({
        "AckNo": s.ack_no,
        "AckDt": s.ack_dt,
        "Irn": s.irn,
        "SignedInvoice": s.signed_invoice,
        "SignedQRCode": s.signed_qr_code,
        "Status": s.status,
        "EwbNo": null,
        "EwbDt": null,
        "EwbValidTill": null,
        "Remarks": null,
    });
    for (key, value) in ewb_fields(ewb) {
        data[key] = value;
    }
    data
}

/// The SignedQRCode payload: exactly NIC's keys, in NIC's order.
fn qr_data(invoice: &Map<String, Value>, irn: &str, ack_dt: &str) -> Value {
    let get = |a: &str, b: &str| {
        invoice
            .get(a)
            .and_then(|v| v.get(b))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let items = invoice
        .get("ItemList")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let main_hsn = items
        .iter()
        .max_by(|a, b| {
            let v = |i: &Value| i.get("AssAmt").and_then(Value::as_f64).unwrap_or(0.0);
            v(a).total_cmp(&v(b))
        })
        .and_then(|i| i.get("HsnCd").cloned())
        .unwrap_or(Value::Null);
    let mut data = Map::new();
    data.insert("SellerGstin".into(), get("SellerDtls", "Gstin"));
    data.insert("BuyerGstin".into(), get("BuyerDtls", "Gstin"));
    data.insert("DocNo".into(), get("DocDtls", "No"));
    data.insert("DocTyp".into(), get("DocDtls", "Typ"));
    data.insert("DocDt".into(), get("DocDtls", "Dt"));
    data.insert("TotInvVal".into(), get("ValDtls", "TotInvVal"));
    data.insert("ItemCnt".into(), json!(items.len()));
    data.insert("MainHsnCode".into(), main_hsn);
    data.insert("Irn".into(), json!(irn));
    data.insert("IrnDt".into(), json!(ack_dt));
    Value::Object(data)
}

/// Signs the invoice and its QR code: two RSA-2048 signatures, most of a generate's CPU. They
/// run on the blocking pool, not on the runtime's workers: inline, each held a worker for
/// milliseconds, timers and the e-invoice writer waited behind them, and the sandbox answered
/// fewer IRNs per second the fewer calls were open at it (a real IRP's rate does not depend
/// on how many calls one client keeps open).
async fn sign_invoice_and_qr(
    sandbox: &Sandbox,
    invoice: Value,
    qr: Value,
    iss: &'static str,
) -> Result<(String, String), IrpFailure> {
    let sandbox = sandbox.clone();
    tokio::task::spawn_blocking(move || {
        let sign = |claims: &Value| {
            sandbox
                .keys
                .signer
                .sign(claims, iss)
                .map_err(|_| IrpFailure::code(errors::SIGN_FAILED, &[]))
        };
        Ok((sign(&invoice)?, sign(&qr)?))
    })
    .await
    .map_err(|e| IrpFailure::Internal(e.to_string()))?
}

/// `POST /eicore/v1.03/Invoice`.
pub async fn generate(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let session = verify_session(&sandbox, &headers, peer).await?;
        let drop_after_commit = apply_faults(&sandbox, "generate").await?;
        let invoice = decrypt_body(&session, &body)?;
        let now = sandbox.clock.now_ms();
        let today = crate::clock::ist(now).date();
        let rules = Rules { today, strict_gstin: sandbox.config.profile == Profile::Production, masters: Some(&sandbox.masters) };
        let violations = validate_canonical(&invoice, rules);
        if !violations.is_empty() {
            let details = violations.into_iter().map(|v| ErrorDetail { error_code: v.code.to_string(), error_message: v.message }).collect();
            return Err(IrpFailure::Nic(Box::new(Envelope::failure(details, None))));
        }
        let Value::Object(request) = invoice else {
            return Err(IrpFailure::code(errors::SCHEMA, &["the document must be an object"]));
        };
        // What NIC hashes and signs: schema order, no nulls or unknown keys, the document type
        // in upper case (a request with "inv" is signed as "INV", and the QR code's DocTyp too).
        let doc = normalised(&request);
        let ewb_part = doc.get("EwbDtls").filter(|v| v.is_object()).cloned();
        let text = |a: &str, b: &str| doc.get(a).and_then(|v| v.get(b)).and_then(Value::as_str).unwrap_or("").to_string();
        let seller = text("SellerDtls", "Gstin").to_ascii_uppercase();
        if seller != session.gstin {
            return Err(IrpFailure::code(errors::TOKEN_GSTIN_MISMATCH, &[]));
        }
        let buyer = text("BuyerDtls", "Gstin").to_ascii_uppercase();
        let doc_type = text("DocDtls", "Typ").to_ascii_uppercase();
        let doc_no = text("DocDtls", "No");
        let doc_date = text("DocDtls", "Dt");
        let parsed_date = parse_doc_date(&doc_date).map_err(|_| IrpFailure::code(errors::BAD_DATE_FORMAT, &[]))?;
        check_parties(&sandbox, &seller, &buyer, parsed_date, today).await?;
        let irn = compute_irn(&seller, &doc_type, &doc_no, &doc_date, today).map_err(|_| IrpFailure::code(errors::BAD_DATE_FORMAT, &[]))?;
        let fy = financial_year(parsed_date);
        let doc_key = doc_no.to_ascii_uppercase();

        let ack_no = sandbox.next_ack_no(crate::clock::ist(now).year());
        let ack_dt = nic_datetime(now);
        let iss = sandbox.config.profile.issuer();
        let qr = qr_data(&doc, &irn, &ack_dt);
        let signed = signed_invoice_data(doc, ack_no, &ack_dt, &irn);
        let (signed_invoice, signed_qr_code) = sign_invoice_and_qr(&sandbox, signed, qr, iss).await?;

        let row = NewEinvoice {
            irn: irn.clone(),
            gstin: seller.clone(),
            doc_type: doc_type.clone(),
            doc_no,
            doc_key: doc_key.clone(),
            doc_date,
            financial_year: fy.clone(),
            ack_no,
            ack_dt: ack_dt.clone(),
            signed_invoice: signed_invoice.clone(),
            signed_qr_code: signed_qr_code.clone(),
            created_at: now,
            irp: sandbox.irp().to_string(),
        };
        let inserted = sandbox.writer.insert(row).await.map_err(IrpFailure::Internal)?;
        if !inserted {
            // The document already has an IRN (duplicates are rare, so the insert itself is
            // the check).
            let existing = find_by_doc(&sandbox, &seller, &fy, &doc_type, &doc_key).await?.ok_or(IrpFailure::code(errors::IRN_NOT_CREATED, &[]))?;
            sandbox.counters.duplicate();
            let info = InfoDetail { inf_cd: "DUPIRN".into(), desc: json!({"AckNo": existing.ack_no, "AckDt": existing.ack_dt, "Irn": existing.irn}) };
            return Err(IrpFailure::Nic(Box::new(Envelope::failure(vec![ErrorDetail::from_code(errors::DUPLICATE_IRN, &[])], Some(vec![info])))));
        }
        let stored = Stored { irn, gstin: seller, ack_no, ack_dt, signed_invoice, signed_qr_code, status: "ACT".into(), cancel_date: None, created_at: now, irp: sandbox.irp().to_string() };
        // EwbDtls: NIC raises the e-way bill in the same call. The IRN stands either way; a
        // failed bill is reported in InfoDtls as EWBERR, a computed distance as EWBPPD.
        let (ewb, info) = match ewb_part {
            None => (None, Vec::new()),
            Some(part) => match raise(&sandbox, &stored, &part).await {
                Ok(raised) => (Some(raised.row), raised.info.into_iter().collect()),
                Err(NotRaised::Nic(details)) => (None, vec![InfoDetail { inf_cd: "EWBERR".into(), desc: json!(details) }]),
                Err(NotRaised::Failure(_)) => (None, vec![InfoDetail { inf_cd: "EWBERR".into(), desc: json!([ErrorDetail::from_code(errors::APPLICATION_ERROR, &[])]) }]),
            },
        };
        let mut envelope = encrypted_success(&session.sek, &einvoice_data(&stored, ewb.as_ref()));
        if !info.is_empty() {
            envelope.info_dtls = Some(info);
        }
        Ok((envelope, drop_after_commit))
    }
    .await;
    respond(&sandbox, result)
}

/// The seller must be in the master, active and not blocked (3028, 3029); a buyer in the
/// master must be active (3029). Buyers absent from the sandbox's master are accepted.
/// The parties against the IRP's GSTIN master (3028 not present, 3029 not active: the codes
/// india-compliance answers with a sync GSTIN and a retry), and the 30-day reporting rule
/// (2305) for a seller whose turnover the master flags at 10 crore or more.
async fn check_parties(
    sandbox: &Sandbox,
    seller: &str,
    buyer: &str,
    doc_date: time::Date,
    today: time::Date,
) -> Result<(), IrpFailure> {
    let seller_state = match sandbox.taxpayer(seller) {
        None => return Err(IrpFailure::code(errors::GSTIN_NOT_PRESENT, &[seller])),
        Some(t) if t.status != "ACT" || t.blocked => {
            return Err(IrpFailure::code(errors::GSTIN_INACTIVE, &[]))
        }
        Some(t) => t,
    };
    if buyer != seller && buyer != "URP" {
        match sandbox.taxpayer(buyer) {
            None => return Err(IrpFailure::code(errors::GSTIN_NOT_PRESENT, &[buyer])),
            Some(t) if t.status != "ACT" => {
                return Err(IrpFailure::code(errors::GSTIN_INACTIVE, &[]))
            }
            Some(_) => {}
        }
    }
    let large = seller_state
        .aato_crore
        .is_some_and(|crore| crore >= LATE_REPORTING_AATO_CRORE);
    if large && (today - doc_date).whole_days() > LATE_REPORTING_DAYS {
        let shown = format!(
            "{:02}/{:02}/{}",
            doc_date.day(),
            u8::from(doc_date.month()),
            doc_date.year()
        );
        return Err(IrpFailure::code(errors::LATE_REPORTING, &[&shown]));
    }
    Ok(())
}

/// `GET /eicore/v1.03/Invoice/irn/{irn}`: 2148 when unknown, 2143 for another GSTIN's IRN,
/// 2283 after the retrieval window.
pub async fn get_by_irn(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Path(irn): Path<String>,
) -> Response {
    let result = async {
        let session = verify_session(&sandbox, &headers, peer).await?;
        let drop = apply_faults(&sandbox, "get").await?;
        let found = readable_by_irn(&sandbox, &headers, &session.gstin, &irn).await?;
        if sandbox.clock.now_ms() - found.created_at > sandbox.config.irn_retrieval_hours * HOUR_MS
        {
            return Err(IrpFailure::code(errors::OLD_IRN, &[]));
        }
        let ewb = ewb_of(&sandbox, &found.irn).await?;
        Ok((
            encrypted_success(&session.sek, &einvoice_data(&found, ewb.as_ref())),
            drop,
        ))
    }
    .await;
    respond(&sandbox, result)
}

/// `GET /eicore/v1.03/Invoice/irnbydocdetails?doctype=&docnum=&docdate=` (names in any case,
/// or as headers): 2154 when unknown.
pub async fn get_by_doc(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let session = verify_session(&sandbox, &headers, peer).await?;
        let drop = apply_faults(&sandbox, "get").await?;
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(query.as_deref().unwrap_or("")).unwrap_or_default();
        let pick = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone())
                .or_else(|| header(&headers, &[name]))
                .unwrap_or_default()
        };
        let doc_type = pick("doctype").to_ascii_uppercase();
        let doc_no = pick("docnum");
        let doc_date = pick("docdate");
        if doc_type.is_empty() || doc_no.is_empty() || doc_date.is_empty() {
            return Err(IrpFailure::code(errors::INCOMPLETE, &[]));
        }
        let date = parse_doc_date(&doc_date)
            .map_err(|_| IrpFailure::code(errors::BAD_DATE_FORMAT, &[]))?;
        let owner = header(&headers, &["sup_gstin"])
            .map(|g| g.to_ascii_uppercase())
            .unwrap_or_else(|| session.gstin.clone());
        let found = find_by_doc(
            &sandbox,
            &owner,
            &financial_year(date),
            &doc_type,
            &doc_no.to_ascii_uppercase(),
        )
        .await?
        .filter(|s| {
            sandbox.clock.now_ms() - s.created_at <= sandbox.config.doc_retrieval_hours * HOUR_MS
        })
        // Another supplier's documents are not even found, except by its e-commerce operator.
        .filter(|s| readable_by(s, &session.gstin))
        .ok_or(IrpFailure::code(errors::IRN_NOT_FOUND, &[]))?;
        let ewb = ewb_of(&sandbox, &found.irn).await?;
        Ok((
            encrypted_success(&session.sek, &einvoice_data(&found, ewb.as_ref())),
            drop,
        ))
    }
    .await;
    respond(&sandbox, result)
}

/// `POST /eicore/v1.03/Invoice/Cancel`: `{Irn, CnlRsn, CnlRem}` within 24 hours of AckDt
/// (2270 after), 9999 when already cancelled, 2143 for another GSTIN's IRN.
pub async fn cancel(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let session = verify_session(&sandbox, &headers, peer).await?;
        let drop = apply_faults(&sandbox, "cancel").await?;
        let request = decrypt_body(&session, &body)?;
        let text = |k: &str| request.get(k).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())).unwrap_or_default();
        let irn = text("Irn");
        let reason = text("CnlRsn");
        let remark = text("CnlRem");
        if !irp_protocol::irn::is_irn(&irn) {
            return Err(IrpFailure::code(errors::INVALID_IRN, &[]));
        }
        if !matches!(reason.as_str(), "1" | "2" | "3" | "4") {
            return Err(IrpFailure::code(errors::SCHEMA, &["CnlRsn must be 1, 2, 3 or 4"]));
        }
        if remark.chars().count() > 100 {
            return Err(IrpFailure::code(errors::SCHEMA, &["CnlRem has at most 100 characters"]));
        }
        // A well-formed IRN the IRP does not hold: 2148, as NIC describes it (2145 is for
        // malformed ones).
        let found = find_by_irn(&sandbox, &headers, &irn).await?.ok_or(IrpFailure::code(errors::IRN_DATA_NOT_AVAILABLE, &[]))?;
        if found.gstin != session.gstin {
            return Err(IrpFailure::code(errors::IRN_OF_OTHER_GSTIN, &[]));
        }
        if found.status == "CNL" {
            return Err(IrpFailure::code(errors::IRN_NOT_ACTIVE, &[]));
        }
        if ewb_of(&sandbox, &found.irn).await?.is_some_and(|e| e.status == "ACT") {
            return Err(IrpFailure::code(errors::EWB_ACTIVE, &[]));
        }
        let now = sandbox.clock.now_ms();
        let acked = parse_nic_datetime(&found.ack_dt).unwrap_or(found.created_at);
        if now - acked > sandbox.config.cancel_hours * HOUR_MS {
            return Err(IrpFailure::code(errors::CANCEL_WINDOW, &[]));
        }
        let cancel_date = nic_datetime(now);
        let done = sqlx::query("UPDATE einvoices SET status = 'CNL', cancel_date = $1 WHERE irn = $2 AND status = 'ACT'")
            .bind(&cancel_date)
            .bind(&found.irn)
            .execute(&sandbox.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(IrpFailure::code(errors::IRN_NOT_ACTIVE, &[]));
        }
        sandbox.counters.cancelled();
        let _ = found.cancel_date;
        Ok((encrypted_success(&session.sek, &json!({"Irn": found.irn, "CancelDate": cancel_date})), drop))
    }
    .await;
    respond(&sandbox, result)
}
