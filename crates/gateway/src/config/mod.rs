//! Gateway settings: one typed [`Settings`], resolved once at start-up from command-line flags
//! and environment variables (highest), then an optional TOML file, then built-in defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

mod error;
mod irp;
pub use error::ConfigError;
use irp::resolve_irp;
pub use irp::{IrpClientLimits, IrpEndpoint, IrpSettings};

/// How the gateway runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Local development: no token needed for credential calls (a built-in sandbox account is
    /// used), sandbox GSTINs accepted, a master key generated into the data directory.
    Sandbox,
    /// Real taxpayers: tokens required, strict GSTIN checks, a master key must be supplied.
    Production,
}

impl Mode {
    /// Parses `sandbox` or `production`.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        match text.to_ascii_lowercase().as_str() {
            "sandbox" => Ok(Mode::Sandbox),
            "production" => Ok(Mode::Production),
            other => Err(ConfigError::Invalid(format!(
                "mode must be sandbox or production, not {other:?}"
            ))),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Every setting, declared once: as a flag and an `EINVOICE_*` environment variable (clap), as a
/// key of the TOML file (serde), and as one layer of [`SettingsLayer::layered`]. Unset values
/// fall through to the layer beneath, and then to the defaults of [`Settings::resolve`].
#[derive(Debug, Default, Clone, Deserialize, Serialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct SettingsLayer {
    /// `sandbox` (default) or `production`.
    #[arg(long, env = "EINVOICE_MODE")]
    pub mode: Option<String>,
    /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free port).
    #[arg(long, env = "EINVOICE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Data directory (default ./data).
    #[arg(long, env = "EINVOICE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://... (default sqlite://<data-dir>/einvoice.db).
    #[arg(long, env = "EINVOICE_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// File holding the master key (base64 or hex of 32 bytes).
    #[arg(long, env = "EINVOICE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// Largest request body in bytes (default 65536).
    #[arg(long, env = "EINVOICE_BODY_LIMIT_BYTES")]
    pub body_limit_bytes: Option<usize>,
    /// Request timeout in seconds (default 30).
    #[arg(long, env = "EINVOICE_REQUEST_TIMEOUT_SECS")]
    pub request_timeout_secs: Option<u64>,
    /// Log format: text (default) or json.
    #[arg(long, env = "EINVOICE_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Failed logins allowed per email per 15 minutes (default 5).
    #[arg(long, env = "EINVOICE_LOGIN_FAILURE_LIMIT")]
    pub login_failure_limit: Option<u32>,
    /// Failed token checks allowed per client address per minute (default 20).
    #[arg(long, env = "EINVOICE_TOKEN_FAILURE_LIMIT")]
    pub token_failure_limit: Option<u32>,
    /// Proxies (addresses or CIDR ranges, comma-separated) whose X-Forwarded-For names the client.
    #[arg(long, env = "EINVOICE_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Option<Vec<String>>,
    /// Open connections at most (default 4096).
    #[arg(long, env = "EINVOICE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers (default 10).
    #[arg(long, env = "EINVOICE_HEADER_READ_TIMEOUT_SECS")]
    pub header_read_timeout_secs: Option<u64>,
    /// The master key itself; only from the environment (`EINVOICE_MASTER_KEY`), never a file.
    #[serde(skip)]
    #[arg(skip)]
    pub master_key: Option<SecretString>,
    /// IRP base URL (unset in sandbox mode: an IRP sandbox runs in this process), or several
    /// IRPs sharing one IRN registry, in order of preference: `NIC1=https://…,NIC2=https://…`.
    #[arg(long, env = "EINVOICE_IRP_BASE_URL")]
    pub irp_base_url: Option<String>,
    /// PEM file of the IRP's encryption public key.
    #[arg(long, env = "EINVOICE_IRP_PUBLIC_KEY_FILE")]
    pub irp_public_key_file: Option<PathBuf>,
    /// PEM file of the IRP's signing certificate.
    #[arg(long, env = "EINVOICE_IRP_SIGNING_CERTIFICATE_FILE")]
    pub irp_signing_certificate_file: Option<PathBuf>,
    /// Our GSP client id at the IRP.
    #[arg(long, env = "EINVOICE_IRP_CLIENT_ID")]
    pub irp_client_id: Option<String>,
    /// File holding our GSP client secret (or set EINVOICE_IRP_CLIENT_SECRET).
    #[arg(long, env = "EINVOICE_IRP_CLIENT_SECRET_FILE")]
    pub irp_client_secret_file: Option<PathBuf>,
    /// Our GSP client secret; only from the environment (`EINVOICE_IRP_CLIENT_SECRET`).
    #[serde(skip)]
    #[arg(skip)]
    pub irp_client_secret: Option<SecretString>,
    /// Keep signed invoices and QR codes this many days (default 0: metadata only).
    #[arg(long, env = "EINVOICE_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Re-verify stored credentials at the IRP every this many seconds (default 0: off).
    #[arg(long, env = "EINVOICE_VERIFY_INTERVAL_SECS")]
    pub verify_interval_secs: Option<u64>,
    /// Seconds to wait for a connection to the IRP (default 5).
    #[arg(long, env = "EINVOICE_IRP_CONNECT_TIMEOUT_SECS")]
    pub irp_connect_timeout_secs: Option<u64>,
    /// Seconds to wait for an IRP answer (default 30).
    #[arg(long, env = "EINVOICE_IRP_REQUEST_TIMEOUT_SECS")]
    pub irp_request_timeout_secs: Option<u64>,
    /// Calls open at once per IRP; more wait their turn (default 512).
    #[arg(long, env = "EINVOICE_IRP_MAX_CONNECTIONS")]
    pub irp_max_connections: Option<usize>,
    /// Serve `/metrics` on this address instead of the main listener (where it then answers
    /// only scrapes from this machine).
    #[arg(long, env = "EINVOICE_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Our name as taxpayers see it in the e-invoice portal's "Through GSP" list (default
    /// einvoice).
    #[arg(long, env = "EINVOICE_GSP_NAME")]
    pub gsp_name: Option<String>,
    /// The e-invoice sandbox portal where taxpayers create test API users (default NIC's).
    #[arg(long, env = "EINVOICE_PORTAL_URL_SANDBOX")]
    pub portal_url_sandbox: Option<String>,
    /// The production e-invoice portal where taxpayers create API users (default NIC's).
    #[arg(long, env = "EINVOICE_PORTAL_URL_PRODUCTION")]
    pub portal_url_production: Option<String>,
    /// Days after which a stored NIC password is reported by `credentials.password_age`
    /// (default 60; 0: never).
    #[arg(long, env = "EINVOICE_WEBHOOK_PASSWORD_AGE_DAYS")]
    pub webhook_password_age_days: Option<u32>,
    /// Milliseconds before a failed webhook delivery's first retry; each retry waits about
    /// twice as long, up to an hour, for 24 hours (default 5000).
    #[arg(long, env = "EINVOICE_WEBHOOK_RETRY_BASE_MS")]
    pub webhook_retry_base_ms: Option<u64>,
    /// Seconds a webhook receiver has to answer (default 10).
    #[arg(long, env = "EINVOICE_WEBHOOK_TIMEOUT_SECS")]
    pub webhook_timeout_secs: Option<u64>,
    /// API requests handled at once; more are answered 429 (default 2048).
    #[arg(long, env = "EINVOICE_MAX_IN_FLIGHT")]
    pub max_in_flight: Option<usize>,
    /// IRP-bound calls per minute per account and GSTIN (default 1200; 0: no limit).
    #[arg(long, env = "EINVOICE_GSTIN_CALLS_PER_MINUTE")]
    pub gstin_calls_per_minute: Option<u32>,
    /// IRP refusals per account and GSTIN in 10 minutes before its calls are held back
    /// (default 200; 0: no limit).
    #[arg(long, env = "EINVOICE_GSTIN_REFUSAL_LIMIT")]
    pub gstin_refusal_limit: Option<u32>,
}

