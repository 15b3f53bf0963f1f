//! The console over plain HTTP on both backends: login with its CSRF cookie, session cookie
//! flags, security headers, CSRF refusals that write nothing, write-only passwords, the
//! history naming the console user, logout, and idle and absolute session expiry.

use reqwest::redirect::Policy;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;

pub(crate) const EMAIL: &str = "console@example.com";
pub(crate) const PASSWORD: &str = "console password 1";

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a CSRF field") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }

    fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.set_cookies().iter().find_map(|c| {
            c.strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap().to_string())
        })
    }

    pub(crate) fn location(&self) -> String {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    }
}

pub(crate) struct Console<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: String,
}

impl<'a> Console<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Console {
            app,
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            cookies: String::new(),
        }
    }

    async fn page(&self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() {
            request
        } else {
            request.header("cookie", &self.cookies)
        };
        let response = request.send().await.unwrap();
        Page {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&self, path: &str) -> Page {
        self.page(self.http.get(self.app.url(path))).await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).unwrap();
        self.page(
            self.http
                .post(self.app.url(path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body),
        )
        .await
    }

    /// Logs in through the form; returns the login response.
    pub(crate) async fn log_in(&mut self, password: &str) -> Page {
        let form = self.get("/console/login").await;
        // A new login cookie, or the one this client already sent.
        if let Some(login_cookie) = form.cookie("einvoice_login") {
            self.cookies = format!("einvoice_login={login_cookie}");
        }
        assert!(self.cookies.starts_with("einvoice_login="));
        let csrf = form.csrf();
        let answer = self
            .post(
                "/console/login",
                &[("csrf", &csrf), ("email", EMAIL), ("password", password)],
            )
            .await;
        if let Some(session) = answer.cookie("einvoice_session") {
            self.cookies = format!("einvoice_session={session}");
        }
        answer
    }
}

pub(crate) async fn app_with_user(db: Db, mode: &'static str) -> Option<TestApp> {
    let app = TestApp::spawn(db, Options::mode(mode)).await?;
    gateway::service::auth::create_user(
        &app.state,
        EMAIL,
        &SecretString::from(PASSWORD.to_string()),
        None,
    )
    .await
    .unwrap();
    Some(app)
}

async fn login_and_security(db: Db) {
    let Some(app) = app_with_user(db, "sandbox").await else {
        return;
    };
    let mut console = Console::new(&app);
    let form = console.get("/console/login").await;
    assert_eq!(form.status, 200);
    let csp = form.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(form.headers["x-frame-options"], "DENY");
    assert_eq!(form.headers["x-content-type-options"], "nosniff");
    assert_eq!(form.headers["referrer-policy"], "no-referrer");
    assert_eq!(form.headers["cache-control"], "no-store");

    // A login post without the login form's token is refused before the password is checked.
    let forged = console
        .post(
            "/console/login",
            &[("email", EMAIL), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.cookie("einvoice_session").is_none());

    let wrong = console.log_in("not the password").await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("The email or password is wrong."));
    assert!(wrong.cookie("einvoice_session").is_none());

    let ok = console.log_in(PASSWORD).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/console/overview");
    let session_cookie = ok
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("einvoice_session="))
        .unwrap();
    assert!(session_cookie.contains("HttpOnly"));
    assert!(session_cookie.contains("SameSite=Strict"));
    assert!(
        !session_cookie.contains("Secure"),
        "plain HTTP in sandbox mode"
    );
    let overview = console.get("/console/overview").await;
    assert_eq!(overview.status, 200);
    assert!(overview.body.contains(EMAIL));

    // Behind an HTTPS proxy the cookie is Secure.
    let mut behind_tls = Console::new(&app);
    let form = behind_tls
        .page(
            behind_tls
                .http
                .get(app.url("/console/login"))
                .header("x-forwarded-proto", "https"),
        )
        .await;
    assert!(form
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("einvoice_login=") && c.contains("; Secure")));
    behind_tls.cookies.clear();

    // Logout ends the session for good.
    let overview = console.get("/console/overview").await;
    let csrf = overview.csrf();
    let out = console.post("/console/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, 303);
    let after = console.get("/console/overview").await;
    assert_eq!(after.status, 303);
    assert!(after.location().starts_with("/console/login"));
}
on_both_backends!(login_and_security_headers, login_and_security);

