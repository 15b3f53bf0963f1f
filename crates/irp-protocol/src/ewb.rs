//! E-way bills by IRN (`nic-irp-api.md` §4–§5): the checks NIC applies to an e-way bill part
//! (the body of `POST /eiewb/v1.03/ewaybill`, or `EwbDtls` inside an invoice) with its codes,
//! the validity rule, the PIN-to-PIN distance, and the answer's fields. Pure code.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, PrimitiveDateTime, Time};

use crate::envelope::ErrorDetail;
use crate::errors::{self, NicCode};

/// The most kilometres an e-way bill may name.
pub const MAX_DISTANCE_KM: u32 = 4000;
/// How far an entered distance may exceed the PIN-to-PIN distance (NIC allows 10% more).
pub const DISTANCE_TOLERANCE: f64 = 1.10;
/// Road distance over great-circle distance: the factor the sandbox applies to PIN centroids.
pub const ROAD_FACTOR: f64 = 1.2;

/// How the goods travel (`TransMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransMode {
    /// 1.
    Road,
    /// 2.
    Rail,
    /// 3.
    Air,
    /// 4.
    Ship,
}

impl TransMode {
    /// `"1"`..`"4"` (or the number).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "1" => Some(TransMode::Road),
            "2" => Some(TransMode::Rail),
            "3" => Some(TransMode::Air),
            "4" => Some(TransMode::Ship),
            _ => None,
        }
    }
}

/// An e-way bill part that passed NIC's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct EwbPart {
    /// Kilometres; 0 asks NIC to compute the PIN-to-PIN distance.
    pub distance_km: u32,
    /// How the goods travel; none for Part A only.
    pub trans_mode: Option<TransMode>,
    /// The transporter's GSTIN or enrolment id.
    pub trans_id: Option<String>,
    /// The transporter's name.
    pub trans_name: Option<String>,
    /// The transport document (rail receipt, airway bill, bill of lading…).
    pub trans_doc_no: Option<String>,
    /// Its date, dd/mm/yyyy.
    pub trans_doc_dt: Option<String>,
    /// The vehicle (road).
    pub veh_no: Option<String>,
    /// `R` regular or `O` over-dimensional cargo.
    pub over_dimensional: bool,
}

impl EwbPart {
    /// Whether Part B (vehicle or transport document) is given: only then does the bill get
    /// a validity.
    pub fn has_part_b(&self) -> bool {
        self.veh_no.is_some() || self.trans_doc_no.is_some()
    }
}

/// A field as text, whatever its JSON type ("" when absent or null).
fn text(part: &Value, key: &str) -> Option<String> {
    match part.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn error(code: NicCode, args: &[&str]) -> ErrorDetail {
    ErrorDetail::from_code(code, args)
}

fn is_doc_no(text: &str) -> bool {
    (1..=15).contains(&text.len())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '/' || c == '-')
}

fn is_date(text: &str) -> bool {
    crate::irn::parse_doc_date(text).is_ok()
}

