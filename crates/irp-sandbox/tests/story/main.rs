//! The IRP sandbox end to end, over real HTTP, driven by a NIC client built only on
//! `irp-protocol`: registration, API users, auth, IRNs, duplicates, retrieval, cancellation,
//! the clock, faults and every documented error code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::result_large_err
)]

mod client;
mod clients;
mod ewaybill;
mod fidelity;
mod pages;
mod portal;
mod recovery;
mod story;

use std::net::SocketAddr;

use irp_sandbox::{Profile, Sandbox, SandboxConfig};

pub struct Running {
    pub base: String,
    pub sandbox: Sandbox,
}

pub async fn start(profile: Profile) -> Running {
    let config = SandboxConfig {
        profile,
        test_controls: true,
        taxpayers: 5,
        ..Default::default()
    };
    let sandbox = Sandbox::open(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = irp_sandbox::router(sandbox.clone());
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Running {
        base: format!("http://{addr}"),
        sandbox,
    }
}

pub fn vector(name: &str) -> serde_json::Value {
    let path = format!(
        "{}/../../../shared/reference/vectors/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}
