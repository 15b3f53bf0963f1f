//! `store_nic_credentials` (ClearTax's contract, under `/v2` and `/einv/v2`) and the read and
//! delete endpoints beside it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::clock::rfc3339;
use crate::http::access::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody, ErrorDetail};
use crate::http::extract::{ApiJson, ApiQuery, OwnerHeaders, RequestId};
use crate::ids::OwnerId;
use crate::service::credentials::{self, StoreRequest};
use crate::service::{bulk, owners, verify};
use crate::state::AppState;

/// The body of `store_nic_credentials`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreCredentialsBody {
    /// The GSTIN the credentials are for.
    #[schema(example = "29AAFCD5862R000")]
    pub gstin: String,
    /// The NIC API username (6-15 letters and digits).
    #[schema(example = "apiuser01")]
    pub username: String,
    /// The NIC API password. Stored encrypted; never returned.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

/// Which credentials to read or delete.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CredentialQuery {
    /// The owner.
    #[param(value_type = uuid::Uuid)]
    pub owner_id: OwnerId,
    /// The GSTIN.
    pub gstin: String,
}

/// Stored credentials, without the password.
#[derive(Serialize, ToSchema)]
pub struct CredentialView {
    /// The GSTIN.
    pub gstin: String,
    /// The NIC API username.
    pub username: String,
    /// Whether a password is stored (it is never returned).
    pub password_set: bool,
    /// Bumped on every store.
    pub version: i64,
    /// RFC 3339 time of the last store.
    pub updated_at: String,
    /// `UNVERIFIED` until checked at the IRP; then `VERIFIED`, `WRONG_PASSWORD`,
    /// `UNKNOWN_USER`, `NOT_MAPPED_TO_GSP`, `GSTIN_NOT_ENABLED`, `USER_FROZEN`, `BLOCKED` or
    /// `IRP_UNAVAILABLE`.
    #[schema(example = "VERIFIED")]
    pub status: String,
    /// RFC 3339 time of the last check at the IRP.
    pub last_verified_at: Option<String>,
    /// What the last check said, in plain words.
    pub last_error: Option<String>,
}

/// The result of checking credentials at the IRP.
#[derive(Serialize, ToSchema)]
pub struct VerificationView {
    /// The GSTIN.
    pub gstin: String,
    /// The status (see `CredentialView.status`).
    pub status: String,
    /// RFC 3339 time of the check.
    pub last_verified_at: String,
    /// What to do, when not verified.
    pub last_error: Option<String>,
}

impl From<crate::service::verify::Verification> for VerificationView {
    fn from(v: crate::service::verify::Verification) -> Self {
        VerificationView {
            gstin: v.gstin,
            status: v.status.as_str().to_string(),
            last_verified_at: rfc3339(v.verified_at),
            last_error: v.last_error,
        }
    }
}

/// When a store checks the credentials at the IRP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VerifyWhen {
    /// Store without checking.
    False,
    /// Store, then check and report the status.
    True,
    /// Check first; store only if the IRP accepts the new pair, else keep the stored one.
    Before,
}

/// `?verify=true|before` on a store.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyFlag {
    /// `true`: authenticate at the IRP right after storing and report the status. `before`:
    /// authenticate with the new pair first and replace the stored one only if the IRP accepts
    /// it (otherwise the answer has `success: false`, the status, and the stored pair stays).
    #[param(inline)]
    pub verify: Option<VerifyWhen>,
}

/// A store's answer, as ClearTax's: `{"success": true, "errorDetails": null}`, with the
/// check's result when `verify=true` and warnings when something is unusual.
#[derive(Serialize, ToSchema)]
pub struct StoredBody {
    /// True when stored; false only when `verify=before` kept the stored pair.
    pub success: bool,
    /// Null when stored (ClearTax's clients read the key); with `verify=before`, why the IRP
    /// refused the new pair.
    #[serde(rename = "errorDetails")]
    #[schema(value_type = Option<Vec<ErrorDetail>>)]
    pub error_details: Option<Vec<ErrorDetail>>,
    /// What was stored but looks unusual (e.g. `unusual_username`), in the error shape.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<ErrorDetail>,
    /// The IRP's verdict, with `?verify=true` or `?verify=before`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<VerificationView>,
    /// With `?verify=before`: whether the new pair replaced the stored one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<bool>,
}

/// Which credentials to check.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The GSTIN.
    pub gstin: String,
}

