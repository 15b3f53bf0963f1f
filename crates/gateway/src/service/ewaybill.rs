//! E-way bills by IRN through the gateway: raise one for an IRN (exactly once: after no answer,
//! or when the IRP says one exists (4002), the IRP's get-EWB-by-IRN is asked before anything is
//! sent again), cancel one through the e-way bill system, and keep both with the e-invoice.

use irp_client::IrpError;
use irp_protocol::ewb::CancelEwb;
use serde_json::{json, Value};

use super::irp_call::{at_any_irp, connect, irp_ascii, origin_of, CallFailure};
use super::outcome::{DocumentStatus, OutcomeError};
use super::Actor;
use crate::ids::OwnerId;
use crate::metrics::{DocumentEvent, DocumentKind, IrpOperation};
use crate::state::AppState;
use crate::storage::EwbFields;

/// What became of one e-way bill request.
#[derive(Debug, Clone)]
pub struct EwbOutcome {
    /// The IRN the bill is for.
    pub irn: String,
    /// The bill, when there is one now.
    pub ewb: Option<EwbFields>,
    /// Errors (none on success).
    pub errors: Vec<OutcomeError>,
    /// NIC's info entries (`EWBPPD` when it computed the distance), and the gateway's
    /// `EWBDUP` when the IRN already had this bill.
    pub info: Vec<Value>,
}

impl EwbOutcome {
    fn failed(irn: &str, errors: Vec<OutcomeError>) -> Self {
        EwbOutcome {
            irn: irn.to_string(),
            ewb: None,
            errors,
            info: Vec::new(),
        }
    }
}

