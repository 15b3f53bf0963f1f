//! Onboarding: who we are as a GSP and how a taxpayer creates API users through us
//! (`GET /v2/gsp`), and one-click sandbox credentials (`POST /v2/sandbox/api-users`).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::http::access::Caller;
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, OwnerHeaders, RequestId};
use crate::http::routes::nic_credentials::VerificationView;
use crate::service::onboarding::{self, GspIdentity, Steps};
use crate::service::sandbox_users::{self, SandboxUserRequest};
use crate::state::AppState;

/// Our GSP identity and the steps of creating an API user through us.
#[derive(Serialize, ToSchema)]
pub struct GspView {
    /// Name, client id (never the secret) and portal URLs.
    #[serde(flatten)]
    pub identity: GspIdentity,
    /// The steps, in the portal's words, with our name and client id filled in.
    pub steps: Steps,
}

/// Who we are at the IRP, so that ERPs can guide taxpayers in their own screens: the name to
/// pick under "Through GSP", our client id, the portal, and the steps.
#[utoipa::path(
    get,
    path = "/v2/gsp",
    tag = "onboarding",
    responses((status = 200, description = "Our GSP identity and the steps", body = GspView))
)]
pub async fn gsp(State(state): State<AppState>, _caller: Caller) -> Json<GspView> {
    let identity = onboarding::identity(&state);
    let steps = onboarding::steps(&identity);
    Json(GspView { identity, steps })
}

/// What sandbox API user to create.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SandboxUserBody {
    /// A GSTIN the IRP sandbox knows (or one of our dummy GSTINs); absent: a fresh dummy GSTIN.
    pub gstin: Option<String>,
    /// For a fresh dummy GSTIN: its two-digit state code (default `29`).
    pub state_code: Option<String>,
}

/// A created sandbox API user (its password is stored, never returned).
#[derive(Serialize, ToSchema)]
pub struct SandboxUserView {
    /// The GSTIN.
    pub gstin: String,
    /// The owner the credentials are stored under (use as the `owner_id` header).
    pub owner_id: Uuid,
    /// The API username.
    pub username: String,
    /// The check at the IRP.
    pub verification: VerificationView,
}

/// Sandbox mode only: creates an API user at the IRP sandbox as our GSP, stores it and
/// verifies it, so that an empty account can generate an IRN at once. Refused in production.
#[utoipa::path(
    post,
    path = "/v2/sandbox/api-users",
    tag = "onboarding",
    request_body = SandboxUserBody,
    params(
        ("owner_id" = Option<Uuid>, Header, description = "The owner to store under; without it, the account's owner of the GSTIN (made if none)"),
        ("branch" = Option<String>, Header, description = "Without owner_id: a branch of the GSTIN by name"),
    ),
    responses(
        (status = 200, description = "Created, stored and verified", body = SandboxUserView),
        (status = 400, description = "Invalid GSTIN", body = ErrorBody),
        (status = 403, description = "Production mode", body = ErrorBody),
        (status = 409, description = "The IRP sandbox refused", body = ErrorBody),
        (status = 503, description = "No IRP sandbox to ask", body = ErrorBody),
    )
)]
pub async fn create_sandbox_api_user(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    request_id: RequestId,
    ApiJson(body): ApiJson<SandboxUserBody>,
) -> ApiResult<Json<SandboxUserView>> {
    let created = sandbox_users::create(
        &state,
        actor,
        SandboxUserRequest {
            gstin: body.gstin,
            state_code: body.state_code,
            owner_id: owner.0.owner_id,
            branch: owner.0.branch,
        },
        request_id.0,
    )
    .await?;
    Ok(Json(SandboxUserView {
        gstin: created.gstin,
        owner_id: created.owner_id.into(),
        username: created.username,
        verification: created.verification.into(),
    }))
}
