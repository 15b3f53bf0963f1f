//! NIC reads JSON keys case-insensitively (`GSTIN` for `Gstin`, `Cnlrsn` for `CnlRsn`) and
//! always writes its own casing. [`canonicalize`] rewrites every known key to that casing.

use serde_json::Value;

/// Every key of the INV-01 schema, the envelope, auth and cancel payloads, in NIC's casing,
/// in the order of their lower-case spelling (so that a key is found by binary search).
const CANONICAL: &[&str] = &[
    "AccDet",
    "AckDt",
    "AckNo",
    "AddlDocDtls",
    "Addr1",
    "Addr2",
    "AppKey",
    "AssAmt",
    "AssVal",
    "AttribDtls",
    "AuthToken",
    "Barcde",
    "BchDtls",
    "BuyerDtls",
    "CancelDate",
    "CesAmt",
    "CesNonAdvlAmt",
    "CesRt",
    "CesVal",
    "CgstAmt",
    "CgstVal",
    "ClientId",
    "CnlRem",
    "CnlRsn",
    "CntCode",
    "ContrDtls",
    "ContrRefr",
    "CrDay",
    "CrTrn",
    "Data",
    "Desc",
    "DirDr",
    "Discount",
    "DispDtls",
    "Distance",
    "DocDtls",
    "DocPerdDtls",
    "Docs",
    "Dt",
    "EcmGstin",
    "Em",
    "ErrorCode",
    "ErrorDetails",
    "ErrorMessage",
    "EwbDt",
    "EwbDtls",
    "EwbNo",
    "EwbValidTill",
    "ExpDt",
    "ExpDtls",
    "ExpDuty",
    "ExtRefr",
    "FinInsBr",
    "ForceRefreshAccessToken",
    "ForCur",
    "FreeQty",
    "Gstin",
    "GstRt",
    "HsnCd",
    "IgstAmt",
    "IgstOnIntra",
    "IgstVal",
    "InfCd",
    "Info",
    "InfoDtls",
    "InvDt",
    "InvEndDt",
    "InvNo",
    "InvRm",
    "InvStDt",
    "Irn",
    "IsServc",
    "ItemList",
    "ItemNo",
    "LglNm",
    "Loc",
    "Mode",
    "Nm",
    "No",
    "OrdLineRef",
    "OrgCntry",
    "OthChrg",
    "OthRefNo",
    "PaidAmt",
    "Password",
    "PayDtls",
    "PayInstr",
    "PaymtDue",
    "PayTerm",
    "Ph",
    "Pin",
    "PORefDt",
    "PORefr",
    "Port",
    "Pos",
    "PrdDesc",
    "PrdSlNo",
    "PrecDocDtls",
    "PreTaxVal",
    "ProjRefr",
    "Qty",
    "RecAdvDt",
    "RecAdvRefr",
    "RefClm",
    "RefDtls",
    "RegRev",
    "Remarks",
    "RndOffAmt",
    "Sek",
    "SellerDtls",
    "SgstAmt",
    "SgstVal",
    "ShipBDt",
    "ShipBNo",
    "ShipDtls",
    "SignedInvoice",
    "SignedQRCode",
    "SlNo",
    "StateCesAmt",
    "StateCesNonAdvlAmt",
    "StateCesRt",
    "Status",
    "Stcd",
    "StCesVal",
    "SupTyp",
    "TaxSch",
    "TendRefr",
    "TokenExpiry",
    "TotAmt",
    "TotInvVal",
    "TotInvValFc",
    "TotItemVal",
    "TranDtls",
    "TransDocDt",
    "TransDocNo",
    "TransId",
    "TransMode",
    "TransName",
    "TrdNm",
    "Typ",
    "Unit",
    "UnitPrice",
    "Url",
    "UserName",
    "Val",
    "ValDtls",
    "VehNo",
    "VehType",
    "Version",
    "WrDt",
];

/// Orders two keys as their lower-case spellings do (NIC reads keys case-insensitively).
fn cmp_ignoring_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The canonical spelling of a key, whatever its casing.
fn canonical_key(key: &str) -> Option<&'static str> {
    CANONICAL
        .binary_search_by(|k| cmp_ignoring_case(k, key))
        .ok()
        .and_then(|i| CANONICAL.get(i).copied())
}

/// Whether a key needs rewriting: it is not already in NIC's casing but matches a known key.
fn needs_rewrite(key: &str) -> bool {
    canonical_key(key).is_some_and(|canonical| canonical != key)
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
    fn the_keys_are_in_order_and_each_once_whatever_the_case() {
        for pair in CANONICAL.windows(2) {
            assert_eq!(
                cmp_ignoring_case(pair[0], pair[1]),
                std::cmp::Ordering::Less,
                "{} must come before {}",
                pair[0],
                pair[1]
            );
        }
        for key in CANONICAL {
            assert_eq!(canonical_key(key), Some(*key));
            assert_eq!(canonical_key(&key.to_ascii_uppercase()), Some(*key));
            assert!(!needs_rewrite(key));
        }
        assert_eq!(canonical_key("NoSuchKey"), None);
    }

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
