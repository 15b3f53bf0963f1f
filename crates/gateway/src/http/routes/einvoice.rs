//! ClearTax-compatible e-invoice calls: generate (1–10 documents, `?dryRun=true` validates
//! only), cancel, and get by IRN.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use crate::http::access::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, GstinHeader, OwnerIdHeader};
use crate::service::einvoice::{self, DocumentStatus, Outcome};
use crate::state::AppState;

/// One document to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateItem {
    /// The INV-01 document.
    #[schema(value_type = Object)]
    pub transaction: Value,
    /// Returned as sent.
    #[schema(value_type = Object)]
    pub custom_fields: Option<Value>,
}

/// `?dryRun=true`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DryRun {
    /// Validate only.
    pub dry_run: Option<bool>,
}

/// One IRN to cancel.
#[derive(Deserialize, ToSchema)]
pub struct CancelItem {
    /// The IRN.
    #[serde(alias = "Irn")]
    pub irn: String,
    /// 1 duplicate, 2 data entry mistake, 3 order cancelled, 4 others.
    #[serde(rename = "CnlRsn", alias = "cnlrsn", alias = "Cnlrsn")]
    pub cnl_rsn: String,
    /// Remark, up to 100 characters.
    #[serde(rename = "CnlRem", alias = "cnlrem", alias = "Cnlrem", default)]
    pub cnl_rem: String,
}

/// `?irn=`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IrnQuery {
    /// The IRN.
    pub irn: String,
}

/// One document's result.
#[derive(Serialize, ToSchema)]
pub struct DocumentResult {
    /// `IRN_GENERATED`, `NOT_CREATED`, `DOCUMENT_VALIDATION`, `VALIDATED`, `CANCELLED`,
    /// `NOT_CANCELLED`, `FOUND` or `NOT_FOUND`.
    pub document_status: String,
    /// The IRP's answer in ClearTax's shape.
    #[schema(value_type = Object)]
    pub govt_response: Value,
    /// As sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub custom_fields: Option<Value>,
}

fn govt_response(outcome: &Outcome) -> Value {
    let field = |k: &str| {
        outcome
            .data
            .as_ref()
            .and_then(|d| d.get(k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let errors: Vec<Value> = outcome
        .errors
        .iter()
        .map(
            |e| json!({"error_code": e.code, "error_message": e.message, "error_source": e.source.as_str()}),
        )
        .collect();
    let success = outcome.data.is_some() || outcome.document_status == DocumentStatus::Validated;
    json!({
        "Success": if success { "Y" } else { "N" },
        "AckNo": field("AckNo"),
        "AckDt": field("AckDt"),
        "Irn": field("Irn"),
        "SignedInvoice": field("SignedInvoice"),
        "SignedQRCode": field("SignedQRCode"),
        "Status": field("Status"),
        "EwbNo": field("EwbNo"),
        "EwbDt": field("EwbDt"),
        "EwbValidTill": field("EwbValidTill"),
        "CancelDate": field("CancelDate"),
        "Remarks": field("Remarks"),
        "ErrorDetails": if errors.is_empty() { Value::Null } else { Value::Array(errors) },
    })
}

fn result(outcome: Outcome, custom_fields: Option<Value>) -> DocumentResult {
    DocumentResult {
        document_status: outcome.document_status.as_str().to_string(),
        govt_response: govt_response(&outcome),
        custom_fields,
    }
}

/// An IRN is 64 hexadecimal characters (the SHA-256 of the document's identity); anything else
/// is refused here, before it can reach a URL.
fn check_irn(irn: &str, field: &str) -> Result<(), ApiError> {
    if irp_protocol::irn::is_irn(irn.trim()) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "invalid_irn",
            "an IRN is 64 hexadecimal characters",
            Some(field),
        ))
    }
}

fn batch_size(n: usize) -> Result<(), ApiError> {
    if (1..=10).contains(&n) {
        Ok(())
    } else {
        Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "batch_size",
            format!("send 1 to 10 documents per request, not {n}"),
            None,
        ))
    }
}

