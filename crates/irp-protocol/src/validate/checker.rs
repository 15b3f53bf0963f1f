//! The validator's tools: a collector of violations with typed field readers (strings,
//! numbers, dates within their schema bounds), and the small numeric and GSTIN helpers the
//! rules share.

use serde_json::{Map, Value};

use crate::errors::{self, NicCode};

/// One problem with an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// NIC code, e.g. `"2189"`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// JSON path, e.g. `ItemList[1].TotAmt`.
    pub path: String,
}

/// How far line arithmetic and the totals of item amounts may be off (2182-2187, 2192-2194):
/// one rupee, the window NIC's 2189 resolution gives and ERPs round within.
pub(super) const SUM_TOLERANCE: f64 = 1.0;

pub(super) struct Checker {
    /// What was found so far.
    pub(super) out: Vec<Violation>,
}

impl Checker {
    pub(super) fn push(&mut self, code: NicCode, args: &[&str], path: impl Into<String>) {
        self.out.push(Violation {
            code: code.code,
            message: code.format(args),
            path: path.into(),
        });
    }

    pub(super) fn schema(&mut self, path: &str, problem: &str) {
        let message = format!("{path}: {problem}");
        self.push(errors::SCHEMA, &[&message], path);
    }

    pub(super) fn object<'a>(
        &mut self,
        parent: &'a Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
    ) -> Option<&'a Map<String, Value>> {
        match parent.get(key) {
            Some(Value::Object(map)) => Some(map),
            None | Some(Value::Null) => {
                if required {
                    self.schema(path, "is required");
                }
                None
            }
            Some(_) => {
                self.schema(path, "must be an object");
                None
            }
        }
    }

    pub(super) fn string<'a>(
        &mut self,
        obj: &'a Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
        min: usize,
        max: usize,
    ) -> Option<&'a str> {
        match obj.get(key) {
            Some(Value::String(s)) => {
                // A string that breaks the schema is reported once and not read by the rules
                // after it (one fault, one error).
                let len = s.chars().count();
                if len < min || len > max {
                    self.schema(path, &format!("length must be {min} to {max}, is {len}"));
                    None
                } else if s.contains('"') || s.contains('\\') {
                    self.schema(path, "must not contain \" or \\");
                    None
                } else {
                    Some(s)
                }
            }
            None | Some(Value::Null) => {
                if required {
                    self.schema(path, "is required");
                }
                None
            }
            Some(_) => {
                self.schema(path, "must be a string");
                None
            }
        }
    }

    pub(super) fn number(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        path: &str,
        required: bool,
        min: f64,
        max: f64,
    ) -> Option<f64> {
        match obj.get(key) {
            Some(Value::Number(n)) => {
                let v = n.as_f64().unwrap_or(f64::NAN);
                if !(min..=max).contains(&v) {
                    self.schema(path, &format!("must be between {min} and {max}"));
                }
                Some(v)
            }
            None | Some(Value::Null) => {
                if required {
                    self.schema(path, "is required");
                }
                None
            }
            Some(_) => {
                self.schema(path, "must be a number");
                None
            }
        }
    }
}

pub(super) fn is_gstin_layout(s: &str) -> bool {
    s.len() == 15
        && s.bytes().take(2).all(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

pub(super) fn state_of(s: &str) -> Option<u8> {
    let n: u8 = s.trim().parse().ok()?;
    (n != 0).then_some(n)
}

pub(super) fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub(super) fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance + 1e-9
}
