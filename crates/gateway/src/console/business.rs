//! Settings → Business Settings: businesses (PAN) with their GSTINs and branches, adding a
//! business or a GSTIN, and per GSTIN the NIC API username and password form (Save at the top
//! right, the password write-only), Verify, the status, and the change history.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use maud::{html, Markup};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::layout::{
    csrf_field, field_errors, general_errors, has_error, human_date, human_time, page, respond,
    status_badge, Section,
};
use super::session::{ConsoleSession, CsrfForm};
use crate::service::credentials::{self, StoreRequest};
use crate::service::owners::{self, NewOwner};
use crate::service::{verify, FieldError, ServiceError};
use crate::state::AppState;
use crate::storage::{AuditEvent, CredentialRecord, OwnerKind, OwnerRecord};

/// Splits a service error into the status to answer and the messages to show.
/// Form pages re-render with these; an internal error's cause is logged here, since a form
/// page carries no cause to the middleware that logs server errors.
pub fn error_parts(error: ServiceError) -> (StatusCode, Vec<FieldError>) {
    if let Some(cause) = error.cause() {
        tracing::error!(cause, "console request failed");
    }
    (error.status(), error.details())
}

fn failure(error: ServiceError) -> Response {
    let cause = error.cause();
    let message = error
        .details()
        .iter()
        .map(|e| e.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    let mut response =
        super::layout::error_page(error.status(), "This could not be done", &message);
    if let Some(cause) = cause {
        response
            .extensions_mut()
            .insert(crate::http::error::ServerErrorCause(cause));
    }
    response
}

/// What the add-a-business and add-a-GSTIN forms hold after a failed attempt.
#[derive(Default, Deserialize)]
pub struct AddForm {
    /// PAN (add a business).
    #[serde(default)]
    pub pan: String,
    /// GSTIN (add a GSTIN).
    #[serde(default)]
    pub gstin: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// The business a GSTIN belongs to (a PAN owner id), or empty.
    #[serde(default)]
    pub business: String,
}

struct Tree<'a> {
    businesses: Vec<(&'a OwnerRecord, Vec<&'a OwnerRecord>)>,
    loose_gstins: Vec<&'a OwnerRecord>,
    branches: HashMap<Uuid, Vec<&'a OwnerRecord>>,
}

fn tree(owners: &[OwnerRecord]) -> Tree<'_> {
    let mut branches: HashMap<Uuid, Vec<&OwnerRecord>> = HashMap::new();
    for o in owners.iter().filter(|o| o.kind == OwnerKind::Branch) {
        if let Some(parent) = o.parent_id {
            branches.entry(parent).or_default().push(o);
        }
    }
    let businesses: Vec<(&OwnerRecord, Vec<&OwnerRecord>)> = owners
        .iter()
        .filter(|o| o.kind == OwnerKind::Pan)
        .map(|b| {
            let gstins = owners
                .iter()
                .filter(|o| o.kind == OwnerKind::Gstin && o.parent_id == Some(b.id))
                .collect();
            (b, gstins)
        })
        .collect();
    let loose_gstins = owners
        .iter()
        .filter(|o| {
            o.kind == OwnerKind::Gstin
                && !o
                    .parent_id
                    .is_some_and(|p| businesses.iter().any(|(b, _)| b.id == p))
        })
        .collect();
    Tree {
        businesses,
        loose_gstins,
        branches,
    }
}

fn gstin_row(
    owner: &OwnerRecord,
    credentials: &HashMap<(Uuid, String), &CredentialRecord>,
    branches: &HashMap<Uuid, Vec<&OwnerRecord>>,
) -> Markup {
    let gstin = owner.gstin.clone().unwrap_or_default();
    let record = credentials.get(&(owner.id, gstin.clone()));
    html! {
        li.gstin {
            a href={ "/console/settings/business/gstins/" (owner.id) } {
                span.mono { (gstin) }
                @if owner.name != gstin { " " span.muted { (owner.name) } }
            }
            " " (status_badge(record.map(|r| r.verify_status.as_str())))
            @if let Some(list) = branches.get(&owner.id) {
                ul.branches {
                    @for b in list {
                        li { "Branch: " a href={ "/console/settings/business/gstins/" (b.id) } { (b.name) } }
                    }
                }
            }
        }
    }
}

