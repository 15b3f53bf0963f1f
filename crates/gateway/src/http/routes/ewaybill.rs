//! E-way bills by IRN, as ClearTax serves them: `POST /v2/eInvoice/ewaybill` (an array of
//! NIC-shaped requests, one result each with a `govt_response`), `POST
//! /v2/eInvoice/ewaybill/cancel` (ClearTax's reasons, mapped to NIC's numbers), and the
//! government-compatible `POST /v1/govt/api/einvewb/ewaybill` (one object in, a flat answer out).

use axum::extract::State;
use axum::Json;
use irp_protocol::ewb::{cancel_reason_code, CancelEwb};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::before_irp::{before_irp_call, run_to_completion};
use super::einvoice::{check_irn, error_details};
use crate::http::access::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, GstinHeader, OwnerHeaders};
use crate::service::ewaybill::{self, EwbOutcome};
use crate::state::AppState;

/// At most this many e-way bills per request.
const MOST_PER_REQUEST: usize = 10;

/// One e-way bill request, NIC-shaped (ClearTax passes it to the IRP as it is).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct EwbRequest {
    /// The IRN (64 hexadecimal characters).
    #[serde(rename = "Irn")]
    pub irn: String,
    /// Kilometres (0 to 4000; 0 asks the IRP to compute the PIN-to-PIN distance).
    #[serde(rename = "Distance")]
    #[schema(value_type = Object)]
    pub distance: Value,
    /// Every other field (`TransMode` 1–4, `TransId`, `TransName`, `TransDocNo`, `TransDocDt`,
    /// `VehNo`, `VehType` R/O, `ExpShipDtls`, `DispDtls`) travels to the IRP as sent.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub rest: serde_json::Map<String, Value>,
}

/// What ClearTax answers for one e-way bill request.
#[derive(Debug, Serialize, ToSchema)]
pub struct EwbResult {
    /// The owner the call acted for.
    pub owner_id: uuid::Uuid,
    /// Seller GSTIN.
    pub gstin: String,
    /// The IRN.
    pub irn: String,
    /// `GENERATED` or `FAILED`.
    pub ewb_status: String,
    /// NIC-shaped: `Success`, `Irn`, `EwbNo`, `EwbDt`, `EwbValidTill`, `ErrorDetails`, `info`.
    #[schema(value_type = Object)]
    pub govt_response: Value,
}

fn govt_response(outcome: &EwbOutcome) -> Value {
    let ewb = outcome.ewb.as_ref();
    json!({
        "Success": if outcome.errors.is_empty() && ewb.is_some() { "Y" } else { "N" },
        "Irn": outcome.irn,
        "EwbNo": ewb.map(|e| e.ewb_no),
        "EwbDt": ewb.map(|e| &e.ewb_dt),
        "EwbValidTill": ewb.and_then(|e| e.ewb_valid_till.as_ref()),
        "ErrorDetails": if outcome.errors.is_empty() { Value::Null } else { Value::Array(error_details(&outcome.errors)) },
        "info": if outcome.info.is_empty() { Value::Null } else { Value::Array(outcome.info.clone()) },
    })
}

fn ewb_status(outcome: &EwbOutcome) -> &'static str {
    if outcome.errors.is_empty() && outcome.ewb.is_some() {
        "GENERATED"
    } else {
        "FAILED"
    }
}

/// The NIC body of one request, its IRN checked (`at` prefixes the fields named in errors).
fn nic_body(request: EwbRequest, at: &str) -> Result<Value, ApiError> {
    check_irn(&request.irn, &format!("{at}Irn"))?;
    let mut body = request.rest;
    body.insert("Irn".into(), json!(request.irn.trim().to_ascii_lowercase()));
    body.insert("Distance".into(), request.distance);
    Ok(Value::Object(body))
}

