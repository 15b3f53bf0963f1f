//! GSTIN validation against the real vectors in `shared/reference/vectors/gstin.json`, plus
//! property tests: a generated valid GSTIN passes, and any single-character change fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use gst_core::{check_character, Gstin, StateCode, Strictness};
use proptest::prelude::*;

fn vectors() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/reference/vectors/gstin.json"
    );
    let text = std::fs::read_to_string(path).expect("shared/reference/vectors/gstin.json");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_real_valid_gstin_passes_strict_validation() {
    let v = vectors();
    let valid = v["valid"].as_array().unwrap();
    assert!(valid.len() >= 30);
    for case in valid {
        let gstin = case["gstin"].as_str().unwrap();
        let parsed = Gstin::parse(gstin, Strictness::Production)
            .unwrap_or_else(|e| panic!("{gstin} ({}) rejected: {e}", case["category"]));
        assert_eq!(parsed.as_str(), gstin);
        assert_eq!(
            parsed.state().unwrap().to_string(),
            case["state_code"].as_str().unwrap()
        );
        assert_eq!(
            check_character(&gstin[..14]).unwrap().to_string(),
            case["check_char"].as_str().unwrap()
        );
    }
}

#[test]
fn every_invalid_checksum_case_fails_strict_validation() {
    let v = vectors();
    for case in v["invalid_checksum"].as_array().unwrap() {
        let gstin = case["gstin"].as_str().unwrap();
        assert!(
            Gstin::parse(gstin, Strictness::Production).is_err(),
            "{gstin} accepted ({})",
            case["reason"]
        );
        if let Some(expected) = case["expected_check_char"].as_str() {
            assert_eq!(check_character(&gstin[..14]).unwrap().to_string(), expected);
        }
    }
}

#[test]
fn every_invalid_format_case_fails_both_levels_unless_only_the_checksum_or_layout_is_wrong() {
    let v = vectors();
    for case in v["invalid_format"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        let fails: Vec<&str> = case["fails"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        if input.eq_ignore_ascii_case("24AACCT6304M1ZB") {
            // Lower case only: normalised to upper case, as the IRP and india-compliance do.
            continue;
        }
        assert!(
            Gstin::parse(input, Strictness::Production).is_err(),
            "{input:?}"
        );
        let pattern_or_state = fails
            .iter()
            .any(|f| matches!(*f, "length_15" | "state_code"));
        if pattern_or_state {
            assert!(
                Gstin::parse(input, Strictness::Sandbox).is_err(),
                "{input:?}"
            );
        }
    }
    // Lower case is normalised: this one is valid once upper-cased.
    assert!(Gstin::parse("24aacct6304m1zb", Strictness::Production).is_ok());
}

#[test]
fn nic_sandbox_gstins_pass_sandbox_validation() {
    for g in [
        "29AAFCD5862R000",
        "02AMBPG7773M002",
        "24AAFCD5862R005",
        "07AAFCD5862R007",
    ] {
        Gstin::parse(g, Strictness::Sandbox).unwrap();
    }
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn valid_gstin() -> impl Strategy<Value = String> {
    let states: Vec<u8> = StateCode::all().map(|s| s.code()).collect();
    (
        proptest::sample::select(states),
        "[A-Z]{3}",
        proptest::sample::select(vec!['P', 'C', 'H', 'F', 'A', 'T', 'B', 'L', 'J', 'G']),
        "[A-Z][0-9]{4}[A-Z]",
        "[1-9A-Z]",
    )
        .prop_map(|(state, head, holder, tail, entity)| {
            let first14 = format!("{state:02}{head}{holder}{tail}{entity}Z");
            let check = check_character(&first14).unwrap();
            format!("{first14}{check}")
        })
}

proptest! {
    #[test]
    fn a_generated_valid_gstin_always_passes(gstin in valid_gstin()) {
        prop_assert!(Gstin::parse(&gstin, Strictness::Production).is_ok(), "{}", gstin);
        prop_assert!(Gstin::parse(&gstin, Strictness::Sandbox).is_ok(), "{}", gstin);
    }

    #[test]
    fn any_single_character_change_fails_strict_validation(
        gstin in valid_gstin(),
        position in 0usize..15,
        replacement in proptest::sample::select(ALNUM.to_vec()),
    ) {
        let mut bytes = gstin.clone().into_bytes();
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(
            Gstin::parse(&changed, Strictness::Production).is_err(),
            "{} (from {}) accepted", changed, gstin
        );
    }
}
