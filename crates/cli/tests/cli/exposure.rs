//! Secret exposure, end to end: an IRP sandbox runs as its own process, the gateway as
//! another (configured against it, trace logging), with unique canaries for the NIC password,
//! our GSP client secret, an API token, a console user's password, the IRP AuthToken and the
//! session key, and a webhook signing secret. After a full run (store with verify, generate,
//! get, cancel, bulk, errors, a webhook whose deliveries fail,
//! the console) and a `kill -9`, none of them is in the database files (main, WAL, SHM), the
//! logs (which would hold any panic), any HTTP response body or header, the OpenAPI document,
//! or the Prometheus metrics.

use std::io::Read;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::external_irp::{invoice, GspClient, IrpProcess};
use crate::process::{einvoice, Server};
use crate::{base64_standard, files_in, scan, uuid_like};

/// Every answer the gateway gave, headers and body, for the scan.
#[derive(Default)]
struct Transcript {
    text: String,
}

impl Transcript {
    async fn record(&mut self, response: reqwest::Response) -> (u16, String) {
        let status = response.status().as_u16();
        for (name, value) in response.headers() {
            self.text
                .push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
        }
        let body = response.text().await.unwrap();
        self.text.push_str(&body);
        self.text.push('\n');
        (status, body)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_files_logs_responses_or_the_openapi_document() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let sandbox = IrpProcess::start(&dir.path().join("irp.db"), false);
    // Our GSP client, registered on the sandbox portal: its secret is the first canary.
    let gsp = GspClient::register(&sandbox, dir.path()).await;
    let client_id = gsp.client_id.clone();
    let client_secret = gsp.client_secret.clone();
    let unique = uuid_like();
    let nic_password = format!("Cn@{}", &unique[unique.len() - 10..]);
    let nic_username = "canaryapi01";
    let gstin = gsp
        .dummy_gstin_with_user("29", nic_username, &nic_password)
        .await;

    // A console user, in the sandbox account.
    let user_password = format!("user-canary-{}", uuid_like());
    let mut add = einvoice()
        .args(["users", "add", "--email", "canary@example.com", "--account"])
        .arg(gateway::state::SANDBOX_ACCOUNT_ID.to_string())
        .arg("--data-dir")
        .arg(&data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(add.stdin.take().unwrap(), "{user_password}").unwrap();
    assert!(add.wait().unwrap().success());

    let mut env: Vec<(&str, String)> = gsp.gateway_env();
    env.push(("RUST_LOG", "trace".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start(&data, &env, &[]).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut seen = Transcript::default();

    // An API token (shown once: its creation answer is the one place it may appear).
    let (status, body) = seen
        .record(
            http.post(server.url("/v2/auth/tokens"))
                .json(&json!({"email": "canary@example.com", "password": user_password, "label": "canary"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let token = serde_json::from_str::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    seen.text.clear();

    let api = |method: reqwest::Method, path: &str| {
        http.request(method, server.url(path))
            .header("X-Cleartax-Auth-Token", &token)
    };
    let (_, owner) = seen
        .record(
            api(reqwest::Method::POST, "/v2/owners")
                .json(&json!({"kind": "GSTIN", "gstin": gstin}))
                .send()
                .await
                .unwrap(),
        )
        .await;
    let owner = serde_json::from_str::<Value>(&owner).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let store = json!({"gstin": gstin, "username": nic_username, "password": nic_password});
    let (status, body) = seen
        .record(
            api(
                reqwest::Method::POST,
                "/v2/nic_credentials/store_nic_credentials?verify=true",
            )
            .header("owner_id", &owner)
            .json(&store)
            .send()
            .await
            .unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("VERIFIED"), "{body}");
    // Errors that carry the secret in the request must not echo it.
    for bad in [
        json!({"gstin": gstin, "username": nic_username, "password": nic_password, "passwrod": nic_password}),
        json!({"gstin": gstin, "username": nic_username, "password": format!(" {nic_password}")}),
        json!({"gstin": "41AAFCD5862R000", "username": nic_password, "password": nic_password}),
        // A password typed into the GSTIN field: nothing from the body is logged before it is
        // validated.
        json!({"gstin": nic_password, "username": nic_username, "password": "Other@123"}),
    ] {
        let (status, _) = seen
            .record(
                api(
                    reqwest::Method::POST,
                    "/v2/nic_credentials/store_nic_credentials",
                )
                .header("owner_id", &owner)
                .json(&bad)
                .send()
                .await
                .unwrap(),
            )
            .await;
        assert!((400..500).contains(&status));
    }
    let (status, _) = seen
        .record(
            api(
                reqwest::Method::POST,
                "/v2/nic_credentials/store_nic_credentials",
            )
            .header("owner_id", &owner)
            .header("content-type", "application/json")
            .body(format!("{{\"password\": \"{nic_password}\""))
            .send()
            .await
            .unwrap(),
        )
        .await;
    assert_eq!(status, 400);
    seen.record(
        api(
            reqwest::Method::GET,
            &format!("/v2/nic_credentials?owner_id={owner}&gstin={gstin}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    seen.record(
        api(reqwest::Method::POST, "/v2/nic_credentials/bulk")
            .json(&json!({"credentials": [store, {"gstin": gstin, "username": "x ", "password": nic_password}], "verify": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;

    // An e-invoice: generate, get, cancel.
    let invoice = json!([invoice(&gstin, "CANARY/1")]);
    let (status, body) = seen
        .record(
            api(reqwest::Method::PUT, "/v2/eInvoice/generate")
                .header("owner_id", &owner)
                .header("gstin", &gstin)
                .json(&invoice)
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let irn = serde_json::from_str::<Value>(&body).unwrap()[0]["govt_response"]["Irn"]
        .as_str()
        .unwrap_or_else(|| panic!("no IRN: {body}"))
        .to_string();
    seen.record(
        api(reqwest::Method::GET, &format!("/v2/eInvoice/get?irn={irn}"))
            .header("owner_id", &owner)
            .header("gstin", &gstin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (status, body) = seen
        .record(
            api(reqwest::Method::PUT, "/v2/eInvoice/cancel")
                .header("owner_id", &owner)
                .header("gstin", &gstin)
                .json(&json!([{"irn": irn, "CnlRsn": "1", "CnlRem": "canary"}]))
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    seen.record(http.get(server.url("/openapi.json")).send().await.unwrap())
        .await;
    // A webhook: its signing secret is in the one answer that creates it, and nowhere else
    // (not the listing, the delivery log, the logs of failed deliveries, or the files).
    let created: Value = api(reqwest::Method::POST, "/v2/webhooks")
        .json(&json!({"url": "http://127.0.0.1:9/unreachable"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let webhook_secret = created["secret"].as_str().unwrap().to_string();
    let webhook_id = created["id"].as_str().unwrap().to_string();
    seen.record(
        api(reqwest::Method::GET, "/v2/webhooks")
            .send()
            .await
            .unwrap(),
    )
    .await;
    seen.record(
        api(
            reqwest::Method::GET,
            &format!("/v2/webhooks/{webhook_id}/deliveries"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    // Prometheus metrics (scraped from this machine) carry no secret either.
    let (status, metrics) = seen
        .record(http.get(server.url("/metrics")).send().await.unwrap())
        .await;
    assert_eq!(status, 200);
    assert!(metrics.contains("einvoice_irp_calls_total"), "{metrics}");

    // The console: log in, open the GSTIN, save the password again.
    let (_, login_page) = seen
        .record(http.get(server.url("/console/login")).send().await.unwrap())
        .await;
    let login_cookie = seen
        .text
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: einvoice_login="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap();
    let csrf_of = |page: &str| {
        let marker = "name=\"csrf\" value=\"";
        let start = page.find(marker).unwrap() + marker.len();
        page[start..start + page[start..].find('"').unwrap()].to_string()
    };
    let login = http
        .post(server.url("/console/login"))
        .header("cookie", format!("einvoice_login={login_cookie}"))
        .form(&[
            ("csrf", csrf_of(&login_page).as_str()),
            ("email", "canary@example.com"),
            ("password", user_password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    let session_cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("einvoice_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .unwrap();
    let console = |method: reqwest::Method, path: &str| {
        http.request(method, server.url(path))
            .header("cookie", format!("einvoice_session={session_cookie}"))
    };
    let (_, business) = seen
        .record(
            console(reqwest::Method::GET, "/console/settings/business")
                .send()
                .await
                .unwrap(),
        )
        .await;
    let csrf = csrf_of(&business);
    let owners: Value = api(reqwest::Method::GET, "/v2/owners")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(owners.to_string().contains(&owner));
    let gstin_page = format!("/console/settings/business/gstins/{owner}");
    seen.record(
        console(reqwest::Method::GET, &gstin_page)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let (status, _) = seen
        .record(
            console(reqwest::Method::POST, &format!("{gstin_page}/credentials"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", nic_username),
                    ("password", nic_password.as_str()),
                ])
                .send()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(status, 303);
    seen.record(
        console(reqwest::Method::POST, &format!("{gstin_page}/verify"))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .unwrap(),
    )
    .await;
    seen.record(
        console(reqwest::Method::GET, &gstin_page)
            .send()
            .await
            .unwrap(),
    )
    .await;
    seen.record(
        console(reqwest::Method::GET, "/console/overview")
            .send()
            .await
            .unwrap(),
    )
    .await;
    seen.record(
        console(reqwest::Method::GET, "/console/settings/integrations")
            .send()
            .await
            .unwrap(),
    )
    .await;

    // Crash the gateway: WAL and SHM stay on disk for the scan.
    let logs = server.kill();
    assert!(
        logs.contains("TRACE"),
        "logs were not captured at trace level"
    );

    // The sandbox's own state names the session it issued to us.
    let (auth_token, sek): (String, Vec<u8>) = {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}?mode=ro",
            dir.path().join("irp.db").display()
        ))
        .await
        .unwrap();
        let row =
            sqlx::query_as("SELECT auth_token, sek FROM sessions WHERE client_id = $1 LIMIT 1")
                .bind(&client_id)
                .fetch_one(&mut conn)
                .await
                .unwrap();
        conn.close().await.unwrap();
        row
    };
    let files = files_in(&data);
    assert!(files.iter().any(|f| f.to_string_lossy().ends_with("-wal")));
    let secrets = [
        ("NIC password", nic_password.clone()),
        ("GSP client secret", client_secret.clone()),
        ("API token", token.clone()),
        ("API token body", token[5..].to_string()),
        ("console user password", user_password.clone()),
        ("console session cookie", session_cookie.clone()),
        ("IRP AuthToken", auth_token.clone()),
        ("IRP session key (base64)", base64_standard(&sek)),
        ("webhook signing secret", webhook_secret.clone()),
        (
            "webhook signing key (base64)",
            webhook_secret[6..].to_string(),
        ),
    ];
    let mut checked = 0;
    for (what, secret) in &secrets {
        assert!(secret.len() >= 10, "{what} is too short to be a canary");
        let leaking: Vec<&str> = logs
            .lines()
            .filter(|l| l.contains(secret.as_str()))
            .collect();
        assert!(leaking.is_empty(), "{what} in the logs: {leaking:?}");
        assert!(
            !scan(seen.text.as_bytes(), secret),
            "{what} in an HTTP response"
        );
        for file in &files {
            if file.file_name().unwrap() == "master.key" {
                continue;
            }
            let mut bytes = Vec::new();
            std::fs::File::open(file)
                .unwrap()
                .read_to_end(&mut bytes)
                .unwrap();
            assert!(!scan(&bytes, secret), "{what} in {}", file.display());
            checked += 1;
        }
    }
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(sek.len()).any(|w| w == sek.as_slice()),
            "raw session key in {}",
            file.display()
        );
    }
    println!(
        "secret exposure: {} canaries, {} file scans, {} bytes of logs, {} bytes of responses: 0 hits",
        secrets.len(),
        checked,
        logs.len(),
        seen.text.len()
    );
}
