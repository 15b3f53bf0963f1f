//! The one error of the settings layer: what is wrong with a value or the file.

/// A configuration problem found at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value is out of range or malformed.
    #[error("configuration: {0}")]
    Invalid(String),
    /// The TOML file could not be read or parsed.
    #[error("configuration file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}
