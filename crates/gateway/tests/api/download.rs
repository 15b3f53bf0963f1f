//! ClearTax's PDF download, checked the way a person checks a printed e-invoice: the page is
//! rendered with `pdftoppm`, its QR code read back with `zbarimg` and compared with the IRP's
//! `SignedQRCode`, and its text read with `pdftotext`. Also: ZIP archives, the limits, another
//! GSTIN's IRN, and an IRN the IRP no longer gives while retention is off.

use std::io::Read;
use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

use crate::einvoice::{invoice, world, World, SELLERS};
use crate::helpers::Db;
use crate::on_both_backends;

/// Whether poppler-utils and zbar-tools are here; under `CI=true` they must be.
pub fn tools_present() -> bool {
    let present = ["pdftoppm", "pdftotext", "zbarimg"]
        .iter()
        .all(|tool| Command::new(tool).arg("-h").output().is_ok());
    if !present {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but pdftoppm, pdftotext or zbarimg is missing (apt-get install poppler-utils zbar-tools)");
        }
        eprintln!("skipping: pdftoppm, pdftotext or zbarimg is not installed (apt-get install poppler-utils zbar-tools)");
    }
    present
}

/// The QR codes `zbarimg` reads in a PNG image.
pub fn qr_codes_in_png(png: &Path) -> Vec<String> {
    let read = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .unwrap();
    String::from_utf8(read.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// The QR codes on a PDF's first page, as `zbarimg` reads them from a 300 dpi rendering.
fn qr_codes_of(pdf: &[u8], dir: &Path) -> Vec<String> {
    let file = dir.join("einvoice.pdf");
    std::fs::write(&file, pdf).unwrap();
    let rendered = Command::new("pdftoppm")
        .args(["-r", "300", "-png", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(dir.join("page"))
        .output()
        .unwrap();
    assert!(rendered.status.success(), "{rendered:?}");
    let page = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("a rendered page");
    qr_codes_in_png(&page)
}

fn text_of(pdf: &[u8], dir: &Path) -> String {
    let file = dir.join("text.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

async fn download(w: &World, seller: usize, query: &str) -> (u16, String, Vec<u8>) {
    let response = w
        .app
        .client
        .get(w.app.url(&format!("/einv/v2/eInvoice/download?{query}")))
        .header("gstin", SELLERS[seller].0)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

fn error_code(body: &[u8]) -> String {
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    body["errorDetails"][0]["error_code"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

async fn pdf_download(db: Db) {
    if !tools_present() {
        return;
    }
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let first = w.one(0, invoice(s, b, "PDF/0001", 1234.5)).await;
    let irn = first["govt_response"]["Irn"].as_str().unwrap().to_string();
    let signed_qr = first["govt_response"]["SignedQRCode"]
        .as_str()
        .unwrap()
        .to_string();

    // One IRN: a PDF whose QR code reads back as the exact SignedQRCode.
    let (status, content_type, pdf) = download(&w, 0, &format!("irns={irn}")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(qr_codes_of(&pdf, dir.path()), vec![signed_qr.clone()]);
    let text = text_of(&pdf, dir.path());
    for shown in [
        irn.as_str(),
        "Seller Pvt Ltd",
        "Buyer Pvt Ltd",
        "PDF/0001",
        s,
        b,
        &first["govt_response"]["AckNo"].to_string(),
        first["govt_response"]["AckDt"].as_str().unwrap(),
    ] {
        assert!(text.contains(shown), "{shown} is not printed:\n{text}");
    }
    assert!(!text.contains("CANCELLED"));

    // Two IRNs as a ZIP of one PDF each (the parameter repeated; a comma list works too); a
    // cancelled IRN says so on its page.
    let second = w.one(0, invoice(s, b, "PDF/0002", 99.0)).await;
    let second_irn = second["govt_response"]["Irn"].as_str().unwrap().to_string();
    w.cancel(0, &second_irn).await;
    let (status, content_type, zipped) =
        download(&w, 0, &format!("irns={irn}&irns={second_irn}&format=ZIP")).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&zipped));
    assert_eq!(content_type, "application/zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zipped)).unwrap();
    assert_eq!(archive.len(), 2);
    let mut cancelled_pdf = Vec::new();
    archive
        .by_name(&format!("{second_irn}.pdf"))
        .unwrap()
        .read_to_end(&mut cancelled_pdf)
        .unwrap();
    let cancelled_dir = tempfile::tempdir().unwrap();
    assert!(text_of(&cancelled_pdf, cancelled_dir.path()).contains("CANCELLED"));
    assert_eq!(
        qr_codes_of(&cancelled_pdf, cancelled_dir.path()),
        vec![second["govt_response"]["SignedQRCode"]
            .as_str()
            .unwrap()
            .to_string()]
    );
    let (status, _, combined) = download(&w, 0, &format!("irns={irn},{second_irn}")).await;
    assert_eq!(status, 200);
    let combined_dir = tempfile::tempdir().unwrap();
    let combined_text = text_of(&combined, combined_dir.path());
    assert!(combined_text.contains("PDF/0001") && combined_text.contains("PDF/0002"));

    // Limits and bad input: six IRNs, no IRN, a malformed one, an unknown format.
    let six = [irn.as_str(); 6].join(",");
    let (status, _, body) = download(&w, 0, &format!("irns={six}")).await;
    assert_eq!((status, error_code(&body).as_str()), (422, "batch_size"));
    let (status, _, body) = download(&w, 0, "format=PDF").await;
    assert_eq!((status, error_code(&body).as_str()), (400, "missing_field"));
    let (status, _, body) = download(&w, 0, "irns=not-an-irn").await;
    assert_eq!((status, error_code(&body).as_str()), (400, "invalid_irn"));
    let (status, _, body) = download(&w, 0, &format!("irns={irn}&format=DOCX")).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (400, "invalid_format")
    );

    // Another seller's IRN is not printed for this GSTIN.
    let other = w.one(1, invoice(b, s, "PDF/0003", 10.0)).await;
    let other_irn = other["govt_response"]["Irn"].as_str().unwrap();
    let (status, _, body) = download(&w, 0, &format!("irns={other_irn}")).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "einvoice_unavailable")
    );
    assert!(!String::from_utf8_lossy(&body).contains("Buyer Pvt Ltd"));

    // Past the IRP's 48-hour retrieval window, with retention off, the error says so.
    let moved = reqwest::Client::new()
        .post(format!("{}/sandbox/clock", w.irp))
        .json(&json!({"advance_secs": 49 * 3600}))
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
    let (status, _, body) = download(&w, 0, &format!("irns={irn}")).await;
    assert_eq!(
        (status, error_code(&body).as_str()),
        (404, "einvoice_unavailable"),
        "{}",
        String::from_utf8_lossy(&body)
    );
    let message = String::from_utf8_lossy(&body);
    assert!(message.contains("retention is off"), "{message}");
    assert!(
        message.contains("2283"),
        "the IRP's reason is named: {message}"
    );
}
on_both_backends!(
    download_prints_the_signed_einvoice_with_its_qr_code,
    pdf_download
);
