//! The INV-01 v1.1 validator (`nic-irp-api.md` §8): schema checks, master data (HSN, unit and
//! PIN codes), arithmetic within the tolerance NIC states for each rule, and business rules.
//! It reports every problem at once, each with its NIC code and field path, one error per
//! fault. The gateway uses it to pre-validate; the sandbox to reject.

use serde_json::{Map, Value};
use time::Date;

use crate::errors;
use crate::irn::parse_doc_date;
use crate::keys::canonicalize;
use crate::masters::{is_unit_code, Masters};
use crate::schema::check_blocks;

mod checker;

pub use checker::Violation;
use checker::{close, is_gstin_layout, round2, state_of, Checker};

/// How to validate.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Today, for the future-date rule (2218).
    pub today: Date,
    /// Check GSTIN check characters (production) or only their layout (sandbox).
    pub strict_gstin: bool,
    /// The HSN and PIN masters to check against (2176, 2178, 3042); without them those codes
    /// are checked for their layout only. The IRP sandbox checks them; the gateway leaves
    /// master data to the IRP, whose masters are the ones that count.
    pub masters: Option<&'a Masters>,
}

/// How far a computed tax may be from assessable amount x rate (2234, 2235, 2266, 2267): NIC's
/// error resolutions allow one rupee either way.
const TAX_TOLERANCE: f64 = 1.0;
/// How far TotInvVal may be from the sum of its parts (2189): one rupee either way, as NIC's
/// resolution for 2189 states.
const TOTAL_TOLERANCE: f64 = 1.0;
/// How far line arithmetic and the totals of item amounts may be off (2182-2187, 2192-2194):
/// one rupee, the window NIC's 2189 resolution gives and ERPs round within.
const SUM_TOLERANCE: f64 = 1.0;

const SUPPLY_TYPES: &[&str] = &["B2B", "SEZWP", "SEZWOP", "EXPWP", "EXPWOP", "DEXP"];
const DOC_TYPES: &[&str] = &["INV", "CRN", "DBN"];
const GST_RATES: &[f64] = &[
    0.0, 0.1, 0.25, 0.5, 1.0, 1.5, 3.0, 5.0, 6.0, 7.5, 12.0, 18.0, 28.0, 40.0,
];

/// Validates an INV-01 document. Keys are matched case-insensitively. Returns every violation.
pub fn validate_invoice(invoice: &Value, rules: Rules) -> Vec<Violation> {
    validate_canonical(&canonicalize(invoice.clone()), rules)
}

