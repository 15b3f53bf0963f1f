//! E-invoices through the gateway: pre-validation with the shared INV-01 validator (an invalid
//! document never reaches the IRP), generation with exactly-once rules (2150 resolved by
//! fetching the existing IRN and comparing it; an unanswered request reconciled by document
//! before any retry; only transient failures retried, with backoff and jitter), signature
//! checks, a circuit breaker, and metadata-only records unless retention is switched on.

use gst_core::Gstin;
use irp_protocol::keys::canonicalize;
use irp_protocol::validate::{validate_canonical, Rules};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::irp_call::{
    at_any_irp, connect, irp, irp_ascii, not_configured, origin_of, CallFailure,
};
pub use super::outcome::{DocumentStatus, Outcome, OutcomeError};
use super::reconcile::{text, verified_invoice};
use super::registration::Registered;
use super::{Actor, FieldError, ServiceError};
use crate::ids::OwnerId;
use crate::metrics::{DocumentEvent, DocumentKind, IrpOperation};
use crate::state::AppState;
use crate::storage::{EinvoiceRecord, EinvoiceStatus, EwbFields};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Fails fast (503) while the circuit breaker of every IRP is open.
pub fn check_breaker(state: &AppState) -> Result<(), ServiceError> {
    let irp = irp(state)?;
    let now = state.now();
    let waits: Vec<Option<u64>> = irp.sites().map(|s| s.breaker.open_for(now)).collect();
    let all_open = waits.iter().all(Option::is_some);
    match waits.into_iter().flatten().min().filter(|_| all_open) {
        Some(retry_after_secs) => Err(ServiceError::Unavailable {
            error: FieldError::general(
                "irp_unavailable",
                format!("the IRP is not answering; retry in {retry_after_secs} s"),
            ),
            retry_after_secs,
        }),
        None => Ok(()),
    }
}

/// Answers 429 while the account may make no IRP auth call for the GSTIN (too many failed
/// logins), before any work is done.
pub fn check_auth_budget(state: &AppState, actor: Actor, gstin: &str) -> Result<(), ServiceError> {
    let Some(irp) = state.irp.as_deref() else {
        return Ok(());
    };
    match irp
        .sessions
        .auth_throttled(actor.account_id, &gstin.to_ascii_uppercase(), state.now())
    {
        Some(retry_after_secs) => Err(super::irp_call::throttled(retry_after_secs)),
        None => Ok(()),
    }
}

async fn record(
    state: &AppState,
    (actor, owner_id): (Actor, OwnerId),
    seller: &Gstin,
    (doc, data): (&Value, &Value),
    origin: &str,
) {
    let now = state.now();
    let retain = state.settings.retention_days > 0;
    let record = EinvoiceRecord {
        irn: data
            .get("Irn")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        account_id: actor.account_id,
        owner_id,
        gstin: seller.clone(),
        doc_type: text(doc, "DocDtls", "Typ").to_ascii_uppercase(),
        doc_no: text(doc, "DocDtls", "No").to_string(),
        doc_date: text(doc, "DocDtls", "Dt").to_string(),
        ack_no: data.get("AckNo").and_then(Value::as_i64).unwrap_or(0),
        ack_dt: data
            .get("AckDt")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        status: data
            .get("Status")
            .and_then(Value::as_str)
            .and_then(EinvoiceStatus::parse)
            .unwrap_or(EinvoiceStatus::Active),
        request_hash: Sha256::digest(doc.to_string().as_bytes()).to_vec(),
        signed_invoice: retain.then(|| {
            data.get("SignedInvoice")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        }),
        signed_qr_code: retain.then(|| {
            data.get("SignedQRCode")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        }),
        retain_until: retain.then(|| now + i64::from(state.settings.retention_days) * DAY_MS),
        created_at: now,
        cancelled_at: None,
        ewb_no: None,
        ewb_dt: None,
        ewb_valid_till: None,
        ewb_cancelled_at: None,
        irp: Some(origin.to_string()),
    };
    let record = match EwbFields::from_answer(data) {
        Some(ewb) => EinvoiceRecord {
            ewb_no: Some(ewb.ewb_no),
            ewb_dt: Some(ewb.ewb_dt),
            ewb_valid_till: ewb.ewb_valid_till,
            ..record
        },
        None => record,
    };
    if let Err(e) = state.store.record_einvoice(&record).await {
        tracing::error!(irn = %record.irn, error = %e, "could not record an e-invoice");
    }
}

