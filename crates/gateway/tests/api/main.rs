//! The gateway's one integration-test binary: real servers on port 0, each test on SQLite and
//! on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admission;
mod authorisation;
mod browser;
mod browser_onboarding;
mod cleartax_compat;
mod conformance;
mod console;
mod console_webhooks;
mod download;
mod einvoice;
mod ewaybill;
mod failover;
mod hardening;
mod helpers;
mod isolation;
mod metrics;
mod onboarding;
mod owners;
mod redaction;
mod schema;
mod service;
mod session_isolation;
mod store_credentials;
mod tokens;
mod verify;
mod webdriver;
mod webhooks;
