//! Owners: the PAN (business), GSTIN or branch that credentials and e-invoices belong to,
//! scoped to one account.

use gst_core::{Gstin, Pan};

use super::{Actor, FieldError, ServiceError};
use crate::ids::{AccountId, OwnerId};
use crate::state::AppState;
use crate::storage::{OwnerIdentity, OwnerKind, OwnerRecord};

/// An owner of the account, or `None` when there is none (or it belongs to another account).
pub async fn find_owner(
    state: &AppState,
    account_id: AccountId,
    owner_id: OwnerId,
) -> Result<Option<OwnerRecord>, ServiceError> {
    if let Some(owner) = state.owner_cache.get(owner_id) {
        return Ok((owner.account_id == account_id).then_some(owner));
    }
    let owner = state.store.get_owner(account_id, owner_id).await?;
    if let Some(owner) = &owner {
        state.owner_cache.put(owner);
    }
    Ok(owner)
}

/// Records an owner just written, so later lookups need no database read.
pub fn remember_owner(state: &AppState, owner: &OwnerRecord) {
    state.owner_cache.put(owner);
}

/// What a caller asks for when adding an owner.
#[derive(Debug, Clone, Default)]
pub struct NewOwner {
    /// `PAN`, `GSTIN` or `BRANCH`.
    pub kind: String,
    /// Display name (required for branches; defaults to the PAN or GSTIN otherwise).
    pub name: Option<String>,
    /// For PAN owners.
    pub pan: Option<String>,
    /// For GSTIN owners.
    pub gstin: Option<String>,
    /// A PAN owner for a GSTIN (optional), a GSTIN owner for a branch (required).
    pub parent_id: Option<OwnerId>,
}

/// Adds an owner to the actor's account.
pub async fn create_owner(
    state: &AppState,
    actor: Actor,
    new: NewOwner,
) -> Result<OwnerRecord, ServiceError> {
    let kind = OwnerKind::parse(&new.kind.to_ascii_uppercase()).ok_or_else(|| {
        ServiceError::Invalid(vec![FieldError::new(
            "invalid_kind",
            "kind must be PAN, GSTIN or BRANCH",
            "kind",
        )])
    })?;
    let parent = match new.parent_id {
        Some(id) => Some(
            state
                .store
                .get_owner(actor.account_id, id)
                .await?
                .ok_or_else(|| {
                    ServiceError::NotFound(FieldError::new(
                        "owner_not_found",
                        "no owner with this id in your account",
                        "parent_id",
                    ))
                })?,
        ),
        None => None,
    };
    let mut errors = Vec::new();
    let identity = match kind {
        OwnerKind::Pan => {
            if parent.is_some() {
                errors.push(FieldError::new(
                    "unexpected_parent",
                    "a PAN owner has no parent",
                    "parent_id",
                ));
            }
            match new.pan.as_deref().map(Pan::parse) {
                Some(Ok(pan)) => Some(OwnerIdentity::Pan {
                    pan: pan.to_string(),
                }),
                Some(Err(e)) => {
                    errors.push(FieldError::new("invalid_pan", e.to_string(), "pan"));
                    None
                }
                None => {
                    errors.push(FieldError::new(
                        "missing_field",
                        "a PAN owner needs `pan`",
                        "pan",
                    ));
                    None
                }
            }
        }
        OwnerKind::Gstin => match new
            .gstin
            .as_deref()
            .map(|g| Gstin::parse(g, state.gstin_strictness()))
        {
            Some(Ok(gstin)) => {
                match &parent {
                    Some(p) if p.kind() != OwnerKind::Pan => errors.push(FieldError::new(
                        "invalid_parent",
                        "the parent of a GSTIN owner must be a PAN owner",
                        "parent_id",
                    )),
                    Some(p) if p.pan() != Some(gstin.pan_part()) => errors.push(FieldError::new(
                        "gstin_not_under_pan",
                        format!(
                            "GSTIN {} carries PAN {} in characters 3-12, not the parent's PAN {}",
                            gstin,
                            gstin.pan_part(),
                            p.pan().unwrap_or("")
                        ),
                        "gstin",
                    )),
                    _ => {}
                }
                Some(OwnerIdentity::Gstin {
                    pan: gstin.pan().map(|p| p.to_string()),
                    gstin,
                    parent_id: parent.as_ref().map(|p| p.id),
                })
            }
            Some(Err(e)) => {
                errors.push(FieldError::new(
                    "invalid_gstin",
                    format!("GSTIN is not valid: {e}"),
                    "gstin",
                ));
                None
            }
            None => {
                errors.push(FieldError::new(
                    "missing_field",
                    "a GSTIN owner needs `gstin`",
                    "gstin",
                ));
                None
            }
        },
        OwnerKind::Branch => match &parent {
            Some(OwnerRecord {
                id: parent_id,
                identity: OwnerIdentity::Gstin { gstin, pan, .. },
                ..
            }) => Some(OwnerIdentity::Branch {
                gstin: gstin.clone(),
                pan: pan.clone(),
                parent_id: *parent_id,
            }),
            Some(_) => {
                errors.push(FieldError::new(
                    "invalid_parent",
                    "the parent of a branch must be a GSTIN owner",
                    "parent_id",
                ));
                None
            }
            None => {
                errors.push(FieldError::new(
                    "missing_field",
                    "a branch needs `parent_id` (its GSTIN owner)",
                    "parent_id",
                ));
                None
            }
        },
    };
    let name = new.name.as_deref().map(str::trim).unwrap_or("");
    let mut display_name = name.to_string();
    if name.chars().count() > 200 || super::text::has_unsafe_characters(name) {
        errors.push(FieldError::new(
            "invalid_name",
            "a name has at most 200 printable characters (no control or text-direction characters)",
            "name",
        ));
    } else if name.is_empty() {
        match kind {
            OwnerKind::Branch => errors.push(FieldError::new(
                "missing_field",
                "a branch needs a `name`",
                "name",
            )),
            _ => {
                display_name = identity
                    .as_ref()
                    .and_then(|i| {
                        i.gstin()
                            .map(Gstin::to_string)
                            .or(i.pan().map(str::to_string))
                    })
                    .unwrap_or_default()
            }
        }
    }
    let identity = match identity {
        Some(identity) if errors.is_empty() => identity,
        _ => return Err(ServiceError::Invalid(errors)),
    };
    let record = OwnerRecord {
        id: OwnerId::generate(),
        account_id: actor.account_id,
        name: display_name,
        identity,
        created_at: state.now(),
    };
    if !state.store.insert_owner(&record).await? {
        return Err(ServiceError::internal("owner id collision"));
    }
    remember_owner(state, &record);
    Ok(record)
}

