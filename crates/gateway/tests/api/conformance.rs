//! The storage conformance story, run against SQLite and PostgreSQL alike, plus the vault's
//! key rotation and wrong-key behaviour over real databases.

use gateway::clock::Timestamp;
use std::sync::Arc;

use gateway::clock::{Clock, SystemClock};
use gateway::service::credentials::{self, StoreRequest};
use gateway::service::Actor;
use gateway::storage::{
    self, AccountRecord, AuditEvent, OwnerKind, OwnerRecord, Store, TokenRecord, UserRecord,
};
use gateway::vault::{CredentialSlot, MasterKey, Vault, VaultError};
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::helpers::{database_url, settings_for, Db, Options, TestApp};
use crate::on_both_backends;
use crate::store_credentials::GSTIN_KA;

async fn open_store(db: Db, dir: &tempfile::TempDir) -> Option<(Arc<dyn Store>, String)> {
    let url = database_url(db, dir).await?;
    let store = storage::open(&url).await.unwrap();
    store.migrate().await.unwrap();
    store.migrate().await.unwrap();
    Some((store, url))
}

fn audit(account_id: Uuid, owner_id: Uuid, action: &str) -> AuditEvent {
    AuditEvent {
        account_id: gateway::ids::AccountId(account_id),
        actor_token_id: None,
        action: gateway::storage::AuditAction::parse(action).unwrap(),
        owner_id: Some(gateway::ids::OwnerId(owner_id)),
        gstin: Some(gst_core::Gstin::parse(GSTIN_KA, gst_core::Strictness::Sandbox).unwrap()),
        username: Some("apiuser01".into()),
        version: None,
        request_id: Some("req-1".into()),
        at: gateway::clock::Timestamp(1),
    }
}

