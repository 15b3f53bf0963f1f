//! Credential-health webhooks over real HTTP, on both backends: a local receiver on port 0
//! verifies every delivery with the `standardwebhooks` crate (what receivers use), fails twice
//! and then recovers (same `webhook-id` on every attempt); the delivery log and a manual
//! re-send; `einvoice.generation_failed` for a document the IRP refused, and
//! `credentials.password_age` once per version; another account's webhook never hears of it
//! and cannot read the log; no password in any payload; bad input named by field.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

/// A delivery as the receiver saw it.
pub(crate) struct Received {
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
    answered: u16,
}

/// A webhook receiver on port 0 that answers 500 to its first `failures` requests.
pub(crate) async fn receiver(failures: usize) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (sender, received) = mpsc::unbounded_channel();
    let remaining = Arc::new(AtomicUsize::new(failures));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let sender = sender.clone();
            let remaining = remaining.clone();
            async move {
                let fail = remaining
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let status = if fail {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                };
                let _ = sender.send(Received {
                    headers,
                    body,
                    answered: status.as_u16(),
                });
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

pub(crate) async fn next(received: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(30), received.recv())
        .await
        .expect("a delivery within 30 s")
        .unwrap()
}

pub(crate) fn verified(secret: &str, delivery: &Received) -> Value {
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(delivery.body.as_bytes(), &delivery.headers)
        .expect("the signature verifies");
    serde_json::from_str(&delivery.body).unwrap()
}

fn fast_retries(settings: &mut gateway::Settings) {
    settings.webhooks.retry_base = Duration::from_millis(20);
}

async fn create(app: &TestApp, token: Option<&str>, body: Value) -> crate::helpers::Response {
    let mut request = app.client.post(app.url("/v2/webhooks")).json(&body);
    if let Some(token) = token {
        request = request.header("X-Cleartax-Auth-Token", token);
    }
    app.send(request).await
}

