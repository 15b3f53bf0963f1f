//! `TestApp`: a real gateway on port 0 over a fresh SQLite file or PostgreSQL database, with
//! helpers named after the routes.

use std::net::SocketAddr;

use gateway::config::SettingsLayer;
use gateway::service::auth;
use gateway::state::AppState;
use gateway::{Application, Settings};
use reqwest::header::HeaderMap;
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::oneshot;
use uuid::Uuid;

use testkit::postgres as postgres_cluster;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub addr: SocketAddr,
    /// Where `/metrics` is served on its own (`metrics_listen`), if set.
    pub metrics_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub state: AppState,
    pub data_dir: tempfile::TempDir,
    pub database_url: String,
    pub master_key: String,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Response {
    pub fn error_codes(&self) -> Vec<String> {
        self.body["errorDetails"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["error_code"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn error_fields(&self) -> Vec<String> {
        self.body["errorDetails"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| e["field"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default()
    }
}

pub struct Options {
    pub mode: &'static str,
    pub body_limit_bytes: Option<usize>,
    pub database_url: Option<String>,
    pub data_dir: Option<tempfile::TempDir>,
    pub master_key: Option<String>,
    pub irp: Option<gateway::irp::IrpSettings>,
    pub token_failure_limit: Option<u32>,
    /// Changes any other setting before the gateway starts.
    pub adjust: Option<fn(&mut Settings)>,
}

impl Options {
    pub fn mode(mode: &'static str) -> Self {
        Options {
            mode,
            body_limit_bytes: None,
            database_url: None,
            data_dir: None,
            master_key: None,
            irp: None,
            token_failure_limit: None,
            adjust: None,
        }
    }
}

/// A database URL for the backend, or `None` when PostgreSQL is unavailable (test skipped).
pub async fn database_url(db: Db, dir: &tempfile::TempDir) -> Option<String> {
    match db {
        Db::Sqlite => Some(format!(
            "sqlite://{}",
            dir.path().join("einvoice.db").display()
        )),
        Db::Postgres => postgres_cluster::migrated_database().await,
    }
}

pub fn random_master_key() -> String {
    gateway::vault::MasterKey::generate().to_base64().expose()
}

trait Expose {
    fn expose(&self) -> String;
}

impl Expose for SecretString {
    fn expose(&self) -> String {
        secrecy::ExposeSecret::expose_secret(self).to_string()
    }
}

pub fn settings_for(
    mode: &str,
    data_dir: &std::path::Path,
    database_url: &str,
    master_key: &str,
    body_limit: Option<usize>,
) -> Settings {
    Settings::resolve(SettingsLayer {
        mode: Some(mode.into()),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        data_dir: Some(data_dir.to_path_buf()),
        database_url: Some(database_url.to_string()),
        master_key: Some(SecretString::from(master_key.to_string())),
        body_limit_bytes: body_limit,
        ..Default::default()
    })
    .unwrap()
}

impl TestApp {
    /// Starts a gateway; `None` when the backend is unavailable here.
    pub async fn spawn(db: Db, options: Options) -> Option<TestApp> {
        testkit::init_test_log();
        let data_dir = match options.data_dir {
            Some(d) => d,
            None => tempfile::tempdir().unwrap(),
        };
        let database_url = match options.database_url {
            Some(url) => url,
            None => database_url(db, &data_dir).await?,
        };
        let master_key = options.master_key.unwrap_or_else(random_master_key);
        let mut settings = settings_for(
            options.mode,
            data_dir.path(),
            &database_url,
            &master_key,
            options.body_limit_bytes,
        );
        settings.irp = options.irp;
        if let Some(limit) = options.token_failure_limit {
            settings.token_failure_limit = limit;
        }
        if let Some(adjust) = options.adjust {
            adjust(&mut settings);
        }
        let app = Application::build(settings).await.unwrap();
        let addr = app.local_addr();
        let metrics_addr = app.metrics_addr();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Some(TestApp {
            addr,
            metrics_addr,
            client: reqwest::Client::new(),
            state,
            data_dir,
            database_url,
            master_key,
            shutdown: Some(tx),
            server: Some(server),
        })
    }

    /// Stops the server gracefully and waits for it (the store is closed).
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `GET /metrics` from this machine, as Prometheus scrapes it: the OpenMetrics text.
    pub async fn scrape_metrics(&self) -> String {
        let response = self.client.get(self.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let kind = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
        response.text().await.unwrap()
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Response {
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Response {
            status,
            headers,
            body,
        }
    }

    /// POST store_nic_credentials with a JSON body.
    pub async fn store_nic_credentials(
        &self,
        token: Option<&str>,
        owner_id: Option<&str>,
        body: &Value,
    ) -> Response {
        let mut request = self
            .client
            .post(self.url("/v2/nic_credentials/store_nic_credentials"))
            .header("Content-Type", "application/json")
            .body(body.to_string());
        if let Some(t) = token {
            request = request.header("X-Cleartax-Auth-Token", t);
        }
        if let Some(o) = owner_id {
            request = request.header("owner_id", o);
        }
        self.send(request).await
    }

    pub async fn get_nic_credentials(
        &self,
        token: Option<&str>,
        owner_id: Uuid,
        gstin: &str,
    ) -> Response {
        let mut request = self.client.get(self.url(&format!(
            "/v2/nic_credentials?owner_id={owner_id}&gstin={gstin}"
        )));
        if let Some(t) = token {
            request = request.header("X-Cleartax-Auth-Token", t);
        }
        self.send(request).await
    }

    pub async fn delete_nic_credentials(
        &self,
        token: Option<&str>,
        owner_id: Uuid,
        gstin: &str,
    ) -> Response {
        let mut request = self.client.delete(self.url(&format!(
            "/v2/nic_credentials?owner_id={owner_id}&gstin={gstin}"
        )));
        if let Some(t) = token {
            request = request.header("X-Cleartax-Auth-Token", t);
        }
        self.send(request).await
    }

    pub async fn post_owner(&self, token: Option<&str>, body: &Value) -> Response {
        let mut request = self.client.post(self.url("/v2/owners")).json(body);
        if let Some(t) = token {
            request = request.header("X-Cleartax-Auth-Token", t);
        }
        self.send(request).await
    }

    pub async fn list_owners(&self, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url("/v2/owners"));
        if let Some(t) = token {
            request = request.header("X-Cleartax-Auth-Token", t);
        }
        self.send(request).await
    }

    pub async fn post_token(&self, email: &str, password: &str, label: &str) -> Response {
        let body = serde_json::json!({"email": email, "password": password, "label": label});
        self.send(self.client.post(self.url("/v2/auth/tokens")).json(&body))
            .await
    }

    pub async fn list_tokens(&self, token: Option<&str>) -> Response {
        let mut request = self.client.get(self.url("/v2/auth/tokens"));
        if let Some(t) = token {
            request = request.header("X-Cleartax-Auth-Token", t);
        }
        self.send(request).await
    }

    pub async fn revoke_token(&self, token: &str, id: &str) -> Response {
        self.send(
            self.client
                .delete(self.url(&format!("/v2/auth/tokens/{id}")))
                .header("X-Cleartax-Auth-Token", token),
        )
        .await
    }

    /// A new account with one user; returns (account id, API token).
    pub async fn new_account(&self, email: &str) -> (Uuid, String) {
        let password = SecretString::from("a long password 1".to_string());
        let user = auth::create_user(&self.state, email, &password, None)
            .await
            .unwrap();
        let issued = auth::issue_token(&self.state, user.account_id, Some(user.id), "tests")
            .await
            .unwrap();
        (user.account_id.into(), issued.value.expose())
    }

    /// Adds a GSTIN owner through the API; returns its id.
    pub async fn new_gstin_owner(&self, token: Option<&str>, gstin: &str) -> Uuid {
        let response = self
            .post_owner(token, &serde_json::json!({"kind": "GSTIN", "gstin": gstin}))
            .await;
        assert_eq!(response.status, 201, "{:?}", response.body);
        response.body["id"].as_str().unwrap().parse().unwrap()
    }
}

/// Runs an async test body against SQLite and PostgreSQL, as two tests.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::helpers::Db::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body($crate::helpers::Db::Postgres).await;
            }
        }
    };
}
