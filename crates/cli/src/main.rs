//! The `einvoice` command: runs the gateway and administers its data (users, tokens, owners,
//! vault keys), and checks GSTINs offline.

/// mimalloc: the services allocate many short-lived JSON values per request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin;
mod gstin;
mod import;
mod invoice;
mod options;
mod sandbox;
mod sandbox_user;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use options::SettingsArgs;

/// GST e-invoicing gateway.
#[derive(Parser)]
#[command(name = "einvoice", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway's HTTP API.
    Serve(SettingsArgs),
    /// Apply database migrations and exit.
    Migrate(SettingsArgs),
    /// GSTIN tools.
    Gstin {
        #[command(subcommand)]
        command: gstin::GstinCommand,
    },
    /// Print the IRN of a document.
    Irn(invoice::IrnArgs),
    /// Validate an INV-01 JSON document; print `valid` or every error with its NIC code.
    Validate(invoice::ValidateArgs),
    /// Run the offline IRP sandbox (NIC's e-invoice system, simulated).
    Sandbox(sandbox::SandboxArgs),
    /// One-click sandbox credentials through a running sandbox-mode gateway.
    SandboxUser {
        #[command(subcommand)]
        command: sandbox_user::SandboxUserCommand,
    },
    /// Bulk operations on NIC credentials.
    Credentials {
        #[command(subcommand)]
        command: import::CredentialsCommand,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: admin::UsersCommand,
    },
    /// Manage API tokens.
    Tokens {
        #[command(subcommand)]
        command: admin::TokensCommand,
    },
    /// Manage owners (PAN, GSTIN, branch).
    Owners {
        #[command(subcommand)]
        command: admin::OwnersCommand,
    },
    /// Manage the vault's keys.
    Keys {
        #[command(subcommand)]
        command: admin::KeysCommand,
    },
}

/// Asks the kernel not to back this process's memory with transparent huge pages. mimalloc
/// marks its arenas `MADV_HUGEPAGE`, so on a kernel in THP `madvise` mode (Debian's default)
/// each 2 MiB region the heap touches becomes resident whole: the gateway held 174–184 MiB
/// with 2,000 requests in flight, 134 MiB without (`einvoice-bench irp-latency`, see
/// `BENCHMARKS.md`). It holds for every thread and for memory mapped from here on.
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        eprintln!("warning: transparent huge pages stay on: {e}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Gstin { command } => return gstin::run(command),
        Command::Irn(args) => return invoice::irn(args),
        Command::Validate(args) => return invoice::validate(args),
        _ => {}
    }
    without_transparent_huge_pages();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Migrate(args) => {
            let settings = args.settings()?;
            gateway::telemetry::init(settings.log_format);
            let store = gateway::storage::open(&settings.database_url).await?;
            store.migrate().await?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Users { command } => admin::users(command).await,
        Command::Tokens { command } => admin::tokens(command).await,
        Command::Owners { command } => admin::owners(command).await,
        Command::Keys { command } => admin::keys(command).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Credentials { command } => import::run(command).await,
        Command::SandboxUser { command } => sandbox_user::run(command).await,
        Command::Gstin { .. } | Command::Irn(_) | Command::Validate(_) => Ok(()),
    }
}

async fn serve(args: SettingsArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let settings = args.settings()?;
    gateway::telemetry::init(settings.log_format);
    let mode = settings.mode;
    let app = gateway::Application::build(settings).await?;
    let shutdown = gateway::app::shutdown_signal();
    println!(
        "einvoice gateway ({mode:?} mode) listening on http://{}",
        app.local_addr()
    );
    std::io::stdout().flush()?;
    // Further lines are for people; a reader that only wanted the address may have gone.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "web console: http://{}/console", app.local_addr());
    if let Some(sandbox) = app
        .state()
        .irp
        .as_ref()
        .and_then(|irp| irp.embedded_sandbox)
    {
        let _ = writeln!(
            stdout,
            "embedded IRP sandbox: http://{sandbox} (portal pages: http://{sandbox}/portal/ui)"
        );
    }
    let _ = stdout.flush();
    app.run_until(shutdown).await?;
    Ok(())
}
