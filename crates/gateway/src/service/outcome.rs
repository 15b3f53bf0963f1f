//! What the gateway answers for one document or IRN: a ClearTax `document_status`, the IRP's
//! data, and errors that say whether the gateway or the government raised them. Shared by the
//! IRP call policy and the e-invoice operations.

use irp_client::IrpError;
use serde_json::Value;

/// Where an error came from: the `error_source` ClearTax clients read (an enum of their
/// contract: `GOVT` or `CLEARTAX`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The platform (this gateway) refused or failed the document itself: `CLEARTAX`.
    Platform,
    /// The IRP (the government) answered the error: `GOVT`.
    Govt,
}

impl ErrorSource {
    /// The spelling in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSource::Platform => "CLEARTAX",
            ErrorSource::Govt => "GOVT",
        }
    }
}

/// The state of one document or IRN after a call: ClearTax's `document_status` values, which
/// its clients compare against (`document_status === 'NOT_CREATED'`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentStatus {
    /// The IRN is active (generated now, or before).
    IrnGenerated,
    /// Generation did not happen.
    NotCreated,
    /// A dry run: only validated (with or without errors).
    DocumentValidation,
    /// The IRN is cancelled.
    IrnCancelled,
    /// There is no IRN to speak of (unknown here and at the IRP).
    IrnGenerationFailed,
}

impl DocumentStatus {
    /// The spelling in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::IrnGenerated => "IRN_GENERATED",
            DocumentStatus::NotCreated => "NOT_CREATED",
            DocumentStatus::DocumentValidation => "DOCUMENT_VALIDATION",
            DocumentStatus::IrnCancelled => "IRN_CANCELLED",
            DocumentStatus::IrnGenerationFailed => "IRN_GENERATION_FAILED",
        }
    }
}

/// ClearTax's numeric `error_code` for one of the gateway's own errors, where ClearTax's
/// catalogue has one (201 NIC credentials missing, 500 seller GSTIN differs from the header,
/// 301/302 IRP or NIC down). The gateway's stable string stays beside it, in
/// `gateway_error_code`.
pub fn cleartax_code(code: &str) -> Option<&'static str> {
    match code {
        "NIC_CREDENTIALS_MISSING" => Some("201"),
        "SELLER_GSTIN_MISMATCH" => Some("500"),
        // After retries or with the circuit open: the IRP is down.
        "IRP_UNAVAILABLE" => Some("301"),
        // One call that reached no IRP answer (transport, TLS, a body that is not NIC's).
        "IRP_ERROR" => Some("302"),
        _ => None,
    }
}

/// One error in a `govt_response`.
#[derive(Debug, Clone)]
pub struct OutcomeError {
    /// NIC code, or the gateway's own code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// Who raised it.
    pub source: ErrorSource,
    /// The gateway's own explanation of a government error, when it has one (an extra field,
    /// `error_detail`, that ClearTax clients ignore).
    pub detail: Option<String>,
}

impl OutcomeError {
    /// An error the gateway raises itself.
    pub fn platform(code: &str, message: impl Into<String>) -> Self {
        OutcomeError {
            code: code.to_string(),
            message: message.into(),
            source: ErrorSource::Platform,
            detail: None,
        }
    }

    /// The errors the IRP answered (or one naming a transport failure).
    pub fn govt(error: &IrpError) -> Vec<Self> {
        match error {
            IrpError::Nic { errors, .. } => errors
                .iter()
                .map(|e| OutcomeError {
                    code: e.error_code.clone(),
                    message: e.error_message.clone(),
                    source: ErrorSource::Govt,
                    detail: None,
                })
                .collect(),
            other => vec![Self::platform("IRP_ERROR", other.to_string())],
        }
    }
}

/// The outcome for one document.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What became of the document.
    pub document_status: DocumentStatus,
    /// The IRP's data (AckNo, AckDt, Irn, SignedInvoice, …) on success.
    pub data: Option<Box<Value>>,
    /// Errors on failure.
    pub errors: Vec<OutcomeError>,
    /// NIC's `InfoDtls` entries (`{InfCd, Desc}`), e.g. DUPIRN with the existing IRN.
    pub info: Vec<Value>,
    /// The document as the IRP registered it (the data of the verified signed invoice).
    pub document: Option<Box<Value>>,
}

impl Outcome {
    /// A failed outcome.
    pub fn failed(status: DocumentStatus, errors: Vec<OutcomeError>) -> Self {
        Outcome {
            document_status: status,
            data: None,
            errors,
            info: Vec::new(),
            document: None,
        }
    }
}
