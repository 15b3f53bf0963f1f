//! Onboarding a GSTIN, over HTTP against the embedded IRP sandbox, on both backends:
//! `GET /v2/gsp` (our name and client id, never the secret, and the steps); `verify=before`
//! (a refused new password leaves the stored pair in use, and the history records both
//! outcomes); the one-click sandbox API user, from an empty account to a generated IRN; the
//! split statuses (a frozen user, unfrozen again within one verify; a blocked one); and the
//! one-click refused in production mode.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

const DEMO: &str = "29AAFCD5862R000";

fn irp_base(app: &TestApp) -> String {
    format!(
        "http://{}",
        app.state.irp.as_ref().unwrap().embedded_sandbox.unwrap()
    )
}

async fn store(
    app: &TestApp,
    owner: &Uuid,
    password: &str,
    verify: &str,
) -> crate::helpers::Response {
    app.send(
        app.client
            .post(app.url(&format!(
                "/v2/nic_credentials/store_nic_credentials?verify={verify}"
            )))
            .header("owner_id", owner.to_string())
            .json(&json!({"gstin": DEMO, "username": "demouser01", "password": password})),
    )
    .await
}

async fn generate(app: &TestApp, owner: Option<&str>, seller: &str, doc_no: &str) -> Value {
    let mut request = app
        .client
        .put(app.url("/v2/eInvoice/generate"))
        .header("gstin", seller)
        .json(&json!([{"transaction": testkit::invoices::invoice(seller, testkit::invoices::SELLERS[0].1, doc_no, 1000.0)}]));
    if let Some(owner) = owner {
        request = request.header("owner_id", owner);
    }
    let answer = app.send(request).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body[0].clone()
}

async fn gsp_identity(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let answer = app.send(app.client.get(app.url("/v2/gsp"))).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let gsp = &answer.body;
    let client_id = app
        .state
        .irp
        .as_ref()
        .unwrap()
        .primary
        .client
        .client_id()
        .to_string();
    assert_eq!(gsp["gsp_name"], "einvoice");
    assert_eq!(gsp["client_id"], client_id.as_str());
    assert_eq!(gsp["environment"], "sandbox");
    assert_eq!(gsp["portal_url"], format!("{}/portal/ui", irp_base(&app)));
    assert_eq!(gsp["sandbox_portal_url"], "https://einv-apisandbox.nic.in");
    assert_eq!(gsp["production_portal_url"], "https://einvoice1.gst.gov.in");
    let steps = gsp["steps"].to_string();
    assert!(
        steps.contains("Through GSP") && steps.contains(&client_id),
        "{steps}"
    );
    assert!(gsp["steps"]["first_time"].as_array().unwrap().len() >= 4);
    assert!(gsp["steps"]["existing_login"].as_array().unwrap().len() >= 4);
    assert!(
        !gsp.to_string().to_ascii_lowercase().contains("secret"),
        "{gsp}"
    );
    // The sandbox portal lists our GSP by that name and client id under "Through GSP".
    let listed: Value = reqwest::get(format!("{}/portal/gsps", irp_base(&app)))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        listed["gsps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "einvoice" && g["client_id"] == client_id.as_str()),
        "{listed}"
    );
}
on_both_backends!(gsp_answers_our_identity_and_the_steps, gsp_identity);

async fn verify_before(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let owner = Uuid::new_v4();
    let first = store(&app, &owner, "Demo@1234", "true").await;
    assert_eq!(
        first.body["verification"]["status"], "VERIFIED",
        "{:?}",
        first.body
    );

    // A wrong new password: refused, the stored pair stays (version 1, VERIFIED) and works.
    let refused = store(&app, &owner, "Wrong@1234", "before").await;
    assert_eq!(refused.status, 200, "{:?}", refused.body);
    assert_eq!(refused.body["success"], false);
    assert_eq!(refused.body["replaced"], false);
    assert_eq!(refused.body["verification"]["status"], "WRONG_PASSWORD");
    assert_eq!(
        refused.body["errorDetails"][0]["error_code"],
        "WRONG_PASSWORD"
    );
    assert_eq!(refused.body["errorDetails"][0]["field"], "password");
    assert!(!refused.body.to_string().contains("Wrong@1234"));
    let kept = app.get_nic_credentials(None, owner, DEMO).await;
    assert_eq!(kept.body["version"], 1);
    assert_eq!(kept.body["status"], "VERIFIED");
    let generated = generate(&app, Some(&owner.to_string()), DEMO, "VB/0001").await;
    assert_eq!(generated["document_status"], "IRN_GENERATED", "{generated}");

    // The right one: stored as version 2, verified.
    let accepted = store(&app, &owner, "Demo@1234", "before").await;
    assert_eq!(accepted.body["success"], true, "{:?}", accepted.body);
    assert_eq!(accepted.body["replaced"], true);
    assert_eq!(accepted.body["verification"]["status"], "VERIFIED");
    let now = app.get_nic_credentials(None, owner, DEMO).await;
    assert_eq!(now.body["version"], 2);
    assert_eq!(now.body["status"], "VERIFIED");

    // The history records both outcomes.
    let history = app
        .state
        .store
        .list_audit_events(
            gateway::state::SANDBOX_ACCOUNT_ID,
            gateway::ids::OwnerId(owner),
            Some(DEMO),
        )
        .await
        .unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "nic_credentials.store",
            "nic_credentials.refused",
            "nic_credentials.store"
        ]
    );
    // An unknown value of the flag is a 400 naming it.
    let bad = store(&app, &owner, "Demo@1234", "maybe").await;
    assert_eq!(bad.status, 400, "{:?}", bad.body);
    assert_eq!(
        bad.body["errorDetails"][0]["field"], "verify",
        "{:?}",
        bad.body
    );
}
on_both_backends!(
    verify_before_replaces_only_what_the_irp_accepts,
    verify_before
);

