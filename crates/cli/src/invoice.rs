//! `einvoice irn` and `einvoice validate`: the IRN of a document and INV-01 validation, offline.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use irp_protocol::irn::compute_irn;
use irp_protocol::validate::{validate_invoice, Rules};

/// `einvoice irn`
#[derive(Args)]
pub struct IrnArgs {
    /// Seller GSTIN.
    #[arg(long)]
    pub gstin: String,
    /// Document type: INV, CRN or DBN.
    #[arg(long = "type")]
    pub doc_type: String,
    /// Document number.
    #[arg(long)]
    pub no: String,
    /// Document date, dd/mm/yyyy.
    #[arg(long)]
    pub date: String,
    /// When the IRN was (or will be) generated, dd/mm/yyyy; default today (IST). Numbers of
    /// documents generated before 1 June 2025 were hashed as sent, later ones upper-cased.
    #[arg(long = "generated-on")]
    pub generated_on: Option<String>,
}

/// `einvoice validate`
#[derive(Args)]
pub struct ValidateArgs {
    /// The INV-01 JSON file (a bare document, or an object with an `invoice` member).
    pub file: PathBuf,
    /// Check only the layout of GSTINs (NIC sandbox dummies fail the checksum).
    #[arg(long)]
    pub sandbox: bool,
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+5:30))
        .date()
}

/// Prints the IRN.
pub fn irn(args: &IrnArgs) -> ExitCode {
    let generated_on = match args.generated_on.as_deref() {
        None => today(),
        Some(text) => match irp_protocol::irn::parse_doc_date(text) {
            Ok(date) => date,
            Err(e) => {
                eprintln!("error: --generated-on: {e} (dd/mm/yyyy)");
                return ExitCode::FAILURE;
            }
        },
    };
    match compute_irn(
        &args.gstin,
        &args.doc_type,
        &args.no,
        &args.date,
        generated_on,
    ) {
        Ok(irn) => {
            println!("{irn}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `valid`, or each violation as `CODE PATH: MESSAGE`.
pub fn validate(args: &ValidateArgs) -> ExitCode {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let value: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {} is not JSON: {e}", args.file.display());
            return ExitCode::FAILURE;
        }
    };
    let invoice = value.get("invoice").cloned().unwrap_or(value);
    // The HSN, unit and PIN masters the IRP sandbox checks too.
    let masters = irp_protocol::masters::Masters::load();
    let violations = validate_invoice(
        &invoice,
        Rules {
            today: today(),
            strict_gstin: !args.sandbox,
            masters: Some(&masters),
        },
    );
    if violations.is_empty() {
        println!("valid");
        return ExitCode::SUCCESS;
    }
    for v in &violations {
        println!("{} {}: {}", v.code, v.path, v.message);
    }
    ExitCode::FAILURE
}
