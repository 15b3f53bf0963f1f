//! Registering a document at the IRPs, exactly once: at one IRP under the call policy (a
//! duplicate, 2150, or a lost answer is reconciled by document before anything is sent
//! again), and across IRPs when one is down (NIC1 and NIC2 share one IRN registry). Before a
//! document that got no answer at one IRP is sent to the next, the next is asked for it by
//! document details.

use irp_client::{IrpError, Session};
use serde_json::Value;

use super::irp_call::{is_transient, with_session, CallFailure, Credentials};
use super::outcome::{DocumentStatus, Outcome, OutcomeError};
use super::reconcile::{adopt_existing, fetch_by_document};
use crate::irp::{IrpContext, IrpSite};
use crate::metrics::{DocumentEvent, DocumentKind, IrpOperation};
use crate::state::AppState;

/// A registered document: the IRP's data, its info entries (`EWBPPD`/`EWBERR` when the
/// document carried `EwbDtls`), and the IRP that generated it.
pub struct Registered {
    /// The IRP's data (AckNo, AckDt, Irn, SignedInvoice, …).
    pub data: Value,
    /// NIC's info entries.
    pub info: Vec<Value>,
    /// The IRP that generated the IRN.
    pub irp: String,
}

/// What an attempt at one IRP came to.
enum AtIrp {
    /// Registered (or found registered, as the same document).
    Registered(Value, Vec<Value>),
    /// A final answer: refused, or the number holds another document.
    Refused(Outcome),
    /// The IRP is down; it may have created the IRN before going silent.
    Down(Outcome),
}

fn unavailable_error() -> OutcomeError {
    OutcomeError::platform(
        "IRP_UNAVAILABLE",
        "the IRP did not create the IRN after retries; it is safe to send the same document again",
    )
}

/// The outcome when no IRP created the IRN.
pub fn unavailable() -> Outcome {
    Outcome::failed(DocumentStatus::NotCreated, vec![unavailable_error()])
}

fn counted(state: &AppState, event: DocumentEvent) {
    state.metrics.document(DocumentKind::einvoice, event);
}

/// The existing e-invoice of the document at this IRP, adopted if it is the same document.
async fn existing(
    state: &AppState,
    irp: &IrpContext,
    site: &IrpSite,
    session: &Session,
    doc: &Value,
) -> Result<Option<Result<Value, Outcome>>, IrpError> {
    Ok(fetch_by_document(&site.client, session, doc)
        .await?
        .map(|found| {
            let adopted = adopt_existing(irp, doc, found);
            if adopted.is_ok() {
                counted(state, DocumentEvent::recovered);
            }
            adopted
        }))
}

