//! Request extractors whose rejections use the API's error shape: JSON bodies (415, 413, 400
//! naming the field), the `owner_id` header, query strings, and the acting account.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use crate::service::{auth, Actor};
use crate::state::{AppState, SANDBOX_ACCOUNT_ID};

/// The header that carries our API token.
pub const AUTH_HEADER: &str = "x-cleartax-auth-token";

/// A JSON body that must be `application/json`, within the size limit, well-formed, and
/// without unknown or missing fields.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with the header Content-Type: application/json",
                Some("Content-Type"),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(ref inner)
                if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is larger than this endpoint accepts",
                    None,
                )
            }
            other => ApiError::new(
                other.status(),
                "unreadable_body",
                "the request body could not be read",
                None,
            ),
        })?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses JSON, turning serde's errors into ones that name the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request(
                "invalid_json",
                format!("the body is not valid JSON: {message}"),
                None,
            );
        }
        if let Some(name) = backticked(&message, "unknown field `") {
            return ApiError::bad_request(
                "unknown_field",
                format!("unknown field `{name}`"),
                Some(&name),
            );
        }
        if let Some(name) = backticked(&message, "missing field `") {
            let field = if path == "." {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            return ApiError::bad_request(
                "missing_field",
                format!("`{name}` is required"),
                Some(&field),
            );
        }
        let field = if path == "." {
            None
        } else {
            Some(path.as_str())
        };
        ApiError::bad_request("invalid_field", message, field)
    })?;
    deserializer.end().map_err(|_| {
        ApiError::bad_request(
            "invalid_json",
            "the body has trailing characters after the JSON value",
            None,
        )
    })?;
    Ok(value)
}

fn backticked(message: &str, prefix: &str) -> Option<String> {
    let rest = &message[message.find(prefix)? + prefix.len()..];
    Some(rest[..rest.find('`')?].to_string())
}

/// Query parameters, rejected with the API's error shape.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str::<T>(query)
            .map(ApiQuery)
            .map_err(|e| {
                let message = e.to_string();
                let field = backticked(&message, "missing field `")
                    .or_else(|| backticked(&message, "unknown field `"));
                ApiError::bad_request(
                    "invalid_query",
                    format!("query string: {message}"),
                    field.as_deref(),
                )
            })
    }
}

/// The mandatory `owner_id` header: a UUID.
pub struct OwnerIdHeader(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for OwnerIdHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let value = parts.headers.get("owner_id").ok_or_else(|| {
            ApiError::bad_request(
                "missing_header",
                "the owner_id header is required (the UUID of a PAN, GSTIN or branch owner)",
                Some("owner_id"),
            )
        })?;
        value
            .to_str()
            .ok()
            .and_then(|v| Uuid::parse_str(v.trim()).ok())
            .map(OwnerIdHeader)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_header",
                    "the owner_id header must be a UUID",
                    Some("owner_id"),
                )
            })
    }
}

/// The mandatory `gstin` header of the e-invoice calls.
pub struct GstinHeader(pub String);

impl<S: Send + Sync> FromRequestParts<S> for GstinHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get("gstin")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_ascii_uppercase())
            .filter(|v| v.len() == 15)
            .map(GstinHeader)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "missing_header",
                    "the gstin header is required (the seller GSTIN, 15 characters)",
                    Some("gstin"),
                )
            })
    }
}

/// The request id set by the middleware.
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        ))
    }
}

fn client_key(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

async fn token_actor(parts: &Parts, state: &AppState) -> Result<Option<Actor>, ApiError> {
    let Some(value) = parts.headers.get(AUTH_HEADER) else {
        return Ok(None);
    };
    let token = value.to_str().unwrap_or("");
    Ok(Some(
        auth::authenticate(state, token, &client_key(parts)).await?,
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

/// The acting account: from the token, or in sandbox mode without one, the sandbox account.
pub struct ActorOrSandbox(pub Actor);

impl FromRequestParts<AppState> for ActorOrSandbox {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match token_actor(parts, state).await? {
            Some(actor) => Ok(ActorOrSandbox(actor)),
            None if state.is_sandbox() => Ok(ActorOrSandbox(Actor {
                account_id: SANDBOX_ACCOUNT_ID,
                token_id: None,
            })),
            None => Err(missing_token()),
        }
    }
}

/// The acting account, from a token that must be present in every mode.
pub struct TokenActor(pub Actor);

impl FromRequestParts<AppState> for TokenActor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        token_actor(parts, state)
            .await?
            .map(TokenActor)
            .ok_or_else(missing_token)
    }
}
