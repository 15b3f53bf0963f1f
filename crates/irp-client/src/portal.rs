//! The IRP sandbox's portal API as a GSP drives it (`/portal/clients/…`, and the sandbox's
//! test control for API users): a dummy GSTIN of the GSP's PAN, an API user for it, or an API
//! user for a taxpayer the sandbox knows. NIC's production portal has no such API; these calls
//! exist for one-click test credentials against an IRP sandbox.

use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::IrpClient;

/// Why the portal refused or could not be reached.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// The portal answered with an error: its HTTP status, code and message.
    #[error("the sandbox portal refused ({status} {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The portal's error code (e.g. `not_your_dummy`).
        code: String,
        /// Its message.
        message: String,
    },
    /// The IRP has no sandbox portal API (a real NIC host, or test controls off).
    #[error("the IRP at this address offers no sandbox portal API (HTTP {0})")]
    Unsupported(u16),
    /// No connection, or no answer.
    #[error("could not reach the sandbox portal: {0}")]
    Transport(String),
}

/// The portal API of an IRP sandbox, as the GSP whose client credentials the [`IrpClient`]
/// holds.
pub struct SandboxPortal<'a> {
    client: &'a IrpClient,
}

impl IrpClient {
    /// The sandbox portal API of this client's IRP, as this client's GSP.
    pub fn sandbox_portal(&self) -> SandboxPortal<'_> {
        SandboxPortal { client: self }
    }
}

impl SandboxPortal<'_> {
    fn secret(&self) -> &str {
        self.client.config.client_secret.expose_secret()
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, PortalError> {
        let response = self
            .client
            .http
            .post(self.client.url(path))
            .json(&body)
            .send()
            .await
            .map_err(|e| PortalError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let answer: Option<Value> = response.json().await.ok();
        match (status, answer) {
            (200..=299, Some(value)) => Ok(value),
            (_, Some(value)) if value["error"].is_object() => {
                // The portal's error shape: {"success": false, "error": {"code", "message"}}.
                let text = |key: &str| value["error"][key].as_str().unwrap_or("").to_string();
                Err(PortalError::Refused {
                    status,
                    code: text("code"),
                    message: text("message"),
                })
            }
            _ => Err(PortalError::Unsupported(status)),
        }
    }

    /// The next dummy GSTIN of the GSP's PAN in a state (`"29"`).
    pub async fn dummy_gstin(&self, state_code: &str) -> Result<String, PortalError> {
        let answer = self
            .post(
                "/portal/clients/dummy-gstins",
                json!({"client_id": self.client.client_id(), "client_secret": self.secret(), "state_code": state_code}),
            )
            .await?;
        answer["gstin"]
            .as_str()
            .map(str::to_string)
            .ok_or(PortalError::Unsupported(200))
    }

    async fn api_user(
        &self,
        path: &str,
        gstin: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<(), PortalError> {
        self.post(
            path,
            json!({"client_id": self.client.client_id(), "client_secret": self.secret(), "gstin": gstin, "username": username, "password": password.expose_secret()}),
        )
        .await
        .map(|_| ())
    }

    /// An API user, mapped to this GSP, for one of the GSP's own dummy GSTINs.
    pub async fn create_dummy_api_user(
        &self,
        gstin: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<(), PortalError> {
        self.api_user("/portal/clients/api-users", gstin, username, password)
            .await
    }

    /// An API user, mapped to this GSP, for a taxpayer the sandbox knows: the sandbox's test
    /// control for what the taxpayer does on the portal (registration, OTP, Create API User
    /// through this GSP). Needs the sandbox's test controls.
    pub async fn provision_api_user(
        &self,
        gstin: &str,
        username: &str,
        password: &SecretString,
    ) -> Result<(), PortalError> {
        self.api_user("/sandbox/api-users", gstin, username, password)
            .await
    }
}
