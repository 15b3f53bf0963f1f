//! `GET /eivital/v1.03/Master/gstin/{gstin}` and `/Master/syncgstin/{gstin}`: taxpayer master
//! details (3001 when unknown). Get answers what the IRP's master holds, which may be stale;
//! sync first refreshes it from the common portal.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use irp_protocol::errors;
use serde_json::json;

use super::{apply_faults, counted, encrypted_success, verify_session, Peer};
use crate::error::IrpFailure;
use crate::state::Sandbox;

type TaxpayerRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    bool,
    String,
    Option<String>,
);

/// Taxpayer details as the IRP's master holds them, as NIC shapes them.
pub async fn gstin_details(
    State(sandbox): State<Sandbox>,
    peer: Peer,
    headers: HeaderMap,
    Path(gstin): Path<String>,
) -> Response {
    details(sandbox, peer, headers, gstin, false).await
}

/// Taxpayer details refreshed from the common portal first (a stale status is replaced).
pub async fn sync_gstin(
    State(sandbox): State<Sandbox>,
    peer: Peer,
    headers: HeaderMap,
    Path(gstin): Path<String>,
) -> Response {
    details(sandbox, peer, headers, gstin, true).await
}

async fn details(
    sandbox: Sandbox,
    Peer(peer): Peer,
    headers: HeaderMap,
    gstin: String,
    sync: bool,
) -> Response {
    let result = async {
        let session = verify_session(&sandbox, &headers, peer).await?;
        apply_faults(&sandbox, "gstin").await?;
        if sync {
            sandbox.sync_taxpayer(&gstin.to_ascii_uppercase()).await?;
        }
        let row: Option<TaxpayerRow> = sqlx::query_as(
            "SELECT gstin, trade_name, legal_name, address, location, state_code, pin, status, blocked, registered_on, building FROM taxpayers WHERE gstin = $1",
        )
        .bind(gstin.to_ascii_uppercase())
        .fetch_optional(&sandbox.pool)
        .await?;
        let (gstin, trade, legal, address, location, state, pin, status, blocked, registered, building) = row.ok_or(IrpFailure::code(errors::DATA_NOT_AVAILABLE, &[]))?;
        let data = json!({
            "Gstin": gstin,
            "TradeName": trade,
            "LegalName": legal,
            "AddrBnm": building,
            "AddrBno": null,
            "AddrFlno": null,
            "AddrSt": address,
            "AddrLoc": location,
            "StateCode": state,
            "AddrPncd": pin,
            "TxpType": "REG",
            "Status": status,
            "BlkStatus": if blocked { "B" } else { "U" },
            "DtReg": registered,
            "DtDReg": null,
        });
        Ok(encrypted_success(&session.sek, &data))
    }
    .await;
    match result {
        Ok(envelope) => Json(envelope).into_response(),
        Err(failure) => counted(&sandbox, failure).into_response(),
    }
}
