//! IRP sessions are bound to the credential row whose password obtained them. A hostile tenant
//! that adds an owner for a victim's (public) GSTIN and stores the victim's NIC username with
//! a wrong password never sees VERIFIED, and can never generate, get or cancel with the
//! victim's session; storing or deleting its row leaves the victim's session alone; failed IRP
//! logins are limited per (account, GSTIN). Production mode, an IRP sandbox over HTTP, both
//! backends.

use std::fmt::Write as _;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::einvoice::invoice;
use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;
use crate::verify::auth_calls;

/// A seller the sandbox knows whose GSTIN passes production checks, and a buyer.
const VICTIM_GSTIN: &str = "29AAACP7879D1Z0";
const BUYER: &str = "36AAECF1151A1ZC";
const VICTIM_USER: &str = "victimuser1";
const VICTIM_PASSWORD: &str = "Victim@1234";

struct World {
    app: TestApp,
    irp: String,
    _irp: testkit::irp::RunningSandbox,
}

async fn world(db: Db, mode: &'static str) -> Option<World> {
    let sandbox = testkit::irp::sandbox_with_controls().await;
    let (client_id, secret) = sandbox
        .provision_demo(
            "einvoice",
            "AAGCE4321K",
            VICTIM_GSTIN,
            VICTIM_USER,
            VICTIM_PASSWORD,
        )
        .await
        .unwrap();
    let running = testkit::irp::RunningSandbox::serve(sandbox).await;
    let irp = running.gateway_settings(&client_id, &secret, true, 30_000);
    let app = TestApp::spawn(
        db,
        Options {
            irp: Some(irp),
            ..Options::mode(mode)
        },
    )
    .await?;
    Some(World {
        app,
        irp: running.base_url.clone(),
        _irp: running,
    })
}

/// Who calls: a token (or none in sandbox mode) and an owner.
#[derive(Clone, Copy)]
struct Caller<'a> {
    token: Option<&'a str>,
    owner: Uuid,
}

impl World {
    fn request(
        &self,
        caller: Caller<'_>,
        request: reqwest::RequestBuilder,
    ) -> reqwest::RequestBuilder {
        let request = request
            .header("owner_id", caller.owner.to_string())
            .header("gstin", VICTIM_GSTIN);
        match caller.token {
            Some(token) => request.header("X-Cleartax-Auth-Token", token),
            None => request,
        }
    }

    /// Sends a request as `caller`.
    async fn call(
        &self,
        caller: Caller<'_>,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> crate::helpers::Response {
        let mut request = self.request(caller, self.app.client.request(method, self.app.url(path)));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.app.send(request).await
    }

    /// Sends a request as `caller` and asserts a 200.
    async fn ok(
        &self,
        caller: Caller<'_>,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let r = self.call(caller, method, path, body).await;
        assert_eq!(r.status, 200, "{path}: {:?}", r.body);
        r.body
    }

    async fn store(&self, caller: Caller<'_>, username: &str, password: &str) -> Value {
        let body = json!({"gstin": VICTIM_GSTIN, "username": username, "password": password});
        let path = "/v2/nic_credentials/store_nic_credentials?verify=true";
        self.ok(caller, reqwest::Method::POST, path, Some(body))
            .await["verification"]
            .clone()
    }

    async fn verify(&self, caller: Caller<'_>) -> crate::helpers::Response {
        let body = json!({"gstin": VICTIM_GSTIN});
        self.call(
            caller,
            reqwest::Method::POST,
            "/v2/nic_credentials/verify",
            Some(body),
        )
        .await
    }

    async fn status(&self, caller: Caller<'_>) -> String {
        let path = format!(
            "/v2/nic_credentials?owner_id={}&gstin={VICTIM_GSTIN}",
            caller.owner
        );
        let body = self.ok(caller, reqwest::Method::GET, &path, None).await;
        body["status"].as_str().unwrap_or("").to_string()
    }

    async fn generate(&self, caller: Caller<'_>, doc_no: &str) -> Value {
        let body = json!([{"transaction": invoice(VICTIM_GSTIN, BUYER, doc_no, 1000.0)}]);
        self.ok(
            caller,
            reqwest::Method::PUT,
            "/v2/eInvoice/generate",
            Some(body),
        )
        .await[0]
            .clone()
    }

    async fn get(&self, caller: Caller<'_>, irn: &str) -> Value {
        let path = format!("/v2/eInvoice/get?irn={irn}");
        self.ok(caller, reqwest::Method::GET, &path, None).await[0].clone()
    }

