//! ClearTax's `GET /v2/eInvoice/download`: up to five e-invoices printed as one PDF (or a ZIP
//! of one PDF each), with the QR code of each `SignedQRCode`, drawn from what the IRP signed.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::IntoParams;

use super::before_irp::before_irp_call;
use super::einvoice::irns_of;
use crate::http::access::Caller;
use crate::http::error::{ApiError, ApiResult, ErrorBody};
use crate::http::extract::{GstinHeader, OwnerHeaders};
use crate::render;
use crate::service::registered::{self, RegisteredEinvoice};
use crate::service::ServiceError;
use crate::state::AppState;

/// At most this many e-invoices per download, as ClearTax allows.
const MOST_PER_DOWNLOAD: usize = 5;

/// The download's query, read from the pairs (IRNs may repeat); this describes it once for
/// the OpenAPI document.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DownloadQuery {
    /// The IRNs, 1 to 5: repeat the parameter, or separate them with commas.
    irns: Vec<String>,
    /// `PDF` (default: one document, a page or more per e-invoice) or `ZIP` (one PDF each).
    format: Option<String>,
    /// ClearTax's print templates: accepted and not used (the gateway prints one layout); so
    /// are its other print options.
    template: Option<String>,
}

enum Format {
    Pdf,
    Zip,
}

fn format_of(query: Option<&str>) -> Result<Format, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| ApiError::bad_request("invalid_query", format!("query string: {e}"), None))?;
    let format = pairs
        .iter()
        .find(|(name, _)| name == "format")
        .map(|(_, value)| value.trim());
    match format {
        None | Some("") => Ok(Format::Pdf),
        Some(f) if f.eq_ignore_ascii_case("pdf") => Ok(Format::Pdf),
        Some(f) if f.eq_ignore_ascii_case("zip") => Ok(Format::Zip),
        Some(_) => Err(ApiError::bad_request(
            "invalid_format",
            "format is PDF or ZIP",
            Some("format"),
        )),
    }
}

/// Print e-invoices as a PDF with their QR codes.
#[utoipa::path(
    get,
    path = "/v2/eInvoice/download",
    tag = "einvoice",
    params(
        DownloadQuery,
        super::einvoice::DocumentHeaders,
    ),
    responses(
        (status = 200, description = "The PDF (or a ZIP of one PDF per IRN)", content_type = "application/pdf"),
        (status = 404, description = "An IRN that the IRP no longer gives and the gateway did not keep", body = ErrorBody),
        (status = 409, description = "Several owners for the GSTIN; send owner_id", body = ErrorBody),
        (status = 422, description = "More than 5 IRNs", body = ErrorBody),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    Caller(actor): Caller,
    owner: OwnerHeaders,
    GstinHeader(gstin): GstinHeader,
    uri: axum::http::Uri,
) -> ApiResult<Response> {
    let format = format_of(uri.query())?;
    let irns = irns_of(uri.query(), "irns", MOST_PER_DOWNLOAD)?;
    let owner_id = before_irp_call(&state, actor, &owner.0, &gstin).await?;
    let mut einvoices = Vec::with_capacity(irns.len());
    for irn in &irns {
        einvoices.push(registered::registered(&state, actor, owner_id, &gstin, irn).await?);
    }
    let (content_type, extension) = match format {
        Format::Pdf => ("application/pdf", "pdf"),
        Format::Zip => ("application/zip", "zip"),
    };
    let name = match einvoices.as_slice() {
        [one] => one.irn.clone(),
        _ => format!("einvoices-{}", einvoices.len()),
    };
    // Drawing is CPU work: off the request threads.
    let bytes = tokio::task::spawn_blocking(move || draw(&einvoices, format))
        .await
        .map_err(|e| ApiError::from(ServiceError::internal(e)))?
        .map_err(|e| ApiError::from(ServiceError::internal(e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{extension}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn draw(
    einvoices: &[RegisteredEinvoice],
    format: Format,
) -> Result<Vec<u8>, render::printed::RenderError> {
    let printed: Vec<_> = einvoices.iter().map(RegisteredEinvoice::printed).collect();
    match format {
        Format::Pdf => render::pdf::render(&printed),
        Format::Zip => render::archive::zip(&printed),
    }
}