impl SettingsLayer {
    /// `top` (flags and environment) over the TOML file at `file` (if any): a value set in
    /// `top` wins; one left unset there comes from the file. The secrets of `top` (only ever
    /// from the environment) are kept as they are.
    pub fn layered(file: Option<&Path>, top: SettingsLayer) -> Result<SettingsLayer, ConfigError> {
        let mut figment = figment::Figment::new();
        if let Some(path) = file {
            if !path.exists() {
                return Err(ConfigError::File {
                    path: path.display().to_string(),
                    message: "no such file".into(),
                });
            }
            figment =
                figment.merge(<figment::providers::Toml as figment::providers::Format>::file(path));
        }
        let set = figment::providers::Serialized::defaults(top.set_values()?);
        let mut merged: SettingsLayer =
            figment
                .merge(set)
                .extract()
                .map_err(|e| ConfigError::File {
                    path: file.map(|p| p.display().to_string()).unwrap_or_default(),
                    message: e.to_string(),
                })?;
        merged.master_key = top.master_key;
        merged.irp_client_secret = top.irp_client_secret;
        Ok(merged)
    }

    /// The values this layer sets (an unset one must not hide the layer beneath).
    fn set_values(&self) -> Result<figment::value::Dict, ConfigError> {
        let value = figment::value::Value::serialize(self)
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(value
            .into_dict()
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, v)| !matches!(v, figment::value::Value::Empty(..)))
            .collect())
    }
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub enum MasterKeySource {
    /// `EINVOICE_MASTER_KEY`.
    Value(SecretString),
    /// `EINVOICE_MASTER_KEY_FILE` or `master_key_file`.
    File(PathBuf),
    /// Sandbox mode without a key: load or generate `<data_dir>/master.key`.
    GeneratedInDataDir(PathBuf),
}

