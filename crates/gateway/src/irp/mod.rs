//! The gateway's side of the IRP: the IRPs (NIC runs NIC1 and NIC2 over one IRN registry, each
//! with its own client, circuit breaker and sessions), where their keys come from, and one live
//! session per (IRP, client, GSTIN, API user). In sandbox mode without an IRP configured, an
//! IRP sandbox runs in this process on a port of its own, and the gateway talks to it over real
//! HTTP.

pub mod breaker;
pub mod fair_share;
pub mod sessions;

use std::net::SocketAddr;

use irp_client::{IrpClient, IrpConfig};
use irp_protocol::crypto::{pem_body, RsaPublicKey};
use secrecy::SecretString;

use sessions::SessionManager;

pub use crate::config::{IrpClientLimits, IrpEndpoint, IrpSettings};

/// The demo taxpayer the embedded sandbox provisions for newcomers.
pub const DEMO_GSTIN: &str = "29AAFCD5862R000";
/// Its API username (created through the gateway's GSP client).
pub const DEMO_USERNAME: &str = "demouser01";
/// Its API password.
pub const DEMO_PASSWORD: &str = "Demo@1234";

/// One IRP: its name, its client and its circuit breaker (sessions are kept per IRP by the
/// shared [`SessionManager`]).
pub struct IrpSite {
    /// `NIC1`, `NIC2`: what the `irp` header names.
    pub name: String,
    /// The HTTP client with NIC's crypto.
    pub client: IrpClient,
    /// Fails fast while this IRP is down.
    pub breaker: breaker::CircuitBreaker,
    /// Its `irp_max_connections` places, shared fairly among accounts.
    pub places: fair_share::FairShare,
}

/// Everything needed to call the IRPs.
pub struct IrpContext {
    /// The preferred IRP.
    pub primary: IrpSite,
    /// The others, in order of preference (used when those before them are down).
    pub others: Vec<IrpSite>,
    /// SubjectPublicKeyInfo of the IRP's signing certificate (to verify signed invoices).
    pub signing_public_key: Option<Vec<u8>>,
    /// Live sessions.
    pub sessions: SessionManager,
    /// Turns of the requests that send documents to the IRPs: at most `irp_max_connections` at
    /// work at once, accounts taking turns; a request waits for its turn before its body is
    /// read, so one that waits holds no parsed document and no task.
    pub turns: fair_share::FairShare,
    /// Where the embedded sandbox listens, in sandbox mode.
    pub embedded_sandbox: Option<SocketAddr>,
    /// Stops the embedded sandbox (when this context is dropped, or on demand).
    embedded_shutdown: Option<std::sync::Arc<tokio::sync::Notify>>,
}

/// Why the IRP connection could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum IrpSetupError {
    /// A key or certificate file could not be read or parsed.
    #[error("IRP key: {0}")]
    Key(String),
    /// The embedded sandbox failed to start.
    #[error("embedded IRP sandbox: {0}")]
    Sandbox(String),
}

/// What an IRP site is built from, besides its name and base URL.
struct SiteParts {
    public_key: RsaPublicKey,
    client_id: String,
    client_secret: SecretString,
    limits: IrpClientLimits,
    breaker_cooldown_ms: i64,
}

impl IrpSite {
    fn connect(name: String, base_url: String, parts: SiteParts) -> Result<Self, IrpSetupError> {
        let client = IrpClient::new(IrpConfig {
            base_url,
            public_key: parts.public_key,
            client_id: parts.client_id,
            client_secret: parts.client_secret,
            connect_timeout: parts.limits.connect,
            request_timeout: parts.limits.request,
            max_connections: parts.limits.max_connections,
        })
        .map_err(|e| IrpSetupError::Key(e.to_string()))?;
        Ok(IrpSite {
            name,
            client,
            breaker: breaker::CircuitBreaker::new(parts.breaker_cooldown_ms),
            places: fair_share::FairShare::new(parts.limits.max_connections),
        })
    }
}

impl IrpContext {
    /// Every IRP, the preferred first.
    pub fn sites(&self) -> impl Iterator<Item = &IrpSite> {
        std::iter::once(&self.primary).chain(self.others.iter())
    }

    /// The IRP of this name.
    pub fn site(&self, name: &str) -> Option<&IrpSite> {
        self.sites()
            .find(|site| site.name.eq_ignore_ascii_case(name))
    }

    /// The IRPs to try, in order: those whose breaker is closed at `now`, then the others (so
    /// a call is refused fast only when every IRP is down).
    pub fn in_order(&self, now: crate::clock::Timestamp) -> Vec<&IrpSite> {
        let (up, down): (Vec<&IrpSite>, Vec<&IrpSite>) = self
            .sites()
            .partition(|site| site.breaker.open_for(now).is_none());
        up.into_iter().chain(down).collect()
    }

    /// The first IRP that is up at `now` (the preferred one when all are down).
    pub fn preferred(&self, now: crate::clock::Timestamp) -> &IrpSite {
        self.sites()
            .find(|site| site.breaker.open_for(now).is_none())
            .unwrap_or(&self.primary)
    }