async fn lifecycle(db: Db) {
    let options = Options {
        adjust: Some(fast_retries),
        ..Options::mode("sandbox")
    };
    let Some(app) = TestApp::spawn(db, options).await else {
        return;
    };
    let (url, mut received) = receiver(2).await;
    let (other_url, _other_received) = receiver(0).await;

    // Bad input, named by field.
    let bad = create(&app, None, json!({"url": "ftp://example.com/x"})).await;
    assert_eq!(
        (bad.status, bad.error_codes()),
        (422, vec!["invalid_url".to_string()])
    );
    assert_eq!(bad.body["errorDetails"][0]["field"], "url");
    let bad = create(
        &app,
        None,
        json!({"url": url, "events": ["credentials.deleted"]}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.error_codes()),
        (422, vec!["unknown_event".to_string()])
    );
    assert_eq!(bad.body["errorDetails"][0]["field"], "events");
    let bad = create(&app, None, json!({"url": "http://user:pw@example.com/x"})).await;
    assert_eq!(bad.error_codes(), ["invalid_url"]);

    // The sandbox account's webhook; another account's, for every event.
    let created = create(
        &app,
        None,
        json!({"url": url, "events": ["credentials.status_changed", "einvoice.generation_failed"]}),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let id = created.body["id"].as_str().unwrap().to_string();
    let (_, token_b) = app.new_account("b@webhooks.test").await;
    let other = create(&app, Some(&token_b), json!({"url": other_url})).await;
    assert_eq!(other.status, 201);
    let other_id = other.body["id"].as_str().unwrap().to_string();
    assert_eq!(other.body["events"].as_array().unwrap().len(), 5);

    let listed = app.send(app.client.get(app.url("/v2/webhooks"))).await;
    assert_eq!(listed.body["webhooks"].as_array().unwrap().len(), 1);
    assert!(
        !listed.body.to_string().contains(&secret),
        "the secret is listed"
    );

    // One click: the sandbox API user is stored (UNVERIFIED) and verified (VERIFIED).
    let user = app
        .send(
            app.client
                .post(app.url("/v2/sandbox/api-users"))
                .json(&json!({"state_code": "29"})),
        )
        .await;
    assert_eq!(user.status, 200, "{:?}", user.body);
    let gstin = user.body["gstin"].as_str().unwrap().to_string();

    // Two failures, then the receiver recovers: three attempts, one webhook-id, all signed.
    let attempts = [
        next(&mut received).await,
        next(&mut received).await,
        next(&mut received).await,
    ];
    assert_eq!(
        attempts.iter().map(|a| a.answered).collect::<Vec<_>>(),
        [500, 500, 204]
    );
    let ids: Vec<_> = attempts
        .iter()
        .map(|a| a.headers["webhook-id"].clone())
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    for attempt in &attempts {
        let event = verified(&secret, attempt);
        assert_eq!(event["type"], "credentials.status_changed");
        assert_eq!(event["data"]["gstin"], gstin.as_str());
        assert_eq!(event["data"]["previous_status"], "UNVERIFIED");
        assert_eq!(event["data"]["status"], "VERIFIED");
        assert!(!attempt.body.contains("Sb1@"), "a password in the payload");
    }
    let forged = Received {
        headers: attempts[2].headers.clone(),
        body: attempts[2].body.replace("VERIFIED", "BLOCKED"),
        answered: 0,
    };
    assert!(standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(forged.body.as_bytes(), &forged.headers)
        .is_err());

    // The delivery log, then a manual re-send with the same webhook-id.
    // The receiver answered; the gateway records that right after.
    let log = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let log = app
                .send(
                    app.client
                        .get(app.url(&format!("/v2/webhooks/{id}/deliveries"))),
                )
                .await;
            assert_eq!(log.status, 200, "{:?}", log.body);
            if log.body["deliveries"][0]["state"] == "delivered" {
                return log;
            }
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the delivery is recorded");
    let delivery = &log.body["deliveries"][0];
    assert_eq!(delivery["state"], "delivered", "{delivery}");
    assert_eq!(delivery["attempts"], 3);
    assert_eq!(delivery["last_status"], 204);
    assert_eq!(delivery["message_id"], ids[0].to_str().unwrap());
    let event_id = delivery["event_id"].as_str().unwrap();
    let resent = app
        .send(
            app.client
                .post(app.url(&format!("/v2/webhooks/{id}/deliveries/{event_id}/resend"))),
        )
        .await;
    assert_eq!(resent.status, 202, "{:?}", resent.body);
    let again = next(&mut received).await;
    assert_eq!(again.headers["webhook-id"], ids[0]);
    verified(&secret, &again);

    // A document the IRP refuses (2150: the number was used for another document) ends
    // NOT_CREATED and is reported; one the gateway's own checks refuse is answered at once.
    let generate = |amount: f64| {
        let document =
            testkit::invoices::invoice(&gstin, testkit::invoices::SELLERS[0].1, "WH/0001", amount);
        app.client
            .put(app.url("/v2/eInvoice/generate"))
            .header("gstin", &gstin)
            .json(&json!([{ "transaction": document }]))
    };
    let first = app.send(generate(1000.0)).await;
    assert_eq!(
        first.body[0]["document_status"], "IRN_GENERATED",
        "{:?}",
        first.body
    );
    let refused = app.send(generate(900.0)).await;
    assert_eq!(
        refused.body[0]["document_status"], "NOT_CREATED",
        "{:?}",
        refused.body
    );
    let failed = verified(&secret, &next(&mut received).await);
    assert_eq!(failed["type"], "einvoice.generation_failed");
    assert_eq!(failed["data"]["document"]["No"], "WH/0001");
    assert_eq!(
        failed["data"]["errors"][0]["error_code"], "2150",
        "{failed}"
    );

    // The password age is reported once per stored version (this webhook did not ask for it,
    // so only the log of a webhook that did would show it; the sweep reports it once).
    let later = gateway::clock::Timestamp(app.state.now().millis() + 61 * 24 * 3600 * 1000);
    let swept = gateway::service::webhook_delivery::password_age_sweep_once(&app.state, later, 100)
        .await
        .unwrap();
    assert_eq!(swept, 1);
    let swept = gateway::service::webhook_delivery::password_age_sweep_once(&app.state, later, 100)
        .await
        .unwrap();
    assert_eq!(swept, 0, "reported twice");

    // Account B heard nothing of the sandbox account's events.
    let log_b = app
        .send(
            app.client
                .get(app.url(&format!("/v2/webhooks/{other_id}/deliveries")))
                .header("X-Cleartax-Auth-Token", &token_b),
        )
        .await;
    assert_eq!(log_b.status, 200);
    assert_eq!(log_b.body["deliveries"], json!([]), "{:?}", log_b.body);
    // Nor can B read or delete the sandbox account's webhook.
    let foreign = app
        .send(
            app.client
                .get(app.url(&format!("/v2/webhooks/{id}/deliveries")))
                .header("X-Cleartax-Auth-Token", &token_b),
        )
        .await;
    assert_eq!(foreign.status, 404);

    // Metrics count the attempts by outcome.
    let text = app.scrape_metrics().await;
    assert!(
        text.contains(r#"einvoice_webhook_deliveries_total{event="credentials.status_changed",outcome="failed"} 2"#),
        "{text}"
    );

    // Deleted: listed no more, nothing to re-send.
    let deleted = app
        .send(app.client.delete(app.url(&format!("/v2/webhooks/{id}"))))
        .await;
    assert_eq!(deleted.status, 204);
    let listed = app.send(app.client.get(app.url("/v2/webhooks"))).await;
    assert_eq!(listed.body["webhooks"], json!([]));
    let gone = app
        .send(
            app.client
                .post(app.url(&format!("/v2/webhooks/{id}/deliveries/{event_id}/resend"))),
        )
        .await;
    assert_eq!(gone.status, 404);
}
on_both_backends!(webhooks_sign_retry_log_and_resend, lifecycle);
