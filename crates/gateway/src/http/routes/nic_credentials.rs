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
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ActorOrSandbox, ApiJson, ApiQuery, OwnerIdHeader, RequestId};
use crate::service::credentials::{self, StoreRequest};
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

/// `{"success": true}`.
#[derive(Serialize, ToSchema)]
pub struct SuccessBody {
    /// Always true.
    pub success: bool,
}

/// Which credentials to read or delete.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CredentialQuery {
    /// The owner.
    pub owner_id: Uuid,
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
    /// Verification status; `UNVERIFIED` until the gateway authenticates at the IRP.
    #[schema(example = "UNVERIFIED")]
    pub status: String,
}

/// Store (or override) the NIC API username and password of a GSTIN. Also served under
/// ClearTax's current prefix, `/einv/v2/...`.
#[utoipa::path(
    post,
    path = "/v2/nic_credentials/store_nic_credentials",
    tag = "nic_credentials",
    request_body = StoreCredentialsBody,
    params(
        ("owner_id" = Uuid, Header, description = "UUID of the PAN, GSTIN or branch owner"),
        ("X-Cleartax-Auth-Token" = Option<String>, Header, description = "API token; not needed in sandbox mode"),
    ),
    responses(
        (status = 200, description = "Stored", body = SuccessBody),
        (status = 400, description = "Malformed request, header or field", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The GSTIN does not belong to the owner", body = ErrorBody),
        (status = 404, description = "No such owner in this account", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Invalid GSTIN, username or password", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
pub async fn store_nic_credentials(
    State(state): State<AppState>,
    actor: ActorOrSandbox,
    owner: OwnerIdHeader,
    request_id: RequestId,
    ApiJson(body): ApiJson<StoreCredentialsBody>,
) -> ApiResult<Json<SuccessBody>> {
    let request = StoreRequest {
        gstin: body.gstin,
        username: body.username,
        password: body.password,
    };
    credentials::store(&state, actor.0, owner.0, request, request_id.0).await?;
    Ok(Json(SuccessBody { success: true }))
}

/// Read the stored credentials of an owner and GSTIN (never the password).
#[utoipa::path(
    get,
    path = "/v2/nic_credentials",
    tag = "nic_credentials",
    params(CredentialQuery, ("X-Cleartax-Auth-Token" = Option<String>, Header, description = "API token; not needed in sandbox mode")),
    responses(
        (status = 200, description = "Stored credentials", body = CredentialView),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such owner or credentials", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
pub async fn get_nic_credentials(
    State(state): State<AppState>,
    ActorOrSandbox(actor): ActorOrSandbox,
    ApiQuery(query): ApiQuery<CredentialQuery>,
) -> ApiResult<Json<CredentialView>> {
    let summary = credentials::summary(&state, actor, query.owner_id, &query.gstin).await?;
    Ok(Json(CredentialView {
        gstin: summary.gstin,
        username: summary.username,
        password_set: summary.password_set,
        version: summary.version,
        updated_at: rfc3339(summary.updated_at),
        status: "UNVERIFIED".into(),
    }))
}

/// Delete the stored credentials of an owner and GSTIN (audited).
#[utoipa::path(
    delete,
    path = "/v2/nic_credentials",
    tag = "nic_credentials",
    params(CredentialQuery, ("X-Cleartax-Auth-Token" = Option<String>, Header, description = "API token; not needed in sandbox mode")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Bad query", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 404, description = "No such owner or credentials", body = ErrorBody),
        (status = 429, description = "Too many failed attempts", body = ErrorBody),
    )
)]
pub async fn delete_nic_credentials(
    State(state): State<AppState>,
    ActorOrSandbox(actor): ActorOrSandbox,
    request_id: RequestId,
    ApiQuery(query): ApiQuery<CredentialQuery>,
) -> ApiResult<StatusCode> {
    credentials::delete(&state, actor, query.owner_id, &query.gstin, request_id.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