    async fn cancel(&self, caller: Caller<'_>, irn: &str) -> Value {
        let body = json!([{"irn": irn, "CnlRsn": "2", "CnlRem": "Data entry mistake"}]);
        self.ok(
            caller,
            reqwest::Method::PUT,
            "/v2/eInvoice/cancel",
            Some(body),
        )
        .await[0]
            .clone()
    }
}

/// What an attacker's call returned carries none of the victim's e-invoice data.
fn refused(answer: &Value) {
    let govt = &answer["govt_response"];
    assert_eq!(govt["Success"], "N", "{answer}");
    assert!(
        govt["Irn"].is_null() && govt["SignedInvoice"].is_null(),
        "{answer}"
    );
}

async fn a_wrong_password_never_rides_another_tenants_session(db: Db) {
    let Some(w) = world(db, "production").await else {
        return;
    };
    let (_, token_a) = w.app.new_account("victim@example.com").await;
    let (_, token_b) = w.app.new_account("attacker@example.com").await;
    let victim = Caller {
        token: Some(&token_a),
        owner: w.app.new_gstin_owner(Some(&token_a), VICTIM_GSTIN).await,
    };
    let attacker = Caller {
        token: Some(&token_b),
        owner: w.app.new_gstin_owner(Some(&token_b), VICTIM_GSTIN).await,
    };

    // The victim's row is verified and generates an IRN.
    assert_eq!(
        w.store(victim, VICTIM_USER, VICTIM_PASSWORD).await["status"],
        "VERIFIED"
    );
    let generated = w.generate(victim, "ISO/0001").await;
    assert_eq!(generated["document_status"], "IRN_GENERATED", "{generated}");
    let irn = generated["govt_response"]["Irn"]
        .as_str()
        .unwrap()
        .to_string();
    let victim_auths = auth_calls(&w.irp).await;

    // 1. The attacker stores the victim's username with a wrong password.
    let attacked = w.store(attacker, VICTIM_USER, "Guess@1234").await;
    assert_eq!(attacked["status"], "WRONG_PASSWORD", "{attacked}");
    // 2. The victim's session survived the attacker's store: no new auth call for it.
    assert_eq!(
        w.generate(victim, "ISO/0002").await["document_status"],
        "IRN_GENERATED"
    );
    let after_victim = auth_calls(&w.irp).await;
    assert_eq!(
        after_victim,
        victim_auths + 1,
        "only the attacker's one failed login"
    );
    // 3. The attacker never sees VERIFIED and can use nothing of the victim's.
    let verified = w.verify(attacker).await;
    assert_eq!(verified.status, 200);
    assert_eq!(
        verified.body["status"], "WRONG_PASSWORD",
        "{:?}",
        verified.body
    );
    assert_eq!(w.status(attacker).await, "WRONG_PASSWORD");
    let generated_by_attacker = w.generate(attacker, "ISO/0003").await;
    assert_eq!(generated_by_attacker["document_status"], "NOT_CREATED");
    refused(&generated_by_attacker);
    refused(&w.get(attacker, &irn).await);
    let cancelled = w.cancel(attacker, &irn).await;
    // The attacker's account never recorded the IRN: it reads as unknown, revealing nothing.
    assert_eq!(
        cancelled["document_status"], "IRN_GENERATION_FAILED",
        "{cancelled}"
    );
    refused(&cancelled);
    // The IRN is still active for its owner.
    let mine = w.get(victim, &irn).await;
    assert_eq!(mine["govt_response"]["Status"], "ACT", "{mine}");

    // 4. Deleting the attacker's row leaves the victim's session; deleting the victim's row
    // ends the victim's session at once, and no other.
    let before = auth_calls(&w.irp).await;
    assert_eq!(
        w.app
            .delete_nic_credentials(attacker.token, attacker.owner, VICTIM_GSTIN)
            .await
            .status,
        204
    );
    assert_eq!(
        w.generate(victim, "ISO/0004").await["document_status"],
        "IRN_GENERATED"
    );
    assert_eq!(
        auth_calls(&w.irp).await,
        before,
        "the victim authenticated again"
    );
    assert_eq!(
        w.app
            .delete_nic_credentials(victim.token, victim.owner, VICTIM_GSTIN)
            .await
            .status,
        204
    );
    let client_id = w
        .app
        .state
        .irp
        .as_ref()
        .unwrap()
        .primary
        .client
        .client_id()
        .to_string();
    let persisted = w
        .app
        .state
        .store
        .get_irp_session(&gateway::storage::IrpSessionKey {
            irp: "NIC1".into(),
            client_id,
            owner_id: gateway::ids::OwnerId(victim.owner),
            gstin: VICTIM_GSTIN.into(),
            version: 1,
            username: VICTIM_USER.into(),
        })
        .await
        .unwrap();
    assert!(persisted.is_none(), "a deleted row's session outlived it");
    // The attacker, storing again with any wrong password, still never gets VERIFIED.
    assert_eq!(
        w.store(attacker, VICTIM_USER, "Guess@5678").await["status"],
        "WRONG_PASSWORD"
    );
}
on_both_backends!(
    a_wrong_password_never_rides_another_tenants_session,
    a_wrong_password_never_rides_another_tenants_session
);

