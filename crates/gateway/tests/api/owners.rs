//! Owners: PAN, GSTIN (under a PAN, carrying it) and branches; credentials follow ownership.

use serde_json::json;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;
use crate::store_credentials::{GSTIN_KA, GSTIN_MH, GSTIN_OTHER_PAN};

async fn owner_tree(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("production")).await else {
        return;
    };
    let (_, token) = app.new_account("group@example.com").await;
    let t = Some(token.as_str());
    let pan = app
        .post_owner(
            t,
            &json!({"kind": "PAN", "pan": "AAFCD5862R", "name": "Demo Pvt Ltd"}),
        )
        .await;
    assert_eq!(pan.status, 201, "{:?}", pan.body);
    let pan_id = pan.body["id"].as_str().unwrap().to_string();

    let gstin = app
        .post_owner(
            t,
            &json!({"kind": "GSTIN", "gstin": GSTIN_KA, "parent_id": pan_id}),
        )
        .await;
    assert_eq!(gstin.status, 201, "{:?}", gstin.body);
    let gstin_id = gstin.body["id"].as_str().unwrap().to_string();

    let wrong_pan = app
        .post_owner(
            t,
            &json!({"kind": "GSTIN", "gstin": GSTIN_OTHER_PAN, "parent_id": pan_id}),
        )
        .await;
    assert_eq!(wrong_pan.status, 422);
    assert_eq!(wrong_pan.error_codes(), ["gstin_not_under_pan"]);

    let branch = app
        .post_owner(
            t,
            &json!({"kind": "BRANCH", "name": "Bengaluru depot", "parent_id": gstin_id}),
        )
        .await;
    assert_eq!(branch.status, 201, "{:?}", branch.body);
    assert_eq!(branch.body["gstin"], json!(GSTIN_KA));
    let branch_id = branch.body["id"].as_str().unwrap().to_string();

    let bad = app
        .post_owner(t, &json!({"kind": "PAN", "pan": "AAFXD5862R"}))
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.error_codes(), ["invalid_pan"]);
    let checksum = app
        .post_owner(t, &json!({"kind": "GSTIN", "gstin": "29AAFCD5862R1ZA"}))
        .await;
    assert_eq!(checksum.status, 422);
    assert!(checksum.body["errorDetails"][0]["error_message"]
        .as_str()
        .unwrap()
        .contains("check character should be 'R'"));
    let kind = app.post_owner(t, &json!({"kind": "COMPANY"})).await;
    assert_eq!(kind.status, 422);
    let branch_of_pan = app
        .post_owner(
            t,
            &json!({"kind": "BRANCH", "name": "x", "parent_id": pan_id}),
        )
        .await;
    assert_eq!(branch_of_pan.status, 422);

    let listed = app.list_owners(t).await;
    assert_eq!(listed.body["owners"].as_array().unwrap().len(), 3);

    let creds = |g: &str| json!({"gstin": g, "username": "apiuser01", "password": "Secret@123"});
    // A PAN owner holds credentials for any GSTIN with its PAN.
    assert_eq!(
        app.store_nic_credentials(t, Some(&pan_id), &creds(GSTIN_MH))
            .await
            .status,
        200
    );
    assert_eq!(
        app.store_nic_credentials(t, Some(&pan_id), &creds(GSTIN_OTHER_PAN))
            .await
            .status,
        403
    );
    // A branch holds credentials for its parent's GSTIN only.
    assert_eq!(
        app.store_nic_credentials(t, Some(&branch_id), &creds(GSTIN_KA))
            .await
            .status,
        200
    );
    assert_eq!(
        app.store_nic_credentials(t, Some(&branch_id), &creds(GSTIN_MH))
            .await
            .status,
        403
    );
    assert_eq!(
        app.store_nic_credentials(t, Some(&gstin_id), &creds(GSTIN_KA))
            .await
            .status,
        200
    );
    assert_eq!(app.state.store.count_credentials().await.unwrap(), 3);
}
on_both_backends!(owners_form_a_tree_and_scope_credentials, owner_tree);
