//! GSTIN and PAN parsing at both strictness levels: no panic on any input, and what parses
//! strictly also parses in sandbox mode and prints back as its upper-cased input.
#![no_main]

use gst_core::{Gstin, Pan, Strictness};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let strict = Gstin::parse(text, Strictness::Production);
    let sandbox = Gstin::parse(text, Strictness::Sandbox);
    if let Ok(gstin) = &strict {
        assert!(
            sandbox.is_ok(),
            "strictly valid but refused in sandbox mode: {text:?}"
        );
        assert_eq!(gstin.to_string(), text.trim().to_ascii_uppercase());
    }
    if let Err(e) = &strict {
        assert!(!e.to_string().is_empty());
    }
    let _ = Pan::parse(text);
});