async fn two_owners_in_one_account_do_not_share_a_session(db: Db) {
    let Some(w) = world(db, "sandbox").await else {
        return;
    };
    let right = Caller {
        token: None,
        owner: Uuid::new_v4(),
    };
    let wrong = Caller {
        token: None,
        owner: Uuid::new_v4(),
    };
    // Wrong first, then right, then the wrong one checked again: never VERIFIED.
    assert_eq!(
        w.store(wrong, VICTIM_USER, "Wrong@1234").await["status"],
        "WRONG_PASSWORD"
    );
    assert_eq!(
        w.store(right, VICTIM_USER, VICTIM_PASSWORD).await["status"],
        "VERIFIED"
    );
    assert_eq!(w.verify(wrong).await.body["status"], "WRONG_PASSWORD");
    assert_eq!(w.status(wrong).await, "WRONG_PASSWORD");
    assert_eq!(
        w.generate(wrong, "OWN/0001").await["document_status"],
        "NOT_CREATED"
    );
    assert_eq!(
        w.generate(right, "OWN/0002").await["document_status"],
        "IRN_GENERATED"
    );
    // The wrong row stored again ends only its own sessions: the right one needs no new login.
    let before = auth_calls(&w.irp).await;
    w.store(wrong, VICTIM_USER, "Wrong@5678").await;
    assert_eq!(
        w.generate(right, "OWN/0003").await["document_status"],
        "IRN_GENERATED"
    );
    assert_eq!(
        auth_calls(&w.irp).await,
        before + 1,
        "only the wrong row's failed login"
    );
}
on_both_backends!(
    two_owners_in_one_account_do_not_share_a_session,
    two_owners_in_one_account_do_not_share_a_session
);

async fn failed_logins_are_limited_per_account_and_gstin(db: Db) {
    let Some(w) = world(db, "production").await else {
        return;
    };
    let (_, token_a) = w.app.new_account("victim@example.com").await;
    let (_, token_b) = w.app.new_account("prober@example.com").await;
    let victim = Caller {
        token: Some(&token_a),
        owner: w.app.new_gstin_owner(Some(&token_a), VICTIM_GSTIN).await,
    };
    let prober = Caller {
        token: Some(&token_b),
        owner: w.app.new_gstin_owner(Some(&token_b), VICTIM_GSTIN).await,
    };
    let limit = gateway::irp::sessions::AUTH_FAILURE_LIMIT;
    w.store(prober, "nosuchuser1", "Guess@1234").await;
    let mut answers = Vec::new();
    for _ in 0..limit {
        answers.push(w.verify(prober).await.status);
    }
    // The store's check was the first failure; the rest of the budget is spent here.
    let throttled = w.verify(prober).await;
    assert_eq!(throttled.status, 429, "{answers:?} {:?}", throttled.body);
    assert_eq!(throttled.error_codes(), ["too_many_irp_logins"]);
    assert_eq!(throttled.error_fields(), ["gstin"]);
    let retry_after: u64 = throttled.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    let calls = auth_calls(&w.irp).await;
    let generate =
        w.app
            .send(
                w.request(
                    prober,
                    w.app.client.put(w.app.url("/v2/eInvoice/generate")).json(
                        &json!([{"transaction": invoice(VICTIM_GSTIN, BUYER, "PRB/1", 1000.0)}]),
                    ),
                ),
            )
            .await;
    assert_eq!(generate.status, 429);
    assert_eq!(
        auth_calls(&w.irp).await,
        calls,
        "a throttled account reached the IRP"
    );
    // Another account is not affected by the prober's failures.
    assert_eq!(
        w.store(victim, VICTIM_USER, VICTIM_PASSWORD).await["status"],
        "VERIFIED"
    );
}
on_both_backends!(
    failed_logins_are_limited_per_account_and_gstin,
    failed_logins_are_limited_per_account_and_gstin
);