/// Validates a document whose keys are already in NIC's casing (see [`canonicalize`]).
pub fn validate_canonical(invoice: &Value, rules: Rules) -> Vec<Violation> {
    let mut c = Checker { out: Vec::new() };
    let Some(root) = invoice.as_object() else {
        c.schema("$", "the document must be a JSON object");
        return c.out;
    };
    // The optional blocks and the fields the rules below do not read, by the schema table.
    for breach in check_blocks(root) {
        c.schema(&breach.path, &breach.problem);
    }
    c.string(root, "Version", "Version", true, 1, 6);
    if root.contains_key("Irn") {
        c.schema("Irn", "must not be sent");
    }

    // TranDtls
    let mut sup_typ = String::new();
    let mut igst_on_intra = false;
    let mut reverse_charge = false;
    if let Some(tran) = c.object(root, "TranDtls", "TranDtls", true) {
        if let Some(tax) = c.string(tran, "TaxSch", "TranDtls.TaxSch", true, 3, 10) {
            if !tax.eq_ignore_ascii_case("GST") {
                c.schema("TranDtls.TaxSch", "must be GST");
            }
        }
        if let Some(sup) = c.string(tran, "SupTyp", "TranDtls.SupTyp", true, 3, 10) {
            sup_typ = sup.to_ascii_uppercase();
            if !SUPPLY_TYPES.contains(&sup_typ.as_str()) {
                c.schema(
                    "TranDtls.SupTyp",
                    &format!("must be one of {}", SUPPLY_TYPES.join(", ")),
                );
            }
        }
        for flag in ["RegRev", "IgstOnIntra"] {
            if let Some(v) = c.string(tran, flag, &format!("TranDtls.{flag}"), false, 1, 1) {
                if !matches!(v, "Y" | "N" | "y" | "n") {
                    c.schema(&format!("TranDtls.{flag}"), "must be Y or N");
                }
                if flag == "IgstOnIntra" {
                    igst_on_intra = v.eq_ignore_ascii_case("Y");
                } else {
                    reverse_charge = v.eq_ignore_ascii_case("Y");
                }
            }
        }
        if let Some(ecm) = c.string(tran, "EcmGstin", "TranDtls.EcmGstin", false, 15, 15) {
            if !is_gstin_layout(ecm) {
                c.schema("TranDtls.EcmGstin", "must be a GSTIN");
            }
        }
    }

    if reverse_charge && !sup_typ.is_empty() && sup_typ != "B2B" {
        c.push(errors::REVERSE_CHARGE_NOT_B2B, &[], "TranDtls.RegRev");
    }

    // DocDtls
    if let Some(doc) = c.object(root, "DocDtls", "DocDtls", true) {
        if let Some(typ) = c.string(doc, "Typ", "DocDtls.Typ", true, 3, 3) {
            if !DOC_TYPES.contains(&typ.to_ascii_uppercase().as_str()) {
                c.schema("DocDtls.Typ", "must be INV, CRN or DBN");
            }
        }
        if let Some(no) = c.string(doc, "No", "DocDtls.No", true, 1, 16) {
            let first_ok = no
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_alphabetic() || ('1'..='9').contains(&ch));
            let rest_ok = no
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '/' || ch == '-');
            if !first_ok || !rest_ok {
                c.schema(
                    "DocDtls.No",
                    "must start with a letter or 1-9 and hold only letters, digits, / and -",
                );
            }
        }
        if let Some(dt) = c.string(doc, "Dt", "DocDtls.Dt", true, 10, 10) {
            match parse_doc_date(dt) {
                Ok(date) if date > rules.today => c.push(errors::FUTURE_DATE, &[], "DocDtls.Dt"),
                Ok(date) if !(2010..=2029).contains(&date.year()) => {
                    c.schema("DocDtls.Dt", "year must be 2010 to 2029")
                }
                Ok(_) => {}
                Err(_) => c.push(errors::BAD_DATE_FORMAT, &[], "DocDtls.Dt"),
            }
        }
    }

    // Parties
    let seller = c.object(root, "SellerDtls", "SellerDtls", true);
    let buyer = c.object(root, "BuyerDtls", "BuyerDtls", true);
    let mut seller_gstin = String::new();
    let mut seller_state = None;
    if let Some(s) = seller {
        if let Some(g) = c.string(s, "Gstin", "SellerDtls.Gstin", true, 15, 15) {
            seller_gstin = g.to_ascii_uppercase();
            check_gstin(
                &mut c,
                &seller_gstin,
                "SellerDtls.Gstin",
                rules.strict_gstin,
            );
        }
        party_fields(&mut c, s, "SellerDtls", 3, 50);
        seller_state = c
            .string(s, "Stcd", "SellerDtls.Stcd", true, 1, 2)
            .and_then(state_of);
        if let (Some(st), true) = (seller_state, seller_gstin.len() == 15) {
            if seller_gstin.get(..2).and_then(state_of) != Some(st) {
                c.push(errors::SELLER_STATE_MISMATCH, &[], "SellerDtls.Stcd");
            }
        }
        pin_in_state(&mut c, rules.masters, s, "SellerDtls");
    }
    let mut buyer_gstin = String::new();
    let mut pos = None;
    if let Some(b) = buyer {
        if let Some(g) = c.string(b, "Gstin", "BuyerDtls.Gstin", true, 3, 15) {
            buyer_gstin = g.to_ascii_uppercase();
            if buyer_gstin != "URP" {
                check_gstin(&mut c, &buyer_gstin, "BuyerDtls.Gstin", rules.strict_gstin);
            }
        }
        party_fields(&mut c, b, "BuyerDtls", 3, 100);
        pos = c
            .string(b, "Pos", "BuyerDtls.Pos", true, 1, 2)
            .and_then(state_of);
        let buyer_state = c
            .string(b, "Stcd", "BuyerDtls.Stcd", true, 1, 2)
            .and_then(state_of);
        if let (Some(st), true) = (buyer_state, buyer_gstin.len() == 15) {
            if buyer_gstin.get(..2).and_then(state_of) != Some(st) {
                c.push(errors::BUYER_STATE_MISMATCH, &[], "BuyerDtls.Stcd");
            }
        }
        pin_in_state(&mut c, rules.masters, b, "BuyerDtls");
    }
    if !seller_gstin.is_empty() && seller_gstin == buyer_gstin {
        c.push(errors::SAME_GSTIN, &[], "BuyerDtls.Gstin");
    }
    if buyer_gstin == "URP" && !sup_typ.starts_with("EXP") {
        c.push(errors::RECIPIENT_URP, &[], "BuyerDtls.Gstin");
    }
    for (key, min_loc) in [("DispDtls", 3), ("ShipDtls", 3)] {
        if let Some(party) = c.object(root, key, key, false) {
            let name_key = if key == "DispDtls" { "Nm" } else { "LglNm" };
            c.string(party, name_key, &format!("{key}.{name_key}"), true, 3, 100);
            c.string(party, "Addr1", &format!("{key}.Addr1"), true, 1, 100);
            c.string(party, "Loc", &format!("{key}.Loc"), true, min_loc, 100);
            c.number(
                party,
                "Pin",
                &format!("{key}.Pin"),
                true,
                100000.0,
                999999.0,
            );
            c.string(party, "Stcd", &format!("{key}.Stcd"), true, 1, 2);
            pin_in_state(&mut c, rules.masters, party, key);
        }
    }

    // References: NIC signed an INV that carried preceding documents (its 2020 sample,
    // `nic-sample-sandbox-2020-doc007.json`), so 2210 is not raised for an invoice; the
    // block's shape is checked by the schema table.

    // Inter- or intra-state: exports and SEZ are inter-state; otherwise seller state vs POS.
    let inter_state = match (seller_state, pos) {
        _ if sup_typ.starts_with("EXP") || sup_typ.starts_with("SEZ") => true,
        (Some(s), Some(p)) => s != p,
        _ => true,
    };

    // Items
    let sums = items(
        &mut c,
        root,
        &Supply {
            inter_state,
            igst_on_intra,
            seller_state_is_pos: seller_state == pos,
            tax_paid: !sup_typ.ends_with("WOP"),
            masters: rules.masters,
        },
    );

    // Totals
    if let Some(val) = c.object(root, "ValDtls", "ValDtls", true) {
        let max = 99_999_999_999_999.99;
        let get = |c: &mut Checker, key: &str, required: bool| {
            c.number(val, key, &format!("ValDtls.{key}"), required, 0.0, max)
                .unwrap_or(0.0)
        };
        let ass_val = get(&mut c, "AssVal", true);
        let cgst = get(&mut c, "CgstVal", false);
        let sgst = get(&mut c, "SgstVal", false);
        let igst = get(&mut c, "IgstVal", false);
        let ces = get(&mut c, "CesVal", false);
        let st_ces = get(&mut c, "StCesVal", false);
        let discount = get(&mut c, "Discount", false);
        let oth = get(&mut c, "OthChrg", false);
        let tot = get(&mut c, "TotInvVal", true);
        get(&mut c, "TotInvValFc", false);
        let rnd = c
            .number(val, "RndOffAmt", "ValDtls.RndOffAmt", false, -99.99, 99.99)
            .unwrap_or(0.0);
        if let Some(s) = sums {
            for (code, given, expected, path) in [
                (errors::ASS_VAL_MISMATCH, ass_val, s.ass, "ValDtls.AssVal"),
                (errors::SGST_VAL_MISMATCH, sgst, s.sgst, "ValDtls.SgstVal"),
                (errors::CGST_VAL_MISMATCH, cgst, s.cgst, "ValDtls.CgstVal"),
                (errors::IGST_VAL_MISMATCH, igst, s.igst, "ValDtls.IgstVal"),
                (errors::CESS_VAL_MISMATCH, ces, s.ces, "ValDtls.CesVal"),
                (
                    errors::STATE_CESS_VAL_MISMATCH,
                    st_ces,
                    s.st_ces,
                    "ValDtls.StCesVal",
                ),
            ] {
                if !close(given, expected, SUM_TOLERANCE) {
                    c.push(code, &[], path);
                }
            }
            let expected = s.tot_item_val - discount + oth + rnd;
            if !close(tot, expected, TOTAL_TOLERANCE) {
                c.push(errors::TOT_INV_VAL, &[], "ValDtls.TotInvVal");
            }
            if discount > 0.0 && discount >= s.tot_item_val + oth {
                c.push(errors::DISCOUNT_TOO_BIG, &[], "ValDtls.Discount");
            }
        }
    }
    c.out
}

