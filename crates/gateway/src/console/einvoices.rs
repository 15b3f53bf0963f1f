//! Settings → Business Settings → a GSTIN → E-invoices: the documents registered for it,
//! newest first, filtered by status and paged, from the gateway's own records.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde::Deserialize;

use super::errors::failure;
use super::gstin::gstin_of;
use super::layout::{error_page, human_time, page, respond, Section};
use super::session::ConsoleSession;
use crate::clock::Timestamp;
use crate::ids::OwnerId;
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
                        th scope="col" { "Registered" }
                    } }
                    tbody {
                        @for row in shown {
                            tr data-irn=(row.irn) {
                                td { (row.doc_type) " " (row.doc_no) }
                                td { (row.doc_date) }
                                td.mono title=(row.irn) { (row.irn.get(..16).unwrap_or(&row.irn)) "…" }
                                td { (row.ack_no) }
                                td { (row.ack_dt) }
                                td.status { (status_label(row.status)) }
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
