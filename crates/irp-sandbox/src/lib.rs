//! An offline, protocol-faithful simulator of NIC's e-invoice system: the IRP API (auth,
//! generate, get, cancel, GSTIN master) with NIC's crypto and error codes, the portal flows
//! that create client credentials and API users, and test controls (clock, faults,
//! counters). Mount [`router`] in any axum server, or run `einvoice sandbox`.

pub mod api;
pub mod clock;
pub mod config;
pub mod controls;
pub mod counters;
pub mod error;
pub mod json;
pub mod keys;
pub mod pages;
pub mod portal;
pub mod provision;
pub mod seed;
pub mod state;
pub mod writer;

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use utoipa::OpenApi;

pub use config::{Profile, SandboxConfig};
pub use json::PortalJson;
pub use state::Sandbox;

/// The portal's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "IRP sandbox portal",
        description = "The e-invoice portal's flows (client registration, taxpayer registration, API users, user management) as a JSON API. Errors: {\"success\": false, \"error\": {\"code\", \"message\"}}."
    ),
    paths(
        portal::clients::register,
        portal::clients::verify,
        portal::clients::list_gsps,
        portal::clients::dummy_gstin,
        portal::clients::client_api_user,
        portal::clients::whitelist,
        portal::taxpayers::send_otp,
        portal::taxpayers::verify_otp,
        portal::taxpayers::create_user,
        portal::taxpayers::login,
        portal::taxpayers::create_sub_user,
        portal::api_users::send_otp,
        portal::api_users::create,
        portal::api_users::list,
        portal::ewaybills::list,
        portal::api_users::password_otp,
        portal::api_users::change_password,
        portal::api_users::freeze,
        portal::api_users::unfreeze,
        portal::api_users::block,
        portal::outbox,
    )
)]
pub struct PortalDoc;

async fn openapi() -> impl IntoResponse {
    Json(PortalDoc::openapi())
}

async fn encryption_key(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    (
        [("content-type", "application/x-pem-file")],
        sandbox.keys.encryption_public_pem.clone(),
    )
}

/// `GET /healthz`: the process answers.
async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: the state database answers (503 otherwise), so that the sandbox can run as a
/// service in an ERP team's compose file.
async fn readyz(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    match sqlx::query_scalar::<_, i64>("SELECT 1")
        .fetch_one(&sandbox.pool)
        .await
    {
        Ok(_) => (
            axum::http::StatusCode::OK,
            Json(serde_json::json!({"status": "ready"})),
        ),
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"status": "database unavailable"})),
        ),
    }
}

async fn signing_certificate(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    (
        [("content-type", "application/x-pem-file")],
        sandbox.keys.certificate_pem.clone(),
    )
}

/// The sandbox's routes: the IRP API, the portal, keys, `/metrics`, and (when enabled) the
/// `/sandbox/` test controls.
pub fn router(sandbox: Sandbox) -> Router {
    use api::{auth, einvoice, ewaybill, master};
    use portal::{api_users, clients, ewaybills as portal_ewaybills, taxpayers};
    let mut router = Router::new()
        .route("/eivital/v1.04/auth", post(auth::auth_v104))
        .route("/eivital/v1.03/auth", post(auth::auth_v103))
        .route("/eicore/v1.03/Invoice", post(einvoice::generate))
        .route("/eicore/v1.03/Invoice/irn/{irn}", get(einvoice::get_by_irn))
        .route(
            "/eicore/v1.03/Invoice/irnbydocdetails",
            get(einvoice::get_by_doc),
        )
        .route("/eicore/v1.03/Invoice/Cancel", post(einvoice::cancel))
        .route("/eiewb/v1.03/ewaybill", post(ewaybill::generate))
        .route("/eiewb/v1.03/ewaybill/irn/{irn}", get(ewaybill::get_by_irn))
        .route("/ewaybillapi/v1.03/ewayapi", post(ewaybill::cancel))
        .route(
            "/eivital/v1.03/Master/gstin/{gstin}",
            get(master::gstin_details),
        )
        .route(
            "/eivital/v1.04/Master/gstin/{gstin}",
            get(master::gstin_details),
        )
        .route(
            "/eivital/v1.03/Master/syncgstin/{gstin}",
            get(master::sync_gstin),
        )
        .route(
            "/eivital/v1.04/Master/syncgstin/{gstin}",
            get(master::sync_gstin),
        )
        .route("/keys/encryption-public-key.pem", get(encryption_key))
        .route("/keys/signing-certificate.pem", get(signing_certificate))
        .route("/portal/openapi.json", get(openapi))
        .route("/portal/clients/register", post(clients::register))
        .route("/portal/clients/verify", post(clients::verify))
        .route("/portal/clients/dummy-gstins", post(clients::dummy_gstin))
        .route("/portal/clients/api-users", post(clients::client_api_user))
        .route("/portal/clients/whitelist", post(clients::whitelist))
        .route("/portal/gsps", get(clients::list_gsps))
        .route("/portal/register/send-otp", post(taxpayers::send_otp))
        .route("/portal/register/verify-otp", post(taxpayers::verify_otp))
        .route("/portal/register/create-user", post(taxpayers::create_user))
        .route("/portal/login", post(taxpayers::login))
        .route("/portal/ewaybills", get(portal_ewaybills::list))
        .route("/portal/sub-users", post(taxpayers::create_sub_user))
        .route("/portal/api-users/send-otp", post(api_users::send_otp))
        .route(
            "/portal/api-users",
            post(api_users::create).get(api_users::list),
        )
        .route(
            "/portal/api-users/{username}/password/send-otp",
            post(api_users::password_otp),
        )
        .route(
            "/portal/api-users/{username}/password",
            post(api_users::change_password),
        )
        .route(
            "/portal/api-users/{username}/freeze",
            post(api_users::freeze),
        )
        .route(
            "/portal/api-users/{username}/unfreeze",
            post(api_users::unfreeze),
        )
        .route("/portal/api-users/{username}/block", post(api_users::block))
        .route("/portal/outbox", get(portal::outbox))
        .route("/metrics", get(controls::metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(pages::router());
    if sandbox.config.test_controls {
        router = router
            .route(
                "/sandbox/clock",
                get(controls::show_clock).post(controls::move_clock),
            )
            .route("/sandbox/faults", post(controls::inject_fault))
            .route("/sandbox/api-users", post(controls::provision_api_user))
            .route("/sandbox/counters", get(controls::counters));
    }
    router.with_state(sandbox)
}
