//! The IRN: the lower-case hex SHA-256 of seller GSTIN, financial year, document type and
//! document number, concatenated without separators (`nic-irp-api.md` §6).

use sha2::{Digest, Sha256};
use time::{Date, Month};

/// The day from which NIC upper-cases document numbers before hashing.
pub const UPPER_CASE_FROM: (i32, Month, u8) = (2025, Month::June, 1);

/// Why a date or document could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IrnError {
    /// Not `dd/mm/yyyy`, or not a real date.
    #[error("document date must be dd/mm/yyyy, got {0:?}")]
    Date(String),
}

/// Parses `dd/mm/yyyy`.
pub fn parse_doc_date(text: &str) -> Result<Date, IrnError> {
    let err = || IrnError::Date(text.to_string());
    let parts: Vec<&str> = text.split('/').collect();
    if parts.len() != 3 || parts[0].len() != 2 || parts[1].len() != 2 || parts[2].len() != 4 {
        return Err(err());
    }
    let day: u8 = parts[0].parse().map_err(|_| err())?;
    let month: u8 = parts[1].parse().map_err(|_| err())?;
    let year: i32 = parts[2].parse().map_err(|_| err())?;
    let month = Month::try_from(month).map_err(|_| err())?;
    Date::from_calendar_date(year, month, day).map_err(|_| err())
}

/// The financial year (April to March) containing a date, as `YYYY-YY`.
pub fn financial_year(date: Date) -> String {
    let start = if u8::from(date.month()) >= 4 {
        date.year()
    } else {
        date.year() - 1
    };
    format!("{start}-{:02}", (start + 1) % 100)
}

/// The IRN of a document. Document numbers are upper-cased when the IRN is generated on or
/// after 1 June 2025 (`generated_on`); the type is always upper-cased.
pub fn compute_irn(
    seller_gstin: &str,
    doc_type: &str,
    doc_no: &str,
    doc_date: &str,
    generated_on: Date,
) -> Result<String, IrnError> {
    let date = parse_doc_date(doc_date)?;
    let (y, m, d) = UPPER_CASE_FROM;
    let cutover =
        Date::from_calendar_date(y, m, d).map_err(|_| IrnError::Date(doc_date.to_string()))?;
    let number = if generated_on >= cutover {
        doc_no.to_ascii_uppercase()
    } else {
        doc_no.to_string()
    };
    let input = format!(
        "{}{}{}{}",
        seller_gstin.to_ascii_uppercase(),
        financial_year(date),
        doc_type.to_ascii_uppercase(),
        number
    );
    let digest = Sha256::digest(input.as_bytes());
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn financial_years_run_april_to_march() {
        assert_eq!(
            financial_year(parse_doc_date("31/03/2023").unwrap()),
            "2022-23"
        );
        assert_eq!(
            financial_year(parse_doc_date("01/04/2023").unwrap()),
            "2023-24"
        );
        assert_eq!(
            financial_year(parse_doc_date("15/01/2100").unwrap()),
            "2099-00"
        );
        assert!(parse_doc_date("31/02/2023").is_err());
        assert!(parse_doc_date("2023-01-01").is_err());
    }

    #[test]
    fn doc_numbers_are_upper_cased_from_june_2025() {
        let before = Date::from_calendar_date(2025, Month::May, 31).unwrap();
        let after = Date::from_calendar_date(2025, Month::June, 1).unwrap();
        let lower = compute_irn("29AAFCD5862R000", "inv", "abc/1", "01/05/2025", before).unwrap();
        let upper = compute_irn("29AAFCD5862R000", "INV", "ABC/1", "01/05/2025", before).unwrap();
        assert_ne!(lower, upper);
        assert_eq!(
            compute_irn("29AAFCD5862R000", "INV", "abc/1", "01/05/2025", after).unwrap(),
            upper
        );
    }
}

/// Whether `text` has the form of an IRN: 64 lower-case hexadecimal characters.
pub fn is_irn(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod form_tests {
    use super::is_irn;

    #[test]
    fn only_64_lower_case_hex_characters_are_irns() {
        let irn = "a".repeat(63) + "0";
        assert!(is_irn(&irn));
        assert!(!is_irn(&irn.to_ascii_uppercase().replace('0', "A")));
        assert!(!is_irn(&irn[..63]));
        assert!(!is_irn(&format!("../../keys/{}", &irn[11..])));
        assert!(!is_irn(&("é".to_string() + &irn[2..])));
    }
}