/// Store (or override) the NIC API username and password of a GSTIN. Also served under
/// ClearTax's current prefix, `/einv/v2/...`.
#[utoipa::path(
    post,
    path = "/v2/nic_credentials/store_nic_credentials",
    tag = "nic_credentials",
    request_body = StoreCredentialsBody,
    params(
        VerifyFlag,
        ("owner_id" = Option<Uuid>, Header, description = "UUID of the PAN, GSTIN or branch owner; without it, the account's GSTIN owner of the body's GSTIN (made if there is none)"),
        ("branch" = Option<String>, Header, description = "Without owner_id: a branch of the GSTIN by name (made under the GSTIN owner if there is none)"),
    ),
    responses(
        (status = 200, description = "Stored", body = StoredBody),
        (status = 403, description = "The GSTIN does not belong to the owner", body = ErrorBody),
        (status = 404, description = "No such owner in this account", body = ErrorBody),
        (status = 409, description = "Several owners for the GSTIN; send owner_id", body = ErrorBody),
        (status = 422, description = "Invalid GSTIN, username or password", body = ErrorBody),
    )
)]
pub async fn store_nic_credentials(
    State(state): State<AppState>,
    actor: Caller,
    owner: OwnerHeaders,
    request_id: RequestId,
    headers: axum::http::HeaderMap,
    ApiQuery(flag): ApiQuery<VerifyFlag>,
    ApiJson(body): ApiJson<StoreCredentialsBody>,
) -> ApiResult<Json<StoredBody>> {
    let gstin = body.gstin.to_ascii_uppercase();
    if let Some(header) = headers.get("gstin").and_then(|v| v.to_str().ok()) {
        if !header.trim().eq_ignore_ascii_case(&gstin) {
            return Err(ApiError::bad_request(
                "gstin_mismatch",
                format!(
                    "the gstin header ({}) and the body's gstin ({gstin}) differ; send the same GSTIN in both",
                    header.trim()
                ),
                Some("gstin"),
            ));
        }
    }
    let warnings = credentials::username_warnings(&body.username)
        .into_iter()
        .map(ErrorDetail::from)
        .collect();
    let request = StoreRequest {
        gstin: body.gstin,
        username: body.username,
        password: body.password,
    };
    let owner_id = match owner.0.owner_id {
        // A new owner_id makes the owner (ClearTax's owner ids are chosen by the client).
        Some(owner_id) => owner_id,
        None => {
            // Every problem of the body at once, before an owner is found or made for it.
            credentials::validate(&state, &request)?;
            owners::resolve_or_create(&state, actor.0, owner.0.branch.as_deref(), &gstin).await?
        }
    };
    if flag.verify == Some(VerifyWhen::Before) {
        return Ok(Json(
            match verify::store_if_accepted(&state, actor.0, owner_id, request, request_id.0)
                .await?
            {
                verify::CheckedStore::Replaced { verification, .. } => StoredBody {
                    success: true,
                    error_details: None,
                    warnings,
                    verification: Some(verification.into()),
                    replaced: Some(true),
                },
                verify::CheckedStore::Kept { verification } => StoredBody {
                    success: false,
                    error_details: Some(vec![ErrorDetail {
                        error_code: verification.status.as_str().to_string(),
                        error_message: format!(
                            "the IRP did not accept the new credentials, so the stored ones stay in use: {}",
                            verification.last_error.as_deref().unwrap_or("")
                        ),
                        field: Some("password".into()),
                    }]),
                    warnings,
                    verification: Some(verification.into()),
                    replaced: Some(false),
                },
            },
        ));
    }
    credentials::store(&state, actor.0, owner_id, request, request_id.0).await?;
    let verification = match flag.verify {
        Some(VerifyWhen::True) => Some(
            verify::verify(&state, actor.0, owner_id, &gstin)
                .await?
                .into(),
        ),
        _ => None,
    };
    Ok(Json(StoredBody {
        success: true,
        error_details: None,
        warnings,
        verification,
        replaced: None,
    }))
}

/// Check stored credentials at the IRP and record the status.
#[utoipa::path(
    post,
    path = "/v2/nic_credentials/verify",
    tag = "nic_credentials",
    request_body = VerifyBody,
    params(
        ("owner_id" = Option<Uuid>, Header, description = "UUID of the owner; without it, the account's owner of the GSTIN"),
        ("branch" = Option<String>, Header, description = "A branch of the GSTIN by name (an owner of kind BRANCH)"),
    ),
    responses(
        (status = 200, description = "Checked; see status", body = VerificationView),
        (status = 404, description = "No such owner or credentials", body = ErrorBody),
        (status = 409, description = "Several owners for the GSTIN; send owner_id", body = ErrorBody),
    )
)]
pub async fn verify_nic_credentials(
    State(state): State<AppState>,
    actor: Caller,
    owner: OwnerHeaders,
    ApiJson(body): ApiJson<VerifyBody>,
) -> ApiResult<Json<VerificationView>> {
    let owner_id = owners::resolve(&state, actor.0, &owner.0, &body.gstin).await?;
    Ok(Json(
        verify::verify(&state, actor.0, owner_id, &body.gstin)
            .await?
            .into(),
    ))
}