/// Generates the e-invoice of one document (or only validates it, with `dry_run`).
pub async fn generate(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    document: Value,
    dry_run: bool,
) -> Outcome {
    let doc = canonicalize(document);
    let today = time::OffsetDateTime::from_unix_timestamp_nanos(
        i128::from(state.now().millis()) * 1_000_000,
    )
    .map(|t| t.to_offset(time::macros::offset!(+5:30)).date())
    .unwrap_or(time::Date::MIN);
    let violations = validate_canonical(
        &doc,
        Rules {
            today,
            strict_gstin: !state.is_sandbox(),
            masters: None,
        },
    );
    // A dry run is always DOCUMENT_VALIDATION; a refused generate is NOT_CREATED.
    let refused = if dry_run {
        DocumentStatus::DocumentValidation
    } else {
        DocumentStatus::NotCreated
    };
    if !violations.is_empty() {
        // ClearTax writes its own validation messages as `<json path> : <message>`.
        let errors = violations
            .into_iter()
            .map(|v| OutcomeError::platform(v.code, format!("{} : {}", v.path, v.message)))
            .collect();
        return Outcome::failed(refused, errors);
    }
    let seller = text(&doc, "SellerDtls", "Gstin").to_ascii_uppercase();
    if !seller.eq_ignore_ascii_case(gstin) {
        return Outcome::failed(
            refused,
            vec![OutcomeError::platform(
                "SELLER_GSTIN_MISMATCH",
                format!("SellerDtls.Gstin : {seller} differs from the gstin header {gstin}"),
            )],
        );
    }
    // The validator checked it at the mode's strictness; this gives it its type.
    let seller = match Gstin::parse(&seller, state.gstin_strictness()) {
        Ok(seller) => seller,
        Err(e) => {
            return Outcome::failed(
                refused,
                vec![OutcomeError::platform(
                    "INVALID_GSTIN",
                    format!("SellerDtls.Gstin : {e}"),
                )],
            )
        }
    };
    if dry_run {
        return Outcome {
            document_status: DocumentStatus::DocumentValidation,
            data: None,
            errors: Vec::new(),
            info: Vec::new(),
            document: None,
        };
    }
    let (irp, creds) =
        match connect(state, actor, owner_id, &seller, DocumentStatus::NotCreated).await {
            Ok(connected) => connected,
            Err(outcome) => return reported(state, actor, owner_id, &doc, outcome).await,
        };
    let outcome = match super::registration::register(state, irp, &creds, &doc).await {
        Ok(Registered {
            data,
            info,
            irp: origin,
        }) => match verified_invoice(irp, &data) {
            Ok(registered) => {
                record(state, (actor, owner_id), &seller, (&doc, &data), &origin).await;
                Outcome {
                    document_status: DocumentStatus::IrnGenerated,
                    data: Some(Box::new(data)),
                    errors: Vec::new(),
                    info,
                    document: Some(Box::new(registered)),
                }
            }
            Err(e) => Outcome::failed(DocumentStatus::NotCreated, vec![e]),
        },
        Err(outcome) => outcome,
    };
    if outcome.document_status == DocumentStatus::NotCreated {
        return reported(state, actor, owner_id, &doc, outcome).await;
    }
    outcome
}

/// A document the IRP did not register (after the retries the policy allows), reported to the
/// account's webhooks as `einvoice.generation_failed`.
async fn reported(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    doc: &Value,
    outcome: Outcome,
) -> Outcome {
    let errors = outcome
        .errors
        .iter()
        .map(|e| serde_json::json!({"error_code": e.code, "error_message": e.message}))
        .collect();
    let seller = text(doc, "SellerDtls", "Gstin").to_ascii_uppercase();
    super::webhooks::generation_failed(state, actor, owner_id, &seller, doc, Value::Array(errors))
        .await;
    outcome
}

/// What this account knows of an IRN's state: its own record's, or `IRN_GENERATION_FAILED`
/// for an IRN it never recorded (another account's IRN reads the same as an unknown one).
async fn known_state(state: &AppState, actor: Actor, irn: &str) -> DocumentStatus {
    match state
        .store
        .get_einvoice(actor.account_id, &irp_ascii(irn))
        .await
    {
        Ok(Some(record)) => status_of(record.status),
        _ => DocumentStatus::IrnGenerationFailed,
    }
}

fn status_of(status: EinvoiceStatus) -> DocumentStatus {
    match status {
        EinvoiceStatus::Active => DocumentStatus::IrnGenerated,
        EinvoiceStatus::Cancelled => DocumentStatus::IrnCancelled,
    }
}

