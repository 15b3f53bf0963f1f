//! Accounts are isolated: another account's owner is indistinguishable from a missing one,
//! and nothing is written.

use serde_json::json;
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;
use crate::store_credentials::{GSTIN_KA, GSTIN_MH};

async fn account_b_cannot_touch_account_a(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("production")).await else {
        return;
    };
    let (_, token_a) = app.new_account("a@example.com").await;
    let (_, token_b) = app.new_account("b@example.com").await;
    let owner_a = app.new_gstin_owner(Some(&token_a), GSTIN_KA).await;
    let stored = app
        .store_nic_credentials(
            Some(&token_a),
            Some(&owner_a.to_string()),
            &json!({"gstin": GSTIN_KA, "username": "apiuser01", "password": "A-secret@1"}),
        )
        .await;
    assert_eq!(stored.status, 200);

    let missing = Uuid::new_v4();
    let body = json!({"gstin": GSTIN_KA, "username": "intruder1", "password": "B-secret@1"});
    let to_a = app
        .store_nic_credentials(Some(&token_b), Some(&owner_a.to_string()), &body)
        .await;
    let to_missing = app
        .store_nic_credentials(Some(&token_b), Some(&missing.to_string()), &body)
        .await;
    assert_eq!(to_a.status, 404);
    assert_eq!(
        to_a.body, to_missing.body,
        "B can tell A's owner from a missing one"
    );

    let read_a = app
        .get_nic_credentials(Some(&token_b), owner_a, GSTIN_KA)
        .await;
    let read_missing = app
        .get_nic_credentials(Some(&token_b), missing, GSTIN_KA)
        .await;
    assert_eq!(read_a.status, 404);
    assert_eq!(read_a.body, read_missing.body);

    let delete_a = app
        .delete_nic_credentials(Some(&token_b), owner_a, GSTIN_KA)
        .await;
    assert_eq!(delete_a.status, 404);
    assert_eq!(
        delete_a.body,
        app.delete_nic_credentials(Some(&token_b), missing, GSTIN_KA)
            .await
            .body
    );

    // B's owner list and a branch under A's owner reveal nothing either.
    let owners_b = app.list_owners(Some(&token_b)).await;
    assert_eq!(owners_b.body["owners"], json!([]));
    let branch = app
        .post_owner(
            Some(&token_b),
            &json!({"kind": "BRANCH", "name": "x", "parent_id": owner_a}),
        )
        .await;
    let branch_missing = app
        .post_owner(
            Some(&token_b),
            &json!({"kind": "BRANCH", "name": "x", "parent_id": missing}),
        )
        .await;
    assert_eq!(branch.status, 404);
    assert_eq!(branch.body, branch_missing.body);

    // A's credentials are untouched: version 1, A's username.
    let mine = app
        .get_nic_credentials(Some(&token_a), owner_a, GSTIN_KA)
        .await;
    assert_eq!(mine.body["version"], json!(1));
    assert_eq!(mine.body["username"], json!("apiuser01"));
    assert_eq!(app.state.store.count_credentials().await.unwrap(), 1);
    // And B can use its own owner normally.
    let owner_b = app.new_gstin_owner(Some(&token_b), GSTIN_MH).await;
    let ok = app
        .store_nic_credentials(
            Some(&token_b),
            Some(&owner_b.to_string()),
            &json!({"gstin": GSTIN_MH, "username": "apiuser02", "password": "B-secret@1"}),
        )
        .await;
    assert_eq!(ok.status, 200);
}
on_both_backends!(
    another_accounts_owner_looks_missing,
    account_b_cannot_touch_account_a
);