/// The requests of a body: an array (as ClearTax's samples send) or one object, each with a
/// string `Irn` and a `Distance`; errors name the item and the field.
fn requests_of(body: Value) -> Result<Vec<Value>, ApiError> {
    let items = match body {
        Value::Array(items) => items,
        one @ Value::Object(_) => vec![one],
        _ => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "send an array of e-way bill requests ({Irn, Distance, …})",
                None,
            ))
        }
    };
    if !(1..=MOST_PER_REQUEST).contains(&items.len()) {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "batch_size",
            format!(
                "send 1 to {MOST_PER_REQUEST} e-way bill requests, not {}",
                items.len()
            ),
            None,
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("[{i}].");
            let request: EwbRequest = serde_json::from_value(item).map_err(|e| {
                let message = e.to_string();
                let field = ["Irn", "Distance"]
                    .into_iter()
                    .find(|f| message.contains(&format!("`{f}`")))
                    .unwrap_or("");
                ApiError::bad_request(
                    "invalid_field",
                    format!("{at}{field} : {message}"),
                    Some(&format!("{at}{field}")),
                )
            })?;
            nic_body(request, &at)
        })
        .collect()
}

/// Raise e-way bills for 1–10 IRNs.
#[utoipa::path(
    post,
    path = "/v2/eInvoice/ewaybill",
    tag = "ewaybill",
    request_body = Vec<EwbRequest>,
    params(super::einvoice::DocumentHeaders),
    responses(
        (status = 200, description = "One result per request: GENERATED with the bill, or FAILED with the IRP's errors", body = Vec<EwbResult>),
        (status = 400, description = "A malformed request or IRN", body = ErrorBody),
        (status = 422, description = "Not 1 to 10 requests", body = ErrorBody),
    )
)]
pub async fn generate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Vec<EwbResult>>> {
    let bodies = requests_of(body)?;
    let owner_id = before_irp_call(&state, actor, &owner.0, &gstin).await?;
    run_to_completion(async move {
        let mut results = Vec::with_capacity(bodies.len());
        for body in bodies {
            let outcome = ewaybill::generate(&state, actor, owner_id, &gstin, &body).await;
            results.push(EwbResult {
                owner_id: owner_id.0,
                gstin: gstin.clone(),
                irn: outcome.irn.clone(),
                ewb_status: ewb_status(&outcome).into(),
                govt_response: govt_response(&outcome),
            });
        }
        results
    })
    .await
    .map(Json)
}

/// ClearTax's cancel request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EwbCancelRequest {
    /// The 12-digit e-way bill number (a number or a string).
    #[serde(rename = "ewbNo")]
    #[schema(value_type = Object)]
    pub ewb_no: Value,
    /// `DUPLICATE`, `ORDER_CANCELLED`, `DATA_ENTRY_MISTAKE` or `OTHERS` (or NIC's 1–4).
    #[serde(rename = "cancelRsnCode")]
    #[schema(value_type = Object)]
    pub cancel_rsn_code: Value,
    /// Up to 50 characters.
    #[serde(rename = "cancelRmrk", default)]
    pub cancel_rmrk: Option<String>,
}

/// ClearTax's cancel answer (HTTP 200 on failure too).
#[derive(Debug, Serialize, ToSchema)]
pub struct EwbCancelResult {
    /// Always null, as ClearTax answers.
    #[serde(rename = "ownerId")]
    pub owner_id: Option<String>,
    /// Seller GSTIN.
    pub gstin: String,
    /// The bill's IRN, when the gateway knows it.
    pub irn: Option<String>,
    /// The bill's number.
    #[serde(rename = "ewbNumber")]
    pub ewb_number: i64,
    /// `CANCELLED`, or null when it was not cancelled.
    #[serde(rename = "ewbStatus")]
    pub ewb_status: Option<String>,
    /// The e-way bill system's cancel date, on success.
    #[serde(rename = "cancelDate")]
    pub cancel_date: Option<String>,
    /// The first error (`error_code`, `error_message`, `error_source`), or null.
    #[serde(rename = "errorDetails")]
    #[schema(value_type = Object)]
    pub error_details: Value,
}

