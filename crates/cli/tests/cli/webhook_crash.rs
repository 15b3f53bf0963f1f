//! The webhook outbox survives `kill -9`, on SQLite and PostgreSQL: an event is committed, its
//! delivery is in flight (the receiver holds the request unanswered), the gateway is killed;
//! after a restart the same event arrives, with the same `webhook-id` and a valid signature.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::process::Server;

/// A receiver on port 0 that never answers its first request and accepts every later one.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, String)>) {
    let (sender, received) = mpsc::unbounded_channel();
    let first = Arc::new(AtomicBool::new(true));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let sender = sender.clone();
            let first = first.clone();
            async move {
                let _ = sender.send((headers, body));
                if first.swap(false, Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn next(received: &mut mpsc::UnboundedReceiver<(HeaderMap, String)>) -> (HeaderMap, String) {
    tokio::time::timeout(Duration::from_secs(60), received.recv())
        .await
        .expect("a delivery within 60 s")
        .unwrap()
}

async fn survives_kill_9(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--webhook-timeout-secs".to_string(),
        "1".to_string(),
        "--webhook-retry-base-ms".to_string(),
        "50".to_string(),
    ];
    if let Some(url) = database_url {
        args.extend(["--database-url".to_string(), url]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (url, mut received) = receiver().await;
    let client = reqwest::Client::new();

    let server = Server::start(dir.path(), &[], &args).await;
    let created: Value = client
        .post(server.url("/v2/webhooks"))
        .json(&json!({"url": url, "events": ["credentials.status_changed"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    // The one-click stores and verifies: UNVERIFIED → VERIFIED is committed with its event.
    let user = client
        .post(server.url("/v2/sandbox/api-users"))
        .json(&json!({"state_code": "29"}))
        .send()
        .await
        .unwrap();
    assert_eq!(user.status(), 200);
    let (held_headers, held_body) = next(&mut received).await;
    // The delivery is in flight, unanswered: the gateway dies now.
    server.kill();

    let server = Server::start(dir.path(), &[], &args).await;
    let (headers, body) = next(&mut received).await;
    assert_eq!(headers["webhook-id"], held_headers["webhook-id"]);
    assert_eq!(body, held_body);
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(body.as_bytes(), &headers)
        .expect("the signature verifies");
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["type"], "credentials.status_changed");
    assert_eq!(event["data"]["status"], "VERIFIED");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_outbox_survives_kill_9_on_sqlite() {
    survives_kill_9(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_outbox_survives_kill_9_on_postgres() {
    let Some(url) = testkit::postgres::migrated_database().await else {
        return;
    };
    survives_kill_9(Some(url)).await;
}
