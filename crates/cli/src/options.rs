//! Settings flags shared by every command that opens the database; each flag also reads an
//! `EINVOICE_*` environment variable, and `--config` names an optional TOML file beneath them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use gateway::{Settings, SettingsLayer};
use secrecy::SecretString;

/// Flags and environment variables that configure the gateway.
#[derive(Args, Debug, Clone)]
pub struct SettingsArgs {
    /// TOML configuration file (flags and environment override it).
    #[arg(long, env = "EINVOICE_CONFIG")]
    pub config: Option<PathBuf>,
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
    /// IRP base URL (unset in sandbox mode: an IRP sandbox runs in this process).
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
}

impl SettingsArgs {
    /// Resolves flags and environment over the optional file over the defaults.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let master_key = std::env::var("EINVOICE_MASTER_KEY")
            .ok()
            .filter(|v| !v.is_empty())
            .map(SecretString::from);
        let top = SettingsLayer {
            mode: self.mode.clone(),
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            master_key_file: self.master_key_file.clone(),
            body_limit_bytes: self.body_limit_bytes,
            request_timeout_secs: self.request_timeout_secs,
            log_format: self.log_format.clone(),
            login_failure_limit: self.login_failure_limit,
            token_failure_limit: self.token_failure_limit,
            trusted_proxies: self.trusted_proxies.clone(),
            max_connections: self.max_connections,
            header_read_timeout_secs: self.header_read_timeout_secs,
            master_key,
            irp_base_url: self.irp_base_url.clone(),
            irp_public_key_file: self.irp_public_key_file.clone(),
            irp_signing_certificate_file: self.irp_signing_certificate_file.clone(),
            irp_client_id: self.irp_client_id.clone(),
            irp_client_secret_file: self.irp_client_secret_file.clone(),
            retention_days: self.retention_days,
            verify_interval_secs: self.verify_interval_secs,
            irp_connect_timeout_secs: self.irp_connect_timeout_secs,
            irp_request_timeout_secs: self.irp_request_timeout_secs,
            irp_client_secret: std::env::var("EINVOICE_IRP_CLIENT_SECRET")
                .ok()
                .filter(|v| !v.is_empty())
                .map(SecretString::from),
        };
        let file = match &self.config {
            Some(path) => SettingsLayer::from_toml_file(path)?,
            None => SettingsLayer::default(),
        };
        Ok(Settings::resolve(top.or(file))?)
    }
}