async fn business_page(
    state: &AppState,
    session: &ConsoleSession,
    status: StatusCode,
    form: &AddForm,
    errors: &[FieldError],
    which_form: &str,
) -> Response {
    let actor = session.actor();
    let owners = match owners::list_owners(state, actor).await {
        Ok(o) => o,
        Err(e) => return failure(e),
    };
    let records = match state.store.list_credentials(actor.account_id).await {
        Ok(r) => r,
        Err(e) => return failure(e.into()),
    };
    let credentials: HashMap<(Uuid, String), &CredentialRecord> = records
        .iter()
        .map(|r| ((r.owner_id, r.gstin.clone()), r))
        .collect();
    let tree = tree(&owners);
    let business_errors: &[FieldError] = if which_form == "business" {
        errors
    } else {
        &[]
    };
    let gstin_errors: &[FieldError] = if which_form == "gstin" { errors } else { &[] };
    let body = html! {
        section aria-labelledby="businesses-heading" {
            h2 #businesses-heading { "Businesses and GSTINs" }
            @if tree.businesses.is_empty() && tree.loose_gstins.is_empty() {
                p.muted { "No business or GSTIN yet. Add one below." }
            }
            @for (business, gstins) in &tree.businesses {
                div.card.business {
                    h3 { (business.name) " " span.mono.muted { "PAN " (business.pan.as_deref().unwrap_or("")) } }
                    @if gstins.is_empty() { p.muted { "No GSTIN yet." } }
                    ul.gstins { @for g in gstins { (gstin_row(g, &credentials, &tree.branches)) } }
                }
            }
            @if !tree.loose_gstins.is_empty() {
                div.card.business {
                    h3 { "GSTINs without a business" }
                    ul.gstins { @for g in &tree.loose_gstins { (gstin_row(g, &credentials, &tree.branches)) } }
                }
            }
        }
        div.forms {
            form.card method="post" action="/console/settings/business/gstins" novalidate {
                h2 { "Add a GSTIN" }
                (csrf_field(&session.csrf))
                (general_errors(gstin_errors, &["gstin", "name", "parent_id"]))
                label for="new-gstin" { "GSTIN" }
                input #new-gstin.mono type="text" name="gstin" value=(form.gstin) maxlength="15" autocomplete="off"
                    data-check-gstin="new-gstin-check" aria-describedby="new-gstin-check new-gstin-error"
                    aria-invalid=[has_error(gstin_errors, "gstin").then_some("true")] required;
                p.field-hint #new-gstin-check aria-live="polite" {}
                (field_errors(gstin_errors, "gstin", "new-gstin-error"))
                label for="new-gstin-name" { "Name (optional)" }
                input #new-gstin-name type="text" name="name" value=(if which_form == "gstin" { form.name.as_str() } else { "" });
                (field_errors(gstin_errors, "name", "new-gstin-name-error"))
                label for="new-gstin-business" { "Business" }
                select #new-gstin-business name="business" {
                    option value="" { "(none)" }
                    @for (b, _) in &tree.businesses {
                        option value=(b.id) selected[form.business == b.id.to_string()] { (b.name) " (" (b.pan.as_deref().unwrap_or("")) ")" }
                    }
                }
                (field_errors(gstin_errors, "parent_id", "new-gstin-business-error"))
                button type="submit" { "Add GSTIN" }
            }
            form.card method="post" action="/console/settings/business/businesses" novalidate {
                h2 { "Add a business" }
                (csrf_field(&session.csrf))
                (general_errors(business_errors, &["pan", "name"]))
                label for="new-pan" { "PAN" }
                input #new-pan.mono type="text" name="pan" value=(form.pan) maxlength="10" autocomplete="off"
                    aria-describedby="new-pan-error" aria-invalid=[has_error(business_errors, "pan").then_some("true")] required;
                (field_errors(business_errors, "pan", "new-pan-error"))
                label for="new-business-name" { "Name" }
                input #new-business-name type="text" name="name" value=(if which_form == "business" { form.name.as_str() } else { "" });
                (field_errors(business_errors, "name", "new-business-name-error"))
                button type="submit" { "Add business" }
            }
        }
    };
    respond(
        status,
        page(
            &session.page_user(),
            Section::Business,
            "Business Settings",
            body,
        ),
    )
}

/// `GET /console/settings/business`.
pub async fn show(State(state): State<AppState>, session: ConsoleSession) -> Response {
    business_page(
        &state,
        &session,
        StatusCode::OK,
        &AddForm::default(),
        &[],
        "",
    )
    .await
}

/// `POST /console/settings/business/businesses`.
pub async fn add_business(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<AddForm>,
) -> Response {
    let new = NewOwner {
        kind: "PAN".into(),
        name: Some(form.name.clone()).filter(|n| !n.trim().is_empty()),
        pan: Some(form.pan.trim().to_ascii_uppercase()),
        ..NewOwner::default()
    };
    match owners::create_owner(&state, session.actor(), new).await {
        Ok(_) => Redirect::to("/console/settings/business").into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            business_page(&state, &session, status, &form, &errors, "business").await
        }
    }
}

/// `POST /console/settings/business/gstins`.
pub async fn add_gstin(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<AddForm>,
) -> Response {
    let parent_id = match form.business.trim() {
        "" => None,
        id => match Uuid::parse_str(id) {
            Ok(id) => Some(id),
            Err(_) => {
                let errors = [FieldError::new(
                    "invalid_parent",
                    "choose a business from the list",
                    "parent_id",
                )];
                return business_page(
                    &state,
                    &session,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &form,
                    &errors,
                    "gstin",
                )
                .await;
            }
        },
    };
    let new = NewOwner {
        kind: "GSTIN".into(),
        name: Some(form.name.clone()).filter(|n| !n.trim().is_empty()),
        gstin: Some(form.gstin.trim().to_ascii_uppercase()),
        parent_id,
        ..NewOwner::default()
    };
    match owners::create_owner(&state, session.actor(), new).await {
        Ok(owner) => {
            Redirect::to(&format!("/console/settings/business/gstins/{}", owner.id)).into_response()
        }
        Err(e) => {
            let (status, errors) = error_parts(e);
            business_page(&state, &session, status, &form, &errors, "gstin").await
        }
    }
}