/// The resolved settings, passed explicitly to everything that needs them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Sandbox or production.
    pub mode: Mode,
    /// Listen address.
    pub listen: SocketAddr,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Database URL.
    pub database_url: String,
    /// Master key source.
    pub master_key: MasterKeySource,
    /// Largest request body.
    pub body_limit_bytes: usize,
    /// Request timeout.
    pub request_timeout: Duration,
    /// Log format.
    pub log_format: LogFormat,
    /// Failed logins per email per 15 minutes.
    pub login_failure_limit: u32,
    /// Failed token checks per client address per minute.
    pub token_failure_limit: u32,
    /// Proxies whose `X-Forwarded-For` names the client (empty: the peer is the client).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Open connections at most.
    pub max_connections: usize,
    /// Time a client has to send a request's headers.
    pub header_read_timeout: Duration,
    /// A configured IRP; `None` means the embedded sandbox (sandbox mode) or no IRP.
    pub irp: Option<IrpSettings>,
    /// Days to keep signed outputs (0: never stored).
    pub retention_days: u32,
    /// Periodic re-verification interval (0: off).
    pub verify_interval_secs: u64,
    /// How long to wait for a connection to the IRP.
    pub irp_connect_timeout: Duration,
    /// How long to wait for an IRP answer.
    pub irp_request_timeout: Duration,
    /// Calls open at once per IRP.
    pub irp_max_connections: usize,
    /// Where `/metrics` is served on its own, if anywhere.
    pub metrics_listen: Option<SocketAddr>,
    /// Our name in the portal's "Through GSP" list.
    pub gsp_name: String,
    /// The e-invoice portals where taxpayers create API users.
    pub portals: PortalUrls,
    /// How webhooks are delivered.
    pub webhooks: WebhookSettings,
    /// The bulkhead and the per-GSTIN limits.
    pub admission: AdmissionSettings,
}

