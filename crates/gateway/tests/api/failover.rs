//! NIC1/NIC2 failover over real HTTP, on both backends: one IRP sandbox serves as NIC1 and as
//! NIC2 on two ports over one IRN registry, with faults per IRP. The fault matrix: both up;
//! NIC1 down (generate goes to NIC2; get and cancel of an IRN made at NIC1 go to NIC2 with
//! `irp: NIC1`); NIC2 down; flapping; and a document that got no answer at NIC1 (committed,
//! then NIC1 went down) found at NIC2 by document details, not generated twice. Afterwards
//! every document has exactly one IRN in the registry, the one the gateway answered and
//! recorded, with the IRP that made it.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{Db, Options, TestApp};
use crate::on_both_backends;
use testkit::invoices::{invoice, SELLERS};

struct Pair {
    app: TestApp,
    sandbox: irp_sandbox::Sandbox,
    nic1: testkit::irp::RunningSandbox,
    nic2: testkit::irp::RunningSandbox,
    owner: Uuid,
    /// What the gateway answered: document number → IRN.
    answered: BTreeMap<String, String>,
}

const SELLER: &str = SELLERS[0].0;
const BUYER: &str = SELLERS[0].1;

async fn pair(db: Db) -> Option<Pair> {
    let sandbox = testkit::irp::sandbox_with_controls().await;
    let (client_id, secret) = sandbox
        .provision_demo("einvoice", "AAGCE4321K", SELLER, "apiuser0", "Api@12345")
        .await
        .unwrap();
    let nic1 = testkit::irp::RunningSandbox::serve(sandbox.clone()).await;
    let nic2 = testkit::irp::RunningSandbox::serve(sandbox.as_irp("NIC2")).await;
    let irp = testkit::irp::two_irp_settings(&nic1, &nic2, &client_id, &secret, 60_000);
    let app = TestApp::spawn(
        db,
        Options {
            irp: Some(irp),
            ..Options::mode("sandbox")
        },
    )
    .await?;
    let owner = Uuid::new_v4();
    let stored = app
        .send(
            app.client
                .post(app.url("/v2/nic_credentials/store_nic_credentials"))
                .header("owner_id", owner.to_string())
                .json(&json!({"gstin": SELLER, "username": "apiuser0", "password": "Api@12345"})),
        )
        .await;
    assert_eq!(stored.status, 200, "{:?}", stored.body);
    Some(Pair {
        app,
        sandbox,
        nic1,
        nic2,
        owner,
        answered: BTreeMap::new(),
    })
}

