//! What people look at: an e-invoice printed as a PDF with its QR code, and the QR code as an
//! SVG image for the console. Both are drawn from what the IRP signed.

pub mod pdf;
pub mod qr;

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

/// A ZIP archive with one PDF per e-invoice, named `<IRN>.pdf`.
pub fn zip(einvoices: &[PrintedEinvoice]) -> Result<Vec<u8>, RenderError> {
    use std::io::Write;
    let mut archive = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // The PDFs are compressed already: stored as they are.
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for einvoice in einvoices {
        let pdf = pdf::render(std::slice::from_ref(einvoice))?;
        archive
            .start_file(format!("{}.pdf", einvoice.irn), options)
            .map_err(|e| RenderError::Zip(e.to_string()))?;
        archive
            .write_all(&pdf)
            .map_err(|e| RenderError::Zip(e.to_string()))?;
    }
    archive
        .finish()
        .map(|cursor| cursor.into_inner())
        .map_err(|e| RenderError::Zip(e.to_string()))
}
