//! `einvoice sandbox-user create`: one-click sandbox credentials through a running gateway in
//! sandbox mode (`POST /v2/sandbox/api-users`): the gateway has the IRP sandbox create an API
//! user as its GSP, then stores and verifies it. The password is never printed.

use anyhow::{anyhow, Context};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

/// `einvoice sandbox-user ...`
#[derive(Subcommand)]
pub enum SandboxUserCommand {
    /// Create, store and verify a sandbox API user.
    Create(CreateArgs),
}

/// `einvoice sandbox-user create` flags.
#[derive(Args)]
pub struct CreateArgs {
    /// The running gateway.
    #[arg(
        long,
        default_value = "http://127.0.0.1:8080",
        env = "EINVOICE_GATEWAY_URL"
    )]
    gateway: String,
    /// An API token (not needed by a sandbox-mode gateway's built-in account).
    #[arg(long, env = "EINVOICE_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A GSTIN the IRP sandbox knows; without it, a fresh dummy GSTIN of the gateway's GSP.
    #[arg(long)]
    gstin: Option<String>,
    /// For a fresh dummy GSTIN: its two-digit state code.
    #[arg(long)]
    state_code: Option<String>,
}

/// Runs the command; prints the GSTIN, owner, username and status.
pub async fn run(command: SandboxUserCommand) -> anyhow::Result<()> {
    let SandboxUserCommand::Create(args) = command;
    let mut body = json!({});
    if let Some(gstin) = &args.gstin {
        body["gstin"] = json!(gstin);
    }
    if let Some(state_code) = &args.state_code {
        body["state_code"] = json!(state_code);
    }
    let url = format!(
        "{}/v2/sandbox/api-users",
        args.gateway.trim_end_matches('/')
    );
    let mut request = reqwest::Client::new().post(&url).json(&body);
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("calling {url}"))?;
    let status = response.status();
    let answer: Value = response
        .json()
        .await
        .with_context(|| format!("reading the answer of {url}"))?;
    if !status.is_success() {
        let detail = &answer["errorDetails"][0];
        return Err(anyhow!(
            "{} ({}): {}",
            status,
            detail["error_code"].as_str().unwrap_or(""),
            detail["error_message"].as_str().unwrap_or("")
        ));
    }
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    println!("gstin: {}", text(&answer["gstin"]));
    println!("owner_id: {}", text(&answer["owner_id"]));
    println!("username: {}", text(&answer["username"]));
    println!("status: {}", text(&answer["verification"]["status"]));
    Ok(())
}
