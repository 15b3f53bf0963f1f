//! `einvoice-bench`: the load generator. It drives a gateway over real HTTP (one it starts
//! in-process on port 0, or one at `--target`) and prints throughput and latency percentiles.

/// mimalloc: the services allocate many short-lived JSON values per request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod auth_single_flight;
mod ewb_gateway;
mod irn_direct;
mod irn_gateway;
mod irp_latency;
mod processes;
mod scale;
mod stats;
mod store_credentials;

use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use gateway::config::SettingsLayer;
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone, Copy, ValueEnum)]
enum Scenario {
    /// POST store_nic_credentials with a token, spread over many owners.
    StoreCredentials,
    /// IRNs straight at the IRP sandbox, with NIC's full crypto; compared with the RSA limit.
    IrnDirect,
    /// The same IRNs direct and through the gateway: added latency, throughput, auth calls.
    IrnGateway,
    /// E-way bills by IRN direct and through the gateway: added latency, throughput, and the
    /// bills raised against those answered.
    EwbGateway,
    /// Concurrent generate calls over cold and expired sessions: IRP auth calls per GSTIN.
    AuthSingleFlight,
    /// Up to --credentials stored credentials over --scale-owners owners: p99, memory, size,
    /// key rotation.
    Scale,
    /// Scale at real IRP latency: sandbox and gateway as their own processes, --latency-ms on
    /// every generate, each of --concurrencies direct and through the gateway over --gstins.
    IrpLatency,
}

/// Load generator for the e-invoicing gateway.
#[derive(Parser)]
#[command(name = "einvoice-bench", version, about)]
struct Args {
    /// What to measure.
    scenario: Scenario,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// How long to measure, in seconds (ignored with --requests).
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Stop after this many requests instead of a duration.
    #[arg(long)]
    requests: Option<u64>,
    /// An already running gateway (sandbox mode, or give --token); by default one is started
    /// in-process on port 0 in production mode.
    #[arg(long)]
    target: Option<String>,
    /// API token for --target.
    #[arg(long, env = "EINVOICE_BENCH_TOKEN")]
    token: Option<String>,
    /// Database for the in-process gateway: sqlite://PATH, or a postgres://... server in
    /// which a fresh database is created (default: a SQLite file in a temporary directory).
    #[arg(long)]
    database_url: Option<String>,
    /// Owners to spread the load over.
    #[arg(long, default_value_t = 256)]
    owners: usize,
    /// Requests to send before measuring.
    #[arg(long, default_value_t = 500)]
    warmup: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// `scale`: credentials at the last stage.
    #[arg(long, default_value_t = 1_000_000)]
    credentials: u64,
    /// `scale`: PAN owners the credentials are spread over.
    #[arg(long, default_value_t = 10_000)]
    scale_owners: u64,
    /// `scale`: requests per latency sample at each stage.
    #[arg(long, default_value_t = 2_000)]
    sample: u64,
    /// `auth-single-flight`: GSTINs the requests are spread over (at most 10);
    /// `irp-latency`: GSTINs of the GSP's dummy PAN (up to 350).
    #[arg(long, default_value_t = 10)]
    gstins: usize,
    /// `irp-latency`: the IRP's injected latency on every generate.
    #[arg(long, default_value_t = 400)]
    latency_ms: u64,
    /// `irp-latency`: the concurrencies to run, each direct and through the gateway.
    #[arg(long, value_delimiter = ',', default_value = "400,2000")]
    concurrencies: Vec<usize>,
    /// `irp-latency`: run the gateway on a core of its own (the last) and the sandbox and the
    /// load generator on the others, as if the IRP and the ERP were machines of their own.
    #[arg(long)]
    gateway_own_core: bool,
}

struct Target {
    base_url: String,
    token: Option<String>,
    backend: String,
    _dir: Option<tempfile::TempDir>,
    _server: Option<tokio::task::JoinHandle<()>>,
}

