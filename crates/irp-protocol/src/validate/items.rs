//! The rules of one invoice's items (`ItemList`): serials, HSN and unit codes against the
//! masters, goods lines with quantity and unit, line arithmetic, tax against assessable
//! amount x rate, allowed rates, and inter- vs intra-state taxes; and the sums the totals
//! (`ValDtls`) are checked against.

use serde_json::{Map, Value};

use super::checker::{close, round2, Checker, SUM_TOLERANCE};
use crate::errors;
use crate::masters::{is_unit_code, Masters};

const GST_RATES: &[f64] = &[
    0.0, 0.1, 0.25, 0.5, 1.0, 1.5, 3.0, 5.0, 6.0, 7.5, 12.0, 18.0, 28.0, 40.0,
];

/// How far a computed tax may be from assessable amount x rate (2234, 2235, 2266, 2267): NIC's
/// error resolutions allow one rupee either way.
const TAX_TOLERANCE: f64 = 1.0;

/// The item amounts the totals must match.
#[derive(Default)]
pub(super) struct Sums {
    pub(super) ass: f64,
    pub(super) cgst: f64,
    pub(super) sgst: f64,
    pub(super) igst: f64,
    pub(super) ces: f64,
    pub(super) st_ces: f64,
    pub(super) tot_item_val: f64,
}

/// What the item rules need to know about the supply as a whole.
pub(super) struct Supply<'a> {
    pub(super) inter_state: bool,
    pub(super) igst_on_intra: bool,
    pub(super) seller_state_is_pos: bool,
    /// False for exports and SEZ supplies without payment of tax (`*WOP`), whose lines carry a
    /// rate but no tax.
    pub(super) tax_paid: bool,
    pub(super) masters: Option<&'a Masters>,
}

