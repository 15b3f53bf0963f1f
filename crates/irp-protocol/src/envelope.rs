//! The response envelope every IRP API answers with (`nic-irp-api.md` §1):
//! `{"Status": 1|0, "Data": ..., "ErrorDetails": [...]|null, "InfoDtls": [...]|null}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::NicCode;
use crate::keys::canonicalize;

/// One `ErrorDetails` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The NIC code, e.g. `"2150"`.
    #[serde(rename = "ErrorCode")]
    pub error_code: String,
    /// The message.
    #[serde(rename = "ErrorMessage")]
    pub error_message: String,
}

impl ErrorDetail {
    /// From a catalogue entry, with its placeholders filled.
    pub fn from_code(code: NicCode, args: &[&str]) -> Self {
        ErrorDetail {
            error_code: code.code.to_string(),
            error_message: code.format(args),
        }
    }
}

/// One `InfoDtls` entry, e.g. `DUPIRN` with the existing IRN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoDetail {
    /// `DUPIRN`, `EWBPPD`, `EWBERR`, …
    #[serde(rename = "InfCd")]
    pub inf_cd: String,
    /// A string, object or list.
    #[serde(rename = "Desc")]
    pub desc: Value,
}

/// The envelope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// 1 for success, 0 for failure.
    #[serde(rename = "Status", deserialize_with = "status_number")]
    pub status: i64,
    /// The payload: a plain object (auth), or base64 AES ciphertext (later calls), or null.
    #[serde(rename = "Data", default)]
    pub data: Option<Value>,
    /// Errors, all at once.
    #[serde(rename = "ErrorDetails", default)]
    pub error_details: Option<Vec<ErrorDetail>>,
    /// Extra information.
    #[serde(rename = "InfoDtls", default)]
    pub info_dtls: Option<Vec<InfoDetail>>,
}

fn status_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| serde::de::Error::custom("Status is not an integer")),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom("Status is not 0 or 1")),
        other => Err(serde::de::Error::custom(format!("Status has type {other}"))),
    }
}

impl Envelope {
    /// A success carrying `data`.
    pub fn success(data: Value) -> Self {
        Envelope {
            status: 1,
            data: Some(data),
            error_details: None,
            info_dtls: None,
        }
    }

    /// A failure with errors (and optional info).
    pub fn failure(errors: Vec<ErrorDetail>, info: Option<Vec<InfoDetail>>) -> Self {
        Envelope {
            status: 0,
            data: None,
            error_details: Some(errors),
            info_dtls: info,
        }
    }

    /// A failure with one catalogue code.
    pub fn error(code: NicCode, args: &[&str]) -> Self {
        Self::failure(vec![ErrorDetail::from_code(code, args)], None)
    }

    /// Parses an envelope, accepting keys in any case and `Status` as a number or string.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let value: Value = serde_json::from_slice(bytes)?;
        serde_json::from_value(canonicalize(value))
    }

    /// Whether it reports success.
    pub fn is_success(&self) -> bool {
        self.status == 1
    }

    /// The codes of its errors.
    pub fn error_codes(&self) -> Vec<&str> {
        self.error_details
            .iter()
            .flatten()
            .map(|e| e.error_code.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_casing_and_string_status() {
        let e = Envelope::parse(br#"{"status":"0","errordetails":[{"errorcode":"2150","errormessage":"Duplicate IRN"}],"infodtls":[{"infcd":"DUPIRN","desc":{"Irn":"x"}}]}"#).unwrap();
        assert!(!e.is_success());
        assert_eq!(e.error_codes(), ["2150"]);
        assert_eq!(e.info_dtls.unwrap()[0].inf_cd, "DUPIRN");
        let out = serde_json::to_value(Envelope::success(serde_json::json!("x"))).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"Status": 1, "Data": "x", "ErrorDetails": null, "InfoDtls": null})
        );
    }
}
