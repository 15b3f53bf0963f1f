//! `einvoice sandbox`: runs the IRP sandbox as its own server.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use irp_sandbox::{Profile, Sandbox, SandboxConfig};

/// `einvoice sandbox` flags.
#[derive(Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8090)]
    pub port: u16,
    /// Full listen address (overrides --port).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// `sandbox` (NIC's sandbox) or `production` (NIC's production behaviour).
    #[arg(long, default_value = "sandbox")]
    pub profile: String,
    /// SQLite file for the state (default: in memory).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Expose /sandbox/ clock, faults and counters.
    #[arg(long)]
    pub test_controls: bool,
    /// Generated taxpayers to seed, besides the well-known sandbox GSTINs.
    #[arg(long, default_value_t = 20)]
    pub taxpayers: usize,
    /// Seed of the taxpayer generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the sandbox until Ctrl-C or SIGTERM.
pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    gateway::telemetry::init(gateway::config::LogFormat::Text);
    let profile = Profile::parse(&args.profile)
        .ok_or_else(|| anyhow!("--profile must be sandbox or production"))?;
    let config = SandboxConfig {
        profile,
        db_path: args.db,
        test_controls: args.test_controls,
        taxpayers: args.taxpayers,
        seed: args.seed,
        ..Default::default()
    };
    let sandbox = Sandbox::open(config).await?;
    let addr = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], args.port)));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let shutdown = gateway::app::shutdown_signal();
    println!(
        "IRP sandbox ({}) listening on http://{}",
        args.profile,
        listener.local_addr()?
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    axum::serve(
        listener,
        irp_sandbox::router(sandbox).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}