/// The answer of the inline GSTIN check.
#[derive(Serialize)]
pub struct GstinCheck {
    /// Whether the GSTIN is valid in this mode.
    pub valid: bool,
    /// Why not, in plain words.
    pub reason: Option<String>,
}

/// `?value=` of the inline GSTIN check.
#[derive(Deserialize)]
pub struct CheckQuery {
    /// The GSTIN typed so far.
    #[serde(default)]
    pub value: String,
}

/// `GET /console/check/gstin?value=`: the same GSTIN rules as the API, for inline hints.
pub async fn check_gstin(
    State(state): State<AppState>,
    _session: ConsoleSession,
    Query(query): Query<CheckQuery>,
) -> Json<GstinCheck> {
    let value = query.value.trim().to_ascii_uppercase();
    match gst_core::Gstin::parse(&value, state.gstin_strictness()) {
        Ok(_) => Json(GstinCheck {
            valid: true,
            reason: None,
        }),
        Err(e) => Json(GstinCheck {
            valid: false,
            reason: Some(e.to_string()),
        }),
    }
}

/// Flash messages after a redirect.
#[derive(Deserialize)]
pub struct GstinQuery {
    /// Set after a save.
    pub saved: Option<String>,
    /// Set after a verification.
    pub verified: Option<String>,
}

async fn actor_name(
    state: &AppState,
    account_id: Uuid,
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
async fn gstin_of(
    state: &AppState,
    session: &ConsoleSession,
    owner_id: Uuid,
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
    match owner.kind {
        OwnerKind::Gstin | OwnerKind::Branch => owner.gstin.clone(),
        OwnerKind::Pan => None,
    }
}

async fn gstin_page(
    state: &AppState,
    session: &ConsoleSession,
    owner_id: Uuid,
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
    let mut history_rows = Vec::with_capacity(history.len());
    for event in history.iter().rev() {
        history_rows.push((
            event,
            actor_name(state, actor.account_id, &tokens, event).await,
        ));
    }
    let username = username_value
        .map(str::to_string)
        .or_else(|| record.as_ref().map(|r| r.username.clone()))
        .unwrap_or_default();
    let status_code = record.as_ref().map(|r| r.verify_status.as_str());
    let title = format!("GSTIN {gstin}");
    let body = html! {
        p.breadcrumbs { a href="/console/settings/business" { "Business Settings" } " › " span.mono { (gstin) } }
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        form.card #credentials-form method="post" action={ "/console/settings/business/gstins/" (owner_id) "/credentials" } novalidate {
            div.form-head {
                h2 { "NIC API credentials for " span.mono { (gstin) } @if owner.kind == OwnerKind::Branch { " (branch " (owner.name) ")" } }
                button #save type="submit" { "Save" }
            }
            (csrf_field(&session.csrf))
            (general_errors(errors, &["username", "password"]))
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
                                        @match event.action.as_str() {
                                            "nic_credentials.store" => { "Saved username " span.mono { (event.username.as_deref().unwrap_or("")) } @if let Some(v) = event.version { ", version " (v) } }
                                            "nic_credentials.delete" => { "Deleted the credentials" }
                                            other => { (other) }
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
    Path(owner_id): Path<Uuid>,
    Query(query): Query<GstinQuery>,
) -> Response {
    let notice = if query.saved.is_some() {
        Some("Saved.")
    } else if query.verified.is_some() {
        Some("Checked at the IRP.")
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

/// The credentials form.
#[derive(Deserialize)]
pub struct CredentialsForm {
    /// NIC API username.
    #[serde(default)]
    pub username: String,
    /// NIC API password (write-only).
    pub password: Option<SecretString>,
}

/// `POST /console/settings/business/gstins/{owner_id}/credentials`: the same store as the
/// API (validation, versioning, audit, session invalidation).
pub async fn save_credentials(
    State(state): State<AppState>,
    Path(owner_id): Path<Uuid>,
    CsrfForm { session, form }: CsrfForm<CredentialsForm>,
) -> Response {
    let actor = session.actor();
    let (_, gstin) = match gstin_of(&state, &session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request = StoreRequest {
        gstin,
        username: form.username.trim().to_string(),
        password: form
            .password
            .unwrap_or_else(|| SecretString::from(String::new())),
    };
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
                Some(form.username.trim()),
                &errors,
                None,
            )
            .await
        }
    }
}

/// The verify form has nothing but its CSRF token.
#[derive(Deserialize)]
pub struct VerifyForm {}

/// `POST /console/settings/business/gstins/{owner_id}/verify`.
pub async fn verify_credentials(
    State(state): State<AppState>,
    Path(owner_id): Path<Uuid>,
    CsrfForm { session, .. }: CsrfForm<VerifyForm>,
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
