//! The authorisation matrix: every endpoint of the router's own table, called with no token, a
//! malformed token, a revoked token, another account's token and its own token (production
//! mode). Without a valid token nothing but the public endpoints answers; another account's
//! token neither reads nor changes anything of the account; its own token is let through.
//! Every console page that needs a login sends everyone else to the login page, a valid API
//! token included. The table is written to `target/authorisation-matrix.md`.

use std::fmt::Write as _;

use gateway::console::PageAccess;
use gateway::http::Access;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;
use crate::store_credentials::{GSTIN_KA, GSTIN_MH};

const IRN: &str = "a5c12dca80e743321740b001fd70953e8738d34d810fb5ba4e4fd2e8b8ce14c7";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuthState {
    None,
    Malformed,
    Revoked,
    OtherAccount,
    Own,
}

fn body_for(path: &str) -> Option<Value> {
    let suffix = path.trim_start_matches("/einv");
    match suffix {
        "/v2/nic_credentials/store_nic_credentials" => {
            Some(json!({"gstin": GSTIN_KA, "username": "intruder01", "password": "Intruder@1"}))
        }
        "/v2/nic_credentials/verify" => Some(json!({"gstin": GSTIN_KA})),
        "/v2/nic_credentials/bulk" => Some(json!({"credentials": [
            {"gstin": GSTIN_KA, "username": "intruder01", "password": "Intruder@1"}
        ]})),
        "/v2/eInvoice/generate" => Some(json!([])),
        "/v2/eInvoice/cancel" => Some(json!([{"irn": IRN, "CnlRsn": "1", "CnlRem": "matrix"}])),
        "/v2/auth/tokens" => Some(
            json!({"email": "a@matrix.test", "password": "a long password 1", "label": "matrix"}),
        ),
        "/v2/owners" => Some(json!({"kind": "GSTIN", "gstin": GSTIN_MH})),
        "/v2/eInvoice/ewaybill" => Some(
            json!([{"Irn": IRN, "Distance": 10, "TransId": "29AAFCD5862R1ZX", "TransName": "Matrix"}]),
        ),
        "/v2/eInvoice/ewaybill/cancel" => Some(
            json!({"ewbNo": 381000000001_i64, "cancelRsnCode": "OTHERS", "cancelRmrk": "matrix"}),
        ),
        "/v1/govt/api/einvewb/ewaybill" => Some(json!({"Irn": IRN, "Distance": 10})),
        "/v2/sandbox/api-users" => Some(json!({"gstin": GSTIN_KA})),
        "/v2/webhooks" => Some(json!({"url": "https://hooks.matrix.test/intruder"})),
        _ => None,
    }
}

