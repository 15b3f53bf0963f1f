//! The INV-01 v1.1 schema as one table (`nic-irp-api.md` §8): every object's fields in NIC's
//! order, with the limits of the fields the validator checks by table. The same table orders
//! what the IRP signs ([`crate::signed`]) and checks the optional blocks ([`check_blocks`]).

use serde_json::{Map, Value};

/// What a field holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A value the validator's hand-written rules check.
    Checked,
    /// A string of `min..=max` characters of the given set.
    Text {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
        /// Which characters.
        chars: Chars,
    },
    /// A number within `min..=max`.
    Number {
        /// Least value.
        min: f64,
        /// Greatest value.
        max: f64,
    },
    /// An object the hand-written rules check; its fields may still be checked by table.
    CheckedObject(&'static [Field]),
    /// A list of objects the hand-written rules check.
    CheckedList(&'static [Field]),
    /// An object checked by table.
    Object(&'static [Field]),
    /// A list of objects checked by table.
    List(&'static [Field]),
}

/// The characters a text field may hold (the schema's patterns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chars {
    /// Anything but `"` and `\` (the schema's default pattern `^([^\"])*$`).
    Any,
    /// ASCII letters and digits.
    Alnum,
    /// ASCII letters.
    Letters,
    /// Two upper-case ASCII letters (country codes).
    Upper,
    /// `Y` or `N`.
    YesNo,
    /// `dd/mm/yyyy`.
    Date,
    /// A reference number: first a letter or 1-9, then letters, digits, `/` and `-`.
    RefNo,
}

/// One field of an object.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// NIC's key.
    pub name: &'static str,
    /// Whether the schema requires it (for fields checked by table).
    pub required: bool,
    /// What it holds.
    pub kind: Kind,
}

const fn checked(name: &'static str) -> Field {
    Field {
        name,
        required: false,
        kind: Kind::Checked,
    }
}

const fn text(name: &'static str, min: usize, max: usize) -> Field {
    Field {
        name,
        required: false,
        kind: Kind::Text {
            min,
            max,
            chars: Chars::Any,
        },
    }
}

const fn pattern(name: &'static str, min: usize, max: usize, chars: Chars) -> Field {
    Field {
        name,
        required: false,
        kind: Kind::Text { min, max, chars },
    }
}

const fn required(field: Field) -> Field {
    Field {
        required: true,
        ..field
    }
}

const fn number(name: &'static str, min: f64, max: f64) -> Field {
    Field {
        name,
        required: false,
        kind: Kind::Number { min, max },
    }
}

const fn object(name: &'static str, fields: &'static [Field]) -> Field {
    Field {
        name,
        required: false,
        kind: Kind::Object(fields),
    }
}

const fn list(name: &'static str, fields: &'static [Field]) -> Field {
    Field {
        name,
        required: false,
        kind: Kind::List(fields),
    }
}

const fn checked_object(name: &'static str, fields: &'static [Field]) -> Field {
    Field {
        name,
        required: false,
        kind: Kind::CheckedObject(fields),
    }
}

const AMOUNT: f64 = 999_999_999_999.99;
const TOTAL: f64 = 99_999_999_999_999.99;

const TRAN: &[Field] = &[
    checked("TaxSch"),
    checked("SupTyp"),
    checked("RegRev"),
    checked("EcmGstin"),
    checked("IgstOnIntra"),
];
const DOC: &[Field] = &[checked("Typ"), checked("No"), checked("Dt")];
const SELLER: &[Field] = &[
    checked("Gstin"),
    checked("LglNm"),
    checked("TrdNm"),
    checked("Addr1"),
    checked("Addr2"),
    checked("Loc"),
    checked("Pin"),
    checked("Stcd"),
    checked("Ph"),
    checked("Em"),
];
const BUYER: &[Field] = &[
    checked("Gstin"),
    checked("LglNm"),
    checked("TrdNm"),
    checked("Pos"),
    checked("Addr1"),
    checked("Addr2"),
    checked("Loc"),
    checked("Pin"),
    checked("Stcd"),
    checked("Ph"),
    checked("Em"),
];
const DISPATCH: &[Field] = &[
    checked("Nm"),
    checked("Addr1"),
    text("Addr2", 3, 100),
    checked("Loc"),
    checked("Pin"),
    checked("Stcd"),
];
const SHIP: &[Field] = &[
    pattern("Gstin", 3, 15, Chars::Alnum),
    checked("LglNm"),
    text("TrdNm", 3, 100),
    checked("Addr1"),
    text("Addr2", 3, 100),
    checked("Loc"),
    checked("Pin"),
    checked("Stcd"),
];
const BATCH: &[Field] = &[
    required(text("Nm", 3, 20)),
    pattern("ExpDt", 10, 10, Chars::Date),
    pattern("WrDt", 10, 10, Chars::Date),
];
const ATTRIBUTE: &[Field] = &[text("Nm", 1, 100), text("Val", 1, 100)];
const ITEM: &[Field] = &[
    checked("ItemNo"),
    checked("SlNo"),
    checked("IsServc"),
    text("PrdDesc", 3, 300),
    checked("HsnCd"),
    text("Barcde", 3, 30),
    checked("Qty"),
    number("FreeQty", 0.0, 9_999_999_999.999),
    checked("Unit"),
    checked("UnitPrice"),
    checked("TotAmt"),
    checked("Discount"),
    number("PreTaxVal", 0.0, AMOUNT),
    checked("AssAmt"),
    checked("GstRt"),
    checked("IgstAmt"),
    checked("CgstAmt"),
    checked("SgstAmt"),
    checked("CesRt"),
    checked("CesAmt"),
    checked("CesNonAdvlAmt"),
    checked("StateCesRt"),
    checked("StateCesAmt"),
    checked("StateCesNonAdvlAmt"),
    checked("OthChrg"),
    checked("TotItemVal"),
    text("OrdLineRef", 1, 50),
    pattern("OrgCntry", 2, 2, Chars::Letters),
    text("PrdSlNo", 1, 20),
    object("BchDtls", BATCH),
    list("AttribDtls", ATTRIBUTE),
];
const VALUES: &[Field] = &[
    checked("AssVal"),
    checked("CgstVal"),
    checked("SgstVal"),
    checked("IgstVal"),
    checked("CesVal"),
    checked("StCesVal"),
    checked("Discount"),
    checked("OthChrg"),
    checked("RndOffAmt"),
    checked("TotInvVal"),
    checked("TotInvValFc"),
];
const PAYMENT: &[Field] = &[
    text("Nm", 1, 100),
    text("AccDet", 1, 18),
    text("Mode", 1, 18),
    text("FinInsBr", 1, 11),
    text("PayTerm", 1, 100),
    text("PayInstr", 1, 100),
    text("CrTrn", 1, 100),
    text("DirDr", 1, 100),
    number("CrDay", 0.0, 9999.0),
    number("PaidAmt", 0.0, TOTAL),
    number("PaymtDue", 0.0, TOTAL),
];
const PERIOD: &[Field] = &[
    required(pattern("InvStDt", 10, 10, Chars::Date)),
    required(pattern("InvEndDt", 10, 10, Chars::Date)),
];
const PRECEDING: &[Field] = &[
    required(pattern("InvNo", 1, 16, Chars::RefNo)),
    required(pattern("InvDt", 10, 10, Chars::Date)),
    text("OthRefNo", 1, 20),
];
const CONTRACT: &[Field] = &[
    text("RecAdvRefr", 1, 20),
    pattern("RecAdvDt", 10, 10, Chars::Date),
    text("TendRefr", 1, 20),
    text("ContrRefr", 1, 20),
    text("ExtRefr", 1, 20),
    text("ProjRefr", 1, 20),
    text("PORefr", 1, 16),
    pattern("PORefDt", 10, 10, Chars::Date),
];
const REFERENCES: &[Field] = &[
    text("InvRm", 3, 100),
    object("DocPerdDtls", PERIOD),
    list("PrecDocDtls", PRECEDING),
    list("ContrDtls", CONTRACT),
];
const ADDITIONAL: &[Field] = &[
    text("Url", 3, 100),
    text("Docs", 3, 1000),
    text("Info", 3, 1000),
];
const EXPORT: &[Field] = &[
    text("ShipBNo", 1, 20),
    pattern("ShipBDt", 10, 10, Chars::Date),
    pattern("Port", 2, 10, Chars::Alnum),
    pattern("RefClm", 1, 1, Chars::YesNo),
    pattern("ForCur", 3, 16, Chars::Letters),
    pattern("CntCode", 2, 2, Chars::Upper),
    number("ExpDuty", 0.0, AMOUNT),
];
/// The e-way bill part is checked by [`crate::ewb::check_part`], with the EWB codes.
const EWB: &[Field] = &[
    checked("TransId"),
    checked("TransName"),
    checked("TransMode"),
    checked("Distance"),
    checked("TransDocNo"),
    checked("TransDocDt"),
    checked("VehNo"),
    checked("VehType"),
];

/// The invoice's top level, in NIC's order.
pub const INVOICE: &[Field] = &[
    checked("Version"),
    checked_object("TranDtls", TRAN),
    checked_object("DocDtls", DOC),
    checked_object("SellerDtls", SELLER),
    checked_object("BuyerDtls", BUYER),
    checked_object("DispDtls", DISPATCH),
    checked_object("ShipDtls", SHIP),
    Field {
        name: "ItemList",
        required: false,
        kind: Kind::CheckedList(ITEM),
    },
    checked_object("ValDtls", VALUES),
    object("PayDtls", PAYMENT),
    object("RefDtls", REFERENCES),
    list("AddlDocDtls", ADDITIONAL),
    object("ExpDtls", EXPORT),
    checked_object("EwbDtls", EWB),
];

/// One field that breaks its table entry: the JSON path and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// JSON path, e.g. `RefDtls.PrecDocDtls[0].InvDt`.
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

/// Checks every field the table describes (not those marked [`Kind::Checked`]) in a document
/// whose keys are in NIC's casing.
pub fn check_blocks(invoice: &Map<String, Value>) -> Vec<Breach> {
    let mut out = Vec::new();
    walk(INVOICE, invoice, "", &mut out);
    out
}

fn walk(fields: &[Field], object: &Map<String, Value>, prefix: &str, out: &mut Vec<Breach>) {
    for field in fields {
        let path = if prefix.is_empty() {
            field.name.to_string()
        } else {
            format!("{prefix}.{}", field.name)
        };
        let value = object.get(field.name).filter(|v| !v.is_null());
        let mut breach = |problem: String| {
            out.push(Breach {
                path: path.clone(),
                problem,
            })
        };
        let Some(value) = value else {
            if field.required && !matches!(field.kind, Kind::Checked) {
                breach("is required".into());
            }
            continue;
        };
        match field.kind {
            Kind::Checked => {}
            Kind::Text { min, max, chars } => match value.as_str() {
                None => breach("must be a string".into()),
                Some(s) => {
                    let len = s.chars().count();
                    if len < min || len > max {
                        breach(format!("length must be {min} to {max}, is {len}"));
                    } else if !chars_fit(chars, s) {
                        breach(chars_rule(chars).into());
                    }
                }
            },
            Kind::Number { min, max } => match value.as_f64() {
                Some(n) if (min..=max).contains(&n) => {}
                Some(_) => breach(format!("must be between {min} and {max}")),
                None => breach("must be a number".into()),
            },
            Kind::Object(inner) | Kind::CheckedObject(inner) => match value.as_object() {
                Some(map) => walk(inner, map, &path, out),
                None if matches!(field.kind, Kind::Object(_)) => breach("must be an object".into()),
                None => {}
            },
            Kind::List(inner) | Kind::CheckedList(inner) => match value.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        let item_path = format!("{path}[{i}]");
                        match item.as_object() {
                            Some(map) => walk(inner, map, &item_path, out),
                            None if matches!(field.kind, Kind::List(_)) => out.push(Breach {
                                path: item_path,
                                problem: "must be an object".into(),
                            }),
                            None => {}
                        }
                    }
                }
                None if matches!(field.kind, Kind::List(_)) => breach("must be a list".into()),
                None => {}
            },
        }
    }
}

