//! The portal's pages over plain HTTP (the browser test drives registration and API users):
//! client credentials registration shows the secret once, an API user's password changes with
//! an OTP, mistakes come back on the same form, and every page carries its security headers.

use irp_sandbox::Profile;
use serde_json::json;

use crate::portal::Portal;
use crate::start;

struct Pages {
    base: String,
    http: reqwest::Client,
}

impl Pages {
    async fn form(
        &self,
        path: &str,
        cookie: Option<&str>,
        fields: &[(&str, &str)],
    ) -> (u16, String) {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(fields);
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {text}"))
        + start.len();
    let to = text[from..].find(end).unwrap() + from;
    &text[from..to]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_registration_and_password_change_pages() {
    let running = start(Profile::Sandbox).await;
    let portal = Portal {
        base: running.base.clone(),
        http: reqwest::Client::new(),
    };
    let pages = Pages {
        base: running.base.clone(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };

    // Client credentials for an ERP: the wrong mobile is refused on the same form.
    let form = pages
        .http
        .get(format!("{}/portal/ui/clients/register", running.base))
        .send()
        .await
        .unwrap();
    let csp = form.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(form.headers()["x-frame-options"], "DENY");
    let (status, page) = pages
        .form(
            "/portal/ui/clients/register",
            None,
            &[
                ("kind", "ERP"),
                ("pan", "AAHCO8765L"),
                ("mobile", "9999999999"),
                ("email", "other-gsp@sandbox.test"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        page.contains("not registered") && page.contains("value=\"AAHCO8765L\""),
        "{page}"
    );
    let (status, page) = pages
        .form(
            "/portal/ui/clients/register",
            None,
            &[
                ("kind", "ERP"),
                ("pan", "AAHCO8765L"),
                ("mobile", "9000000200"),
                ("email", "other-gsp@sandbox.test"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let request_id = between(&page, "name=\"request_id\" value=\"", "\"").to_string();
    let (status, page) = pages
        .form(
            "/portal/ui/clients/verify",
            None,
            &[("request_id", &request_id), ("otp", "000000")],
        )
        .await;
    assert_eq!(status, 422, "a wrong OTP is refused");
    assert!(page.contains("id=\"otp\""));
    let otp = portal.last_otp("9000000200").await;
    let (status, page) = pages
        .form(
            "/portal/ui/clients/verify",
            None,
            &[("request_id", &request_id), ("otp", &otp)],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let client_id = between(&page, "id=\"client-id\">", "<").to_string();
    let secret = between(&page, "id=\"client-secret\">", "<").to_string();
    assert_eq!(secret.len(), 20);
    // The pair works: it can generate a dummy GSTIN (only an ERP's own PAN).
    let (status, _) = portal
        .post(
            "/portal/clients/dummy-gstins",
            None,
            &json!({"client_id": client_id, "client_secret": secret, "state_code": "27"}),
        )
        .await;
    assert_eq!(status, 200);
    // The outbox page names the client id but never the secret.
    let outbox = pages
        .http
        .get(format!(
            "{}/portal/ui/outbox?mobile=9000000200",
            running.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(outbox.contains(&client_id) && !outbox.contains(&secret));

    // A taxpayer with an API user changes its password through the pages.
    let (gsp_id, _) = portal
        .register_client("GSP", "AAGCE4321K", "9000000100", "gsp@sandbox.test")
        .await;
    let token = portal
        .register_taxpayer("07AAFCD5862R007", "9000000003", "delhiuser1", "Delhi@123")
        .await;
    let (status, created) = portal
        .create_api_user(&token, "9000000003", &gsp_id, "delhiapi01", "DelhiApi@1")
        .await;
    assert_eq!(status, 200, "{created}");
    let (status, _) = pages
        .form(
            "/portal/ui/login",
            None,
            &[("user_id", "delhiuser1"), ("password", "wrong")],
        )
        .await;
    assert_eq!(status, 401);
    let login = pages
        .http
        .post(format!("{}/portal/ui/login", running.base))
        .form(&[("user_id", "delhiuser1"), ("password", "Delhi@123")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let set_cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let (status, page) = pages
        .form(
            "/portal/ui/users/delhiapi01/password/send-otp",
            Some(&cookie),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let request_id = between(&page, "name=\"request_id\" value=\"", "\"").to_string();
    let otp = portal.last_otp("9000000003").await;
    let (status, page) = pages
        .form(
            "/portal/ui/users/delhiapi01/password",
            Some(&cookie),
            &[
                ("request_id", &request_id),
                ("otp", &otp),
                ("new_password", "weak"),
            ],
        )
        .await;
    assert_eq!(status, 422, "NIC's password rule (3003) applies: {page}");
    let (status, page) = pages
        .form(
            "/portal/ui/users/delhiapi01/password/send-otp",
            Some(&cookie),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    let request_id = between(&page, "name=\"request_id\" value=\"", "\"").to_string();
    let otp = portal.last_otp("9000000003").await;
    let (status, page) = pages
        .form(
            "/portal/ui/users/delhiapi01/password",
            Some(&cookie),
            &[
                ("request_id", &request_id),
                ("otp", &otp),
                ("new_password", "NewDelhi@2"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("is changed"));
    // Without the portal cookie the pages send people to the login page.
    let anonymous = pages
        .http
        .get(format!("{}/portal/ui/users", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/portal/ui/login");
}
