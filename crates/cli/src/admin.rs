//! Administration commands that work on the database directly: users, tokens, owners and
//! vault key rotation. They use the same service functions as the HTTP API.

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use clap::Subcommand;
use gateway::clock::{rfc3339, Clock, SystemClock};
use gateway::service::owners::NewOwner;
use gateway::service::{auth, owners, Actor, ServiceError};
use gateway::state::AppState;
use gateway::vault::MasterKey;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

use crate::options::SettingsArgs;

/// `einvoice users ...`
#[derive(Subcommand)]
pub enum UsersCommand {
    /// Add a user (a new account unless --account is given). The password is read from
    /// standard input (one line) or EINVOICE_USER_PASSWORD.
    Add {
        #[command(flatten)]
        settings: SettingsArgs,
        /// Email to log in with.
        #[arg(long)]
        email: String,
        /// Add the user to this existing account.
        #[arg(long)]
        account: Option<Uuid>,
    },
}

/// `einvoice tokens ...`
#[derive(Subcommand)]
pub enum TokensCommand {
    /// Create a token for a user's account; prints it once.
    Create {
        #[command(flatten)]
        settings: SettingsArgs,
        /// The user's email.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long)]
        label: String,
    },
    /// List the tokens of a user's account.
    List {
        #[command(flatten)]
        settings: SettingsArgs,
        /// The user's email.
        #[arg(long)]
        email: String,
    },
    /// Revoke a token.
    Revoke {
        #[command(flatten)]
        settings: SettingsArgs,
        /// The user's email.
        #[arg(long)]
        email: String,
        /// The token id.
        id: Uuid,
    },
}

/// `einvoice owners ...`
#[derive(Subcommand)]
pub enum OwnersCommand {
    /// Add an owner to a user's account.
    Add {
        #[command(flatten)]
        settings: SettingsArgs,
        /// The user's email.
        #[arg(long)]
        email: String,
        /// PAN, GSTIN or BRANCH.
        #[arg(long)]
        kind: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// PAN (for a PAN owner).
        #[arg(long)]
        pan: Option<String>,
        /// GSTIN (for a GSTIN owner).
        #[arg(long)]
        gstin: Option<String>,
        /// Parent owner id.
        #[arg(long)]
        parent: Option<Uuid>,
    },
    /// List the owners of a user's account.
    List {
        #[command(flatten)]
        settings: SettingsArgs,
        /// The user's email.
        #[arg(long)]
        email: String,
    },
}

/// `einvoice keys ...`
#[derive(Subcommand)]
pub enum KeysCommand {
    /// Add a vault key version and re-encrypt every credential under it, in one transaction.
    Rotate {
        #[command(flatten)]
        settings: SettingsArgs,
        /// Also move to a new master key, generated into this (new) file.
        #[arg(long)]
        new_master_key_file: Option<PathBuf>,
    },
}

async fn open(settings: &SettingsArgs) -> anyhow::Result<AppState> {
    let settings = settings.settings()?;
    gateway::telemetry::init(settings.log_format);
    Ok(gateway::app::build_state(settings, Arc::new(SystemClock)).await?)
}

fn explain(e: ServiceError) -> anyhow::Error {
    match e {
        ServiceError::BadRequest(f)
        | ServiceError::Unauthenticated(f)
        | ServiceError::Forbidden(f)
        | ServiceError::NotFound(f)
        | ServiceError::Conflict(f) => anyhow!("{}: {}", f.field.unwrap_or_default(), f.message),
        ServiceError::Throttled { error, .. } | ServiceError::Unavailable { error, .. } => {
            anyhow!("{}", error.message)
        }
        ServiceError::Invalid(errors) => anyhow!(errors
            .iter()
            .map(|f| format!("{}: {}", f.field.clone().unwrap_or_default(), f.message))
            .collect::<Vec<_>>()
            .join("; ")),
        ServiceError::Internal(message) => anyhow!(message),
    }
}

async fn actor_for(state: &AppState, email: &str) -> anyhow::Result<Actor> {
    let user = state
        .store
        .find_user_by_email(&email.trim().to_ascii_lowercase())
        .await?
        .ok_or_else(|| anyhow!("no user with email {email}"))?;
    Ok(Actor {
        account_id: user.account_id,
        token_id: None,
    })
}

