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
    /// Directory for the state (taxpayers, users, e-invoices and the keys clients cache):
    /// `<dir>/irp-sandbox.db`, kept across restarts.
    #[arg(long, default_value = "./data/irp-sandbox")]
    pub data_dir: PathBuf,
    /// SQLite file for the state (overrides --data-dir).
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Keep the state in memory only: new keys and an empty portal on every start.
    #[arg(long, conflicts_with = "db")]
    pub ephemeral: bool,
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
    let db_path = if args.ephemeral {
        None
    } else {
        match args.db {
            Some(db) => Some(db),
            None => {
                std::fs::create_dir_all(&args.data_dir)
                    .map_err(|e| anyhow!("--data-dir {}: {e}", args.data_dir.display()))?;
                Some(args.data_dir.join("irp-sandbox.db"))
            }
        }
    };
    let config = SandboxConfig {
        profile,
        db_path,
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
