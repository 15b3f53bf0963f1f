//! A hostile client's findings, one test each: throttles that a proxy or a guesser cannot turn
//! against valid users, bounded password hashing, half-sent requests closed, multibyte text,
//! IRNs that cannot reach other IRP paths, request ids, NUL characters, a keyed login CSRF
//! token, HSTS, 0600 database files, bidi controls, versions that never repeat, and key rotation
//! while serving.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;
use crate::store_credentials::{production_app, Prod, GSTIN_KA};

fn behind_a_proxy(settings: &mut gateway::Settings) {
    settings.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

/// A production gateway that believes `X-Forwarded-For` from loopback (the tests' proxy).
async fn production_behind_a_proxy(db: Db) -> Option<TestApp> {
    TestApp::spawn(
        db,
        Options {
            adjust: Some(behind_a_proxy),
            ..Options::mode("production")
        },
    )
    .await
}

async fn store_with_token(app: &TestApp, token: &str, owner: &str, forwarded_for: &str) -> u16 {
    app.send(
        app.client
            .post(app.url("/v2/nic_credentials/store_nic_credentials"))
            .header("X-Cleartax-Auth-Token", token)
            .header("owner_id", owner)
            .header("X-Forwarded-For", forwarded_for)
            .json(&json!({"gstin": GSTIN_KA, "username": "apiuser01", "password": "Secret@123"})),
    )
    .await
    .status
}

async fn invalid_tokens_are_counted_per_real_client(db: Db) {
    let Some(app) = production_behind_a_proxy(db).await else {
        return;
    };
    let (_, token) = app.new_account("owner@example.com").await;
    let owner = app
        .new_gstin_owner(Some(&token), GSTIN_KA)
        .await
        .to_string();
    for _ in 0..20 {
        assert_eq!(
            store_with_token(&app, "einv_guess", &owner, "203.0.113.1").await,
            401
        );
    }
    assert_eq!(
        store_with_token(&app, "einv_guess", &owner, "203.0.113.1").await,
        429
    );
    // Another client behind the same proxy is not locked out, and neither is a valid token
    // from the throttled client.
    assert_eq!(
        store_with_token(&app, "einv_guess", &owner, "203.0.113.2").await,
        401
    );
    assert_eq!(
        store_with_token(&app, &token, &owner, "203.0.113.1").await,
        200
    );
}
on_both_backends!(
    invalid_tokens_are_counted_per_real_client,
    invalid_tokens_are_counted_per_real_client
);

async fn forwarded_for_is_ignored_from_untrusted_peers(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let owner = owner.to_string();
    // A direct client that names a new address each time is still one client.
    for i in 0..20 {
        let spoofed = format!("198.51.100.{i}");
        assert_eq!(
            store_with_token(&app, "einv_guess", &owner, &spoofed).await,
            401
        );
    }
    assert_eq!(
        store_with_token(&app, "einv_guess", &owner, "198.51.100.99").await,
        429
    );
    assert_eq!(
        store_with_token(&app, &token, &owner, "198.51.100.99").await,
        200
    );
}
on_both_backends!(
    forwarded_for_is_ignored_from_untrusted_peers,
    forwarded_for_is_ignored_from_untrusted_peers
);

async fn login(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: &str,
) -> crate::helpers::Response {
    app.send(
        app.client
            .post(app.url("/v2/auth/tokens"))
            .header("X-Forwarded-For", forwarded_for)
            .json(&json!({"email": email, "password": password, "label": "t"})),
    )
    .await
}

async fn nobody_can_lock_a_user_out(db: Db) {
    let Some(app) = production_behind_a_proxy(db).await else {
        return;
    };
    app.new_account("known@example.com").await;
    // An attacker hammers a known email from one address.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(
            login(&app, "known@example.com", "wrong password", "203.0.113.66")
                .await
                .status,
        );
    }
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert_eq!(*statuses.last().unwrap(), 429, "{statuses:?}");
    // The same address stays throttled, even with the right password...
    let from_attacker = login(
        &app,
        "known@example.com",
        "a long password 1",
        "203.0.113.66",
    )
    .await;
    assert_eq!(from_attacker.status, 429);
    assert!(from_attacker.headers.contains_key("retry-after"));
    // ...but the user, from an address with no failures, gets in at once.
    let from_user = login(&app, "known@example.com", "a long password 1", "192.0.2.10").await;
    assert_eq!(from_user.status, 201, "{:?}", from_user.body);
    // Throttle keys stay bounded: an over-long email is refused before any work.
    let long = format!("{}@example.com", "a".repeat(250));
    let refused = login(&app, &long, "whatever password", "192.0.2.11").await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.error_fields(), ["email"]);
}
on_both_backends!(nobody_can_lock_a_user_out, nobody_can_lock_a_user_out);

