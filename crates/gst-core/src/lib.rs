//! Indian GST identities (GSTIN, PAN and state codes), parsed into types that cannot hold an
//! invalid value. Pure code with no I/O, shared by the gateway, the IRP sandbox and the CLI.

mod gstin;
mod pan;
mod state;
#[cfg(feature = "sqlx")]
mod stored;

pub use gstin::{check_character, Gstin, GstinError, Strictness};
pub use pan::{Pan, PanError, PanHolder};
pub use state::{state_name, StateCode};
