//! ClearTax-compatible e-invoice calls: generate (1–10 documents, `?dryRun=true` validates
//! only), cancel, and get by IRN.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

use super::before_irp::{before_irp_call, run_to_completion, wait_for_turn};
use crate::http::access::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, GstinHeader, JsonBody, OwnerHeaders};
use crate::ids::OwnerId;
use crate::service::einvoice::{self, DocumentStatus, Outcome};
use crate::service::outcome::{cleartax_code, ErrorSource};
use crate::service::{irp_call, owners, Actor};
use crate::state::AppState;

/// One document to register. Keys ClearTax documents besides these (e.g. `group_id`) are
/// accepted and ignored, so one client's extra key never fails a batch.
#[derive(Deserialize, ToSchema)]
pub struct GenerateItem {
    /// The INV-01 document.
    #[schema(value_type = Object)]
    pub transaction: Value,
    /// Returned as sent (at most 10 pairs in ClearTax's contract).
    #[schema(value_type = Object)]
    pub custom_fields: Option<Value>,
    /// The ERP's own id for the document, returned as sent.
    pub transaction_id: Option<String>,
    /// Returned as sent.
    #[schema(value_type = Object)]
    pub transaction_metadata: Option<Value>,
}

/// `?dryRun=true`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct DryRun {
    /// Validate only (`true`, `TRUE`, `1`, …).
    #[serde(default, deserialize_with = "lenient_bool")]
    #[param(value_type = Option<bool>)]
    pub dry_run: Option<bool>,
}

/// A flag as ClearTax clients write it: any case of `true`/`false`, or `1`/`0`.
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let text = Option::<String>::deserialize(d)?;
    match text.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0" | "") => Ok(Some(false)),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected true or false, found `{other}`"
        ))),
    }
}

/// A reason code as clients send it: `"1"` or `1`.
pub(super) fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(text) => Ok(text),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("expected a string or a number")),
    }
}

/// The headers every e-invoice call sends (read by `OwnerHeaders` and `GstinHeader`; this
/// describes them once for the OpenAPI document).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
#[allow(dead_code)]
pub struct DocumentHeaders {
    /// Seller GSTIN.
    gstin: String,
    /// UUID of the owner; without it, the account's owner of the GSTIN.
    owner_id: Option<uuid::Uuid>,
    /// A branch of the GSTIN by name (an owner of kind BRANCH); with `owner_id`, its name.
    branch: Option<String>,
}

/// One IRN to cancel.
#[derive(Deserialize, ToSchema)]
pub struct CancelItem {
    /// The IRN.
    #[serde(alias = "Irn")]
    pub irn: String,
    /// 1 duplicate, 2 data entry mistake, 3 order cancelled, 4 others.
    #[serde(
        rename = "CnlRsn",
        alias = "cnlrsn",
        alias = "Cnlrsn",
        deserialize_with = "string_or_number"
    )]
    pub cnl_rsn: String,
    /// Remark, up to 100 characters.
    #[serde(rename = "CnlRem", alias = "cnlrem", alias = "Cnlrem", default)]
    pub cnl_rem: String,
}

impl CancelItem {
    /// Cancels this IRN for the owner.
    pub(super) async fn cancel(
        &self,
        state: &AppState,
        actor: Actor,
        owner_id: OwnerId,
        gstin: &str,
    ) -> Outcome {
        einvoice::cancel(
            state,
            actor,
            owner_id,
            gstin,
            &self.irn,
            &self.cnl_rsn,
            &self.cnl_rem,
        )
        .await
    }
}

/// `?irn=a&irn=b` or `?irn=a,b`: 1 to 10 IRNs.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct IrnQuery {
    /// The IRNs: repeat the parameter, or separate them with commas.
    irn: Vec<String>,
}

