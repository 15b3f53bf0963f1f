//! Verified credentials against a real IRP sandbox over HTTP: every status, sessions reused
//! (a live session counts as verified), single flight, invalidation on store, and sessions
//! that survive a restart.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

const DEMO: &str = "29AAFCD5862R000";

async fn store(app: &TestApp, owner: &Uuid, username: &str, password: &str, verify: bool) -> Value {
    let path = if verify {
        "/v2/nic_credentials/store_nic_credentials?verify=true"
    } else {
        "/v2/nic_credentials/store_nic_credentials"
    };
    let r = app
        .send(
            app.client
                .post(app.url(path))
                .header("owner_id", owner.to_string())
                .json(&json!({"gstin": DEMO, "username": username, "password": password})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

async fn verify(app: &TestApp, owner: &Uuid) -> Value {
    let r = app
        .send(
            app.client
                .post(app.url("/v2/nic_credentials/verify"))
                .header("owner_id", owner.to_string())
                .json(&json!({"gstin": DEMO})),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    r.body
}

/// Auth calls the IRP sandbox has counted, from its `/metrics`.
pub async fn auth_calls(irp_base: &str) -> u64 {
    let text = reqwest::get(format!("{irp_base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("irp_auth_calls_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

fn irp_base(app: &TestApp) -> String {
    format!(
        "http://{}",
        app.state.irp.as_ref().unwrap().embedded_sandbox.unwrap()
    )
}

/// A portal JSON call that must succeed; its answer.
pub(crate) async fn portal(base: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{path}: {value}");
    value
}

async fn last_otp(base: &str, mobile: &str) -> String {
    let outbox: Value = reqwest::get(format!("{base}/portal/outbox?mobile={mobile}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    outbox["messages"][0]["message"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// The demo taxpayer registers on the sandbox portal (GSTIN, mobile, OTP) and logs in; the
/// portal token.
pub async fn portal_login_demo(irp: &str) -> String {
    let started = portal(
        irp,
        "/portal/register/send-otp",
        None,
        json!({"gstin": DEMO, "mobile": "9000000001"}),
    )
    .await;
    let otp = last_otp(irp, "9000000001").await;
    portal(
        irp,
        "/portal/register/verify-otp",
        None,
        json!({"request_id": started["request_id"], "otp": otp}),
    )
    .await;
    portal(irp, "/portal/register/create-user", None, json!({"request_id": started["request_id"], "user_id": "demokarna1", "password": "Portal@123"})).await;
    portal(
        irp,
        "/portal/login",
        None,
        json!({"user_id": "demokarna1", "password": "Portal@123"}),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn statuses(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let irp = irp_base(&app);
    let owner = Uuid::new_v4();

    // The demo API user the embedded sandbox provisioned for our GSP verifies.
    let stored = store(&app, &owner, "demouser01", "Demo@1234", true).await;
    assert_eq!(stored["success"], true);
    assert_eq!(stored["verification"]["status"], "VERIFIED", "{stored}");
    let got = app.get_nic_credentials(None, owner, DEMO).await;
    assert_eq!(got.body["status"], "VERIFIED");
    assert!(got.body["last_verified_at"].is_string());
    assert!(got.body["last_error"].is_null());
    assert_eq!(auth_calls(&irp).await, 1);
    // A live session counts as verified: no second auth call.
    assert_eq!(verify(&app, &owner).await["status"], "VERIFIED");
    assert_eq!(auth_calls(&irp).await, 1);
    // Storing credentials again ends the session and resets the status.
    store(&app, &owner, "demouser01", "Demo@1234", false).await;
    assert_eq!(
        app.get_nic_credentials(None, owner, DEMO).await.body["status"],
        "UNVERIFIED"
    );
    assert_eq!(verify(&app, &owner).await["status"], "VERIFIED");
    assert_eq!(auth_calls(&irp).await, 2);

    let wrong = store(&app, &owner, "demouser01", "Wrong@1234", true).await;
    assert_eq!(wrong["verification"]["status"], "WRONG_PASSWORD");
    assert!(wrong["verification"]["last_error"]
        .as_str()
        .unwrap()
        .contains("password is wrong"));
    let unknown = store(&app, &owner, "nosuchuser9", "Demo@1234", true).await;
    assert_eq!(unknown["verification"]["status"], "UNKNOWN_USER");

    // An API user created for another GSP.
    let token = portal_login_demo(&irp).await;
    let started = portal(&irp, "/portal/clients/register", None, json!({"kind": "GSP", "pan": "AAHCO8765L", "mobile": "9000000200", "email": "other-gsp@sandbox.test"})).await;
    let otp = last_otp(&irp, "9000000200").await;
    let other = portal(
        &irp,
        "/portal/clients/verify",
        None,
        json!({"request_id": started["request_id"], "otp": otp}),
    )
    .await;
    let started = portal(&irp, "/portal/api-users/send-otp", Some(&token), json!({})).await;
    let otp = last_otp(&irp, "9000000001").await;
    portal(
        &irp,
        "/portal/api-users",
        Some(&token),
        json!({"request_id": started["request_id"], "otp": otp, "mode": "GSP", "gsp_client_id": other["client_id"], "username": "otheruser1", "password": "Other@123"}),
    )
    .await;
    let not_mapped = store(&app, &owner, "otheruser1", "Other@123", true).await;
    assert_eq!(not_mapped["verification"]["status"], "NOT_MAPPED_TO_GSP");
    assert!(not_mapped["verification"]["last_error"]
        .as_str()
        .unwrap()
        .contains("another GSP"));

    // A frozen API user: 3025.
    portal(
        &irp,
        "/portal/api-users/demouser01/freeze",
        Some(&token),
        json!({}),
    )
    .await;
    let frozen = store(&app, &owner, "demouser01", "Demo@1234", true).await;
    assert_eq!(frozen["verification"]["status"], "USER_FROZEN");
    let got = app.get_nic_credentials(None, owner, DEMO).await;
    assert_eq!(got.body["status"], "USER_FROZEN");
    assert!(got.body["last_error"]
        .as_str()
        .unwrap()
        .contains("Unfreeze it"));
}
on_both_backends!(verification_reports_each_status, statuses);

async fn single_flight(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let irp = irp_base(&app);
    let owner = Uuid::new_v4();
    store(&app, &owner, "demouser01", "Demo@1234", false).await;
    let mut calls = Vec::new();
    for _ in 0..50 {
        let client = app.client.clone();
        let url = app.url("/v2/nic_credentials/verify");
        calls.push(tokio::spawn(async move {
            let r = client
                .post(url)
                .header("owner_id", owner.to_string())
                .json(&json!({"gstin": DEMO}))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["status"]
                .as_str()
                .unwrap()
                .to_string()
        }));
    }
    for call in calls {
        assert_eq!(call.await.unwrap(), "VERIFIED");
    }
    assert_eq!(
        auth_calls(&irp).await,
        1,
        "concurrent checks share one auth call"
    );
}
on_both_backends!(concurrent_checks_make_one_auth_call, single_flight);

async fn unavailable(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let key = irp_protocol::crypto::RsaPrivateKey::generate().unwrap();
    let key_file = dir.path().join("irp.pem");
    std::fs::write(&key_file, key.public_key().to_pem().unwrap()).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let irp = gateway::irp::IrpSettings {
        endpoints: gateway::irp::IrpEndpoint::only(format!("http://{closed}")),
        public_key_file: key_file,
        signing_certificate_file: None,
        client_id: "AAGCEXXXXXXXXXX".into(),
        client_secret: secrecy::SecretString::from("not-used".to_string()),
        breaker_cooldown_ms: 30_000,
    };
    let Some(app) = TestApp::spawn(
        db,
        Options {
            irp: Some(irp),
            ..Options::mode("sandbox")
        },
    )
    .await
    else {
        return;
    };
    let owner = Uuid::new_v4();
    let stored = store(&app, &owner, "demouser01", "Demo@1234", true).await;
    assert_eq!(stored["verification"]["status"], "IRP_UNAVAILABLE");
    assert!(stored["verification"]["last_error"]
        .as_str()
        .unwrap()
        .contains("did not answer"));
}
on_both_backends!(an_unreachable_irp_is_reported_as_unavailable, unavailable);

async fn sessions_survive_a_restart(db: Db) {
    // A standalone IRP sandbox the gateway reaches by configuration.
    let sandbox = irp_sandbox::Sandbox::open(irp_sandbox::SandboxConfig::default())
        .await
        .unwrap();
    let (client_id, secret) = sandbox
        .provision_demo("einvoice", "AAGCE4321K", DEMO, "demouser01", "Demo@1234")
        .await
        .unwrap();
    let running = testkit::irp::RunningSandbox::serve(sandbox).await;
    let irp_settings = running.gateway_settings(&client_id, &secret, false, 30_000);
    let Some(mut first) = TestApp::spawn(
        db,
        Options {
            irp: Some(irp_settings.clone()),
            ..Options::mode("sandbox")
        },
    )
    .await
    else {
        return;
    };
    let owner = Uuid::new_v4();
    let stored = store(&first, &owner, "demouser01", "Demo@1234", true).await;
    assert_eq!(stored["verification"]["status"], "VERIFIED");
    let irp_base = running.base_url.clone();
    assert_eq!(auth_calls(&irp_base).await, 1);
    first.stop().await;

    // Same database and master key: the sealed session is reused, no new auth call.
    let data_dir = std::mem::replace(&mut first.data_dir, tempfile::tempdir().unwrap());
    let options = Options {
        irp: Some(irp_settings),
        database_url: Some(first.database_url.clone()),
        data_dir: Some(data_dir),
        master_key: Some(first.master_key.clone()),
        ..Options::mode("sandbox")
    };
    let second = TestApp::spawn(db, options).await.unwrap();
    assert_eq!(verify(&second, &owner).await["status"], "VERIFIED");
    assert_eq!(
        auth_calls(&irp_base).await,
        1,
        "the restarted gateway authenticated again"
    );
    // The persisted session is sealed: its token is not in the database in the clear.
    let sealed = second
        .state
        .store
        .get_irp_session(&gateway::storage::IrpSessionKey {
            irp: "NIC1".into(),
            client_id: second
                .state
                .irp
                .as_ref()
                .unwrap()
                .primary
                .client
                .client_id()
                .to_string(),
            owner_id: gateway::ids::OwnerId(owner),
            gstin: DEMO.into(),
            version: 1,
            username: "demouser01".into(),
        })
        .await
        .unwrap()
        .unwrap();
    assert!(!String::from_utf8_lossy(&sealed.0).contains("\"token\""));
}
on_both_backends!(
    sessions_are_sealed_and_survive_a_restart,
    sessions_survive_a_restart
);

async fn bulk(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let body = json!({
        "verify": true,
        "auth_per_second": 50,
        "credentials": [
            {"gstin": DEMO, "username": "demouser01", "password": "Demo@1234"},
            {"gstin": "29AAFCD5862R00", "username": "demouser01", "password": "Demo@1234"},
            {"gstin": "24AAFCD5862R005", "username": "gujuser01", "password": "Wrong@1234"},
            {"gstin": "07AAFCD5862R007", "username": "x ", "password": " pasted "},
        ]
    });
    let r = app
        .send(
            app.client
                .post(app.url("/v2/nic_credentials/bulk"))
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["stored"], 2);
    assert_eq!(r.body["errors"], 2);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results[0]["status"], "STORED");
    assert_eq!(results[0]["verification"], "VERIFIED");
    assert_eq!(results[1]["status"], "ERROR");
    assert!(results[1]["message"]
        .as_str()
        .unwrap()
        .contains("invalid_gstin"));
    assert_eq!(results[2]["status"], "STORED");
    assert_eq!(results[2]["verification"], "UNKNOWN_USER");
    assert_eq!(results[3]["status"], "ERROR");
    assert!(results[3]["message"]
        .as_str()
        .unwrap()
        .contains("invalid_username"));
    // Owners were created for the stored rows only, and nothing was half-written.
    let owners = app.list_owners(None).await;
    assert_eq!(owners.body["owners"].as_array().unwrap().len(), 2);
    assert_eq!(app.state.store.count_credentials().await.unwrap(), 2);
    // A second import reuses the GSTIN owners.
    let again = app.send(app.client.post(app.url("/v2/nic_credentials/bulk")).json(&json!({"credentials": [{"gstin": DEMO, "username": "demouser01", "password": "Demo@1234"}]}))).await;
    assert_eq!(again.body["results"][0]["version"], 2);
    assert_eq!(
        app.list_owners(None).await.body["owners"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let empty = app
        .send(
            app.client
                .post(app.url("/v2/nic_credentials/bulk"))
                .json(&json!({"credentials": []})),
        )
        .await;
    assert_eq!(empty.status, 422);
    // A pace out of range is refused, naming the field (a huge one once panicked, found by
    // schemathesis), and nothing is written.
    for pace in [0u64, 51, 4_294_967_295] {
        let r = app
            .send(app.client.post(app.url("/v2/nic_credentials/bulk")).json(&json!({
                "verify": false,
                "auth_per_second": pace,
                "credentials": [{"gstin": "07AAFCD5862R007", "username": "delhi0001", "password": "Demo@1234"}]
            })))
            .await;
        assert_eq!(r.status, 422, "{pace}: {:?}", r.body);
        assert_eq!(r.error_fields(), ["auth_per_second"]);
    }
    assert_eq!(app.state.store.count_credentials().await.unwrap(), 2);
}
on_both_backends!(bulk_import_stores_each_row_on_its_own, bulk);

async fn health_check(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let irp = irp_base(&app);
    let demo = Uuid::new_v4();
    store(&app, &demo, "demouser01", "Demo@1234", false).await;
    let other = Uuid::new_v4();
    let r = app
        .send(app.client.post(app.url("/v2/nic_credentials/store_nic_credentials")).header("owner_id", other.to_string()).json(&json!({"gstin": "24AAFCD5862R005", "username": "gujuser01", "password": "Guj@12345"})))
        .await;
    assert_eq!(r.status, 200);
    let checked = gateway::service::verify::health_check_once(&app.state, 60_000, 100)
        .await
        .unwrap();
    assert_eq!(checked, 2);
    assert_eq!(
        app.get_nic_credentials(None, demo, DEMO).await.body["status"],
        "VERIFIED"
    );
    assert_eq!(
        app.get_nic_credentials(None, other, "24AAFCD5862R005")
            .await
            .body["status"],
        "UNKNOWN_USER"
    );
    let calls = auth_calls(&irp).await;
    // Just checked: nothing is due within the hour.
    assert_eq!(
        gateway::service::verify::health_check_once(&app.state, 3_600_000, 100)
            .await
            .unwrap(),
        0
    );
    // Everything is due again, but the live session counts as verified: no new auth call for it.
    let checked = gateway::service::verify::health_check_once(&app.state, -1, 100)
        .await
        .unwrap();
    assert_eq!(checked, 2);
    assert_eq!(auth_calls(&irp).await, calls);
}
on_both_backends!(
    the_periodic_check_reverifies_without_needless_auth_calls,
    health_check
);
