//! Fixtures shared by the workspace's tests and benchmarks, written once: an IRP sandbox served
//! on port 0 (and the settings a gateway needs to reach it), sellers the sandbox knows and
//! invoices for them, a throwaway PostgreSQL cluster, and the path of the real NIC vectors.
//! Only tests and `einvoice-bench` depend on it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod invoices;
pub mod irp;
pub mod postgres;

/// The shared reference vectors (`shared/reference/vectors`, beside the project).
pub fn vectors_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/vectors")
}
