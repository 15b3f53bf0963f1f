//! What describes an API endpoint (method, path, who may call it). The router is built from
//! groups of routes, one per [`Access`] level, whose layer enforces that level; the list of
//! endpoints, the OpenAPI document and the authorisation matrix read the same groups.

use axum::http::Method;

/// Who may call an endpoint. Each level is a router group with its own enforcing layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone (health, the OpenAPI document, and the token login, which checks a password).
    Public,
    /// An account: by its API token, or in sandbox mode without one, the sandbox account.
    Account,
    /// An API token, in every mode (managing tokens).
    Token,
}

impl Access {
    /// Whether the level asks for the API token (in production mode, always).
    pub fn needs_token(self) -> bool {
        self != Access::Public
    }
}

/// One API endpoint, as the router serves it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The HTTP method.
    pub method: Method,
    /// The path, with `{param}` placeholders.
    pub path: String,
    /// Who may call it (enforced by the layer of its group).
    pub access: Access,
}

/// The ClearTax prefix under which the `/v2/...` paths that ClearTax serves there are also
/// reachable.
pub const CLEARTAX_PREFIX: &str = "/einv";
