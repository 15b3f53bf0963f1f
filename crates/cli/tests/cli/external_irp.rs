//! An IRP sandbox in a process of its own (so it outlives a killed gateway), with the gateway
//! registered on its portal as a GSP, dummy GSTINs with API users, and the environment that
//! points a gateway at it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use serde_json::{json, Value};

use crate::process::einvoice;

pub struct IrpProcess {
    child: Child,
    pub base: String,
}

impl IrpProcess {
    /// Starts `einvoice sandbox` on a free port with its state in `db`.
    pub fn start(db: &Path, test_controls: bool) -> IrpProcess {
        let mut command = einvoice();
        command
            .args(["sandbox", "--port", "0", "--taxpayers", "0", "--db"])
            .arg(db);
        if test_controls {
            command.arg("--test-controls");
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(base.starts_with("http://"), "{line}");
        IrpProcess { child, base }
    }
}

impl Drop for IrpProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn portal(base: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let value: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{path}: {value}");
    value
}

pub async fn last_otp(base: &str, mobile: &str) -> String {
    let outbox: Value = reqwest::get(format!("{base}/portal/outbox?mobile={mobile}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    outbox["messages"][0]["message"].as_str().unwrap()[..6].to_string()
}

/// Our GSP client on the sandbox portal, and the files a gateway needs to use it.
pub struct GspClient {
    pub client_id: String,
    pub client_secret: String,
    key_file: String,
    cert_file: String,
    secret_file: String,
    base: String,
}

impl GspClient {
    /// Registers the demo GSP (PAN AAGCE4321K) through the portal, OTP included.
    pub async fn register(irp: &IrpProcess, dir: &Path) -> GspClient {
        let base = irp.base.clone();
        let started = portal(
            &base,
            "/portal/clients/register",
            json!({"kind": "GSP", "pan": "AAGCE4321K", "mobile": "9000000100", "email": "gsp@sandbox.test"}),
        )
        .await;
        let otp = last_otp(&base, "9000000100").await;
        let issued = portal(
            &base,
            "/portal/clients/verify",
            json!({"request_id": started["request_id"], "otp": otp}),
        )
        .await;
        let fetch = |path: &str| {
            let url = format!("{base}{path}");
            async move { reqwest::get(url).await.unwrap().text().await.unwrap() }
        };
        let key_file = dir.join("irp-key.pem");
        std::fs::write(&key_file, fetch("/keys/encryption-public-key.pem").await).unwrap();
        let cert_file = dir.join("irp-cert.pem");
        std::fs::write(&cert_file, fetch("/keys/signing-certificate.pem").await).unwrap();
        let client_secret = issued["client_secret"].as_str().unwrap().to_string();
        let secret_file = dir.join("client-secret");
        std::fs::write(&secret_file, &client_secret).unwrap();
        GspClient {
            client_id: issued["client_id"].as_str().unwrap().to_string(),
            client_secret,
            key_file: key_file.display().to_string(),
            cert_file: cert_file.display().to_string(),
            secret_file: secret_file.display().to_string(),
            base,
        }
    }

    /// A new dummy GSTIN of the GSP's PAN in `state` with an API user.
    pub async fn dummy_gstin_with_user(
        &self,
        state: &str,
        username: &str,
        password: &str,
    ) -> String {
        let gstin = portal(
            &self.base,
            "/portal/clients/dummy-gstins",
            json!({"client_id": self.client_id, "client_secret": self.client_secret, "state_code": state}),
        )
        .await["gstin"]
            .as_str()
            .unwrap()
            .to_string();
        portal(
            &self.base,
            "/portal/clients/api-users",
            json!({"client_id": self.client_id, "client_secret": self.client_secret, "gstin": gstin,
                   "username": username, "password": password}),
        )
        .await;
        gstin
    }

    /// The environment that points a gateway at this IRP as this client.
    pub fn gateway_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("EINVOICE_IRP_BASE_URL", self.base.clone()),
            ("EINVOICE_IRP_PUBLIC_KEY_FILE", self.key_file.clone()),
            (
                "EINVOICE_IRP_SIGNING_CERTIFICATE_FILE",
                self.cert_file.clone(),
            ),
            ("EINVOICE_IRP_CLIENT_ID", self.client_id.clone()),
            ("EINVOICE_IRP_CLIENT_SECRET_FILE", self.secret_file.clone()),
        ]
    }
}

/// A goods invoice with IGST 18% from `seller` to a Telangana buyer.
pub fn invoice(seller: &str, doc_no: &str) -> Value {
    json!({"transaction": {
        "Version": "1.1",
        "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B"},
        "DocDtls": {"Typ": "INV", "No": doc_no, "Dt": "01/11/2026"},
        "SellerDtls": {"Gstin": seller, "LglNm": "Seller", "Addr1": "Road", "Loc": "City", "Pin": testkit::invoices::pin_in_state_of(seller), "Stcd": &seller[..2]},
        "BuyerDtls": {"Gstin": "36AAECF1151A1ZC", "LglNm": "Buyer", "Pos": "36", "Addr1": "Road", "Loc": "City", "Pin": 500001, "Stcd": "36"},
        "ItemList": [{"SlNo": "1", "IsServc": "N", "HsnCd": "84713010", "Qty": 1, "Unit": "NOS", "UnitPrice": 100, "TotAmt": 100, "AssAmt": 100, "GstRt": 18, "IgstAmt": 18, "TotItemVal": 118}],
        "ValDtls": {"AssVal": 100, "IgstVal": 18, "TotInvVal": 118}
    }})
}
