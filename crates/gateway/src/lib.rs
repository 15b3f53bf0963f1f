//! The e-invoicing gateway: accounts and API tokens, owners (PAN, GSTIN, branch), the
//! encrypted NIC credential vault, and the ClearTax-compatible HTTP API over SQLite or
//! PostgreSQL.

pub mod accounts;
pub mod app;
pub mod client_address;
pub mod clock;
pub mod config;
pub mod console;
pub mod events;
pub mod http;
pub mod ids;
pub mod irp;
pub mod metrics;
pub mod render;
pub mod serve;
pub mod service;
pub mod state;
pub mod storage;
pub mod telemetry;
pub mod throttle;
pub mod vault;

pub use app::Application;
pub use config::{Mode, Settings, SettingsLayer};
