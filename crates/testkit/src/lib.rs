//! Fixtures shared by the workspace's tests and benchmarks, written once: an IRP sandbox served
//! on port 0 (and the settings a gateway needs to reach it), sellers the sandbox knows and
//! invoices for them, a throwaway PostgreSQL cluster, the path of the real NIC vectors, and
//! `TEST_LOG` to see the logs of the code under test.
//! Only tests and `einvoice-bench` depend on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod invoices;
pub mod irp;
pub mod postgres;

/// With `TEST_LOG` set (e.g. `TEST_LOG=debug`), the code under test logs to the test's output
/// at that level; without it, tests stay quiet. Safe to call from every test.
pub fn init_test_log() {
    if let Ok(level) = std::env::var("TEST_LOG") {
        let filter = tracing_subscriber::EnvFilter::try_new(&level)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("debug"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}

/// The shared reference vectors (`shared/reference/vectors`, beside the project).
pub fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/vectors")
}