/// The IRNs a query names under `key` (repeated, or separated by commas), in order, each
/// checked: 1 to `most` of them.
pub(super) fn irns_of(
    query: Option<&str>,
    key: &str,
    most: usize,
) -> Result<Vec<String>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_request("invalid_query", format!("query string: {e}"), None))?;
    let irns: Vec<String> = pairs
        .into_iter()
        .filter(|(name, _)| name == key)
        .flat_map(|(_, value)| {
            value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    if irns.is_empty() {
        return Err(ApiError::bad_request(
            "missing_field",
            format!("name at least one IRN: ?{key}=… (repeat it, or separate IRNs with commas)"),
            Some(key),
        ));
    }
    if irns.len() > most {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "batch_size",
            format!("name 1 to {most} IRNs per request, not {}", irns.len()),
            Some(key),
        ));
    }
    let single = irns.len() == 1;
    for (i, irn) in irns.iter().enumerate() {
        let field = if single {
            key.to_string()
        } else {
            format!("{key}[{i}]")
        };
        check_irn(irn, &field)?;
    }
    Ok(irns)
}

/// One document's result, with every key ClearTax documents (null when it has no value).
#[derive(Serialize, ToSchema)]
pub struct DocumentResult {
    /// The owner the call was made for.
    pub owner_id: uuid::Uuid,
    /// The seller GSTIN (the `gstin` header).
    pub gstin: String,
    /// As sent with the document, else null.
    pub transaction_id: Option<String>,
    /// ClearTax's batch grouping; the gateway does not group, so always null.
    #[schema(value_type = Option<String>)]
    pub group_id: Option<String>,
    /// Always false: nothing is deleted.
    pub deleted: bool,
    /// The errors again, as `{"errors": [...]}`, or null.
    #[schema(value_type = Option<Object>)]
    pub errors: Option<Value>,
    /// ClearTax's field for a failed call's raw answer; the errors are in `govt_response`, so
    /// always null.
    #[schema(value_type = Option<Object>)]
    pub error_response: Option<Value>,
    /// ClearTax's values: `IRN_GENERATED`, `NOT_CREATED` and (dry run) `DOCUMENT_VALIDATION`
    /// from generate; `IRN_CANCELLED`, or the IRN's real state, from cancel; `IRN_GENERATED`,
    /// `IRN_CANCELLED` or `IRN_GENERATION_FAILED` from get.
    pub document_status: String,
    /// The IRP's answer in ClearTax's shape.
    #[schema(value_type = Object)]
    pub govt_response: Value,
    /// The document as the IRP registered it (the data of the signed invoice, which the
    /// gateway verified against the IRP's certificate), else null.
    #[schema(value_type = Option<Object>)]
    pub transaction: Option<Value>,
    /// As sent, else null.
    #[schema(value_type = Option<Object>)]
    pub custom_fields: Option<Value>,
    /// As sent, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub transaction_metadata: Option<Value>,
}

/// What a result echoes of its request.
#[derive(Default)]
struct Echo {
    custom_fields: Option<Value>,
    transaction_id: Option<String>,
    transaction_metadata: Option<Value>,
}

/// Errors as `ErrorDetails` entries: `error_code` (ClearTax's number for the platform's own
/// errors where its catalogue has one), `error_message`, `error_source`, and the gateway's
/// `gateway_error_code` and `error_detail` where they apply.
pub(super) fn error_details(errors: &[crate::service::outcome::OutcomeError]) -> Vec<Value> {
    errors
        .iter()
        .map(|e| {
            // The platform's own codes: ClearTax's number where its catalogue has one, and
            // the gateway's stable string beside it.
            let code = match e.source {
                ErrorSource::Platform => cleartax_code(&e.code).unwrap_or(&e.code),
                ErrorSource::Govt => &e.code,
            };
            let mut error = json!({"error_code": code, "error_message": e.message, "error_source": e.source.as_str()});
            if let Value::Object(fields) = &mut error {
                if e.source == ErrorSource::Platform {
                    fields.insert("gateway_error_code".into(), json!(e.code));
                }
                if let Some(detail) = &e.detail {
                    fields.insert("error_detail".into(), json!(detail));
                }
            }
            error
        })
        .collect()
}