async fn store_story(db: Db) {
    let dir = tempfile::tempdir().unwrap();
    let Some((store, _)) = open_store(db, &dir).await else {
        return;
    };
    let account = AccountRecord {
        id: gateway::ids::AccountId(Uuid::new_v4()),
        name: "acme".into(),
        created_at: gateway::clock::Timestamp(1),
    };
    store.ensure_account(&account).await.unwrap();
    store.ensure_account(&account).await.unwrap();

    let user = UserRecord {
        id: gateway::ids::UserId(Uuid::new_v4()),
        account_id: account.id,
        email: "a@example.com".into(),
        password_hash: "$argon2id$x".into(),
        created_at: gateway::clock::Timestamp(1),
    };
    store.insert_user(&user).await.unwrap();
    let dup = UserRecord {
        id: gateway::ids::UserId(Uuid::new_v4()),
        ..user.clone()
    };
    assert!(matches!(
        store.insert_user(&dup).await,
        Err(storage::StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .find_user_by_email("a@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        user.id
    );
    assert!(store
        .find_user_by_email("b@example.com")
        .await
        .unwrap()
        .is_none());

    let token = TokenRecord {
        id: Uuid::new_v4(),
        account_id: account.id,
        user_id: Some(user.id),
        label: "t".into(),
        token_hash: vec![1; 32],
        created_at: gateway::clock::Timestamp(2),
        last_used_at: None,
        revoked_at: None,
    };
    store.insert_token(&token).await.unwrap();
    store
        .touch_token(token.id, gateway::clock::Timestamp(5))
        .await
        .unwrap();
    assert_eq!(
        store
            .find_token_by_hash(&[1; 32])
            .await
            .unwrap()
            .unwrap()
            .last_used_at,
        Some(Timestamp(5))
    );
    assert!(store.find_token_by_hash(&[2; 32]).await.unwrap().is_none());
    assert!(
        !store
            .revoke_token(
                gateway::ids::AccountId(Uuid::new_v4()),
                token.id,
                gateway::clock::Timestamp(6)
            )
            .await
            .unwrap(),
        "revoked through another account"
    );
    assert!(store
        .revoke_token(account.id, token.id, gateway::clock::Timestamp(6))
        .await
        .unwrap());
    assert!(!store
        .revoke_token(account.id, token.id, gateway::clock::Timestamp(7))
        .await
        .unwrap());
    assert_eq!(
        store.list_tokens(account.id).await.unwrap()[0].revoked_at,
        Some(Timestamp(6))
    );

    let owner = OwnerRecord {
        id: gateway::ids::OwnerId(Uuid::new_v4()),
        account_id: account.id,
        name: "ka".into(),
        identity: gateway::storage::OwnerIdentity::Gstin {
            pan: Some("AAFCD5862R".into()),
            gstin: gst_core::Gstin::parse(GSTIN_KA, gst_core::Strictness::Sandbox).unwrap(),
            parent_id: None,
        },
        created_at: gateway::clock::Timestamp(3),
    };
    assert!(store.insert_owner(&owner).await.unwrap());
    assert!(!store
        .insert_owner(&OwnerRecord {
            account_id: gateway::ids::AccountId(Uuid::new_v4()),
            ..owner.clone()
        })
        .await
        .unwrap());
    assert!(
        store
            .get_owner(gateway::ids::AccountId(Uuid::new_v4()), owner.id)
            .await
            .unwrap()
            .is_none(),
        "owner visible to another account"
    );
    assert_eq!(
        store
            .get_owner(account.id, owner.id)
            .await
            .unwrap()
            .unwrap()
            .kind(),
        OwnerKind::Gstin
    );
    assert_eq!(store.list_owners(account.id).await.unwrap().len(), 1);

    assert!(store
        .insert_vault_key(&gateway::storage::VaultKeyRecord {
            version: 1,
            wrapped_key: vec![9; 60],
            created_at: gateway::clock::Timestamp(1)
        })
        .await
        .unwrap());
    assert!(!store
        .insert_vault_key(&gateway::storage::VaultKeyRecord {
            version: 1,
            wrapped_key: vec![8; 60],
            created_at: gateway::clock::Timestamp(1)
        })
        .await
        .unwrap());
    assert_eq!(
        store.list_vault_keys().await.unwrap()[0].wrapped_key,
        vec![9; 60]
    );

    for expected in 1..=3 {
        let seal = |version: i64| Ok((1, vec![version as u8; 40]));
        let put = storage::CredentialPut {
            owner_id: owner.id,
            gstin: GSTIN_KA,
            username: "apiuser01",
            seal: &seal,
            updated_at: gateway::clock::Timestamp(10 + expected),
            audit: audit(account.id.into(), owner.id.into(), "nic_credentials.store"),
        };
        assert_eq!(store.put_credential(put).await.unwrap(), expected);
    }
    let record = store
        .get_credential(owner.id, GSTIN_KA)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            record.version,
            record.updated_at,
            record.password_ciphertext.clone()
        ),
        (3, Timestamp(13), vec![3; 40])
    );
    // A failing seal writes nothing, audit included.
    let failing = |_: i64| Err(storage::StoreError::Vault("refused".into()));
    let put = storage::CredentialPut {
        owner_id: owner.id,
        gstin: GSTIN_KA,
        username: "other",
        seal: &failing,
        updated_at: gateway::clock::Timestamp(99),
        audit: audit(account.id.into(), owner.id.into(), "nic_credentials.store"),
    };
    assert!(store.put_credential(put).await.is_err());
    assert_eq!(
        store
            .get_credential(owner.id, GSTIN_KA)
            .await
            .unwrap()
            .unwrap()
            .version,
        3
    );
    let events = store
        .list_audit_events(account.id, owner.id, Some(GSTIN_KA))
        .await
        .unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(
        events.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![Some(1), Some(2), Some(3)]
    );
    assert!(store
        .list_audit_events(gateway::ids::AccountId(Uuid::new_v4()), owner.id, None)
        .await
        .unwrap()
        .is_empty());

    assert!(store
        .delete_credential(
            owner.id,
            GSTIN_KA,
            &audit(account.id.into(), owner.id.into(), "nic_credentials.delete")
        )
        .await
        .unwrap());
    assert!(!store
        .delete_credential(
            owner.id,
            GSTIN_KA,
            &audit(account.id.into(), owner.id.into(), "nic_credentials.delete")
        )
        .await
        .unwrap());
    assert_eq!(store.count_credentials().await.unwrap(), 0);
    assert_eq!(
        store
            .list_audit_events(account.id, owner.id, None)
            .await
            .unwrap()
            .len(),
        4
    );
    store.ping().await.unwrap();
    store.close().await;
}
on_both_backends!(store_conformance_story, store_story);

async fn concurrent_stores(db: Db) {
    let Some(app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let owner = Uuid::new_v4().to_string();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = app.client.clone();
        let url = app.url("/v2/nic_credentials/store_nic_credentials");
        let owner = owner.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .header("Content-Type", "application/json")
                .header("owner_id", owner)
                .body(serde_json::json!({"gstin": "29AAFCD5862R000", "username": format!("apiuser{i:02}"), "password": format!("Secret@{i}")}).to_string())
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), 200);
    }
    let owner: Uuid = owner.parse().unwrap();
    let record = app
        .state
        .store
        .get_credential(gateway::ids::OwnerId(owner), "29AAFCD5862R000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.version, 40, "every store got its own version");
    let events = app
        .state
        .store
        .list_audit_events(
            gateway::state::SANDBOX_ACCOUNT_ID,
            gateway::ids::OwnerId(owner),
            None,
        )
        .await
        .unwrap();
    let mut versions: Vec<i64> = events.iter().filter_map(|e| e.version).collect();
    versions.sort();
    assert_eq!(versions, (1..=40).collect::<Vec<_>>());
    // The last writer's password is the one that decrypts, under the last version's slot.
    let actor = Actor {
        account_id: gateway::state::SANDBOX_ACCOUNT_ID,
        token_id: None,
    };
    let password = credentials::reveal_password(
        &app.state,
        actor,
        gateway::ids::OwnerId(owner),
        "29AAFCD5862R000",
    )
    .await
    .unwrap();
    assert_eq!(
        password.expose_secret(),
        &format!("Secret@{}", &record.username[7..].parse::<u32>().unwrap())
    );
}
on_both_backends!(concurrent_stores_get_distinct_versions, concurrent_stores);

