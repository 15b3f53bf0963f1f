//! The "Add a GSTIN" wizard in a real headless Chromium, against the embedded IRP sandbox: an
//! empty account to VERIFIED (the GSTIN checked as it is typed, with its state and PAN; our
//! name and client ID shown; Save & Verify); the wrong-GSP path (an API user made for the other
//! seeded GSP reads NOT_MAPPED_TO_GSP with its advice, then the one-click sandbox user fixes
//! it); and "Change password" with a wrong new password, after which the saved pair is still
//! used and an IRN still generates. Freeze and unfreeze on the sandbox portal are in
//! `browser.rs`.

use secrecy::SecretString;
use serde_json::{json, Value};

use crate::browser::{fill, last_otp, log_in, EMAIL, PASSWORD};
use crate::helpers::{Db, Options, TestApp};
use crate::verify::portal;
use crate::webdriver::{browser_available, Browser};

/// The Gujarat taxpayer registers on the sandbox portal and creates an API user for the other
/// seeded GSP (not us), as a taxpayer who picked the wrong GSP would.
async fn api_user_for_the_other_gsp(sandbox: &str) {
    let started = portal(
        sandbox,
        "/portal/register/send-otp",
        None,
        json!({"gstin": "24AAFCD5862R005", "mobile": "9000000002"}),
    )
    .await;
    let otp = last_otp(sandbox, "9000000002").await;
    portal(
        sandbox,
        "/portal/register/verify-otp",
        None,
        json!({"request_id": started["request_id"], "otp": otp}),
    )
    .await;
    portal(sandbox, "/portal/register/create-user", None, json!({"request_id": started["request_id"], "user_id": "gjportal02", "password": "Gj@Portal2"})).await;
    let token = portal(
        sandbox,
        "/portal/login",
        None,
        json!({"user_id": "gjportal02", "password": "Gj@Portal2"}),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let started = portal(sandbox, "/portal/clients/register", None, json!({"kind": "GSP", "pan": "AAHCO8765L", "mobile": "9000000200", "email": "other-gsp@sandbox.test"})).await;
    let otp = last_otp(sandbox, "9000000200").await;
    let other = portal(
        sandbox,
        "/portal/clients/verify",
        None,
        json!({"request_id": started["request_id"], "otp": otp}),
    )
    .await;
    let started = portal(
        sandbox,
        "/portal/api-users/send-otp",
        Some(&token),
        json!({}),
    )
    .await;
    let otp = last_otp(sandbox, "9000000002").await;
    portal(sandbox, "/portal/api-users", Some(&token), json!({"request_id": started["request_id"], "otp": otp, "mode": "GSP", "gsp_client_id": other["client_id"], "username": "othergsp01", "password": "Other@123"})).await;
}

/// Step 1 of the wizard for a GSTIN; the wizard page's URL.
async fn start_wizard(browser: &Browser, app: &TestApp, gstin: &str, hint: &str) -> String {
    browser.goto(&app.url("/console/settings/business")).await;
    browser.click_and_wait("#start-wizard").await;
    browser.assert_labelled().await;
    fill(browser, "#wizard-gstin", gstin).await;
    // Checked as it is typed: the hint names the state and the PAN.
    browser.wait_for_text("#wizard-gstin-check", hint).await;
    browser.click_and_wait("#wizard-next").await;
    browser.find("#step-create").await;
    browser.url().await
}

async fn outcome(browser: &Browser) -> (String, String) {
    let badge = browser.find("#outcome span.badge").await.text().await;
    let next = browser.find("#next-step").await.text().await;
    (badge, next)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_add_a_gstin_wizard_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Db::Sqlite, Options::mode("sandbox"))
        .await
        .unwrap();
    let user = gateway::service::auth::create_user(
        &app.state,
        EMAIL,
        &SecretString::from(PASSWORD.to_string()),
        None,
    )
    .await
    .unwrap();
    let token = gateway::service::auth::issue_token(&app.state, user.account_id, None, "wizard")
        .await
        .unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&token.value).to_string();
    let sandbox = format!(
        "http://{}",
        app.state.irp.as_ref().unwrap().embedded_sandbox.unwrap()
    );
    let client_id = app
        .state
        .irp
        .as_ref()
        .unwrap()
        .primary
        .client
        .client_id()
        .to_string();
    let browser = Browser::start(1280, 900).await;
    log_in(&browser, &app).await;

    // 1. An empty account to VERIFIED: the GSTIN (state and PAN), our name and client ID in
    //    large type, the steps, then Save & Verify.
    start_wizard(
        &browser,
        &app,
        "29AAFCD5862R000",
        "This GSTIN is valid: Karnataka (29), PAN AAFCD5862R.",
    )
    .await;
    let hint_state = browser.find("#wizard-state").await.text().await;
    assert_eq!(hint_state, "Karnataka (29)");
    assert_eq!(browser.find("#wizard-pan").await.text().await, "AAFCD5862R");
    assert_eq!(browser.find("#gsp-name").await.text().await, "einvoice");
    assert_eq!(
        browser.find("#gsp-client-id").await.property("value").await,
        client_id.as_str()
    );
    let steps = browser.find("#steps-existing").await.text().await;
    assert!(
        steps.contains("Create API User")
            && steps.contains("Through GSP")
            && steps.contains(&client_id),
        "{steps}"
    );
    browser.assert_labelled().await;
    browser.screenshot("20-wizard-steps").await;
    fill(&browser, "#wizard-username", "demouser01").await;
    fill(&browser, "#wizard-password", "Demo@1234").await;
    browser.click_and_wait("#save-verify").await;
    let (badge, next) = outcome(&browser).await;
    assert_eq!(badge, "Verified", "{next}");
    browser.find("#done").await;
    assert!(!browser.source().await.contains("Demo@1234"));
    browser.screenshot("21-wizard-verified").await;
    browser.click_and_wait("#done").await;
    let gstin_page = browser.url().await;
    assert_eq!(browser.find("span.badge").await.text().await, "Verified");

    // 2. The wrong GSP: a user made for the other seeded GSP is NOT_MAPPED_TO_GSP, with the
    //    advice to create one through us; the one-click sandbox user then fixes it.
    api_user_for_the_other_gsp(&sandbox).await;
    start_wizard(
        &browser,
        &app,
        "24AAFCD5862R005",
        "This GSTIN is valid: Gujarat (24), PAN AAFCD5862R.",
    )
    .await;
    fill(&browser, "#wizard-username", "othergsp01").await;
    fill(&browser, "#wizard-password", "Other@123").await;
    browser.click_and_wait("#save-verify").await;
    let (badge, next) = outcome(&browser).await;
    assert_eq!(badge, "Not mapped to our GSP");
    assert!(
        next.contains("another GSP or for direct access") && next.contains("through einvoice"),
        "{next}"
    );
    browser.screenshot("22-wizard-wrong-gsp").await;
    browser.click_and_wait("#sandbox-user").await;
    let (badge, next) = outcome(&browser).await;
    assert_eq!(badge, "Verified", "{next}");

    // 3. Change password with a wrong new one: refused, the saved pair stays and still works.
    browser.goto(&gstin_page).await;
    fill(&browser, "#new-password", "Wrong@9999").await;
    browser.click_and_wait("#change-password").await;
    let error = browser.find("#new-password-error").await.text().await;
    assert!(
        error.contains("did not accept the new password") && error.contains("1019"),
        "{error}"
    );
    assert_eq!(browser.find("span.badge").await.text().await, "Verified");
    browser.assert_labelled().await;
    browser.screenshot("23-change-password-refused").await;
    let history = browser
        .find("#history-heading + .table-wrap")
        .await
        .text()
        .await;
    assert!(
        history.contains("The IRP refused a new password"),
        "{history}"
    );
    let generated: Value = app
        .client
        .put(app.url("/v2/eInvoice/generate"))
        .header("X-Cleartax-Auth-Token", &token)
        .header("gstin", "29AAFCD5862R000")
        .json(&json!([{"transaction": testkit::invoices::invoice("29AAFCD5862R000", testkit::invoices::SELLERS[0].1, "WIZ/0001", 1500.0)}]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        generated[0]["document_status"], "IRN_GENERATED",
        "{generated}"
    );
    browser.quit().await;
}
