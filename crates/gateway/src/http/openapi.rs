//! The OpenAPI 3.1 document served at `/openapi.json`: the handlers' annotations, collected by
//! the router groups (so a route is declared once), plus what the groups and the middleware
//! add to every endpoint (the token scheme, and the answers any endpoint can give).

use axum::http::Method;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::OpenApi;

use super::endpoint::{Access, Endpoint};
use super::error::{ErrorBody, ErrorDetail};

/// The name of the API token's security scheme.
const TOKEN_SCHEME: &str = "api_token";

/// The document's frame and the error shape; the paths come from the router groups.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "einvoice gateway",
        description = "GST e-invoicing gateway: accounts, owners and the NIC credential vault. Every error uses one shape: {\"success\": false, \"errorDetails\": [{\"error_code\", \"error_message\", \"field\"}]}.",
        license(name = "Apache-2.0")
    ),
    components(schemas(ErrorBody, ErrorDetail))
)]
pub struct ApiDoc;

/// The operations of a path item, by method.
pub fn operations(item: &PathItem) -> [(Method, Option<&Operation>); 4] {
    [
        (Method::GET, item.get.as_ref()),
        (Method::PUT, item.put.as_ref()),
        (Method::POST, item.post.as_ref()),
        (Method::DELETE, item.delete.as_ref()),
    ]
}

fn operation_mut<'a>(item: &'a mut PathItem, method: &Method) -> Option<&'a mut Operation> {
    match *method {
        Method::GET => item.get.as_mut(),
        Method::PUT => item.put.as_mut(),
        Method::POST => item.post.as_mut(),
        Method::DELETE => item.delete.as_mut(),
        _ => None,
    }
}

/// Completes the document the groups collected: the token scheme on every endpoint whose group
/// asks for it (optional for [`Access::Account`] in sandbox mode), and the answers that
/// middleware can give.
pub fn document(
    mut doc: utoipa::openapi::OpenApi,
    endpoints: &[Endpoint],
    sandbox: bool,
) -> utoipa::openapi::OpenApi {
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            TOKEN_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Cleartax-Auth-Token",
                "An API token from POST /v2/auth/tokens or the console (Settings → Integrations).",
            ))),
        );
    for endpoint in endpoints {
        let Some(operation) = doc
            .paths
            .paths
            .get_mut(&endpoint.path)
            .and_then(|item| operation_mut(item, &endpoint.method))
        else {
            continue;
        };
        if endpoint.access.needs_token() {
            let mut security = vec![SecurityRequirement::new(TOKEN_SCHEME, Vec::<String>::new())];
            if sandbox && endpoint.access == Access::Account {
                // The sandbox account acts when no token is sent.
                security.push(SecurityRequirement::default());
            }
            operation.security = Some(security);
        }
        let has_body = operation.request_body.is_some();
        let reads_branch = operation.parameters.iter().flatten().any(|parameter| {
            parameter.name == "branch"
                && parameter.parameter_in == utoipa::openapi::path::ParameterIn::Header
        });
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
        if endpoint.access.needs_token() {
            add("400", "Malformed request: a header, query or field");
            add("401", "Missing or invalid token");
            add(
                "429",
                "Too many requests: failed attempts, requests in flight, or a GSTIN's limits (see Retry-After)",
            );
        }
        if has_body {
            add("400", "Malformed request: a header, query or field");
            add("413", "Body too large");
            add("415", "Not application/json");
        }
        if reads_branch {
            add(
                "422",
                "The branch header is not the name of the owner_id's owner",
            );
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