/// The owners of the actor's account.
pub async fn list_owners(state: &AppState, actor: Actor) -> Result<Vec<OwnerRecord>, ServiceError> {
    Ok(state.store.list_owners(actor.account_id).await?)
}

/// Whether a GSTIN belongs to an owner: the same PAN for a PAN owner, equal for a GSTIN owner,
/// the parent's for a branch.
pub fn owns_gstin(owner: &OwnerRecord, gstin: &Gstin) -> bool {
    match owner.kind() {
        OwnerKind::Pan => owner.pan() == Some(gstin.pan_part()),
        OwnerKind::Gstin | OwnerKind::Branch => {
            owner.gstin().map(|g| g.as_str()) == Some(gstin.as_str())
        }
    }
}

/// The owner a call is for. With `owner_id`, that owner, if it is the account's (another
/// account's owner reads as no owner). Without it, as ClearTax's API finds it from the token's
/// account and the `gstin` header: the account's GSTIN owner of that GSTIN, else the one owner
/// with credentials for it; more than one candidate is refused with their kinds, so the caller
/// knows to send `owner_id`.
pub async fn resolve(
    state: &AppState,
    actor: Actor,
    owner_id: Option<OwnerId>,
    gstin: &str,
) -> Result<OwnerId, ServiceError> {
    let Some(owner_id) = owner_id else {
        return resolve_gstin(state, actor, gstin, false).await;
    };
    match find_owner(state, actor.account_id, owner_id).await? {
        Some(owner) => Ok(owner.id),
        None => Err(ServiceError::NotFound(FieldError::new(
            "owner_not_found",
            "no owner with this owner_id in your account",
            "owner_id",
        ))),
    }
}

/// The owner credentials stored without `owner_id` go to: as [`resolve`] finds it, and
/// without a candidate, a new GSTIN owner of the account (as ClearTax creates the business
/// when its credentials are first stored).
pub async fn resolve_or_create(
    state: &AppState,
    actor: Actor,
    gstin: &str,
) -> Result<OwnerId, ServiceError> {
    resolve_gstin(state, actor, gstin, true).await
}

async fn resolve_gstin(
    state: &AppState,
    actor: Actor,
    gstin: &str,
    create: bool,
) -> Result<OwnerId, ServiceError> {
    let gstin = gstin.trim().to_ascii_uppercase();
    match pick(state, actor, &gstin).await? {
        Pick::One(owner) => Ok(owner),
        Pick::Ambiguous(error) => Err(error),
        Pick::None if create => {
            let created = create_owner(
                state,
                actor,
                NewOwner {
                    kind: OwnerKind::Gstin.as_str().into(),
                    gstin: Some(gstin),
                    ..NewOwner::default()
                },
            )
            .await?;
            Ok(created.id)
        }
        Pick::None => Err(ServiceError::NotFound(FieldError::new(
            "owner_not_found",
            format!("no owner in your account has GSTIN {gstin} or credentials for it; store NIC credentials for it first, or send the owner_id header"),
            "owner_id",
        ))),
    }
}

enum Pick {
    One(OwnerId),
    None,
    Ambiguous(ServiceError),
}

async fn pick(state: &AppState, actor: Actor, gstin: &str) -> Result<Pick, ServiceError> {
    let candidates = state
        .store
        .owners_for_gstin(actor.account_id, gstin)
        .await?;
    let gstin_owners: Vec<&OwnerRecord> = candidates
        .iter()
        .filter(|o| o.kind() == OwnerKind::Gstin)
        .collect();
    let chosen = match (gstin_owners.as_slice(), candidates.as_slice()) {
        ([only], _) => Some(only.id),
        ([], [only]) => Some(only.id),
        _ => None,
    };
    Ok(match chosen {
        Some(owner) => Pick::One(owner),
        None if candidates.is_empty() => Pick::None,
        None => {
            let kinds: Vec<&str> = candidates.iter().map(|o| o.kind().as_str()).collect();
            Pick::Ambiguous(ServiceError::Conflict(FieldError::new(
                "ambiguous_owner",
                format!(
                    "{} owners in your account match GSTIN {gstin} ({}); send the owner_id header to choose one",
                    candidates.len(),
                    kinds.join(", ")
                ),
                "owner_id",
            )))
        }
    })
}
