//! API tokens: created from email and password (shown once), listed without their values,
//! revoked.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::rfc3339;
use crate::http::access::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{ApiJson, ClientAddress};
use crate::service::auth;
use crate::state::AppState;
use crate::storage::TokenRecord;

/// Log in for a new token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenBody {
    /// The user's email.
    pub email: String,
    /// The user's password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// What the token is for, e.g. "SAP production".
    pub label: String,
}

/// A token just created: the only time its value is shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedToken {
    /// Token id.
    pub id: Uuid,
    /// Label.
    pub label: String,
    /// The token; send it as `X-Cleartax-Auth-Token`. Shown once.
    pub token: String,
    /// RFC 3339 creation time.
    pub created_at: String,
}

/// A token as listed (never its value).
#[derive(Serialize, ToSchema)]
pub struct TokenView {
    /// Token id.
    pub id: Uuid,
    /// Label.
    pub label: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of last use (to the minute).
    pub last_used_at: Option<String>,
    /// RFC 3339 revocation time.
    pub revoked_at: Option<String>,
}

/// The account's tokens.
#[derive(Serialize, ToSchema)]
pub struct TokenList {
    /// Newest first.
    pub tokens: Vec<TokenView>,
}

impl From<TokenRecord> for TokenView {
    fn from(r: TokenRecord) -> Self {
        TokenView {
            id: r.id,
            label: r.label,
            created_at: rfc3339(r.created_at),
            last_used_at: r.last_used_at.map(rfc3339),
            revoked_at: r.revoked_at.map(rfc3339),
        }
    }
}

/// Exchange email and password for a new API token.
#[utoipa::path(
    post,
    path = "/v2/auth/tokens",
    tag = "auth",
    request_body = CreateTokenBody,
    responses(
        (status = 201, description = "Created; the token is shown once", body = CreatedToken),
        (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 422, description = "Invalid label", body = ErrorBody),
        (status = 429, description = "Too many failed logins", body = ErrorBody),
    )
)]
pub async fn create_token(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    ApiJson(body): ApiJson<CreateTokenBody>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let issued =
        auth::login_for_token(&state, &body.email, &body.password, &body.label, &client).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: issued.record.id,
            label: issued.record.label,
            token: issued.value.expose_secret().to_string(),
            created_at: rfc3339(issued.record.created_at),
        }),
    ))
}

/// List the account's tokens (without their values).
#[utoipa::path(
    get,
    path = "/v2/auth/tokens",
    tag = "auth",
    responses(
        (status = 200, description = "Tokens", body = TokenList),
    )
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<TokenList>> {
    let tokens = auth::list_tokens(&state, actor).await?;
    Ok(Json(TokenList {
        tokens: tokens.into_iter().map(TokenView::from).collect(),
    }))
}

/// Revoke a token of the account.
#[utoipa::path(
    delete,
    path = "/v2/auth/tokens/{id}",
    tag = "auth",
    params(
        ("id" = Uuid, Path, description = "Token id"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Bad id", body = ErrorBody),
        (status = 404, description = "No such live token in this account", body = ErrorBody),
    )
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = Uuid::parse_str(&id).map_err(|_| {
        ApiError::bad_request("invalid_id", "the token id must be a UUID", Some("id"))
    })?;
    auth::revoke_token(&state, actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
