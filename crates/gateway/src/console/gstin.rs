//! Settings → Business Settings → a GSTIN: the NIC API username and password form (Save at the
//! top right, the password write-only), Verify, the status, and the change history naming who
//! made each change.

use gst_core::Gstin;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use secrecy::SecretString;
use serde::Deserialize;
use uuid::Uuid;

use super::errors::{error_parts, failure};
use super::layout::{
    csrf_field, field_errors, general_errors, has_error, human_date, human_time, page, respond,
    status_badge, Section,
};
use super::session::{ConsoleSession, CsrfForm, TokenOnlyForm};
use crate::ids::{AccountId, OwnerId};
use crate::service::credentials::{self, StoreRequest};
use crate::service::owners;
use crate::service::{verify, FieldError, ServiceError};
use crate::state::AppState;
use crate::storage::{AuditAction, AuditEvent, OwnerKind, OwnerRecord};

/// Flash messages after a redirect.
#[derive(Deserialize)]
pub struct GstinQuery {
    /// Set after a save.
    pub saved: Option<String>,
    /// Set after a verification.
    pub verified: Option<String>,
    /// Set after a password change the IRP accepted.
    pub password: Option<String>,
}

async fn actor_name(
    state: &AppState,
    account_id: AccountId,
    tokens: &[crate::storage::TokenRecord],
    event: &AuditEvent,
) -> String {
    let Some(id) = event.actor_token_id else {
        return if state.is_sandbox() {
            "API without a token (sandbox), or the command line".into()
        } else {
            "the command line".into()
        };
    };
    if let Ok(Some(session)) = state.store.get_web_session(account_id, id).await {
        return format!("{} (console)", session.email);
    }
    match tokens.iter().find(|t| t.id == id) {
        Some(t) => format!("API token “{}”", t.label),
        None => "an API token".into(),
    }
}

/// The GSTIN owner (or branch) a console page is about, with its GSTIN; otherwise the page
/// to answer with (not found, or back to Business Settings for a PAN owner).
pub(super) async fn gstin_of(
    state: &AppState,
    session: &ConsoleSession,
    owner_id: OwnerId,
) -> Result<(OwnerRecord, String), Response> {
    let owner = match owners::find_owner(state, session.record.account_id, owner_id).await {
        Ok(Some(owner)) => owner,
        Ok(None) => {
            return Err(failure(ServiceError::NotFound(FieldError::general(
                "owner_not_found",
                "there is no such GSTIN in your account",
            ))))
        }
        Err(e) => return Err(failure(e)),
    };
    match gstin_owner(&owner) {
        Some(gstin) => Ok((owner, gstin)),
        None => Err(Redirect::to("/console/settings/business").into_response()),
    }
}

fn gstin_owner(owner: &OwnerRecord) -> Option<String> {
    match owner.kind() {
        OwnerKind::Gstin | OwnerKind::Branch => owner.gstin().map(Gstin::to_string),
        OwnerKind::Pan => None,
    }
}