#[tokio::test]
async fn password_hashing_is_bounded() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let gate = Arc::new(gateway::accounts::HashingGate::new(2, 3));
    let running = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (gate, running, peak) = (gate.clone(), running.clone(), peak.clone());
        tasks.push(tokio::spawn(async move {
            gate.run(move || {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(50));
                running.fetch_sub(1, Ordering::SeqCst);
            })
            .await
            .is_ok()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        admitted += usize::from(task.await.unwrap());
    }
    assert!(
        peak.load(Ordering::SeqCst) <= 2,
        "more hashes ran at once than allowed"
    );
    assert!(admitted < 20, "nothing was refused");
    assert!(admitted >= 5, "the queue was not used");
}

fn quick_header_timeout(settings: &mut gateway::Settings) {
    settings.header_read_timeout = Duration::from_secs(1);
    settings.max_connections = 1;
}

async fn half_sent_requests_are_closed(db: Db) {
    let Some(app) = TestApp::spawn(
        db,
        Options {
            adjust: Some(quick_header_timeout),
            ..Options::mode("sandbox")
        },
    )
    .await
    else {
        return;
    };
    // A client that starts a request and never finishes its headers holds the only slot...
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // ...so a second client waits, and is served once the first has been closed.
    let addr = app.addr;
    let second = tokio::spawn(async move {
        let mut fast = tokio::net::TcpStream::connect(addr).await.unwrap();
        fast.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = Vec::new();
        fast.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).to_string()
    });
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "a half-sent request was held open");
    let answer = tokio::time::timeout(Duration::from_secs(20), second)
        .await
        .expect("the waiting client is served")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Headers over 16 KiB are refused.
    let big = app
        .client
        .get(app.url("/healthz"))
        .header("X-Big", "a".repeat(20 * 1024))
        .send()
        .await;
    assert!(big.map(|r| r.status().as_u16() == 431).unwrap_or(true));
}
on_both_backends!(half_sent_requests_are_closed, half_sent_requests_are_closed);

