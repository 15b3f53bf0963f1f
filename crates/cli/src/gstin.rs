//! `einvoice gstin check`: validates GSTINs offline, one line per GSTIN.

use std::process::ExitCode;

use clap::Subcommand;
use gst_core::{Gstin, Strictness};

/// GSTIN subcommands.
#[derive(Subcommand)]
pub enum GstinCommand {
    /// Print `valid` or the reason for each GSTIN; exit non-zero if any is invalid.
    Check {
        /// Accept NIC sandbox dummies (layout and state code only; no checksum).
        #[arg(long)]
        sandbox: bool,
        /// The GSTINs.
        #[arg(required = true)]
        gstins: Vec<String>,
    },
}

/// Runs a GSTIN subcommand.
pub fn run(command: &GstinCommand) -> ExitCode {
    let GstinCommand::Check { sandbox, gstins } = command;
    let strictness = if *sandbox {
        Strictness::Sandbox
    } else {
        Strictness::Production
    };
    let mut all_valid = true;
    for input in gstins {
        match Gstin::parse(input, strictness) {
            Ok(_) => println!("{input}: valid"),
            Err(e) => {
                all_valid = false;
                println!("{input}: {e}");
            }
        }
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
