//! The console and the sandbox portal pages in a real headless Chromium: log in and add a
//! GSTIN; save and verify credentials (Verified); a wrong password (Wrong password, with its
//! advice); an API token created in the console and used for an API call; the sandbox portal
//! journey (register a taxpayer, create an API user through our GSP) ending Verified in the
//! console; an e-invoice in the GSTIN's list and on its own page, whose QR code reads back as
//! the signed one; and a form post without its CSRF token refused. Screenshots of the main pages go
//! to `target/console-screenshots/`.

use secrecy::SecretString;
use serde_json::Value;

use crate::helpers::{Db, Options, TestApp};
use crate::webdriver::{browser_available, Browser};

pub(crate) const EMAIL: &str = "ops@browser.test";
pub(crate) const PASSWORD: &str = "a long console password";

pub(crate) async fn last_otp(sandbox: &str, mobile: &str) -> String {
    let outbox: Value = reqwest::get(format!("{sandbox}/portal/outbox?mobile={mobile}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = outbox["messages"][0]["message"].as_str().unwrap();
    message[..6].to_string()
}

pub(crate) async fn fill(browser: &Browser, css: &str, text: &str) {
    let field = browser.find(css).await;
    field.clear().await;
    field.type_text(text).await;
}

pub(crate) async fn log_in(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/console/login")).await;
    browser.assert_labelled().await;
    browser.screenshot("01-login").await;
    fill(browser, "#email", EMAIL).await;
    // Keyboard only: type the password and press Enter to submit.
    fill(browser, "#password", &format!("{PASSWORD}\u{E007}")).await;
    browser.find("#summary").await;
    assert!(browser.url().await.ends_with("/console/overview"));
}

/// Adds a GSTIN through Settings → Business Settings; returns the GSTIN page's URL.
async fn add_gstin(browser: &Browser, gstin: &str) -> String {
    // Settings sits in the user menu at the top right, under the user name.
    browser
        .find("details.user-menu summary")
        .await
        .click()
        .await;
    browser
        .click_and_wait("details.user-menu a[href='/console/settings/business']")
        .await;
    browser.find("#new-gstin").await;
    fill(browser, "#new-gstin", gstin).await;
    browser
        .click_and_wait("form[action='/console/settings/business/gstins'] button")
        .await;
    browser.find("#nic-username").await;
    browser.url().await
}

async fn save_credentials(browser: &Browser, username: &str, password: &str) {
    fill(browser, "#nic-username", username).await;
    fill(browser, "#nic-password", password).await;
    browser.click_and_wait("#save").await;
    let notice = browser.find("p.notice").await.text().await;
    assert_eq!(notice, "Saved.");
}

async fn verify_and_read_status(browser: &Browser) -> (String, String) {
    browser.click_and_wait("#verify").await;
    browser.find("p.notice").await;
    let badge = browser.find("span.badge").await.text().await;
    let advice = if browser.exists("#last-error").await {
        browser.find("#last-error").await.text().await
    } else {
        String::new()
    };
    (badge, advice)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_and_portal_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Db::Sqlite, Options::mode("sandbox"))
        .await
        .unwrap();
    gateway::service::auth::create_user(
        &app.state,
        EMAIL,
        &SecretString::from(PASSWORD.to_string()),
        None,
    )
    .await
    .unwrap();
    let sandbox = format!(
        "http://{}",
        app.state.irp.as_ref().unwrap().embedded_sandbox.unwrap()
    );
    let browser = Browser::start(1280, 900).await;

    // 1. Log in and add a GSTIN; a wrong one is explained inline first.
    log_in(&browser, &app).await;
    browser
        .find("details.user-menu summary")
        .await
        .click()
        .await;
    browser
        .click_and_wait("details.user-menu a[href='/console/settings/business']")
        .await;
    fill(&browser, "#new-gstin", "41AAFCD5862R000").await;
    browser
        .click_and_wait("form[action='/console/settings/business/gstins'] button")
        .await;
    let inline = browser.find("#new-gstin-error").await.text().await;
    assert!(inline.contains("state code"), "inline error: {inline}");
    browser.assert_labelled().await;
    let gstin_page = add_gstin(&browser, "29AAFCD5862R000").await;
    browser.assert_labelled().await;
    let state_line = browser.find("#nic-password-state").await.text().await;
    assert_eq!(state_line, "No password stored yet.");
    assert_eq!(
        browser
            .find("#nic-password")
            .await
            .attribute("autocomplete")
            .await
            .as_deref(),
        Some("new-password")
    );

    // 2. Save NIC credentials and verify them: Verified.
    save_credentials(&browser, "demouser01", "Demo@1234").await;
    assert_eq!(
        browser.find("#nic-password").await.property("value").await,
        ""
    );
    assert!(
        !browser.source().await.contains("Demo@1234"),
        "the password is in the page"
    );
    let state_line = browser.find("#nic-password-state").await.text().await;
    assert!(
        state_line.starts_with("Password set on ") && state_line.contains("version 1"),
        "{state_line}"
    );
    let (badge, _) = verify_and_read_status(&browser).await;
    assert_eq!(badge, "Verified");
    browser.screenshot("03-gstin-verified").await;

    // 3. A wrong password reads Wrong password, with its advice; the history names who.
    save_credentials(&browser, "demouser01", "Wrong@1234").await;
    let (badge, advice) = verify_and_read_status(&browser).await;
    assert_eq!(badge, "Wrong password");
    assert!(
        advice.contains("password is wrong") && advice.contains("1019"),
        "{advice}"
    );
    let history = browser
        .find("#history-heading + .table-wrap")
        .await
        .text()
        .await;
    assert!(
        history.contains(&format!("{EMAIL} (console)")) && history.contains("version 2"),
        "{history}"
    );
    assert!(!browser.source().await.contains("Wrong@1234"));
    browser.screenshot("04-gstin-wrong-password").await;
    save_credentials(&browser, "demouser01", "Demo@1234").await;
    let (badge, _) = verify_and_read_status(&browser).await;
    assert_eq!(badge, "Verified");

    // 4. Create an API token in the console and use it for an API call.
    browser
        .goto(&app.url("/console/settings/integrations"))
        .await;
    browser.assert_labelled().await;
    fill(&browser, "#token-label", "ERP from the console").await;
    browser
        .click_and_wait("form[action='/console/settings/integrations/tokens'] button")
        .await;
    let token = browser.find("#new-token").await.property("value").await;
    let token = token.as_str().unwrap().to_string();
    assert!(token.starts_with("einv_"));
    browser.screenshot("05-integrations-new-token").await;
    let owners: Value = app
        .client
        .get(app.url("/v2/owners"))
        .header("X-Cleartax-Auth-Token", &token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(owners.to_string().contains("29AAFCD5862R000"), "{owners}");
    browser
        .goto(&app.url("/console/settings/integrations"))
        .await;
    assert!(
        !browser.source().await.contains(&token),
        "the token is shown again"
    );
    let tokens = browser.find("#tokens").await.text().await;
    assert!(tokens.contains("ERP from the console"), "{tokens}");

    // 4b. An e-invoice generated through the API, seen in the console: the GSTIN's list,
    //     then its page with the QR code (read back from a screenshot) and the PDF link.
    let generated: Value = app
        .client
        .put(app.url("/einv/v2/eInvoice/generate"))
        .header("X-Cleartax-Auth-Token", &token)
        .header("gstin", "29AAFCD5862R000")
        .json(&serde_json::json!([{"transaction": testkit::invoices::invoice("29AAFCD5862R000", testkit::invoices::SELLERS[1].0, "WEB/0001", 2500.0)}]))
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
    let irn = generated[0]["govt_response"]["Irn"].as_str().unwrap();
    let signed_qr = generated[0]["govt_response"]["SignedQRCode"]
        .as_str()
        .unwrap();
    let raised: Value = app
        .client
        .post(app.url("/einv/v2/eInvoice/ewaybill"))
        .header("X-Cleartax-Auth-Token", &token)
        .header("gstin", "29AAFCD5862R000")
        .json(&serde_json::json!([{"Irn": irn, "Distance": 0, "TransMode": "1", "VehNo": "KA01AB1234"}]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ewb_no = raised[0]["govt_response"]["EwbNo"]
        .as_i64()
        .expect("an e-way bill");
    browser.goto(&gstin_page).await;
    browser.click_and_wait("a[href$='/einvoices']").await;
    browser.assert_labelled().await;
    let row = browser
        .find(&format!("tr[data-irn='{irn}']"))
        .await
        .text()
        .await;
    assert!(row.contains("WEB/0001") && row.contains("Active"), "{row}");
    let ewb_cell = browser
        .find(&format!("tr[data-irn='{irn}'] td.ewb"))
        .await
        .text()
        .await;
    assert_eq!(ewb_cell, ewb_no.to_string());
    browser.screenshot("08-einvoices").await;
    browser
        .click_and_wait(&format!("tr[data-irn='{irn}'] a"))
        .await;
    assert_eq!(browser.find("#irn").await.text().await, irn);
    assert!(browser
        .find("#ewb")
        .await
        .text()
        .await
        .starts_with(&ewb_no.to_string()));
    browser.find("figure#qr svg").await;
    let pdf_link = browser
        .find("#download-pdf")
        .await
        .attribute("href")
        .await
        .unwrap();
    assert!(
        pdf_link.ends_with(&format!("/einvoices/{irn}/pdf")),
        "{pdf_link}"
    );
    browser.screenshot("09-einvoice").await;
    browser
        .script("document.getElementById('qr').scrollIntoView(); return true;")
        .await;
    if crate::download::tools_present() {
        let shot = tempfile::tempdir().unwrap();
        let png = shot.path().join("einvoice.png");
        std::fs::write(&png, browser.screenshot_png().await).unwrap();
        assert_eq!(
            crate::download::qr_codes_in_png(&png),
            vec![signed_qr.to_string()],
            "the page's QR code is the signed one"
        );
    }

    // 5. The sandbox portal journey: register a taxpayer, create an API user through our
    //    GSP, then use it from the console.
    browser.goto(&format!("{sandbox}/portal/ui/register")).await;
    browser.assert_labelled().await;
    fill(&browser, "#reg-gstin", "24AAFCD5862R005").await;
    fill(&browser, "#reg-mobile", "9000000002").await;
    fill(&browser, "#reg-email", "demo-gj@sandbox.test").await;
    let captcha = browser.find("span.captcha").await.text().await;
    fill(&browser, "#reg-captcha", &captcha).await;
    browser.screenshot("10-portal-registration").await;
    browser.click_and_wait("#send-otp").await;
    browser.find("#otp").await;
    let otp = last_otp(&sandbox, "9000000002").await;
    fill(&browser, "#otp", &otp).await;
    browser.click_and_wait("#verify-otp").await;
    fill(&browser, "#user-id", "gjportal01").await;
    fill(&browser, "#user-password", "Gj@Portal1").await;
    browser.click_and_wait("#create-user").await;
    browser.find("#registered").await;
    browser.goto(&format!("{sandbox}/portal/ui/login")).await;
    fill(&browser, "#login-user", "gjportal01").await;
    fill(&browser, "#login-password", "Gj@Portal1").await;
    browser.click_and_wait("#login").await;
    browser.find("#current-gstin").await;
    browser
        .click_and_wait("a[href='/portal/ui/api-registration']")
        .await;
    browser.click_and_wait("#api-send-otp").await;
    browser.find("#api-otp").await;
    let otp = last_otp(&sandbox, "9000000002").await;
    fill(&browser, "#api-otp", &otp).await;
    browser.find("#mode-gsp").await.click().await;
    let chosen = browser
        .script(
            "const s = document.getElementById('api-gsp');\
             const o = Array.from(s.options).find(o => o.text.startsWith('einvoice'));\
             s.value = o.value; return o.text;",
        )
        .await;
    // Our GSP, by the name and client id that GET /v2/gsp gives.
    let client_id = app
        .state
        .irp
        .as_ref()
        .unwrap()
        .primary
        .client
        .client_id()
        .to_string();
    assert_eq!(chosen.as_str().unwrap(), format!("einvoice ({client_id})"));
    fill(&browser, "#api-username", "gjapiuser1").await;
    fill(&browser, "#api-password", "GjApi@123").await;
    browser.assert_labelled().await;
    browser.screenshot("11-portal-create-api-user").await;
    browser.click_and_wait("#create-api-user").await;
    let ack = browser.find("#ack-no").await.text().await;
    assert!(ack.starts_with("ACK"), "{ack}");
    browser.screenshot("12-portal-acknowledgment").await;
    browser.goto(&format!("{sandbox}/portal/ui/users")).await;
    assert!(browser
        .find("#api-users")
        .await
        .text()
        .await
        .contains("gjapiuser1"));
    browser
        .click_and_wait("tr[data-username='gjapiuser1'] form[action$='/freeze'] button")
        .await;
    browser
        .wait_for_text("tr[data-username='gjapiuser1'] td.status", "FROZEN")
        .await;
    browser.assert_labelled().await;
    browser.screenshot("14-portal-user-management").await;
    browser.goto(&format!("{sandbox}/portal/ui/outbox")).await;
    browser.screenshot("13-portal-outbox").await;

    // A frozen API user reads "API user frozen" in the console, with its advice.
    browser.goto(&app.url("/console/overview")).await;
    let new_gstin_page = add_gstin(&browser, "24AAFCD5862R005").await;
    save_credentials(&browser, "gjapiuser1", "GjApi@123").await;
    let (badge, advice) = verify_and_read_status(&browser).await;
    assert_eq!(badge, "API user frozen");
    assert!(
        advice.contains("Unfreeze it") && advice.contains("User Management"),
        "{advice}"
    );

    // Unfrozen on the portal, the same credentials verify.
    browser.goto(&format!("{sandbox}/portal/ui/users")).await;
    browser
        .click_and_wait("tr[data-username='gjapiuser1'] form[action$='/unfreeze'] button")
        .await;
    browser
        .wait_for_text("tr[data-username='gjapiuser1'] td.status", "ACTIVE")
        .await;
    browser.goto(&new_gstin_page).await;
    let (badge, _) = verify_and_read_status(&browser).await;
    assert_eq!(badge, "Verified");

    // The overview flags what needs work.
    browser.goto(&app.url("/console/overview")).await;
    let summary = browser.find("#summary").await.text().await;
    assert!(
        summary.starts_with("2 GSTINs: 2 verified, 0 need attention"),
        "{summary}"
    );
    browser.screenshot("06-overview").await;
    browser.goto(&app.url("/console/settings/business")).await;
    browser.screenshot("02-business-settings").await;

    // Usable at 375 px: nothing wider than the screen.
    browser.resize(375, 800).await;
    browser.goto(&gstin_page).await;
    let overflow = browser
        .script("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page is wider than 375 px by {overflow}"
    );
    browser.screenshot("07-gstin-375px").await;
    browser.resize(1280, 900).await;

    // 6. A form posted without its CSRF token is refused.
    browser
        .goto(&app.url("/console/settings/integrations"))
        .await;
    browser
        .script(
            "const f = document.createElement('form'); f.method = 'post';\
             f.action = '/console/settings/integrations/tokens';\
             const i = document.createElement('input'); i.name = 'label'; i.value = 'forged';\
             f.appendChild(i); document.body.appendChild(f); f.submit(); return true;",
        )
        .await;
    browser
        .wait_for_text("h1", "This form could not be accepted")
        .await;
    browser
        .goto(&app.url("/console/settings/integrations"))
        .await;
    assert!(!browser
        .find("#tokens")
        .await
        .text()
        .await
        .contains("forged"));

    // Logging out ends the session.
    browser
        .find("details.user-menu summary")
        .await
        .click()
        .await;
    browser
        .click_and_wait("form[action='/console/logout'] button")
        .await;
    browser.find("#email").await;
    browser.goto(&app.url("/console/overview")).await;
    browser.find("#email").await;
    assert!(browser.url().await.contains("/console/login"));

    browser.quit().await;
}
