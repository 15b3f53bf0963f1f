//! What the gateway answers for one document or IRN: a ClearTax `document_status`, the IRP's
//! data, and errors that say whether the gateway or the government raised them. Shared by the
//! IRP call policy and the e-invoice operations.

use irp_client::IrpError;
use serde_json::Value;

/// One error in a `govt_response`.
#[derive(Debug, Clone)]
pub struct OutcomeError {
    /// NIC code, or the gateway's own code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// `GATEWAY` or `GOVT`.
    pub source: &'static str,
}

impl OutcomeError {
    /// An error the gateway raises itself.
    pub fn gateway(code: &str, message: impl Into<String>) -> Self {
        OutcomeError {
            code: code.to_string(),
            message: message.into(),
            source: "GATEWAY",
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
                    source: "GOVT",
                })
                .collect(),
            other => vec![Self::gateway("IRP_ERROR", other.to_string())],
        }
    }
}

/// The outcome for one document.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `IRN_GENERATED`, `NOT_CREATED`, `DOCUMENT_VALIDATION`, `VALIDATED` (dry run),
    /// `CANCELLED`, `FOUND`.
    pub document_status: &'static str,
    /// The IRP's data (AckNo, AckDt, Irn, SignedInvoice, …) on success.
    pub data: Option<Value>,
    /// Errors on failure.
    pub errors: Vec<OutcomeError>,
}

impl Outcome {
    /// A failed outcome.
    pub fn failed(status: &'static str, errors: Vec<OutcomeError>) -> Self {
        Outcome {
            document_status: status,
            data: None,
            errors,
        }
    }
}