async fn matrix(db: Db) {
    let options = Options {
        token_failure_limit: Some(10_000),
        ..Options::mode("production")
    };
    let Some(app) = TestApp::spawn(db, options).await else {
        return;
    };
    let (account_a, token_a) = app.new_account("a@matrix.test").await;
    let (_, token_b) = app.new_account("b@matrix.test").await;
    let owner_a = app.new_gstin_owner(Some(&token_a), GSTIN_KA).await;
    let stored = app
        .store_nic_credentials(
            Some(&token_a),
            Some(&owner_a.to_string()),
            &json!({"gstin": GSTIN_KA, "username": "apiuser01", "password": "A-secret@1"}),
        )
        .await;
    assert_eq!(stored.status, 200);
    let revocable = gateway::service::auth::issue_token(
        &app.state,
        gateway::ids::AccountId(account_a),
        None,
        "to revoke",
    )
    .await
    .unwrap();
    let revoked = gateway::service::auth::issue_token(
        &app.state,
        gateway::ids::AccountId(account_a),
        None,
        "revoked",
    )
    .await
    .unwrap();
    let revoked_value = secrecy::ExposeSecret::expose_secret(&revoked.value).to_string();
    app.state
        .store
        .revoke_token(
            gateway::ids::AccountId(account_a),
            revoked.record.id,
            app.state.now(),
        )
        .await
        .unwrap();

    // A webhook of A's, with one delivery in its log.
    let actor_a = gateway::service::Actor {
        account_id: gateway::ids::AccountId(account_a),
        token_id: None,
    };
    let webhook_a = gateway::service::webhooks::create(
        &app.state,
        actor_a,
        gateway::service::webhooks::NewWebhook {
            url: "https://hooks.a-matrix.test/einvoice".into(),
            events: vec![],
        },
    )
    .await
    .unwrap();
    let event_a = gateway::events::password_age(
        gateway::events::CredentialPlace {
            account_id: actor_a.account_id,
            owner_id: gateway::ids::OwnerId(owner_a),
            gstin: GSTIN_KA,
        },
        "apiuser01",
        app.state.now(),
        60,
        app.state.now(),
    );
    assert_eq!(app.state.store.enqueue_event(&event_a).await.unwrap(), 1);

    // What must never appear in an answer to anyone but A.
    let a_markers = [
        owner_a.to_string(),
        "apiuser01".to_string(),
        revocable.record.id.to_string(),
        "to revoke".to_string(),
        webhook_a.webhook.id.to_string(),
        "hooks.a-matrix.test".to_string(),
        event_a.id.to_string(),
    ];

    let endpoints = gateway::http::endpoints();
    assert!(
        endpoints.len() >= 20,
        "the router lists {} endpoints",
        endpoints.len()
    );
    let mut table = String::from("| Endpoint | none | malformed | revoked | other account | own |\n|---|---:|---:|---:|---:|---:|\n");
    let mut rows: Vec<(String, Vec<u16>)> = endpoints
        .iter()
        .map(|e| {
            (
                format!("`{} {}` ({:?})", e.method, e.path, e.access),
                Vec::new(),
            )
        })
        .collect();
    let states = [
        AuthState::None,
        AuthState::Malformed,
        AuthState::Revoked,
        AuthState::OtherAccount,
        AuthState::Own,
    ];
    for state in states {
        if state == AuthState::Own {
            account_a_secrets_are_intact_for(&app, account_a, owner_a, revocable.record.id).await;
            assert!(
                app.state
                    .store
                    .get_webhook(actor_a.account_id, webhook_a.webhook.id)
                    .await
                    .unwrap()
                    .is_some(),
                "A's webhook was deleted by someone else"
            );
        }
        for (endpoint, row) in endpoints.iter().zip(rows.iter_mut()) {
            let id = if endpoint.path.starts_with("/v2/webhooks") {
                webhook_a.webhook.id
            } else {
                revocable.record.id
            };
            let path = endpoint
                .path
                .replace("{id}", &id.to_string())
                .replace("{event_id}", &event_a.id.to_string());
            let query = match endpoint.path.trim_start_matches("/einv") {
                "/v2/nic_credentials" => format!("?owner_id={owner_a}&gstin={GSTIN_KA}"),
                "/v2/eInvoice/get" => format!("?irn={IRN}"),
                "/v2/eInvoice/download" => format!("?irns={IRN}"),
                _ => String::new(),
            };
            let method = Method::from_bytes(endpoint.method.as_str().as_bytes()).unwrap();
            let mut request = app
                .client
                .request(method, app.url(&format!("{path}{query}")))
                .header("owner_id", owner_a.to_string())
                .header("gstin", GSTIN_KA);
            if let Some(body) = body_for(&endpoint.path) {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            request = match state {
                AuthState::None => request,
                AuthState::Malformed => request.header("X-Cleartax-Auth-Token", "not a token"),
                AuthState::Revoked => request.header("X-Cleartax-Auth-Token", &revoked_value),
                AuthState::OtherAccount => request.header("X-Cleartax-Auth-Token", &token_b),
                AuthState::Own => request.header("X-Cleartax-Auth-Token", &token_a),
            };
            let response = app.send(request).await;
            let text = response.body.to_string();
            row.1.push(response.status);
            let what = format!(
                "{:?} {} {} -> {} {text}",
                state, endpoint.method, endpoint.path, response.status
            );
            assert!(response.status < 500 || response.status == 503, "{what}");
            match (endpoint.access, state) {
                (Access::Public, _) => {
                    assert_ne!(response.status, 401, "{what}");
                    assert_ne!(response.status, 403, "{what}");
                }
                (
                    Access::Account | Access::Token,
                    AuthState::None | AuthState::Malformed | AuthState::Revoked,
                ) => {
                    assert_eq!(response.status, 401, "{what}");
                    let code = response.error_codes();
                    assert!(
                        code == ["missing_token"] || code == ["invalid_token"],
                        "{what}"
                    );
                }
                (Access::Account | Access::Token, AuthState::OtherAccount) => {
                    assert_ne!(response.status, 401, "{what}");
                    for marker in &a_markers {
                        assert!(!text.contains(marker.as_str()), "{what} leaks {marker}");
                    }
                }
                (Access::Account, AuthState::Own) if endpoint.path == "/v2/sandbox/api-users" => {
                    // This matrix runs in production mode, where the one-click is always refused.
                    assert_eq!(response.status, 403, "{what}");
                    assert_eq!(response.error_codes(), ["sandbox_only"], "{what}");
                }
                (Access::Account | Access::Token, AuthState::Own) => {
                    assert!(![401, 403].contains(&response.status), "{what}");
                }
            }
            if !matches!(state, AuthState::Own) && endpoint.access.needs_token() {
                // A's data never shows to anyone else, whatever the status.
                for marker in &a_markers {
                    assert!(!text.contains(marker.as_str()), "{what} leaks {marker}");
                }
            }
        }
    }
    for (name, statuses) in &rows {
        let cells: Vec<String> = statuses.iter().map(u16::to_string).collect();
        writeln!(table, "| {name} | {} |", cells.join(" | ")).unwrap();
    }

    // The console: pages behind a login send everyone else to the login page, API token or not.
    let console = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    table.push_str("\n| Console page | no session | API token only |\n|---|---:|---:|\n");
    for page in gateway::console::endpoints() {
        let path = page
            .path
            .replace("{owner_id}", &owner_a.to_string())
            .replace("{irn}", IRN)
            .replace("{id}", &revocable.record.id.to_string())
            .replace("{event_id}", &revocable.record.id.to_string());
        let method = Method::from_bytes(page.method.as_str().as_bytes()).unwrap();
        let mut statuses = Vec::new();
        for token in [None, Some(&token_a)] {
            let mut request = console.request(method.clone(), app.url(&path));
            if method == Method::POST {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("label=x&gstin=29AAFCD5862R1ZR");
            }
            if let Some(t) = token {
                request = request.header("X-Cleartax-Auth-Token", t.as_str());
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default();
            let body = response.text().await.unwrap();
            if page.access == PageAccess::Session {
                assert_eq!(status, 303, "{} {}", page.method, page.path);
                assert!(location.starts_with("/console/login"), "{}", page.path);
                for marker in &a_markers {
                    assert!(!body.contains(marker.as_str()));
                }
            }
            statuses.push(status);
        }
        writeln!(
            table,
            "| `{} {}` | {} | {} |",
            page.method, page.path, statuses[0], statuses[1]
        )
        .unwrap();
    }
    let target = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join(format!("authorisation-matrix-{db:?}.md").to_lowercase());
    std::fs::write(target, &table).unwrap();
    println!("{table}");
}
on_both_backends!(every_endpoint_under_every_auth_state, matrix);

async fn account_a_secrets_are_intact_for(
    app: &TestApp,
    account_a: Uuid,
    owner_a: Uuid,
    revocable_id: Uuid,
) {
    let record = app
        .state
        .store
        .get_credential(gateway::ids::OwnerId(owner_a), GSTIN_KA)
        .await
        .unwrap()
        .expect("A's credentials are still there");
    assert_eq!(record.version, 1, "A's credentials were overwritten");
    assert_eq!(record.username, "apiuser01");
    let tokens = app
        .state
        .store
        .list_tokens(gateway::ids::AccountId(account_a))
        .await
        .unwrap();
    let revocable = tokens.iter().find(|t| t.id == revocable_id).unwrap();
    assert!(
        revocable.revoked_at.is_none(),
        "A's token was revoked by someone else"
    );
}
