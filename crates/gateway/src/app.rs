//! Start-up and shutdown: opens the store, applies migrations, opens the vault with the
//! master key, binds the listener (port 0 picks a free port) and serves until told to stop.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::{MasterKeySource, Mode, Settings};
use crate::state::{AppState, SANDBOX_ACCOUNT_ID};
use crate::storage::{self, AccountRecord, Store, StoreError};
use crate::vault::{MasterKey, Vault, VaultError};

/// Why the gateway could not start. Carries no secret.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// The master key is missing or wrong.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The IRP connection could not be set up.
    #[error(transparent)]
    Irp(#[from] crate::irp::IrpSetupError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        error: std::io::Error,
    },
}

/// Loads the master key from its configured source; in sandbox mode without one, loads or
/// generates `<data_dir>/master.key` (mode 0600).
pub fn load_master_key(source: &MasterKeySource) -> Result<MasterKey, VaultError> {
    match source {
        MasterKeySource::Value(value) => {
            MasterKey::parse(secrecy::ExposeSecret::expose_secret(value))
        }
        MasterKeySource::File(path) => MasterKey::from_file(path),
        MasterKeySource::GeneratedInDataDir(path) => {
            if path.exists() {
                MasterKey::from_file(path)
            } else {
                let key = MasterKey::generate();
                key.write_new_file(path)?;
                tracing::info!(path = %path.display(), "generated a sandbox master key");
                Ok(key)
            }
        }
    }
}

/// Opens and migrates the store and opens its vault: what every command that touches data needs.
pub async fn open_store_and_vault(
    settings: &Settings,
    clock: &dyn Clock,
) -> Result<(Arc<dyn Store>, Vault, MasterKey), StartError> {
    let store = storage::open(&settings.database_url).await?;
    store.migrate().await?;
    let master = match load_master_key(&settings.master_key) {
        Ok(key) => key,
        Err(e) => {
            store.close().await;
            return Err(e.into());
        }
    };
    let vault = match Vault::open(
        store.as_ref(),
        &master,
        crate::clock::Timestamp(clock.now_ms()),
    )
    .await
    {
        Ok(vault) => vault,
        Err(e) => {
            store.close().await;
            return Err(e.into());
        }
    };
    Ok((store, vault, master))
}

