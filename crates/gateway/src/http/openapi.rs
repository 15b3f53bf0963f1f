//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the handlers' annotations.

use utoipa::OpenApi;

use super::error::{ErrorBody, ErrorDetail};
use super::routes::{einvoice, health, nic_credentials, owners, tokens};

/// Every endpoint and the error shape.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "einvoice gateway",
        description = "GST e-invoicing gateway: accounts, owners and the NIC credential vault. Every error uses one shape: {\"success\": false, \"errorDetails\": [{\"error_code\", \"error_message\", \"field\"}]}.",
        license(name = "Apache-2.0")
    ),
    paths(
        nic_credentials::store_nic_credentials,
        nic_credentials::verify_nic_credentials,
        nic_credentials::bulk_nic_credentials,
        nic_credentials::get_nic_credentials,
        nic_credentials::delete_nic_credentials,
        einvoice::generate,
        einvoice::cancel,
        einvoice::get,
        tokens::create_token,
        tokens::list_tokens,
        tokens::revoke_token,
        owners::create_owner,
        owners::list_owners,
        health::healthz,
        health::readyz,
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// The document, with every ClearTax `/einv/v2/...` alias of a `/v2/...` path that the router
/// serves.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for endpoint in super::endpoints() {
        if let Some(plain) = endpoint.path.strip_prefix(super::CLEARTAX_PREFIX) {
            if let Some(item) = doc.paths.paths.get(plain).cloned() {
                doc.paths.paths.insert(endpoint.path.to_string(), item);
            }
        }
    }
    doc
}
