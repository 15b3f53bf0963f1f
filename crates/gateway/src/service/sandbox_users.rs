//! One-click sandbox credentials for ERP developers: the gateway, as its GSP, has the IRP
//! sandbox create an API user (for a fresh dummy GSTIN of our PAN, or for a GSTIN the sandbox
//! knows), then stores and verifies it like any credentials. Never in production mode.

use rand::distributions::Alphanumeric;
use rand::Rng;
use secrecy::SecretString;

use super::credentials::{self, StoreRequest};
use super::verify::{self, Verification};
use super::{owners, Actor, FieldError, ServiceError};
use crate::config::Mode;
use crate::ids::OwnerId;
use crate::state::AppState;
use irp_client::PortalError;

/// What to create.
#[derive(Debug, Default)]
pub struct SandboxUserRequest {
    /// The GSTIN (a taxpayer the sandbox knows, or one of our dummy GSTINs); none: a fresh
    /// dummy GSTIN of our PAN in `state_code`.
    pub gstin: Option<String>,
    /// For a fresh dummy GSTIN: its state (default `29`).
    pub state_code: Option<String>,
    /// The owner to store under; none: the account's owner of the GSTIN (made if none).
    pub owner_id: Option<OwnerId>,
    /// Without an owner id: a branch of the GSTIN by name.
    pub branch: Option<String>,
}

/// What was created (the password is stored, never returned).
#[derive(Debug)]
pub struct SandboxUser {
    /// The GSTIN.
    pub gstin: String,
    /// The owner the credentials are stored under.
    pub owner_id: OwnerId,
    /// The new API username.
    pub username: String,
    /// The check at the IRP after storing.
    pub verification: Verification,
}

fn sandbox_only() -> ServiceError {
    ServiceError::Forbidden(FieldError::general(
        "sandbox_only",
        "sandbox API users can be created only in sandbox mode; in production, the taxpayer creates the API user on the e-invoice portal",
    ))
}

fn portal_failure(e: PortalError) -> ServiceError {
    match e {
        PortalError::Refused { code, message, .. } => ServiceError::Conflict(FieldError::new(
            "sandbox_refused",
            format!("the IRP sandbox refused ({code}): {message}"),
            "gstin",
        )),
        PortalError::Unsupported(status) => ServiceError::Conflict(FieldError::general(
            "no_sandbox_portal",
            format!("the configured IRP offers no sandbox portal API (HTTP {status}); run it with --test-controls, or create the API user on its portal"),
        )),
        PortalError::Transport(_) => ServiceError::Unavailable {
            error: FieldError::general("irp_unavailable", "the IRP sandbox did not answer; try again"),
            retry_after_secs: 5,
        },
    }
}

/// A username of 6-15 letters and digits and a password by NIC's rule (3003).
fn new_pair() -> (String, SecretString) {
    let mut rng = rand::thread_rng();
    let tail: String = (&mut rng)
        .sample_iter(&Alphanumeric)
        .take(8)
        .map(|b| char::from(b).to_ascii_lowercase())
        .collect();
    let secret: String = (&mut rng)
        .sample_iter(&Alphanumeric)
        .take(10)
        .map(char::from)
        .collect();
    (
        format!("sbx{tail}"),
        SecretString::from(format!("Sb1@{secret}")),
    )
}

/// Creates, stores and verifies a sandbox API user.
pub async fn create(
    state: &AppState,
    actor: Actor,
    request: SandboxUserRequest,
    request_id: Option<String>,
) -> Result<SandboxUser, ServiceError> {
    if state.settings.mode != Mode::Sandbox {
        return Err(sandbox_only());
    }
    let Some(irp) = &state.irp else {
        return Err(ServiceError::Unavailable {
            error: FieldError::general("irp_not_configured", "the gateway has no IRP connection"),
            retry_after_secs: 60,
        });
    };
    let portal = irp.primary.client.sandbox_portal();
    let (username, password) = new_pair();
    let gstin = match request.gstin {
        Some(gstin) => {
            let gstin = credentials::parse_gstin_param(state, &gstin)?;
            // Our own dummy GSTIN through the portal; any other through the sandbox's control
            // for what the taxpayer does on the portal.
            match portal
                .create_dummy_api_user(gstin.as_str(), &username, &password)
                .await
            {
                Ok(()) => {}
                Err(PortalError::Refused { code, .. }) if code == "not_your_dummy" => portal
                    .provision_api_user(gstin.as_str(), &username, &password)
                    .await
                    .map_err(portal_failure)?,
                Err(e) => return Err(portal_failure(e)),
            }
            gstin.to_string()
        }
        None => {
            let state_code = request.state_code.unwrap_or_else(|| "29".to_string());
            let gstin = portal
                .dummy_gstin(&state_code)
                .await
                .map_err(portal_failure)?;
            portal
                .create_dummy_api_user(&gstin, &username, &password)
                .await
                .map_err(portal_failure)?;
            gstin
        }
    };
    let owner_id = match request.owner_id {
        Some(owner_id) => owner_id,
        None => owners::resolve_or_create(state, actor, request.branch.as_deref(), &gstin).await?,
    };
    credentials::store(
        state,
        actor,
        owner_id,
        StoreRequest {
            gstin: gstin.clone(),
            username: username.clone(),
            password,
        },
        request_id,
    )
    .await?;
    tracing::info!(%owner_id, %gstin, %username, "sandbox API user created and stored");
    let verification = verify::verify(state, actor, owner_id, &gstin).await?;
    Ok(SandboxUser {
        gstin,
        owner_id,
        username,
        verification,
    })
}
