//! NIC API credentials per owner and GSTIN: validation, storing (override with a version bump
//! and an audit event, atomically), reading metadata (never the password) and deletion.

use gst_core::Gstin;
use secrecy::{ExposeSecret, SecretString};

use super::owners::{find_owner, owns_gstin, remember_owner};
use super::{Actor, FieldError, ServiceError};
use crate::clock::Timestamp;
use crate::ids::OwnerId;
use crate::state::AppState;
use crate::storage::{
    AuditAction, AuditEvent, CredentialPut, OwnerIdentity, OwnerRecord, StoreError,
    VerificationStatus,
};
use crate::vault::CredentialSlot;

/// The largest inner auth JSON whose base64 still fits one RSA-2048 PKCS#1 v1.5 block:
/// 245 bytes of plaintext hold 244 base64 characters, which encode 183 bytes.
pub const MAX_AUTH_JSON_BYTES: usize = 183;

/// A store request, as the API receives it.
pub struct StoreRequest {
    /// The GSTIN.
    pub gstin: String,
    /// The NIC API username.
    pub username: String,
    /// The NIC API password.
    pub password: SecretString,
}

/// Stored credentials as shown to callers: never the password.
#[derive(Debug, Clone)]
pub struct CredentialSummary {
    /// The GSTIN.
    pub gstin: String,
    /// The NIC API username.
    pub username: String,
    /// Always true for stored credentials.
    pub password_set: bool,
    /// Bumped on every store.
    pub version: i64,
    /// Last store time (Unix ms).
    pub updated_at: Timestamp,
    /// Verification status at the IRP.
    pub status: VerificationStatus,
    /// When the IRP last checked them (Unix ms).
    pub last_verified_at: Option<Timestamp>,
    /// What the last check said, in plain words.
    pub last_error: Option<String>,
}

/// The length of NIC's v1.04 inner auth JSON for these credentials, with a 44-character AppKey
/// and `ForceRefreshAccessToken: false` (its longest form).
pub fn auth_payload_len(username: &str, password: &str) -> usize {
    let payload = serde_json::json!({
        "UserName": username,
        "Password": password,
        "AppKey": "A".repeat(44),
        "ForceRefreshAccessToken": false,
    });
    serde_json::to_vec(&payload)
        .map(|v| v.len())
        .unwrap_or(usize::MAX)
}

/// What makes a NIC API username unusable. NIC's own rule for API users is not published
/// (the fact sheet marks it UNVERIFIED): API users may contain `_` (sub-users are
/// `<user>_<suffix>`), and ClearTax's sample is `API_TEST`. So only what cannot be a username
/// is refused: nothing, spaces around it (a real support case: a pasted name), and characters
/// other than printable ASCII.
fn username_problem(username: &str) -> Option<String> {
    if username.is_empty() {
        Some("the NIC API username is empty".into())
    } else if username.trim() != username {
        Some("the NIC API username starts or ends with a space; this is probably a copy-paste error (remove the space)".into())
    } else if !username.chars().all(|c| c.is_ascii_graphic()) {
        Some("the NIC API username has letters, digits and symbols such as _ only, without spaces or other characters".into())
    } else {
        None
    }
}

/// What is unusual about a username that is accepted: the portal creates user ids of 6 to 15
/// letters and digits, and API users we have seen follow it, with `_` for sub-users. These are
/// warnings, not errors, because NIC's rule for API users is not published.
pub fn username_warnings(username: &str) -> Vec<FieldError> {
    let len = username.chars().count();
    let usual = (6..=15).contains(&len)
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if usual || username_problem(username).is_some() {
        return Vec::new();
    }
    vec![FieldError::new(
        "unusual_username",
        format!(
            "stored, but NIC API usernames usually have 6 to 15 letters, digits and _; this one has {len} characters. If the IRP refuses it, check it on the e-invoice portal"
        ),
        "username",
    )]
}