async fn rotation(db: Db) {
    let Some(mut app) = TestApp::spawn(db, Options::mode("sandbox")).await else {
        return;
    };
    let actor = Actor {
        account_id: gateway::state::SANDBOX_ACCOUNT_ID,
        token_id: None,
    };
    // More than two of the rotation's 1,000-row pages.
    const STORED: u64 = 2_100;
    let mut owners = Vec::new();
    for i in 0..STORED {
        let owner = Uuid::new_v4();
        let request = StoreRequest {
            gstin: "29AAFCD5862R000".into(),
            username: format!("apiuser{i:02}"),
            password: SecretString::from(format!("Pass@{i}")),
        };
        // Sandbox, no token: the owner is created on first use.
        credentials::store(
            &app.state,
            actor,
            gateway::ids::OwnerId(owner),
            request,
            None,
        )
        .await
        .unwrap();
        owners.push(owner);
    }
    app.stop().await;

    let settings = settings_for(
        "sandbox",
        app.data_dir.path(),
        &app.database_url,
        &app.master_key,
        None,
    );
    let clock = SystemClock;
    let (store, mut vault, master) = gateway::app::open_store_and_vault(&settings, &clock)
        .await
        .unwrap();
    assert_eq!(vault.current_version(), 1);
    let new_master = MasterKey::generate();
    let count = vault
        .rotate(
            store.as_ref(),
            &master,
            Some(&new_master),
            gateway::clock::Timestamp(clock.now_ms()),
        )
        .await
        .unwrap();
    assert_eq!(count, STORED);
    assert_eq!(vault.current_version(), 2);
    let count = vault
        .rotate(
            store.as_ref(),
            &new_master,
            None,
            gateway::clock::Timestamp(clock.now_ms()),
        )
        .await
        .unwrap();
    assert_eq!(count, STORED);
    for (i, owner) in owners.iter().enumerate() {
        let record = store
            .get_credential(gateway::ids::OwnerId(*owner), "29AAFCD5862R000")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.key_version, 3);
        assert_eq!(
            Vault::key_version_of(&record.password_ciphertext).unwrap(),
            3
        );
        let slot = CredentialSlot {
            owner_id: gateway::ids::OwnerId(*owner),
            gstin: "29AAFCD5862R000",
            version: record.version,
        };
        assert_eq!(
            vault
                .open_secret(&record.password_ciphertext, slot)
                .unwrap()
                .expose_secret(),
            &format!("Pass@{i}")
        );
    }
    store.close().await;

    // The old master key no longer opens the vault; the new one does, and nothing changed.
    let old = gateway::app::open_store_and_vault(&settings, &clock).await;
    assert!(matches!(
        old,
        Err(gateway::app::StartError::Vault(VaultError::WrongMasterKey(
            _
        )))
    ));
    let new_key = new_master.to_base64().expose_secret().to_string();
    let settings = settings_for(
        "sandbox",
        app.data_dir.path(),
        &app.database_url,
        &new_key,
        None,
    );
    let (store, vault, _) = gateway::app::open_store_and_vault(&settings, &clock)
        .await
        .unwrap();
    let record = store
        .get_credential(gateway::ids::OwnerId(owners[0]), "29AAFCD5862R000")
        .await
        .unwrap()
        .unwrap();
    let slot = CredentialSlot {
        owner_id: gateway::ids::OwnerId(owners[0]),
        gstin: "29AAFCD5862R000",
        version: record.version,
    };
    assert_eq!(
        vault
            .open_secret(&record.password_ciphertext, slot)
            .unwrap()
            .expose_secret(),
        "Pass@0"
    );
    store.close().await;
}
on_both_backends!(key_rotation_keeps_every_credential_readable, rotation);

