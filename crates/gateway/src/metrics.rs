//! Prometheus metrics of the gateway (`GET /metrics`), in one explicit registry per gateway
//! (prometheus-client; no global recorder). Every label value is bounded: route templates,
//! methods, status codes, fixed operation and outcome names, and NIC codes from the catalogue
//! (anything else reads `other`). No label ever carries a GSTIN, a username or a secret.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::storage::VerificationStatus;

/// An HTTP request's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The route template (`/v2/eInvoice/generate`, `/console/settings/business/gstins/{owner_id}`),
    /// or `unmatched`.
    pub route: String,
    /// GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or `other`.
    pub method: String,
    /// The HTTP status code.
    pub status: u16,
}

/// A route's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route template.
    pub route: String,
}

/// What the gateway asks the IRP.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum IrpOperation {
    /// Generate an IRN.
    generate,
    /// Cancel an IRN.
    cancel,
    /// Get an e-invoice by IRN.
    get,
    /// Generate an e-way bill by IRN.
    ewb_generate,
    /// Cancel an e-way bill.
    ewb_cancel,
}

/// How an IRP call ended.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum CallOutcome {
    /// The IRP did it.
    ok,
    /// The IRP refused with NIC codes.
    refused,
    /// No connection, no answer, an HTTP error or an unreadable answer.
    transport,
}

/// An IRP call's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IrpCallLabels {
    /// The operation.
    pub operation: IrpOperation,
    /// How it ended.
    pub outcome: CallOutcome,
    /// The first NIC code of a refusal (from the catalogue, else `other`); empty otherwise.
    pub code: String,
}

/// An IRP operation's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// The operation.
    pub operation: IrpOperation,
}

/// An auth call's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AuthLabels {
    /// `ok`, `refused` or `transport`.
    pub outcome: CallOutcome,
    /// The first NIC code of a refusal, bounded as for calls.
    pub code: String,
}

/// What happened to a document.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum DocumentEvent {
    /// Made at the IRP.
    generated,
    /// Cancelled at the IRP.
    cancelled,
    /// Found at the IRP instead of made twice (2150, 4002, or a reconciliation after no answer).
    recovered,
}

/// What kind of document.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum DocumentKind {
    /// An e-invoice (IRN).
    einvoice,
    /// An e-way bill.
    ewaybill,
}

/// A document counter's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DocumentLabels {
    /// The kind.
    pub kind: DocumentKind,
    /// The event.
    pub event: DocumentEvent,
}

/// A vault operation's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VaultLabels {
    /// `seal` or `open`.
    pub operation: String,
    /// `ok` or `failed`.
    pub outcome: String,
}

/// A credential status's label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// `VERIFIED`, `WRONG_PASSWORD`, …
    pub status: String,
}

/// A webhook delivery attempt's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WebhookLabels {
    /// The event type (one of a fixed list).
    pub event: String,
    /// `delivered`, `failed` (to be retried) or `given_up`.
    pub outcome: String,
}

/// Why a request was refused admission.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// `overloaded`, `gstin_rate` or `gstin_error_budget`.
    pub reason: String,
}

/// Every metric of the gateway.
pub struct Metrics {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_seconds: Family<RouteLabels, Histogram>,
    irp_calls: Family<IrpCallLabels, Counter>,
    irp_seconds: Family<OperationLabels, Histogram>,
    irp_auth_calls: Family<AuthLabels, Counter>,
    documents: Family<DocumentLabels, Counter>,
    vault_operations: Family<VaultLabels, Counter>,
    credentials: Family<StatusLabels, Gauge>,
    webhook_deliveries: Family<WebhookLabels, Counter>,
    admission_refusals: Family<ReasonLabels, Counter>,
    live_sessions: Gauge,
    breaker_open: Family<IrpLabels, Gauge>,
    irp_calls_open: Family<IrpLabels, Gauge>,
    irp_calls_waiting: Family<IrpLabels, Gauge>,
    irp_requests_waiting: Gauge,
    db_connections: Gauge,
    db_idle_connections: Gauge,
}

