//! ZIP archives of printed e-invoices, one PDF each, for ClearTax's `format=ZIP`.

use super::pdf;
use super::printed::{PrintedEinvoice, RenderError};

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
