//! Settings → Business Settings → a GSTIN → E-invoices: the documents registered for it,
//! newest first, filtered by status and paged, from the gateway's own records; and one
//! e-invoice with its QR code and PDF.

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, PreEscaped};
use serde::Deserialize;

use super::errors::failure;
use super::gstin::gstin_of;
use super::layout::{error_page, human_time, page, respond, Section};
use super::session::ConsoleSession;
use crate::clock::Timestamp;
use crate::ids::OwnerId;
use crate::render::printed::{field, money};
use crate::render::{self, qr};
use crate::service::{registered, ServiceError};
use crate::state::AppState;
use crate::storage::EinvoiceStatus;

/// E-invoices on one page.
const PAGE_SIZE: i64 = 50;

/// The list's filter and page.
#[derive(Deserialize)]
pub struct ListQuery {
    /// `ACT` or `CNL`; anything else (or nothing) lists all.
    pub status: Option<String>,
    /// The cursor of the next page: `<created_at ms>.<irn>` of the last row shown.
    pub before: Option<String>,
}

fn parse_cursor(text: &str) -> Option<(Timestamp, String)> {
    let (at, irn) = text.split_once('.')?;
    let at = at.parse::<i64>().ok()?;
    irp_protocol::irn::is_irn(irn).then(|| (Timestamp(at), irn.to_string()))
}

/// The e-way bill column: its number while active, "cancelled" after, a dash without one.
fn ewb_label(row: &crate::storage::EinvoiceRecord) -> String {
    match (row.ewb_no, row.ewb_cancelled_at) {
        (Some(no), None) => no.to_string(),
        (Some(no), Some(_)) => format!("{no} (cancelled)"),
        (None, _) => "—".to_string(),
    }
}

fn status_label(status: EinvoiceStatus) -> &'static str {
    match status {
        EinvoiceStatus::Active => "Active",
        EinvoiceStatus::Cancelled => "Cancelled",
    }
}