/// The IRP-session dimension of the authorisation matrix: who may use the session a row's
/// password obtained. Every operation that needs an IRP session, by the victim's own row and by
/// rows of another account on the same GSTIN; only the victim's row gets anything. Written to
/// `target/authorisation-matrix-irp-sessions-<db>.md`.
async fn irp_session_matrix(db: Db) {
    let Some(w) = world(db, "production").await else {
        return;
    };
    let (_, token_a) = w.app.new_account("victim@example.com").await;
    let (_, token_b) = w.app.new_account("other@example.com").await;
    let mut callers = Vec::new();
    let victim = Caller {
        token: Some(&token_a),
        owner: w.app.new_gstin_owner(Some(&token_a), VICTIM_GSTIN).await,
    };
    assert_eq!(
        w.store(victim, VICTIM_USER, VICTIM_PASSWORD).await["status"],
        "VERIFIED"
    );
    callers.push(("own row, right password", victim));
    for (label, username) in [
        (
            "other account, same username, wrong password",
            Some(VICTIM_USER),
        ),
        ("other account, unknown username", Some("nosuchuser1")),
        ("other account, no credentials", None),
    ] {
        let caller = Caller {
            token: Some(&token_b),
            owner: w.app.new_gstin_owner(Some(&token_b), VICTIM_GSTIN).await,
        };
        if let Some(username) = username {
            w.store(caller, username, "Guess@1234").await;
        }
        callers.push((label, caller));
    }
    let generated = w.generate(victim, "MTX/0").await;
    let irn = generated["govt_response"]["Irn"]
        .as_str()
        .unwrap()
        .to_string();
    let mut table = String::from(
        "| caller | verify | generate | get the victim's IRN | cancel the victim's IRN |\n|---|---|---|---|---|\n",
    );
    // The victim goes last, so that its cancel does not change what the others meet.
    callers.rotate_left(1);
    for (i, (label, caller)) in callers.iter().enumerate() {
        let is_victim = *label == "own row, right password";
        let verify = w.verify(*caller).await;
        let verify = match verify.status {
            200 => verify.body["status"].as_str().unwrap_or("").to_string(),
            other => format!("{other}"),
        };
        let generate = w
            .call(
                *caller,
                reqwest::Method::PUT,
                "/v2/eInvoice/generate",
                Some(json!([{"transaction": invoice(VICTIM_GSTIN, BUYER, &format!("MTX/{}", i + 1), 1000.0)}])),
            )
            .await;
        let get = w
            .call(
                *caller,
                reqwest::Method::GET,
                &format!("/v2/eInvoice/get?irn={irn}"),
                None,
            )
            .await;
        let cancel = w
            .call(
                *caller,
                reqwest::Method::PUT,
                "/v2/eInvoice/cancel",
                Some(json!([{"irn": irn, "CnlRsn": "2", "CnlRem": "Data entry mistake"}])),
            )
            .await;
        let outcome = |r: &crate::helpers::Response, array: bool| {
            let doc = if array { &r.body[0] } else { &r.body };
            if r.status != 200 {
                format!("{}", r.status)
            } else {
                doc["document_status"].as_str().unwrap_or("").to_string()
            }
        };
        let got = |r: &crate::helpers::Response| {
            r.status == 200 && r.body[0]["govt_response"]["SignedInvoice"].is_string()
        };
        let generate_ok =
            generate.status == 200 && generate.body[0]["document_status"] == "IRN_GENERATED";
        let cancel_ok =
            cancel.status == 200 && cancel.body[0]["document_status"] == "IRN_CANCELLED";
        assert_eq!(verify == "VERIFIED", is_victim, "{label}: verify {verify}");
        assert_eq!(
            generate_ok, is_victim,
            "{label}: generate {:?}",
            generate.body
        );
        assert_eq!(got(&get), is_victim, "{label}: get {:?}", get.body);
        assert_eq!(cancel_ok, is_victim, "{label}: cancel {:?}", cancel.body);
        writeln!(
            table,
            "| {label} | {verify} | {} | {} | {} |",
            outcome(&generate, true),
            if got(&get) {
                "signed invoice"
            } else {
                "nothing"
            },
            outcome(&cancel, true)
        )
        .unwrap();
    }
    let target = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join(format!("authorisation-matrix-irp-sessions-{db:?}.md").to_lowercase());
    std::fs::write(target, &table).unwrap();
    println!("{table}");
}
on_both_backends!(irp_session_matrix, irp_session_matrix);
