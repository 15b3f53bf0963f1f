//! ClearTax's government-compatible API (`/einv/v1/govt/api/...`, and the legacy
//! `/v1/govt/api/...`): one NIC-shaped object in, one flat NIC-shaped answer out
//! (`Success`, `AckNo`, `AckDt`, `Irn`, `SignedInvoice`, `SignedQRCode`, `Status`,
//! `ErrorDetails`, `info`, …), with the stored credentials and the same exactly-once rules as
//! the v2 API (the same service calls).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use super::before_irp::{before_irp_call, run_to_completion, wait_for_turn, AtTurn};
use super::einvoice::{check_irn, govt_response, CancelItem};
use crate::http::access::Caller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, GstinHeader, JsonBody, OwnerHeaders};
use crate::service::{einvoice, owners};
use crate::state::AppState;

/// Register one document, as NIC's Generate IRN answers.
#[utoipa::path(
    post,
    path = "/v1/govt/api/Invoice/",
    tag = "govt",
    request_body(content = Object, description = "One NIC INV-01 document"),
    params(super::einvoice::DocumentHeaders),
    responses(
        (status = 200, description = "NIC-shaped: Success Y with the IRN, or N with ErrorDetails (and DUPIRN info for 2150)", body = Object),
        (status = 404, description = "No owner for the GSTIN", body = ErrorBody),
        (status = 409, description = "Several owners for the GSTIN; send owner_id", body = ErrorBody),
    )
)]
pub async fn generate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    body: JsonBody,
) -> ApiResult<Json<Value>> {
    let AtTurn {
        owner_id,
        body: document,
        turn,
    } = wait_for_turn(&state, actor, (&owner.0, &gstin), body, |_: &Value| Ok(1)).await?;
    run_to_completion(async move {
        let _turn = turn;
        let outcome = einvoice::generate(&state, actor, owner_id, &gstin, document, false).await;
        govt_response(&outcome)
    })
    .await
    .map(Json)
}

/// Cancel one IRN, as NIC's Cancel IRN answers.
#[utoipa::path(
    post,
    path = "/v1/govt/api/Cancel",
    tag = "govt",
    request_body = CancelItem,
    params(super::einvoice::DocumentHeaders),
    responses(
        (status = 200, description = "NIC-shaped: Success Y with Irn and CancelDate, or N with ErrorDetails", body = Object),
        (status = 404, description = "No owner for the GSTIN", body = ErrorBody),
        (status = 409, description = "Several owners for the GSTIN; send owner_id", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    ApiJson(item): ApiJson<CancelItem>,
) -> ApiResult<Json<Value>> {
    check_irn(&item.irn, "irn")?;
    let owner_id = before_irp_call(&state, actor, &owner.0, &gstin).await?;
    run_to_completion(async move {
        let outcome = item.cancel(&state, actor, owner_id, &gstin).await;
        govt_response(&outcome)
    })
    .await
    .map(Json)
}

/// An e-invoice by IRN, as NIC's Get IRN answers.
#[utoipa::path(
    get,
    path = "/v1/govt/api/Invoice/irn/{irn}",
    tag = "govt",
    params(
        ("irn" = String, Path, description = "The IRN: 64 hexadecimal characters"),
        super::einvoice::DocumentHeaders,
    ),
    responses(
        (status = 200, description = "NIC-shaped: Success Y with the signed invoice and Status ACT or CNL, or N with ErrorDetails", body = Object),
        (status = 404, description = "No owner for the GSTIN", body = ErrorBody),
        (status = 409, description = "Several owners for the GSTIN; send owner_id", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    Path(irn): Path<String>,
) -> ApiResult<Json<Value>> {
    check_irn(&irn, "irn")?;
    einvoice::check_auth_budget(&state, actor, &gstin)?;
    let owner_id = owners::resolve(&state, actor, &owner.0, &gstin).await?;
    crate::service::irp_call::admit_irp_calls(&state, actor, &gstin, 1)?;
    let outcome = einvoice::get(&state, actor, owner_id, &gstin, &irn).await;
    Ok(Json(govt_response(&outcome)))
}
