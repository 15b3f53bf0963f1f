//! The QR code of an e-invoice: the IRP's `SignedQRCode` text, encoded as it is, as a module
//! matrix (for the PDF) or as SVG (for the console).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

use super::printed::RenderError;

/// The dark and light modules of a QR code, without its quiet zone.
pub struct QrMatrix {
    width: usize,
    dark: Vec<bool>,
}

impl QrMatrix {
    /// Encodes the text exactly (byte mode, error correction M: readable from a printed page).
    pub fn encode(text: &str) -> Result<Self, RenderError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
            .map_err(|e| RenderError::Qr(e.to_string()))?;
        let width = code.width();
        let dark = code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        Ok(QrMatrix { width, dark })
    }

    /// Modules per side.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The runs of dark modules of one row: `(first column, length)`.
    pub fn dark_runs(&self, row: usize) -> Vec<(usize, usize)> {
        let mut runs = Vec::new();
        let cells = &self.dark[row * self.width..(row + 1) * self.width];
        let mut column = 0;
        while column < self.width {
            if cells[column] {
                let start = column;
                while column < self.width && cells[column] {
                    column += 1;
                }
                runs.push((start, column - start));
            } else {
                column += 1;
            }
        }
        runs
    }
}

/// The QR code as an SVG element of at least `size` pixels a side, with its quiet zone, ready
/// to sit inside an HTML page (no XML declaration).
pub fn svg(text: &str, size: u32) -> Result<String, RenderError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| RenderError::Qr(e.to_string()))?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build();
    Ok(match image.find("<svg") {
        Some(start) => image[start..].to_string(),
        None => image,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_cover_exactly_the_dark_modules() {
        let matrix = QrMatrix::encode("eyJhbGciOiJSUzI1NiJ9.e30.c2ln").unwrap();
        let dark: usize = (0..matrix.width())
            .flat_map(|row| matrix.dark_runs(row))
            .map(|(_, length)| length)
            .sum();
        assert_eq!(dark, matrix.dark.iter().filter(|d| **d).count());
        assert!(dark > 0);
    }

    #[test]
    fn svg_is_an_svg_image() {
        let image = svg("hello", 200).unwrap();
        assert!(image.starts_with("<svg"), "{image}");
    }
}
