//! The INV-01 validator on any JSON document, called exactly as the gateway's generate and the
//! IRP sandbox call it (keys canonicalised, then validated in both GSTIN modes): it never
//! panics, and every violation names a NIC code and a field path. Seeds with multibyte text
//! are in `fuzz/seeds/inv01/`.
#![no_main]

use irp_protocol::keys::canonicalize;
use irp_protocol::validate::{validate_canonical, Rules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let today = time::macros::date!(2026 - 11 - 22);
    let document = canonicalize(document);
    for strict_gstin in [true, false] {
        for violation in validate_canonical(
            &document,
            Rules {
                today,
                strict_gstin,
            },
        ) {
            assert!(!format!("{violation:?}").is_empty());
        }
    }
});
