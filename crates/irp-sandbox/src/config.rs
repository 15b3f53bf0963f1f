//! How a sandbox runs: the profile (NIC's sandbox or production behaviour), where its state
//! lives, the seed data, and whether test controls are exposed.

/// NIC's two environments differ in token lifetime, `iss`, GSTIN strictness and IP checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Tokens last 60 minutes; dummy GSTINs accepted; `iss` is "NIC Sandbox".
    Sandbox,
    /// Tokens last 360 minutes; strict GSTINs; clients only from whitelisted IPs (3059).
    Production,
}

impl Profile {
    /// Token lifetime in minutes.
    pub fn token_minutes(self) -> i64 {
        match self {
            Profile::Sandbox => 60,
            Profile::Production => 360,
        }
    }

    /// The `iss` of signed JWTs.
    pub fn issuer(self) -> &'static str {
        match self {
            Profile::Sandbox => "NIC Sandbox",
            Profile::Production => "NIC",
        }
    }

    /// Parses `sandbox` or `production`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "sandbox" => Some(Profile::Sandbox),
            "production" => Some(Profile::Production),
            _ => None,
        }
    }
}

/// Sandbox settings.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Which NIC environment to imitate.
    pub profile: Profile,
    /// SQLite file for state; `None` keeps it in memory.
    pub db_path: Option<std::path::PathBuf>,
    /// Expose `/sandbox/` clock, faults and counters.
    pub test_controls: bool,
    /// How many generated taxpayers to seed (besides the well-known sandbox GSTINs).
    pub taxpayers: usize,
    /// Seed of the taxpayer generator.
    pub seed: u64,
    /// Get-by-IRN answers 2283 after this many hours.
    pub irn_retrieval_hours: i64,
    /// Get-by-document answers 2154 after this many hours.
    pub doc_retrieval_hours: i64,
    /// Cancellation is allowed for this many hours after AckDt (then 2270).
    pub cancel_hours: i64,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            profile: Profile::Sandbox,
            db_path: None,
            test_controls: false,
            taxpayers: 20,
            seed: 1,
            irn_retrieval_hours: 48,
            doc_retrieval_hours: 72,
            cancel_hours: 24,
        }
    }
}
