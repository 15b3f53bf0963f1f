//! Settings → Integrations: create a labelled API token (its value shown once, with a copy
//! button), list tokens with their last use, and revoke them. The same service functions back
//! `POST /v2/auth/tokens` and the CLI.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use uuid::Uuid;

use super::errors::error_parts;
use super::layout::{csrf_field, field_errors, general_errors, human_time, page, respond, Section};
use super::session::{ConsoleSession, CsrfForm, TokenOnlyForm};
use crate::service::{auth, FieldError};
use crate::state::AppState;

async fn integrations_page(
    state: &AppState,
    session: &ConsoleSession,
    status: StatusCode,
    label: &str,
    errors: &[FieldError],
    new_token: Option<&SecretString>,
) -> Response {
    let tokens = match auth::list_tokens(state, session.actor()).await {
        Ok(t) => t,
        Err(e) => {
            let (status, errors) = error_parts(e);
            return respond(
                status,
                page(
                    &session.page_user(),
                    Section::Integrations,
                    "Integrations",
                    general_errors(&errors, &[]),
                ),
            );
        }
    };
    let shown: Markup = match new_token {
        Some(value) => html! {
            div.card.notice role="status" {
                h2 { "Your new API token" }
                p { "Copy it now: it is shown only this once. Send it in the " code { "X-Cleartax-Auth-Token" } " header." }
                div.copy-row {
                    label.visually-hidden for="new-token" { "New API token" }
                    input #new-token.mono type="text" readonly value=(value.expose_secret()) autocomplete="off" spellcheck="false";
                    button.secondary type="button" data-copy="new-token" { "Copy" }
                }
            }
        },
        None => html! {},
    };
    let body = html! {
        (shown)
        form.card method="post" action="/console/settings/integrations/tokens" novalidate {
            h2 { "Create an API token" }
            (csrf_field(&session.csrf))
            (general_errors(errors, &["label"]))
            label for="token-label" { "Label" }
            input #token-label type="text" name="label" value=(label) placeholder="e.g. SAP production" maxlength="100" aria-describedby="token-label-error" required;
            (field_errors(errors, "label", "token-label-error"))
            button type="submit" { "Create token" }
        }
        section.card aria-labelledby="webhooks-link-heading" {
            h2 #webhooks-link-heading { "Webhooks" }
            p { "Be told when stored NIC credentials stop working, a password gets old, a document is not registered, or the IRP goes down. " a href="/console/settings/integrations/webhooks" { "Manage webhooks" } }
        }
        section.card aria-labelledby="tokens-heading" {
            h2 #tokens-heading { "API tokens" }
            @if tokens.is_empty() {
                p.muted { "No tokens yet." }
            } @else {
                div.table-wrap {
                    table #tokens {
                        thead { tr { th scope="col" { "Label" } th scope="col" { "Created" } th scope="col" { "Last used" } th scope="col" { "State" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for t in &tokens {
                                tr {
                                    td { (t.label) }
                                    td { (human_time(t.created_at)) }
                                    td { @match t.last_used_at { Some(at) => (human_time(at)), None => "never" } }
                                    td { @match t.revoked_at { Some(at) => { "revoked " (human_time(at)) }, None => "active" } }
                                    td {
                                        @if t.revoked_at.is_none() {
                                            form method="post" action={ "/console/settings/integrations/tokens/" (t.id) "/revoke" } {
                                                (csrf_field(&session.csrf))
                                                button.danger type="submit" aria-label={ "Revoke " (t.label) } { "Revoke" }
                                            }
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
        page(
            &session.page_user(),
            Section::Integrations,
            "Integrations",
            body,
        ),
    )
}

/// `GET /console/settings/integrations`.
pub async fn show(State(state): State<AppState>, session: ConsoleSession) -> Response {
    integrations_page(&state, &session, StatusCode::OK, "", &[], None).await
}

/// The create-token form.
#[derive(Deserialize)]
pub struct TokenForm {
    /// The token's label.
    #[serde(default)]
    pub label: String,
}

/// `POST /console/settings/integrations/tokens`: answers with the page that shows the new
/// token once (no redirect, so the value never sits in a URL or history entry).
pub async fn create(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<TokenForm>,
) -> Response {
    let actor = session.actor();
    match auth::issue_token(
        &state,
        actor.account_id,
        Some(session.record.user_id),
        &form.label,
    )
    .await
    {
        Ok(issued) => {
            tracing::info!(token_id = %issued.record.id, "API token created in the console");
            integrations_page(
                &state,
                &session,
                StatusCode::OK,
                "",
                &[],
                Some(&issued.value),
            )
            .await
        }
        Err(e) => {
            let (status, errors) = error_parts(e);
            integrations_page(&state, &session, status, &form.label, &errors, None).await
        }
    }
}

/// `POST /console/settings/integrations/tokens/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    Path(token_id): Path<Uuid>,
    CsrfForm { session, .. }: CsrfForm<TokenOnlyForm>,
) -> Response {
    match auth::revoke_token(&state, session.actor(), token_id).await {
        Ok(()) => Redirect::to("/console/settings/integrations").into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            integrations_page(&state, &session, status, "", &errors, None).await
        }
    }
}