async fn generate_at(
    state: &AppState,
    irp: &IrpContext,
    site: &IrpSite,
    creds: &Credentials,
    doc: &Value,
) -> AtIrp {
    let result = with_session(
        state,
        (irp, site),
        creds,
        (IrpOperation::generate, DocumentStatus::NotCreated),
        |session| async move {
            match site.client.generate_with_info(&session, doc).await {
                Ok(answer) => {
                    counted(state, DocumentEvent::generated);
                    let info = answer
                        .info
                        .into_iter()
                        .filter_map(|i| serde_json::to_value(i).ok())
                        .collect();
                    Ok(Ok((answer.data, info)))
                }
                // A duplicate: the existing IRN is ours if it is the same document.
                // (An IRP that cannot say which one it holds is down: retried, then the next.)
                Err(e) if e.has_code("2150") => {
                    match existing(state, irp, site, &session, doc).await {
                        Ok(Some(adopted)) => Ok(adopted.map(|data| (data, Vec::new()))),
                        Ok(None) => Ok(Err(Outcome::failed(
                            DocumentStatus::NotCreated,
                            OutcomeError::govt(&e),
                        ))),
                        Err(fetch) if is_transient(&fetch) => Err(fetch),
                        Err(fetch) => Ok(Err(Outcome::failed(
                            DocumentStatus::NotCreated,
                            OutcomeError::govt(&fetch),
                        ))),
                    }
                }
                // The IRP may have created the IRN: reconcile by document before any retry.
                Err(IrpError::NoAnswer(reason)) => {
                    tracing::warn!(irp = %site.name, %reason, "no answer to generate; reconciling by document");
                    match existing(state, irp, site, &session, doc).await {
                        Ok(Some(adopted)) => Ok(adopted.map(|data| (data, Vec::new()))),
                        _ => Err(IrpError::NoAnswer(reason)),
                    }
                }
                Err(e) => Err(e),
            }
        },
    )
    .await;
    match result {
        Ok(Ok((data, info))) => AtIrp::Registered(data, info),
        Ok(Err(outcome)) | Err(CallFailure::Session(outcome)) => AtIrp::Refused(outcome),
        Err(CallFailure::Unreachable(outcome)) => AtIrp::Down(outcome),
        Err(CallFailure::Exhausted(IrpError::NoAnswer(_))) => AtIrp::Down(unavailable()),
        Err(CallFailure::Exhausted(e)) => {
            let mut errors = OutcomeError::govt(&e);
            errors.push(unavailable_error());
            AtIrp::Down(Outcome::failed(DocumentStatus::NotCreated, errors))
        }
        Err(CallFailure::Refused(e)) => AtIrp::Refused(Outcome::failed(
            DocumentStatus::NotCreated,
            OutcomeError::govt(&e),
        )),
    }
}

/// Asks an IRP for a document by its details: `Ok(Some)` when found, `Ok(None)` when it has
/// none (or cannot say; a duplicate is still caught by 2150), `Err` when the IRP is down.
async fn reconcile_at(
    state: &AppState,
    irp: &IrpContext,
    site: &IrpSite,
    creds: &Credentials,
    doc: &Value,
) -> Result<Option<Result<Value, Outcome>>, Outcome> {
    let result = with_session(
        state,
        (irp, site),
        creds,
        (IrpOperation::get, DocumentStatus::NotCreated),
        |session| async move { existing(state, irp, site, &session, doc).await },
    )
    .await;
    match result {
        Ok(found) => Ok(found),
        Err(CallFailure::Unreachable(outcome)) => Err(outcome),
        Err(CallFailure::Exhausted(_)) => Err(unavailable()),
        Err(CallFailure::Session(_) | CallFailure::Refused(_)) => Ok(None),
    }
}

/// Registers a document at the first IRP that is up, moving to the next when one is down;
/// before sending to the next, asks it for the document (the IRP before may have created it
/// and gone silent), so an IRN is never created twice.
pub async fn register(
    state: &AppState,
    irp: &IrpContext,
    creds: &Credentials,
    doc: &Value,
) -> Result<Registered, Outcome> {
    // The IRP that went silent on this document, if any, and the last outcome.
    let mut silent: Option<&IrpSite> = None;
    let mut last: Option<Outcome> = None;
    for site in irp.in_order(state.now()) {
        if let Some(before) = silent {
            match reconcile_at(state, irp, site, creds, doc).await {
                Ok(Some(Ok(data))) => {
                    tracing::info!(irp = %site.name, generated_at = %before.name, "document found at the other IRP; not sent again");
                    return Ok(Registered {
                        data,
                        info: Vec::new(),
                        irp: before.name.clone(),
                    });
                }
                Ok(Some(Err(outcome))) => return Err(outcome),
                Ok(None) => {}
                Err(outcome) => {
                    last = Some(outcome);
                    continue;
                }
            }
        }
        match generate_at(state, irp, site, creds, doc).await {
            AtIrp::Registered(data, info) => {
                return Ok(Registered {
                    data,
                    info,
                    irp: site.name.clone(),
                })
            }
            AtIrp::Refused(outcome) => return Err(outcome),
            AtIrp::Down(outcome) => {
                tracing::warn!(irp = %site.name, "IRP down for generate; trying the next");
                silent = Some(site);
                last = Some(outcome);
            }
        }
    }
    Err(last.unwrap_or_else(unavailable))
}