fn chars_fit(chars: Chars, s: &str) -> bool {
    if s.contains('"') || s.contains('\\') {
        return false;
    }
    match chars {
        Chars::Any => true,
        Chars::Alnum => s.bytes().all(|b| b.is_ascii_alphanumeric()),
        Chars::Letters => s.bytes().all(|b| b.is_ascii_alphabetic()),
        Chars::Upper => s.bytes().all(|b| b.is_ascii_uppercase()),
        Chars::YesNo => matches!(s, "Y" | "N" | "y" | "n"),
        Chars::Date => crate::irn::parse_doc_date(s).is_ok(),
        Chars::RefNo => {
            let mut bytes = s.bytes();
            bytes
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic() || (b'1'..=b'9').contains(&b))
                && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'-')
        }
    }
}

fn chars_rule(chars: Chars) -> &'static str {
    match chars {
        Chars::Any => "must not contain \" or \\",
        Chars::Alnum => "must hold only letters and digits",
        Chars::Letters => "must hold only letters",
        Chars::Upper => "must be upper-case letters",
        Chars::YesNo => "must be Y or N",
        Chars::Date => "must be a date dd/mm/yyyy",
        Chars::RefNo => "must start with a letter or 1-9 and hold only letters, digits, / and -",
    }
}

/// The fields of `object` in NIC's order, without nulls and without keys the schema does not
/// know. Nested objects and lists of objects are ordered the same way.
pub fn in_schema_order(fields: &[Field], object: &Map<String, Value>) -> Map<String, Value> {
    let mut ordered = Map::with_capacity(object.len());
    for field in fields {
        let Some(value) = object.get(field.name) else {
            continue;
        };
        let value = match (field.kind, value) {
            (_, Value::Null) => continue,
            (Kind::Object(inner) | Kind::CheckedObject(inner), Value::Object(map)) => {
                Value::Object(in_schema_order(inner, map))
            }
            (Kind::List(inner) | Kind::CheckedList(inner), Value::Array(items)) => Value::Array(
                items
                    .iter()
                    .filter(|item| !item.is_null())
                    .map(|item| match item {
                        Value::Object(map) => Value::Object(in_schema_order(inner, map)),
                        other => other.clone(),
                    })
                    .collect(),
            ),
            (_, value) => value.clone(),
        };
        ordered.insert(field.name.to_string(), value);
    }
    ordered
}
