//! The GSTIN: a 15-character GST registration number. Production traffic is checked strictly
//! (layout, state, PAN, entity number, check character); the NIC sandbox hands out dummy GSTINs
//! that fail the checksum, so sandbox checks stop at the layout and the state code.

use std::fmt;

use crate::pan::{check_pan_layout, PanError};
use crate::state::StateCode;
use crate::Pan;

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// How strictly to validate a GSTIN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Real GSTINs: layout, known state code, PAN holder type, characters 13 and 14, and the
    /// mod-36 check character.
    Production,
    /// NIC sandbox dummies such as `29AAFCD5862R000`: 15 letters or digits and a known state code.
    Sandbox,
}

/// Why a string is not a valid GSTIN. Every variant says what is wrong in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GstinError {
    /// Nothing was given.
    #[error("GSTIN is empty")]
    Empty,
    /// Not 15 characters.
    #[error("a GSTIN has 15 characters, this has {0}")]
    Length(usize),
    /// A character outside 0-9 and A-Z.
    #[error("character {position} ('{found}') is not a letter or digit")]
    Character {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The first two characters are not digits.
    #[error("the first two characters are the state code and must be digits, found \"{0}\"")]
    StateNotDigits(String),
    /// A state code the IRP does not know.
    #[error("unknown state code {0}")]
    UnknownState(String),
    /// Characters 3–12 are not a PAN.
    #[error("characters 3-12 should be the holder's PAN: {0}")]
    Pan(PanError),
    /// Character 13 is not an entity number.
    #[error("character 13 is the entity number (1-9 or A-Z), found '{0}'")]
    EntityNumber(char),
    /// Character 14 is not a known registration marker.
    #[error(
        "character 14 should be 'Z' (or C, D or a digit for special registrations), found '{0}'"
    )]
    Fourteenth(char),
    /// The mod-36 check character does not match.
    #[error("check character should be '{expected}', found '{found}'")]
    CheckCharacter {
        /// The character the first 14 characters call for.
        expected: char,
        /// The character given.
        found: char,
    },
}

/// A validated GSTIN, upper-case.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gstin(String);

impl Gstin {
    /// Parses and validates a GSTIN at the given strictness. Lower-case letters are upper-cased
    /// first, as the IRP treats them; surrounding spaces are an error (they count as characters).
    pub fn parse(input: &str, strictness: Strictness) -> Result<Self, GstinError> {
        if input.is_empty() {
            return Err(GstinError::Empty);
        }
        let upper = input.to_ascii_uppercase();
        let chars: Vec<char> = upper.chars().collect();
        if chars.len() != 15 {
            return Err(GstinError::Length(chars.len()));
        }
        if let Some((i, c)) = chars
            .iter()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
        {
            return Err(GstinError::Character {
                position: i + 1,
                found: *c,
            });
        }
        let state: String = chars[..2].iter().collect();
        if !chars[..2].iter().all(char::is_ascii_digit) {
            return Err(GstinError::StateNotDigits(state));
        }
        if StateCode::parse(&state).is_none() {
            return Err(GstinError::UnknownState(state));
        }
        if strictness == Strictness::Production {
            check_layout(&chars)?;
            let expected = check_character(&upper[..14]).unwrap_or('?');
            if chars[14] != expected {
                return Err(GstinError::CheckCharacter {
                    expected,
                    found: chars[14],
                });
            }
        }
        Ok(Gstin(upper))
    }

    /// The GSTIN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The state code in positions 1–2.
    pub fn state(&self) -> Option<StateCode> {
        StateCode::parse(&self.0[..2])
    }

    /// Characters 3–12: the holder's PAN for normal registrations (a TAN or other id for some
    /// special ones).
    pub fn pan_part(&self) -> &str {
        &self.0[2..12]
    }

    /// The holder's PAN, when characters 3–12 are one.
    pub fn pan(&self) -> Option<Pan> {
        Pan::parse(self.pan_part()).ok()
    }
}

/// Computes the mod-36 check character for the first 14 characters of a GSTIN
/// (`nic-irp-api.md` §10). `None` when the input is not 14 characters of `0-9A-Z`.
pub fn check_character(first14: &str) -> Option<char> {
    let bytes = first14.as_bytes();
    if bytes.len() != 14 {
        return None;
    }
    let mut sum = 0u32;
    for (i, b) in bytes.iter().enumerate() {
        let value = ALPHABET.iter().position(|a| a == b)? as u32;
        let product = value * if i % 2 == 0 { 1 } else { 2 };
        sum += product / 36 + product % 36;
    }
    let index = (36 - sum % 36) % 36;
    Some(ALPHABET[index as usize] as char)
}

