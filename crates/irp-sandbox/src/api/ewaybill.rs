//! E-way bills by IRN: generate (`POST /eiewb/v1.03/ewaybill`), get by IRN
//! (`GET /eiewb/v1.03/ewaybill/irn/{irn}`), and the e-way bill system's cancel
//! (`POST /ewaybillapi/v1.03/ewayapi`, action `CANEWB`), plus the part of generate-IRN that
//! raises a bill from `EwbDtls`. One active bill per IRN; validity by NIC's rule; distance 0
//! computed from the PIN master.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use irp_protocol::envelope::{Envelope, ErrorDetail, InfoDetail};
use irp_protocol::errors::{self, NicCode};
use irp_protocol::ewb::{self, CancelEwb, CancelledEwb};
use serde_json::{json, Value};

use super::stored::{find_by_irn, readable_by_irn, Stored};
use super::{
    apply_faults, decrypt_body, encrypted_success, respond, verify_session,
    verify_session_without_user, Peer,
};
use crate::clock::{ist, nic_datetime, parse_nic_datetime};
use crate::error::IrpFailure;
use crate::state::Sandbox;

const HOUR_MS: i64 = 3600 * 1000;
/// The first e-way bill number the sandbox gives (12 digits, as NIC's).
const FIRST_EWB_NO: i64 = 381_000_000_001;

/// An e-way bill as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EwbRow {
    /// 12-digit number.
    pub ewb_no: i64,
    /// Its IRN.
    pub irn: String,
    /// The supplier.
    pub gstin: String,
    /// When generated, NIC format.
    pub ewb_dt: String,
    /// Valid until (none for Part A only).
    pub valid_till: Option<String>,
    /// `ACT` or `CNL`.
    pub status: String,
    /// When cancelled.
    pub cancel_date: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

const SELECT_EWB: &str =
    "SELECT ewb_no, irn, gstin, ewb_dt, valid_till, status, cancel_date, created_at FROM ewaybills";

/// The IRN's active e-way bill, else its latest one.
pub async fn ewb_of(sandbox: &Sandbox, irn: &str) -> Result<Option<EwbRow>, IrpFailure> {
    Ok(sqlx::query_as::<_, EwbRow>(&format!(
        "{SELECT_EWB} WHERE irn = $1 ORDER BY status = 'ACT' DESC, created_at DESC LIMIT 1"
    ))
    .bind(irn.to_ascii_lowercase())
    .fetch_optional(&sandbox.pool)
    .await?)
}

