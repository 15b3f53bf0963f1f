//! Seed data: the well-known NIC sandbox GSTINs, two GSP businesses, and a deterministic
//! generator of further taxpayers (`--taxpayers N --seed S`).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::SqlitePool;

use crate::error::SandboxError;

/// A taxpayer to insert.
pub struct SeedTaxpayer {
    /// GSTIN.
    pub gstin: String,
    /// Legal name.
    pub legal_name: String,
    /// Location.
    pub location: String,
    /// PIN.
    pub pin: i64,
    /// Registered mobile.
    pub mobile: String,
    /// Registered email.
    pub email: String,
}

/// The demo GSP's PAN (register it with mobile 9000000100, email gsp@sandbox.test).
pub const DEMO_GSP_PAN: &str = "AAGCE4321K";
/// A second GSP's PAN (mobile 9000000200, email other-gsp@sandbox.test).
pub const OTHER_GSP_PAN: &str = "AAHCO8765L";

fn gstin(state: u8, pan: &str, entity: char) -> String {
    let first14 = format!("{state:02}{pan}{entity}Z");
    let check = gst_core::check_character(&first14).unwrap_or('0');
    format!("{first14}{check}")
}

/// The fixed part of the seed.
pub fn well_known() -> Vec<SeedTaxpayer> {
    let t = |gstin: &str, name: &str, location: &str, pin: i64, mobile: &str, email: &str| {
        SeedTaxpayer {
            gstin: gstin.to_string(),
            legal_name: name.to_string(),
            location: location.to_string(),
            pin,
            mobile: mobile.to_string(),
            email: email.to_string(),
        }
    };
    vec![
        t(
            "29AAFCD5862R000",
            "Demo Sandbox Pvt Ltd",
            "Bengaluru",
            560001,
            "9000000001",
            "demo-ka@sandbox.test",
        ),
        t(
            "24AAFCD5862R005",
            "Demo Sandbox Pvt Ltd",
            "Gandhinagar",
            382010,
            "9000000002",
            "demo-gj@sandbox.test",
        ),
        t(
            "07AAFCD5862R007",
            "Demo Sandbox Pvt Ltd",
            "New Delhi",
            110001,
            "9000000003",
            "demo-dl@sandbox.test",
        ),
        t(
            "02AMBPG7773M002",
            "Himachal Test Traders",
            "Shimla",
            171001,
            "9000000004",
            "hp@sandbox.test",
        ),
        t(
            "01AMBPG7773M002",
            "Jammu Test Traders",
            "Jammu",
            180001,
            "9000000005",
            "jk@sandbox.test",
        ),
        t(
            "36AMBPG7773M002",
            "Telangana Test Traders",
            "Hyderabad",
            500001,
            "9000000006",
            "tg@sandbox.test",
        ),
        t(
            "29AWGPV7107B1Z1",
            "VIKAS EXPORTS",
            "Bengaluru",
            560002,
            "9000000007",
            "vikas@sandbox.test",
        ),
        t(
            "09AAJCM7191E1Z5",
            "Meerut Test Pvt Ltd",
            "Meerut",
            250001,
            "9000000008",
            "up@sandbox.test",
        ),
        t(
            "29AAACP7879D1Z0",
            "TALLY SOLUTIONS PVT LTD",
            "HONGASANDRA",
            560068,
            "9000000009",
            "ka2@sandbox.test",
        ),
        t(
            "24AACCT6304M1ZB",
            "Odoo IN Private Limited",
            "Gandhinagar",
            382007,
            "9000000010",
            "odoo@sandbox.test",
        ),
        t(
            "09AABCW0339G3ZD",
            "WEBKUL SOFTWARE PVT LTD",
            "Noida",
            201301,
            "9000000011",
            "webkul@sandbox.test",
        ),
        t(
            "36AAECF1151A1ZC",
            "Telangana Buyer Pvt Ltd",
            "Hyderabad",
            500032,
            "9000000012",
            "tg2@sandbox.test",
        ),
        t(
            &gstin(27, DEMO_GSP_PAN, '1'),
            "Demo GSP Services Pvt Ltd",
            "Mumbai",
            400001,
            "9000000100",
            "gsp@sandbox.test",
        ),
        t(
            &gstin(29, OTHER_GSP_PAN, '1'),
            "Other GSP Pvt Ltd",
            "Bengaluru",
            560010,
            "9000000200",
            "other-gsp@sandbox.test",
        ),
    ]
}