/// `GET /console/settings/business/gstins/{owner_id}/einvoices`.
pub async fn list(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path(owner_id): Path<OwnerId>,
    Query(query): Query<ListQuery>,
) -> Response {
    let (_, gstin) = match gstin_of(&state, &session, owner_id).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let status = query.status.as_deref().and_then(EinvoiceStatus::parse);
    let before = match query.before.as_deref().filter(|b| !b.is_empty()) {
        None => None,
        Some(text) => match parse_cursor(text) {
            Some(cursor) => Some(cursor),
            None => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "This page link is not valid",
                    "Go back to the list of e-invoices and follow its links again.",
                )
            }
        },
    };
    let rows = match state
        .store
        .list_einvoices(
            session.record.account_id,
            owner_id,
            status,
            before,
            PAGE_SIZE + 1,
        )
        .await
    {
        Ok(rows) => rows,
        Err(e) => return failure(e.into()),
    };
    let more = rows.len() as i64 > PAGE_SIZE;
    let shown = &rows[..rows.len().min(PAGE_SIZE as usize)];
    let next = shown
        .last()
        .filter(|_| more)
        .map(|last| format!("{}.{}", last.created_at.millis(), last.irn));
    let base = format!("/console/settings/business/gstins/{owner_id}/einvoices");
    let status_param = status.map(EinvoiceStatus::as_str).unwrap_or("");
    let body = html! {
        p { a href={ "/console/settings/business/gstins/" (owner_id) } { "← GSTIN " (gstin) } }
        h1 { "E-invoices of " span.mono { (gstin) } }
        form.filters method="get" action=(base) {
            label for="status" { "Status" }
            select #status name="status" {
                option value="" selected[status.is_none()] { "All" }
                @for s in [EinvoiceStatus::Active, EinvoiceStatus::Cancelled] {
                    option value=(s.as_str()) selected[status == Some(s)] { (status_label(s)) }
                }
            }
            button type="submit" { "Show" }
        }
        @if shown.is_empty() {
            p #no-einvoices { "No e-invoices" @if status.is_some() { " with this status" } " yet." }
        } @else {
            div.table-wrap {
                table #einvoices {
                    thead { tr {
                        th scope="col" { "Document" }
                        th scope="col" { "Date" }
                        th scope="col" { "IRN" }
                        th scope="col" { "Ack no" }
                        th scope="col" { "Ack date" }
                        th scope="col" { "Status" }
                        th scope="col" { "E-way bill" }
                        th scope="col" { "Registered" }
                    } }
                    tbody {
                        @for row in shown {
                            tr data-irn=(row.irn) {
                                td { (row.doc_type) " " (row.doc_no) }
                                td { (row.doc_date) }
                                td.mono title=(row.irn) { a href={ (base) "/" (row.irn) } { (row.irn.get(..16).unwrap_or(&row.irn)) "…" } }
                                td { (row.ack_no) }
                                td { (row.ack_dt) }
                                td.status { (status_label(row.status)) }
                                td.ewb { (ewb_label(row)) }
                                td { (human_time(row.created_at)) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(cursor) = next {
            p { a #older href={ (base) "?status=" (status_param) "&before=" (cursor) } { "Older e-invoices →" } }
        }
    };
    respond(
        StatusCode::OK,
        page(&session.page_user(), Section::Business, "E-invoices", body),
    )
}

/// The GSTIN of an owner of the session's account and its record of an IRN, or the page that
/// says there is none.
async fn einvoice_of(
    state: &AppState,
    session: &ConsoleSession,
    owner_id: OwnerId,
    irn: &str,
) -> Result<(String, crate::storage::EinvoiceRecord), Response> {
    let (_, gstin) = gstin_of(state, session, owner_id).await?;
    let record = record_of(state, session, owner_id, irn).await?;
    Ok((gstin, record))
}

/// The account's record of an IRN under this owner, or the page that says there is none.
async fn record_of(
    state: &AppState,
    session: &ConsoleSession,
    owner_id: OwnerId,
    irn: &str,
) -> Result<crate::storage::EinvoiceRecord, Response> {
    let missing = || {
        error_page(
            StatusCode::NOT_FOUND,
            "No such e-invoice",
            "This GSTIN has no e-invoice with that IRN in your account.",
        )
    };
    if !irp_protocol::irn::is_irn(irn) {
        return Err(missing());
    }
    match state
        .store
        .get_einvoice(session.record.account_id, &irn.to_ascii_lowercase())
        .await
    {
        Ok(Some(record)) if record.owner_id == owner_id => Ok(record),
        Ok(_) => Err(missing()),
        Err(e) => Err(failure(e.into())),
    }
}

/// `GET /console/settings/business/gstins/{owner_id}/einvoices/{irn}`: one e-invoice, with
/// its QR code and a PDF download when the signed invoice can be had.
pub async fn show(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path((owner_id, irn)): Path<(OwnerId, String)>,
) -> Response {
    let (gstin, record) = match einvoice_of(&state, &session, owner_id, &irn).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let registered =
        registered::registered(&state, session.actor(), owner_id, &gstin, &record.irn).await;
    let base = format!("/console/settings/business/gstins/{owner_id}/einvoices");
    let body = html! {
        p { a href=(base) { "← E-invoices of " (gstin) } }
        h1 { (record.doc_type) " " (record.doc_no) }
        div.einvoice {
            div {
                dl.facts #einvoice {
                    dt { "Date" } dd { (record.doc_date) }
                    dt { "IRN" } dd.mono #irn { (record.irn) }
                    dt { "Ack no" } dd { (record.ack_no) }
                    dt { "Ack date" } dd { (record.ack_dt) }
                    dt { "Status" } dd.status { (status_label(record.status)) }
                    @if let Some(ewb_no) = record.ewb_no {
                        dt { "E-way bill" }
                        dd #ewb {
                            (ewb_no)
                            @if record.ewb_cancelled_at.is_some() {
                                " (cancelled)"
                            } @else {
                                " · generated " (record.ewb_dt.as_deref().unwrap_or(""))
                                @if let Some(till) = &record.ewb_valid_till { " · valid till " (till) } @else { " · Part A only" }
                            }
                        }
                    }
                    @if let Ok(einvoice) = &registered {
                        @let document = &einvoice.document;
                        dt { "Seller" } dd { (field(document, "SellerDtls", "LglNm")) " · " span.mono { (field(document, "SellerDtls", "Gstin")) } }
                        dt { "Buyer" } dd { (field(document, "BuyerDtls", "LglNm")) " · " span.mono { (field(document, "BuyerDtls", "Gstin")) } }
                        dt { "Total invoice value (₹)" } dd #total { (money(document.get("ValDtls").and_then(|v| v.get("TotInvVal")))) }
                    }
                }
                @match &registered {
                    Ok(_) => p { a.button #download-pdf href={ (base) "/" (record.irn) "/pdf" } { "Download PDF" } },
                    Err(e) => p.notice #unavailable { "The signed e-invoice cannot be shown: " (error_parts_message(e)) },
                }
            }
            @if let Ok(einvoice) = &registered {
                @match qr::svg(&einvoice.signed_qr_code, 320) {
                    Ok(image) => figure #qr role="img" aria-label="QR code of the signed e-invoice" {
                        (PreEscaped(image))
                        figcaption { "The IRP's signed QR code" }
                    },
                    Err(_) => p.notice { "The QR code cannot be drawn." },
                }
            }
        }
    };
    respond(
        StatusCode::OK,
        page(&session.page_user(), Section::Business, "E-invoice", body),
    )
}

fn error_parts_message(error: &ServiceError) -> String {
    match error {
        ServiceError::NotFound(e) | ServiceError::Unavailable { error: e, .. } => e.message.clone(),
        _ => "the gateway could not fetch it; try again later.".to_string(),
    }
}

/// `GET /console/settings/business/gstins/{owner_id}/einvoices/{irn}/pdf`: the printed
/// e-invoice.
pub async fn pdf(
    State(state): State<AppState>,
    session: ConsoleSession,
    Path((owner_id, irn)): Path<(OwnerId, String)>,
) -> Response {
    let (gstin, record) = match einvoice_of(&state, &session, owner_id, &irn).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let einvoice = match registered::registered(
        &state,
        session.actor(),
        owner_id,
        &gstin,
        &record.irn,
    )
    .await
    {
        Ok(einvoice) => einvoice,
        Err(e) => return failure(e),
    };
    let drawn =
        tokio::task::spawn_blocking(move || render::pdf::render(&[einvoice.printed()])).await;
    match drawn {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}.pdf\"", record.irn),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => failure(ServiceError::internal(e)),
        Err(e) => failure(ServiceError::internal(e)),
    }
}