/// The bulkhead and the per-GSTIN limits.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionSettings {
    /// API requests handled at once.
    pub max_in_flight: usize,
    /// IRP-bound calls per minute per account and GSTIN (0: no limit).
    pub gstin_calls_per_minute: u32,
    /// IRP refusals per account and GSTIN in 10 minutes (0: no limit).
    pub gstin_refusal_limit: u32,
}

/// How webhooks are delivered.
#[derive(Debug, Clone, Copy)]
pub struct WebhookSettings {
    /// Days after which a stored password is reported (0: never).
    pub password_age_days: u32,
    /// The wait before the first retry (doubling, with jitter, up to an hour).
    pub retry_base: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
}

/// NIC's e-invoice sandbox portal (API user creation for testing).
pub const NIC_SANDBOX_PORTAL: &str = "https://einv-apisandbox.nic.in";
/// NIC's production e-invoice portal (API Registration, Create API User).
pub const NIC_PRODUCTION_PORTAL: &str = "https://einvoice1.gst.gov.in";

/// Where taxpayers create their NIC API users.
#[derive(Debug, Clone)]
pub struct PortalUrls {
    /// The sandbox portal.
    pub sandbox: String,
    /// The production portal.
    pub production: String,
}

impl Settings {
    /// Resolves a layer (already merged from flags, environment and file) against the defaults.
    pub fn resolve(layer: SettingsLayer) -> Result<Self, ConfigError> {
        let mode = Mode::parse(layer.mode.as_deref().unwrap_or("sandbox"))?;
        let data_dir = layer.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = layer
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("einvoice.db").display()));
        let master_key = match (layer.master_key, layer.master_key_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid(
                    "set EINVOICE_MASTER_KEY or EINVOICE_MASTER_KEY_FILE, not both".into(),
                ))
            }
            (Some(value), None) => MasterKeySource::Value(value),
            (None, Some(file)) => MasterKeySource::File(file),
            (None, None) if mode == Mode::Sandbox => MasterKeySource::GeneratedInDataDir(data_dir.join("master.key")),
            (None, None) => {
                return Err(ConfigError::Invalid(
                    "production mode needs a master key: set EINVOICE_MASTER_KEY or EINVOICE_MASTER_KEY_FILE".into(),
                ))
            }
        };
        let log_format = match layer.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid(format!(
                    "log format must be text or json, not {other:?}"
                )))
            }
        };
        let body_limit_bytes = layer.body_limit_bytes.unwrap_or(64 * 1024);
        if body_limit_bytes < 1024 {
            return Err(ConfigError::Invalid(
                "body limit must be at least 1024 bytes".into(),
            ));
        }
        let timeout = layer.request_timeout_secs.unwrap_or(30);
        if timeout == 0 {
            return Err(ConfigError::Invalid(
                "request timeout must be at least 1 second".into(),
            ));
        }
        let gsp_name = layer.gsp_name.unwrap_or_else(|| "einvoice".to_string());
        if gsp_name.trim().is_empty() || gsp_name.chars().count() > 100 {
            return Err(ConfigError::Invalid(
                "gsp_name must be 1 to 100 characters".into(),
            ));
        }
        let portals = PortalUrls {
            sandbox: portal_url(
                layer.portal_url_sandbox,
                NIC_SANDBOX_PORTAL,
                "portal_url_sandbox",
            )?,
            production: portal_url(
                layer.portal_url_production,
                NIC_PRODUCTION_PORTAL,
                "portal_url_production",
            )?,
        };
        let webhooks = WebhookSettings {
            password_age_days: layer.webhook_password_age_days.unwrap_or(60),
            retry_base: match layer.webhook_retry_base_ms.unwrap_or(5000) {
                0 => {
                    return Err(ConfigError::Invalid(
                        "webhook_retry_base_ms must be at least 1".into(),
                    ))
                }
                ms => Duration::from_millis(ms),
            },
            timeout: irp_timeout(layer.webhook_timeout_secs, 10, "webhook_timeout_secs")?,
        };
        let admission = AdmissionSettings {
            max_in_flight: permit_count(layer.max_in_flight, 2048, "max_in_flight")?,
            gstin_calls_per_minute: layer.gstin_calls_per_minute.unwrap_or(1200),
            gstin_refusal_limit: layer.gstin_refusal_limit.unwrap_or(200),
        };
        Ok(Settings {
            admission,
            webhooks,
            metrics_listen: layer.metrics_listen,
            gsp_name,
            portals,
            mode,
            listen: layer
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            data_dir,
            database_url,
            master_key,
            body_limit_bytes,
            request_timeout: Duration::from_secs(timeout),
            log_format,
            login_failure_limit: layer.login_failure_limit.unwrap_or(5),
            token_failure_limit: layer.token_failure_limit.unwrap_or(20),
            trusted_proxies: layer
                .trusted_proxies
                .unwrap_or_default()
                .iter()
                .map(|text| parse_proxy(text))
                .collect::<Result<_, _>>()?,
            max_connections: permit_count(layer.max_connections, 4096, "max_connections")?,
            header_read_timeout: irp_timeout(
                layer.header_read_timeout_secs,
                10,
                "header_read_timeout_secs",
            )?,
            retention_days: layer.retention_days.unwrap_or(0),
            verify_interval_secs: layer.verify_interval_secs.unwrap_or(0),
            irp_connect_timeout: irp_timeout(
                layer.irp_connect_timeout_secs,
                5,
                "irp_connect_timeout_secs",
            )?,
            irp_request_timeout: irp_timeout(
                layer.irp_request_timeout_secs,
                30,
                "irp_request_timeout_secs",
            )?,
            irp_max_connections: permit_count(
                layer.irp_max_connections,
                irp::DEFAULT_IRP_MAX_CONNECTIONS,
                "irp_max_connections",
            )?,
            irp: resolve_irp(
                layer.irp_base_url,
                layer.irp_public_key_file,
                layer.irp_signing_certificate_file,
                layer.irp_client_id,
                layer.irp_client_secret,
                layer.irp_client_secret_file,
            )?,
        })
    }
}

