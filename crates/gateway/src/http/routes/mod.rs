//! HTTP handlers, one module per resource.

pub mod before_irp;
pub mod download;
pub mod einvoice;
pub mod ewaybill;
pub mod govt;
pub mod health;
pub mod metrics;
pub mod nic_credentials;
pub mod onboarding;
pub mod owners;
pub mod tokens;
pub mod webhooks;
