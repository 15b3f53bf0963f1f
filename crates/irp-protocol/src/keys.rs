//! NIC reads JSON keys case-insensitively (`GSTIN` for `Gstin`, `Cnlrsn` for `CnlRsn`) and
//! always writes its own casing. [`canonicalize`] rewrites every known key to that casing.

use serde_json::{Map, Value};

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

/// Rewrites every known object key, at any depth, to NIC's casing. Unknown keys stay as they are.
pub fn canonicalize(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (key, inner) in map {
                let key = canonical_key(&key).map(str::to_string).unwrap_or(key);
                out.insert(key, canonicalize(inner));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonicalize).collect()),
        other => other,
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