async fn wrong_key(db: Db) {
    let Some(mut app) = TestApp::spawn(db, Options::mode("production")).await else {
        return;
    };
    let (_, token) = app.new_account("a@example.com").await;
    let owner = app.new_gstin_owner(Some(&token), GSTIN_KA).await;
    let r = app
        .store_nic_credentials(Some(&token), Some(&owner.to_string()), &serde_json::json!({"gstin": GSTIN_KA, "username": "apiuser01", "password": "Secret@123"}))
        .await;
    assert_eq!(r.status, 200);
    app.stop().await;
    let before = app.state.store.list_vault_keys().await;
    assert!(before.is_err(), "store closed");

    let wrong = crate::helpers::random_master_key();
    let settings = settings_for(
        "production",
        app.data_dir.path(),
        &app.database_url,
        &wrong,
        None,
    );
    let err = gateway::Application::build(settings)
        .await
        .err()
        .expect("started with a wrong key");
    let message = err.to_string();
    assert!(
        message.contains("does not open vault key version 1"),
        "{message}"
    );
    assert!(!message.contains(&wrong));

    // Nothing changed: the right key still opens everything.
    let settings = settings_for(
        "production",
        app.data_dir.path(),
        &app.database_url,
        &app.master_key,
        None,
    );
    let (store, vault, _) = gateway::app::open_store_and_vault(&settings, &SystemClock)
        .await
        .unwrap();
    assert_eq!(store.list_vault_keys().await.unwrap().len(), 1);
    let record = store
        .get_credential(gateway::ids::OwnerId(owner), GSTIN_KA)
        .await
        .unwrap()
        .unwrap();
    let slot = CredentialSlot {
        owner_id: gateway::ids::OwnerId(owner),
        gstin: GSTIN_KA,
        version: 1,
    };
    assert_eq!(
        vault
            .open_secret(&record.password_ciphertext, slot)
            .unwrap()
            .expose_secret(),
        "Secret@123"
    );
    // A ciphertext copied to another row does not open there.
    let other = CredentialSlot {
        owner_id: gateway::ids::OwnerId(Uuid::new_v4()),
        gstin: GSTIN_KA,
        version: 1,
    };
    assert!(vault
        .open_secret(&record.password_ciphertext, other)
        .is_err());
    store.close().await;
}
on_both_backends!(
    wrong_master_key_fails_to_start_and_changes_nothing,
    wrong_key
);