fn read_password() -> anyhow::Result<SecretString> {
    if let Ok(value) = std::env::var("EINVOICE_USER_PASSWORD") {
        return Ok(SecretString::from(value));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(SecretString::from(
        line.trim_end_matches(['\r', '\n']).to_string(),
    ))
}

/// Runs a users command.
pub async fn users(command: UsersCommand) -> anyhow::Result<()> {
    let UsersCommand::Add {
        settings,
        email,
        account,
    } = command;
    let state = open(&settings).await?;
    let password = read_password()?;
    let result = auth::create_user(
        &state,
        &email,
        &password,
        account.map(gateway::ids::AccountId),
    )
    .await;
    state.store.close().await;
    let user = result.map_err(explain)?;
    println!("user {} added to account {}", user.id, user.account_id);
    Ok(())
}

/// Runs a tokens command.
pub async fn tokens(command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::Create {
            settings,
            email,
            label,
        } => {
            let state = open(&settings).await?;
            let actor = actor_for(&state, &email).await?;
            let issued = auth::issue_token(&state, actor.account_id, None, &label)
                .await
                .map_err(explain)?;
            state.store.close().await;
            println!("token id: {}", issued.record.id);
            println!("token (shown once): {}", issued.value.expose_secret());
        }
        TokensCommand::List { settings, email } => {
            let state = open(&settings).await?;
            let actor = actor_for(&state, &email).await?;
            let list = auth::list_tokens(&state, actor).await.map_err(explain)?;
            state.store.close().await;
            for t in list {
                println!(
                    "{}\t{}\tcreated {}\tlast used {}\t{}",
                    t.id,
                    t.label,
                    rfc3339(t.created_at),
                    t.last_used_at
                        .map(rfc3339)
                        .unwrap_or_else(|| "never".into()),
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "live"
                    }
                );
            }
        }
        TokensCommand::Revoke {
            settings,
            email,
            id,
        } => {
            let state = open(&settings).await?;
            let actor = actor_for(&state, &email).await?;
            let result = auth::revoke_token(&state, actor, id).await;
            state.store.close().await;
            result.map_err(explain)?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}

/// Runs an owners command.
pub async fn owners(command: OwnersCommand) -> anyhow::Result<()> {
    match command {
        OwnersCommand::Add {
            settings,
            email,
            kind,
            name,
            pan,
            gstin,
            parent,
        } => {
            let state = open(&settings).await?;
            let actor = actor_for(&state, &email).await?;
            let new = NewOwner {
                kind,
                name,
                pan,
                gstin,
                parent_id: parent.map(gateway::ids::OwnerId),
            };
            let result = owners::create_owner(&state, actor, new).await;
            state.store.close().await;
            let owner = result.map_err(explain)?;
            println!(
                "owner {} ({} {})",
                owner.id,
                owner.kind().as_str(),
                owner.name
            );
        }
        OwnersCommand::List { settings, email } => {
            let state = open(&settings).await?;
            let actor = actor_for(&state, &email).await?;
            let list = owners::list_owners(&state, actor).await.map_err(explain)?;
            state.store.close().await;
            for o in list {
                println!(
                    "{}\t{}\t{}\t{}",
                    o.id,
                    o.kind().as_str(),
                    o.gstin()
                        .map(|g| g.to_string())
                        .or(o.pan().map(str::to_string))
                        .unwrap_or_default(),
                    o.name
                );
            }
        }
    }
    Ok(())
}

/// Runs a keys command.
pub async fn keys(command: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Rotate {
        settings,
        new_master_key_file,
    } = command;
    let settings = settings.settings()?;
    gateway::telemetry::init(settings.log_format);
    let clock = SystemClock;
    let (store, mut vault, master) = gateway::app::open_store_and_vault(&settings, &clock).await?;
    let new_master = match &new_master_key_file {
        Some(path) => {
            let key = MasterKey::generate();
            key.write_new_file(path)?;
            Some(key)
        }
        None => None,
    };
    let started = std::time::Instant::now();
    let version_before = vault.current_version();
    let result = vault
        .rotate(
            store.as_ref(),
            &master,
            new_master.as_ref(),
            gateway::clock::Timestamp(clock.now_ms()),
        )
        .await;
    store.close().await;
    let count = match result {
        Ok(count) => count,
        Err(e) => {
            // Once the new key is committed the database needs the new master key: keep its
            // file. Re-encryption left unfinished is finished by the next rotation.
            let committed = vault.current_version() != version_before;
            if let (Some(path), false) = (&new_master_key_file, committed) {
                let _ = std::fs::remove_file(path);
            }
            if committed {
                eprintln!(
                    "vault key version {} was added, but re-encryption stopped part-way; run keys rotate again to finish",
                    vault.current_version()
                );
            }
            return Err(e.into());
        }
    };
    println!(
        "vault key version {} is current; {count} credentials re-encrypted in {:.2} s",
        vault.current_version(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = new_master_key_file {
        println!(
            "the master key is now in {}; use it from now on",
            path.display()
        );
    }
    Ok(())
}
