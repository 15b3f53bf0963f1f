//! The INV-01 validator on any JSON document: it never panics, and every violation names a
//! NIC code and a field path.
#![no_main]

use irp_protocol::validate::{validate_invoice, Rules};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let today = time::macros::date!(2026 - 11 - 22);
    for strict_gstin in [true, false] {
        for violation in validate_invoice(
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
