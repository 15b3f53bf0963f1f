//! Runs `einvoice serve` as a child process on port 0 and reads its address from the first
//! line it prints; no sleeping.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use gateway::clock::SystemClock;
use gateway::config::SettingsLayer;
use gateway::service::{credentials, Actor};
use secrecy::ExposeSecret;

pub fn einvoice() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_einvoice"));
    c.env_remove("EINVOICE_MASTER_KEY")
        .env_remove("EINVOICE_MASTER_KEY_FILE")
        .env_remove("EINVOICE_MODE")
        .env_remove("RUST_LOG");
    c
}

pub fn random_key() -> String {
    gateway::vault::MasterKey::generate()
        .to_base64()
        .expose_secret()
        .to_string()
}

pub struct Server {
    child: Child,
    addr: String,
    stderr: std::thread::JoinHandle<String>,
}

impl Server {
    pub async fn start(data_dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Server {
        let mut child = einvoice()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).unwrap();
            line
        })
        .await
        .unwrap();
        let addr = line
            .trim()
            .rsplit("http://")
            .next()
            .unwrap_or("")
            .to_string();
        assert!(addr.contains(':'), "server did not start: {line:?}");
        Server {
            child,
            addr,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no graceful close. Returns everything it logged.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.stderr.join().unwrap()
    }

    /// SIGTERM and wait for a graceful exit.
    pub fn stop(mut self) -> String {
        terminate(&self.child);
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "server exited with {exit}");
        self.stderr.join().unwrap()
    }
}

/// Opens the data directory in-process (sandbox key in `master.key`) and decrypts a stored
/// password of the sandbox account.
pub async fn reveal(data_dir: &Path, owner: &str, gstin: &str) -> String {
    let settings = gateway::Settings::resolve(SettingsLayer {
        data_dir: Some(data_dir.to_path_buf()),
        ..Default::default()
    })
    .unwrap();
    let state = gateway::app::build_state(settings, Arc::new(SystemClock))
        .await
        .unwrap();
    let owner = gateway::ids::OwnerId(owner.parse().unwrap());
    let mut account = gateway::state::SANDBOX_ACCOUNT_ID;
    if let Some(user) = state
        .store
        .find_user_by_email("canary@example.com")
        .await
        .unwrap()
    {
        account = user.account_id;
    }
    let actor = Actor {
        account_id: account,
        token_id: None,
    };
    let secret = credentials::reveal_password(&state, actor, owner, gstin)
        .await
        .unwrap();
    state.store.close().await;
    secret.expose_secret().to_string()
}

/// The AuthToken and Sek of the session an embedded IRP sandbox issued, read from its state
/// file (left in /dev/shm by a crashed gateway), which is then removed.
pub async fn irp_session_of(pid: u32) -> (String, Vec<u8>) {
    use sqlx::Connection;
    let dir = if Path::new("/dev/shm").is_dir() {
        std::path::PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let prefix = format!("irp-sandbox-{pid}-");
    let db = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with(&prefix) && name.ends_with(".db")
        })
        .expect("the embedded sandbox's state file");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let (token, sek): (String, Vec<u8>) =
        sqlx::query_as("SELECT auth_token, sek FROM sessions LIMIT 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    (token, sek)
}

/// Sends SIGTERM to a child this test started (by its own pid, through `kill(2)`).
pub fn terminate(child: &std::process::Child) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    assert!(pid.as_raw() > 1);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
}