fn cancel_of(request: &EwbCancelRequest) -> Result<CancelEwb, ApiError> {
    let ewb_no = match &request.ewb_no {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|n| (100_000_000_000..1_000_000_000_000).contains(n))
    .ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "ewbNo is the 12-digit e-way bill number",
            Some("ewbNo"),
        )
    })?;
    let reason = match &request.cancel_rsn_code {
        Value::Number(n) => cancel_reason_code(&n.to_string()),
        Value::String(s) => cancel_reason_code(s),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::bad_request(
            "invalid_field",
            "cancelRsnCode is DUPLICATE, ORDER_CANCELLED, DATA_ENTRY_MISTAKE or OTHERS (or 1 to 4)",
            Some("cancelRsnCode"),
        )
    })?;
    let remark = request.cancel_rmrk.clone().unwrap_or_default();
    if remark.chars().count() > 50 {
        return Err(ApiError::bad_request(
            "invalid_field",
            "cancelRmrk has at most 50 characters",
            Some("cancelRmrk"),
        ));
    }
    Ok(CancelEwb {
        ewb_no,
        cancel_rsn_code: reason,
        cancel_rmrk: remark,
    })
}

/// Cancel an e-way bill.
#[utoipa::path(
    post,
    path = "/v2/eInvoice/ewaybill/cancel",
    tag = "ewaybill",
    request_body = EwbCancelRequest,
    params(super::einvoice::DocumentHeaders),
    responses(
        (status = 200, description = "Cancelled (ewbStatus CANCELLED), or not (errorDetails)", body = EwbCancelResult),
        (status = 400, description = "A malformed number, reason or remark", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    ApiJson(request): ApiJson<EwbCancelRequest>,
) -> ApiResult<Json<EwbCancelResult>> {
    let cancel = cancel_of(&request)?;
    let owner_id = before_irp_call(&state, actor, &owner.0, &gstin).await?;
    run_to_completion(async move {
        let outcome = ewaybill::cancel(&state, actor, owner_id, &gstin, &cancel).await;
        let cancelled = outcome.errors.is_empty();
        EwbCancelResult {
            owner_id: None,
            gstin,
            irn: outcome.irn,
            ewb_number: cancel.ewb_no,
            ewb_status: cancelled.then(|| "CANCELLED".to_string()),
            cancel_date: outcome.cancel_date,
            error_details: error_details(&outcome.errors)
                .into_iter()
                .next()
                .unwrap_or(Value::Null),
        }
    })
    .await
    .map(Json)
}

/// Raise one e-way bill, as NIC's generate EWB by IRN answers.
#[utoipa::path(
    post,
    path = "/v1/govt/api/einvewb/ewaybill",
    tag = "govt",
    request_body = EwbRequest,
    params(super::einvoice::DocumentHeaders),
    responses(
        (status = 200, description = "NIC-shaped: Success Y with EwbNo, EwbDt, EwbValidTill; or the request echoed with EwbStatus FAILED and ErrorDetails", body = Object),
        (status = 400, description = "A malformed request or IRN", body = ErrorBody),
    )
)]
pub async fn govt_generate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    ApiJson(request): ApiJson<EwbRequest>,
) -> ApiResult<Json<Value>> {
    let body = nic_body(request, "")?;
    let owner_id = before_irp_call(&state, actor, &owner.0, &gstin).await?;
    run_to_completion(async move {
        let outcome = ewaybill::generate(&state, actor, owner_id, &gstin, &body).await;
        let mut answer = govt_response(&outcome);
        if !outcome.errors.is_empty() {
            // As ClearTax does: the request echoed, marked FAILED, with the errors.
            if let (Value::Object(fields), Value::Object(sent)) = (&mut answer, body) {
                for (key, value) in sent {
                    fields.entry(key).or_insert(value);
                }
                fields.insert("EwbStatus".into(), json!("FAILED"));
                let errors = fields.get("ErrorDetails").cloned().unwrap_or(Value::Null);
                fields.insert("errors".into(), json!({ "errors": errors }));
            }
        }
        answer
    })
    .await
    .map(Json)
}
