//! The GST unit quantity codes (UQC) an item's `Unit` must be one of (NIC code 2177). The list
//! is GSTN's UQC master, as india-compliance's `UOM_MAP` carries it (its 45 codes).

/// Every unit quantity code, sorted.
pub const UNIT_CODES: &[&str] = &[
    "BAG", "BAL", "BDL", "BKL", "BOU", "BOX", "BTL", "BUN", "CAN", "CBM", "CCM", "CMS", "CTN",
    "DOZ", "DRM", "GGK", "GMS", "GRS", "GYD", "KGS", "KLR", "KME", "LTR", "MLT", "MTR", "MTS",
    "NOS", "OTH", "PAC", "PCS", "PRS", "QTL", "ROL", "SET", "SQF", "SQM", "SQY", "TBS", "TGM",
    "THD", "TON", "TUB", "UGS", "UNT", "YDS",
];

/// Whether `unit` is a unit quantity code (NIC reads it case-insensitively).
pub fn is_unit_code(unit: &str) -> bool {
    let upper = unit.to_ascii_uppercase();
    UNIT_CODES.binary_search(&upper.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_reads_any_case() {
        assert!(UNIT_CODES.windows(2).all(|w| w[0] < w[1]));
        assert!(is_unit_code("NOS") && is_unit_code("bag") && is_unit_code("OTH"));
        assert!(!is_unit_code("PIECE") && !is_unit_code("KG"));
    }
}