    /// Connects to configured IRPs.
    pub fn configured(
        settings: &IrpSettings,
        limits: IrpClientLimits,
        sessions: SessionManager,
    ) -> Result<Self, IrpSetupError> {
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path)
                .map_err(|e| IrpSetupError::Key(format!("{}: {e}", path.display())))
        };
        let public_key = RsaPublicKey::from_pem(&read(&settings.public_key_file)?)
            .map_err(|e| IrpSetupError::Key(e.to_string()))?;
        let signing_public_key = match &settings.signing_certificate_file {
            Some(path) => {
                let der = pem_body(&read(path)?, "CERTIFICATE")
                    .map_err(|e| IrpSetupError::Key(e.to_string()))?;
                Some(
                    irp_protocol::jwt::certificate_public_key(&der)
                        .map_err(|e| IrpSetupError::Key(e.to_string()))?,
                )
            }
            None => None,
        };
        let mut sites = settings
            .endpoints
            .iter()
            .map(|endpoint| {
                IrpSite::connect(
                    endpoint.name.clone(),
                    endpoint.base_url.clone(),
                    SiteParts {
                        public_key: public_key.clone(),
                        client_id: settings.client_id.clone(),
                        client_secret: settings.client_secret.clone(),
                        limits,
                        breaker_cooldown_ms: settings.breaker_cooldown_ms,
                    },
                )
            })
            .collect::<Result<Vec<_>, IrpSetupError>>()?
            .into_iter();
        let primary = sites
            .next()
            .ok_or_else(|| IrpSetupError::Key("no IRP base URL".into()))?;
        Ok(IrpContext {
            primary,
            others: sites.collect(),
            signing_public_key,
            sessions,
            turns: fair_share::FairShare::new(limits.max_connections),
            embedded_sandbox: None,
            embedded_shutdown: None,
        })
    }

    /// Stops the embedded IRP sandbox, if one runs (requests in flight finish first).
    pub fn shutdown_embedded_sandbox(&self) {
        if let Some(shutdown) = &self.embedded_shutdown {
            shutdown.notify_one();
        }
    }

    /// Starts an IRP sandbox in this process on 127.0.0.1 (a free port), provisions the
    /// gateway as a GSP client named `gsp_name` and the demo taxpayer's API user, and connects
    /// to it.
    #[cfg(feature = "embedded-sandbox")]
    pub async fn embedded_sandbox(
        gsp_name: &str,
        limits: IrpClientLimits,
        sessions: SessionManager,
    ) -> Result<Self, IrpSetupError> {
        let err = |e: &dyn std::fmt::Display| IrpSetupError::Sandbox(e.to_string());
        // Test controls on: one-click sandbox API users for taxpayers the sandbox knows
        // (`POST /v2/sandbox/api-users`). The sandbox listens on loopback only.
        let config = irp_sandbox::SandboxConfig {
            test_controls: true,
            ..irp_sandbox::SandboxConfig::default()
        };
        let sandbox = irp_sandbox::Sandbox::open(config)
            .await
            .map_err(|e| err(&e))?;
        let (client_id, client_secret) = sandbox
            .provision_demo(
                gsp_name,
                irp_sandbox::seed::DEMO_GSP_PAN,
                DEMO_GSTIN,
                DEMO_USERNAME,
                DEMO_PASSWORD,
            )
            .await
            .map_err(|e| err(&e))?;
        let public_key =
            RsaPublicKey::from_pem(&sandbox.keys.encryption_public_pem).map_err(|e| err(&e))?;
        let signing_public_key =
            irp_protocol::jwt::certificate_public_key(&sandbox.keys.certificate_der)
                .map_err(|e| err(&e))?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| err(&e))?;
        let addr = listener.local_addr().map_err(|e| err(&e))?;
        let router = irp_sandbox::router(sandbox);
        let shutdown = std::sync::Arc::new(tokio::sync::Notify::new());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move { stop.notified().await })
            .await
            {
                tracing::error!(error = %e, "embedded IRP sandbox stopped");
            }
        });
        tracing::info!(%addr, gstin = DEMO_GSTIN, username = DEMO_USERNAME, "embedded IRP sandbox started");
        Ok(IrpContext {
            primary: IrpSite::connect(
                irp_sandbox::state::FIRST_IRP.to_string(),
                format!("http://{addr}"),
                SiteParts {
                    public_key,
                    client_id,
                    client_secret: SecretString::from(client_secret),
                    limits,
                    breaker_cooldown_ms: 30_000,
                },
            )?,
            others: Vec::new(),
            signing_public_key: Some(signing_public_key),
            sessions,
            turns: fair_share::FairShare::new(limits.max_connections),
            embedded_sandbox: Some(addr),
            embedded_shutdown: Some(shutdown),
        })
    }
}

impl Drop for IrpContext {
    fn drop(&mut self) {
        self.shutdown_embedded_sandbox();
    }
}
