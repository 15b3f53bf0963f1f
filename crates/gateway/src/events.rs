//! The events the gateway tells webhooks about, and their payloads in the Standard Webhooks
//! shape (`{"type", "timestamp", "data"}`). Built here once, so the store (which writes an event
//! into the outbox in the transaction of the change) and the services build the same thing.
//! Payloads name GSTINs, owners, statuses and documents; never a password, secret or token.

use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::Timestamp;
use crate::ids::{AccountId, OwnerId};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Stored credentials got a new status at the IRP (e.g. VERIFIED → WRONG_PASSWORD).
    CredentialsStatusChanged,
    /// A stored password passed the configured age.
    CredentialsPasswordAge,
    /// A document ended NOT_CREATED at the IRP.
    EinvoiceGenerationFailed,
    /// The IRP stopped answering (the circuit breaker opened).
    IrpUnavailable,
    /// The IRP answers again.
    IrpRecovered,
}

impl EventKind {
    /// Every kind, in the order the API lists them.
    pub const ALL: [EventKind; 5] = [
        EventKind::CredentialsStatusChanged,
        EventKind::CredentialsPasswordAge,
        EventKind::EinvoiceGenerationFailed,
        EventKind::IrpUnavailable,
        EventKind::IrpRecovered,
    ];

    /// The event type as webhooks receive it.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CredentialsStatusChanged => "credentials.status_changed",
            EventKind::CredentialsPasswordAge => "credentials.password_age",
            EventKind::EinvoiceGenerationFailed => "einvoice.generation_failed",
            EventKind::IrpUnavailable => "irp.unavailable",
            EventKind::IrpRecovered => "irp.recovered",
        }
    }

    /// Reads an event type.
    pub fn parse(text: &str) -> Option<Self> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One event, ready for the outbox: delivered to every live webhook of `account_id` (or of
/// every account, when `None`) that subscribed to its kind.
#[derive(Debug, Clone)]
pub struct OutboxEvent {
    /// The stable message id (`webhook-id` is `msg_` and this id, on every attempt).
    pub id: Uuid,
    /// What happened.
    pub kind: EventKind,
    /// Whose webhooks receive it; `None` for events about the IRP itself.
    pub account_id: Option<AccountId>,
    /// The JSON body.
    pub payload: String,
    /// When (Unix ms).
    pub at: Timestamp,
}

impl OutboxEvent {
    fn new(kind: EventKind, account_id: Option<AccountId>, data: Value, at: Timestamp) -> Self {
        let payload = json!({
            "type": kind.as_str(),
            "timestamp": at.rfc3339(),
            "data": data,
        });
        OutboxEvent {
            id: Uuid::new_v4(),
            kind,
            account_id,
            payload: payload.to_string(),
            at,
        }
    }

    /// The `webhook-id` header's value.
    pub fn message_id(id: Uuid) -> String {
        format!("msg_{}", id.simple())
    }
}

/// Where stored credentials are: their account, owner and GSTIN.
#[derive(Debug, Clone, Copy)]
pub struct CredentialPlace<'a> {
    /// The account.
    pub account_id: AccountId,
    /// The owner.
    pub owner_id: OwnerId,
    /// The GSTIN.
    pub gstin: &'a str,
}

/// `credentials.status_changed`: the new status, the previous one, and what to do.
pub fn status_changed(
    place: CredentialPlace<'_>,
    previous: &str,
    status: &str,
    advice: Option<&str>,
    at: Timestamp,
) -> OutboxEvent {
    OutboxEvent::new(
        EventKind::CredentialsStatusChanged,
        Some(place.account_id),
        json!({
            "owner_id": place.owner_id,
            "gstin": place.gstin,
            "previous_status": previous,
            "status": status,
            "advice": advice,
        }),
        at,
    )
}

/// `credentials.password_age`: the stored password is older than `age_days`.
pub fn password_age(
    place: CredentialPlace<'_>,
    username: &str,
    stored_at: Timestamp,
    age_days: u32,
    at: Timestamp,
) -> OutboxEvent {
    OutboxEvent::new(
        EventKind::CredentialsPasswordAge,
        Some(place.account_id),
        json!({
            "owner_id": place.owner_id,
            "gstin": place.gstin,
            "username": username,
            "stored_at": stored_at.rfc3339(),
            "age_days_limit": age_days,
            "advice": format!(
                "the NIC API password of {username} was stored more than {age_days} days ago; \
                 change it on the e-invoice portal and store the new one (verify=before keeps \
                 the old pair if the new one is refused)"
            ),
        }),
        at,
    )
}

/// `einvoice.generation_failed`: a document the IRP did not register, and why.
pub fn generation_failed(
    place: CredentialPlace<'_>,
    document: Value,
    errors: Value,
    at: Timestamp,
) -> OutboxEvent {
    OutboxEvent::new(
        EventKind::EinvoiceGenerationFailed,
        Some(place.account_id),
        json!({
            "owner_id": place.owner_id,
            "gstin": place.gstin,
            "document": document,
            "document_status": "NOT_CREATED",
            "errors": errors,
        }),
        at,
    )
}

/// `irp.unavailable` or `irp.recovered`, for every account.
pub fn irp_availability(available: bool, irp: &str, at: Timestamp) -> OutboxEvent {
    let (kind, advice) = if available {
        (
            EventKind::IrpRecovered,
            "the IRP answers again; documents that failed meanwhile can be sent again",
        )
    } else {
        (
            EventKind::IrpUnavailable,
            "the IRP is not answering; the gateway refuses calls for a short while and retries",
        )
    };
    OutboxEvent::new(kind, None, json!({ "irp": irp, "advice": advice }), at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_payloads_have_the_standard_shape() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("credentials.deleted"), None);
        let event = irp_availability(false, "NIC1", Timestamp(0));
        let body: Value = serde_json::from_str(&event.payload).unwrap();
        assert_eq!(body["type"], "irp.unavailable");
        assert_eq!(body["timestamp"], "1970-01-01T00:00:00Z");
        assert_eq!(body["data"]["irp"], "NIC1");
        assert!(OutboxEvent::message_id(event.id).starts_with("msg_"));
    }
}
