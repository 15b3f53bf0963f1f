//! The state codes that the IRP accepts in positions 1–2 of a GSTIN and in `Pos`/`Stcd` fields.

use std::fmt;

/// IRP state codes and names (`nic-irp-api.md` §10), plus the special codes 96, 97 and 99.
const STATES: &[(u8, &str)] = &[
    (1, "Jammu & Kashmir"),
    (2, "Himachal Pradesh"),
    (3, "Punjab"),
    (4, "Chandigarh"),
    (5, "Uttarakhand"),
    (6, "Haryana"),
    (7, "Delhi"),
    (8, "Rajasthan"),
    (9, "Uttar Pradesh"),
    (10, "Bihar"),
    (11, "Sikkim"),
    (12, "Arunachal Pradesh"),
    (13, "Nagaland"),
    (14, "Manipur"),
    (15, "Mizoram"),
    (16, "Tripura"),
    (17, "Meghalaya"),
    (18, "Assam"),
    (19, "West Bengal"),
    (20, "Jharkhand"),
    (21, "Odisha"),
    (22, "Chhattisgarh"),
    (23, "Madhya Pradesh"),
    (24, "Gujarat"),
    (25, "Daman & Diu"),
    (26, "Dadra & Nagar Haveli and Daman & Diu"),
    (27, "Maharashtra"),
    (28, "Andhra Pradesh (old)"),
    (29, "Karnataka"),
    (30, "Goa"),
    (31, "Lakshadweep"),
    (32, "Kerala"),
    (33, "Tamil Nadu"),
    (34, "Puducherry"),
    (35, "Andaman & Nicobar"),
    (36, "Telangana"),
    (37, "Andhra Pradesh"),
    (38, "Ladakh"),
    (96, "Other country"),
    (97, "Other territory"),
    (99, "Centre jurisdiction"),
];

/// The name of a state code, or `None` when the IRP does not know it.
pub fn state_name(code: u8) -> Option<&'static str> {
    STATES.iter().find(|(c, _)| *c == code).map(|(_, n)| *n)
}

/// A known two-digit IRP state code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateCode(u8);

impl StateCode {
    /// Accepts a known code (1–38, 96, 97, 99).
    pub fn new(code: u8) -> Option<Self> {
        state_name(code).map(|_| StateCode(code))
    }

    /// Parses the two-digit form, e.g. `"07"`.
    pub fn parse(two_digits: &str) -> Option<Self> {
        let bytes = two_digits.as_bytes();
        if bytes.len() != 2 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Self::new((bytes[0] - b'0') * 10 + (bytes[1] - b'0'))
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self.0
    }

    /// The state's name.
    pub fn name(self) -> &'static str {
        state_name(self.0).unwrap_or("")
    }

    /// Every known code, in order.
    pub fn all() -> impl Iterator<Item = StateCode> {
        STATES.iter().map(|(c, _)| StateCode(*c))
    }
}

impl fmt::Display for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_and_rejects_unknown_codes() {
        assert_eq!(StateCode::parse("07").map(StateCode::name), Some("Delhi"));
        assert_eq!(StateCode::parse("38").map(|s| s.code()), Some(38));
        assert!(StateCode::parse("41").is_none());
        assert!(StateCode::parse("00").is_none());
        assert!(StateCode::parse("7").is_none());
        assert_eq!(StateCode::all().count(), 41);
        assert_eq!(
            StateCode::parse("99").map(|s| s.to_string()),
            Some("99".into())
        );
    }
}