/// A PIN must be in a known sorting district (3042) and lie in the block's state (2178). Foreign addresses (state 96,
/// PIN 999999) and states the master has no PIN for are not checked.
fn pin_in_state(
    c: &mut Checker,
    masters: Option<&Masters>,
    party: &Map<String, Value>,
    path: &str,
) {
    let Some(masters) = masters else {
        return;
    };
    let Some(pin) = party.get("Pin").and_then(Value::as_u64) else {
        return;
    };
    let Some(state) = party.get("Stcd").and_then(Value::as_str).and_then(state_of) else {
        return;
    };
    if state == 96 || state == 97 || !(100_000..=999_998).contains(&pin) {
        return;
    }
    let pin_text = pin.to_string();
    match masters.pins.state_of(pin as u32) {
        None => c.push(errors::INVALID_PIN, &[&pin_text], format!("{path}.Pin")),
        Some(pin_state) if pin_state != state => c.push(
            errors::PIN_STATE_MISMATCH,
            &[&pin_text, &format!("{state:02}")],
            format!("{path}.Pin"),
        ),
        Some(_) => {}
    }
}

fn check_gstin(c: &mut Checker, gstin: &str, path: &str, strict: bool) {
    if !is_gstin_layout(gstin) {
        c.schema(path, "must be 2 digits and 13 letters or digits");
        return;
    }
    if strict {
        if let Err(e) = gst_core::Gstin::parse(gstin, gst_core::Strictness::Production) {
            c.schema(path, &e.to_string());
        }
    }
}

