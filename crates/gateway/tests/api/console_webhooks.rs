//! Settings → Integrations → Webhooks in the console, without JavaScript, on both backends:
//! a bad URL is named on the form; the signing secret is shown once and never listed; a
//! delivery shows in the log and is sent again with the same `webhook-id`; delete.

use crate::console::{app_with_user, Console, EMAIL, PASSWORD};
use crate::helpers::Db;
use crate::on_both_backends;
use crate::webhooks::{next, receiver, verified};

const WEBHOOKS: &str = "/console/settings/integrations/webhooks";

async fn console_webhooks(db: Db) {
    let Some(app) = app_with_user(db, "sandbox").await else {
        return;
    };
    let (url, mut received) = receiver(0).await;
    let mut console = Console::new(&app);
    console.log_in(PASSWORD).await;
    let integrations = console.get("/console/settings/integrations").await;
    assert!(integrations.body.contains(WEBHOOKS));
    let page = console.get(WEBHOOKS).await;
    assert_eq!(page.status, 200);
    let csrf = page.csrf();

    let bad = console
        .post(WEBHOOKS, &[("csrf", &csrf), ("url", "not a url")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("webhook-url-error"), "{}", bad.body);

    let created = console
        .post(
            WEBHOOKS,
            &[
                ("csrf", &csrf),
                ("url", &url),
                ("credentials.password_age", "on"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let marker = "id=\"new-secret\" type=\"text\" readonly value=\"";
    let start = created.body.find(marker).unwrap() + marker.len();
    let secret = created.body[start..start + created.body[start..].find('"').unwrap()].to_string();
    assert!(secret.starts_with("whsec_"));
    let listed = console.get(WEBHOOKS).await;
    assert!(listed.body.contains(&url));
    assert!(listed.body.contains("credentials.password_age"));
    assert!(!listed.body.contains(&secret), "the secret is listed");

    // An event for this account, delivered and logged.
    let user = app
        .state
        .store
        .find_user_by_email(EMAIL)
        .await
        .unwrap()
        .unwrap();
    let account = user.account_id;
    let webhook = &gateway::service::webhooks::list(
        &app.state,
        gateway::service::Actor {
            account_id: account,
            token_id: None,
        },
    )
    .await
    .unwrap()[0];
    let event = gateway::events::password_age(
        gateway::events::CredentialPlace {
            account_id: account,
            owner_id: gateway::ids::OwnerId(uuid::Uuid::new_v4()),
            gstin: "29AAFCD5862R000",
        },
        "demouser01",
        app.state.now(),
        60,
        app.state.now(),
    );
    gateway::service::webhooks::emit(&app.state, event).await;
    let first = next(&mut received).await;
    assert_eq!(
        verified(&secret, &first)["type"],
        "credentials.password_age"
    );
    let log_path = format!("{WEBHOOKS}/{}", webhook.id);
    let log = console.get(&log_path).await;
    assert_eq!(log.status, 200);
    assert!(
        log.body.contains("credentials.password_age"),
        "{}",
        log.body
    );
    let resend = log
        .body
        .split("action=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .find(|action| action.ends_with("/resend"))
        .expect("a Send again button");
    let again = console.post(&resend, &[("csrf", &csrf)]).await;
    assert_eq!((again.status, again.location()), (303, log_path.clone()));
    let second = next(&mut received).await;
    assert_eq!(second.headers["webhook-id"], first.headers["webhook-id"]);

    let deleted = console
        .post(&format!("{log_path}/delete"), &[("csrf", &csrf)])
        .await;
    assert_eq!(deleted.status, 303);
    assert!(!console.get(WEBHOOKS).await.body.contains(&url));
}
on_both_backends!(webhooks_in_the_console, console_webhooks);