/// Checks an e-way bill part (keys in NIC's casing; `TrnDocNo`/`TrnDocDt` are read too) and
/// returns it, or every error at once with NIC's codes.
pub fn check_part(part: &Value) -> Result<EwbPart, Vec<ErrorDetail>> {
    let mut errors = Vec::new();
    let distance_km = match part.get("Distance") {
        Some(Value::Number(n)) => n.as_u64().filter(|d| *d <= u64::from(MAX_DISTANCE_KM)),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|d| *d <= u64::from(MAX_DISTANCE_KM)),
        _ => None,
    };
    let distance_km = match distance_km.and_then(|d| u32::try_from(d).ok()) {
        Some(d) => d,
        None => {
            errors.push(error(errors::EWB_DISTANCE_RANGE, &[]));
            0
        }
    };
    let trans_mode = match text(part, "TransMode") {
        None => None,
        Some(mode) => match TransMode::parse(&mode) {
            Some(mode) => Some(mode),
            None => {
                errors.push(error(
                    errors::EWB_TRANSPORT_DETAILS,
                    &["TransMode must be 1 (road), 2 (rail), 3 (air) or 4 (ship)"],
                ));
                None
            }
        },
    };
    let trans_id = text(part, "TransId");
    if let Some(id) = &trans_id {
        if id.len() != 15 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            errors.push(error(
                errors::EWB_TRANSPORT_DETAILS,
                &["TransId is a 15-character GSTIN or transporter id"],
            ));
        }
    }
    let trans_name = text(part, "TransName");
    if let Some(name) = &trans_name {
        if !(3..=100).contains(&name.chars().count()) {
            errors.push(error(
                errors::EWB_TRANSPORT_DETAILS,
                &["TransName has 3 to 100 characters"],
            ));
        }
    }
    let trans_doc_no = text(part, "TransDocNo").or_else(|| text(part, "TrnDocNo"));
    if let Some(no) = &trans_doc_no {
        if !is_doc_no(no) {
            errors.push(error(
                errors::EWB_TRANSPORT_DETAILS,
                &["TransDocNo has 1 to 15 letters, digits, / or -"],
            ));
        }
    }
    let trans_doc_dt = text(part, "TransDocDt").or_else(|| text(part, "TrnDocDt"));
    if let Some(date) = &trans_doc_dt {
        if !is_date(date) {
            errors.push(error(
                errors::EWB_TRANSPORT_DETAILS,
                &["TransDocDt is a date dd/mm/yyyy"],
            ));
        }
    }
    let veh_no = text(part, "VehNo").map(|v| v.to_ascii_uppercase());
    if let Some(vehicle) = &veh_no {
        if !(4..=20).contains(&vehicle.len()) || !vehicle.chars().all(|c| c.is_ascii_alphanumeric())
        {
            errors.push(error(
                errors::EWB_TRANSPORT_DETAILS,
                &["VehNo has 4 to 20 letters and digits"],
            ));
        }
    }
    let over_dimensional = match text(part, "VehType").map(|t| t.to_ascii_uppercase()) {
        None => false,
        Some(t) if t == "R" => false,
        Some(t) if t == "O" => true,
        Some(_) => {
            errors.push(error(
                errors::EWB_TRANSPORT_DETAILS,
                &["VehType is R (regular) or O (over-dimensional cargo)"],
            ));
            false
        }
    };
    match trans_mode {
        // Part A only: the transporter who will add Part B must be named.
        None if veh_no.is_none() && trans_doc_no.is_none() && trans_id.is_none() => {
            errors.push(error(errors::EWB_TRANSPORTER_REQUIRED, &[]))
        }
        None if veh_no.is_some() || trans_doc_no.is_some() => errors.push(error(
            errors::EWB_TRANSPORT_DETAILS,
            &["TransMode is required with a vehicle or transport document"],
        )),
        Some(TransMode::Road) if veh_no.is_none() && trans_doc_no.is_none() => {
            errors.push(error(errors::EWB_VEHICLE_REQUIRED, &[]))
        }
        Some(TransMode::Rail | TransMode::Air | TransMode::Ship)
            if trans_doc_no.is_none() || trans_doc_dt.is_none() =>
        {
            errors.push(error(
                errors::EWB_TRANSPORT_DETAILS,
                &["TransDocNo and TransDocDt are required for rail, air or ship"],
            ))
        }
        _ => {}
    }
    if errors.is_empty() {
        Ok(EwbPart {
            distance_km,
            trans_mode,
            trans_id,
            trans_name,
            trans_doc_no,
            trans_doc_dt,
            veh_no,
            over_dimensional,
        })
    } else {
        Err(errors)
    }
}

/// The last moment an e-way bill is valid: one day per 200 km of normal cargo (per 20 km of
/// over-dimensional cargo), a day ending at midnight, counted from the day after generation
/// (CGST rule 138(10)): 2467 km generated on 16 September at 19:29 is valid until 29 September
/// 23:59, as NIC answered.
pub fn valid_till(
    generated: PrimitiveDateTime,
    distance_km: u32,
    over_dimensional: bool,
) -> PrimitiveDateTime {
    let per_day = if over_dimensional { 20 } else { 200 };
    let days = distance_km.div_ceil(per_day).max(1);
    let last_day = generated.date() + Duration::days(i64::from(days));
    PrimitiveDateTime::new(
        last_day,
        Time::from_hms(23, 59, 0).unwrap_or(Time::MIDNIGHT),
    )
}

/// Road kilometres between two points (degrees): great-circle distance times
/// [`ROAD_FACTOR`], rounded.
pub fn road_distance_km(from: (f64, f64), to: (f64, f64)) -> u32 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let a = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    let great_circle = 2.0 * EARTH_RADIUS_KM * a.sqrt().asin();
    (great_circle * ROAD_FACTOR).round() as u32
}

/// The `EWBPPD` info text NIC answers when it computed the distance.
pub fn computed_distance_info(distance_km: u32) -> String {
    format!("Pin-Pin calc distance: {distance_km}KM")
}

/// The e-way bill fields of an answer (generate EWB, or the `Ewb*` fields of an e-invoice).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EwbDetails {
    /// 12-digit e-way bill number.
    #[serde(rename = "EwbNo")]
    pub ewb_no: i64,
    /// When it was generated, `yyyy-MM-dd HH:mm:ss`.
    #[serde(rename = "EwbDt")]
    pub ewb_dt: String,
    /// Valid until (none for Part A only), same format.
    #[serde(rename = "EwbValidTill")]
    pub ewb_valid_till: Option<String>,
    /// NIC's remarks (null in every sample).
    #[serde(rename = "Remarks", default)]
    pub remarks: Option<String>,
}

/// The body of the e-way bill system's cancel (`{"action":"CANEWB","data":…}` wraps it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelEwb {
    /// The 12-digit e-way bill number.
    #[serde(rename = "ewbNo")]
    pub ewb_no: i64,
    /// 1 duplicate, 2 order cancelled, 3 data entry mistake, 4 others.
    #[serde(rename = "cancelRsnCode")]
    pub cancel_rsn_code: u8,
    /// At most 50 characters.
    #[serde(rename = "cancelRmrk")]
    pub cancel_rmrk: String,
}

