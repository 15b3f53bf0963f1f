//! The taxpayer's e-way bills as a page (`/portal/ui/ewaybills`), from the same handler as
//! the JSON list.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;

use super::account::{logged_in, menu};
use super::layout::{error_box, respond};
use crate::portal::ewaybills;
use crate::state::Sandbox;

/// `GET /portal/ui/ewaybills`.
pub async fn ewaybills(State(sandbox): State<Sandbox>, headers: HeaderMap) -> Response {
    let (user, auth) = match logged_in(&sandbox, &headers).await {
        Ok(found) => found,
        Err(redirect) => return redirect,
    };
    let listed = ewaybills::list(State(sandbox), auth).await;
    let body = match listed {
        Err(e) => html! { (menu(&user)) h1 { "E-way bills" } (error_box(&e)) },
        Ok(axum::Json(list)) => {
            let bills = list["ewaybills"].as_array().cloned().unwrap_or_default();
            html! {
                (menu(&user))
                h1 { "E-way bills" }
                @if bills.is_empty() {
                    p #no-ewaybills { "No e-way bills have been generated for this GSTIN." }
                } @else {
                    table #ewaybills {
                        thead { tr {
                            th scope="col" { "E-way bill no" }
                            th scope="col" { "IRN" }
                            th scope="col" { "Generated" }
                            th scope="col" { "Valid till" }
                            th scope="col" { "Status" }
                        } }
                        tbody {
                            @for bill in &bills {
                                tr data-ewb=(bill["ewb_no"]) {
                                    td { (bill["ewb_no"]) }
                                    td.mono title=(bill["irn"].as_str().unwrap_or("")) { (bill["irn"].as_str().unwrap_or("").get(..16).unwrap_or("")) "…" }
                                    td { (bill["ewb_dt"].as_str().unwrap_or("")) }
                                    td { (bill["valid_till"].as_str().unwrap_or("Part A only")) }
                                    td.status {
                                        @if bill["status"] == "CNL" {
                                            "Cancelled " (bill["cancel_date"].as_str().unwrap_or(""))
                                        } @else { "Active" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    respond(StatusCode::OK, "E-way bills", body)
}
