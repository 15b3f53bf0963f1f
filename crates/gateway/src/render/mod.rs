//! What people look at: an e-invoice printed as a PDF with its QR code, and the QR code as an
//! SVG image for the console. Both are drawn from what the IRP signed.

pub mod archive;
pub mod pdf;
pub mod printed;
pub mod qr;