impl Pair {
    async fn fault(&self, irp: &str, body: Value) {
        let base = if irp == "NIC1" {
            &self.nic1.base_url
        } else {
            &self.nic2.base_url
        };
        let answer = reqwest::Client::new()
            .post(format!("{base}/sandbox/faults"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{body}");
    }

    async fn down(&self, irp: &str) {
        self.fault(irp, json!({"kind": "clear"})).await;
        self.fault(
            irp,
            json!({"kind": "http_status", "status": 503, "operation": "any", "count": 1000}),
        )
        .await;
    }

    async fn up(&self, irp: &str) {
        self.fault(irp, json!({"kind": "clear"})).await;
    }

    async fn generate(&mut self, doc_no: &str) -> Value {
        let answer = self
            .app
            .send(
                self.app
                    .client
                    .put(self.app.url("/v2/eInvoice/generate"))
                    .header("owner_id", self.owner.to_string())
                    .header("gstin", SELLER)
                    .json(&json!([{"transaction": invoice(SELLER, BUYER, doc_no, 1000.0)}])),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let one = answer.body[0].clone();
        assert_eq!(one["document_status"], "IRN_GENERATED", "{doc_no}: {one}");
        let irn = one["govt_response"]["Irn"].as_str().unwrap().to_string();
        self.answered.insert(doc_no.to_string(), irn);
        one
    }

    async fn get(&self, doc_no: &str) -> Value {
        let irn = &self.answered[doc_no];
        let answer = self
            .app
            .send(
                self.app
                    .client
                    .get(self.app.url(&format!("/v2/eInvoice/get?irn={irn}")))
                    .header("owner_id", self.owner.to_string())
                    .header("gstin", SELLER),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body.clone()
    }

    async fn cancel(&self, doc_no: &str) -> Value {
        let irn = &self.answered[doc_no];
        let answer = self
            .app
            .send(
                self.app
                    .client
                    .put(self.app.url("/v2/eInvoice/cancel"))
                    .header("owner_id", self.owner.to_string())
                    .header("gstin", SELLER)
                    .json(&json!([{"irn": irn, "CnlRsn": "2", "CnlRem": "failover"}])),
            )
            .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body[0].clone()
    }

    /// Where the registry says each document's IRN was made, and the IRN.
    async fn registry(&self) -> BTreeMap<String, (String, String)> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT doc_no, irn, irp FROM einvoices WHERE gstin = $1")
                .bind(SELLER)
                .fetch_all(&self.sandbox.pool)
                .await
                .unwrap();
        rows.into_iter()
            .map(|(doc, irn, irp)| (doc, (irn, irp)))
            .collect()
    }

    async fn recorded_origin(&self, doc_no: &str) -> Option<String> {
        self.app
            .state
            .store
            .get_einvoice(gateway::state::SANDBOX_ACCOUNT_ID, &self.answered[doc_no])
            .await
            .unwrap()
            .unwrap()
            .irp
    }
}

async fn fault_matrix(db: Db) {
    let Some(mut p) = pair(db).await else {
        return;
    };
    // Both up: NIC1, the preferred.
    p.generate("FO/1").await;

    // NIC1 down: generate at NIC2; get and cancel of NIC1's IRN at NIC2, naming NIC1.
    p.down("NIC1").await;
    p.generate("FO/2").await;
    let got = p.get("FO/1").await;
    assert_eq!(got[0]["document_status"], "IRN_GENERATED", "{got}");
    let cancelled = p.cancel("FO/1").await;
    assert_eq!(cancelled["document_status"], "IRN_CANCELLED", "{cancelled}");

    // NIC2 down, NIC1 back: generate at NIC1; get of NIC2's IRN at NIC1, naming NIC2.
    p.up("NIC1").await;
    p.down("NIC2").await;
    p.generate("FO/3").await;
    let got = p.get("FO/2").await;
    assert_eq!(got[0]["document_status"], "IRN_GENERATED", "{got}");

    // Flapping: one IRP down, then the other, six times.
    for round in 0..6 {
        let (down, up) = if round % 2 == 0 {
            ("NIC1", "NIC2")
        } else {
            ("NIC2", "NIC1")
        };
        p.up(up).await;
        p.down(down).await;
        p.generate(&format!("FO/F{round}")).await;
    }

    // No answer at NIC1 (it committed, then went down): found at NIC2 by document details.
    p.up("NIC2").await;
    p.up("NIC1").await;
    let before = p.sandbox.counters.snapshot();
    p.fault(
        "NIC1",
        json!({"kind": "drop_after_commit", "operation": "generate", "count": 1}),
    )
    .await;
    p.fault(
        "NIC1",
        json!({"kind": "http_status", "status": 503, "operation": "any", "count": 1000, "after": 1}),
    )
    .await;
    p.generate("FO/NA").await;
    assert_eq!(p.recorded_origin("FO/NA").await.as_deref(), Some("NIC1"));
    let cancelled = p.cancel("FO/NA").await;
    assert_eq!(cancelled["document_status"], "IRN_CANCELLED", "{cancelled}");
    let after = p.sandbox.counters.snapshot();
    assert_eq!(after["duplicates"], before["duplicates"], "sent again");
    assert_eq!(
        after["irns_generated"].as_u64().unwrap(),
        before["irns_generated"].as_u64().unwrap() + 1
    );

    // Zero duplicates, zero lost: one IRN per document, the one answered and recorded, with
    // the IRP that made it.
    let registry = p.registry().await;
    assert_eq!(registry.len(), p.answered.len(), "{registry:?}");
    for (doc, irn) in &p.answered {
        let (registered, made_at) = &registry[doc];
        assert_eq!(registered, irn, "{doc}");
        assert_eq!(
            p.recorded_origin(doc).await.as_deref(),
            Some(made_at.as_str()),
            "{doc}"
        );
    }
    let made_at: Vec<&str> = ["FO/1", "FO/2", "FO/3"]
        .iter()
        .map(|doc| registry[*doc].1.as_str())
        .collect();
    assert_eq!(made_at, ["NIC1", "NIC2", "NIC1"]);
}
on_both_backends!(nic1_nic2_failover_fault_matrix, fault_matrix);
