//! An IRP sandbox served over real HTTP on a free port, with its public key and signing
//! certificate written to files, and the settings a gateway needs to reach it as a GSP.

use std::net::SocketAddr;

/// A sandbox being served; it runs until the test's runtime ends.
pub struct RunningSandbox {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://addr`.
    pub base_url: String,
    public_key_file: std::path::PathBuf,
    certificate_file: std::path::PathBuf,
    _files: tempfile::TempDir,
}

impl RunningSandbox {
    /// Serves `sandbox` (already provisioned as the test needs) on 127.0.0.1, port 0.
    pub async fn serve(sandbox: irp_sandbox::Sandbox) -> RunningSandbox {
        Self::serve_wrapped(sandbox, |router| router).await
    }

    /// Serves `sandbox` as [`RunningSandbox::serve`] does, its router first passed through
    /// `wrap` (a layer that watches the calls, say).
    pub async fn serve_wrapped(
        sandbox: irp_sandbox::Sandbox,
        wrap: impl FnOnce(axum::Router) -> axum::Router,
    ) -> RunningSandbox {
        let files = tempfile::tempdir().unwrap();
        let public_key_file = files.path().join("irp.pem");
        std::fs::write(&public_key_file, &sandbox.keys.encryption_public_pem).unwrap();
        let certificate_file = files.path().join("irp-signing.pem");
        std::fs::write(&certificate_file, &sandbox.keys.certificate_pem).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = wrap(irp_sandbox::router(sandbox));
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        RunningSandbox {
            addr,
            base_url: format!("http://{addr}"),
            public_key_file,
            certificate_file,
            _files: files,
        }
    }

    /// Settings for a gateway that reaches this sandbox as the GSP client `client_id`;
    /// `check_signatures` gives it the signing certificate.
    pub fn gateway_settings(
        &self,
        client_id: &str,
        client_secret: &str,
        check_signatures: bool,
        breaker_cooldown_ms: i64,
    ) -> gateway::irp::IrpSettings {
        gateway::irp::IrpSettings {
            endpoints: gateway::irp::IrpEndpoint::only(self.base_url.clone()),
            public_key_file: self.public_key_file.clone(),
            signing_certificate_file: check_signatures.then(|| self.certificate_file.clone()),
            client_id: client_id.to_string(),
            client_secret: secrecy::SecretString::from(client_secret.to_string()),
            breaker_cooldown_ms,
        }
    }
}

/// Settings for a gateway that reaches two IRPs over one registry (NIC1 preferred, then NIC2)
/// as the GSP client `client_id`, checking signatures.
pub fn two_irp_settings(
    nic1: &RunningSandbox,
    nic2: &RunningSandbox,
    client_id: &str,
    client_secret: &str,
    breaker_cooldown_ms: i64,
) -> gateway::irp::IrpSettings {
    let mut settings = nic1.gateway_settings(client_id, client_secret, true, breaker_cooldown_ms);
    settings.endpoints.push(gateway::irp::IrpEndpoint {
        name: "NIC2".into(),
        base_url: nic2.base_url.clone(),
    });
    settings
}

/// A sandbox with test controls and only the well-known taxpayers.
pub async fn sandbox_with_controls() -> irp_sandbox::Sandbox {
    irp_sandbox::Sandbox::open(irp_sandbox::SandboxConfig {
        test_controls: true,
        taxpayers: 0,
        ..Default::default()
    })
    .await
    .unwrap()
}