async fn hostile_text_gets_4xx(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let with_token = |r: reqwest::RequestBuilder| {
        r.header("X-Cleartax-Auth-Token", &token)
            .header("owner_id", owner.to_string())
            .header("gstin", GSTIN_KA)
    };
    // Multibyte text where a GSTIN goes: a validation error, not a 500.
    let mut doc = crate::einvoice::invoice(GSTIN_KA, "36AAECF1151A1ZC", "MB/1", 100.0);
    doc["BuyerDtls"]["Gstin"] = json!("3éAAAAAAAAAAAA");
    let r = app
        .send(
            with_token(app.client.put(app.url("/v2/eInvoice/generate?dryRun=true")))
                .json(&json!([{"transaction": doc}])),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body[0]["document_status"], "DOCUMENT_VALIDATION");
    // An IRN that is not 64 lower-case hex never reaches a URL.
    let r = app
        .send(with_token(
            app.client
                .get(app.url("/v2/eInvoice/get?irn=..%2F..%2Fkeys%2Fpublic")),
        ))
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.error_codes(), ["invalid_irn"]);
    assert_eq!(r.error_fields(), ["irn"]);
    let r = app
        .send(
            with_token(app.client.put(app.url("/v2/eInvoice/cancel")))
                .json(&json!([{"irn": "../x", "CnlRsn": "1"}])),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.error_fields(), ["[0].irn"]);
    // NUL characters: 400 naming the field, on both backends, with and without a token.
    let r = app
        .send(
            app.client
                .post(app.url("/v2/auth/tokens"))
                .header("content-type", "application/json")
                .body(r#"{"email":"a\u0000@example.com","password":"x","label":"t"}"#),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert_eq!(r.error_codes(), ["nul_character"]);
    assert_eq!(r.error_fields(), ["email"]);
    let r = app
        .send(
            with_token(
                app.client
                    .post(app.url("/v2/nic_credentials/store_nic_credentials")),
            )
            .header("content-type", "application/json")
            .body(r#"{"gstin":"29AAFCD5862R1ZR","username":"api\u0000user","password":"x"}"#),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_fields(), ["username"]);
    let r = app
        .send(with_token(app.client.get(app.url(&format!(
            "/v2/nic_credentials?owner_id={owner}&gstin=29%00"
        )))))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_fields(), ["gstin"]);
    // Bidi controls in names and labels.
    let r = app
        .post_owner(
            Some(&token),
            &json!({"kind": "BRANCH", "name": "Pune\u{202E}evil", "parent_id": owner}),
        )
        .await;
    assert_eq!(r.status, 422, "{:?}", r.body);
    assert_eq!(r.error_fields(), ["name"]);
    let user = app
        .send(app.client.post(app.url("/v2/auth/tokens")).json(&json!({"email": "owner@example.com", "password": "a long password 1", "label": "ERP\u{2066}x"})))
        .await;
    assert_eq!(user.status, 422, "{:?}", user.body);
    assert_eq!(user.error_fields(), ["label"]);
}
on_both_backends!(hostile_text_gets_4xx, hostile_text_gets_4xx);

async fn request_ids_are_short_and_plain(db: Db) {
    let Some(Prod {
        app,
        token,
        owner,
        account,
    }) = production_app(db).await
    else {
        return;
    };
    let store = |id: String| {
        app.client
            .post(app.url("/v2/nic_credentials/store_nic_credentials"))
            .header("X-Cleartax-Auth-Token", &token)
            .header("owner_id", owner.to_string())
            .header("x-request-id", id)
            .json(&json!({"gstin": GSTIN_KA, "username": "apiuser01", "password": "Secret@123"}))
    };
    // 300 KB no longer even reaches the router (the head is limited to 16 KiB)...
    let huge = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "r".repeat(300_000))
        .send()
        .await;
    assert!(huge.map(|r| r.status().as_u16() == 431).unwrap_or(true));
    // ...and a long one within it is replaced.
    let long = "r".repeat(1_000);
    let r = app.send(store(long.clone())).await;
    assert_eq!(r.status, 200);
    let echoed = r.headers["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(echoed, long);
    assert!(
        Uuid::parse_str(&echoed).is_ok(),
        "a generated id replaces it"
    );
    let r = app.send(store("erp-42.retry_1".into())).await;
    assert_eq!(r.headers["x-request-id"], "erp-42.retry_1");
    let r = app.send(store("<script>".into())).await;
    assert_ne!(r.headers["x-request-id"], "<script>");
    let events = app
        .state
        .store
        .list_audit_events(
            gateway::ids::AccountId(account),
            gateway::ids::OwnerId(owner),
            Some(GSTIN_KA),
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 3);
    for event in events {
        let id = event.request_id.unwrap_or_default();
        assert!(id.len() <= 64 && !id.contains('<'), "{id}");
    }
}
on_both_backends!(
    request_ids_are_short_and_plain,
    request_ids_are_short_and_plain
);

async fn production_sends_hsts_and_files_are_private(db: Db) {
    let Some(Prod { app, .. }) = production_app(db).await else {
        return;
    };
    let r = app.send(app.client.get(app.url("/healthz"))).await;
    assert!(r.headers["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    if db == Db::Sqlite {
        use std::os::unix::fs::PermissionsExt;
        let file = app.data_dir.path().join("einvoice.db");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
        let wal = app.data_dir.path().join("einvoice.db-wal");
        if wal.exists() {
            assert_eq!(
                std::fs::metadata(&wal).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
    let Some(sandbox) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let r = sandbox
        .send(sandbox.client.get(sandbox.url("/healthz")))
        .await;
    assert!(!r.headers.contains_key("strict-transport-security"));
}
on_both_backends!(
    production_sends_hsts_and_files_are_private,
    production_sends_hsts_and_files_are_private
);

async fn the_login_csrf_token_is_keyed(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("production")).await else {
        return;
    };
    app.new_account("console@example.com").await;
    // An attacker who plants a login cookie can compute an unkeyed token for it; the form
    // refuses that token.
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let cookie = "A".repeat(43);
    let unkeyed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(format!("einvoice-csrf|{cookie}").as_bytes()));
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let body = serde_urlencoded::to_string([
        ("csrf", unkeyed.as_str()),
        ("email", "console@example.com"),
        ("password", "a long password 1"),
    ])
    .unwrap();
    let r = http
        .post(app.url("/console/login"))
        .header("cookie", format!("einvoice_login={cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    assert!(r
        .headers()
        .get("set-cookie")
        .is_none_or(|c| !c.to_str().unwrap().starts_with("einvoice_session=")));
}
on_both_backends!(the_login_csrf_token_is_keyed, the_login_csrf_token_is_keyed);

async fn versions_never_repeat(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let owner_text = owner.to_string();
    let body = json!({"gstin": GSTIN_KA, "username": "apiuser01", "password": "Secret@123"});
    let store = || app.store_nic_credentials(Some(&token), Some(&owner_text), &body);
    assert_eq!(store().await.status, 200);
    assert_eq!(
        app.delete_nic_credentials(Some(&token), owner, GSTIN_KA)
            .await
            .status,
        204
    );
    assert_eq!(store().await.status, 200);
    let record = app
        .state
        .store
        .get_credential(gateway::ids::OwnerId(owner), GSTIN_KA)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.version, 2, "a version was reused after a delete");
    // A verification that ran against version 1 cannot mark version 2.
    let applied = app
        .state
        .store
        .set_verification(
            gateway::ids::OwnerId(owner),
            GSTIN_KA,
            1,
            gateway::storage::VerificationStatus::Verified,
            None,
            gateway::clock::Timestamp(1),
        )
        .await
        .unwrap();
    assert!(!applied);
    let record = app
        .state
        .store
        .get_credential(gateway::ids::OwnerId(owner), GSTIN_KA)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.verify_status.as_str(), "UNVERIFIED");
}
on_both_backends!(versions_never_repeat, versions_never_repeat);

async fn keys_rotate_while_serving(db: Db) {
    let Some(w) = crate::einvoice::world(db, 30_000).await else {
        return;
    };
    // More credentials than one rotation batch, so the rotation spans several transactions.
    let extra = usize::try_from(gateway::vault::ROTATION_BATCH).unwrap() + 100;
    for i in 0..extra {
        let owner = Uuid::new_v4().to_string();
        let gstin = format!("29AAFCD{i:04}R000");
        let body = json!({"gstin": gstin, "username": "bulkuser01", "password": "Bulk@1234"});
        let r = w.app.store_nic_credentials(None, Some(&owner), &body).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }
    let settings = w.app.state.settings.as_ref().clone();
    let load = {
        let app_url = w.app.url("");
        let owners = w.owners.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut failures = Vec::new();
            let mut done = 0;
            for round in 0..60 {
                let seller = round % crate::einvoice::SELLERS.len();
                let (gstin, buyer) = crate::einvoice::SELLERS[seller];
                let doc = crate::einvoice::invoice(gstin, buyer, &format!("ROT/{round}"), 100.0);
                let generate = client
                    .put(format!("{app_url}/v2/eInvoice/generate"))
                    .header("owner_id", owners[seller].to_string())
                    .header("gstin", gstin)
                    .json(&json!([{"transaction": doc}]))
                    .send()
                    .await
                    .unwrap();
                let body: Value = generate.json().await.unwrap();
                if body[0]["document_status"] != "IRN_GENERATED" {
                    failures.push(body.to_string());
                }
                let store = client
                    .post(format!("{app_url}/v2/nic_credentials/store_nic_credentials"))
                    .header("owner_id", owners[seller].to_string())
                    .json(&json!({"gstin": gstin, "username": format!("apiuser{seller}"), "password": "Api@12345"}))
                    .send()
                    .await
                    .unwrap();
                if store.status() != 200 {
                    failures.push(store.text().await.unwrap());
                }
                done += 1;
            }
            (done, failures)
        })
    };
    // A rotation from outside the serving process, as `einvoice keys rotate` does.
    let clock = gateway::clock::SystemClock;
    let (store, mut vault, master) = gateway::app::open_store_and_vault(&settings, &clock)
        .await
        .unwrap();
    let resealed = vault
        .rotate(
            store.as_ref(),
            &master,
            None,
            gateway::clock::Timestamp(gateway::clock::Clock::now_ms(&clock)),
        )
        .await
        .unwrap();
    assert!(resealed >= 10, "{resealed}");
    store.close().await;
    let (done, failures) = load.await.unwrap();
    assert_eq!(done, 60);
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        failures.first()
    );
    // After the rotation the serving gateway reads and writes under the new key.
    let (gstin, buyer) = crate::einvoice::SELLERS[1];
    let after = w
        .one(
            1,
            crate::einvoice::invoice(gstin, buyer, "ROT/after", 100.0),
        )
        .await;
    assert_eq!(after["document_status"], "IRN_GENERATED", "{after}");
    // Every stored password opens in the serving gateway, whichever key sealed it.
    let sandbox_actor = gateway::service::Actor {
        account_id: gateway::state::SANDBOX_ACCOUNT_ID,
        token_id: None,
    };
    for (owner, (gstin, _)) in w.owners.iter().zip(crate::einvoice::SELLERS) {
        gateway::service::credentials::reveal_password(
            &w.app.state,
            sandbox_actor,
            gateway::ids::OwnerId(*owner),
            gstin,
        )
        .await
        .unwrap();
    }
}
on_both_backends!(keys_rotate_while_serving, keys_rotate_while_serving);
