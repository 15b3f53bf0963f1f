//! The sandbox's clock: wall time plus an offset that test controls can move, so tokens can
//! expire and the 24-hour cancel window can pass without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use time::{OffsetDateTime, UtcOffset};

/// India Standard Time, in which NIC writes every date.
pub const IST: UtcOffset = time::macros::offset!(+5:30);

/// A settable clock.
#[derive(Debug, Default)]
pub struct SandboxClock {
    offset_ms: AtomicI64,
}

impl SandboxClock {
    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        let wall = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
        i64::try_from(wall).unwrap_or(i64::MAX) + self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock forward (or back) by `ms`.
    pub fn advance(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// The current offset from wall time.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Now in IST.
    pub fn now_ist(&self) -> OffsetDateTime {
        ist(self.now_ms())
    }
}

/// Unix milliseconds as an IST date-time.
pub fn ist(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .to_offset(IST)
}

/// NIC's `yyyy-MM-dd HH:mm:ss` in IST.
pub fn nic_datetime(ms: i64) -> String {
    let t = ist(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses NIC's `yyyy-MM-dd HH:mm:ss` (IST) into Unix milliseconds.
pub fn parse_nic_datetime(text: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let naive = time::PrimitiveDateTime::parse(text, format).ok()?;
    let t = naive.assume_offset(IST);
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nic_datetimes_are_ist_and_round_trip() {
        assert_eq!(nic_datetime(0), "1970-01-01 05:30:00");
        assert_eq!(parse_nic_datetime("1970-01-01 05:30:00"), Some(0));
        let clock = SandboxClock::default();
        let before = clock.now_ms();
        clock.advance(25 * 3600 * 1000);
        assert!(clock.now_ms() - before >= 25 * 3600 * 1000);
    }
}
