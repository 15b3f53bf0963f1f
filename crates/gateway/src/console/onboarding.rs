//! Settings → Business Settings → "Add a GSTIN" step by step, as the seed documents describe
//! the journey: 1. the GSTIN (state and PAN shown, checked as it is typed); 2. creating the API
//! user on the e-invoice portal through us (our name and client ID in large type); 3. the
//! username and password, Save & Verify; 4. the outcome with the next step in plain words. In
//! sandbox mode, one click creates a sandbox API user instead of steps 2 and 3. Every step is
//! a plain form: no JavaScript needed.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::errors::{error_parts, failure};
use super::gstin::{gstin_of, CredentialsForm};
use super::layout::{
    csrf_field, field_errors, general_errors, has_error, page, respond, status_badge, Section,
};
use super::session::TokenOnlyForm;
use super::session::{ConsoleSession, CsrfForm};
use crate::config::Mode;
use crate::ids::OwnerId;
use crate::service::credentials;
use crate::service::onboarding::{self, GspIdentity};
use crate::service::sandbox_users::{self, SandboxUserRequest};
use crate::service::{owners, verify, FieldError};
use crate::state::AppState;

fn wizard_path(owner_id: OwnerId) -> String {
    format!("/console/settings/business/gstins/{owner_id}/onboarding")
}

fn steps_bar(current: u8) -> Markup {
    let names = [
        "The GSTIN",
        "Create the API user",
        "Save & Verify",
        "Result",
    ];
    html! {
        ol.wizard-steps aria-label="Steps" {
            @for (i, name) in names.iter().enumerate() {
                @let n = i as u8 + 1;
                li aria-current=[(n == current).then_some("step")] class=(if n < current { "done" } else if n == current { "current" } else { "" }) {
                    (n) ". " (name)
                }
            }
        }
    }
}

/// Step 1's form.
#[derive(Deserialize, Default)]
pub struct StartForm {
    /// The GSTIN.
    #[serde(default)]
    pub gstin: String,
}

fn start_page(session: &ConsoleSession, form: &StartForm, errors: &[FieldError]) -> Markup {
    let body = html! {
        p.breadcrumbs { a href="/console/settings/business" { "Business Settings" } " › Add a GSTIN" }
        (steps_bar(1))
        form.card #wizard-start method="post" action="/console/settings/business/gstins/new" novalidate {
            h2 { "1. The GSTIN" }
            (csrf_field(&session.csrf))
            (general_errors(errors, &["gstin"]))
            label for="wizard-gstin" { "GSTIN" }
            input #wizard-gstin.mono.big type="text" name="gstin" value=(form.gstin) maxlength="15" autocomplete="off"
                data-check-gstin="wizard-gstin-check" aria-describedby="wizard-gstin-check wizard-gstin-error"
                aria-invalid=[has_error(errors, "gstin").then_some("true")] required;
            p.field-hint #wizard-gstin-check aria-live="polite" { "15 characters: the state code, the PAN, then three more. Its state and PAN are shown once it is checked." }
            (field_errors(errors, "gstin", "wizard-gstin-error"))
            button #wizard-next type="submit" { "Next" }
        }
    };
    page(&session.page_user(), Section::Business, "Add a GSTIN", body)
}

/// `GET /console/settings/business/gstins/new`: step 1.
pub async fn start(session: ConsoleSession) -> Response {
    respond(
        StatusCode::OK,
        start_page(&session, &StartForm::default(), &[]),
    )
}

/// `POST /console/settings/business/gstins/new`: the account's owner of the GSTIN (made if
/// there is none), then step 2.
pub async fn submit_start(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<StartForm>,
) -> Response {
    let gstin = form.gstin.trim().to_ascii_uppercase();
    let checked = credentials::parse_gstin_param(&state, &gstin).map_err(error_parts);
    let result = match checked {
        Ok(gstin) => owners::resolve_or_create(&state, session.actor(), None, gstin.as_str())
            .await
            .map_err(error_parts),
        Err(e) => Err(e),
    };
    match result {
        Ok(owner_id) => Redirect::to(&wizard_path(owner_id)).into_response(),
        Err((status, errors)) => {
            let status = if status == StatusCode::BAD_REQUEST {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                status
            };
            respond(status, start_page(&session, &form, &errors))
        }
    }
}

/// `?done=1` after Save & Verify or a sandbox API user: show step 4.
#[derive(Deserialize)]
pub struct WizardQuery {
    /// Set once credentials were saved and checked.
    pub done: Option<String>,
}

