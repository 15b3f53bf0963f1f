//! Webhooks of the caller's account: register (the signing secret is shown once), list,
//! delete, read the delivery log, and send a delivery again.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::clock::rfc3339;
use crate::events::OutboxEvent;
use crate::http::access::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::ApiJson;
use crate::service::webhooks::{self, NewWebhook};
use crate::state::AppState;
use crate::storage::{DeliveryRecord, WebhookRecord};

/// A webhook to register.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookBody {
    /// Where deliveries are POSTed: https (http only in sandbox mode), no credentials in it.
    #[schema(example = "https://erp.example.com/hooks/einvoice")]
    pub url: String,
    /// Event types to receive: `credentials.status_changed`, `credentials.password_age`,
    /// `einvoice.generation_failed`, `irp.unavailable`, `irp.recovered`. Empty or absent: all.
    #[serde(default)]
    pub events: Vec<String>,
}

/// A webhook as listed (never its secret).
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    /// Its id.
    pub id: Uuid,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
}

impl From<WebhookRecord> for WebhookView {
    fn from(r: WebhookRecord) -> Self {
        WebhookView {
            id: r.id,
            url: r.url,
            events: r.events.split(',').map(str::to_string).collect(),
            created_at: rfc3339(r.created_at),
        }
    }
}

/// A webhook just registered: the only time its secret is shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    /// The webhook.
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The Standard Webhooks signing secret (`whsec_…`). Shown once.
    pub secret: String,
}

/// The account's webhooks.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    /// Oldest first.
    pub webhooks: Vec<WebhookView>,
}

/// One event's delivery to a webhook.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    /// The event id (send it to the resend endpoint).
    pub event_id: Uuid,
    /// The `webhook-id` header of every attempt.
    pub message_id: String,
    /// The event type.
    pub event_type: String,
    /// The JSON body sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed` (given up after 24 hours, or the webhook deleted).
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// RFC 3339 time of the event.
    pub created_at: String,
    /// RFC 3339 time of the last attempt.
    pub last_attempt_at: Option<String>,
    /// The receiver's last HTTP status.
    pub last_status: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// RFC 3339 time of the next attempt, while pending.
    pub next_attempt_at: Option<String>,
    /// RFC 3339 time the receiver accepted it.
    pub delivered_at: Option<String>,
}

impl From<DeliveryRecord> for DeliveryView {
    fn from(r: DeliveryRecord) -> Self {
        let state = match (r.delivered_at, r.next_attempt_at) {
            (Some(_), None) => "delivered",
            (_, Some(_)) => "pending",
            (None, None) => "failed",
        };
        DeliveryView {
            event_id: r.event_id,
            message_id: OutboxEvent::message_id(r.event_id),
            event_type: r.event_type,
            payload: serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null),
            state: state.to_string(),
            attempts: r.attempts,
            created_at: rfc3339(r.created_at),
            last_attempt_at: r.last_attempt_at.map(rfc3339),
            last_status: r.last_status,
            last_error: r.last_error,
            next_attempt_at: r.next_attempt_at.map(rfc3339),
            delivered_at: r.delivered_at.map(rfc3339),
        }
    }
}

/// A webhook's newest deliveries.
#[derive(Serialize, ToSchema)]
pub struct DeliveryLog {
    /// The webhook.
    pub webhook: WebhookView,
    /// Newest first (at most 50).
    pub deliveries: Vec<DeliveryView>,
}

fn uuid_in_path(text: &str, field: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(text).map_err(|_| {
        ApiError::bad_request("invalid_id", format!("{field} must be a UUID"), Some(field))
    })
}

/// Register a webhook for the account's events.
#[utoipa::path(
    post,
    path = "/v2/webhooks",
    tag = "webhooks",
    request_body = CreateWebhookBody,
    responses(
        (status = 201, description = "Registered; the secret is shown once", body = CreatedWebhook),
        (status = 409, description = "The account already has 10 webhooks", body = ErrorBody),
        (status = 422, description = "Invalid URL or unknown event type", body = ErrorBody),
    )
)]
pub async fn create_webhook(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiJson(body): ApiJson<CreateWebhookBody>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let created = webhooks::create(
        &state,
        actor,
        NewWebhook {
            url: body.url,
            events: body.events,
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            webhook: created.webhook.into(),
            secret: created.secret.expose_secret().to_string(),
        }),
    ))
}

/// List the account's webhooks (without their secrets).
#[utoipa::path(
    get,
    path = "/v2/webhooks",
    tag = "webhooks",
    responses((status = 200, description = "Webhooks", body = WebhookList))
)]
pub async fn list_webhooks(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> ApiResult<Json<WebhookList>> {
    let webhooks = webhooks::list(&state, actor).await?;
    Ok(Json(WebhookList {
        webhooks: webhooks.into_iter().map(WebhookView::from).collect(),
    }))
}

/// Delete a webhook of the account; its pending deliveries are given up.
#[utoipa::path(
    delete,
    path = "/v2/webhooks/{id}",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
    )
)]
pub async fn delete_webhook(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    webhooks::delete(&state, actor, uuid_in_path(&id, "id")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The newest deliveries of a webhook of the account.
#[utoipa::path(
    get,
    path = "/v2/webhooks/{id}/deliveries",
    tag = "webhooks",
    params(("id" = Uuid, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The delivery log", body = DeliveryLog),
        (status = 404, description = "No such webhook in this account", body = ErrorBody),
    )
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryLog>> {
    let (webhook, deliveries) =
        webhooks::deliveries(&state, actor, uuid_in_path(&id, "id")?).await?;
    Ok(Json(DeliveryLog {
        webhook: webhook.into(),
        deliveries: deliveries.into_iter().map(DeliveryView::from).collect(),
    }))
}

/// Send a delivery again now, with the same `webhook-id`.
#[utoipa::path(
    post,
    path = "/v2/webhooks/{id}/deliveries/{event_id}/resend",
    tag = "webhooks",
    params(
        ("id" = Uuid, Path, description = "Webhook id"),
        ("event_id" = Uuid, Path, description = "Event id, from the delivery log"),
    ),
    responses(
        (status = 202, description = "Queued"),
        (status = 404, description = "No such delivery in this account", body = ErrorBody),
    )
)]
pub async fn resend_delivery(
    State(state): State<AppState>,
    Caller(actor): Caller,
    Path((id, event_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    webhooks::resend(
        &state,
        actor,
        uuid_in_path(&id, "id")?,
        uuid_in_path(&event_id, "event_id")?,
    )
    .await?;
    Ok(StatusCode::ACCEPTED)
}
