//! The HSN/SAC master (`data/hsn.txt`, built by `scripts/build-hsn.py` from the GST HSN/SAC
//! list): an item's `HsnCd` must be one of its codes (NIC code 2176).

use std::collections::HashSet;

const MASTER: &str = include_str!("../../data/hsn.txt");

/// The HSN/SAC codes, held as numbers with their length (a leading zero matters: `0101`).
#[derive(Debug)]
pub struct HsnMaster {
    codes: HashSet<(u8, u32)>,
}

impl HsnMaster {
    /// Reads the shipped master (comment lines start with `#`).
    pub fn load() -> Self {
        let codes = MASTER
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| Some((line.len() as u8, line.parse::<u32>().ok()?)))
            .collect();
        HsnMaster { codes }
    }

    /// Whether `code` is in the master.
    pub fn contains(&self, code: &str) -> bool {
        code.len() <= 8
            && code
                .parse::<u32>()
                .is_ok_and(|n| self.codes.contains(&(code.len() as u8, n)))
    }

    /// How many codes the master holds.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the master is empty.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_knows_goods_and_services_codes() {
        let master = HsnMaster::load();
        assert!(master.len() > 18_000, "{}", master.len());
        for code in ["0101", "1001", "84713010", "61149090", "998315", "9983"] {
            assert!(master.contains(code), "{code}");
        }
        for code in ["101", "0000", "12345678", "99999999", "1001x"] {
            assert!(!master.contains(code), "{code}");
        }
    }
}
