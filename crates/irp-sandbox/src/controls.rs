//! Test controls (only with `--test-controls`): a settable clock, injected faults, counters of
//! auth calls, IRNs and errors (also at `/metrics`), and API users for known taxpayers in one
//! call.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::counters::FaultKind;
use crate::state::Sandbox;

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
    /// SUS), `mark_stale` (the IRP's master shows `status` until a sync GSTIN call restores the
    /// common portal's), `set_aato` (with `gstin` and `status`: the turnover in crore rupees, or
    /// null to unflag it) or `clear`.
    pub kind: String,
    /// Operation targeted (default `any`).
    pub operation: Option<String>,
    /// How many calls it affects (default 1).
    pub count: Option<u32>,
    /// How many matching calls pass untouched before it applies (default 0).
    pub after: Option<u32>,
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
        "block_gstin" | "unblock_gstin" | "set_status" | "set_aato" => {
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
                "set_aato" => match body.status.as_ref() {
                    None | Some(serde_json::Value::Null) => state.aato_crore = None,
                    Some(v) => match v.as_i64().filter(|crore| *crore >= 0) {
                        Some(crore) => state.aato_crore = Some(crore),
                        None => {
                            return (
                                StatusCode::BAD_REQUEST,
                                Json(
                                    json!({"error": "status must be the turnover in crore rupees"}),
                                ),
                            )
                        }
                    },
                },
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
                    Json(
                        json!({"gstin": gstin, "status": state.status, "blocked": state.blocked, "aato_crore": state.aato_crore}),
                    ),
                ),
                Err(e) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": e.to_string()})),
                ),
            };
        }
        "mark_stale" => {
            let gstin = body.gstin.clone().unwrap_or_default().to_ascii_uppercase();
            let stale = match body.status.as_ref().and_then(|s| s.as_str()) {
                Some(s @ ("ACT" | "CNL" | "INA" | "SUS")) => s.to_string(),
                _ => {
                    return (
                        StatusCode::BAD_REQUEST,
                        Json(json!({"error": "status must be ACT, CNL, INA or SUS"})),
                    )
                }
            };
            return match sandbox.mark_stale(&gstin, &stale).await {
                Ok(true) => (
                    StatusCode::OK,
                    Json(json!({"gstin": gstin, "stale_status": stale})),
                ),
                Ok(false) => (
                    StatusCode::NOT_FOUND,
                    Json(json!({"error": "no such GSTIN"})),
                ),
                Err(e) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": e.to_string()})),
                ),
            };
        }
        "clear" => {
            sandbox.faults().clear();
            return (StatusCode::OK, Json(json!({"cleared": true})));
        }
        other => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("unknown fault kind {other}")})),
            )
        }
    };
    sandbox
        .faults()
        .inject_after(kind, operation, count, body.after.unwrap_or(0));
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

/// `POST /sandbox/api-users`: what a registered taxpayer does on the portal (registration with
/// OTP, API Registration, Create API User through this GSP), in one call for a GSP's test
/// tooling: an API user of `gstin` mapped to the calling client. The GSTIN must be in the
/// master and the client's credentials must be right; NIC's rules for usernames and passwords
/// hold as on the portal.
pub async fn provision_api_user(
    State(sandbox): State<Sandbox>,
    crate::json::PortalJson(body): crate::json::PortalJson<crate::portal::clients::ClientApiUser>,
) -> Result<axum::Json<serde_json::Value>, crate::error::PortalError> {
    crate::portal::clients::client_of(&sandbox, &body.client_id, &body.client_secret).await?;
    let gstin = body.gstin.to_ascii_uppercase();
    if sandbox.taxpayer(&gstin).is_none() {
        return Err(crate::error::PortalError::new(
            StatusCode::NOT_FOUND,
            "unknown_gstin",
            format!("{gstin} is not in the sandbox's GSTIN master"),
        ));
    }
    crate::portal::api_users::insert_api_user(
        &sandbox,
        &gstin,
        &body.client_id,
        &body.username,
        &body.password,
    )
    .await
    .map(Json)
}