/// Checks characters 3–14 against the layout the registration kind calls for: UN bodies and
/// embassies (`..UN?`), OIDAR (`99..OS?`), non-resident (`..NR?`), TDS deductors with a TAN,
/// and otherwise the normal PAN-based layout.
fn check_layout(chars: &[char]) -> Result<(), GstinError> {
    let marker: String = chars[12..14].iter().collect();
    let is_special = matches!(marker.as_str(), "UN" | "OS" | "NR");
    if is_special {
        // <state><2 digits><3 letters><5 digits><marker><check>
        let ok = chars[2..4].iter().all(char::is_ascii_digit)
            && chars[4..7].iter().all(char::is_ascii_uppercase)
            && chars[7..12].iter().all(char::is_ascii_digit);
        if !ok {
            return Err(GstinError::Pan(PanError::Character {
                position: 3,
                expected: "a special-registration id (2 digits, 3 letters, 5 digits)",
                found: chars[2],
            }));
        }
        return Ok(());
    }
    let pan_chars = &chars[2..12];
    let tds_with_tan = chars[13] == 'D'
        && pan_chars[..4].iter().all(char::is_ascii_uppercase)
        && pan_chars[4..9].iter().all(char::is_ascii_digit)
        && pan_chars[9].is_ascii_uppercase();
    if !tds_with_tan {
        check_pan_layout(pan_chars, 2).map_err(GstinError::Pan)?;
        if Pan::parse(&pan_chars.iter().collect::<String>()).is_err() {
            return Err(GstinError::Pan(PanError::HolderType(pan_chars[3])));
        }
    }
    let entity = chars[12];
    if !(entity.is_ascii_uppercase() || ('1'..='9').contains(&entity)) {
        return Err(GstinError::EntityNumber(entity));
    }
    let fourteenth = chars[13];
    let known_marker = fourteenth == 'Z'
        || (fourteenth.is_ascii_digit() && fourteenth != '0')
        || "ABCDEFGHIJ".contains(fourteenth);
    if !known_marker {
        return Err(GstinError::Fourteenth(fourteenth));
    }
    Ok(())
}

impl fmt::Display for Gstin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A GSTIN reads as its text wherever text is expected.
impl std::ops::Deref for Gstin {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Gstin {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for Gstin {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Gstin {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Gstin {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl fmt::Debug for Gstin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Gstin({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_known_check_characters() {
        assert_eq!(check_character("24AACCT6304M1Z"), Some('B'));
        assert_eq!(check_character("27AAPFU0939F1Z"), Some('V'));
        assert_eq!(check_character("24AACCT6304M1"), None);
        assert_eq!(check_character("24AACCT6304M1-"), None);
    }

    #[test]
    fn explains_each_rejection() {
        let err = |s: &str| {
            Gstin::parse(s, Strictness::Production)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err("27AAPFU0939F1ZA"),
            "check character should be 'V', found 'A'"
        );
        assert_eq!(err("41AAPFU0939F1ZV"), "unknown state code 41");
        assert_eq!(
            err("27AAPFU0939F1Z"),
            "a GSTIN has 15 characters, this has 14"
        );
        assert_eq!(err(""), "GSTIN is empty");
        assert_eq!(
            err("27AAPFU0939F1Z-"),
            "character 15 ('-') is not a letter or digit"
        );
        assert!(err("27AAPFU0939F0ZV").starts_with("character 13 is the entity number"));
        assert!(err("27AAPXU0939F1ZV").contains("holder type"));
    }

    #[test]
    fn sandbox_accepts_dummies_that_production_rejects() {
        for dummy in ["29AAFCD5862R000", "02AMBPG7773M002", "24AAFCD5862R005"] {
            assert!(Gstin::parse(dummy, Strictness::Sandbox).is_ok(), "{dummy}");
            assert!(
                Gstin::parse(dummy, Strictness::Production).is_err(),
                "{dummy}"
            );
        }
        assert!(Gstin::parse("41AAFCD5862R000", Strictness::Sandbox).is_err());
        assert!(Gstin::parse("29AAFCD5862R00", Strictness::Sandbox).is_err());
    }

    #[test]
    fn exposes_state_and_pan() {
        let g = Gstin::parse("24aacct6304m1zb", Strictness::Production).unwrap();
        assert_eq!(g.as_str(), "24AACCT6304M1ZB");
        assert_eq!(g.state().map(|s| s.code()), Some(24));
        assert_eq!(g.pan().map(|p| p.to_string()), Some("AACCT6304M".into()));
    }
}
