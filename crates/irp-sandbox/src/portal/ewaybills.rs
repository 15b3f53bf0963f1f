//! The taxpayer's e-way bills on the portal (`GET /portal/ewaybills`): the latest bills raised
//! from its IRNs, with their validity and status.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::portal_user;
use crate::error::PortalError;
use crate::state::Sandbox;

/// How many bills the list shows.
const LATEST: i64 = 100;

type BillRow = (i64, String, String, Option<String>, String, Option<String>);

/// `GET /portal/ewaybills` (logged in): the GSTIN's latest e-way bills, newest first.
#[utoipa::path(get, path = "/portal/ewaybills", tag = "portal", responses((status = 200, description = "The GSTIN's latest e-way bills")))]
pub async fn list(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
) -> Result<Json<Value>, PortalError> {
    let user = portal_user(&sandbox, &headers).await?;
    let rows: Vec<BillRow> = sqlx::query_as(
        "SELECT ewb_no, irn, ewb_dt, valid_till, status, cancel_date FROM ewaybills \
         WHERE gstin = $1 ORDER BY created_at DESC, ewb_no DESC LIMIT $2",
    )
    .bind(&user.gstin)
    .bind(LATEST)
    .fetch_all(&sandbox.pool)
    .await?;
    let bills: Vec<Value> = rows
        .into_iter()
        .map(|(ewb_no, irn, ewb_dt, valid_till, status, cancel_date)| {
            json!({"ewb_no": ewb_no, "irn": irn, "ewb_dt": ewb_dt, "valid_till": valid_till,
                "status": status, "cancel_date": cancel_date})
        })
        .collect();
    Ok(Json(json!({"gstin": user.gstin, "ewaybills": bills})))
}
