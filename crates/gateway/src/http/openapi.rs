//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the handlers' annotations.

use utoipa::OpenApi;

use super::endpoint::{Access, Endpoint, CLEARTAX_PREFIX};
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
/// serves, and the answers that middleware can give on any endpoint listed on each.
pub fn document(endpoints: &[Endpoint]) -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for endpoint in endpoints {
        if let Some(plain) = endpoint.path.strip_prefix(CLEARTAX_PREFIX) {
            if let Some(item) = doc.paths.paths.get(plain).cloned() {
                doc.paths.paths.insert(endpoint.path.to_string(), item);
            }
        }
    }
    for endpoint in endpoints {
        let Some(item) = doc.paths.paths.get_mut(endpoint.path) else {
            continue;
        };
        let operation = match endpoint.method.as_str() {
            "GET" => item.get.as_mut(),
            "PUT" => item.put.as_mut(),
            "POST" => item.post.as_mut(),
            "DELETE" => item.delete.as_mut(),
            _ => None,
        };
        let Some(operation) = operation else {
            continue;
        };
        let has_body = operation.request_body.is_some();
        let responses = &mut operation.responses.responses;
        let mut add = |code: &str, description: &str| {
            responses
                .entry(code.to_string())
                .or_insert_with(|| error_response(description));
        };
        add(
            "503",
            "Timed out, or a dependency is unavailable (see Retry-After)",
        );
        if endpoint.access == Access::Token {
            add("401", "Missing or invalid token");
            add("429", "Too many failed attempts (see Retry-After)");
        }
        if has_body {
            add("400", "Malformed request");
            add("413", "Body too large");
            add("415", "Not application/json");
        }
    }
    doc
}

fn error_response(
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}