/// An IRP's label (a configured name: NIC1, NIC2).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IrpLabels {
    /// The IRP.
    pub irp: String,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/// A NIC code from the catalogue, or `other`: label values stay bounded.
fn bounded_code(code: Option<&str>) -> String {
    match code {
        None => String::new(),
        Some(code) if irp_protocol::errors::lookup(code).is_some() => code.to_string(),
        Some(_) => "other".to_string(),
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("einvoice");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route template, method and status",
            http_requests.clone(),
        );
        let http_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            http_seconds.clone(),
        );
        let irp_calls = Family::<IrpCallLabels, Counter>::default();
        registry.register(
            "irp_calls",
            "IRP calls by operation, outcome and NIC code",
            irp_calls.clone(),
        );
        let irp_seconds = Family::<OperationLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "irp_call_duration_seconds",
            "IRP call latency by operation",
            irp_seconds.clone(),
        );
        let irp_auth_calls = Family::<AuthLabels, Counter>::default();
        registry.register(
            "irp_auth_calls",
            "IRP auth calls by outcome and NIC code",
            irp_auth_calls.clone(),
        );
        let documents = Family::<DocumentLabels, Counter>::default();
        registry.register(
            "documents",
            "E-invoices and e-way bills generated, cancelled and recovered",
            documents.clone(),
        );
        let vault_operations = Family::<VaultLabels, Counter>::default();
        registry.register(
            "vault_operations",
            "Vault seal and open operations by outcome",
            vault_operations.clone(),
        );
        let credentials = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "credentials",
            "Stored NIC credentials by verification status",
            credentials.clone(),
        );
        let live_sessions = Gauge::default();
        registry.register(
            "irp_live_sessions",
            "IRP sessions held by this process",
            live_sessions.clone(),
        );
        let breaker_open = Family::<IrpLabels, Gauge>::default();
        registry.register(
            "irp_circuit_breaker_open",
            "1 while the circuit breaker to an IRP is open",
            breaker_open.clone(),
        );
        let irp_calls_open = Family::<IrpLabels, Gauge>::default();
        registry.register(
            "irp_calls_open",
            "Calls open at an IRP now (at most irp_max_connections; more wait their turn)",
            irp_calls_open.clone(),
        );
        let irp_calls_waiting = Family::<IrpLabels, Gauge>::default();
        registry.register(
            "irp_calls_waiting",
            "Calls waiting for a place at an IRP now (accounts take turns)",
            irp_calls_waiting.clone(),
        );
        let irp_requests_waiting = Gauge::default();
        registry.register(
            "irp_requests_waiting",
            "Requests waiting for their turn to send documents to the IRPs, bodies unread (accounts take turns)",
            irp_requests_waiting.clone(),
        );
        let db_connections = Gauge::default();
        registry.register(
            "db_pool_connections",
            "Database connections open in the pool",
            db_connections.clone(),
        );
        let db_idle_connections = Gauge::default();
        registry.register(
            "db_pool_idle_connections",
            "Database connections idle in the pool",
            db_idle_connections.clone(),
        );
        let webhook_deliveries = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by event type and outcome",
            webhook_deliveries.clone(),
        );
        let admission_refusals = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "admission_refusals",
            "Requests answered 429 by the bulkhead or a GSTIN's limits, by reason",
            admission_refusals.clone(),
        );
        Metrics {
            admission_refusals,
            webhook_deliveries,
            registry,
            http_requests,
            http_seconds,
            irp_calls,
            irp_seconds,
            irp_auth_calls,
            documents,
            vault_operations,
            credentials,
            live_sessions,
            breaker_open,
            irp_calls_open,
            irp_calls_waiting,
            irp_requests_waiting,
            db_connections,
            db_idle_connections,
        }
    }

    /// Records an HTTP request.
    pub fn http_request(&self, route: &str, method: &str, status: u16, elapsed: Duration) {
        let method = METHODS
            .iter()
            .find(|m| **m == method)
            .copied()
            .unwrap_or("other");
        self.http_requests
            .get_or_create(&HttpLabels {
                route: route.to_string(),
                method: method.to_string(),
                status,
            })
            .inc();
        self.http_seconds
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one IRP call (one attempt).
    pub fn irp_call(
        &self,
        operation: IrpOperation,
        outcome: CallOutcome,
        code: Option<&str>,
        elapsed: Duration,
    ) {
        self.irp_calls
            .get_or_create(&IrpCallLabels {
                operation,
                outcome,
                code: bounded_code(code),
            })
            .inc();
        self.irp_seconds
            .get_or_create(&OperationLabels { operation })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one IRP auth call.
    pub fn irp_auth(&self, outcome: CallOutcome, code: Option<&str>) {
        self.irp_auth_calls
            .get_or_create(&AuthLabels {
                outcome,
                code: bounded_code(code),
            })
            .inc();
    }

    /// Records what happened to a document.
    pub fn document(&self, kind: DocumentKind, event: DocumentEvent) {
        self.documents
            .get_or_create(&DocumentLabels { kind, event })
            .inc();
    }

    /// Records a vault operation.
    pub fn vault(&self, operation: &'static str, ok: bool) {
        self.vault_operations
            .get_or_create(&VaultLabels {
                operation: operation.to_string(),
                outcome: if ok { "ok" } else { "failed" }.to_string(),
            })
            .inc();
    }

    /// Records a webhook delivery attempt (`event` is a known event type).
    pub fn webhook_delivery(&self, event: crate::events::EventKind, outcome: &'static str) {
        self.webhook_deliveries
            .get_or_create(&WebhookLabels {
                event: event.as_str().to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    /// Records a request refused admission (`reason` is one of a fixed list).
    pub fn admission_refused(&self, reason: &'static str) {
        self.admission_refusals
            .get_or_create(&ReasonLabels {
                reason: reason.to_string(),
            })
            .inc();
    }

    /// The gauges read at scrape time.
    pub fn set_gauges(&self, gauges: &Gauges) {
        for (status, count) in &gauges.credentials {
            self.credentials
                .get_or_create(&StatusLabels {
                    status: status.as_str().to_string(),
                })
                .set(*count);
        }
        self.live_sessions.set(gauges.live_sessions);
        for irp in &gauges.irps {
            let labels = IrpLabels {
                irp: irp.name.clone(),
            };
            self.breaker_open
                .get_or_create(&labels)
                .set(i64::from(irp.breaker_open));
            self.irp_calls_open
                .get_or_create(&labels)
                .set(irp.calls_open);
            self.irp_calls_waiting
                .get_or_create(&labels)
                .set(irp.calls_waiting);
        }
        self.irp_requests_waiting.set(gauges.irp_requests_waiting);
        self.db_connections.set(gauges.db_connections);
        self.db_idle_connections.set(gauges.db_idle_connections);
    }

    /// The registry in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// What is read at scrape time rather than counted.
#[derive(Debug, Default)]
pub struct Gauges {
    /// Stored credentials by status (every status, zero included).
    pub credentials: Vec<(VerificationStatus, i64)>,
    /// IRP sessions this process holds.
    pub live_sessions: i64,
    /// Each IRP's breaker and calls.
    pub irps: Vec<IrpGauges>,
    /// Requests waiting for their turn to send documents to the IRPs.
    pub irp_requests_waiting: i64,
    /// Open database connections.
    pub db_connections: i64,
    /// Idle database connections.
    pub db_idle_connections: i64,
}

/// What is read of one IRP at scrape time.
#[derive(Debug, Default)]
pub struct IrpGauges {
    /// Its name (`NIC1`, `NIC2`): the only label.
    pub name: String,
    /// Whether the breaker to it is open.
    pub breaker_open: bool,
    /// Calls open at it.
    pub calls_open: i64,
    /// Calls waiting for a place at it.
    pub calls_waiting: i64,
}
