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

/// A goods invoice with IGST 18% from `seller` to `buyer`.
pub fn invoice(seller: &str, buyer: &str, doc_no: &str, value: f64) -> Value {
    let igst = (value * 18.0).round() / 100.0;
    json!({
        "Version": "1.1",
        "TranDtls": {"TaxSch": "GST", "SupTyp": "B2B"},
        "DocDtls": {"Typ": "INV", "No": doc_no, "Dt": "01/11/2026"},
        "SellerDtls": {"Gstin": seller, "LglNm": "Seller Pvt Ltd", "Addr1": "Main Road", "Loc": "Seller City", "Pin": 560001, "Stcd": &seller[..2]},
        "BuyerDtls": {"Gstin": buyer, "LglNm": "Buyer Pvt Ltd", "Pos": &buyer[..2], "Addr1": "MG Road", "Loc": "Buyer City", "Pin": 500001, "Stcd": &buyer[..2]},
        "ItemList": [{"SlNo": "1", "IsServc": "N", "HsnCd": "84713010", "Qty": 1, "Unit": "NOS", "UnitPrice": value, "TotAmt": value, "AssAmt": value, "GstRt": 18, "IgstAmt": igst, "TotItemVal": value + igst}],
        "ValDtls": {"AssVal": value, "IgstVal": igst, "TotInvVal": value + igst}
    })
}