pub(super) fn govt_response(outcome: &Outcome) -> Value {
    let field = |k: &str| {
        outcome
            .data
            .as_ref()
            .and_then(|d| d.get(k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let errors = error_details(&outcome.errors);
    // `Success` agrees with the errors: "Y" only without any.
    let success = outcome.errors.is_empty()
        && (outcome.data.is_some()
            || outcome.document_status == DocumentStatus::DocumentValidation);
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
        "info": if outcome.info.is_empty() { Value::Null } else { Value::Array(outcome.info.clone()) },
    })
}

fn result(outcome: Outcome, owner_id: OwnerId, gstin: &str, echo: Echo) -> DocumentResult {
    let govt_response = govt_response(&outcome);
    let errors = match &govt_response["ErrorDetails"] {
        Value::Null => None,
        details => Some(json!({ "errors": details })),
    };
    DocumentResult {
        transaction: outcome.document.map(|document| *document),
        owner_id: owner_id.uuid(),
        gstin: gstin.to_string(),
        transaction_id: echo.transaction_id,
        group_id: None,
        deleted: false,
        errors,
        error_response: None,
        document_status: outcome.document_status.as_str().to_string(),
        govt_response,
        custom_fields: echo.custom_fields,
        transaction_metadata: echo.transaction_metadata,
    }
}

/// An IRN is 64 hexadecimal characters (the SHA-256 of the document's identity); anything else
/// is refused here, before it can reach a URL.
pub(super) fn check_irn(irn: &str, field: &str) -> Result<(), ApiError> {
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
        DocumentHeaders,
    ),
    responses(
        (status = 200, description = "One result per document", body = Vec<DocumentResult>),
        (status = 422, description = "Not 1 to 10 documents", body = ErrorBody),
    )
)]
pub async fn generate(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    ApiQuery(query): ApiQuery<DryRun>,
    body: JsonBody,
) -> ApiResult<Json<Vec<DocumentResult>>> {
    let dry_run = query.dry_run.unwrap_or(false);
    let (owner_id, items, turn) = if dry_run {
        let items: Vec<GenerateItem> = body.read().await?;
        batch_size(items.len())?;
        let owner_id = owners::resolve(&state, actor, &owner.0, &gstin).await?;
        (owner_id, items, None)
    } else {
        let at_turn = wait_for_turn(
            &state,
            actor,
            (&owner.0, &gstin),
            body,
            |items: &Vec<GenerateItem>| batch_size(items.len()).map(|()| items.len()),
        )
        .await?;
        (at_turn.owner_id, at_turn.body, at_turn.turn)
    };
    run_to_completion(async move {
        let _turn = turn;
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let outcome =
                einvoice::generate(&state, actor, owner_id, &gstin, item.transaction, dry_run)
                    .await;
            let echo = Echo {
                custom_fields: item.custom_fields,
                transaction_id: item.transaction_id,
                transaction_metadata: item.transaction_metadata,
            };
            results.push(result(outcome, owner_id, &gstin, echo));
        }
        results
    })
    .await
    .map(Json)
}

/// Cancel 1–10 IRNs.
#[utoipa::path(
    put,
    path = "/v2/eInvoice/cancel",
    tag = "einvoice",
    request_body = Vec<CancelItem>,
    params(DocumentHeaders),
    responses(
        (status = 200, description = "One result per IRN", body = Vec<DocumentResult>),
        (status = 422, description = "Not 1 to 10 IRNs", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    ApiJson(items): ApiJson<Vec<CancelItem>>,
) -> ApiResult<Json<Vec<DocumentResult>>> {
    batch_size(items.len())?;
    for (i, item) in items.iter().enumerate() {
        check_irn(&item.irn, &format!("[{i}].irn"))?;
    }
    let owner_id = before_irp_call(&state, actor, &owner.0, &gstin).await?;
    run_to_completion(async move {
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let outcome = item.cancel(&state, actor, owner_id, &gstin).await;
            results.push(result(outcome, owner_id, &gstin, Echo::default()));
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
        DocumentHeaders,
    ),
    responses(
        (status = 200, description = "One result per IRN, in the order asked", body = Vec<DocumentResult>),
        (status = 422, description = "More than 10 IRNs", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    uri: axum::http::Uri,
) -> ApiResult<Json<Vec<DocumentResult>>> {
    let irns = irns_of(uri.query(), "irn", 10)?;
    einvoice::check_auth_budget(&state, actor, &gstin)?;
    let owner_id = owners::resolve(&state, actor, &owner.0, &gstin).await?;
    irp_call::admit_irp_calls(&state, actor, &gstin, irns.len())?;
    let mut results = Vec::with_capacity(irns.len());
    for irn in &irns {
        let outcome = einvoice::get(&state, actor, owner_id, &gstin, irn).await;
        results.push(result(outcome, owner_id, &gstin, Echo::default()));
    }
    Ok(Json(results))
}
