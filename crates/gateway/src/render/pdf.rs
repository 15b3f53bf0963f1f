//! The e-invoice as a printed A4 page: seller and buyer, items, totals, the IRN with its
//! acknowledgement, and the QR code of `SignedQRCode`. Everything shown is read from the
//! document the IRP signed, so the page shows exactly what was registered.

use printpdf::{
    Color, FontId, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Polygon, PolygonRing, Pt, Rgb, TextItem, WindingOrder,
};
use serde_json::Value;

use super::printed::{field, money, shown, PrintedEinvoice, RenderError};
use super::qr::QrMatrix;

const REGULAR_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-einvoice.ttf");
const BOLD_FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold-einvoice.ttf");

const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MARGIN: f32 = 36.0;
/// The QR code's side: large enough that each module is about half a millimetre.
const QR_SIDE: f32 = 170.0;
const ROW_HEIGHT: f32 = 13.0;
/// Where item rows stop on a page, leaving room for the totals or the page footer.
const LOWEST_ROW: f32 = 150.0;

/// The item table's columns: heading, left edge, most characters shown.
const COLUMNS: [(&str, f32, usize); 9] = [
    ("Sl", MARGIN, 4),
    ("Description", 58.0, 34),
    ("HSN", 232.0, 8),
    ("Qty", 276.0, 9),
    ("Unit", 322.0, 4),
    ("Unit price", 350.0, 11),
    ("Taxable value", 412.0, 13),
    ("GST %", 478.0, 5),
    ("Total", 516.0, 12),
];

struct Fonts {
    regular: FontId,
    bold: FontId,
}

/// One page's drawing operations.
struct Page<'f> {
    ops: Vec<Op>,
    fonts: &'f Fonts,
}

impl Page<'_> {
    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &str) {
        let font = if bold {
            &self.fonts.bold
        } else {
            &self.fonts.regular
        };
        self.ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(font.clone()),
                size: Pt(size),
            },
            Op::SetTextCursor {
                pos: Point { x: Pt(x), y: Pt(y) },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
    }

    fn colour(&mut self, r: f32, g: f32, b: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb::new(r, g, b, None)),
        });
    }

    fn rule(&mut self, y: f32) {
        self.rectangles(vec![(MARGIN, y, PAGE_WIDTH - 2.0 * MARGIN, 0.6)]);
    }

    /// Filled rectangles `(x, y, width, height)`, `y` at the bottom, as one path.
    fn rectangles(&mut self, rectangles: Vec<(f32, f32, f32, f32)>) {
        let point = |x: f32, y: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        let rings = rectangles
            .into_iter()
            .map(|(x, y, w, h)| PolygonRing {
                points: vec![
                    point(x, y),
                    point(x + w, y),
                    point(x + w, y + h),
                    point(x, y + h),
                ],
            })
            .collect();
        self.ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        });
    }

    /// The QR code with its top-left corner at (x, top), `side` points a side, quiet zone
    /// included.
    fn qr(&mut self, matrix: &QrMatrix, x: f32, top: f32, side: f32) {
        let modules = matrix.width() + 8;
        let module = side / modules as f32;
        let mut rectangles = Vec::new();
        for row in 0..matrix.width() {
            let y = top - (row as f32 + 5.0) * module;
            for (column, length) in matrix.dark_runs(row) {
                rectangles.push((
                    x + (column as f32 + 4.0) * module,
                    y,
                    length as f32 * module,
                    module,
                ));
            }
        }
        self.colour(0.0, 0.0, 0.0);
        self.rectangles(rectangles);
    }
}