/// Checks GSTIN, username and password; returns every problem at once.
pub fn validate(state: &AppState, request: &StoreRequest) -> Result<Gstin, ServiceError> {
    let mut errors = Vec::new();
    let gstin = match Gstin::parse(&request.gstin, state.gstin_strictness()) {
        Ok(g) => Some(g),
        Err(e) => {
            errors.push(FieldError::new(
                "invalid_gstin",
                format!("GSTIN is not valid: {e}"),
                "gstin",
            ));
            None
        }
    };
    if let Some(problem) = username_problem(&request.username) {
        errors.push(FieldError::new("invalid_username", problem, "username"));
    }
    let password = request.password.expose_secret();
    if password.is_empty() {
        errors.push(FieldError::new(
            "invalid_password",
            "the NIC API password is empty",
            "password",
        ));
    } else if password.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "invalid_password",
            "the password contains a control character (such as a line break or tab); it was probably pasted with extra characters",
            "password",
        ));
    } else if password.trim() != password {
        errors.push(FieldError::new(
            "invalid_password",
            "the password starts or ends with a space; this is probably a copy-paste error",
            "password",
        ));
    } else {
        let len = auth_payload_len(&request.username, password);
        if len > MAX_AUTH_JSON_BYTES {
            errors.push(FieldError::new(
                "credentials_too_long",
                format!(
                    "username and password are too long for NIC's auth call: it RSA-encrypts the base64 of a JSON payload, and RSA-2048 takes at most 245 bytes, so the payload must be at most {MAX_AUTH_JSON_BYTES} bytes; these credentials make it {len} bytes (username plus password can total about 66 characters)"
                ),
                "password",
            ));
        }
    }
    match gstin {
        Some(g) if errors.is_empty() => Ok(g),
        _ => Err(ServiceError::Invalid(errors)),
    }
}

fn owner_not_found() -> ServiceError {
    ServiceError::NotFound(FieldError::new(
        "owner_not_found",
        "no owner with this owner_id in your account",
        "owner_id",
    ))
}

/// Finds the owner for a store. In sandbox mode without a token, an unknown owner id is
/// created on first use as a GSTIN owner of the body's GSTIN.
async fn owner_for_store(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &Gstin,
) -> Result<OwnerRecord, ServiceError> {
    if let Some(owner) = find_owner(state, actor.account_id, owner_id).await? {
        return Ok(owner);
    }
    if !(state.is_sandbox() && actor.token_id.is_none()) {
        return Err(owner_not_found());
    }
    let owner = OwnerRecord {
        id: owner_id,
        account_id: actor.account_id,
        name: gstin.to_string(),
        identity: OwnerIdentity::Gstin {
            gstin: gstin.clone(),
            pan: gstin.pan().map(|p| p.to_string()),
            parent_id: None,
        },
        created_at: state.now(),
    };
    if state.store.insert_owner(&owner).await? {
        remember_owner(state, &owner);
        return Ok(owner);
    }
    // The id is taken: by a concurrent first use in this account, or by another account
    // (which must look exactly like a missing owner).
    state
        .store
        .get_owner(actor.account_id, owner_id)
        .await?
        .ok_or_else(owner_not_found)
}

/// The audit event of a change to an owner's credentials for a GSTIN (never the password).
pub fn credential_event(
    actor: Actor,
    action: AuditAction,
    (owner_id, gstin): (OwnerId, &Gstin),
    username: &str,
    request_id: Option<String>,
    at: Timestamp,
) -> AuditEvent {
    AuditEvent {
        account_id: actor.account_id,
        actor_token_id: actor.token_id,
        action,
        owner_id: Some(owner_id),
        gstin: Some(gstin.clone()),
        username: Some(username.to_string()),
        version: None,
        request_id,
        at,
    }
}

/// Checks that the owner (found, or made on first use in sandbox mode) may hold credentials
/// for the GSTIN: a store's checks before anything is written or sent to the IRP.
pub async fn owner_may_store(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &Gstin,
) -> Result<(), ServiceError> {
    let owner = owner_for_store(state, actor, owner_id, gstin).await?;
    if owns_gstin(&owner, gstin) {
        return Ok(());
    }
    Err(ServiceError::Forbidden(FieldError::new(
        "gstin_not_owned",
        format!(
            "GSTIN {gstin} does not belong to this owner ({} {})",
            owner.kind().as_str(),
            owner
                .gstin()
                .map(|g| g.as_str())
                .or(owner.pan())
                .unwrap_or("")
        ),
        "gstin",
    )))
}

/// Stores or overrides the credentials of an owner and GSTIN; returns the new version.
pub async fn store(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    request: StoreRequest,
    request_id: Option<String>,
) -> Result<i64, ServiceError> {
    // Nothing from the body before validation: a mistyped field may hold a password.
    tracing::trace!(%owner_id, "store NIC credentials requested");
    let gstin = validate(state, &request)?;
    owner_may_store(state, actor, owner_id, &gstin).await?;
    let now = state.now();
    let vault = state.vault.clone();
    let password = request.password;
    let gstin_text = gstin.to_string();
    let metrics = state.metrics.clone();
    let seal = |version: i64| {
        let slot = CredentialSlot {
            owner_id,
            gstin: &gstin_text,
            version,
        };
        let sealed = vault.seal(&password, slot);
        metrics.vault("seal", sealed.is_ok());
        sealed.map_err(|e| StoreError::Vault(e.to_string()))
    };
    let audit = credential_event(
        actor,
        AuditAction::CredentialsStored,
        (owner_id, &gstin),
        &request.username,
        request_id,
        now,
    );
    let version = state
        .store
        .put_credential(CredentialPut {
            owner_id,
            gstin: &gstin_text,
            username: &request.username,
            seal: &seal,
            updated_at: now,
            audit,
        })
        .await?;
    tracing::info!(%owner_id, gstin = %gstin_text, version, "NIC credentials stored");
    if let Some(irp) = &state.irp {
        // Sessions of this row's old credentials must not outlive them; other rows for the
        // same GSTIN (other owners, other accounts) keep theirs.
        irp.sessions.invalidate_row(owner_id, &gstin_text).await;
    }
    Ok(version)
}

