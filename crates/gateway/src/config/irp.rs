//! The IRP settings: the IRPs (one, or several over one IRN registry), our client
//! credentials at them, their keys, and how long the client waits.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::error::ConfigError;

/// One IRP of several that share an IRN registry (NIC1, NIC2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IrpEndpoint {
    /// Its name, as the `irp` header names it (`NIC1`, `NIC2`).
    pub name: String,
    /// Base URL.
    pub base_url: String,
}

impl IrpEndpoint {
    /// The only IRP, named `NIC1`.
    pub fn only(base_url: impl Into<String>) -> Vec<IrpEndpoint> {
        vec![IrpEndpoint {
            name: "NIC1".into(),
            base_url: base_url.into(),
        }]
    }

    /// Reads `irp_base_url`: one URL (the IRP `NIC1`), or several IRPs in order of
    /// preference as `NAME=URL` separated by commas, e.g. `NIC1=https://a,NIC2=https://b`.
    pub fn parse_list(text: &str) -> Result<Vec<IrpEndpoint>, ConfigError> {
        let text = text.trim();
        if !text.contains('=') {
            return Ok(IrpEndpoint::only(text));
        }
        let mut endpoints: Vec<IrpEndpoint> = Vec::new();
        for entry in text.split(',') {
            let (name, url) = entry.split_once('=').ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "irp_base_url: {entry:?} is not NAME=URL (e.g. NIC1=https://…,NIC2=https://…)"
                ))
            })?;
            let name = name.trim().to_ascii_uppercase();
            let valid_name = !name.is_empty()
                && name.len() <= 10
                && name.chars().all(|c| c.is_ascii_alphanumeric());
            if !valid_name || endpoints.iter().any(|e| e.name == name) {
                return Err(ConfigError::Invalid(format!(
                    "irp_base_url: IRP names are 1 to 10 letters or digits, each once; not {name:?}"
                )));
            }
            endpoints.push(IrpEndpoint {
                name,
                base_url: url.trim().to_string(),
            });
        }
        Ok(endpoints)
    }
}

/// Settings for a real IRP (production, or NIC's own sandbox).
#[derive(Debug, Clone)]
pub struct IrpSettings {
    /// The IRPs, in order of preference (generate goes to the first that is up); the same
    /// keys and client credentials serve all of them.
    pub endpoints: Vec<IrpEndpoint>,
    /// PEM file of the IRP's encryption public key.
    pub public_key_file: PathBuf,
    /// PEM file of the IRP's signing certificate (optional: signatures are then not checked).
    pub signing_certificate_file: Option<PathBuf>,
    /// Our GSP client id.
    pub client_id: String,
    /// Our GSP client secret.
    pub client_secret: SecretString,
    /// How long the circuit breaker stays open (ms).
    pub breaker_cooldown_ms: i64,
}

/// Calls open at once per IRP by default: at NIC's usual answer times (0.3–1 s) about 500 to
/// 1,700 calls a second per gateway process, with memory and the IRP's load bounded.
pub const DEFAULT_IRP_MAX_CONNECTIONS: usize = 512;

/// How long the IRP client waits, and how many calls it keeps open at once at each IRP.
#[derive(Debug, Clone, Copy)]
pub struct IrpClientLimits {
    /// For a connection.
    pub connect: Duration,
    /// For an answer.
    pub request: Duration,
    /// Calls open at once per IRP (each holds one HTTP/1.1 connection); more wait their turn.
    pub max_connections: usize,
}

impl Default for IrpClientLimits {
    fn default() -> Self {
        IrpClientLimits {
            connect: Duration::from_secs(5),
            request: Duration::from_secs(30),
            max_connections: DEFAULT_IRP_MAX_CONNECTIONS,
        }
    }
}

pub(super) fn resolve_irp(
    base_url: Option<String>,
    public_key_file: Option<PathBuf>,
    signing_certificate_file: Option<PathBuf>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    client_secret_file: Option<PathBuf>,
) -> Result<Option<IrpSettings>, ConfigError> {
    let Some(base_url) = base_url else {
        return Ok(None);
    };
    let missing = |what: &str| ConfigError::Invalid(format!("an IRP base URL needs {what}"));
    let client_secret = match (client_secret, client_secret_file) {
        (Some(_), Some(_)) => {
            return Err(ConfigError::Invalid(
                "set EINVOICE_IRP_CLIENT_SECRET or EINVOICE_IRP_CLIENT_SECRET_FILE, not both"
                    .into(),
            ))
        }
        (Some(secret), None) => secret,
        (None, Some(path)) => SecretString::from(
            std::fs::read_to_string(&path)
                .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))?
                .trim()
                .to_string(),
        ),
        (None, None) => {
            return Err(missing(
                "EINVOICE_IRP_CLIENT_SECRET or EINVOICE_IRP_CLIENT_SECRET_FILE",
            ))
        }
    };
    Ok(Some(IrpSettings {
        endpoints: IrpEndpoint::parse_list(&base_url)?,
        public_key_file: public_key_file.ok_or_else(|| missing("the IRP public key file"))?,
        signing_certificate_file,
        client_id: client_id.ok_or_else(|| missing("the IRP client id"))?,
        client_secret,
        breaker_cooldown_ms: 30_000,
    }))
}
