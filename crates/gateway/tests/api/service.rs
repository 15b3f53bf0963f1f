//! Cross-cutting HTTP behaviour: request ids, probes, the OpenAPI document, unknown routes.

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

async fn probes_and_openapi(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let health = app.send(app.client.get(app.url("/healthz"))).await;
    assert_eq!(
        (health.status, health.body["status"].as_str()),
        (200, Some("ok"))
    );
    let ready = app.send(app.client.get(app.url("/readyz"))).await;
    assert_eq!(ready.status, 200);

    let doc = app.send(app.client.get(app.url("/openapi.json"))).await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v2/nic_credentials/store_nic_credentials", "post"),
        ("/einv/v2/nic_credentials/store_nic_credentials", "post"),
        ("/v2/nic_credentials", "get"),
        ("/v2/nic_credentials", "delete"),
        ("/v2/auth/tokens", "post"),
        ("/v2/auth/tokens", "get"),
        ("/v2/auth/tokens/{id}", "delete"),
        ("/v2/owners", "post"),
        ("/v2/owners", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from OpenAPI"
        );
    }
    assert!(doc.body["components"]["schemas"]["ErrorBody"].is_object());
    // Every reference resolves, so no part of an operation goes untested by schema tools.
    let text = doc.body.to_string();
    for reference in text.split("\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(
            doc.body["components"]["schemas"][name].is_object(),
            "unresolvable reference to schema {name}"
        );
    }
    // An operation that reads the branch header can refuse it as not the owner's name.
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let reads_branch = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|p| p["name"] == "branch" && p["in"] == "header");
            if reads_branch {
                assert!(
                    operation["responses"]["422"].is_object(),
                    "{method} {path} reads the branch header but documents no 422"
                );
            }
        }
    }

    let missing = app.send(app.client.get(app.url("/nope"))).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_codes(), ["route_not_found"]);
    assert!(missing.headers.get("x-request-id").is_some());
    let wrong_method = app.send(app.client.put(app.url("/v2/owners"))).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.error_codes(), ["method_not_allowed"]);

    let echoed = app
        .send(
            app.client
                .get(app.url("/healthz"))
                .header("x-request-id", "my-trace-1"),
        )
        .await;
    assert_eq!(echoed.headers["x-request-id"], "my-trace-1");
}
on_both_backends!(probes_openapi_and_request_ids, probes_and_openapi);