/// Cancels an IRN (reason 1–4, remark up to 100 characters). Success is `IRN_CANCELLED` with
/// `Status: "CNL"` and the `CancelDate`; a refused cancel reports the IRN's real state, and an
/// IRN cancelled before (9999) reads `IRN_CANCELLED` with `Success: "N"` and the 9999 error.
pub async fn cancel(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    irn: &str,
    reason: &str,
    remark: &str,
) -> Outcome {
    let before = known_state(state, actor, irn).await;
    let (irp, creds) = match connect(state, actor, owner_id, gstin, before).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let irn_at_irp = irp_ascii(irn);
    let irn_at_irp = irn_at_irp.as_str();
    let origin = origin_of(state, actor, irn_at_irp).await;
    let result = at_any_irp(
        state,
        irp,
        &creds,
        (IrpOperation::cancel, before),
        origin.as_deref(),
        |site, session| async move {
            site.client
                .cancel(&session, irn_at_irp, reason, remark)
                .await
        },
    )
    .await;
    match result {
        Ok((mut data, _)) => {
            state
                .metrics
                .document(DocumentKind::einvoice, DocumentEvent::cancelled);
            let _ = state
                .store
                .mark_einvoice_cancelled(actor.account_id, irn_at_irp, state.now())
                .await;
            if let Value::Object(fields) = &mut data {
                fields.insert("Status".into(), json!(EinvoiceStatus::Cancelled.as_str()));
            }
            Outcome {
                document_status: DocumentStatus::IrnCancelled,
                data: Some(Box::new(data)),
                errors: Vec::new(),
                info: Vec::new(),
                document: None,
            }
        }
        Err(CallFailure::Session(outcome) | CallFailure::Unreachable(outcome)) => outcome,
        // Cancelled before: the IRN's state is cancelled, and this call did not cancel it.
        Err(CallFailure::Refused(e)) if e.has_code("9999") => {
            let _ = state
                .store
                .mark_einvoice_cancelled(actor.account_id, irn_at_irp, state.now())
                .await;
            Outcome::failed(DocumentStatus::IrnCancelled, OutcomeError::govt(&e))
        }
        // An active e-way bill: the error names it, and how to cancel it.
        Err(CallFailure::Refused(e)) if e.has_code("2230") => Outcome::failed(
            before,
            super::ewaybill::naming_the_active_bill(state, actor, irn_at_irp, &e).await,
        ),
        Err(CallFailure::Exhausted(e) | CallFailure::Refused(e)) => {
            Outcome::failed(before, OutcomeError::govt(&e))
        }
    }
}

/// The state an IRP answer gives: `CNL` is cancelled, anything else active.
fn status_in(data: &Value) -> DocumentStatus {
    match data.get("Status").and_then(Value::as_str) {
        Some(text) if text == EinvoiceStatus::Cancelled.as_str() => DocumentStatus::IrnCancelled,
        _ => DocumentStatus::IrnGenerated,
    }
}

/// An e-invoice by IRN: from the IRP, or from retention when the IRP no longer gives it.
/// `IRN_GENERATED` or `IRN_CANCELLED` by its state, `IRN_GENERATION_FAILED` when there is none.
pub async fn get(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    irn: &str,
) -> Outcome {
    let retained = state
        .store
        .get_einvoice(actor.account_id, &irp_ascii(irn))
        .await
        .ok()
        .flatten();
    let from_retention = |retained: &Option<EinvoiceRecord>| {
        retained.as_ref().filter(|r| r.signed_invoice.is_some() && r.retain_until.is_some_and(|u| u > state.now())).map(|r| {
            let ewb = r.active_ewb();
            json!({"AckNo": r.ack_no, "AckDt": r.ack_dt, "Irn": r.irn, "SignedInvoice": r.signed_invoice, "SignedQRCode": r.signed_qr_code, "Status": r.status.as_str(),
                "EwbNo": ewb.as_ref().map(|e| e.ewb_no), "EwbDt": ewb.as_ref().map(|e| &e.ewb_dt), "EwbValidTill": ewb.as_ref().and_then(|e| e.ewb_valid_till.as_ref())})
        })
    };
    let found = |data: Value, registered: Option<Value>| Outcome {
        document_status: status_in(&data),
        data: Some(Box::new(data)),
        errors: Vec::new(),
        info: Vec::new(),
        document: registered.map(Box::new),
    };
    // A retained signed invoice was verified when it was recorded.
    let retained_document = |data: &Value| {
        data.get("SignedInvoice")
            .and_then(Value::as_str)
            .and_then(|jwt| irp_protocol::jwt::decode(jwt).ok())
            .map(|signed| signed.data)
    };
    let missing = DocumentStatus::IrnGenerationFailed;
    if state.irp.is_none() {
        return match from_retention(&retained) {
            Some(data) => {
                let registered = retained_document(&data);
                found(data, registered)
            }
            None => not_configured(missing),
        };
    }
    let (irp, creds) = match connect(state, actor, owner_id, gstin, missing).await {
        Ok(connected) => connected,
        Err(outcome) => return outcome,
    };
    let irn_at_irp = irp_ascii(irn);
    let irn_at_irp = irn_at_irp.as_str();
    let origin = retained.as_ref().and_then(|r| r.irp.clone());
    let result = at_any_irp(
        state,
        irp,
        &creds,
        (IrpOperation::get, missing),
        origin.as_deref(),
        |site, session| async move { site.client.get_by_irn(&session, irn_at_irp).await },
    )
    .await;
    match result {
        Ok((data, _)) => match verified_invoice(irp, &data) {
            Ok(registered) => found(data, Some(registered)),
            Err(e) => Outcome::failed(missing, vec![e]),
        },
        Err(CallFailure::Session(outcome) | CallFailure::Unreachable(outcome)) => outcome,
        Err(CallFailure::Exhausted(e) | CallFailure::Refused(e)) => match from_retention(&retained)
        {
            Some(data) => {
                let registered = retained_document(&data);
                found(data, registered)
            }
            None => Outcome::failed(missing, OutcomeError::govt(&e)),
        },
    }
}
