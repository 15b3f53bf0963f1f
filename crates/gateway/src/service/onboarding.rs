//! Onboarding a GSTIN: who we are as a GSP (name, client id, the portal where taxpayers create
//! API users), the steps of creating an API user through us (both of the seeds' variants), and
//! the next step in plain words for each verification status. Written once, for `GET /v2/gsp`,
//! the console's "Add a GSTIN" wizard and the advice stored with a credential's status.

use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Mode;
use crate::state::AppState;
use crate::storage::VerificationStatus;

/// Our identity as a GSP, as taxpayers must choose it on the e-invoice portal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GspIdentity {
    /// Our name in the portal's "Through GSP" list.
    pub gsp_name: String,
    /// Our client id at the IRP (never the secret); none when no IRP is configured.
    pub client_id: Option<String>,
    /// `sandbox` or `production`: which portal taxpayers should use.
    pub environment: String,
    /// The portal where taxpayers create API users for this gateway.
    pub portal_url: String,
    /// NIC's sandbox portal (or the configured one).
    pub sandbox_portal_url: String,
    /// NIC's production portal (or the configured one).
    pub production_portal_url: String,
}

/// The steps of creating an API user through us, in the seeds' two variants.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Steps {
    /// A taxpayer new to the portal: registration with OTP, then the API user.
    pub first_time: Vec<String>,
    /// A taxpayer with a portal login: API Registration, Create API User.
    pub existing_login: Vec<String>,
    /// Then, here: the username and password, Save & Verify.
    pub in_this_gateway: Vec<String>,
}

/// Who we are, for this gateway's mode and IRP.
pub fn identity(state: &AppState) -> GspIdentity {
    let settings = &state.settings;
    let sandbox = settings.mode == Mode::Sandbox;
    let embedded_portal = state
        .irp
        .as_ref()
        .and_then(|irp| irp.embedded_sandbox)
        .map(|addr| format!("http://{addr}/portal/ui"));
    let portal_url = match (embedded_portal, sandbox) {
        (Some(url), _) => url,
        (None, true) => settings.portals.sandbox.clone(),
        (None, false) => settings.portals.production.clone(),
    };
    GspIdentity {
        gsp_name: settings.gsp_name.clone(),
        client_id: state
            .irp
            .as_ref()
            .map(|irp| irp.primary.client.client_id().to_string()),
        environment: if sandbox { "sandbox" } else { "production" }.to_string(),
        portal_url,
        sandbox_portal_url: settings.portals.sandbox.clone(),
        production_portal_url: settings.portals.production.clone(),
    }
}

/// The steps, with our name and client id filled in.
pub fn steps(gsp: &GspIdentity) -> Steps {
    let client = gsp
        .client_id
        .as_deref()
        .map(|id| format!(" (client ID {id})"))
        .unwrap_or_default();
    let name = &gsp.gsp_name;
    let portal = &gsp.portal_url;
    let through_us = format!("Choose \"Through GSP\" and select {name}{client}.");
    let credentials = "Enter an API username and password of your choice, and create the user. \
                       Note them: the password is shown nowhere again."
        .to_string();
    Steps {
        first_time: vec![
            format!("Open {portal}, click Login, then \"Register here\", and choose Taxpayer."),
            "Enter your GSTIN and the mobile number and email registered with it, validate them, \
             and send the OTP."
                .into(),
            "Enter the OTP sent to the registered mobile and submit.".into(),
            through_us.clone(),
            credentials.clone(),
        ],
        existing_login: vec![
            format!("Log in at {portal} with your e-invoice (or e-way bill) portal login."),
            "Open API Registration, then User Credentials, and click Create API User: an OTP goes \
             to your registered mobile."
                .into(),
            "Enter the OTP and verify it.".into(),
            through_us,
            credentials,
        ],
        in_this_gateway: vec![
            "Here: Settings, Business Settings, your GSTIN.".into(),
            "Enter the NIC API username and password you created, and click Save & Verify.".into(),
        ],
    }
}

/// The next step, in plain words, for a verification status.
pub fn next_step(status: VerificationStatus, gsp: &GspIdentity) -> String {
    let name = &gsp.gsp_name;
    let portal = &gsp.portal_url;
    let client = gsp
        .client_id
        .as_deref()
        .map(|id| format!(" (client ID {id})"))
        .unwrap_or_default();
    match status {
        VerificationStatus::Verified => "Nothing to do: the IRP accepted these credentials.".into(),
        VerificationStatus::Unverified => "Click Verify to check these credentials at the IRP.".into(),
        VerificationStatus::WrongPassword => format!(
            "The IRP says the password is wrong (1019). If you changed it on the portal, enter the new one here; \
             if you forgot it, reset it at {portal} under API Registration, User Credentials, Change Password."
        ),
        VerificationStatus::UnknownUser => format!(
            "The IRP does not know this API username for the GSTIN (1017). Check its spelling, or create the \
             user at {portal} (API Registration, Create API User, Through GSP, {name}{client})."
        ),
        VerificationStatus::NotMappedToGsp => format!(
            "This user was created for another GSP or for direct access (1018). Create one through {name}{client} \
             at {portal}: API Registration, Create API User, Through GSP, {name}."
        ),
        VerificationStatus::UserFrozen => format!(
            "This API user is frozen on the e-invoice portal (3025). Unfreeze it at {portal} in User Management, \
             then verify again."
        ),
        VerificationStatus::Blocked => format!(
            "This API user or account is blocked at the IRP (3033-3036). A blocked user cannot be unblocked: \
             create a new API user through {name} at {portal} (User Management), or contact the e-invoice helpdesk."
        ),
        VerificationStatus::GstinNotEnabled => format!(
            "The IRP says this GSTIN is not enabled for e-invoicing or not active (1014). Check its e-invoice \
             status at {portal}, and sync the GSTIN there if its registration changed."
        ),
        VerificationStatus::IrpUnavailable => {
            "The IRP did not answer; the credentials will be checked again later.".into()
        }
    }
}