/// The e-way bill system's answer to a cancel (`cancel-ewaybill-success.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelledEwb {
    /// The number, as a string here.
    #[serde(rename = "ewayBillNo")]
    pub eway_bill_no: String,
    /// `dd/MM/yyyy hh:mm:ss AM`.
    #[serde(rename = "cancelDate")]
    pub cancel_date: String,
}

/// A moment as the e-way bill system writes it: `20/09/2022 12:10:00 PM`.
pub fn ewb_system_datetime(at: PrimitiveDateTime) -> String {
    let hour = at.hour();
    let (twelve, half) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!(
        "{:02}/{:02}/{} {:02}:{:02}:{:02} {half}",
        at.day(),
        u8::from(at.month()),
        at.year(),
        twelve,
        at.minute(),
        at.second()
    )
}

/// ClearTax's cancel reasons, and NIC's numbers for them.
pub fn cancel_reason_code(reason: &str) -> Option<u8> {
    match reason.trim().to_ascii_uppercase().as_str() {
        "1" | "DUPLICATE" => Some(1),
        "2" | "ORDER_CANCELLED" => Some(2),
        "3" | "DATA_ENTRY_MISTAKE" => Some(3),
        "4" | "OTHERS" => Some(4),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn validity_follows_the_rule_nic_applied() {
        // generate-irn-success-with-ewb.json: EwbDt 2022-09-16 19:29, 2467 km, valid till
        // 2022-09-29 23:59.
        assert_eq!(
            valid_till(datetime!(2022-09-16 19:29:00), 2467, false),
            datetime!(2022-09-29 23:59:00)
        );
        assert_eq!(
            valid_till(datetime!(2026-11-30 23:50:00), 200, false),
            datetime!(2026-12-01 23:59:00)
        );
        assert_eq!(
            valid_till(datetime!(2026-11-30 10:00:00), 201, false),
            datetime!(2026-12-02 23:59:00)
        );
        assert_eq!(
            valid_till(datetime!(2026-11-30 10:00:00), 45, true),
            datetime!(2026-12-03 23:59:00)
        );
    }

    #[test]
    fn checks_name_nics_codes() {
        let codes = |part: Value| -> Vec<String> {
            match check_part(&part) {
                Ok(_) => Vec::new(),
                Err(errors) => errors.into_iter().map(|e| e.error_code).collect(),
            }
        };
        // The vector's EWBERR: Distance 0 and no transporter.
        assert_eq!(codes(json!({"Distance": 0})), ["4019"]);
        assert_eq!(
            codes(json!({"Distance": 4001, "TransId": "29AAFCD5862R1ZX"})),
            ["4013"]
        );
        assert_eq!(codes(json!({"Distance": 10, "TransMode": "1"})), ["4011"]);
        assert_eq!(
            codes(json!({"Distance": 10, "TransMode": "2", "TransDocNo": "RR/1"})),
            ["4014"]
        );
        assert!(codes(
            json!({"Distance": 10, "TransMode": "1", "VehNo": "KA01AB1234", "VehType": "R"})
        )
        .is_empty());
        assert!(codes(
            json!({"Distance": "0", "TransId": "29AAFCD5862R1ZX", "TransName": "Fast Movers"})
        )
        .is_empty());
        let part = check_part(&json!({"Distance": 120, "TransMode": 3, "TrnDocNo": "AWB-1", "TrnDocDt": "01/11/2026"})).unwrap();
        assert_eq!(part.trans_mode, Some(TransMode::Air));
        assert!(part.has_part_b());
    }

    #[test]
    fn road_distance_is_great_circle_times_the_factor() {
        // Connaught Place (110001) to Bengaluru GPO (560001): about 1,740 km as the crow flies.
        let km = road_distance_km((28.6227, 77.2195), (12.9762, 77.6033));
        assert!((2050..2150).contains(&km), "{km}");
        assert_eq!(road_distance_km((12.0, 77.0), (12.0, 77.0)), 0);
    }

    #[test]
    fn real_answers_parse() {
        let answer = json!({"EwbNo": 391009149369_i64, "EwbDt": "2022-09-16 19:29:00", "EwbValidTill": "2022-09-29 23:59:00", "Remarks": null});
        let details: EwbDetails = serde_json::from_value(answer.clone()).unwrap();
        assert_eq!(details.ewb_no, 391009149369);
        assert_eq!(serde_json::to_value(&details).unwrap(), answer);
        assert_eq!(cancel_reason_code("DATA_ENTRY_MISTAKE"), Some(3));
        assert_eq!(cancel_reason_code("2"), Some(2));
        assert_eq!(cancel_reason_code("LOST"), None);
        assert_eq!(
            ewb_system_datetime(datetime!(2022-09-20 12:10:00)),
            "20/09/2022 12:10:00 PM"
        );
        assert_eq!(
            ewb_system_datetime(datetime!(2022-10-04 16:14:00)),
            "04/10/2022 04:14:00 PM"
        );
        assert_eq!(
            ewb_system_datetime(datetime!(2022-10-04 00:05:00)),
            "04/10/2022 12:05:00 AM"
        );
    }
}
