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
    /// How many IRPs to serve over one IRN registry: 1, or 2 for NIC1 and NIC2 (NIC2 on the
    /// next port, or a free one with --port 0), each with its own sessions and faults.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub irps: u8,
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
    let mut sites = vec![(sandbox.clone(), addr)];
    if args.irps == 2 {
        let next = match addr.port() {
            0 => 0,
            port => port
                .checked_add(1)
                .ok_or_else(|| anyhow!("no port after {port} for NIC2"))?,
        };
        sites.push((sandbox.as_irp("NIC2"), SocketAddr::new(addr.ip(), next)));
    }
    // The handler is in place before the address is printed: a SIGTERM sent as soon as the
    // address is read must stop the sandbox gracefully, not kill it.
    let shutdown = gateway::app::shutdown_signal();
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut servers = Vec::new();
    for (site, addr) in sites {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let name = if args.irps == 2 {
            format!(" {}", site.irp())
        } else {
            String::new()
        };
        println!(
            "IRP sandbox ({}){name} listening on http://{}",
            args.profile,
            listener.local_addr()?
        );
        let mut stopped = stopping.clone();
        servers.push(tokio::spawn(async move {
            axum::serve(
                listener,
                irp_sandbox::router(site).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
        }));
    }
    use std::io::Write;
    std::io::stdout().flush()?;
    shutdown.await;
    let _ = stop.send(true);
    for server in servers {
        server.await??;
    }
    Ok(())
}
