//! What the test controls hold: faults waiting to be injected into IRP answers, and the
//! counters of what the sandbox did (auth calls, IRNs, duplicates, errors by code). A leaf, so
//! that the state, the writer and the control endpoints can all share it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::json;

/// One kind of injected fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Wait this many milliseconds before answering.
    Latency(u64),
    /// Answer with this NIC error code (2146, 2147, 5001, …) without doing the work.
    NicError(String),
    /// Answer with this HTTP status and no envelope.
    HttpStatus(u16),
    /// Do the work and commit it, then drop the connection without an answer.
    DropAfterCommit,
}

#[derive(Debug, Clone)]
struct Fault {
    kind: FaultKind,
    operation: String,
    remaining: u32,
    /// Matching calls still let through before the fault applies.
    skip: u32,
}

/// Pending faults, consumed by the operations they target.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Queues a fault for `operation` (`auth`, `generate`, `get`, `cancel`, `gstin`, `ewb_generate`, `ewb_get`, `ewb_cancel` or `any`).
    pub fn inject(&self, kind: FaultKind, operation: &str, count: u32) {
        self.inject_after(kind, operation, count, 0);
    }

    /// Queues a fault that lets `skip` matching calls through first (e.g. an IRP that goes
    /// down right after one call).
    pub fn inject_after(&self, kind: FaultKind, operation: &str, count: u32, skip: u32) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.push(Fault {
                kind,
                operation: operation.to_string(),
                remaining: count.max(1),
                skip,
            });
        }
    }

    /// Takes the faults that apply to one call of `operation`.
    pub fn take(&self, operation: &str) -> Vec<FaultKind> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for fault in pending.iter_mut() {
            if fault.remaining > 0 && (fault.operation == operation || fault.operation == "any") {
                if fault.skip > 0 {
                    fault.skip -= 1;
                    continue;
                }
                fault.remaining -= 1;
                out.push(fault.kind.clone());
            }
        }
        pending.retain(|f| f.remaining > 0);
        out
    }

    /// Removes every pending fault.
    pub fn clear(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.clear();
        }
    }
}

/// What the sandbox has done.
#[derive(Debug, Default)]
pub struct Counters {
    inner: Mutex<CounterValues>,
}

#[derive(Debug, Default, Clone)]
struct CounterValues {
    auth_calls: BTreeMap<(String, String), u64>,
    irns_generated: u64,
    duplicates: u64,
    cancellations: u64,
    ewbs_generated: u64,
    ewb_cancellations: u64,
    errors_by_code: BTreeMap<String, u64>,
}

impl Counters {
    /// Counts one auth call of a client for a GSTIN.
    pub fn auth_call(&self, client_id: &str, gstin: &str) {
        if let Ok(mut c) = self.inner.lock() {
            *c.auth_calls
                .entry((client_id.to_string(), gstin.to_string()))
                .or_default() += 1;
        }
    }

    /// Counts a generated IRN.
    pub fn irn_generated(&self) {
        if let Ok(mut c) = self.inner.lock() {
            c.irns_generated += 1;
        }
    }

    /// Counts a duplicate (2150) answer.
    pub fn duplicate(&self) {
        if let Ok(mut c) = self.inner.lock() {
            c.duplicates += 1;
        }
    }

    /// Counts a cancellation.
    pub fn cancelled(&self) {
        if let Ok(mut c) = self.inner.lock() {
            c.cancellations += 1;
        }
    }

    /// Counts a generated e-way bill.
    pub fn ewb_generated(&self) {
        if let Ok(mut c) = self.inner.lock() {
            c.ewbs_generated += 1;
        }
    }

    /// Counts a cancelled e-way bill.
    pub fn ewb_cancelled(&self) {
        if let Ok(mut c) = self.inner.lock() {
            c.ewb_cancellations += 1;
        }
    }

    /// Counts an error answer by code.
    pub fn error(&self, code: &str) {
        if let Ok(mut c) = self.inner.lock() {
            *c.errors_by_code.entry(code.to_string()).or_default() += 1;
        }
    }

    /// IRNs generated so far.
    pub fn irns(&self) -> u64 {
        self.inner.lock().map(|c| c.irns_generated).unwrap_or(0)
    }

    /// The counters as JSON.
    pub fn snapshot(&self) -> serde_json::Value {
        let c = self.inner.lock().map(|c| c.clone()).unwrap_or_default();
        let mut auth = serde_json::Map::new();
        let mut total_auth = 0;
        for ((client, gstin), n) in &c.auth_calls {
            total_auth += n;
            let entry = auth.entry(client.clone()).or_insert_with(|| json!({}));
            entry[gstin] = json!(n);
        }
        json!({
            "auth_calls": auth,
            "auth_calls_total": total_auth,
            "irns_generated": c.irns_generated,
            "duplicates": c.duplicates,
            "cancellations": c.cancellations,
            "ewbs_generated": c.ewbs_generated,
            "ewb_cancellations": c.ewb_cancellations,
            "errors_by_code": c.errors_by_code,
        })
    }

    /// The counters in Prometheus text format.
    pub fn prometheus(&self) -> String {
        let c = self.inner.lock().map(|c| c.clone()).unwrap_or_default();
        let mut out = String::new();
        out.push_str("# TYPE irp_auth_calls_total counter\n");
        for ((client, gstin), n) in &c.auth_calls {
            out.push_str(&format!(
                "irp_auth_calls_total{{client_id=\"{client}\",gstin=\"{gstin}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "# TYPE irp_irns_generated_total counter\nirp_irns_generated_total {}\n",
            c.irns_generated
        ));
        out.push_str(&format!(
            "# TYPE irp_duplicates_total counter\nirp_duplicates_total {}\n",
            c.duplicates
        ));
        out.push_str(&format!(
            "# TYPE irp_cancellations_total counter\nirp_cancellations_total {}\n",
            c.cancellations
        ));
        out.push_str(&format!(
            "# TYPE irp_ewbs_generated_total counter\nirp_ewbs_generated_total {}\n",
            c.ewbs_generated
        ));
        out.push_str(&format!(
            "# TYPE irp_ewb_cancellations_total counter\nirp_ewb_cancellations_total {}\n",
            c.ewb_cancellations
        ));
        out.push_str("# TYPE irp_errors_total counter\n");
        for (code, n) in &c.errors_by_code {
            out.push_str(&format!("irp_errors_total{{code=\"{code}\"}} {n}\n"));
        }
        out
    }
}
