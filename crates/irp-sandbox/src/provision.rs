//! Provisioning without OTPs, for the embedded sandbox and for tests: a GSP client and its
//! demo API user, or more API users for an existing client. The same insert as the portal's
//! Create API User, so the rules hold.

use crate::error::SandboxError;
use crate::state::{hash_secret, random_alnum, Sandbox};

impl Sandbox {
    /// Provisions, without OTPs, a GSP client named `gsp_name` (as the portal's "Through GSP"
    /// list shows it) for `gsp_pan` and an API user for `gstin` mapped to it: what an embedding application (the gateway in sandbox mode) needs to start
    /// talking to the IRP at once. Returns (client_id, client_secret).
    pub async fn provision_demo(
        &self,
        gsp_name: &str,
        gsp_pan: &str,
        gstin: &str,
        username: &str,
        password: &str,
    ) -> Result<(String, String), SandboxError> {
        let client_id = format!(
            "{}{}",
            &gsp_pan[..5.min(gsp_pan.len())],
            random_alnum(10).to_ascii_uppercase()
        );
        let client_secret = random_alnum(20);
        sqlx::query("INSERT INTO clients (client_id, secret_hash, kind, pan, name, mobile, email, created_at) VALUES ($1, $2, 'GSP', $3, $4, '9000000100', 'gsp@sandbox.test', $5)")
            .bind(&client_id)
            .bind(hash_secret(&client_secret))
            .bind(gsp_pan)
            .bind(gsp_name)
            .bind(self.clock.now_ms())
            .execute(&self.pool)
            .await?;
        crate::portal::api_users::insert_api_user(self, gstin, &client_id, username, password)
            .await
            .map_err(|e| {
                SandboxError::Keys(format!("provisioning the demo API user: {}", e.message))
            })?;
        Ok((client_id, client_secret))
    }

    /// Provisions, without OTPs, another API user for `gstin` mapped to an existing client.
    pub async fn provision_api_user(
        &self,
        client_id: &str,
        gstin: &str,
        username: &str,
        password: &str,
    ) -> Result<(), SandboxError> {
        crate::portal::api_users::insert_api_user(self, gstin, client_id, username, password)
            .await
            .map(|_| ())
            .map_err(|e| SandboxError::Keys(format!("provisioning an API user: {}", e.message)))
    }
}
