//! Settings flags shared by every command that opens the database; each flag also reads an
//! `EINVOICE_*` environment variable, and `--config` names an optional TOML file beneath them.

use std::path::PathBuf;

use clap::Args;
use gateway::{Settings, SettingsLayer};
use secrecy::SecretString;

/// Flags and environment variables that configure the gateway, and the optional TOML file
/// beneath them. The settings themselves are declared once, in [`SettingsLayer`].
#[derive(Args, Debug, Clone)]
pub struct SettingsArgs {
    /// TOML configuration file (flags and environment override it).
    #[arg(long, env = "EINVOICE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Every setting.
    #[command(flatten)]
    pub layer: SettingsLayer,
}

fn secret_from_env(name: &str) -> Option<SecretString> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

impl SettingsArgs {
    /// Resolves flags and environment over the optional file over the defaults.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let top = SettingsLayer {
            master_key: secret_from_env("EINVOICE_MASTER_KEY"),
            irp_client_secret: secret_from_env("EINVOICE_IRP_CLIENT_SECRET"),
            ..self.layer.clone()
        };
        let layered = SettingsLayer::layered(self.config.as_deref(), top)?;
        Ok(Settings::resolve(layered)?)
    }
}