/// `count` generated taxpayers, the same for the same `seed`.
pub fn generated(count: usize, seed: u64) -> Vec<SeedTaxpayer> {
    const STATES: &[(u8, &str, i64)] = &[
        (7, "New Delhi", 110001),
        (9, "Lucknow", 226001),
        (19, "Kolkata", 700001),
        (24, "Ahmedabad", 380001),
        (27, "Pune", 411001),
        (29, "Mysuru", 570001),
        (33, "Chennai", 600001),
        (36, "Hyderabad", 500001),
    ];
    const WORDS: &[&str] = &[
        "Shree", "Ganesh", "Lakshmi", "Sagar", "Om", "Apex", "Nova", "Vista", "Metro", "Royal",
    ];
    const KINDS: &[&str] = &[
        "Traders",
        "Industries",
        "Exports",
        "Textiles",
        "Steel",
        "Pharma",
        "Foods",
        "Logistics",
    ];
    let mut rng = StdRng::seed_from_u64(seed);
    let letter = |rng: &mut StdRng| (b'A' + rng.gen_range(0..26u8)) as char;
    (0..count)
        .map(|i| {
            let (state, location, pin) = STATES[rng.gen_range(0..STATES.len())];
            let pan = format!(
                "{}{}{}C{}{:04}{}",
                letter(&mut rng),
                letter(&mut rng),
                letter(&mut rng),
                letter(&mut rng),
                rng.gen_range(0..10_000),
                letter(&mut rng)
            );
            let name = format!(
                "{} {} Pvt Ltd",
                WORDS[rng.gen_range(0..WORDS.len())],
                KINDS[rng.gen_range(0..KINDS.len())]
            );
            SeedTaxpayer {
                gstin: gstin(state, &pan, '1'),
                legal_name: name,
                location: location.to_string(),
                pin: pin + rng.gen_range(0..50),
                mobile: format!("98{:08}", i),
                email: format!("{}@sandbox.test", pan.to_ascii_lowercase()),
            }
        })
        .collect()
}

/// Inserts the well-known and `count` generated taxpayers.
pub async fn seed(pool: &SqlitePool, count: usize, seed: u64) -> Result<(), SandboxError> {
    let mut tx = pool.begin().await?;
    for t in well_known().into_iter().chain(generated(count, seed)) {
        let pan = t.gstin[2..12].to_string();
        let state: i64 = t.gstin[..2].parse().unwrap_or(0);
        sqlx::query(
            "INSERT OR IGNORE INTO taxpayers (gstin, pan, legal_name, trade_name, address, location, pin, state_code, status, blocked, mobile, email, einvoice_enabled, registered_on) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, $7, 'ACT', 0, $8, $9, 1, '2019-07-01')",
        )
        .bind(&t.gstin)
        .bind(&pan)
        .bind(&t.legal_name)
        .bind(format!("{} Main Road", t.location))
        .bind(&t.location)
        .bind(t.pin)
        .bind(state)
        .bind(&t.mobile)
        .bind(&t.email)
        .execute(&mut *tx)
        .await?;
    }
    // Master data that public clients' tests assert against NIC's sandbox (Mittal-Analytics'
    // gst_irn: 29AAACP7879D1Z0 is TALLY SOLUTIONS PVT LTD, AddrBnm "AMR TECH PARK II B",
    // AddrLoc "HONGASANDRA", DtReg 2017-07-01).
    for (gstin, building, registered_on) in KNOWN_MASTER {
        sqlx::query("UPDATE taxpayers SET building = $1, registered_on = $2 WHERE gstin = $3")
            .bind(building)
            .bind(registered_on)
            .bind(gstin)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// NIC sandbox master values beyond the seed's defaults: GSTIN, building, registration date.
const KNOWN_MASTER: [(&str, &str, &str); 1] =
    [("29AAACP7879D1Z0", "AMR TECH PARK II B", "2017-07-01")];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_taxpayers_are_deterministic_and_valid() {
        let a = generated(50, 7);
        let b = generated(50, 7);
        assert_eq!(
            a.iter().map(|t| &t.gstin).collect::<Vec<_>>(),
            b.iter().map(|t| &t.gstin).collect::<Vec<_>>()
        );
        assert_ne!(a[0].gstin, generated(1, 8)[0].gstin);
        for t in &a {
            gst_core::Gstin::parse(&t.gstin, gst_core::Strictness::Production).unwrap();
        }
        for t in well_known() {
            gst_core::Gstin::parse(&t.gstin, gst_core::Strictness::Sandbox).unwrap();
        }
    }
}
