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

/// Which owner a call names: the `owner_id` header, the `branch` header, both or neither.
#[derive(Debug, Clone, Default)]
pub struct OwnerChoice {
    /// The owner's id, when sent.
    pub owner_id: Option<OwnerId>,
    /// A branch of the GSTIN, by its name, when sent.
    pub branch: Option<String>,
}

/// The owner a call is for. With `owner_id`, that owner, if it is the account's (another
/// account's owner reads as no owner); a `branch` sent with it must be that owner's name.
/// With only `branch`, the account's branch of that name under the GSTIN. With neither, as
/// ClearTax's API finds it from the token's account and the `gstin` header: the account's
/// GSTIN owner of that GSTIN, else the one owner with credentials for it; more than one
/// candidate is refused with their kinds, so the caller knows to send `owner_id`.
pub async fn resolve(
    state: &AppState,
    actor: Actor,
    choice: &OwnerChoice,
    gstin: &str,
) -> Result<OwnerId, ServiceError> {
    let branch = choice.branch.as_deref();
    let Some(owner_id) = choice.owner_id else {
        return match branch {
            Some(branch) => find_branch(state, actor, gstin, branch)
                .await?
                .ok_or_else(|| branch_not_found(gstin, branch)),
            None => resolve_gstin(state, actor, gstin, false).await,
        };
    };
    match find_owner(state, actor.account_id, owner_id).await? {
        Some(owner) => match branch {
            Some(branch) if !owner.name.trim().eq_ignore_ascii_case(branch) => {
                Err(ServiceError::Invalid(vec![FieldError::new(
                    "branch_mismatch",
                    format!(
                        "the branch header {branch:?} is not the name of owner {owner_id} ({:?})",
                        owner.name
                    ),
                    "branch",
                )]))
            }
            _ => Ok(owner.id),
        },
        None => Err(ServiceError::NotFound(FieldError::new(
            "owner_not_found",
            "no owner with this owner_id in your account",
            "owner_id",
        ))),
    }
}

/// The owner credentials stored without `owner_id` go to: as [`resolve`] finds it, and
/// without a candidate, a new GSTIN owner of the account (as ClearTax creates the business
/// when its credentials are first stored); with a `branch` header, that branch of the GSTIN
/// owner, made if the account has none of that name.
pub async fn resolve_or_create(
    state: &AppState,
    actor: Actor,
    branch: Option<&str>,
    gstin: &str,
) -> Result<OwnerId, ServiceError> {
    let Some(branch) = branch else {
        return resolve_gstin(state, actor, gstin, true).await;
    };
    if let Some(found) = find_branch(state, actor, gstin, branch).await? {
        return Ok(found);
    }
    let parent = resolve_gstin(state, actor, gstin, true).await?;
    let created = create_owner(
        state,
        actor,
        NewOwner {
            kind: OwnerKind::Branch.as_str().into(),
            name: Some(branch.to_string()),
            parent_id: Some(parent),
            ..NewOwner::default()
        },
    )
    .await?;
    Ok(created.id)
}

/// The account's branch of a GSTIN with this name (names compare without case).
async fn find_branch(
    state: &AppState,
    actor: Actor,
    gstin: &str,
    branch: &str,
) -> Result<Option<OwnerId>, ServiceError> {
    let gstin = gstin.trim().to_ascii_uppercase();
    let candidates = state
        .store
        .owners_for_gstin(actor.account_id, &gstin)
        .await?;
    Ok(candidates
        .iter()
        .find(|o| o.kind() == OwnerKind::Branch && o.name.trim().eq_ignore_ascii_case(branch))
        .map(|o| o.id))
}

fn branch_not_found(gstin: &str, branch: &str) -> ServiceError {
    ServiceError::NotFound(FieldError::new(
        "branch_not_found",
        format!("your account has no branch named {branch:?} under GSTIN {}; add it as an owner of kind BRANCH, or send the owner_id header", gstin.trim().to_ascii_uppercase()),
        "branch",
    ))
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