pub(super) fn items(c: &mut Checker, root: &Map<String, Value>, supply: &Supply) -> Option<Sums> {
    let list = match root.get("ItemList") {
        Some(Value::Array(list)) => list,
        None | Some(Value::Null) => {
            c.schema("ItemList", "is required");
            return None;
        }
        Some(_) => {
            c.schema("ItemList", "must be a list");
            return None;
        }
    };
    if list.is_empty() {
        c.schema("ItemList", "must hold at least one item");
        return None;
    }
    if list.len() > 1000 {
        c.push(errors::TOO_MANY_ITEMS, &[], "ItemList");
    }
    let mut sums = Sums::default();
    let mut serials = std::collections::HashSet::new();
    let amount_max = 999_999_999_999.99;
    for (i, item) in list.iter().enumerate() {
        let path = format!("ItemList[{i}]");
        let Some(item) = item.as_object() else {
            c.schema(&path, "must be an object");
            continue;
        };
        let sl = c
            .string(item, "SlNo", &format!("{path}.SlNo"), true, 1, 6)
            .unwrap_or("")
            .to_string();
        if !sl.is_empty() && !serials.insert(sl.clone()) {
            c.push(errors::DUPLICATE_SLNO, &[&sl], format!("{path}.SlNo"));
        }
        let mut goods = false;
        if let Some(s) = c.string(item, "IsServc", &format!("{path}.IsServc"), true, 1, 1) {
            if !matches!(s, "Y" | "N" | "y" | "n") {
                c.schema(&format!("{path}.IsServc"), "must be Y or N");
            }
            goods = s.eq_ignore_ascii_case("N");
        }
        if let Some(hsn) = c.string(item, "HsnCd", &format!("{path}.HsnCd"), true, 4, 8) {
            let ok = matches!(hsn.len(), 4 | 6 | 8)
                && hsn.bytes().all(|b| b.is_ascii_digit())
                && hsn.bytes().any(|b| b != b'0')
                && supply.masters.is_none_or(|m| m.hsn.contains(hsn));
            if !ok {
                c.push(errors::INVALID_HSN, &[hsn], format!("{path}.HsnCd"));
            }
        }
        match c.string(item, "Unit", &format!("{path}.Unit"), false, 3, 8) {
            Some(unit) if !is_unit_code(unit) => {
                c.push(errors::INVALID_UNIT, &[unit], format!("{path}.Unit"));
            }
            None if goods && matches!(item.get("Unit"), None | Some(Value::Null)) => {
                c.push(errors::GOODS_UNIT_REQUIRED, &[&sl], format!("{path}.Unit"))
            }
            _ => {}
        }
        let num = |c: &mut Checker, key: &str, required: bool, max: f64| {
            c.number(item, key, &format!("{path}.{key}"), required, 0.0, max)
        };
        let qty = num(c, "Qty", false, 9_999_999_999.999);
        if goods && matches!(item.get("Qty"), None | Some(Value::Null)) {
            c.push(errors::GOODS_QTY_REQUIRED, &[&sl], format!("{path}.Qty"));
        }
        let unit_price = num(c, "UnitPrice", true, 999_999_999_999.999).unwrap_or(0.0);
        let tot_amt = num(c, "TotAmt", true, amount_max).unwrap_or(0.0);
        let discount = num(c, "Discount", false, amount_max).unwrap_or(0.0);
        let ass_amt = num(c, "AssAmt", true, amount_max).unwrap_or(0.0);
        let gst_rt = num(c, "GstRt", true, 999.999).unwrap_or(0.0);
        let igst = num(c, "IgstAmt", false, amount_max).unwrap_or(0.0);
        let cgst = num(c, "CgstAmt", false, amount_max).unwrap_or(0.0);
        let sgst = num(c, "SgstAmt", false, amount_max).unwrap_or(0.0);
        let ces_rt = num(c, "CesRt", false, 999.999).unwrap_or(0.0);
        let ces = num(c, "CesAmt", false, amount_max).unwrap_or(0.0);
        let ces_non = num(c, "CesNonAdvlAmt", false, amount_max).unwrap_or(0.0);
        let st_ces_rt = num(c, "StateCesRt", false, 999.999).unwrap_or(0.0);
        let st_ces = num(c, "StateCesAmt", false, amount_max).unwrap_or(0.0);
        let st_ces_non = num(c, "StateCesNonAdvlAmt", false, amount_max).unwrap_or(0.0);
        let oth = num(c, "OthChrg", false, amount_max).unwrap_or(0.0);
        let tot_item = num(c, "TotItemVal", true, amount_max).unwrap_or(0.0);
        let slno = if sl.is_empty() {
            (i + 1).to_string()
        } else {
            sl.clone()
        };

        if let Some(q) = qty {
            if !close(tot_amt, round2(q * unit_price), SUM_TOLERANCE) {
                c.push(errors::TOT_AMT, &[&slno], format!("{path}.TotAmt"));
            }
        }
        if !close(ass_amt, tot_amt - discount, SUM_TOLERANCE) {
            let hsn = item.get("HsnCd").and_then(Value::as_str).unwrap_or("");
            c.push(errors::ASS_AMT, &[hsn, &slno], format!("{path}.AssAmt"));
        }
        let expected_total =
            ass_amt + igst + cgst + sgst + ces + ces_non + st_ces + st_ces_non + oth;
        if !close(tot_item, expected_total, SUM_TOLERANCE) {
            c.push(errors::TOT_ITEM_VAL, &[&slno], format!("{path}.TotItemVal"));
        }
        // Tax amounts against assessable amount x rate, for supplies that pay tax.
        let rate_known = GST_RATES.iter().any(|r| close(*r, gst_rt, 0.0001));
        if supply.tax_paid && rate_known {
            let expected = |rate: f64| round2(ass_amt * rate / 100.0);
            if igst > 0.0 && !close(igst, expected(gst_rt), TAX_TOLERANCE) {
                c.push(
                    errors::IGST_RATE_MISMATCH,
                    &[&slno],
                    format!("{path}.IgstAmt"),
                );
            }
            if cgst > 0.0 && !close(cgst, expected(gst_rt / 2.0), TAX_TOLERANCE) {
                c.push(
                    errors::CGST_SGST_RATE_MISMATCH,
                    &[&slno],
                    format!("{path}.CgstAmt"),
                );
            }
            if ces > 0.0 && !close(ces, expected(ces_rt), TAX_TOLERANCE) {
                c.push(
                    errors::CESS_RATE_MISMATCH,
                    &[&slno],
                    format!("{path}.CesAmt"),
                );
            }
            if st_ces > 0.0 && !close(st_ces, expected(st_ces_rt), TAX_TOLERANCE) {
                c.push(
                    errors::STATE_CESS_RATE_MISMATCH,
                    &[&slno],
                    format!("{path}.StateCesAmt"),
                );
            }
        }
        if !rate_known {
            c.push(
                errors::INVALID_GST_RATE,
                &[&slno, &gst_rt.to_string()],
                format!("{path}.GstRt"),
            );
        }
        let Supply {
            inter_state,
            igst_on_intra,
            seller_state_is_pos,
            ..
        } = *supply;
        if inter_state && (cgst > 0.0 || sgst > 0.0) {
            c.push(errors::CGST_SGST_ON_INTER, &[], format!("{path}.CgstAmt"));
        }
        if !inter_state && igst > 0.0 {
            if !igst_on_intra {
                c.push(errors::IGST_ON_INTRA, &[], format!("{path}.IgstAmt"));
            } else if !seller_state_is_pos {
                c.push(errors::IGST_ON_INTRA_POS, &[], format!("{path}.IgstAmt"));
            }
        }
        if !close(cgst, sgst, 0.0) {
            c.push(errors::CGST_NE_SGST, &[&slno], format!("{path}.SgstAmt"));
        }
        sums.ass += ass_amt;
        sums.cgst += cgst;
        sums.sgst += sgst;
        sums.igst += igst;
        sums.ces += ces + ces_non;
        sums.st_ces += st_ces + st_ces_non;
        sums.tot_item_val += tot_item;
    }
    Some(sums)
}
