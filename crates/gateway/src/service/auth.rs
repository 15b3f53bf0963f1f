//! Users, logins and API tokens: creating them, checking them (with throttling of repeated
//! failures), listing and revoking.

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use super::{Actor, FieldError, ServiceError};
use crate::accounts::{hash_api_token, hash_password, new_api_token, verify_password};
use crate::ids::{AccountId, UserId};
use crate::state::AppState;
use crate::storage::{AccountRecord, StoreError, TokenRecord, UserRecord};

/// A token's last-use time is written at most this often.
const TOUCH_INTERVAL_MS: i64 = 60_000;

/// A token just created; its value is shown once.
pub struct IssuedToken {
    /// The stored record.
    pub record: TokenRecord,
    /// The value, to show once.
    pub value: SecretString,
}

/// Creates a user; with no `account_id`, a new account is created for them.
pub async fn create_user(
    state: &AppState,
    email: &str,
    password: &SecretString,
    account_id: Option<AccountId>,
) -> Result<UserRecord, ServiceError> {
    let email = normalise_email(email)?;
    if password.expose_secret().chars().count() < 10 {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "weak_password",
            "use at least 10 characters",
            "password",
        )]));
    }
    let now = state.now();
    let account_id = match account_id {
        Some(id) => id,
        None => {
            let account = AccountRecord {
                id: AccountId::generate(),
                name: email.clone(),
                created_at: now,
            };
            state.store.ensure_account(&account).await?;
            account.id
        }
    };
    let to_hash = password.clone();
    let password_hash = state
        .password_hashing
        .run(move || hash_password(&to_hash))
        .await
        .map_err(|_| ServiceError::Throttled {
            error: FieldError::general(
                "busy",
                "the gateway is busy hashing passwords; try again in a second",
            ),
            retry_after_secs: 1,
        })?
        .map_err(|e| ServiceError::internal(e.to_string()))?;
    let user = UserRecord {
        id: UserId::generate(),
        account_id,
        email,
        password_hash,
        created_at: now,
    };
    state.store.insert_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(_) => ServiceError::Conflict(FieldError::new(
            "email_taken",
            "a user with this email already exists",
            "email",
        )),
        other => other.into(),
    })?;
    Ok(user)
}

fn normalise_email(email: &str) -> Result<String, ServiceError> {
    let email = email.trim().to_ascii_lowercase();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        });
    if valid {
        Ok(email)
    } else {
        Err(ServiceError::Invalid(vec![FieldError::new(
            "invalid_email",
            "give an email address such as name@example.com",
            "email",
        )]))
    }
}

/// Checks a token label: 1 to 100 printable characters.
pub fn check_label(label: &str) -> Result<String, ServiceError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 || super::text::has_unsafe_characters(label)
    {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "invalid_label",
            "a label of 1 to 100 printable characters (no control or text-direction characters) names the token, e.g. \"SAP production\"",
            "label",
        )]));
    }
    Ok(label.to_string())
}

/// Exchanges an email and password for a new token (`POST /v2/auth/tokens`). Repeated failures
/// are throttled (see [`check_login`]); an unknown email takes as long as a wrong password.
pub async fn login_for_token(
    state: &AppState,
    email: &str,
    password: &SecretString,
    label: &str,
    client: &str,
) -> Result<IssuedToken, ServiceError> {
    let label = check_label(label)?;
    let user = check_login(state, email, password, client).await?;
    issue_token(state, user.account_id, Some(user.id), &label).await
}

fn too_many(message: String, retry_after_secs: u64) -> ServiceError {
    ServiceError::Throttled {
        error: FieldError::general("too_many_attempts", message),
        retry_after_secs,
    }
}

