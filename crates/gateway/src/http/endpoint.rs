//! What describes an API endpoint (method, path, who may call it), apart from the table of
//! them in the router: the OpenAPI document and the authorisation matrix read the same table.

use axum::http::Method;

/// Who may call an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, the OpenAPI document, and the token login, which checks a password).
    Public,
    /// An API token (in sandbox mode, the built-in sandbox account when there is none).
    Token,
}

/// One API endpoint: the table the router is built from, so that checks over every endpoint
/// (the OpenAPI aliases, the authorisation matrix) cannot miss one.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{param}` placeholders.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

/// The ClearTax prefix under which the `/v2/...` paths that ClearTax serves there are also
/// reachable.
pub const CLEARTAX_PREFIX: &str = "/einv";
