//! Access levels enforced by router groups: the layer of the [`Access::Account`] and
//! [`Access::Token`] groups authenticates every request before any of its handlers runs, and
//! hands the acting account to the handler as [`Caller`]. A handler cannot be reached without
//! the check its group declares.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;

use super::endpoint::Access;
use super::error::ApiError;
use super::extract::client_key;
use crate::service::{auth, Actor};
use crate::state::{AppState, SANDBOX_ACCOUNT_ID};

/// The header that carries our API token.
pub const AUTH_HEADER: &str = "x-cleartax-auth-token";

/// Puts a group of routes behind the check of its access level.
pub fn enforce(
    access: Access,
    group: OpenApiRouter<AppState>,
    state: &AppState,
) -> OpenApiRouter<AppState> {
    match access {
        Access::Public => group,
        Access::Account => group.route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_account,
        )),
        Access::Token => {
            group.route_layer(middleware::from_fn_with_state(state.clone(), require_token))
        }
    }
}

async fn token_actor(parts: &Parts, state: &AppState) -> Result<Option<Actor>, ApiError> {
    let Some(value) = parts.headers.get(AUTH_HEADER) else {
        return Ok(None);
    };
    let token = value.to_str().unwrap_or("");
    Ok(Some(
        auth::authenticate(state, token, &client_key(parts, state)).await?,
    ))
}

fn missing_token() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "missing_token",
        "the X-Cleartax-Auth-Token header is required; create a token with POST /v2/auth/tokens",
        Some("X-Cleartax-Auth-Token"),
    )
}

/// Runs the request with the authenticated account, or answers the refusal.
async fn run_as(
    resolved: Result<Actor, ApiError>,
    parts: Parts,
    body: axum::body::Body,
    next: Next,
) -> Response {
    match resolved {
        Ok(actor) => {
            let mut request = Request::from_parts(parts, body);
            request.extensions_mut().insert(Caller(actor));
            next.run(request).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// [`Access::Account`]: the token's account, or in sandbox mode without a token, the sandbox
/// account.
async fn require_account(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let resolved = match token_actor(&parts, &state).await {
        Ok(Some(actor)) => Ok(actor),
        Ok(None) if state.is_sandbox() => Ok(Actor {
            account_id: SANDBOX_ACCOUNT_ID,
            token_id: None,
        }),
        Ok(None) => Err(missing_token()),
        Err(refusal) => Err(refusal),
    };
    run_as(resolved, parts, body, next).await
}

/// [`Access::Token`]: the token's account, in every mode.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let resolved = token_actor(&parts, &state)
        .await
        .and_then(|actor| actor.ok_or_else(missing_token));
    run_as(resolved, parts, body, next).await
}

/// The account a request acts for, as the layer of its group authenticated it.
#[derive(Clone, Copy)]
pub struct Caller(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().copied().ok_or_else(|| {
            // Only a route placed outside an authenticated group gets here: a fault of ours.
            tracing::error!("a handler that needs a caller is not behind an access layer");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                crate::service::INTERNAL_ERROR_CODE,
                "the gateway failed on this request; it has been logged",
                None,
            )
        })
    }
}
