//! The `store_nic_credentials` contract: every status code, override semantics and versions,
//! sandbox behaviour, and that failures write nothing.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

pub const GSTIN_KA: &str = "29AAFCD5862R1ZR";
pub const GSTIN_MH: &str = "27AAFCD5862R1ZV";
pub const GSTIN_OTHER_PAN: &str = "24AACCT6304M1ZB";

fn body(gstin: &str, username: &str, password: &str) -> serde_json::Value {
    json!({"gstin": gstin, "username": username, "password": password})
}

/// A production gateway with one account, a token and a GSTIN owner.
pub struct Prod {
    pub app: TestApp,
    pub token: String,
    pub owner: Uuid,
    pub account: Uuid,
}

pub async fn production_app(db: Db) -> Option<Prod> {
    let app = TestApp::spawn(db, Options::mode("production")).await?;
    let (account, token) = app.new_account("owner@example.com").await;
    let owner = app.new_gstin_owner(Some(&token), GSTIN_KA).await;
    Some(Prod {
        app,
        token,
        owner,
        account,
    })
}

async fn assert_nothing_written(app: &TestApp) {
    assert_eq!(app.state.store.count_credentials().await.unwrap(), 0);
}

async fn success_200(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let r = app
        .store_nic_credentials(
            Some(&token),
            Some(&owner.to_string()),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body, json!({"success": true, "errorDetails": null}));
    assert!(r.headers.get("x-request-id").is_some());
    let einv = app
        .send(
            app.client
                .post(app.url("/einv/v2/nic_credentials/store_nic_credentials"))
                .header("Content-Type", "application/json")
                .header("X-Cleartax-Auth-Token", &token)
                .header("owner_id", owner.to_string())
                .body(body(GSTIN_KA, "apiuser01", "Secret@124").to_string()),
        )
        .await;
    assert_eq!(einv.status, 200, "{:?}", einv.body);
}
on_both_backends!(store_returns_200_with_success_true, success_200);

async fn override_bumps_version(db: Db) {
    let Some(Prod {
        app,
        token,
        owner,
        account,
    }) = production_app(db).await
    else {
        return;
    };
    for (i, (user, pass)) in [
        ("apiuser01", "First@123"),
        ("apiuser02", "Second@456"),
        ("apiuser02", "Third@789"),
    ]
    .iter()
    .enumerate()
    {
        let r = app
            .store_nic_credentials(
                Some(&token),
                Some(&owner.to_string()),
                &body(GSTIN_KA, user, pass),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        let got = app.get_nic_credentials(Some(&token), owner, GSTIN_KA).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body["version"], json!(i as i64 + 1));
        assert_eq!(got.body["username"], json!(user));
        assert_eq!(got.body["password_set"], json!(true));
        assert_eq!(got.body["status"], json!("UNVERIFIED"));
        assert!(!got.body.to_string().contains(pass), "password returned");
    }
    let actor = gateway::service::Actor {
        account_id: gateway::ids::AccountId(account),
        token_id: None,
    };
    let password = gateway::service::credentials::reveal_password(
        &app.state,
        actor,
        gateway::ids::OwnerId(owner),
        GSTIN_KA,
    )
    .await
    .unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(&password), "Third@789");
    assert_eq!(app.state.store.count_credentials().await.unwrap(), 1);
    let events = gateway::service::credentials::history(
        &app.state,
        actor,
        gateway::ids::OwnerId(owner),
        Some(GSTIN_KA),
    )
    .await
    .unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(
        events
            .iter()
            .map(|e| e.version.unwrap())
            .collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert!(events
        .iter()
        .all(|e| e.actor_token_id.is_some() && e.request_id.is_some()));
    assert_eq!(events[2].username.as_deref(), Some("apiuser02"));
}
on_both_backends!(
    store_overrides_and_bumps_the_version,
    override_bumps_version
);