/// Register 1–10 documents at the IRP.
#[utoipa::path(
    put,
    path = "/v2/eInvoice/generate",
    tag = "einvoice",
    request_body = Vec<GenerateItem>,
    params(
        DryRun,
        ("gstin" = String, Header, description = "Seller GSTIN"),
        ("owner_id" = uuid::Uuid, Header, description = "UUID of the owner"),
    ),
    responses(
        (status = 200, description = "One result per document", body = Vec<DocumentResult>),
        (status = 422, description = "Not 1 to 10 documents", body = ErrorBody),
    )
)]
pub async fn generate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerIdHeader,
    GstinHeader(gstin): GstinHeader,
    ApiQuery(query): ApiQuery<DryRun>,
    ApiJson(items): ApiJson<Vec<GenerateItem>>,
) -> ApiResult<Json<Vec<DocumentResult>>> {
    batch_size(items.len())?;
    let dry_run = query.dry_run.unwrap_or(false);
    if !dry_run {
        einvoice::check_breaker(&state)?;
        einvoice::check_auth_budget(&state, actor, &gstin)?;
    }
    let owner_id = owner.0;
    run_to_completion(async move {
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let outcome =
                einvoice::generate(&state, actor, owner_id, &gstin, item.transaction, dry_run)
                    .await;
            results.push(result(outcome, item.custom_fields));
        }
        results
    })
    .await
    .map(Json)
}

/// Runs IRP work on its own task: once a document is sent to the IRP, neither a client that
/// hangs up nor the request timeout may cancel the work between the IRP's answer and the
/// record of it.
async fn run_to_completion<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> ApiResult<T> {
    tokio::spawn(work)
        .await
        .map_err(|e| crate::http::error::ApiError::from(crate::service::ServiceError::internal(e)))
}

/// Cancel 1–10 IRNs.
#[utoipa::path(
    put,
    path = "/v2/eInvoice/cancel",
    tag = "einvoice",
    request_body = Vec<CancelItem>,
    params(
        ("gstin" = String, Header, description = "Seller GSTIN"),
        ("owner_id" = uuid::Uuid, Header, description = "UUID of the owner"),
    ),
    responses(
        (status = 200, description = "One result per IRN", body = Vec<DocumentResult>),
        (status = 422, description = "Not 1 to 10 IRNs", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerIdHeader,
    GstinHeader(gstin): GstinHeader,
    ApiJson(items): ApiJson<Vec<CancelItem>>,
) -> ApiResult<Json<Vec<DocumentResult>>> {
    batch_size(items.len())?;
    for (i, item) in items.iter().enumerate() {
        check_irn(&item.irn, &format!("[{i}].irn"))?;
    }
    einvoice::check_breaker(&state)?;
    einvoice::check_auth_budget(&state, actor, &gstin)?;
    let owner_id = owner.0;
    run_to_completion(async move {
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let outcome = einvoice::cancel(
                &state,
                actor,
                owner_id,
                &gstin,
                &item.irn,
                &item.cnl_rsn,
                &item.cnl_rem,
            )
            .await;
            results.push(result(outcome, None));
        }
        results
    })
    .await
    .map(Json)
}

/// Fetch an e-invoice by IRN (from the IRP, or from retention when switched on).
#[utoipa::path(
    get,
    path = "/v2/eInvoice/get",
    tag = "einvoice",
    params(
        IrnQuery,
        ("gstin" = String, Header, description = "Seller GSTIN"),
        ("owner_id" = uuid::Uuid, Header, description = "UUID of the owner"),
    ),
    responses(
        (status = 200, description = "The e-invoice, or why not", body = DocumentResult),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerIdHeader,
    GstinHeader(gstin): GstinHeader,
    ApiQuery(query): ApiQuery<IrnQuery>,
) -> ApiResult<Json<DocumentResult>> {
    check_irn(&query.irn, "irn")?;
    einvoice::check_auth_budget(&state, actor, &gstin)?;
    let outcome = einvoice::get(&state, actor, owner.0, &gstin, &query.irn).await;
    Ok(Json(result(outcome, None)))
}