/// Read the stored credentials of an owner and GSTIN (never the password).
#[utoipa::path(
    get,
    path = "/v2/nic_credentials",
    tag = "nic_credentials",
    params(CredentialQuery),
    responses(
        (status = 200, description = "Stored credentials", body = CredentialView),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such owner or credentials", body = ErrorBody),
    )
)]
pub async fn get_nic_credentials(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiQuery(query): ApiQuery<CredentialQuery>,
) -> ApiResult<Json<CredentialView>> {
    let summary = credentials::summary(&state, actor, query.owner_id, &query.gstin).await?;
    Ok(Json(CredentialView {
        gstin: summary.gstin,
        username: summary.username,
        password_set: summary.password_set,
        version: summary.version,
        updated_at: rfc3339(summary.updated_at),
        status: summary.status.as_str().to_string(),
        last_verified_at: summary.last_verified_at.map(rfc3339),
        last_error: summary.last_error,
    }))
}

/// Delete the stored credentials of an owner and GSTIN (audited).
#[utoipa::path(
    delete,
    path = "/v2/nic_credentials",
    tag = "nic_credentials",
    params(CredentialQuery),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 404, description = "No such owner or credentials", body = ErrorBody),
    )
)]
pub async fn delete_nic_credentials(
    State(state): State<AppState>,
    Caller(actor): Caller,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<CredentialQuery>,
) -> ApiResult<StatusCode> {
    credentials::delete(&state, actor, query.owner_id, &query.gstin, request_id.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The fastest verification pace a bulk import may ask for.
pub const MAX_AUTH_PER_SECOND: u32 = 50;

/// One row of a bulk import.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkRow {
    /// The GSTIN.
    pub gstin: String,
    /// The NIC API username.
    pub username: String,
    /// The NIC API password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// The owner (default: the account's GSTIN owner for this GSTIN, created if needed).
    pub owner_id: Option<Uuid>,
}

/// A bulk import.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkBody {
    /// Up to 500 rows.
    pub credentials: Vec<BulkRow>,
    /// Check each row at the IRP.
    #[serde(default)]
    pub verify: bool,
    /// Auth calls a second when verifying (default 5, at most 50).
    #[schema(minimum = 1, maximum = 50)]
    pub auth_per_second: Option<u32>,
}

/// One row's result.
#[derive(Serialize, ToSchema)]
pub struct BulkRowResult {
    /// 1-based row number.
    pub row: usize,
    /// The GSTIN.
    pub gstin: String,
    /// The owner used.
    pub owner_id: Option<Uuid>,
    /// `STORED` or `ERROR`.
    pub status: String,
    /// The new version.
    pub version: Option<i64>,
    /// The IRP's verdict, when verifying.
    pub verification: Option<String>,
    /// What went wrong, or what to do.
    pub message: Option<String>,
}

/// The import's results.
#[derive(Serialize, ToSchema)]
pub struct BulkResult {
    /// Rows stored.
    pub stored: usize,
    /// Rows refused.
    pub errors: usize,
    /// One entry per row, in order.
    pub results: Vec<BulkRowResult>,
}

/// Store credentials for many GSTINs at once; each row on its own.
#[utoipa::path(
    post,
    path = "/v2/nic_credentials/bulk",
    tag = "nic_credentials",
    request_body = BulkBody,
    responses(
        (status = 200, description = "Per-row results", body = BulkResult),
        (status = 422, description = "No rows, more than 500, or auth_per_second out of 1-50", body = ErrorBody),
    )
)]
pub async fn bulk_nic_credentials(
    State(state): State<AppState>,
    Caller(actor): Caller,
    request_id: RequestId,
    ApiJson(body): ApiJson<BulkBody>,
) -> ApiResult<Json<BulkResult>> {
    if body.credentials.is_empty() || body.credentials.len() > 500 {
        return Err(crate::http::error::ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "batch_size",
            "send 1 to 500 rows per request",
            Some("credentials"),
        ));
    }
    let auth_per_second = body.auth_per_second.unwrap_or(5);
    if !(1..=MAX_AUTH_PER_SECOND).contains(&auth_per_second) {
        return Err(crate::http::error::ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_pace",
            format!("auth_per_second is 1 to {MAX_AUTH_PER_SECOND}: NIC blocks clients that authenticate too often"),
            Some("auth_per_second"),
        ));
    }
    let rows = body
        .credentials
        .into_iter()
        .map(|r| bulk::ImportRow {
            gstin: r.gstin,
            username: r.username,
            password: r.password,
            owner_id: r.owner_id.map(OwnerId),
        })
        .collect();
    let results = bulk::import(
        &state,
        actor,
        rows,
        body.verify,
        auth_per_second,
        request_id.0,
        |_| {},
    )
    .await;
    let stored = results.iter().filter(|r| r.status == "STORED").count();
    Ok(Json(BulkResult {
        stored,
        errors: results.len() - stored,
        results: results
            .into_iter()
            .map(|r| BulkRowResult {
                row: r.row,
                gstin: r.gstin,
                owner_id: r.owner_id.map(OwnerId::uuid),
                status: r.status.to_string(),
                version: r.version,
                verification: r.verification.map(str::to_string),
                message: r.message,
            })
            .collect(),
    }))
}