/// A bill's fields as an e-invoice answer carries them (`EwbNo`… null without an active one).
pub fn ewb_fields(row: Option<&EwbRow>) -> [(&'static str, Value); 3] {
    match row.filter(|r| r.status == "ACT") {
        Some(r) => [
            ("EwbNo", json!(r.ewb_no)),
            ("EwbDt", json!(r.ewb_dt)),
            ("EwbValidTill", json!(r.valid_till)),
        ],
        None => [
            ("EwbNo", Value::Null),
            ("EwbDt", Value::Null),
            ("EwbValidTill", Value::Null),
        ],
    }
}

fn nic(code: NicCode, args: &[&str]) -> Vec<ErrorDetail> {
    vec![ErrorDetail::from_code(code, args)]
}

fn pin_of(value: Option<&Value>) -> Option<u32> {
    match value? {
        Value::Number(n) => n.as_u64().and_then(|p| u32::try_from(p).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A bill raised, and the info NIC adds (`EWBPPD` when it computed the distance).
pub struct Raised {
    /// The stored bill.
    pub row: EwbRow,
    /// `EWBPPD`, when the distance was computed.
    pub info: Option<InfoDetail>,
}

/// Why no bill was raised: NIC's errors, or a failure of the sandbox itself.
pub enum NotRaised {
    /// NIC's codes, all at once.
    Nic(Vec<ErrorDetail>),
    /// Something else (answered as such).
    Failure(IrpFailure),
}

impl From<sqlx::Error> for NotRaised {
    fn from(e: sqlx::Error) -> Self {
        NotRaised::Failure(e.into())
    }
}

/// Raises an e-way bill for a stored e-invoice from an e-way bill part (the body of generate
/// EWB, or `EwbDtls`), with NIC's checks and codes.
pub(crate) async fn raise(
    sandbox: &Sandbox,
    einvoice: &Stored,
    part: &Value,
) -> Result<Raised, NotRaised> {
    let checked = ewb::check_part(part).map_err(NotRaised::Nic)?;
    if einvoice.status != "ACT" {
        return Err(NotRaised::Nic(nic(errors::EWB_IRN_NOT_ACTIVE, &[])));
    }
    let document = irp_protocol::jwt::decode(&einvoice.signed_invoice)
        .map(|signed| signed.data)
        .map_err(|e| NotRaised::Failure(IrpFailure::Internal(e.to_string())))?;
    let doc_type = document
        .get("DocDtls")
        .and_then(|d| d.get("Typ"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    if doc_type != "INV" {
        return Err(NotRaised::Nic(nic(
            errors::EWB_NOT_FOR_DOCUMENT,
            &[&format!("document type {doc_type}")],
        )));
    }
    let has_goods = document
        .get("ItemList")
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items.iter().any(|item| {
                item.get("IsServc").and_then(Value::as_str) != Some("Y")
                    && !item
                        .get("HsnCd")
                        .and_then(Value::as_str)
                        .unwrap_or("99")
                        .starts_with("99")
            })
        });
    if !has_goods {
        return Err(NotRaised::Nic(nic(errors::EWB_NO_GOODS, &[])));
    }
    let from_pin = pin_of(part.get("DispDtls").and_then(|d| d.get("Pin")))
        .or_else(|| pin_of(document.get("DispDtls").and_then(|d| d.get("Pin"))))
        .or_else(|| pin_of(document.get("SellerDtls").and_then(|d| d.get("Pin"))));
    let to_pin = pin_of(part.get("ExpShipDtls").and_then(|d| d.get("Pin")))
        .or_else(|| pin_of(document.get("ShipDtls").and_then(|d| d.get("Pin"))))
        .or_else(|| pin_of(document.get("BuyerDtls").and_then(|d| d.get("Pin"))));
    let computed = match (from_pin, to_pin) {
        (Some(from), Some(to)) => sandbox.masters.pins.distance_km(from, to),
        _ => None,
    };
    let mut info = None;
    let distance_km = if checked.distance_km == 0 {
        let Some(computed) = computed else {
            let named = |pin: Option<u32>| pin.map(|p| p.to_string()).unwrap_or("none".into());
            return Err(NotRaised::Nic(nic(
                errors::EWB_TRANSPORT_DETAILS,
                &[&format!(
                    "the distance cannot be computed: PIN {} or {} is not in the PIN master; send Distance",
                    named(from_pin),
                    named(to_pin)
                )],
            )));
        };
        let distance = computed.max(1);
        info = Some(InfoDetail {
            inf_cd: "EWBPPD".into(),
            desc: json!(ewb::computed_distance_info(distance)),
        });
        distance
    } else {
        if let Some(computed) = computed.filter(|c| *c > 0) {
            if f64::from(checked.distance_km) > f64::from(computed) * ewb::DISTANCE_TOLERANCE + 1.0
            {
                return Err(NotRaised::Nic(nic(
                    errors::EWB_DISTANCE_PIN,
                    &[&checked.distance_km.to_string(), &computed.to_string()],
                )));
            }
        }
        checked.distance_km
    };
    let now = sandbox.clock.now_ms();
    let ewb_dt = nic_datetime(now);
    let generated = ist(now);
    let valid_till = checked.has_part_b().then(|| {
        let until = ewb::valid_till(
            time::PrimitiveDateTime::new(generated.date(), generated.time()),
            distance_km,
            checked.over_dimensional,
        );
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            until.year(),
            u8::from(until.month()),
            until.day(),
            until.hour(),
            until.minute(),
            until.second()
        )
    });
    let trans_mode = checked.trans_mode.map(|m| format!("{m:?}"));
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO ewaybills (ewb_no, irn, gstin, ewb_dt, valid_till, distance_km, trans_mode, veh_no, status, created_at) \
         SELECT COALESCE(MAX(ewb_no) + 1, $1), $2, $3, $4, $5, $6, $7, $8, 'ACT', $9 FROM ewaybills WHERE true \
         ON CONFLICT DO NOTHING RETURNING ewb_no",
    )
    .bind(FIRST_EWB_NO)
    .bind(&einvoice.irn)
    .bind(&einvoice.gstin)
    .bind(&ewb_dt)
    .bind(&valid_till)
    .bind(i64::from(distance_km))
    .bind(&trans_mode)
    .bind(&checked.veh_no)
    .bind(now)
    .fetch_optional(&sandbox.pool)
    .await?;
    let Some(ewb_no) = inserted else {
        return Err(NotRaised::Nic(nic(errors::EWB_ALREADY_GENERATED, &[])));
    };
    sandbox.counters.ewb_generated();
    Ok(Raised {
        row: EwbRow {
            ewb_no,
            irn: einvoice.irn.clone(),
            gstin: einvoice.gstin.clone(),
            ewb_dt,
            valid_till,
            status: "ACT".into(),
            cancel_date: None,
            created_at: now,
        },
        info,
    })
}

/// The answer of generate EWB: `{EwbNo, EwbDt, EwbValidTill, Remarks}`.
fn generated_data(row: &EwbRow) -> Value {
    json!({"EwbNo": row.ewb_no, "EwbDt": row.ewb_dt, "EwbValidTill": row.valid_till, "Remarks": null})
}

/// `POST /eiewb/v1.03/ewaybill`: `{Irn, Distance, TransMode, …}`.
pub async fn generate(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let result = async {
        let session = verify_session(&sandbox, &headers, peer).await?;
        let drop = apply_faults(&sandbox, "ewb_generate").await?;
        let request = decrypt_body(&session, &body)?;
        let irn = request
            .get("Irn")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !irp_protocol::irn::is_irn(&irn) {
            return Err(IrpFailure::code(errors::INVALID_IRN, &[]));
        }
        let einvoice = find_by_irn(&sandbox, &headers, &irn)
            .await?
            .ok_or(IrpFailure::code(errors::INVALID_IRN, &[]))?;
        if einvoice.gstin != session.gstin {
            return Err(IrpFailure::code(errors::IRN_OF_OTHER_GSTIN, &[]));
        }
        match raise(&sandbox, &einvoice, &request).await {
            Ok(raised) => {
                let mut envelope = encrypted_success(&session.sek, &generated_data(&raised.row));
                envelope.info_dtls = raised.info.map(|i| vec![i]);
                Ok((envelope, drop))
            }
            Err(NotRaised::Nic(details)) => {
                Err(IrpFailure::Nic(Box::new(Envelope::failure(details, None))))
            }
            Err(NotRaised::Failure(failure)) => Err(failure),
        }
    }
    .await;
    respond(&sandbox, result)
}

/// `GET /eiewb/v1.03/ewaybill/irn/{irn}`: the IRN's e-way bill (the active one, else the
/// latest), with its status; 3001 when the IRN has none.
pub async fn get_by_irn(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Path(irn): Path<String>,
) -> Response {
    let result = async {
        let session = verify_session(&sandbox, &headers, peer).await?;
        let drop = apply_faults(&sandbox, "ewb_get").await?;
        let einvoice = readable_by_irn(&sandbox, &headers, &session.gstin, &irn).await?;
        let row = ewb_of(&sandbox, &einvoice.irn)
            .await?
            .ok_or(IrpFailure::code(errors::DATA_NOT_AVAILABLE, &[]))?;
        let data = json!({
            "Irn": row.irn, "EwbNo": row.ewb_no, "EwbDt": row.ewb_dt,
            "EwbValidTill": row.valid_till, "Status": row.status,
            "CancelDate": row.cancel_date, "GenGstin": row.gstin,
        });
        Ok((encrypted_success(&session.sek, &data), drop))
    }
    .await;
    respond(&sandbox, result)
}

/// The e-way bill system's error answer: `{"status":"0","error":"<base64 of
/// {"errorCodes":"312"}>"}` (its codes only; messages are in its catalogue).
fn ewb_system_error(codes: &[&str]) -> Response {
    let error = json!({"errorCodes": format!("{},", codes.join(","))});
    let encoded = base64::engine::general_purpose::STANDARD.encode(error.to_string());
    Json(json!({"status": "0", "error": encoded})).into_response()
}

/// `POST /ewaybillapi/v1.03/ewayapi` with `{"action":"CANEWB","data":…}`: the e-way bill
/// system's cancel, with its headers (`client-id`, `client-secret`, `Gstin`, `authtoken`) and
/// answers (`{"status":"1","data":…}`). Within 24 hours of generation (315 after); 312 for a
/// bill that is not this GSTIN's or is not active.
pub async fn cancel(
    State(sandbox): State<Sandbox>,
    Peer(peer): Peer,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let session = match verify_session_without_user(&sandbox, &headers, peer).await {
        Ok(session) => session,
        Err(IrpFailure::Nic(envelope)) => {
            return ewb_system_error(&envelope.error_codes());
        }
        Err(other) => return other.into_response(),
    };
    if let Err(failure) = apply_faults(&sandbox, "ewb_cancel").await {
        return match failure {
            IrpFailure::Nic(envelope) => ewb_system_error(&envelope.error_codes()),
            other => other.into_response(),
        };
    }
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if request.get("action").and_then(Value::as_str) != Some("CANEWB") {
        return ewb_system_error(&[errors::SCHEMA.code]);
    }
    let Some(plain) = request
        .get("data")
        .and_then(Value::as_str)
        .and_then(|data| session.sek.decrypt_b64(data).ok())
    else {
        return ewb_system_error(&[errors::SCHEMA.code]);
    };
    // The data is Base64(JSON) before encryption; plain JSON is read too.
    let json_bytes = base64::engine::general_purpose::STANDARD
        .decode(&plain)
        .unwrap_or_else(|_| plain.to_vec());
    let Ok(cancel) = serde_json::from_slice::<Value>(&json_bytes) else {
        return ewb_system_error(&[errors::SCHEMA.code]);
    };
    let number = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    let request = match (
        number(cancel.get("ewbNo")),
        number(cancel.get("cancelRsnCode")).and_then(|c| u8::try_from(c).ok()),
        cancel.get("cancelRmrk").and_then(Value::as_str),
    ) {
        (Some(ewb_no), Some(code @ 1..=4), remark)
            if remark.is_none_or(|r| r.chars().count() <= 50) =>
        {
            CancelEwb {
                ewb_no,
                cancel_rsn_code: code,
                cancel_rmrk: remark.unwrap_or("").to_string(),
            }
        }
        _ => return ewb_system_error(&[errors::SCHEMA.code]),
    };
    let now = sandbox.clock.now_ms();
    let found = sqlx::query_as::<_, EwbRow>(&format!("{SELECT_EWB} WHERE ewb_no = $1"))
        .bind(request.ewb_no)
        .fetch_optional(&sandbox.pool)
        .await;
    let row = match found {
        Ok(Some(row)) if row.gstin == session.gstin && row.status == "ACT" => row,
        Ok(_) => return ewb_system_error(&[errors::EWB_CANCEL_NOT_ALLOWED.code]),
        Err(e) => return IrpFailure::from(e).into_response(),
    };
    let generated = parse_nic_datetime(&row.ewb_dt).unwrap_or(row.created_at);
    if now - generated > 24 * HOUR_MS {
        return ewb_system_error(&[errors::EWB_CANCEL_WINDOW.code]);
    }
    let cancelled_at = ist(now);
    let cancel_date = ewb::ewb_system_datetime(time::PrimitiveDateTime::new(
        cancelled_at.date(),
        cancelled_at.time(),
    ));
    let done = sqlx::query(
        "UPDATE ewaybills SET status = 'CNL', cancel_date = $1 WHERE ewb_no = $2 AND status = 'ACT'",
    )
    .bind(nic_datetime(now))
    .bind(row.ewb_no)
    .execute(&sandbox.pool)
    .await;
    match done {
        Ok(done) if done.rows_affected() == 1 => {}
        Ok(_) => return ewb_system_error(&[errors::EWB_CANCEL_NOT_ALLOWED.code]),
        Err(e) => return IrpFailure::from(e).into_response(),
    }
    sandbox.counters.ewb_cancelled();
    let answer = CancelledEwb {
        eway_bill_no: row.ewb_no.to_string(),
        cancel_date,
    };
    let data = serde_json::to_vec(&answer).unwrap_or_default();
    Json(json!({"status": "1", "data": session.sek.encrypt_b64(&data)})).into_response()
}
