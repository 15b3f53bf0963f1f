//! Test controls (only with `--test-controls`): a settable clock, injected faults, and
//! counters of auth calls, IRNs and errors (also at `/metrics`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::state::Sandbox;

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
}

/// Pending faults, consumed by the operations they target.
#[derive(Debug, Default)]
pub struct Faults {
    pending: Mutex<Vec<Fault>>,
}

impl Faults {
    /// Queues a fault for `operation` (`auth`, `generate`, `get`, `cancel`, `gstin` or `any`).
    pub fn inject(&self, kind: FaultKind, operation: &str, count: u32) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.push(Fault {
                kind,
                operation: operation.to_string(),
                remaining: count.max(1),
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
        out.push_str("# TYPE irp_errors_total counter\n");
        for (code, n) in &c.errors_by_code {
            out.push_str(&format!("irp_errors_total{{code=\"{code}\"}} {n}\n"));
        }
        out
    }
}

/// `POST /sandbox/clock` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockMove {
    /// Seconds to move the clock forward.
    pub advance_secs: i64,
}

/// Moves the clock.
pub async fn move_clock(
    State(sandbox): State<Sandbox>,
    Json(body): Json<ClockMove>,
) -> impl IntoResponse {
    sandbox
        .clock
        .advance(body.advance_secs.saturating_mul(1000));
    Json(
        json!({"now": crate::clock::nic_datetime(sandbox.clock.now_ms()), "offset_secs": sandbox.clock.offset_ms() / 1000}),
    )
}

/// Shows the clock.
pub async fn show_clock(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    Json(
        json!({"now": crate::clock::nic_datetime(sandbox.clock.now_ms()), "offset_secs": sandbox.clock.offset_ms() / 1000}),
    )
}

/// `POST /sandbox/faults` body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// `latency`, `nic_error`, `http_status`, `drop_after_commit`, `invalidate_sessions`,
    /// `block_gstin`, `unblock_gstin`, `set_status` (with `gstin` and `status`: ACT, CNL, INA,
    /// SUS) or `clear`.
    pub kind: String,
    /// Operation targeted (default `any`).
    pub operation: Option<String>,
    /// How many calls it affects (default 1).
    pub count: Option<u32>,
    /// For `latency`.
    pub ms: Option<u64>,
    /// For `nic_error`.
    pub code: Option<String>,
    /// For `http_status`: the HTTP status; for `set_status`: the taxpayer status.
    pub status: Option<serde_json::Value>,
    /// For `invalidate_sessions` (all when absent), `block_gstin`, `unblock_gstin`.
    pub gstin: Option<String>,
}

/// Injects a fault or applies an immediate one.
pub async fn inject_fault(
    State(sandbox): State<Sandbox>,
    Json(body): Json<FaultRequest>,
) -> impl IntoResponse {
    let operation = body.operation.as_deref().unwrap_or("any");
    let count = body.count.unwrap_or(1);
    let kind = match body.kind.as_str() {
        "latency" => FaultKind::Latency(body.ms.unwrap_or(1000)),
        "nic_error" => FaultKind::NicError(body.code.clone().unwrap_or_else(|| "5001".into())),
        "http_status" => FaultKind::HttpStatus(
            body.status
                .as_ref()
                .and_then(|s| s.as_u64())
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(503),
        ),
        "drop_after_commit" => FaultKind::DropAfterCommit,
        "invalidate_sessions" => {
            let result = sandbox.end_sessions(body.gstin.as_deref(), None).await;
            return match result {
                Ok(count) => (StatusCode::OK, Json(json!({"invalidated": count}))),
                Err(e) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": e.to_string()})),
                ),
            };
        }
        "block_gstin" | "unblock_gstin" | "set_status" => {
            let gstin = body.gstin.clone().unwrap_or_default();
            let Some(mut state) = sandbox.taxpayer(&gstin) else {
                return (
                    StatusCode::NOT_FOUND,
                    Json(json!({"error": "no such GSTIN"})),
                );
            };
            match body.kind.as_str() {
                "block_gstin" => state.blocked = true,
                "unblock_gstin" => state.blocked = false,
                _ => match body.status.as_ref().and_then(|s| s.as_str()) {
                    Some(s @ ("ACT" | "CNL" | "INA" | "SUS")) => state.status = s.to_string(),
                    _ => {
                        return (
                            StatusCode::BAD_REQUEST,
                            Json(json!({"error": "status must be ACT, CNL, INA or SUS"})),
                        )
                    }
                },
            }
            return match sandbox.set_taxpayer(&gstin, state.clone()).await {
                Ok(_) => (
                    StatusCode::OK,
                    Json(json!({"gstin": gstin, "status": state.status, "blocked": state.blocked})),
                ),
                Err(e) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": e.to_string()})),
                ),
            };
        }
        "clear" => {
            sandbox.faults.clear();
            return (StatusCode::OK, Json(json!({"cleared": true})));
        }
        other => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("unknown fault kind {other}")})),
            )
        }
    };
    sandbox.faults.inject(kind, operation, count);
    (
        StatusCode::OK,
        Json(json!({"injected": body.kind, "operation": operation, "count": count})),
    )
}

/// The counters as JSON.
pub async fn counters(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    Json(sandbox.counters.snapshot())
}

/// The counters for Prometheus.
pub async fn metrics(State(sandbox): State<Sandbox>) -> impl IntoResponse {
    (
        [("content-type", "text/plain; version=0.0.4")],
        sandbox.counters.prometheus(),
    )
}
