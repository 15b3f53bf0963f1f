//! Owners (PAN, GSTIN, branch) of the calling account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::rfc3339;
use crate::http::access::Caller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::ids::OwnerId;
use crate::service::owners::{self, NewOwner};
use crate::state::AppState;
use crate::storage::OwnerRecord;

/// A new owner.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOwnerBody {
    /// `PAN`, `GSTIN` or `BRANCH`.
    #[schema(example = "GSTIN")]
    pub kind: String,
    /// Display name (required for a branch).
    pub name: Option<String>,
    /// For a PAN owner.
    pub pan: Option<String>,
    /// For a GSTIN owner.
    pub gstin: Option<String>,
    /// A PAN owner for a GSTIN (optional); the GSTIN owner of a branch (required).
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<OwnerId>,
}

/// An owner.
#[derive(Serialize, ToSchema)]
pub struct OwnerView {
    /// Use as the `owner_id` header.
    pub id: Uuid,
    /// `PAN`, `GSTIN` or `BRANCH`.
    pub kind: String,
    /// Display name.
    pub name: String,
    /// PAN, where known.
    pub pan: Option<String>,
    /// GSTIN (the parent's for a branch).
    pub gstin: Option<String>,
    /// Parent owner.
    #[schema(value_type = Option<Uuid>)]
    pub parent_id: Option<OwnerId>,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// The account's owners.
#[derive(Serialize, ToSchema)]
pub struct OwnerList {
    /// Oldest first.
    pub owners: Vec<OwnerView>,
}

impl From<OwnerRecord> for OwnerView {
    fn from(r: OwnerRecord) -> Self {
        OwnerView {
            id: r.id.uuid(),
            kind: r.kind().as_str().to_string(),
            pan: r.pan().map(str::to_string),
            gstin: r.gstin().map(|g| g.to_string()),
            parent_id: r.parent_id(),
            created_at: rfc3339(r.created_at),
            name: r.name,
        }
    }
}

/// Add a PAN, GSTIN or branch owner.
#[utoipa::path(
    post,
    path = "/v2/owners",
    tag = "owners",
    request_body = CreateOwnerBody,
    responses(
        (status = 201, description = "Created", body = OwnerView),
        (status = 404, description = "No such parent owner", body = ErrorBody),
        (status = 422, description = "Invalid PAN, GSTIN or parent", body = ErrorBody),
    )
)]
pub async fn create_owner(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<CreateOwnerBody>,
) -> ApiResult<(StatusCode, Json<OwnerView>)> {
    let new = NewOwner {
        kind: body.kind,
        name: body.name,
        pan: body.pan,
        gstin: body.gstin,
        parent_id: body.parent_id,
    };
    let owner = owners::create_owner(&state, actor, new).await?;
    Ok((StatusCode::CREATED, Json(owner.into())))
}

/// List the account's owners.
#[utoipa::path(
    get,
    path = "/v2/owners",
    tag = "owners",
    responses(
        (status = 200, description = "Owners", body = OwnerList),
    )
)]
pub async fn list_owners(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<OwnerList>> {
    let owners = owners::list_owners(&state, actor).await?;
    Ok(Json(OwnerList {
        owners: owners.into_iter().map(OwnerView::from).collect(),
    }))
}
