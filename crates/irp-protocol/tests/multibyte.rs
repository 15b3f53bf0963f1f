//! Text from callers is cut by characters, never by bytes: every string field of a valid
//! invoice, replaced by multibyte text (some of exactly 15 bytes, the length of a GSTIN),
//! is checked without a panic (and a GSTIN field with such text is a violation).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use irp_protocol::validate::{validate_invoice, Rules};
use serde_json::Value;

const SAMPLES: &[&str] = &[
    "3éAAAAAAAAAAAA",
    "é9AAFCD5862R1Z5",
    "२९AAFCD5862R1",
    "29AAFCD5862R1Zé",
    "é",
    "ü",
    "\u{202e}29AAFCD5862R1Z",
    "🙂🙂🙂",
];

fn string_paths(value: &Value, path: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    match value {
        Value::String(_) => out.push(path.clone()),
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Value::String(k.clone()));
                string_paths(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Value::from(i));
                string_paths(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn at<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Value::String(k) => &mut v[k.as_str()],
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        _ => unreachable!(),
    })
}

#[test]
fn multibyte_text_in_any_field_is_a_violation_not_a_panic() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/demo-invoice.json");
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let invoice = demo[0]["transaction"].clone();
    let mut paths = Vec::new();
    string_paths(&invoice, &mut Vec::new(), &mut paths);
    assert!(paths.len() > 20, "the demo invoice has its string fields");
    let today = time::macros::date!(2026 - 11 - 22);
    let mut checked = 0;
    for path in &paths {
        for sample in SAMPLES {
            let mut doc = invoice.clone();
            *at(&mut doc, path) = Value::String(sample.to_string());
            for strict_gstin in [true, false] {
                let violations = validate_invoice(
                    &doc,
                    Rules {
                        today,
                        strict_gstin,
                        masters: None,
                    },
                );
                let is_gstin = path.last() == Some(&Value::String("Gstin".into()));
                if is_gstin {
                    assert!(!violations.is_empty(), "{path:?} = {sample:?} was accepted");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 300);
}
