//! NIC's master data that the INV-01 validator checks against: HSN/SAC codes, unit quantity
//! codes and PIN codes by state. Loaded once into memory and looked up by hash, so the checks
//! cost next to nothing per invoice.

mod hsn;
mod pins;
mod units;

pub use hsn::HsnMaster;
pub use pins::{PinMaster, PinPlace};
pub use units::{is_unit_code, UNIT_CODES};

/// The masters, loaded once by whoever validates (the IRP sandbox holds one in its state).
#[derive(Debug)]
pub struct Masters {
    /// HSN/SAC codes.
    pub hsn: HsnMaster,
    /// PIN codes with their state and centroid.
    pub pins: PinMaster,
}

impl Masters {
    /// Reads the shipped masters.
    pub fn load() -> Self {
        Masters {
            hsn: HsnMaster::load(),
            pins: PinMaster::load(),
        }
    }
}
