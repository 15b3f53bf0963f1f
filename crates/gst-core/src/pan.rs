//! The Permanent Account Number (PAN) that positions 3–12 of a normal GSTIN carry.

use std::fmt;

/// Why a string is not a PAN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PanError {
    /// Not exactly ten characters.
    #[error("a PAN has 10 characters, this has {0}")]
    Length(usize),
    /// A character of the wrong class at a position.
    #[error("character {position} of a PAN should be {expected}, found '{found}'")]
    Character {
        /// 1-based position.
        position: usize,
        /// "a letter" or "a digit".
        expected: &'static str,
        /// The character found.
        found: char,
    },
    /// The fourth character is not a known holder type.
    #[error(
        "character 4 of a PAN is the holder type (P, C, H, F, A, T, B, L, J, G or E), found '{0}'"
    )]
    HolderType(char),
}

/// The kind of holder, from the PAN's fourth character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanHolder {
    /// P: individual.
    Individual,
    /// C: company.
    Company,
    /// H: Hindu undivided family.
    Huf,
    /// F: firm.
    Firm,
    /// A: association of persons.
    Aop,
    /// T: trust.
    Trust,
    /// B: body of individuals.
    Boi,
    /// L: local authority.
    LocalAuthority,
    /// J: artificial juridical person.
    ArtificialJuridicalPerson,
    /// G: government.
    Government,
    /// E: limited liability partnership (reported by some sources only).
    Llp,
}

impl PanHolder {
    fn from_char(c: char) -> Option<Self> {
        Some(match c {
            'P' => Self::Individual,
            'C' => Self::Company,
            'H' => Self::Huf,
            'F' => Self::Firm,
            'A' => Self::Aop,
            'T' => Self::Trust,
            'B' => Self::Boi,
            'L' => Self::LocalAuthority,
            'J' => Self::ArtificialJuridicalPerson,
            'G' => Self::Government,
            'E' => Self::Llp,
            _ => return None,
        })
    }
}

/// A PAN: five letters, four digits, one letter, with a known holder type.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pan(String);

impl Pan {
    /// Parses a PAN, upper-casing it first.
    pub fn parse(input: &str) -> Result<Self, PanError> {
        let upper = input.trim().to_ascii_uppercase();
        let chars: Vec<char> = upper.chars().collect();
        if chars.len() != 10 {
            return Err(PanError::Length(chars.len()));
        }
        check_pan_layout(&chars, 0)?;
        if PanHolder::from_char(chars[3]).is_none() {
            return Err(PanError::HolderType(chars[3]));
        }
        Ok(Pan(upper))
    }

    /// The holder type.
    pub fn holder(&self) -> Option<PanHolder> {
        self.0.chars().nth(3).and_then(PanHolder::from_char)
    }

    /// The PAN as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks the letter/digit layout of ten PAN characters; `offset` shifts the reported
/// positions (2 when the PAN sits inside a GSTIN).
pub(crate) fn check_pan_layout(chars: &[char], offset: usize) -> Result<(), PanError> {
    for (i, c) in chars.iter().take(10).enumerate() {
        let wants_digit = (5..9).contains(&i);
        let ok = if wants_digit {
            c.is_ascii_digit()
        } else {
            c.is_ascii_uppercase()
        };
        if !ok {
            return Err(PanError::Character {
                position: i + 1 + offset,
                expected: if wants_digit { "a digit" } else { "a letter" },
                found: *c,
            });
        }
    }
    Ok(())
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_pans_and_names_each_fault() {
        let pan = Pan::parse("aaccT6304m").unwrap();
        assert_eq!(pan.as_str(), "AACCT6304M");
        assert_eq!(pan.holder(), Some(PanHolder::Company));
        assert_eq!(Pan::parse("AACCT6304"), Err(PanError::Length(9)));
        assert_eq!(
            Pan::parse("AACCT63O4M").unwrap_err().to_string(),
            "character 8 of a PAN should be a digit, found 'O'"
        );
        assert_eq!(Pan::parse("AACXT6304M"), Err(PanError::HolderType('X')));
    }
}