/// A fresh database on the server a PostgreSQL URL names, so every run starts empty.
async fn fresh_postgres_database(url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .context("connecting to PostgreSQL")?;
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let base = url.rsplit_once('/').map(|(base, _)| base).unwrap_or(url);
    Ok(format!("{base}/{name}"))
}

async fn in_process_gateway(database_url: Option<String>) -> anyhow::Result<Target> {
    let dir = tempfile::tempdir()?;
    let url = match database_url {
        Some(url) if url.starts_with("postgres") => fresh_postgres_database(&url).await?,
        Some(url) => url,
        None => format!("sqlite://{}", dir.path().join("bench.db").display()),
    };
    let backend = if url.starts_with("sqlite") {
        "sqlite"
    } else {
        "postgres"
    }
    .to_string();
    let key = gateway::vault::MasterKey::generate().to_base64();
    let settings = gateway::Settings::resolve(SettingsLayer {
        mode: Some("production".into()),
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(dir.path().to_path_buf()),
        database_url: Some(url),
        master_key: Some(key),
        ..Default::default()
    })?;
    let app = gateway::Application::build(settings).await?;
    let addr = app.local_addr();
    let state = app.state().clone();
    let email = format!("bench-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = SecretString::from("bench password 123".to_string());
    let user = gateway::service::auth::create_user(&state, &email, &password, None)
        .await
        .map_err(|e| anyhow::anyhow!("creating the bench user: {e}"))?;
    let token =
        gateway::service::auth::issue_token(&state, user.account_id, Some(user.id), "bench")
            .await
            .map_err(|e| anyhow::anyhow!("creating the bench token: {e}"))?;
    let server = tokio::spawn(async move {
        let _ = app.run_until(std::future::pending()).await;
    });
    Ok(Target {
        base_url: format!("http://{addr}"),
        token: Some(token.value.expose_secret().to_string()),
        backend,
        _dir: Some(dir),
        _server: Some(server),
    })
}

async fn irn_direct(args: &Args) -> anyhow::Result<()> {
    let base = match &args.target {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => irn_direct::start_sandbox().await?,
    };
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let username = format!("bench{}", &run_id[..8]);
    let onboarded = irn_direct::onboard(&base, &username)
        .await
        .context("onboarding at the sandbox")?;
    let (client, session) = (onboarded.client, onboarded.session);
    let prefix = format!("B{}/", &run_id[..4]);
    let concurrency = args.concurrency.max(1);
    if args.warmup > 0 {
        irn_direct::run(
            client.clone(),
            session.clone(),
            concurrency,
            None,
            Some(args.warmup),
            &format!("W{}/", &run_id[..4]),
        )
        .await;
    }
    let (duration, requests) = match args.requests {
        Some(n) => (None, Some(n)),
        None => (Some(Duration::from_secs(args.duration)), None),
    };
    let stats = irn_direct::run(client, session, concurrency, duration, requests, &prefix).await;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let signs = irn_direct::openssl_rsa2048_signs_per_second(cores, 3);
    let limit = signs.map(|s| s / 2.0);
    let ratio = limit.map(|l| stats.throughput() / l);
    if args.json {
        let mut value = stats.to_json("irn-direct", concurrency, "sandbox");
        value["nproc"] = serde_json::json!(cores);
        value["openssl_rsa2048_sign_per_s"] = serde_json::json!(signs);
        value["limit_irn_per_s"] = serde_json::json!(limit);
        value["ratio_to_limit"] = serde_json::json!(ratio);
        println!("{value}");
    } else {
        println!(
            "irn-direct concurrency={concurrency} nproc={cores}: {} IRNs in {:.1} s = {:.0} IRN/s; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms; errors {:?}",
            stats.latencies_us.len(),
            stats.elapsed.as_secs_f64(),
            stats.throughput(),
            stats.percentile_ms(50.0),
            stats.percentile_ms(90.0),
            stats.percentile_ms(99.0),
            stats.errors
        );
        match (signs, limit, ratio) {
            (Some(s), Some(l), Some(r)) => println!(
                "limit: openssl speed -multi {cores} rsa2048 = {s:.0} sign/s; / 2 signatures per IRN = {l:.0} IRN/s; measured/limit = {:.0}%",
                r * 100.0
            ),
            _ => println!("limit: openssl not found; no ratio"),
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.scenario {
        Scenario::IrnDirect => return irn_direct(&args).await,
        Scenario::IrnGateway => {
            let sequential = args.requests.unwrap_or(1000);
            let duration = Duration::from_secs(args.duration);
            return irn_gateway::run(
                args.target.clone(),
                sequential,
                args.concurrency.max(1),
                duration,
                args.json,
            )
            .await;
        }
        Scenario::EwbGateway => {
            return ewb_gateway::run(
                args.requests.unwrap_or(500) as usize,
                args.concurrency.max(1),
                args.json,
            )
            .await;
        }
        Scenario::AuthSingleFlight => {
            return auth_single_flight::run(
                args.requests.unwrap_or(1000),
                args.concurrency.max(1),
                args.gstins,
                args.json,
            )
            .await;
        }
        Scenario::Scale => {
            let database_url = match &args.database_url {
                Some(url) if url.starts_with("postgres") => {
                    Some(fresh_postgres_database(url).await?)
                }
                _ => None,
            };
            return scale::run(scale::Plan {
                credentials: args.credentials.max(1),
                owners: args.scale_owners.max(1),
                database_url,
                sample: args.sample.max(1),
                json: args.json,
            })
            .await;
        }
        Scenario::IrpLatency => {
            return irp_latency::run(irp_latency::Plan {
                gstins: args.gstins.clamp(1, 350),
                concurrencies: args.concurrencies.clone(),
                duration: Duration::from_secs(args.duration),
                latency_ms: args.latency_ms,
                placement: if args.gateway_own_core {
                    Some(
                        processes::Placement::gateway_on_own_core()
                            .context("--gateway-own-core needs at least two cores")?,
                    )
                } else {
                    None
                },
                json: args.json,
            })
            .await;
        }
        Scenario::StoreCredentials => {}
    }
    let target = match &args.target {
        Some(url) => Target {
            base_url: url.trim_end_matches('/').to_string(),
            token: args.token.clone(),
            backend: "external".into(),
            _dir: None,
            _server: None,
        },
        None => in_process_gateway(args.database_url.clone())
            .await
            .context("starting the gateway")?,
    };
    let client = reqwest::Client::new();
    let owners = store_credentials::create_owners(
        &client,
        &target.base_url,
        target.token.as_deref(),
        args.owners.max(1),
    )
    .await?;
    let plan = |requests: Option<u64>, duration: Option<Duration>| store_credentials::Plan {
        base_url: target.base_url.clone(),
        token: target.token.clone(),
        owners: owners.clone(),
        concurrency: args.concurrency.max(1),
        duration,
        requests,
    };
    if args.warmup > 0 {
        store_credentials::run(plan(Some(args.warmup), None)).await?;
    }
    let measured = match args.requests {
        Some(n) => plan(Some(n), None),
        None => plan(None, Some(Duration::from_secs(args.duration))),
    };
    let stats = store_credentials::run(measured).await?;
    let scenario = "store-credentials";
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    if args.json {
        let mut value = stats.to_json(scenario, args.concurrency, &target.backend);
        value["nproc"] = serde_json::json!(cores);
        println!("{value}");
    } else {
        println!(
            "{scenario} backend={} concurrency={} nproc={cores}: {} requests in {:.1} s = {:.0} req/s; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms; errors {:?}",
            target.backend,
            args.concurrency,
            stats.latencies_us.len(),
            stats.elapsed.as_secs_f64(),
            stats.throughput(),
            stats.percentile_ms(50.0),
            stats.percentile_ms(90.0),
            stats.percentile_ms(99.0),
            stats.errors
        );
    }
    Ok(())
}
