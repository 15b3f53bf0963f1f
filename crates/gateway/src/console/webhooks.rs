//! Settings → Integrations → Webhooks: register a URL for credential-health and IRP events
//! (the signing secret shown once, with a copy button), delete it, read its delivery log and
//! send a delivery again. The same service functions back `/v2/webhooks`.

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
use crate::events::{EventKind, OutboxEvent};
use crate::service::webhooks::{self, NewWebhook};
use crate::service::FieldError;
use crate::state::AppState;

const WEBHOOKS: &str = "/console/settings/integrations/webhooks";

fn failed_page(session: &ConsoleSession, status: StatusCode, errors: &[FieldError]) -> Response {
    respond(
        status,
        page(
            &session.page_user(),
            Section::Integrations,
            "Webhooks",
            general_errors(errors, &[]),
        ),
    )
}

fn event_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::CredentialsStatusChanged => {
            "NIC credentials change status (e.g. a wrong password)"
        }
        EventKind::CredentialsPasswordAge => "A stored NIC password gets old",
        EventKind::EinvoiceGenerationFailed => "A document is not registered at the IRP",
        EventKind::IrpUnavailable => "The IRP stops answering",
        EventKind::IrpRecovered => "The IRP answers again",
    }
}

async fn webhooks_page(
    state: &AppState,
    session: &ConsoleSession,
    status: StatusCode,
    form: &WebhookForm,
    errors: &[FieldError],
    new_secret: Option<&SecretString>,
) -> Response {
    let registered = match webhooks::list(state, session.actor()).await {
        Ok(list) => list,
        Err(e) => {
            let (status, errors) = error_parts(e);
            return failed_page(session, status, &errors);
        }
    };
    let shown: Markup = match new_secret {
        Some(secret) => html! {
            div.card.notice role="status" {
                h2 { "Your webhook's signing secret" }
                p { "Copy it now: it is shown only this once. Deliveries are signed as Standard Webhooks sign them (" code { "webhook-id" } ", " code { "webhook-timestamp" } ", " code { "webhook-signature" } "), so any Standard Webhooks library verifies them with this secret." }
                div.copy-row {
                    label.visually-hidden for="new-secret" { "Signing secret" }
                    input #new-secret.mono type="text" readonly value=(secret.expose_secret()) autocomplete="off" spellcheck="false";
                    button.secondary type="button" data-copy="new-secret" { "Copy" }
                }
            }
        },
        None => html! {},
    };
    let body = html! {
        (shown)
        form.card method="post" action=(WEBHOOKS) novalidate {
            h2 { "Add a webhook" }
            (csrf_field(&session.csrf))
            (general_errors(errors, &["url", "events"]))
            label for="webhook-url" { "URL" }
            input #webhook-url type="url" name="url" value=(form.url) placeholder="https://erp.example.com/hooks/einvoice" maxlength="2000" aria-describedby="webhook-url-error" required;
            (field_errors(errors, "url", "webhook-url-error"))
            fieldset {
                legend { "Events (none ticked: all)" }
                @for kind in EventKind::ALL {
                    label.checkbox {
                        input type="checkbox" name=(kind.as_str()) value="on" checked[form.wants(kind)];
                        " " (event_label(kind)) " " code { (kind.as_str()) }
                    }
                }
            }
            (field_errors(errors, "events", "webhook-events-error"))
            button type="submit" { "Add webhook" }
        }
        section.card aria-labelledby="webhooks-heading" {
            h2 #webhooks-heading { "Webhooks" }
            @if registered.is_empty() {
                p.muted { "No webhooks yet." }
            } @else {
                div.table-wrap {
                    table #webhooks {
                        thead { tr { th scope="col" { "URL" } th scope="col" { "Events" } th scope="col" { "Added" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for w in &registered {
                                tr {
                                    td.mono { a href={ (WEBHOOKS) "/" (w.id) } { (w.url) } }
                                    td { @for event in w.events.split(',') { code { (event) } " " } }
                                    td { (human_time(w.created_at)) }
                                    td {
                                        form method="post" action={ (WEBHOOKS) "/" (w.id) "/delete" } {
                                            (csrf_field(&session.csrf))
                                            button.danger type="submit" aria-label={ "Delete the webhook to " (w.url) } { "Delete" }
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
            "Webhooks",
            body,
        ),
    )
}

/// The add-webhook form: the URL, and one checkbox per event type.
#[derive(Deserialize, Default)]
pub struct WebhookForm {
    /// Where deliveries go.
    #[serde(default)]
    pub url: String,
    #[serde(default, rename = "credentials.status_changed")]
    status_changed: Option<String>,
    #[serde(default, rename = "credentials.password_age")]
    password_age: Option<String>,
    #[serde(default, rename = "einvoice.generation_failed")]
    generation_failed: Option<String>,
    #[serde(default, rename = "irp.unavailable")]
    irp_unavailable: Option<String>,
    #[serde(default, rename = "irp.recovered")]
    irp_recovered: Option<String>,
}

impl WebhookForm {
    fn wants(&self, kind: EventKind) -> bool {
        match kind {
            EventKind::CredentialsStatusChanged => self.status_changed.is_some(),
            EventKind::CredentialsPasswordAge => self.password_age.is_some(),
            EventKind::EinvoiceGenerationFailed => self.generation_failed.is_some(),
            EventKind::IrpUnavailable => self.irp_unavailable.is_some(),
            EventKind::IrpRecovered => self.irp_recovered.is_some(),
        }
    }
}

/// `GET /console/settings/integrations/webhooks`.
pub async fn show(State(state): State<AppState>, session: ConsoleSession) -> Response {
    webhooks_page(
        &state,
        &session,
        StatusCode::OK,
        &WebhookForm::default(),
        &[],
        None,
    )
    .await
}

/// `POST /console/settings/integrations/webhooks`: answers with the page that shows the new
/// secret once (no redirect, so it never sits in a URL or history entry).
pub async fn create(
    State(state): State<AppState>,
    CsrfForm { session, form }: CsrfForm<WebhookForm>,
) -> Response {
    let events = EventKind::ALL
        .into_iter()
        .filter(|kind| form.wants(*kind))
        .map(|kind| kind.as_str().to_string())
        .collect();
    let new = NewWebhook {
        url: form.url.clone(),
        events,
    };
    match webhooks::create(&state, session.actor(), new).await {
        Ok(created) => {
            tracing::info!(webhook_id = %created.webhook.id, "webhook added in the console");
            webhooks_page(
                &state,
                &session,
                StatusCode::OK,
                &WebhookForm::default(),
                &[],
                Some(&created.secret),
            )
            .await
        }
        Err(e) => {
            let (status, errors) = error_parts(e);
            webhooks_page(&state, &session, status, &form, &errors, None).await
        }
    }
}

/// `POST /console/settings/integrations/webhooks/{id}/delete`.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    CsrfForm { session, .. }: CsrfForm<TokenOnlyForm>,
) -> Response {
    match webhooks::delete(&state, session.actor(), id).await {
        Ok(()) => Redirect::to(WEBHOOKS).into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            failed_page(&session, status, &errors)
        }
    }
}

/// `GET /console/settings/integrations/webhooks/{id}`: the delivery log, with a re-send
/// button per delivery.
pub async fn log(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    session: ConsoleSession,
) -> Response {
    let (webhook, deliveries) = match webhooks::deliveries(&state, session.actor(), id).await {
        Ok(found) => found,
        Err(e) => {
            let (status, errors) = error_parts(e);
            return failed_page(&session, status, &errors);
        }
    };
    let body = html! {
        p { a href=(WEBHOOKS) { "← Webhooks" } }
        section.card aria-labelledby="log-heading" {
            h2 #log-heading { "Deliveries to " span.mono { (webhook.url) } }
            @if deliveries.is_empty() {
                p.muted { "Nothing delivered yet." }
            } @else {
                div.table-wrap {
                    table #deliveries {
                        thead { tr { th scope="col" { "Event" } th scope="col" { "Happened" } th scope="col" { "State" } th scope="col" { "Attempts" } th scope="col" { "Last answer" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for d in &deliveries {
                                tr {
                                    td { code { (d.event_type) } br; span.mono.muted { (OutboxEvent::message_id(d.event_id)) } }
                                    td { (human_time(d.created_at)) }
                                    td {
                                        @match (d.delivered_at, d.next_attempt_at) {
                                            (_, Some(at)) => { "pending, next try " (human_time(at)) }
                                            (Some(at), None) => { "delivered " (human_time(at)) }
                                            (None, None) => "failed",
                                        }
                                    }
                                    td { (d.attempts) }
                                    td {
                                        @if let Some(status) = d.last_status { "HTTP " (status) " " }
                                        @if let Some(error) = &d.last_error { span.muted { (error) } }
                                    }
                                    td {
                                        form method="post" action={ (WEBHOOKS) "/" (webhook.id) "/deliveries/" (d.event_id) "/resend" } {
                                            (csrf_field(&session.csrf))
                                            button.secondary type="submit" aria-label={ "Send " (d.event_type) " again" } { "Send again" }
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
        StatusCode::OK,
        page(
            &session.page_user(),
            Section::Integrations,
            "Webhook deliveries",
            body,
        ),
    )
}

/// `POST /console/settings/integrations/webhooks/{id}/deliveries/{event_id}/resend`.
pub async fn resend(
    State(state): State<AppState>,
    Path((id, event_id)): Path<(Uuid, Uuid)>,
    CsrfForm { session, .. }: CsrfForm<TokenOnlyForm>,
) -> Response {
    match webhooks::resend(&state, session.actor(), id, event_id).await {
        Ok(()) => Redirect::to(&format!("{WEBHOOKS}/{id}")).into_response(),
        Err(e) => {
            let (status, errors) = error_parts(e);
            failed_page(&session, status, &errors)
        }
    }
}