/// ClearTax's current API sends no `owner_id`: the account's GSTIN owner of the body's GSTIN
/// takes the credentials (and a GSTIN the account has no owner for gets one).
async fn missing_owner_header_uses_the_gstin_owner(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let r = app
        .store_nic_credentials(
            Some(&token),
            None,
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let stored = app
        .state
        .store
        .get_credential(gateway::ids::OwnerId(owner), GSTIN_KA)
        .await
        .unwrap();
    assert_eq!(stored.unwrap().username, "apiuser01");
    let owners_before = app.list_owners(Some(&token)).await.body["owners"]
        .as_array()
        .unwrap()
        .len();
    let r = app
        .store_nic_credentials(
            Some(&token),
            None,
            &body(GSTIN_MH, "apiuser02", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let owners = app.list_owners(Some(&token)).await.body["owners"].clone();
    let owners = owners.as_array().unwrap();
    assert_eq!(owners.len(), owners_before + 1);
    assert!(owners
        .iter()
        .any(|o| o["kind"] == "GSTIN" && o["gstin"] == GSTIN_MH));
}
on_both_backends!(
    missing_owner_id_uses_the_gstin_owner,
    missing_owner_header_uses_the_gstin_owner
);

async fn bad_owner_uuid_400(db: Db) {
    let Some(Prod { app, token, .. }) = production_app(db).await else {
        return;
    };
    let r = app
        .store_nic_credentials(
            Some(&token),
            Some("not-a-uuid"),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_codes(), ["invalid_header"]);
    assert_eq!(r.error_fields(), ["owner_id"]);
    assert_nothing_written(&app).await;
}
on_both_backends!(bad_owner_uuid_is_400, bad_owner_uuid_400);

async fn wrong_json_400(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let r = app
        .send(
            app.client
                .post(app.url("/v2/nic_credentials/store_nic_credentials"))
                .header("Content-Type", "application/json")
                .header("X-Cleartax-Auth-Token", &token)
                .header("owner_id", owner.to_string())
                .body("{\"gstin\": \"29AAFCD5862R1ZR\", "),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_codes(), ["invalid_json"]);
    let wrong_type = app
        .store_nic_credentials(
            Some(&token),
            Some(&owner.to_string()),
            &json!({"gstin": 29, "username": "apiuser01", "password": "x"}),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.error_fields(), ["gstin"]);
    assert_nothing_written(&app).await;
}
on_both_backends!(wrong_json_is_400, wrong_json_400);

async fn unknown_field_400(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let r = app
        .store_nic_credentials(
            Some(&token),
            Some(&owner.to_string()),
            &json!({"gstin": GSTIN_KA, "username": "apiuser01", "passwrod": "Secret@123"}),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.error_codes(), ["unknown_field"]);
    assert_eq!(r.error_fields(), ["passwrod"]);
    let missing = app
        .store_nic_credentials(
            Some(&token),
            Some(&owner.to_string()),
            &json!({"gstin": GSTIN_KA, "username": "apiuser01"}),
        )
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.error_codes(), ["missing_field"]);
    assert_eq!(missing.error_fields(), ["password"]);
    assert_nothing_written(&app).await;
}
on_both_backends!(unknown_field_is_400_naming_it, unknown_field_400);

async fn missing_token_401(db: Db) {
    let Some(Prod { app, owner, .. }) = production_app(db).await else {
        return;
    };
    let r = app
        .store_nic_credentials(
            None,
            Some(&owner.to_string()),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.error_codes(), ["missing_token"]);
    assert_eq!(r.error_fields(), ["X-Cleartax-Auth-Token"]);
    let bad = app
        .store_nic_credentials(
            Some("einv_not-a-real-token"),
            Some(&owner.to_string()),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.error_codes(), ["invalid_token"]);
    assert_nothing_written(&app).await;
}
on_both_backends!(missing_or_invalid_token_is_401, missing_token_401);

async fn foreign_gstin_403(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    for gstin in [GSTIN_MH, GSTIN_OTHER_PAN] {
        let r = app
            .store_nic_credentials(
                Some(&token),
                Some(&owner.to_string()),
                &body(gstin, "apiuser01", "Secret@123"),
            )
            .await;
        assert_eq!(r.status, 403, "{gstin}");
        assert_eq!(r.error_codes(), ["gstin_not_owned"]);
        assert_eq!(r.error_fields(), ["gstin"]);
    }
    assert_nothing_written(&app).await;
}
on_both_backends!(gstin_of_another_owner_is_403, foreign_gstin_403);

async fn unknown_owner_404(db: Db) {
    let Some(Prod { app, token, .. }) = production_app(db).await else {
        return;
    };
    let r = app
        .store_nic_credentials(
            Some(&token),
            Some(&Uuid::new_v4().to_string()),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_codes(), ["owner_not_found"]);
    assert_eq!(r.error_fields(), ["owner_id"]);
    assert_nothing_written(&app).await;
}
on_both_backends!(unknown_owner_is_404, unknown_owner_404);

async fn big_body_413(db: Db) {
    let Some(app) = TestApp::spawn(
        db,
        Options {
            body_limit_bytes: Some(2048),
            ..Options::mode("production")
        },
    )
    .await
    else {
        return;
    };
    let (_, token) = app.new_account("owner@example.com").await;
    let owner = app.new_gstin_owner(Some(&token), GSTIN_KA).await;
    let r = app
        .store_nic_credentials(
            Some(&token),
            Some(&owner.to_string()),
            &body(GSTIN_KA, "apiuser01", &"x".repeat(4096)),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(r.error_codes(), ["payload_too_large"]);
    assert_nothing_written(&app).await;
}
on_both_backends!(body_over_the_limit_is_413, big_body_413);

async fn not_json_415(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut request = app
            .client
            .post(app.url("/v2/nic_credentials/store_nic_credentials"))
            .header("X-Cleartax-Auth-Token", &token)
            .header("owner_id", owner.to_string())
            .body(body(GSTIN_KA, "apiuser01", "Secret@123").to_string());
        if let Some(ct) = content_type {
            request = request.header("Content-Type", ct);
        }
        let r = app.send(request).await;
        assert_eq!(r.status, 415, "{content_type:?}");
        assert_eq!(r.error_codes(), ["unsupported_media_type"]);
        assert_eq!(r.error_fields(), ["Content-Type"]);
    }
    assert_nothing_written(&app).await;
}
on_both_backends!(non_json_content_type_is_415, not_json_415);

async fn invalid_values_422(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let owner = owner.to_string();
    let cases: Vec<(serde_json::Value, &str, &str, &str)> = vec![
        (
            body("29AAFCD5862R1ZA", "apiuser01", "Secret@123"),
            "invalid_gstin",
            "gstin",
            "check character should be 'R'",
        ),
        (
            body("41AAFCD5862R1ZR", "apiuser01", "Secret@123"),
            "invalid_gstin",
            "gstin",
            "unknown state code 41",
        ),
        (
            body("29AAFCD5862R000", "apiuser01", "Secret@123"),
            "invalid_gstin",
            "gstin",
            "entity number",
        ),
        (
            body(GSTIN_KA, " apiuser01", "Secret@123"),
            "invalid_username",
            "username",
            "copy-paste",
        ),
        (
            body(GSTIN_KA, "api user", "Secret@123"),
            "invalid_username",
            "username",
            "without spaces",
        ),
        (
            body(GSTIN_KA, "apiuser01", ""),
            "invalid_password",
            "password",
            "empty",
        ),
        (
            body(GSTIN_KA, "apiuser01", "Secret@123 "),
            "invalid_password",
            "password",
            "copy-paste",
        ),
        (
            body(GSTIN_KA, "apiuser01", "Secret\n@123"),
            "invalid_password",
            "password",
            "control character",
        ),
        (
            body(GSTIN_KA, "apiuser0123456", &"S".repeat(60)),
            "credentials_too_long",
            "password",
            "245 bytes",
        ),
    ];
    for (request, code, field, words) in cases {
        let r = app
            .store_nic_credentials(Some(&token), Some(&owner), &request)
            .await;
        assert_eq!(r.status, 422, "{request}");
        assert_eq!(r.error_codes(), [code], "{request}");
        assert_eq!(r.error_fields(), [field], "{request}");
        let message = r.body["errorDetails"][0]["error_message"].as_str().unwrap();
        assert!(message.contains(words), "{message:?} lacks {words:?}");
    }
    let all = app
        .store_nic_credentials(Some(&token), Some(&owner), &body("bad", "x ", " y"))
        .await;
    assert_eq!(all.status, 422);
    assert_eq!(
        all.error_fields(),
        ["gstin", "username", "password"],
        "every problem at once"
    );
    assert_nothing_written(&app).await;
}
on_both_backends!(invalid_values_are_422_with_reasons, invalid_values_422);

async fn repeated_bad_tokens_429(db: Db) {
    let Some(Prod {
        app, token, owner, ..
    }) = production_app(db).await
    else {
        return;
    };
    let owner = owner.to_string();
    for _ in 0..20 {
        let r = app
            .store_nic_credentials(
                Some("einv_guess"),
                Some(&owner),
                &body(GSTIN_KA, "apiuser01", "Secret@123"),
            )
            .await;
        assert_eq!(r.status, 401);
    }
    let r = app
        .store_nic_credentials(
            Some("einv_guess"),
            Some(&owner),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_codes(), ["too_many_attempts"]);
    let retry_after: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_nothing_written(&app).await;
    // A valid token from the same address always passes: only failures are throttled.
    let valid = app
        .store_nic_credentials(
            Some(&token),
            Some(&owner),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(valid.status, 200, "{:?}", valid.body);
}
on_both_backends!(repeated_invalid_tokens_are_429, repeated_bad_tokens_429);

async fn sandbox_needs_no_token(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let owner = Uuid::new_v4();
    let r = app
        .store_nic_credentials(
            None,
            Some(&owner.to_string()),
            &body("29AAFCD5862R000", "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let got = app
        .get_nic_credentials(None, owner, "29AAFCD5862R000")
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["version"], json!(1));
    let owners = app.list_owners(None).await;
    assert_eq!(owners.body["owners"][0]["id"], json!(owner.to_string()));
    assert_eq!(owners.body["owners"][0]["gstin"], json!("29AAFCD5862R000"));
    // The created owner now has its GSTIN: another GSTIN is refused.
    let other = app
        .store_nic_credentials(
            None,
            Some(&owner.to_string()),
            &body("24AAFCD5862R005", "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(other.status, 403);
    // An owner id of a real account is not taken over by the sandbox account.
    let (_, token) = app.new_account("real@example.com").await;
    let real_owner = app.new_gstin_owner(Some(&token), "02AMBPG7773M002").await;
    let hijack = app
        .store_nic_credentials(
            None,
            Some(&real_owner.to_string()),
            &body("02AMBPG7773M002", "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(hijack.status, 404);
    assert_eq!(app.state.store.count_credentials().await.unwrap(), 1);
}
on_both_backends!(
    sandbox_mode_needs_no_token_and_creates_owners,
    sandbox_needs_no_token
);

async fn delete_is_audited(db: Db) {
    let Some(Prod {
        app,
        token,
        owner,
        account,
    }) = production_app(db).await
    else {
        return;
    };
    let r = app
        .store_nic_credentials(
            Some(&token),
            Some(&owner.to_string()),
            &body(GSTIN_KA, "apiuser01", "Secret@123"),
        )
        .await;
    assert_eq!(r.status, 200);
    let deleted = app
        .delete_nic_credentials(Some(&token), owner, GSTIN_KA)
        .await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        app.get_nic_credentials(Some(&token), owner, GSTIN_KA)
            .await
            .status,
        404
    );
    assert_eq!(
        app.delete_nic_credentials(Some(&token), owner, GSTIN_KA)
            .await
            .status,
        404
    );
    let actor = gateway::service::Actor {
        account_id: gateway::ids::AccountId(account),
        token_id: None,
    };
    let events = gateway::service::credentials::history(
        &app.state,
        actor,
        gateway::ids::OwnerId(owner),
        Some(GSTIN_KA),
    )
    .await
    .unwrap();
    assert_eq!(
        events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["nic_credentials.store", "nic_credentials.delete"]
    );
    let bad_query = app
        .send(
            app.client
                .get(app.url("/v2/nic_credentials?owner_id=nope&gstin=x"))
                .header("X-Cleartax-Auth-Token", &token),
        )
        .await;
    assert_eq!(bad_query.status, 400);
}
on_both_backends!(delete_removes_credentials_and_is_audited, delete_is_audited);