/// How an e-way bill the IRP already holds is read back: the IRN's active bill, if any.
async fn active_at_irp(
    site: &crate::irp::IrpSite,
    session: &irp_client::Session,
    irn: &str,
) -> Result<Option<EwbFields>, IrpError> {
    match site.client.get_ewb_by_irn(session, irn).await {
        Ok(data) if data.get("Status").and_then(Value::as_str) != Some("CNL") => {
            Ok(EwbFields::from_answer(&data))
        }
        Ok(_) => Ok(None),
        Err(e) if e.has_code("3001") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Raises the e-way bill of an IRN from a NIC-shaped request (`{Irn, Distance, TransMode,
/// …}`, already checked for its IRN).
pub async fn generate(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    request: &Value,
) -> EwbOutcome {
    let irn = irp_ascii(request.get("Irn").and_then(Value::as_str).unwrap_or(""));
    let (irp, creds) =
        match connect(state, actor, owner_id, gstin, DocumentStatus::NotCreated).await {
            Ok(connected) => connected,
            Err(outcome) => return EwbOutcome::failed(&irn, outcome.errors),
        };
    let mut request = request.clone();
    request["Irn"] = json!(irn);
    let (irn_ref, request_ref) = (irn.as_str(), &request);
    let origin = origin_of(state, actor, &irn).await;
    let result = at_any_irp(
        state,
        irp,
        &creds,
        (IrpOperation::ewb_generate, DocumentStatus::NotCreated),
        origin.as_deref(),
        |site, session| async move {
            let recovered = || {
                state
                    .metrics
                    .document(DocumentKind::ewaybill, DocumentEvent::recovered)
            };
            match site.client.generate_ewb(&session, request_ref).await {
                Ok((details, info)) => Ok(Ok({
                    state
                        .metrics
                        .document(DocumentKind::ewaybill, DocumentEvent::generated);
                    (
                    EwbFields {
                        ewb_no: details.ewb_no,
                        ewb_dt: details.ewb_dt,
                        ewb_valid_till: details.ewb_valid_till,
                    },
                    info.into_iter()
                        .filter_map(|i| serde_json::to_value(i).ok())
                        .collect::<Vec<Value>>(),
                    )
                })),
                // One exists: it is this bill when an earlier answer was lost.
                Err(e) if e.has_code("4002") => match active_at_irp(site, &session, irn_ref).await {
                    Ok(Some(existing)) => {
                        recovered();
                        let note = json!({"InfCd": "EWBDUP", "Desc": {"EwbNo": existing.ewb_no, "EwbDt": existing.ewb_dt, "EwbValidTill": existing.ewb_valid_till}});
                        Ok(Ok((existing, vec![note])))
                    }
                    _ => Ok(Err(e)),
                },
                // The IRP may have raised it: ask before sending again.
                Err(IrpError::NoAnswer(reason)) => {
                    tracing::warn!(%reason, "no answer to generate e-way bill; reconciling by IRN");
                    match active_at_irp(site, &session, irn_ref).await {
                        Ok(Some(existing)) => {
                            recovered();
                            Ok(Ok((existing, Vec::new())))
                        }
                        _ => Err(IrpError::NoAnswer(reason)),
                    }
                }
                Err(e) => Err(e),
            }
        },
    )
    .await;
    match result {
        Ok((Ok((ewb, info)), _)) => {
            if let Err(e) = state
                .store
                .record_ewaybill(actor.account_id, &irn, &ewb)
                .await
            {
                tracing::error!(irn = %irn, error = %e, "could not record an e-way bill");
            }
            EwbOutcome {
                irn,
                ewb: Some(ewb),
                errors: Vec::new(),
                info,
            }
        }
        Ok((Err(e), _)) | Err(CallFailure::Refused(e)) => {
            EwbOutcome::failed(&irn, OutcomeError::govt(&e))
        }
        Err(CallFailure::Session(outcome) | CallFailure::Unreachable(outcome)) => {
            EwbOutcome::failed(&irn, outcome.errors)
        }
        Err(CallFailure::Exhausted(e)) => {
            let mut errors = OutcomeError::govt(&e);
            errors.push(OutcomeError::platform(
                "IRP_UNAVAILABLE",
                "the IRP did not raise the e-way bill after retries; it is safe to send the same request again",
            ));
            EwbOutcome::failed(&irn, errors)
        }
    }
}

/// What became of one e-way bill cancellation.
#[derive(Debug, Clone)]
pub struct EwbCancelOutcome {
    /// The bill's IRN, when the gateway knows it.
    pub irn: Option<String>,
    /// The e-way bill system's cancel date, on success.
    pub cancel_date: Option<String>,
    /// Errors (none on success).
    pub errors: Vec<OutcomeError>,
}

/// Cancels an e-way bill (reason 1–4, remark up to 50 characters) through the e-way bill
/// system, and records it.
pub async fn cancel(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    cancel: &CancelEwb,
) -> EwbCancelOutcome {
    let known = state
        .store
        .einvoice_by_ewb(actor.account_id, cancel.ewb_no)
        .await
        .ok()
        .flatten();
    let irn = known.as_ref().map(|r| r.irn.clone());
    let failed = |errors| EwbCancelOutcome {
        irn: irn.clone(),
        cancel_date: None,
        errors,
    };
    let (irp, creds) =
        match connect(state, actor, owner_id, gstin, DocumentStatus::NotCreated).await {
            Ok(connected) => connected,
            Err(outcome) => return failed(outcome.errors),
        };
    let result = at_any_irp(
        state,
        irp,
        &creds,
        (IrpOperation::ewb_cancel, DocumentStatus::NotCreated),
        None,
        |site, session| async move { site.client.cancel_ewb(&session, cancel).await },
    )
    .await;
    match result {
        Ok((cancelled, _)) => {
            state
                .metrics
                .document(DocumentKind::ewaybill, DocumentEvent::cancelled);
            let _ = state
                .store
                .mark_ewaybill_cancelled(actor.account_id, cancel.ewb_no, state.now())
                .await;
            EwbCancelOutcome {
                irn,
                cancel_date: Some(cancelled.cancel_date),
                errors: Vec::new(),
            }
        }
        Err(CallFailure::Session(outcome) | CallFailure::Unreachable(outcome)) => {
            failed(outcome.errors)
        }
        Err(CallFailure::Exhausted(e) | CallFailure::Refused(e)) => failed(OutcomeError::govt(&e)),
    }
}

/// The errors of a cancel refused with 2230, the government's message kept, with the
/// gateway's detail naming the active bill and how to cancel it.
pub(super) async fn naming_the_active_bill(
    state: &AppState,
    actor: Actor,
    irn: &str,
    error: &IrpError,
) -> Vec<OutcomeError> {
    let bill = state
        .store
        .get_einvoice(actor.account_id, irn)
        .await
        .ok()
        .flatten()
        .and_then(|r| r.active_ewb());
    let mut errors = OutcomeError::govt(error);
    for e in errors.iter_mut().filter(|e| e.code == "2230") {
        e.detail = Some(match &bill {
            Some(bill) => format!(
                "e-way bill {} is active for this IRN; cancel it first (POST /v2/eInvoice/ewaybill/cancel with ewbNo {}), then cancel the IRN",
                bill.ewb_no, bill.ewb_no
            ),
            None => "an e-way bill is active for this IRN; cancel it first (POST /v2/eInvoice/ewaybill/cancel), then cancel the IRN".into(),
        });
    }
    errors
}