/// A portal URL: http(s), without a trailing slash.
fn portal_url(value: Option<String>, default: &str, name: &str) -> Result<String, ConfigError> {
    let url = value.unwrap_or_else(|| default.to_string());
    let url = url.trim().trim_end_matches('/').to_string();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.contains(char::is_whitespace)
    {
        return Err(ConfigError::Invalid(format!(
            "{name} must be an http(s) URL, not {url:?}"
        )));
    }
    Ok(url)
}

/// An address (`10.0.0.5`) or a CIDR range (`10.0.0.0/8`).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, ConfigError> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| {
            ConfigError::Invalid(format!(
                "trusted_proxies: {text:?} is not an IP address or CIDR range"
            ))
        })
}

/// A bound counted out by a semaphore (connections, requests, calls): at least one, at most
/// what a semaphore holds.
fn permit_count(value: Option<usize>, default: usize, name: &str) -> Result<usize, ConfigError> {
    match value.unwrap_or(default) {
        0 => Err(ConfigError::Invalid(format!("{name} must be at least 1"))),
        n => Ok(n.min(tokio::sync::Semaphore::MAX_PERMITS)),
    }
}

fn irp_timeout(secs: Option<u64>, default: u64, name: &str) -> Result<Duration, ConfigError> {
    match secs.unwrap_or(default) {
        0 => Err(ConfigError::Invalid(format!(
            "{name} must be at least 1 second"
        ))),
        secs => Ok(Duration::from_secs(secs)),
    }
}

#[cfg(test)]
mod tests;