/// At most `limit` characters, with an ellipsis when cut.
fn clip(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(limit.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

fn title(document: &Value) -> &'static str {
    match field(document, "DocDtls", "Typ")
        .to_ascii_uppercase()
        .as_str()
    {
        "CRN" => "Credit Note",
        "DBN" => "Debit Note",
        _ => "Tax Invoice",
    }
}

/// A party block: name, GSTIN, address, place and PIN, state code.
fn party(page: &mut Page, x: f32, y: f32, heading: &str, document: &Value, block: &str) {
    page.text(x, y, 8.0, true, heading);
    let name = field(document, block, "LglNm");
    page.text(x, y - 13.0, 10.0, true, &clip(&name, 42));
    let lines = [
        format!("GSTIN: {}", field(document, block, "Gstin")),
        field(document, block, "Addr1"),
        field(document, block, "Addr2"),
        format!(
            "{} {}",
            field(document, block, "Loc"),
            field(document, block, "Pin")
        ),
        format!("State code: {}", field(document, block, "Stcd")),
    ];
    let mut line_y = y - 26.0;
    for line in lines.iter().filter(|l| !l.trim().is_empty()) {
        page.text(x, line_y, 8.5, false, &clip(line.trim(), 52));
        line_y -= 11.0;
    }
}

fn table_heading(page: &mut Page, y: f32) {
    page.colour(0.0, 0.0, 0.0);
    for (heading, x, _) in COLUMNS {
        page.text(x, y, 7.5, true, heading);
    }
    page.rule(y - 4.0);
}

fn item_cells(item: &Value) -> [String; 9] {
    [
        shown(item.get("SlNo")),
        shown(item.get("PrdDesc")),
        shown(item.get("HsnCd")),
        shown(item.get("Qty")),
        shown(item.get("Unit")),
        money(item.get("UnitPrice")),
        money(item.get("AssAmt")),
        shown(item.get("GstRt")),
        money(item.get("TotItemVal")),
    ]
}

/// The header of every page: the title, the IRN and acknowledgement, and the QR code.
fn header(page: &mut Page, einvoice: &PrintedEinvoice, qr: &QrMatrix, number: usize) -> f32 {
    let document = einvoice.document;
    let top = PAGE_HEIGHT - MARGIN;
    page.colour(0.0, 0.0, 0.0);
    page.text(MARGIN, top - 16.0, 16.0, true, title(document));
    page.text(
        MARGIN,
        top - 32.0,
        9.0,
        false,
        &format!(
            "{} {} of {} · {}",
            field(document, "DocDtls", "Typ").to_ascii_uppercase(),
            field(document, "DocDtls", "No"),
            field(document, "DocDtls", "Dt"),
            field(document, "TranDtls", "SupTyp"),
        ),
    );
    page.text(MARGIN, top - 54.0, 8.0, true, "IRN");
    page.text(MARGIN, top - 65.0, 7.5, false, einvoice.irn);
    page.text(MARGIN, top - 83.0, 8.0, true, "Ack no");
    page.text(MARGIN, top - 94.0, 9.0, false, &einvoice.ack_no);
    page.text(MARGIN + 130.0, top - 83.0, 8.0, true, "Ack date");
    page.text(MARGIN + 130.0, top - 94.0, 9.0, false, &einvoice.ack_dt);
    if einvoice.cancelled {
        page.colour(0.75, 0.0, 0.0);
        page.text(MARGIN, top - 122.0, 18.0, true, "CANCELLED");
        page.colour(0.0, 0.0, 0.0);
    }
    if number > 1 {
        page.text(MARGIN, top - 140.0, 8.0, false, &format!("Page {number}"));
    }
    page.qr(qr, PAGE_WIDTH - MARGIN - QR_SIDE, top, QR_SIDE);
    top - QR_SIDE - 8.0
}

fn totals(page: &mut Page, document: &Value, mut y: f32) {
    let values = document.get("ValDtls");
    let rows = [
        ("Taxable value", "AssVal"),
        ("CGST", "CgstVal"),
        ("SGST", "SgstVal"),
        ("IGST", "IgstVal"),
        ("Cess", "CesVal"),
        ("State cess", "StCesVal"),
        ("Discount", "Discount"),
        ("Other charges", "OthChrg"),
        ("Round off", "RndOffAmt"),
    ];
    for (label, key) in rows {
        let value = values.and_then(|v| v.get(key));
        let zero = value.and_then(Value::as_f64) == Some(0.0);
        if value.is_none() || (zero && key != "AssVal") {
            continue;
        }
        page.text(380.0, y, 8.5, false, label);
        page.text(484.0, y, 8.5, false, &money(value));
        y -= 12.0;
    }
    page.rule(y + 6.0);
    page.text(380.0, y - 8.0, 10.0, true, "Total (₹)");
    page.text(
        484.0,
        y - 8.0,
        10.0,
        true,
        &money(values.and_then(|v| v.get("TotInvVal"))),
    );
}

fn footer(page: &mut Page) {
    page.colour(0.35, 0.35, 0.35);
    page.text(
        MARGIN,
        MARGIN,
        7.0,
        false,
        "Printed from the e-invoice as signed by the Invoice Registration Portal. The QR code carries the IRP's signed summary.",
    );
    page.colour(0.0, 0.0, 0.0);
}

/// The pages of one e-invoice.
fn pages(einvoice: &PrintedEinvoice, fonts: &Fonts) -> Result<Vec<PdfPage>, RenderError> {
    let qr = QrMatrix::encode(einvoice.signed_qr_code)?;
    let document = einvoice.document;
    let items: Vec<&Value> = document
        .get("ItemList")
        .and_then(Value::as_array)
        .map(|items| items.iter().collect())
        .unwrap_or_default();
    let mut done = Vec::new();
    let mut page = Page {
        ops: Vec::new(),
        fonts,
    };
    let below_header = header(&mut page, einvoice, &qr, 1);
    party(
        &mut page,
        MARGIN,
        below_header,
        "SELLER",
        document,
        "SellerDtls",
    );
    party(
        &mut page,
        PAGE_WIDTH / 2.0 + 8.0,
        below_header,
        "BUYER",
        document,
        "BuyerDtls",
    );
    let mut y = below_header - 100.0;
    table_heading(&mut page, y);
    y -= 16.0;
    for item in items {
        if y < LOWEST_ROW {
            footer(&mut page);
            done.push(page.ops);
            page = Page {
                ops: Vec::new(),
                fonts,
            };
            y = header(&mut page, einvoice, &qr, done.len() + 1) - 10.0;
            table_heading(&mut page, y);
            y -= 16.0;
        }
        for ((_, x, limit), cell) in COLUMNS.iter().zip(item_cells(item)) {
            page.text(*x, y, 7.5, false, &clip(&cell, *limit));
        }
        y -= ROW_HEIGHT;
    }
    page.rule(y + 6.0);
    totals(&mut page, document, y - 10.0);
    footer(&mut page);
    done.push(page.ops);
    Ok(done
        .into_iter()
        .map(|ops| PdfPage::new(Mm(210.0), Mm(297.0), ops))
        .collect())
}

/// One PDF with the e-invoices in order, each starting on a new page.
pub fn render(einvoices: &[PrintedEinvoice]) -> Result<Vec<u8>, RenderError> {
    let mut warnings = Vec::new();
    let regular =
        ParsedFont::from_bytes(REGULAR_FONT, 0, &mut warnings).ok_or(RenderError::Font)?;
    let bold = ParsedFont::from_bytes(BOLD_FONT, 0, &mut warnings).ok_or(RenderError::Font)?;
    let mut doc = PdfDocument::new("e-invoice");
    let fonts = Fonts {
        regular: doc.add_font(&regular),
        bold: doc.add_font(&bold),
    };
    let mut all = Vec::new();
    for einvoice in einvoices {
        all.extend(pages(einvoice, &fonts)?);
    }
    let mut save_warnings = Vec::new();
    Ok(doc
        .with_pages(all)
        .save(&PdfSaveOptions::default(), &mut save_warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document(items: usize) -> Value {
        let item = |n: usize| json!({"SlNo": n.to_string(), "PrdDesc": "Portland cement, 50 kg bags", "HsnCd": "252329", "Qty": 10, "Unit": "BAG", "UnitPrice": 350.5, "AssAmt": 3505.0, "GstRt": 28, "TotItemVal": 4486.4});
        json!({
            "Version": "1.1",
            "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B"},
            "DocDtls": {"Typ": "INV", "No": "PDF/0001", "Dt": "29/11/2026"},
            "SellerDtls": {"Gstin": "29AAGCE4321K1ZQ", "LglNm": "Example Traders Private Limited", "Addr1": "12 MG Road", "Loc": "Bengaluru", "Pin": 560001, "Stcd": "29"},
            "BuyerDtls": {"Gstin": "27AAFCD5862R1ZV", "LglNm": "Buyer Industries", "Addr1": "1 Nariman Point", "Loc": "Mumbai", "Pin": 400021, "Stcd": "27", "Pos": "27"},
            "ItemList": (1..=items).map(item).collect::<Vec<_>>(),
            "ValDtls": {"AssVal": 3505.0 * items as f64, "IgstVal": 981.4 * items as f64, "TotInvVal": 4486.4 * items as f64}
        })
    }

    #[test]
    fn prints_every_item_on_as_many_pages_as_needed() {
        let qr = "eyJhbGciOiJSUzI1NiJ9.".to_string() + &"x".repeat(900);
        for (items, expected_pages) in [(1, 1), (80, 3)] {
            let doc = document(items);
            let printed = PrintedEinvoice {
                irn: "a5c12dca80e743321740b001fd70953e8738d109865d28ba4013750f2046f229",
                ack_no: "112010036563310".into(),
                ack_dt: "2026-11-29 10:00:00".into(),
                cancelled: items > 1,
                signed_qr_code: &qr,
                document: &doc,
            };
            let fonts_probe = pages_of(&printed);
            assert_eq!(fonts_probe, expected_pages);
            let bytes = render(&[printed]).unwrap();
            assert!(bytes.starts_with(b"%PDF-"));
            if let Ok(path) = std::env::var("EINVOICE_PDF_SAMPLE") {
                std::fs::write(format!("{path}-{items}.pdf"), &bytes).unwrap();
            }
        }
    }

    fn pages_of(einvoice: &PrintedEinvoice) -> usize {
        let mut doc = PdfDocument::new("count");
        let regular = ParsedFont::from_bytes(REGULAR_FONT, 0, &mut Vec::new()).unwrap();
        let fonts = Fonts {
            regular: doc.add_font(&regular),
            bold: doc.add_font(&regular),
        };
        pages(einvoice, &fonts).unwrap().len()
    }
}
