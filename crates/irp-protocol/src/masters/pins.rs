//! The PIN code master (`data/pincodes.csv`, from India Post's directory): each PIN's state,
//! for the PIN-vs-state rule (2178), and its centroid, for PIN-to-PIN e-way bill distances.

use std::collections::HashMap;

const MASTER: &str = include_str!("../../data/pincodes.csv");

/// Where a PIN is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PinPlace {
    /// GST state code.
    pub state: u8,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

/// The PIN master.
#[derive(Debug)]
pub struct PinMaster {
    places: HashMap<u32, PinPlace>,
    /// The state most PINs of each 3-digit prefix (sorting district) are in.
    districts: HashMap<u32, u8>,
}

impl PinMaster {
    /// Reads the shipped master (lines that do not parse are skipped: the comment header).
    pub fn load() -> Self {
        let places: HashMap<u32, PinPlace> = MASTER
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| {
                let mut fields = line.split(',');
                let pin = fields.next()?.parse::<u32>().ok()?;
                let state = fields.next()?.parse::<u8>().ok()?;
                let lat = fields.next()?.parse::<i64>().ok()? as f64 / 10_000.0;
                let lon = fields.next()?.parse::<i64>().ok()? as f64 / 10_000.0;
                Some((pin, PinPlace { state, lat, lon }))
            })
            .collect();
        let mut counts: HashMap<(u32, u8), usize> = HashMap::new();
        for (pin, place) in &places {
            *counts.entry((pin / 1000, place.state)).or_default() += 1;
        }
        let mut districts: HashMap<u32, (u8, usize)> = HashMap::new();
        for ((district, state), count) in counts {
            let best = districts.entry(district).or_insert((state, count));
            if count > best.1 || (count == best.1 && state < best.0) {
                *best = (state, count);
            }
        }
        let districts = districts
            .into_iter()
            .map(|(district, (state, _))| (district, state))
            .collect();
        PinMaster { places, districts }
    }

    /// The state of a PIN: its own when the master lists it, else the state of its sorting
    /// district (the first three digits), as NIC signs PINs that India Post's directory lacks
    /// (171302 in `ic-sandbox-2023-b2b-goods-igst.json`). `None` for an unknown district.
    pub fn state_of(&self, pin: u32) -> Option<u8> {
        match self.places.get(&pin) {
            Some(place) => Some(place.state),
            None => self.districts.get(&(pin / 1000)).copied(),
        }
    }

    /// A PIN's place, when the master has it.
    pub fn place(&self, pin: u32) -> Option<PinPlace> {
        self.places.get(&pin).copied()
    }

    /// How many PINs the master holds.
    pub fn len(&self) -> usize {
        self.places.len()
    }

    /// Whether the master is empty.
    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }

    /// Road kilometres between two PINs (see `irp_protocol::ewb::road_distance_km`).
    pub fn distance_km(&self, from: u32, to: u32) -> Option<u32> {
        let (a, b) = (self.place(from)?, self.place(to)?);
        Some(crate::ewb::road_distance_km((a.lat, a.lon), (b.lat, b.lon)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_master_knows_pins_their_states_and_distances() {
        let master = PinMaster::load();
        assert!(master.len() > 19_000, "{}", master.len());
        assert_eq!(master.place(110001).map(|p| p.state), Some(7));
        assert_eq!(master.place(560001).map(|p| p.state), Some(29));
        assert_eq!(master.place(400001).map(|p| p.state), Some(27));
        assert!(master.place(999999).is_none());
        assert_eq!(master.state_of(171302), Some(2));
        assert_eq!(master.state_of(999999), None);
        let delhi_bengaluru = master.distance_km(110001, 560001).unwrap();
        assert!((2000..2200).contains(&delhi_bengaluru), "{delhi_bengaluru}");
        assert_eq!(master.distance_km(560001, 560001), Some(0));
    }
}
