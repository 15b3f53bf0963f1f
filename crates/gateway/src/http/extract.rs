//! Request extractors whose rejections use the API's error shape: JSON bodies (415, 413, 400
//! naming the field), the `owner_id` and `gstin` headers, query strings, the client's address.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::ApiError;
use crate::ids::OwnerId;
use crate::service::owners::OwnerChoice;
use crate::state::AppState;

/// A JSON body that must be `application/json`, within the size limit, well-formed, and
/// without unknown or missing fields.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        JsonBody::from_request(req, state)
            .await?
            .read()
            .await
            .map(ApiJson)
    }
}

/// A body whose headers say JSON (else 415 at once) but which is not read yet: a handler that
/// must wait before it works (for its turn at the IRPs) reads it only then, so a request that
/// waits holds no parsed copy. [`JsonBody::read`] applies the same rules as [`ApiJson`].
pub struct JsonBody(Request);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"));
        if !is_json {
            let xml = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains("xml"));
            let message = if xml {
                "XML bodies are not supported: send the same document as JSON with the header Content-Type: application/json"
            } else {
                "send the body as JSON with the header Content-Type: application/json"
            };
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                message,
                Some("Content-Type"),
            ));
        }
        Ok(JsonBody(req))
    }
}

impl JsonBody {
    /// Reads the body (within the size limit, else 413) and parses it (400 naming the field).
    pub async fn read<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        let bytes = Bytes::from_request(self.0, &())
            .await
            .map_err(|e| match e {
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
        parse_json(&bytes)
    }
}

/// Whether JSON text holds a NUL character (the escape `\u0000`; a raw NUL is not JSON).
fn json_has_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0 => return true,
            b'\\' => {
                if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(b"0000") {
                    return true;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    false
}

/// The JSON path of the first string (or key) holding a NUL.
fn nul_path(value: &serde_json::Value, path: &str) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0').then(|| path.to_string()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            if k.contains('\0') {
                Some(here)
            } else {
                nul_path(v, &here)
            }
        }),
        _ => None,
    }
}

fn nul_error(field: Option<&str>) -> ApiError {
    ApiError::bad_request(
        "nul_character",
        "text must not contain a NUL character (\\u0000)",
        field,
    )
}

/// Parses JSON, turning serde's errors into ones that name the field. Text with a NUL
/// character is refused (no database stores it, and no IRP field allows it).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if json_has_nul(bytes) {
        let field = serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .and_then(|v| nul_path(&v, ""));
        return Err(nul_error(field.as_deref()));
    }
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
        let pairs = serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default();
        if let Some((name, _)) = pairs
            .iter()
            .find(|(k, v)| k.contains('\0') || v.contains('\0'))
        {
            return Err(nul_error(Some(name)));
        }
        serde_urlencoded::from_str::<T>(query)
            .map(ApiQuery)
            .map_err(|e| {
                let message = e.to_string();
                // A value outside an enum names no key: find the parameter that sent it.
                let by_value = backticked(&message, "unknown variant `").and_then(|value| {
                    pairs
                        .iter()
                        .find(|(_, v)| *v == value)
                        .map(|(k, _)| k.clone())
                });
                let field = backticked(&message, "missing field `")
                    .or_else(|| backticked(&message, "unknown field `"))
                    .or(by_value);
                ApiError::bad_request(
                    "invalid_query",
                    format!("query string: {message}"),
                    field.as_deref(),
                )
            })
    }
}

/// The `owner_id` and `branch` headers. `owner_id` is a UUID when sent. ClearTax's current API
/// does not send it (and nginx drops headers with underscores by default, so `owner-id` is read
/// too); without it the owner is found from the account, the GSTIN and the optional `branch`
/// (`service::owners::resolve`).
pub struct OwnerHeaders(pub OwnerChoice);

impl<S: Send + Sync> FromRequestParts<S> for OwnerHeaders {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let owner_id = match parts
            .headers
            .get("owner_id")
            .or_else(|| parts.headers.get("owner-id"))
        {
            None => None,
            Some(value) => Some(
                value
                    .to_str()
                    .ok()
                    .and_then(|v| Uuid::parse_str(v.trim()).ok())
                    .map(OwnerId)
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            "invalid_header",
                            "the owner_id header must be a UUID",
                            Some("owner_id"),
                        )
                    })?,
            ),
        };
        let branch = match parts.headers.get("branch") {
            None => None,
            Some(value) => {
                let text = value.to_str().map(str::trim).map_err(|_| {
                    ApiError::bad_request(
                        "invalid_header",
                        "the branch header must be visible ASCII text",
                        Some("branch"),
                    )
                })?;
                if text.chars().count() > 200 {
                    return Err(ApiError::bad_request(
                        "invalid_header",
                        "the branch header has at most 200 characters",
                        Some("branch"),
                    ));
                }
                (!text.is_empty()).then(|| text.to_string())
            }
        };
        Ok(OwnerHeaders(OwnerChoice { owner_id, branch }))
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

/// The longest request id taken from a client.
const MAX_REQUEST_ID_LEN: usize = 64;

/// Whether a client's `x-request-id` may be kept (and so logged and audited): at most 64
/// characters of `[A-Za-z0-9._-]`. Any other is replaced by a generated one.
pub fn is_safe_request_id(value: &[u8]) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_LEN
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
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

/// The client's address for throttling (see [`crate::client_address`]).
pub fn client_address(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> String {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    crate::client_address::client_ip(peer, forwarded, &state.settings.trusted_proxies)
        .map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

pub(super) fn client_key(parts: &Parts, state: &AppState) -> String {
    client_address(state, &parts.headers, &parts.extensions)
}

/// The client's address (behind trusted proxies, from `X-Forwarded-For`).
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(client_key(parts, state)))
    }
}