fn party_fields(
    c: &mut Checker,
    party: &Map<String, Value>,
    path: &str,
    min_loc: usize,
    max_loc: usize,
) {
    c.string(party, "LglNm", &format!("{path}.LglNm"), true, 3, 100);
    c.string(party, "TrdNm", &format!("{path}.TrdNm"), false, 3, 100);
    c.string(party, "Addr1", &format!("{path}.Addr1"), true, 1, 100);
    c.string(party, "Addr2", &format!("{path}.Addr2"), false, 3, 100);
    c.string(party, "Loc", &format!("{path}.Loc"), true, min_loc, max_loc);
    c.number(
        party,
        "Pin",
        &format!("{path}.Pin"),
        path == "SellerDtls",
        100000.0,
        999999.0,
    );
    if let Some(ph) = c.string(party, "Ph", &format!("{path}.Ph"), false, 6, 12) {
        if !ph.bytes().all(|b| b.is_ascii_digit()) {
            c.schema(&format!("{path}.Ph"), "must be 6 to 12 digits");
        }
    }
    if let Some(em) = c.string(party, "Em", &format!("{path}.Em"), false, 6, 100) {
        if !em.contains('@') {
            c.schema(&format!("{path}.Em"), "must be an email address");
        }
    }
}

#[derive(Default)]
struct Sums {
    ass: f64,
    cgst: f64,
    sgst: f64,
    igst: f64,
    ces: f64,
    st_ces: f64,
    tot_item_val: f64,
}

/// What the item rules need to know about the supply as a whole.
struct Supply<'a> {
    inter_state: bool,
    igst_on_intra: bool,
    seller_state_is_pos: bool,
    /// False for exports and SEZ supplies without payment of tax (`*WOP`), whose lines carry a
    /// rate but no tax.
    tax_paid: bool,
    masters: Option<&'a Masters>,
}

fn items(c: &mut Checker, root: &Map<String, Value>, supply: &Supply) -> Option<Sums> {
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
