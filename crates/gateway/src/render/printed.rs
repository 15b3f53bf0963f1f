//! What a printed e-invoice is made of (the acknowledgement and the signed document), how an
//! amount is printed, and why drawing can fail: shared by the PDF, the QR code and archives.

use serde_json::Value;

/// One e-invoice to print: the IRP's acknowledgement and the document as it signed it.
pub struct PrintedEinvoice<'a> {
    /// The IRN.
    pub irn: &'a str,
    /// The IRP's acknowledgement number.
    pub ack_no: String,
    /// The IRP's acknowledgement date and time.
    pub ack_dt: String,
    /// Whether the IRN is cancelled (the page says so).
    pub cancelled: bool,
    /// The IRP's `SignedQRCode`, drawn as it is.
    pub signed_qr_code: &'a str,
    /// The document as the IRP signed it (the `data` of the verified `SignedInvoice`).
    pub document: &'a Value,
}

/// A value as printed: a string as it is, a number in its JSON form, "" otherwise.
pub fn shown(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A field of a block of the document (`SellerDtls.LglNm`…) as printed.
pub fn field(document: &Value, block: &str, key: &str) -> String {
    shown(document.get(block).and_then(|b| b.get(key)))
}

/// An amount as printed: two decimals ("" when absent).
pub fn money(value: Option<&Value>) -> String {
    match value {
        Some(Value::Number(n)) => n
            .as_f64()
            .map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| n.to_string()),
        Some(Value::String(text)) => text.clone(),
        _ => String::new(),
    }
}

/// Why an e-invoice could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The embedded font did not load.
    #[error("the embedded font could not be read")]
    Font,
    /// The text does not fit a QR code.
    #[error("the QR code cannot be made: {0}")]
    Qr(String),
    /// The ZIP archive could not be written.
    #[error("the ZIP archive could not be written: {0}")]
    Zip(String),
}