async fn one_click(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    // An empty account: one click, then one generate.
    let created = app
        .send(
            app.client
                .post(app.url("/v2/sandbox/api-users"))
                .json(&json!({"state_code": "27"})),
        )
        .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    let gstin = created.body["gstin"].as_str().unwrap().to_string();
    assert!(gstin.starts_with("27AAGCE4321K00"), "{gstin}");
    assert_eq!(created.body["verification"]["status"], "VERIFIED");
    let username = created.body["username"].as_str().unwrap();
    assert!(username.len() >= 6 && username.len() <= 15, "{username}");
    assert!(
        !created.body.to_string().contains("Sb1@"),
        "a password is in the answer"
    );
    let owner = created.body["owner_id"].as_str().unwrap().to_string();
    let generated = generate(&app, None, &gstin, "ONE/0001").await;
    assert_eq!(generated["document_status"], "IRN_GENERATED", "{generated}");
    assert_eq!(generated["owner_id"], owner.as_str());

    // A GSTIN the sandbox knows (not our dummy): through the sandbox's control.
    let known = app
        .send(
            app.client
                .post(app.url("/v2/sandbox/api-users"))
                .json(&json!({"gstin": "24AAFCD5862R005"})),
        )
        .await;
    assert_eq!(known.status, 200, "{:?}", known.body);
    assert_eq!(known.body["verification"]["status"], "VERIFIED");
    // One the sandbox does not know: 409 naming the refusal.
    let unknown = app
        .send(
            app.client
                .post(app.url("/v2/sandbox/api-users"))
                .json(&json!({"gstin": "33AAFCD5862R1Z2"})),
        )
        .await;
    assert_eq!(unknown.status, 409, "{:?}", unknown.body);
    assert!(
        unknown.body.to_string().contains("unknown_gstin"),
        "{:?}",
        unknown.body
    );
}
on_both_backends!(one_click_sandbox_user_then_one_generate, one_click);

async fn production_refuses(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("production")).await else {
        return;
    };
    let (_, token) = app.new_account("prod@onboarding.test").await;
    let refused = app
        .send(
            app.client
                .post(app.url("/v2/sandbox/api-users"))
                .header("X-Cleartax-Auth-Token", &token)
                .json(&json!({})),
        )
        .await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    assert_eq!(refused.error_codes(), ["sandbox_only"]);
    let gsp = app
        .send(
            app.client
                .get(app.url("/v2/gsp"))
                .header("X-Cleartax-Auth-Token", &token),
        )
        .await;
    assert_eq!(gsp.status, 200);
    assert_eq!(gsp.body["environment"], "production");
    assert_eq!(gsp.body["portal_url"], "https://einvoice1.gst.gov.in");
}
on_both_backends!(production_refuses_the_one_click, production_refuses);

async fn portal_post(base: &str, path: &str, token: &str) {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{path}");
}

async fn frozen_and_blocked(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let irp = irp_base(&app);
    let owner = Uuid::new_v4();
    let stored = store(&app, &owner, "Demo@1234", "true").await;
    assert_eq!(stored.body["verification"]["status"], "VERIFIED");
    // The taxpayer logs in to the portal (registering first).
    let token = crate::verify::portal_login_demo(&irp).await;
    let check = || async {
        app.send(
            app.client
                .post(app.url("/v2/nic_credentials/verify"))
                .header("owner_id", owner.to_string())
                .json(&json!({"gstin": DEMO})),
        )
        .await
        .body
    };
    // Frozen on the portal: the next verify says so, although a session was live.
    portal_post(&irp, "/portal/api-users/demouser01/freeze", &token).await;
    let frozen = check().await;
    assert_eq!(frozen["status"], "USER_FROZEN", "{frozen}");
    assert!(frozen["last_error"]
        .as_str()
        .unwrap()
        .contains("User Management"));
    // Unfrozen: verified again within one verify.
    portal_post(&irp, "/portal/api-users/demouser01/unfreeze", &token).await;
    assert_eq!(check().await["status"], "VERIFIED");
    // Blocked: BLOCKED.
    portal_post(&irp, "/portal/api-users/demouser01/block", &token).await;
    let blocked = check().await;
    assert_eq!(blocked["status"], "BLOCKED", "{blocked}");
}
on_both_backends!(
    frozen_unfrozen_and_blocked_show_within_one_verify,
    frozen_and_blocked
);