fn identity_card(gsp: &GspIdentity) -> Markup {
    html! {
        div.gsp-identity #gsp-identity {
            p { "Choose this GSP on the portal:" }
            p.big #gsp-name { (gsp.gsp_name) }
            @if let Some(client_id) = &gsp.client_id {
                label for="gsp-client-id" { "Our client ID" }
                div.copy-row {
                    input #gsp-client-id.mono.big type="text" value=(client_id) readonly;
                    button.secondary type="button" data-copy="gsp-client-id" { "Copy" }
                }
            }
            p { "The portal: " a #portal-link href=(gsp.portal_url) target="_blank" rel="noopener" { (gsp.portal_url) } }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn wizard_page(
    state: &AppState,
    session: &ConsoleSession,
    owner_id: OwnerId,
    status: StatusCode,
    username_value: &str,
    errors: &[FieldError],
    show_outcome: bool,
) -> Response {
    let (_, gstin) = match gstin_of(state, session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let record = match state.store.get_credential(owner_id, &gstin).await {
        Ok(r) => r,
        Err(e) => return failure(e.into()),
    };
    let gsp = onboarding::identity(state);
    let steps = onboarding::steps(&gsp);
    let state_name = gstin
        .get(..2)
        .and_then(|code| code.parse::<u8>().ok())
        .and_then(gst_core::state_name)
        .unwrap_or("unknown state");
    let pan = gstin.get(2..12).unwrap_or("");
    let outcome = record.as_ref().filter(|_| show_outcome).map(|r| {
        (
            r.verify_status,
            onboarding::next_step(r.verify_status, &gsp),
        )
    });
    let current = if outcome.is_some() { 4 } else { 2 };
    let sandbox = state.settings.mode == Mode::Sandbox;
    let gstin_page = format!("/console/settings/business/gstins/{owner_id}");
    let body = html! {
        p.breadcrumbs { a href="/console/settings/business" { "Business Settings" } " › Add a GSTIN" }
        (steps_bar(current))
        section.card #gstin-facts aria-labelledby="facts-heading" {
            h2 #facts-heading { "1. The GSTIN" }
            dl.facts {
                dt { "GSTIN" } dd.mono #wizard-gstin-value { (gstin) }
                dt { "State" } dd #wizard-state { (state_name) " (" (gstin.get(..2).unwrap_or("")) ")" }
                dt { "PAN" } dd.mono #wizard-pan { (pan) }
            }
        }
        @if let Some((verdict, next)) = &outcome {
            section.card #outcome aria-labelledby="outcome-heading" {
                h2 #outcome-heading { "4. Result" }
                p { (status_badge(Some(*verdict))) }
                p #next-step { (next) }
                @if *verdict == crate::storage::VerificationStatus::Verified {
                    p { a #done href=(gstin_page) { "Done: open the GSTIN" } }
                }
            }
        }
        section.card #step-create aria-labelledby="create-heading" {
            h2 #create-heading { "2. Create the API user through " (gsp.gsp_name) }
            p { "The taxpayer creates the NIC API username and password on the e-invoice portal, choosing us as their GSP. A user created for another GSP, or for direct access, does not work here." }
            (identity_card(&gsp))
            details #steps-existing open {
                summary { "I already log in to the e-invoice portal" }
                ol { @for step in &steps.existing_login { li { (step) } } }
            }
            details #steps-first-time {
                summary { "I have never used the e-invoice portal" }
                ol { @for step in &steps.first_time { li { (step) } } }
            }
            @if sandbox {
                form #sandbox-user-form method="post" action={ "/console/settings/business/gstins/" (owner_id) "/sandbox-user" } {
                    (csrf_field(&session.csrf))
                    p.muted { "Sandbox mode: skip the portal. We create a sandbox API user for this GSTIN, save it and verify it." }
                    button #sandbox-user.secondary type="submit" { "Create a sandbox API user" }
                }
            }
        }
        form.card #step-save method="post" action=(wizard_path(owner_id)) novalidate {
            h2 { "3. Enter the API user, then Save & Verify" }
            (csrf_field(&session.csrf))
            (general_errors(errors, &["username", "password"]))
            label for="wizard-username" { "NIC API Username" }
            input #wizard-username type="text" name="username" value=(username_value) autocomplete="off" spellcheck="false"
                maxlength="15" aria-describedby="wizard-username-error" aria-invalid=[has_error(errors, "username").then_some("true")];
            (field_errors(errors, "username", "wizard-username-error"))
            label for="wizard-password" { "NIC API Password" }
            input #wizard-password type="password" name="password" value="" autocomplete="new-password"
                aria-describedby="wizard-password-error" aria-invalid=[has_error(errors, "password").then_some("true")];
            (field_errors(errors, "password", "wizard-password-error"))
            button #save-verify type="submit" { "Save & Verify" }
        }
    };
    respond(
        status,
        page(&session.page_user(), Section::Business, "Add a GSTIN", body),
    )
}

/// `GET /console/settings/business/gstins/{owner_id}/onboarding`: steps 2 to 4.
pub async fn show(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(owner_id): Path<OwnerId>,
    Query(query): Query<WizardQuery>,
) -> Response {
    wizard_page(
        &state,
        &session,
        owner_id,
        StatusCode::OK,
        "",
        &[],
        query.done.is_some(),
    )
    .await
}

/// `POST /console/settings/business/gstins/{owner_id}/onboarding`: Save & Verify (the same
/// store as the API, then a check at the IRP), then step 4.
pub async fn save_and_verify(
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
    let request = form.request(gstin.clone());
    let result = match credentials::store(&state, actor, owner_id, request, None).await {
        Ok(_) => verify::verify(&state, actor, owner_id, &gstin)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Redirect::to(&format!("{}?done=1", wizard_path(owner_id))).into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            wizard_page(
                &state, &session, owner_id, status, &username, &errors, false,
            )
            .await
        }
    }
}

/// `POST /console/settings/business/gstins/{owner_id}/sandbox-user`: sandbox mode only; a
/// sandbox API user for this GSTIN, saved and verified, then step 4.
pub async fn create_sandbox_user(
    State(state): State<AppState>,
    Path(owner_id): Path<OwnerId>,
    CsrfForm { session, .. }: CsrfForm<TokenOnlyForm>,
) -> Response {
    let (_, gstin) = match gstin_of(&state, &session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let request = SandboxUserRequest {
        gstin: Some(gstin),
        owner_id: Some(owner_id),
        ..SandboxUserRequest::default()
    };
    match sandbox_users::create(&state, session.actor(), request, None).await {
        Ok(_) => Redirect::to(&format!("{}?done=1", wizard_path(owner_id))).into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            wizard_page(&state, &session, owner_id, status, "", &errors, false).await
        }
    }
}
