//! `GET /metrics`: Prometheus's text format. On the main listener it answers only a scrape from
//! this machine (a loopback peer, not forwarded by a proxy); with `metrics_listen` set it is
//! served there instead, and the main listener has no such route.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::http::error::ApiError;
use crate::metrics::{Gauges, IrpGauges};
use crate::state::AppState;

/// The gauges read now, then every metric as text.
pub async fn render(state: &AppState) -> Response {
    let mut gauges = Gauges::default();
    match state.store.count_credentials_by_status().await {
        Ok(counts) => {
            gauges.credentials = crate::storage::VerificationStatus::ALL
                .iter()
                .map(|status| {
                    let count = counts
                        .iter()
                        .find(|(s, _)| s == status)
                        .map(|(_, n)| *n)
                        .unwrap_or(0);
                    (*status, count)
                })
                .collect();
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not count credentials"),
    }
    if let Some(irp) = &state.irp {
        gauges.live_sessions = irp.sessions.live_count() as i64;
        let now = state.now();
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        gauges.irps = irp
            .sites()
            .map(|site| IrpGauges {
                name: site.name.clone(),
                breaker_open: site.breaker.open_for(now).is_some(),
                calls_open: count(site.client.open_calls()),
                calls_waiting: count(site.places.waiting()),
            })
            .collect();
        gauges.irp_requests_waiting = count(irp.turns.waiting());
    }
    (gauges.db_connections, gauges.db_idle_connections) = state.store.pool_connections();
    state.metrics.set_gauges(&gauges);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /metrics` on the main listener.
pub async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let from_this_machine = peer.ip().is_loopback() && !headers.contains_key("x-forwarded-for");
    if state.settings.metrics_listen.is_some() || !from_this_machine {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "route_not_found",
            "no such endpoint",
            None,
        )
        .into_response();
    }
    render(&state).await
}

/// The router of the `metrics_listen` address: `/metrics` and nothing else.
pub fn metrics_only(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { render(&state).await }),
        )
        .with_state(state)
}
