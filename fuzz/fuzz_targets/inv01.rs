//! The INV-01 validator on any JSON document, called exactly as the gateway's generate and the
//! IRP sandbox call it (keys canonicalised, then validated in both GSTIN modes, with and
//! without the HSN, unit and PIN masters), and the normalisation NIC signs: it never panics,
//! and every violation names a NIC code and a field path. Seeds with multibyte text are in
//! `fuzz/seeds/inv01/`.
#![no_main]

use std::sync::OnceLock;

use irp_protocol::keys::canonicalize;
use irp_protocol::masters::Masters;
use irp_protocol::signed::normalised;
use irp_protocol::validate::{validate_canonical, Rules};
use libfuzzer_sys::fuzz_target;

/// Loaded once for the whole run, as the sandbox loads them once at start.
static MASTERS: OnceLock<Masters> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let masters = MASTERS.get_or_init(Masters::load);
    let today = time::macros::date!(2026 - 11 - 22);
    let document = canonicalize(document);
    for strict_gstin in [true, false] {
        for masters in [None, Some(masters)] {
            for violation in validate_canonical(
                &document,
                Rules {
                    today,
                    strict_gstin,
                    masters,
                },
            ) {
                assert!(!format!("{violation:?}").is_empty());
            }
        }
    }
    if let Some(object) = document.as_object() {
        let _ = normalised(object).len();
    }
});
