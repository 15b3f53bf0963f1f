//! Auth tokens: login, shown once, listed without values, last use, revocation, throttling.

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

async fn token_lifecycle(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("production")).await else {
        return;
    };
    let password = secrecy::SecretString::from("correct horse battery".to_string());
    gateway::service::auth::create_user(&app.state, "Ops@Example.com", &password, None)
        .await
        .unwrap();

    let created = app
        .post_token("ops@example.com", "correct horse battery", "SAP production")
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let token = created.body["token"].as_str().unwrap().to_string();
    let id = created.body["id"].as_str().unwrap().to_string();
    assert!(token.starts_with("einv_"));

    let listed = app.list_tokens(Some(&token)).await;
    assert_eq!(listed.status, 200);
    let text = listed.body.to_string();
    assert!(!text.contains(&token), "token value listed");
    assert!(!text.contains(&token[5..]), "token value listed");
    let entry = &listed.body["tokens"][0];
    assert_eq!(entry["label"], "SAP production");
    assert!(entry["last_used_at"].is_string(), "last use recorded");
    assert!(entry["revoked_at"].is_null());
    // The stored form is a hash, not the value.
    let stored = app
        .state
        .store
        .list_tokens(
            app.state
                .store
                .find_user_by_email("ops@example.com")
                .await
                .unwrap()
                .unwrap()
                .account_id,
        )
        .await
        .unwrap();
    assert_eq!(
        stored[0].token_hash,
        gateway::accounts::hash_api_token(&token)
    );

    let revoked = app.revoke_token(&token, &id).await;
    assert_eq!(revoked.status, 204);
    let after = app.list_tokens(Some(&token)).await;
    assert_eq!(after.status, 401, "a revoked token still works");
    assert_eq!(after.error_codes(), ["invalid_token"]);
}
on_both_backends!(tokens_are_shown_once_listed_and_revocable, token_lifecycle);

async fn login_failures(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let password = secrecy::SecretString::from("correct horse battery".to_string());
    gateway::service::auth::create_user(&app.state, "ops@example.com", &password, None)
        .await
        .unwrap();
    let unknown = app
        .post_token("nobody@example.com", "correct horse battery", "x")
        .await;
    assert_eq!(unknown.status, 401);
    for _ in 0..5 {
        let wrong = app
            .post_token("ops@example.com", "wrong password", "x")
            .await;
        assert_eq!(wrong.status, 401);
        assert_eq!(wrong.error_codes(), ["invalid_login"]);
        assert_eq!(
            wrong.body, unknown.body,
            "wrong password and unknown email look alike"
        );
    }
    let throttled = app
        .post_token("ops@example.com", "correct horse battery", "x")
        .await;
    assert_eq!(throttled.status, 429);
    assert!(throttled.headers.get("retry-after").is_some());
    // Token endpoints need a token even in sandbox mode.
    assert_eq!(app.list_tokens(None).await.status, 401);
    let bad_label = app.post_token("other@example.com", "x", "").await;
    assert_eq!(bad_label.status, 422);
}
on_both_backends!(failed_logins_are_uniform_and_throttled, login_failures);

async fn revoke_checks(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("production")).await else {
        return;
    };
    let (_, token_a) = app.new_account("a@example.com").await;
    let (_, token_b) = app.new_account("b@example.com").await;
    let listed = app.list_tokens(Some(&token_a)).await;
    let id_a = listed.body["tokens"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.revoke_token(&token_b, &id_a).await.status,
        404,
        "B revoked A's token"
    );
    assert_eq!(app.revoke_token(&token_b, "not-a-uuid").await.status, 400);
    assert_eq!(app.list_tokens(Some(&token_a)).await.status, 200);
}
on_both_backends!(tokens_are_revoked_only_by_their_account, revoke_checks);
