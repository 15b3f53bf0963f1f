//! Sellers the IRP sandbox seeds (each with a buyer in another state) and a valid goods invoice
//! between any two of them.

use serde_json::{json, Value};

/// Sellers the sandbox knows, each with a buyer in another state. Entries 6–9 also pass the
/// production GSTIN checksum.
pub const SELLERS: [(&str, &str); 10] = [
    ("29AAFCD5862R000", "36AAECF1151A1ZC"),
    ("24AAFCD5862R005", "36AAECF1151A1ZC"),
    ("07AAFCD5862R007", "36AAECF1151A1ZC"),
    ("02AMBPG7773M002", "36AAECF1151A1ZC"),
    ("01AMBPG7773M002", "36AAECF1151A1ZC"),
    ("36AMBPG7773M002", "29AWGPV7107B1Z1"),
    ("09AAJCM7191E1Z5", "36AAECF1151A1ZC"),
    ("29AAACP7879D1Z0", "36AAECF1151A1ZC"),
    ("24AACCT6304M1ZB", "36AAECF1151A1ZC"),
    ("09AABCW0339G3ZD", "36AAECF1151A1ZC"),
];

/// A PIN code of each GST state (from the PIN master the IRP sandbox checks against).
const PIN_OF_STATE: [(&str, u32); 36] = [
    ("01", 190001),
    ("02", 171001),
    ("03", 140001),
    ("04", 160001),
    ("05", 244712),
    ("06", 122001),
    ("07", 110001),
    ("08", 302001),
    ("09", 201301),
    ("10", 800001),
    ("11", 737101),
    ("12", 790001),
    ("13", 797001),
    ("14", 795001),
    ("15", 796001),
    ("16", 799002),
    ("17", 781131),
    ("18", 781001),
    ("19", 700001),
    ("20", 813208),
    ("21", 751001),
    ("22", 490001),
    ("23", 450001),
    ("24", 382010),
    ("26", 362520),
    ("27", 400001),
    ("29", 560001),
    ("30", 403001),
    ("31", 682551),
    ("32", 682001),
    ("33", 600001),
    ("34", 605001),
    ("35", 744101),
    ("36", 500001),
    ("37", 504346),
    ("38", 194101),
];

/// A PIN code in the state of a GSTIN or state code (`"29"`, `"29AAFCD5862R000"`).
pub fn pin_in_state_of(gstin_or_state: &str) -> u32 {
    let state = gstin_or_state.get(..2).unwrap_or(gstin_or_state);
    PIN_OF_STATE
        .iter()
        .find(|(code, _)| *code == state)
        .map(|(_, pin)| *pin)
        .unwrap_or(999999)
}

/// A goods invoice with IGST 18% from `seller` to `buyer`.
pub fn invoice(seller: &str, buyer: &str, doc_no: &str, value: f64) -> Value {
    let igst = (value * 18.0).round() / 100.0;
    json!({
        "Version": "1.1",
        "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B"},
        "DocDtls": {"Typ": "INV", "No": doc_no, "Dt": "01/11/2026"},
        "SellerDtls": {"Gstin": seller, "LglNm": "Seller Pvt Ltd", "Addr1": "Main Road", "Loc": "Seller City", "Pin": pin_in_state_of(seller), "Stcd": &seller[..2]},
        "BuyerDtls": {"Gstin": buyer, "LglNm": "Buyer Pvt Ltd", "Pos": &buyer[..2], "Addr1": "MG Road", "Loc": "Buyer City", "Pin": pin_in_state_of(buyer), "Stcd": &buyer[..2]},
        "ItemList": [{"SlNo": "1", "IsServc": "N", "HsnCd": "84713010", "Qty": 1, "Unit": "NOS", "UnitPrice": value, "TotAmt": value, "AssAmt": value, "GstRt": 18, "IgstAmt": igst, "TotItemVal": value + igst}],
        "ValDtls": {"AssVal": value, "IgstVal": igst, "TotInvVal": value + igst}
    })
}