/// Checks an email and password (for a token or a console login) from a client address.
/// - An email over 254 bytes is refused before any work, so throttle keys stay bounded.
/// - An address with too many failures waits for its window to pass.
/// - An email with repeated failures gets growing delays, which always end; an address that
///   has not failed may still try, so nobody can lock a known user out.
/// - Hashing runs behind [`crate::accounts::HashingGate`]; beyond its queue the answer is 429.
///
/// An unknown email takes as long as a wrong password and gets the same answer.
pub async fn check_login(
    state: &AppState,
    email: &str,
    password: &SecretString,
    client: &str,
) -> Result<UserRecord, ServiceError> {
    let email = email.trim().to_ascii_lowercase();
    if email.len() > 254 || email.contains('\0') {
        return Err(ServiceError::Invalid(vec![FieldError::new(
            "invalid_email",
            "give an email address of at most 254 characters",
            "email",
        )]));
    }
    let email_key = format!("login:{email}");
    let address_key = format!("login-address:{client}");
    let now = state.now();
    if let Some(retry_after_secs) = state.login_address_throttle.check(&address_key, now) {
        return Err(too_many(
            format!("too many failed logins from this address; try again in {retry_after_secs} s"),
            retry_after_secs,
        ));
    }
    if let Some(retry_after_secs) = state.login_email_backoff.check(&email_key, now) {
        if state.login_address_throttle.has_failures(&address_key, now) {
            return Err(too_many(
                format!("too many failed logins for this email; try again in {retry_after_secs} s"),
                retry_after_secs,
            ));
        }
    }
    let user = state.store.find_user_by_email(&email).await?;
    let password = password.clone();
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.dummy_password_hash.to_string());
    let verified = state
        .password_hashing
        .run(move || verify_password(&password, &phc))
        .await
        .map_err(|_| {
            too_many(
                "the gateway is busy checking passwords; try again in a second".into(),
                1,
            )
        })?;
    match (user, verified) {
        (Some(user), true) => {
            state.login_email_backoff.record_success(&email_key);
            Ok(user)
        }
        _ => {
            state.login_email_backoff.record_failure(&email_key, now);
            state
                .login_address_throttle
                .record_failure(&address_key, now);
            Err(ServiceError::Unauthenticated(FieldError::general(
                "invalid_login",
                "email or password is wrong",
            )))
        }
    }
}

/// Issues a token for an account (the CLI's `tokens create`, and logins).
pub async fn issue_token(
    state: &AppState,
    account_id: AccountId,
    user_id: Option<UserId>,
    label: &str,
) -> Result<IssuedToken, ServiceError> {
    let label = check_label(label)?;
    let (value, token_hash) = new_api_token();
    let record = TokenRecord {
        id: Uuid::new_v4(),
        account_id,
        user_id,
        label,
        token_hash,
        created_at: state.now(),
        last_used_at: None,
        revoked_at: None,
    };
    state.store.insert_token(&record).await?;
    Ok(IssuedToken { record, value })
}

/// Resolves the token a request carries. A valid token always passes; only failures count,
/// per client address (`client`) and for all addresses together.
pub async fn authenticate(
    state: &AppState,
    token: &str,
    client: &str,
) -> Result<Actor, ServiceError> {
    let now = state.now();
    let hash = hash_api_token(token.trim());
    let record = state.store.find_token_by_hash(&hash).await?;
    let live = record.filter(|r| r.revoked_at.is_none() && bool::from(r.token_hash.ct_eq(&hash)));
    let Some(record) = live else {
        let key = format!("token:{client}");
        let throttled = state
            .token_throttle
            .check(&key, now)
            .or_else(|| state.invalid_token_cap.check("token:*", now));
        if let Some(retry_after_secs) = throttled {
            return Err(ServiceError::Throttled {
                error: FieldError::new(
                    "too_many_attempts",
                    format!(
                        "too many requests with invalid tokens; try again in {retry_after_secs} s"
                    ),
                    "X-Cleartax-Auth-Token",
                ),
                retry_after_secs,
            });
        }
        state.token_throttle.record_failure(&key, now);
        state.invalid_token_cap.record_failure("token:*", now);
        return Err(ServiceError::Unauthenticated(FieldError::new(
            "invalid_token",
            "the auth token is not valid (unknown or revoked); create one with POST /v2/auth/tokens",
            "X-Cleartax-Auth-Token",
        )));
    };
    tracing::trace!(token_id = %record.id, account_id = %record.account_id, "token authenticated");
    if record
        .last_used_at
        .is_none_or(|at| now - at >= TOUCH_INTERVAL_MS)
    {
        state.store.touch_token(record.id, now).await?;
    }
    Ok(Actor {
        account_id: record.account_id,
        token_id: Some(record.id),
    })
}

/// The tokens of the actor's account.
pub async fn list_tokens(state: &AppState, actor: Actor) -> Result<Vec<TokenRecord>, ServiceError> {
    Ok(state.store.list_tokens(actor.account_id).await?)
}

/// Revokes a token of the actor's account.
pub async fn revoke_token(
    state: &AppState,
    actor: Actor,
    token_id: Uuid,
) -> Result<(), ServiceError> {
    if state
        .store
        .revoke_token(actor.account_id, token_id, state.now())
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound(FieldError::new(
            "token_not_found",
            "no live token with this id in your account",
            "id",
        )))
    }
}
