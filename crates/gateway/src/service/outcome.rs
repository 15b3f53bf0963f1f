//! What the gateway answers for one document or IRN: a ClearTax `document_status`, the IRP's
//! data, and errors that say whether the gateway or the government raised them. Shared by the
//! IRP call policy and the e-invoice operations.

use irp_client::IrpError;
use serde_json::Value;

/// Where an error came from: the `error_source` clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The gateway refused or failed the document itself.
    Gateway,
    /// The IRP (the government) answered the error.
    Govt,
}

impl ErrorSource {
    /// The spelling in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorSource::Gateway => "GATEWAY",
            ErrorSource::Govt => "GOVT",
        }
    }
}

/// What became of one document or IRN: the `document_status` clients read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentStatus {
    /// The IRP registered it (or had registered it already).
    IrnGenerated,
    /// It was not registered.
    NotCreated,
    /// The gateway's validation refused it before any IRP call.
    DocumentValidation,
    /// A dry run found nothing wrong.
    Validated,
    /// The IRN was cancelled.
    Cancelled,
    /// The cancellation did not happen.
    NotCancelled,
    /// The e-invoice was found.
    Found,
    /// It was not found.
    NotFound,
}

impl DocumentStatus {
    /// The spelling in answers.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentStatus::IrnGenerated => "IRN_GENERATED",
            DocumentStatus::NotCreated => "NOT_CREATED",
            DocumentStatus::DocumentValidation => "DOCUMENT_VALIDATION",
            DocumentStatus::Validated => "VALIDATED",
            DocumentStatus::Cancelled => "CANCELLED",
            DocumentStatus::NotCancelled => "NOT_CANCELLED",
            DocumentStatus::Found => "FOUND",
            DocumentStatus::NotFound => "NOT_FOUND",
        }
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
}

impl OutcomeError {
    /// An error the gateway raises itself.
    pub fn gateway(code: &str, message: impl Into<String>) -> Self {
        OutcomeError {
            code: code.to_string(),
            message: message.into(),
            source: ErrorSource::Gateway,
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
                })
                .collect(),
            other => vec![Self::gateway("IRP_ERROR", other.to_string())],
        }
    }
}

/// The outcome for one document.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What became of the document.
    pub document_status: DocumentStatus,
    /// The IRP's data (AckNo, AckDt, Irn, SignedInvoice, …) on success.
    pub data: Option<Value>,
    /// Errors on failure.
    pub errors: Vec<OutcomeError>,
}

impl Outcome {
    /// A failed outcome.
    pub fn failed(status: DocumentStatus, errors: Vec<OutcomeError>) -> Self {
        Outcome {
            document_status: status,
            data: None,
            errors,
        }
    }
}
