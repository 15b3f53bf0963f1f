//! Bulk onboarding of NIC credentials for groups with hundreds of GSTINs: each row is stored
//! (and optionally verified) on its own, so one bad row never stops the others and none is
//! half-written; verification is paced to an auth-call budget.

use secrecy::SecretString;

use super::credentials::{self, StoreRequest};
use super::owners::{self, NewOwner};
use super::{verify, Actor, ServiceError};
use crate::ids::OwnerId;
use crate::state::AppState;
use crate::storage::OwnerKind;

/// One row to import.
pub struct ImportRow {
    /// The GSTIN.
    pub gstin: String,
    /// The NIC API username.
    pub username: String,
    /// The NIC API password.
    pub password: SecretString,
    /// The owner; without one, the account's GSTIN owner for this GSTIN is used (or created).
    pub owner_id: Option<OwnerId>,
}

/// What happened to one row.
#[derive(Debug, Clone)]
pub struct RowResult {
    /// 1-based row number.
    pub row: usize,
    /// The GSTIN as given.
    pub gstin: String,
    /// The owner used.
    pub owner_id: Option<OwnerId>,
    /// `STORED` or `ERROR`.
    pub status: &'static str,
    /// The new credential version.
    pub version: Option<i64>,
    /// The IRP's verdict, when verification was asked for.
    pub verification: Option<&'static str>,
    /// What went wrong, or the verification advice.
    pub message: Option<String>,
}

fn describe(e: &ServiceError) -> String {
    e.details()
        .iter()
        .map(|f| format!("{}: {}", f.code, f.message))
        .collect::<Vec<_>>()
        .join("; ")
}

async fn owner_for(
    state: &AppState,
    actor: Actor,
    row: &ImportRow,
) -> Result<OwnerId, ServiceError> {
    if let Some(id) = row.owner_id {
        return Ok(id);
    }
    let gstin = row.gstin.trim().to_ascii_uppercase();
    let existing = owners::list_owners(state, actor)
        .await?
        .into_iter()
        .find(|o| {
            o.kind() == OwnerKind::Gstin && o.gstin().map(|g| g.as_str()) == Some(gstin.as_str())
        });
    match existing {
        Some(owner) => Ok(owner.id),
        None => Ok(owners::create_owner(
            state,
            actor,
            NewOwner {
                kind: "GSTIN".into(),
                gstin: Some(gstin),
                ..Default::default()
            },
        )
        .await?
        .id),
    }
}

/// Imports one row.
pub async fn import_row(
    state: &AppState,
    actor: Actor,
    number: usize,
    row: ImportRow,
    verify_at_irp: bool,
    request_id: Option<String>,
) -> RowResult {
    let mut result = RowResult {
        row: number,
        gstin: row.gstin.clone(),
        owner_id: row.owner_id,
        status: "ERROR",
        version: None,
        verification: None,
        message: None,
    };
    // Validate first, so that no owner is created for a row that cannot be stored.
    let request = StoreRequest {
        gstin: row.gstin.clone(),
        username: row.username.clone(),
        password: row.password.clone(),
    };
    if let Err(e) = credentials::validate(state, &request) {
        result.message = Some(describe(&e));
        return result;
    }
    let owner_id = match owner_for(state, actor, &row).await {
        Ok(id) => id,
        Err(e) => {
            result.message = Some(describe(&e));
            return result;
        }
    };
    result.owner_id = Some(owner_id);
    match credentials::store(state, actor, owner_id, request, request_id).await {
        Ok(version) => {
            result.status = "STORED";
            result.version = Some(version);
        }
        Err(e) => {
            result.message = Some(describe(&e));
            return result;
        }
    }
    if verify_at_irp {
        match verify::verify(state, actor, owner_id, &row.gstin).await {
            Ok(v) => {
                result.verification = Some(v.status.as_str());
                result.message = v.last_error;
            }
            Err(e) => result.message = Some(describe(&e)),
        }
    }
    result
}

/// Imports rows in order, pacing verification to `auth_per_second` rows a second.
pub async fn import(
    state: &AppState,
    actor: Actor,
    rows: Vec<ImportRow>,
    verify_at_irp: bool,
    auth_per_second: u32,
    request_id: Option<String>,
    mut progress: impl FnMut(&RowResult),
) -> Vec<RowResult> {
    let pace = std::time::Duration::from_secs_f64(1.0 / f64::from(auth_per_second.max(1)))
        .max(std::time::Duration::from_millis(1));
    let mut ticker = tokio::time::interval(pace);
    let mut results = Vec::with_capacity(rows.len());
    for (i, row) in rows.into_iter().enumerate() {
        if verify_at_irp {
            ticker.tick().await;
        }
        let result = import_row(state, actor, i + 1, row, verify_at_irp, request_id.clone()).await;
        progress(&result);
        results.push(result);
    }
    results
}
