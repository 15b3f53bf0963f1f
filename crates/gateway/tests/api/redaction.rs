//! `Debug` of every type that holds a secret is redacted: the secret's bytes (as text, hex or
//! base64) never appear in what `{:?}` prints.

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use gateway::storage::{
    CredentialRecord, TokenRecord, UserRecord, VaultKeyRecord, WebSessionRecord, WebhookRecord,
};

const CANARY: &str = "Canary-Secret-7f3a9c";
const CANARY_BYTES: [u8; 32] = *b"0123456789abcdefCANARYBYTES!!!!!";

fn forms_of(bytes: &[u8]) -> Vec<String> {
    vec![
        String::from_utf8_lossy(bytes).into_owned(),
        bytes.iter().map(|b| format!("{b:02x}")).collect(),
        format!("{bytes:?}"),
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ]
}

fn assert_redacted(what: &str, printed: &str, secrets: &[String]) {
    for secret in secrets {
        assert!(
            !printed.contains(secret.as_str()),
            "{what}'s Debug shows a secret: {printed}"
        );
    }
}

#[test]
fn debug_of_every_secret_holding_type_is_redacted() {
    let text = vec![CANARY.to_string()];
    let bytes = forms_of(&CANARY_BYTES);
    let id = Uuid::nil();

    assert_redacted(
        "SecretString",
        &format!("{:?}", SecretString::from(CANARY.to_string())),
        &text,
    );
    let user = UserRecord {
        id: gateway::ids::UserId(id),
        account_id: gateway::ids::AccountId(id),
        email: "a@b.test".into(),
        password_hash: CANARY.into(),
        created_at: gateway::clock::Timestamp(0),
    };
    assert_redacted("UserRecord", &format!("{user:?}"), &text);
    let token = TokenRecord {
        id,
        account_id: gateway::ids::AccountId(id),
        user_id: None,
        label: "label".into(),
        token_hash: CANARY_BYTES.to_vec(),
        created_at: gateway::clock::Timestamp(0),
        last_used_at: None,
        revoked_at: None,
    };
    assert_redacted("TokenRecord", &format!("{token:?}"), &bytes);
    let key = VaultKeyRecord {
        version: 1,
        wrapped_key: CANARY_BYTES.to_vec(),
        created_at: gateway::clock::Timestamp(0),
    };
    assert_redacted("VaultKeyRecord", &format!("{key:?}"), &bytes);
    let credential = CredentialRecord {
        owner_id: gateway::ids::OwnerId(id),
        gstin: gst_core::Gstin::parse("29AAFCD5862R000", gst_core::Strictness::Sandbox).unwrap(),
        username: "user01".into(),
        key_version: 1,
        password_ciphertext: CANARY_BYTES.to_vec(),
        version: 1,
        updated_at: gateway::clock::Timestamp(0),
        verify_status: gateway::storage::VerificationStatus::Verified,
        last_verified_at: None,
        last_error: None,
    };
    assert_redacted("CredentialRecord", &format!("{credential:?}"), &bytes);
    let session = WebSessionRecord {
        id,
        account_id: gateway::ids::AccountId(id),
        user_id: gateway::ids::UserId(id),
        email: "a@b.test".into(),
        secret_hash: CANARY_BYTES.to_vec(),
        created_at: gateway::clock::Timestamp(0),
        last_seen_at: gateway::clock::Timestamp(0),
        expires_at: gateway::clock::Timestamp(0),
        ended_at: None,
    };
    assert_redacted("WebSessionRecord", &format!("{session:?}"), &bytes);
    let webhook = WebhookRecord {
        id,
        account_id: gateway::ids::AccountId(id),
        url: "https://hooks.example.test/x".into(),
        events: "irp.unavailable".into(),
        secret_sealed: CANARY_BYTES.to_vec(),
        created_at: gateway::clock::Timestamp(0),
        deleted_at: None,
    };
    assert_redacted("WebhookRecord", &format!("{webhook:?}"), &bytes);

    let master = gateway::vault::MasterKey::generate();
    let master_text = master.to_base64().expose_secret().to_string();
    assert_redacted(
        "MasterKey",
        &format!("{master:?}"),
        std::slice::from_ref(&master_text),
    );

    let aes = irp_protocol::crypto::AesKey::from_slice(&CANARY_BYTES).unwrap();
    assert_redacted("AesKey", &format!("{aes:?}"), &bytes);
    let irp_session = irp_client::Session {
        gstin: "29AAFCD5862R000".into(),
        username: "user01".into(),
        auth_token: SecretString::from(CANARY.to_string()),
        sek: aes.clone(),
        token_expiry: "2026-11-22 10:00:00".into(),
        irp: None,
    };
    assert_redacted(
        "irp_client::Session",
        &format!("{irp_session:?}"),
        &[text.clone(), bytes.clone()].concat(),
    );
    let payload = irp_protocol::crypto::AuthPayload {
        user_name: "user01".into(),
        password: SecretString::from(CANARY.to_string()),
        app_key: SecretString::from(base64::engine::general_purpose::STANDARD.encode(CANARY_BYTES)),
        force_refresh: false,
    };
    assert_redacted(
        "AuthPayload",
        &format!("{payload:?}"),
        &[text.clone(), bytes.clone()].concat(),
    );

    let irp = gateway::irp::IrpSettings {
        endpoints: gateway::irp::IrpEndpoint::only("http://127.0.0.1:1"),
        public_key_file: "k.pem".into(),
        signing_certificate_file: None,
        client_id: "client".into(),
        client_secret: SecretString::from(CANARY.to_string()),
        breaker_cooldown_ms: 1,
    };
    assert_redacted("IrpSettings", &format!("{irp:?}"), &text);
    let mut settings = gateway::Settings::resolve(gateway::SettingsLayer {
        master_key: Some(SecretString::from(master_text.clone())),
        ..Default::default()
    })
    .unwrap();
    settings.irp = Some(irp);
    assert_redacted(
        "Settings",
        &format!("{settings:?}"),
        &[text, vec![master_text]].concat(),
    );
}