/// Builds the application state (store, vault, sandbox account) without listening.
pub async fn build_state(
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> Result<AppState, StartError> {
    let (store, vault, _master) = open_store_and_vault(&settings, clock.as_ref()).await?;
    if settings.mode == Mode::Sandbox {
        store
            .ensure_account(&AccountRecord {
                id: SANDBOX_ACCOUNT_ID,
                name: "sandbox".into(),
                created_at: crate::clock::Timestamp(clock.now_ms()),
            })
            .await?;
    }
    Ok(AppState::new(settings, store, vault, clock))
}

/// Connects to the configured IRP, or in sandbox mode without one, starts the embedded IRP
/// sandbox. Its sessions persist in the state's store, sealed by its vault.
pub async fn connect_irp(state: &AppState) -> Result<Option<crate::irp::IrpContext>, StartError> {
    let settings = &state.settings;
    let limits = crate::irp::IrpClientLimits {
        connect: settings.irp_connect_timeout,
        request: settings.irp_request_timeout,
        max_connections: settings.irp_max_connections,
    };
    let sessions = crate::irp::sessions::SessionManager::new(
        state.store.clone(),
        state.vault.clone(),
        state.clock.clone(),
        state.metrics.clone(),
    );
    Ok(match (&settings.irp, settings.mode) {
        (Some(irp), _) => Some(crate::irp::IrpContext::configured(irp, limits, sessions)?),
        #[cfg(feature = "embedded-sandbox")]
        (None, Mode::Sandbox) => Some(
            crate::irp::IrpContext::embedded_sandbox(&settings.gsp_name, limits, sessions).await?,
        ),
        #[cfg(not(feature = "embedded-sandbox"))]
        (None, Mode::Sandbox) => {
            drop(sessions);
            tracing::warn!("this build has no embedded IRP sandbox; set irp_base_url to reach one");
            None
        }
        (None, Mode::Production) => None,
    })
}

/// How often a running gateway looks for vault keys added by a rotation elsewhere.
const VAULT_REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// A gateway bound to its port, ready to serve.
pub struct Application {
    listener: tokio::net::TcpListener,
    /// `metrics_listen`'s listener, when set.
    metrics_listener: Option<tokio::net::TcpListener>,
    state: AppState,
    local_addr: SocketAddr,
}

impl Application {
    /// Opens everything and binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let addr = settings.listen;
        let mut state = build_state(settings, Arc::new(SystemClock)).await?;
        match connect_irp(&state).await {
            Ok(irp) => state.irp = irp.map(Arc::new),
            Err(e) => {
                state.store.close().await;
                return Err(e);
            }
        }
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(listener) => listener,
            Err(error) => {
                state.store.close().await;
                return Err(StartError::Bind { addr, error });
            }
        };
        let local_addr = listener
            .local_addr()
            .map_err(|error| StartError::Bind { addr, error })?;
        let metrics_listener = match state.settings.metrics_listen {
            None => None,
            Some(metrics_addr) => match tokio::net::TcpListener::bind(metrics_addr).await {
                Ok(listener) => Some(listener),
                Err(error) => {
                    state.store.close().await;
                    return Err(StartError::Bind {
                        addr: metrics_addr,
                        error,
                    });
                }
            },
        };
        Ok(Application {
            listener,
            metrics_listener,
            state,
            local_addr,
        })
    }

    /// The address `/metrics` is served on by itself (`metrics_listen`), if set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The shared state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, finishes in-flight requests, then closes the store.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let settings = self.state.settings.clone();
        let interval = self.state.settings.verify_interval_secs;
        let checker = (interval > 0 && self.state.irp.is_some()).then(|| {
            let state = self.state.clone();
            tokio::spawn(async move {
                let period = std::time::Duration::from_secs(interval);
                let mut ticks = tokio::time::interval(period);
                loop {
                    ticks.tick().await;
                    let max_age = i64::try_from(interval).unwrap_or(i64::MAX / 1000) * 1000;
                    if let Err(e) =
                        crate::service::verify::health_check_once(&state, max_age, 100).await
                    {
                        tracing::warn!(error = %e, "periodic credential check failed");
                    }
                }
            })
        });
        // Key versions added by a rotation elsewhere are learnt here too (and on the first
        // ciphertext that names one), so new writes use the newest key without a restart.
        let refresher = {
            let state = self.state.clone();
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(VAULT_REFRESH_INTERVAL);
                loop {
                    ticks.tick().await;
                    if let Err(e) = state.vault.refresh(state.store.as_ref()).await {
                        tracing::warn!(error = %e, "could not refresh the vault's keys");
                    }
                }
            })
        };
        // The webhook outbox is delivered from every replica; claims keep one send per attempt.
        let webhook_worker =
            tokio::spawn(crate::service::webhook_delivery::run(self.state.clone()));
        let limits = crate::serve::ConnectionLimits {
            max_connections: settings.max_connections,
            header_read_timeout: settings.header_read_timeout,
        };
        let metrics_server = self.metrics_listener.map(|listener| {
            let router = crate::http::routes::metrics::metrics_only(self.state.clone());
            tokio::spawn(crate::serve::serve(
                listener,
                router,
                limits,
                std::future::pending::<()>(),
            ))
        });
        let router = crate::http::router(self.state);
        tracing::info!(addr = %self.local_addr, "listening");
        let result = crate::serve::serve(self.listener, router, limits, shutdown).await;
        if let Some(server) = metrics_server {
            server.abort();
        }
        if let Some(checker) = checker {
            checker.abort();
        }
        refresher.abort();
        webhook_worker.abort();
        store.close().await;
        result
    }
}

/// A future that resolves on Ctrl-C or SIGTERM. The handlers are installed when this is
/// called (inside the runtime), so a signal that arrives before the future is first polled is
/// not lost and does not kill the process.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        let terminate = async {
            match terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate => {},
        }
        tracing::info!("shutting down");
    }
}