async fn csrf_and_credentials(db: Db) {
    let Some(app) = app_with_user(db, "sandbox").await else {
        return;
    };
    let mut console = Console::new(&app);
    assert_eq!(console.log_in(PASSWORD).await.status, 303);
    let business = console.get("/console/settings/business").await;
    let csrf = business.csrf();

    // Without the token, or with another session's token, nothing is written.
    let forged = console
        .post(
            "/console/settings/business/gstins",
            &[("gstin", "29AAFCD5862R000")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let wrong = console
        .post(
            "/console/settings/business/gstins",
            &[("csrf", "not-the-token"), ("gstin", "29AAFCD5862R000")],
        )
        .await;
    assert_eq!(wrong.status, 403);
    let account = app
        .state
        .store
        .find_user_by_email(EMAIL)
        .await
        .unwrap()
        .unwrap()
        .account_id;
    assert!(app
        .state
        .store
        .list_owners(account)
        .await
        .unwrap()
        .is_empty());

    // An invalid GSTIN is explained next to its field.
    let invalid = console
        .post(
            "/console/settings/business/gstins",
            &[("csrf", &csrf), ("gstin", "41AAFCD5862R000")],
        )
        .await;
    assert_eq!(invalid.status, 422);
    assert!(invalid.body.contains("id=\"new-gstin-error\""));
    assert!(
        invalid.body.contains("unknown state code 41"),
        "{}",
        invalid.body
    );

    let added = console
        .post(
            "/console/settings/business/gstins",
            &[
                ("csrf", &csrf),
                ("gstin", "29AAFCD5862R000"),
                ("name", "Karnataka"),
            ],
        )
        .await;
    assert_eq!(added.status, 303);
    let gstin_path = added.location();
    let owner_id: Uuid = gstin_path.rsplit('/').next().unwrap().parse().unwrap();

    let canary = format!("Canary@{}", &Uuid::new_v4().simple().to_string()[..8]);
    let forged = console
        .post(
            &format!("{gstin_path}/credentials"),
            &[("username", "demouser01"), ("password", &canary)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(app
        .state
        .store
        .get_credential(gateway::ids::OwnerId(owner_id), "29AAFCD5862R000")
        .await
        .unwrap()
        .is_none());

    // A password with a trailing space is refused, naming the field, and is not echoed.
    let refused = console
        .post(
            &format!("{gstin_path}/credentials"),
            &[
                ("csrf", &csrf),
                ("username", "demouser01"),
                ("password", &format!("{canary} ")),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("id=\"nic-password-error\""));
    assert!(refused.body.contains("copy-paste"));
    assert!(!refused.body.contains(&canary));

    let saved = console
        .post(
            &format!("{gstin_path}/credentials"),
            &[
                ("csrf", &csrf),
                ("username", "demouser01"),
                ("password", &canary),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(!saved.location().contains(&canary));
    let page = console.get(&saved.location()).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains(&canary), "the password is in the page");
    assert!(page.body.contains("autocomplete=\"new-password\""));
    assert!(page.body.contains(", version 1."));
    assert!(
        page.body.contains(&format!("{EMAIL} (console)")),
        "the history names the user"
    );
    let record = app
        .state
        .store
        .get_credential(gateway::ids::OwnerId(owner_id), "29AAFCD5862R000")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.version, 1);
    assert_eq!(record.username, "demouser01");

    // The API token form shows the value once; the list never does.
    let created = console
        .post(
            "/console/settings/integrations/tokens",
            &[("csrf", &csrf), ("label", "from the console")],
        )
        .await;
    assert_eq!(created.status, 200);
    let marker = "id=\"new-token\" type=\"text\" readonly value=\"";
    let start = created.body.find(marker).unwrap() + marker.len();
    let token = &created.body[start..start + created.body[start..].find('"').unwrap()];
    assert!(token.starts_with("einv_"));
    let listed = console.get("/console/settings/integrations").await;
    assert!(listed.body.contains("from the console"));
    assert!(!listed.body.contains(token));
    let api = app
        .send(
            app.client
                .get(app.url("/v2/owners"))
                .header("X-Cleartax-Auth-Token", token),
        )
        .await;
    assert_eq!(api.status, 200);
}
on_both_backends!(csrf_refusals_and_write_only_passwords, csrf_and_credentials);

async fn session_expiry(db: Db) {
    let Some(app) = app_with_user(db, "sandbox").await else {
        return;
    };
    let user = app
        .state
        .store
        .find_user_by_email(EMAIL)
        .await
        .unwrap()
        .unwrap();
    let now = app.state.now();
    let make = |value: &str,
                created_at: gateway::clock::Timestamp,
                last_seen_at: gateway::clock::Timestamp,
                expires_at: gateway::clock::Timestamp| {
        gateway::storage::WebSessionRecord {
            id: Uuid::new_v4(),
            account_id: user.account_id,
            user_id: user.id,
            email: user.email.clone(),
            secret_hash: Sha256::digest(value.as_bytes()).to_vec(),
            created_at,
            last_seen_at,
            expires_at,
            ended_at: None,
        }
    };
    let hour = 60 * 60 * 1000;
    let cases = [
        (
            "live-session-value-000000000000000",
            make("live-session-value-000000000000000", now, now, now + hour),
            200,
        ),
        (
            "idle-session-value-000000000000000",
            make(
                "idle-session-value-000000000000000",
                now - 2 * hour,
                now - hour,
                now + hour,
            ),
            303,
        ),
        (
            "past-session-value-000000000000000",
            make(
                "past-session-value-000000000000000",
                now - 13 * hour,
                now,
                now - 1,
            ),
            303,
        ),
    ];
    for (value, record, expected) in cases {
        app.state.store.insert_web_session(&record).await.unwrap();
        let mut console = Console::new(&app);
        console.cookies = format!("einvoice_session={value}");
        let page = console.get("/console/overview").await;
        assert_eq!(page.status, expected, "{value}");
    }
}
on_both_backends!(sessions_expire_when_idle_or_old, session_expiry);

async fn production_cookies(db: Db) {
    let Some(app) = app_with_user(db, "production").await else {
        return;
    };
    let mut console = Console::new(&app);
    let ok = console.log_in(PASSWORD).await;
    assert_eq!(ok.status, 303);
    assert!(ok
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("einvoice_session=") && c.contains("; Secure")));
}
on_both_backends!(production_session_cookies_are_secure, production_cookies);

/// Settings → Business Settings → a GSTIN → E-invoices: the GSTIN's documents newest first,
/// filtered by status and paged; another account's GSTIN is not found.
async fn einvoice_list(db: Db) {
    use crate::einvoice::{invoice, world, SELLERS};
    let Some(w) = world(db, 5_000).await else {
        return;
    };
    // A console user of the sandbox account, which the world's e-invoices belong to.
    gateway::service::auth::create_user(
        &w.app.state,
        EMAIL,
        &SecretString::from(PASSWORD.to_string()),
        Some(gateway::state::SANDBOX_ACCOUNT_ID),
    )
    .await
    .unwrap();
    let (s, b) = (SELLERS[0].0, SELLERS[1].0);
    let mut irns = Vec::new();
    for n in 1..=3 {
        let r = w.one(0, invoice(s, b, &format!("LIST/{n}"), 100.0)).await;
        irns.push(r["govt_response"]["Irn"].as_str().unwrap().to_string());
    }
    w.cancel(0, &irns[0]).await;
    let mut console = Console::new(&w.app);
    assert_eq!(console.log_in(PASSWORD).await.status, 303);
    let base = format!("/console/settings/business/gstins/{}", w.owners[0]);
    let gstin_page = console.get(&base).await;
    assert!(gstin_page.body.contains(&format!("{base}/einvoices")));

    let list = console.get(&format!("{base}/einvoices")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let order: Vec<usize> = irns
        .iter()
        .map(|irn| {
            list.body
                .find(&format!("data-irn=\"{irn}\""))
                .expect("listed")
        })
        .collect();
    assert!(order[2] < order[1] && order[1] < order[0], "newest first");
    assert!(list.body.contains("LIST/3") && list.body.contains("Cancelled"));

    let cancelled = console.get(&format!("{base}/einvoices?status=CNL")).await;
    assert!(cancelled.body.contains(&irns[0]) && !cancelled.body.contains(&irns[1]));
    let active = console.get(&format!("{base}/einvoices?status=ACT")).await;
    assert!(!active.body.contains(&format!("data-irn=\"{}\"", irns[0])));
    assert!(active.body.contains(&irns[2]));

    // The next page starts after the cursor of the last row shown.
    let newest = w
        .app
        .state
        .store
        .get_einvoice(gateway::state::SANDBOX_ACCOUNT_ID, &irns[2])
        .await
        .unwrap()
        .unwrap();
    let older = console
        .get(&format!(
            "{base}/einvoices?before={}.{}",
            newest.created_at.millis(),
            irns[2]
        ))
        .await;
    assert_eq!(older.status, 200, "{}", older.body);
    assert!(!older.body.contains(&format!("data-irn=\"{}\"", irns[2])));
    assert!(older.body.contains(&format!("data-irn=\"{}\"", irns[1])));
    assert!(older.body.contains(&format!("data-irn=\"{}\"", irns[0])));
    let page = w
        .app
        .state
        .store
        .list_einvoices(
            gateway::state::SANDBOX_ACCOUNT_ID,
            gateway::ids::OwnerId(w.owners[0]),
            Some(gateway::storage::EinvoiceStatus::Active),
            Some((newest.created_at, irns[2].clone())),
            1,
        )
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].irn, irns[1]);
    let broken = console
        .get(&format!("{base}/einvoices?before=nonsense"))
        .await;
    assert_eq!(broken.status, 400);
    // Another seller's GSTIN page lists nothing of this one.
    let other = console
        .get(&format!(
            "/console/settings/business/gstins/{}/einvoices",
            w.owners[1]
        ))
        .await;
    assert!(other.body.contains("No e-invoices"), "{}", other.body);
    let unknown = console
        .get(&format!(
            "/console/settings/business/gstins/{}/einvoices",
            Uuid::new_v4()
        ))
        .await;
    assert_eq!(unknown.status, 404);

    // An e-way bill raised for one of them shows in its row and on its page.
    let raised = w
        .app
        .send(
            w.app
                .client
                .post(w.app.url("/v2/eInvoice/ewaybill"))
                .header("gstin", s)
                .json(&serde_json::json!([{"Irn": irns[1], "Distance": 50, "TransMode": "1", "VehNo": "KA01AB1234"}])),
        )
        .await;
    let ewb_no = raised.body[0]["govt_response"]["EwbNo"].as_i64().unwrap();
    let list = console.get(&format!("{base}/einvoices")).await;
    let row_start = list
        .body
        .find(&format!("data-irn=\"{}\"", irns[1]))
        .unwrap();
    let row = &list.body[row_start..row_start + list.body[row_start..].find("</tr>").unwrap()];
    assert!(row.contains(&ewb_no.to_string()), "{row}");

    // Each row links to the e-invoice: its facts, the QR code as SVG, and the PDF.
    let detail_path = format!("{base}/einvoices/{}", irns[1]);
    assert!(list.body.contains(&format!("href=\"{detail_path}\"")));
    let detail = console.get(&detail_path).await;
    assert_eq!(detail.status, 200, "{}", detail.body);
    assert!(detail.body.contains("LIST/2") && detail.body.contains("Seller Pvt Ltd"));
    assert!(detail.body.contains("<svg"), "{}", detail.body);
    assert!(
        detail.body.contains(&format!("{ewb_no} · generated")),
        "{}",
        detail.body
    );
    assert!(detail.body.contains(&format!("href=\"{detail_path}/pdf\"")));
    let pdf = console.get(&format!("{detail_path}/pdf")).await;
    assert_eq!(pdf.status, 200);
    assert_eq!(pdf.headers["content-type"], "application/pdf");
    assert!(pdf.body.starts_with("%PDF-"));
    let cancelled = console.get(&format!("{base}/einvoices/{}", irns[0])).await;
    assert!(cancelled.body.contains("Cancelled") && cancelled.body.contains("<svg"));
    // Not under another GSTIN of the account, not an unknown or malformed IRN.
    for path in [
        format!(
            "/console/settings/business/gstins/{}/einvoices/{}",
            w.owners[1], irns[1]
        ),
        format!(
            "/console/settings/business/gstins/{}/einvoices/{}/pdf",
            w.owners[1], irns[1]
        ),
        format!("{base}/einvoices/{}", "0".repeat(64)),
        format!("{base}/einvoices/not-an-irn"),
    ] {
        let refused = console.get(&path).await;
        assert_eq!(refused.status, 404, "{path}");
        assert!(!refused.body.contains("Seller Pvt Ltd"), "{path}");
    }
}
on_both_backends!(a_gstins_einvoices_are_listed, einvoice_list);
