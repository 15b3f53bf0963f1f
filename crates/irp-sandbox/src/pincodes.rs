//! The sandbox's PIN code master (`data/pincodes.csv`, from India Post's directory): each
//! PIN's state and centroid, for PIN-to-PIN distances of e-way bills.

use std::collections::HashMap;

const MASTER: &str = include_str!("../data/pincodes.csv");

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
}

impl PinMaster {
    /// Reads the shipped master (lines that do not parse are skipped: the comment header).
    pub fn load() -> Self {
        let places = MASTER
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
        PinMaster { places }
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
        Some(irp_protocol::ewb::road_distance_km(
            (a.lat, a.lon),
            (b.lat, b.lon),
        ))
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
        let delhi_bengaluru = master.distance_km(110001, 560001).unwrap();
        assert!((2000..2200).contains(&delhi_bengaluru), "{delhi_bengaluru}");
        assert_eq!(master.distance_km(560001, 560001), Some(0));
    }
}
