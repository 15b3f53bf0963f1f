//! The INV-01 v1.1 validator (`nic-irp-api.md` §8): schema checks, master data (HSN, unit and
//! PIN codes), arithmetic within the tolerance NIC states for each rule, and business rules.
//! It reports every problem at once, each with its NIC code and field path, one error per
//! fault. The gateway uses it to pre-validate; the sandbox to reject.

use serde_json::{Map, Value};
use time::Date;

use crate::errors;
use crate::irn::parse_doc_date;
use crate::keys::canonicalize;
use crate::masters::Masters;
use crate::schema::check_blocks;

mod checker;
mod items;

pub use checker::Violation;
use checker::{close, is_gstin_layout, state_of, Checker, SUM_TOLERANCE};
use items::{items, Supply};

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

/// How far TotInvVal may be from the sum of its parts (2189): one rupee either way, as NIC's
/// resolution for 2189 states.
const TOTAL_TOLERANCE: f64 = 1.0;

const SUPPLY_TYPES: &[&str] = &["B2B", "SEZWP", "SEZWOP", "EXPWP", "EXPWOP", "DEXP"];
const DOC_TYPES: &[&str] = &["INV", "CRN", "DBN"];

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