async fn gstin_page(
    state: &AppState,
    session: &ConsoleSession,
    owner_id: OwnerId,
    status: StatusCode,
    username_value: Option<&str>,
    errors: &[FieldError],
    notice: Option<&str>,
) -> Response {
    let actor = session.actor();
    let (owner, gstin) = match gstin_of(state, session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let record = match state.store.get_credential(owner_id, &gstin).await {
        Ok(r) => r,
        Err(e) => return failure(e.into()),
    };
    let history = match credentials::history(state, actor, owner_id, Some(&gstin)).await {
        Ok(h) => h,
        Err(e) => return failure(e),
    };
    let tokens = state
        .store
        .list_tokens(actor.account_id)
        .await
        .unwrap_or_default();
    // One lookup per distinct actor, not per row.
    let mut names: HashMap<Option<Uuid>, String> = HashMap::new();
    let mut history_rows = Vec::with_capacity(history.len());
    for event in history.iter().rev() {
        let name = match names.get(&event.actor_token_id) {
            Some(name) => name.clone(),
            None => {
                let name = actor_name(state, actor.account_id, &tokens, event).await;
                names.insert(event.actor_token_id, name.clone());
                name
            }
        };
        history_rows.push((event, name));
    }
    let username = username_value
        .map(str::to_string)
        .or_else(|| record.as_ref().map(|r| r.username.clone()))
        .unwrap_or_default();
    let status_code = record.as_ref().map(|r| r.verify_status);
    let title = format!("GSTIN {gstin}");
    let body = html! {
        p.breadcrumbs { a href="/console/settings/business" { "Business Settings" } " › " span.mono { (gstin) } " · " a #einvoices-link href={ "/console/settings/business/gstins/" (owner_id) "/einvoices" } { "E-invoices" } }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        form.card #credentials-form method="post" action={ "/console/settings/business/gstins/" (owner_id) "/credentials" } novalidate {
            div.form-head {
                h2 { "NIC API credentials for " span.mono { (gstin) } @if owner.kind() == OwnerKind::Branch { " (branch " (owner.name) ")" } }
                button #save type="submit" { "Save" }
            }
            (csrf_field(&session.csrf))
            (general_errors(errors, &["username", "password", "new_password"]))
            label for="nic-username" { "NIC API Username" }
            input #nic-username type="text" name="username" value=(username) autocomplete="off" spellcheck="false"
                maxlength="15" aria-describedby="nic-username-error" aria-invalid=[has_error(errors, "username").then_some("true")];
            (field_errors(errors, "username", "nic-username-error"))
            label for="nic-password" { "NIC API Password" }
            input #nic-password type="password" name="password" value="" autocomplete="new-password"
                aria-describedby="nic-password-state nic-password-error" aria-invalid=[has_error(errors, "password").then_some("true")];
            p.field-hint #nic-password-state {
                @match &record {
                    Some(r) => { "Password set on " (human_date(r.updated_at)) ", version " (r.version) ". It is never shown; type it again to change it." }
                    None => { "No password stored yet." }
                }
            }
            (field_errors(errors, "password", "nic-password-error"))
            @if record.is_none() {
                p.field-hint { "Not sure what to enter? " a #guided-setup href={ "/console/settings/business/gstins/" (owner_id) "/onboarding" } { "Set it up step by step" } "." }
            }
        }
        @if state.is_sandbox() {
            form.card #sandbox-user-form method="post" action={ "/console/settings/business/gstins/" (owner_id) "/sandbox-user" } {
                div.form-head {
                    h2 { "Sandbox credentials" }
                    button #sandbox-user.secondary type="submit" { "Create a sandbox API user" }
                }
                (csrf_field(&session.csrf))
                p.field-hint { "Sandbox mode: a new API user for this GSTIN at the IRP sandbox, created through us, saved and verified in one click." }
            }
        }
        @if let Some(r) = &record {
            form.card #change-password-form method="post" action={ "/console/settings/business/gstins/" (owner_id) "/password" } novalidate {
                div.form-head {
                    h2 { "Change password" }
                    button #change-password type="submit" { "Change password" }
                }
                (csrf_field(&session.csrf))
                p.field-hint { "After changing the password of " span.mono { (r.username) } " on the e-invoice portal, enter the new one here. It is checked at the IRP first: if the IRP does not accept it, the saved credentials stay in use." }
                label for="new-password" { "New NIC API Password" }
                input #new-password type="password" name="password" value="" autocomplete="new-password"
                    aria-describedby="new-password-error" aria-invalid=[has_error(errors, "new_password").then_some("true")];
                (field_errors(errors, "new_password", "new-password-error"))
            }
        }
        section.card aria-labelledby="status-heading" {
            div.form-head {
                h2 #status-heading { "Status at the IRP" }
                form method="post" action={ "/console/settings/business/gstins/" (owner_id) "/verify" } {
                    (csrf_field(&session.csrf))
                    button #verify.secondary type="submit" disabled[record.is_none()] { "Verify" }
                }
            }
            p { (status_badge(status_code)) }
            @if let Some(r) = &record {
                dl.facts {
                    dt { "Last verified" }
                    dd #last-verified { @match r.last_verified_at { Some(at) => (human_time(at)), None => "never" } }
                    @if let Some(err) = &r.last_error {
                        dt { "What the IRP said" }
                        dd #last-error { (err) }
                    }
                }
            } @else {
                p.muted { "Save the NIC API username and password that the taxpayer created on the e-invoice portal for us, then verify them." }
            }
        }
        section.card aria-labelledby="history-heading" {
            h2 #history-heading { "Change history" }
            @if history_rows.is_empty() {
                p.muted { "No changes yet." }
            } @else {
                div.table-wrap {
                    table {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "What" } } }
                        tbody {
                            @for (event, who) in &history_rows {
                                tr {
                                    td { (human_time(event.at)) }
                                    td { (who) }
                                    td {
                                        @match event.action {
                                            AuditAction::CredentialsStored => { "Saved username " span.mono { (event.username.as_deref().unwrap_or("")) } @if let Some(v) = event.version { ", version " (v) } }
                                            AuditAction::CredentialsDeleted => { "Deleted the credentials" }
                                            AuditAction::CredentialsRefused => { "The IRP refused a new password for " span.mono { (event.username.as_deref().unwrap_or("")) } "; the saved credentials stay in use" }
                                            other => { (other.as_str()) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(
        status,
        page(&session.page_user(), Section::Business, &title, body),
    )
}

/// `GET /console/settings/business/gstins/{owner_id}`.
pub async fn show_gstin(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(owner_id): Path<OwnerId>,
    Query(query): Query<GstinQuery>,
) -> Response {
    let notice = if query.saved.is_some() {
        Some("Saved.")
    } else if query.verified.is_some() {
        Some("Checked at the IRP.")
    } else if query.password.is_some() {
        Some("Password changed: the IRP accepted it.")
    } else {
        None
    };
    gstin_page(
        &state,
        &session,
        owner_id,
        StatusCode::OK,
        None,
        &[],
        notice,
    )
    .await
}

/// The credentials form (also step 3 of the "Add a GSTIN" wizard).
#[derive(Deserialize)]
pub struct CredentialsForm {
    /// NIC API username.
    #[serde(default)]
    pub username: String,
    /// NIC API password (write-only).
    pub password: Option<SecretString>,
}

impl CredentialsForm {
    /// The store request for a GSTIN (the username trimmed; a missing password is empty, which
    /// the store refuses with its own message).
    pub fn request(self, gstin: String) -> StoreRequest {
        StoreRequest {
            gstin,
            username: self.username.trim().to_string(),
            password: self
                .password
                .unwrap_or_else(|| SecretString::from(String::new())),
        }
    }
}

/// `POST /console/settings/business/gstins/{owner_id}/credentials`: the same store as the
/// API (validation, versioning, audit, session invalidation).
pub async fn save_credentials(
    State(state): State<AppState>,
    Path(owner_id): Path<OwnerId>,
    CsrfForm { session, form }: CsrfForm<CredentialsForm>,
) -> Response {
    let actor = session.actor();
    let (_, gstin) = match gstin_of(&state, &session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let username = form.username.trim().to_string();
    let request = form.request(gstin);
    match credentials::store(&state, actor, owner_id, request, None).await {
        Ok(_) => Redirect::to(&format!(
            "/console/settings/business/gstins/{owner_id}?saved=1"
        ))
        .into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            gstin_page(
                &state,
                &session,
                owner_id,
                status,
                Some(&username),
                &errors,
                None,
            )
            .await
        }
    }
}

/// `POST /console/settings/business/gstins/{owner_id}/verify`.
pub async fn verify_credentials(
    State(state): State<AppState>,
    Path(owner_id): Path<OwnerId>,
    CsrfForm { session, .. }: CsrfForm<TokenOnlyForm>,
) -> Response {
    let actor = session.actor();
    let (_, gstin) = match gstin_of(&state, &session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match verify::verify(&state, actor, owner_id, &gstin).await {
        Ok(_) => Redirect::to(&format!(
            "/console/settings/business/gstins/{owner_id}?verified=1"
        ))
        .into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            gstin_page(&state, &session, owner_id, status, None, &errors, None).await
        }
    }
}

/// The change-password form.
#[derive(Deserialize)]
pub struct ChangePasswordForm {
    /// The new NIC API password (write-only).
    pub password: Option<SecretString>,
}

/// `POST /console/settings/business/gstins/{owner_id}/password`: the new password is checked
/// at the IRP first (`verify=before`) and replaces the saved one only if the IRP accepts it;
/// the change history records either outcome.
pub async fn change_password(
    State(state): State<AppState>,
    Path(owner_id): Path<OwnerId>,
    CsrfForm { session, form }: CsrfForm<ChangePasswordForm>,
) -> Response {
    let actor = session.actor();
    let (_, gstin) = match gstin_of(&state, &session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let username = match state.store.get_credential(owner_id, &gstin).await {
        Ok(Some(record)) => record.username,
        Ok(None) => {
            return Redirect::to(&format!("/console/settings/business/gstins/{owner_id}"))
                .into_response()
        }
        Err(e) => return failure(e.into()),
    };
    let request = StoreRequest {
        gstin,
        username,
        password: form
            .password
            .unwrap_or_else(|| SecretString::from(String::new())),
    };
    let refused = match verify::store_if_accepted(&state, actor, owner_id, request, None).await {
        Ok(verify::CheckedStore::Replaced { .. }) => {
            return Redirect::to(&format!(
                "/console/settings/business/gstins/{owner_id}?password=changed"
            ))
            .into_response()
        }
        Ok(verify::CheckedStore::Kept { verification }) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError::new(
                "credentials_refused",
                format!(
                    "The IRP did not accept the new password, so the saved credentials stay in use. {}",
                    verification.last_error.unwrap_or_default()
                ),
                "new_password",
            )],
        ),
        Err(e) => {
            let (status, errors) = error_parts(e);
            let errors = errors
                .into_iter()
                .map(|e| match e.field.as_deref() {
                    Some("password") => FieldError { field: Some("new_password".into()), ..e },
                    _ => e,
                })
                .collect();
            (status, errors)
        }
    };
    gstin_page(
        &state, &session, owner_id, refused.0, None, &refused.1, None,
    )
    .await
}
