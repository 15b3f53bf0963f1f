//! `einvoice credentials import creds.csv`: stores NIC credentials for many GSTINs from a CSV
//! (`gstin,username,password[,owner_id]`), with a progress bar, a per-row report, optional
//! verification at the IRP paced to an auth-call budget. One bad row never stops the others.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use gateway::clock::SystemClock;
use gateway::service::bulk::{self, ImportRow, RowResult};
use gateway::service::Actor;
use secrecy::SecretString;

use crate::options::SettingsArgs;

/// `einvoice credentials ...`
#[derive(Subcommand)]
pub enum CredentialsCommand {
    /// Import credentials from a CSV file.
    Import(ImportArgs),
}

/// `einvoice credentials import` flags.
#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    settings: SettingsArgs,
    /// The CSV: a header row, then `gstin,username,password[,owner_id]`.
    file: PathBuf,
    /// The account, by one of its users' email (default: the sandbox account in sandbox mode).
    #[arg(long)]
    email: Option<String>,
    /// Check each row at the IRP.
    #[arg(long)]
    verify: bool,
    /// Auth calls a second when verifying.
    #[arg(long, default_value_t = 5)]
    auth_per_second: u32,
    /// Where to write the per-row report (CSV; default: <file>.report.csv).
    #[arg(long)]
    report: Option<PathBuf>,
}

fn read_rows(path: &std::path::Path) -> anyhow::Result<Vec<(usize, Result<ImportRow, String>)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::Fields)
        .from_path(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let row = match record {
            Ok(r) if r.len() >= 3 => {
                let owner_id = match r.get(3).filter(|s| !s.is_empty()) {
                    Some(text) => match uuid::Uuid::parse_str(text) {
                        Ok(id) => Some(id),
                        Err(_) => {
                            rows.push((i + 1, Err(format!("owner_id {text:?} is not a UUID"))));
                            continue;
                        }
                    },
                    None => None,
                };
                Ok(ImportRow {
                    gstin: r.get(0).unwrap_or("").to_string(),
                    username: r.get(1).unwrap_or("").to_string(),
                    password: SecretString::from(r.get(2).unwrap_or("").to_string()),
                    owner_id: owner_id.map(gateway::ids::OwnerId),
                })
            }
            Ok(r) => Err(format!(
                "expected gstin,username,password[,owner_id], found {} columns",
                r.len()
            )),
            Err(e) => Err(format!("unreadable row: {e}")),
        };
        rows.push((i + 1, row));
    }
    Ok(rows)
}

fn draw(done: usize, total: usize, stored: usize) {
    let width = 30;
    let filled = (done * width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    eprint!(
        "\r[{}{}] {done}/{total} rows, {stored} stored",
        "#".repeat(filled),
        " ".repeat(width - filled)
    );
    let _ = std::io::stderr().flush();
}

/// Runs a credentials command.
pub async fn run(command: CredentialsCommand) -> anyhow::Result<()> {
    let CredentialsCommand::Import(args) = command;
    let settings = args.settings.settings()?;
    gateway::telemetry::init(settings.log_format);
    let sandbox = settings.mode == gateway::Mode::Sandbox;
    let mut state = gateway::app::build_state(settings, Arc::new(SystemClock)).await?;
    if args.verify {
        state.irp = gateway::app::connect_irp(&state).await?.map(Arc::new);
    }
    let actor = match &args.email {
        Some(email) => {
            let user = state
                .store
                .find_user_by_email(&email.trim().to_ascii_lowercase())
                .await?
                .ok_or_else(|| anyhow!("no user with email {email}"))?;
            Actor {
                account_id: user.account_id,
                token_id: None,
            }
        }
        None if sandbox => Actor {
            account_id: gateway::state::SANDBOX_ACCOUNT_ID,
            token_id: None,
        },
        None => return Err(anyhow!("production mode: name the account with --email")),
    };
    let rows = read_rows(&args.file)?;
    let total = rows.len();
    let mut results: Vec<RowResult> = Vec::with_capacity(total);
    let mut valid = Vec::new();
    for (number, row) in rows {
        match row {
            Ok(row) => valid.push((number, row)),
            Err(message) => results.push(RowResult {
                row: number,
                gstin: String::new(),
                owner_id: None,
                status: "ERROR",
                version: None,
                verification: None,
                message: Some(message),
            }),
        }
    }
    let mut stored = 0;
    draw(results.len(), total, stored);
    let numbers: Vec<usize> = valid.iter().map(|(n, _)| *n).collect();
    let imported = bulk::import(
        &state,
        actor,
        valid.into_iter().map(|(_, r)| r).collect(),
        args.verify,
        args.auth_per_second,
        None,
        |r| {
            if r.status == "STORED" {
                stored += 1;
            }
            draw(results.len() + r.row, total, stored);
        },
    )
    .await;
    eprintln!();
    for (mut result, number) in imported.into_iter().zip(numbers) {
        result.row = number;
        results.push(result);
    }
    results.sort_by_key(|r| r.row);
    state.store.close().await;

    let report = args
        .report
        .clone()
        .unwrap_or_else(|| args.file.with_extension("report.csv"));
    let mut writer =
        csv::Writer::from_path(&report).with_context(|| format!("writing {}", report.display()))?;
    writer.write_record([
        "row",
        "gstin",
        "owner_id",
        "status",
        "version",
        "verification",
        "message",
    ])?;
    for r in &results {
        writer.write_record([
            r.row.to_string(),
            r.gstin.clone(),
            r.owner_id.map(|o| o.to_string()).unwrap_or_default(),
            r.status.to_string(),
            r.version.map(|v| v.to_string()).unwrap_or_default(),
            r.verification.unwrap_or("").to_string(),
            r.message.clone().unwrap_or_default(),
        ])?;
    }
    writer.flush()?;
    let errors = results.iter().filter(|r| r.status != "STORED").count();
    println!(
        "{} rows: {} stored, {errors} refused; report in {}",
        results.len(),
        results.len() - errors,
        report.display()
    );
    Ok(())
}