/// A GSTIN from a request, checked as this mode checks GSTINs (400 `invalid_gstin`).
pub fn parse_gstin_param(state: &AppState, gstin: &str) -> Result<Gstin, ServiceError> {
    Gstin::parse(gstin, state.gstin_strictness()).map_err(|e| {
        ServiceError::BadRequest(FieldError::new(
            "invalid_gstin",
            format!("GSTIN is not valid: {e}"),
            "gstin",
        ))
    })
}

fn credentials_not_found() -> ServiceError {
    ServiceError::NotFound(FieldError::new(
        "credentials_not_found",
        "no NIC credentials are stored for this owner and GSTIN",
        "gstin",
    ))
}

pub(crate) async fn load(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
) -> Result<crate::storage::CredentialRecord, ServiceError> {
    let gstin = parse_gstin_param(state, gstin)?;
    find_owner(state, actor.account_id, owner_id)
        .await?
        .ok_or_else(owner_not_found)?;
    state
        .store
        .get_credential(owner_id, gstin.as_str())
        .await?
        .ok_or_else(credentials_not_found)
}

/// The metadata of stored credentials.
pub async fn summary(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
) -> Result<CredentialSummary, ServiceError> {
    let record = load(state, actor, owner_id, gstin).await?;
    Ok(CredentialSummary {
        gstin: record.gstin.to_string(),
        username: record.username,
        password_set: !record.password_ciphertext.is_empty(),
        version: record.version,
        updated_at: record.updated_at,
        status: record.verify_status,
        last_verified_at: record.last_verified_at,
        last_error: record.last_error,
    })
}

/// Opens the stored password (for the IRP client); never for display.
pub async fn reveal_password(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
) -> Result<SecretString, ServiceError> {
    let record = load(state, actor, owner_id, gstin).await?;
    let slot = CredentialSlot {
        owner_id,
        gstin: &record.gstin,
        version: record.version,
    };
    Ok(state
        .vault
        .open_secret_fresh(state.store.as_ref(), &record.password_ciphertext, slot)
        .await?)
}

/// Deletes stored credentials, audited.
pub async fn delete(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: &str,
    request_id: Option<String>,
) -> Result<(), ServiceError> {
    let gstin = parse_gstin_param(state, gstin)?;
    state
        .store
        .get_owner(actor.account_id, owner_id)
        .await?
        .ok_or_else(owner_not_found)?;
    let audit = AuditEvent {
        account_id: actor.account_id,
        actor_token_id: actor.token_id,
        action: AuditAction::CredentialsDeleted,
        owner_id: Some(owner_id),
        gstin: Some(gstin.clone()),
        username: None,
        version: None,
        request_id,
        at: state.now(),
    };
    if state
        .store
        .delete_credential(owner_id, gstin.as_str(), &audit)
        .await?
    {
        if let Some(irp) = &state.irp {
            // The row's sessions end with it, at once.
            irp.sessions.invalidate_row(owner_id, gstin.as_str()).await;
        }
        Ok(())
    } else {
        Err(credentials_not_found())
    }
}

/// The audit trail of an owner's credentials (who and when; never a secret).
pub async fn history(
    state: &AppState,
    actor: Actor,
    owner_id: OwnerId,
    gstin: Option<&str>,
) -> Result<Vec<AuditEvent>, ServiceError> {
    state
        .store
        .get_owner(actor.account_id, owner_id)
        .await?
        .ok_or_else(owner_not_found)?;
    Ok(state
        .store
        .list_audit_events(actor.account_id, owner_id, gstin)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_payload_limit_allows_about_66_characters() {
        assert_eq!(auth_payload_len("", ""), 117);
        assert!(auth_payload_len(&"u".repeat(15), &"p".repeat(51)) <= MAX_AUTH_JSON_BYTES);
        assert!(auth_payload_len(&"u".repeat(15), &"p".repeat(52)) > MAX_AUTH_JSON_BYTES);
        // Characters JSON escapes count double.
        assert!(
            auth_payload_len("user01", &"\"".repeat(30))
                > auth_payload_len("user01", &"a".repeat(30))
        );
    }
}
