//! NIC reads JSON keys case-insensitively (`GSTIN` for `Gstin`, `Cnlrsn` for `CnlRsn`) and
//! always writes its own casing. [`canonicalize`] rewrites every known key to that casing.

use serde_json::Value;

/// Every key of the INV-01 schema, the envelope, auth and cancel payloads, in NIC's casing.
const CANONICAL: &[&str] = &[
    "Status",
    "Data",
    "ErrorDetails",
    "InfoDtls",
    "ErrorCode",
    "ErrorMessage",
    "InfCd",
    "Desc",
    "UserName",
    "Password",
    "AppKey",
    "ForceRefreshAccessToken",
    "ClientId",
    "AuthToken",
    "Sek",
    "TokenExpiry",
    "Version",
    "Irn",
    "AckNo",
    "AckDt",
    "SignedInvoice",
    "SignedQRCode",
    "EwbNo",
    "EwbDt",
    "EwbValidTill",
    "Remarks",
    "CnlRsn",
    "CnlRem",
    "CancelDate",
    "TranDtls",
    "TaxSch",
    "SupTyp",
    "RegRev",
    "EcmGstin",
    "IgstOnIntra",
    "DocDtls",
    "Typ",
    "No",
    "Dt",
    "SellerDtls",
    "BuyerDtls",
    "DispDtls",
    "ShipDtls",
    "Gstin",
    "LglNm",
    "TrdNm",
    "Pos",
    "Addr1",
    "Addr2",
    "Loc",
    "Pin",
    "Stcd",
    "Ph",
    "Em",
    "Nm",
    "ItemList",
    "ItemNo",
    "SlNo",
    "PrdDesc",
    "IsServc",
    "HsnCd",
    "Barcde",
    "Qty",
    "FreeQty",
    "Unit",
    "UnitPrice",
    "TotAmt",
    "Discount",
    "PreTaxVal",
    "AssAmt",
    "GstRt",
    "IgstAmt",
    "CgstAmt",
    "SgstAmt",
    "CesRt",
    "CesAmt",
    "CesNonAdvlAmt",
    "StateCesRt",
    "StateCesAmt",
    "StateCesNonAdvlAmt",
    "OthChrg",
    "TotItemVal",
    "OrdLineRef",
    "OrgCntry",
    "PrdSlNo",
    "BchDtls",
    "ExpDt",
    "WrDt",
    "AttribDtls",
    "Val",
    "ValDtls",
    "AssVal",
    "CgstVal",
    "SgstVal",
    "IgstVal",
    "CesVal",
    "StCesVal",
    "RndOffAmt",
    "TotInvVal",
    "TotInvValFc",
    "PayDtls",
    "AccDet",
    "Mode",
    "FinInsBr",
    "PayTerm",
    "PayInstr",
    "CrTrn",
    "DirDr",
    "CrDay",
    "PaidAmt",
    "PaymtDue",
    "RefDtls",
    "InvRm",
    "DocPerdDtls",
    "InvStDt",
    "InvEndDt",
    "PrecDocDtls",
    "InvNo",
    "InvDt",
    "OthRefNo",
    "ContrDtls",
    "RecAdvRefr",
    "RecAdvDt",
    "TendRefr",
    "ContrRefr",
    "ExtRefr",
    "ProjRefr",
    "PORefr",
    "PORefDt",
    "AddlDocDtls",
    "Url",
    "Docs",
    "Info",
    "ExpDtls",
    "ShipBNo",
    "ShipBDt",
    "Port",
    "RefClm",
    "ForCur",
    "CntCode",
    "ExpDuty",
    "EwbDtls",
    "TransId",
    "TransName",
    "TransMode",
    "Distance",
    "TransDocNo",
    "TransDocDt",
    "VehNo",
    "VehType",
];

fn canonical_key(key: &str) -> Option<&'static str> {
    CANONICAL
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(key))
}

/// Whether a key needs rewriting: it is not already in NIC's casing but matches a known key.
fn needs_rewrite(key: &str) -> bool {
    !CANONICAL.contains(&key) && canonical_key(key).is_some()
}

/// Rewrites every known object key, at any depth, to NIC's casing. Unknown keys stay as they
/// are. Objects whose keys are already canonical are kept as they are (no reallocation).
pub fn canonicalize(mut value: Value) -> Value {
    canonicalize_in_place(&mut value);
    value
}

/// [`canonicalize`] on a value in place.
pub fn canonicalize_in_place(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.keys().any(|k| needs_rewrite(k)) {
                let old = std::mem::take(map);
                for (key, inner) in old {
                    let key = canonical_key(&key).map(str::to_string).unwrap_or(key);
                    map.insert(key, inner);
                }
            }
            map.values_mut().for_each(canonicalize_in_place);
        }
        Value::Array(items) => items.iter_mut().for_each(canonicalize_in_place),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_known_keys_at_every_depth() {
        let input = serde_json::json!({"buyerdtls": {"GSTIN": "x", "POS": "29"}, "Cnlrsn": "1", "custom": 1});
        let out = canonicalize(input);
        assert_eq!(
            out,
            serde_json::json!({"BuyerDtls": {"Gstin": "x", "Pos": "29"}, "CnlRsn": "1", "custom": 1})
        );
    }
}
