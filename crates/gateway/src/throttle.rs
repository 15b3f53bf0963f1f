//! Throttling of repeated failures (wrong passwords, bad tokens): after too many failures for
//! one key within a window, further attempts are refused until the window has passed; or, for
//! logins by email, growing delays that always end.

use crate::clock::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Counts failures per key (an email, a client address) in a fixed window.
pub struct FailureThrottle {
    limit: u32,
    window_ms: i64,
    entries: Mutex<HashMap<String, (i64, u32)>>,
}

impl FailureThrottle {
    /// Allows `limit` failures per `window`.
    pub fn new(limit: u32, window: Duration) -> Self {
        FailureThrottle {
            limit,
            window_ms: i64::try_from(window.as_millis()).unwrap_or(i64::MAX),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds to wait)` when the key is currently throttled.
    pub fn check(&self, key: &str, now: Timestamp) -> Option<u64> {
        let now_ms = now.millis();
        let entries = self.entries.lock().ok()?;
        let (start, count) = entries.get(key)?;
        let ends = start + self.window_ms;
        if *count >= self.limit && now_ms < ends {
            Some(
                u64::try_from((ends - now_ms + 999) / 1000)
                    .unwrap_or(1)
                    .max(1),
            )
        } else {
            None
        }
    }

    /// Whether the key has failures in its current window.
    pub fn has_failures(&self, key: &str, now: Timestamp) -> bool {
        let now_ms = now.millis();
        self.entries.lock().is_ok_and(|entries| {
            entries
                .get(key)
                .is_some_and(|(start, count)| *count > 0 && now_ms < start + self.window_ms)
        })
    }

    /// Records a failure for the key.
    pub fn record_failure(&self, key: &str, now: Timestamp) {
        let now_ms = now.millis();
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() > MAX_KEYS {
            let window = self.window_ms;
            entries.retain(|_, (start, _)| now_ms < *start + window);
        }
        let entry = entries.entry(key.to_string()).or_insert((now_ms, 0));
        if now_ms >= entry.0 + self.window_ms {
            *entry = (now_ms, 0);
        }
        entry.1 += 1;
    }

    /// Forgets the key's failures (after a success).
    pub fn record_success(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

/// Growing delays after repeated failures for one key (an email): the first `free` failures
/// cost nothing, then each one doubles the wait before the next attempt, from `base` up to
/// `max`. A delay always ends, so nobody can lock a user out for good.
pub struct Backoff {
    free: u32,
    base_ms: i64,
    max_ms: i64,
    entries: Mutex<HashMap<String, (u32, i64)>>,
}

/// Keys kept at most; beyond it, keys whose delay has passed are dropped.
const MAX_KEYS: usize = 100_000;

impl Backoff {
    /// `free` failures without delay, then `base`, doubling up to `max`.
    pub fn new(free: u32, base: Duration, max: Duration) -> Self {
        Backoff {
            free,
            base_ms: i64::try_from(base.as_millis()).unwrap_or(i64::MAX),
            max_ms: i64::try_from(max.as_millis()).unwrap_or(i64::MAX),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn delay_ms(&self, failures: u32) -> i64 {
        if failures < self.free {
            return 0;
        }
        let doublings = (failures - self.free).min(30);
        self.base_ms.saturating_mul(1 << doublings).min(self.max_ms)
    }

    /// `Some(seconds to wait)` while the key's delay runs.
    pub fn check(&self, key: &str, now: Timestamp) -> Option<u64> {
        let now_ms = now.millis();
        let entries = self.entries.lock().ok()?;
        let (failures, last) = entries.get(key)?;
        let ends = last + self.delay_ms(*failures);
        (now_ms < ends).then(|| {
            u64::try_from((ends - now_ms + 999) / 1000)
                .unwrap_or(1)
                .max(1)
        })
    }

    /// Records a failure.
    pub fn record_failure(&self, key: &str, now: Timestamp) {
        let now_ms = now.millis();
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= MAX_KEYS {
            let max = self.max_ms;
            entries.retain(|_, (_, last)| now_ms < last.saturating_add(max));
            if entries.len() >= MAX_KEYS {
                return;
            }
        }
        let entry = entries.entry(key.to_string()).or_insert((0, now_ms));
        if now_ms >= entry.1.saturating_add(self.max_ms.saturating_mul(2)) {
            *entry = (0, now_ms);
        }
        entry.0 = entry.0.saturating_add(1);
        entry.1 = now_ms;
    }

    /// Forgets the key's failures.
    pub fn record_success(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_after_the_free_failures_and_always_ends() {
        let backoff = Backoff::new(2, Duration::from_secs(1), Duration::from_secs(8));
        backoff.record_failure("a", Timestamp(0));
        backoff.record_failure("a", Timestamp(0));
        assert_eq!(backoff.check("a", Timestamp(0)), Some(1));
        backoff.record_failure("a", Timestamp(0));
        assert_eq!(backoff.check("a", Timestamp(0)), Some(2));
        for _ in 0..20 {
            backoff.record_failure("a", Timestamp(0));
        }
        assert_eq!(backoff.check("a", Timestamp(0)), Some(8), "capped");
        assert_eq!(
            backoff.check("a", Timestamp(8_000)),
            None,
            "a delay always ends"
        );
        assert_eq!(backoff.check("b", Timestamp(0)), None);
        backoff.record_success("a");
        assert_eq!(backoff.check("a", Timestamp(1)), None);
    }

    #[test]
    fn throttles_after_the_limit_until_the_window_passes() {
        let throttle = FailureThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(throttle.check("a", Timestamp(1_000)), None);
            throttle.record_failure("a", Timestamp(1_000));
        }
        assert_eq!(throttle.check("a", Timestamp(1_000)), Some(60));
        assert_eq!(throttle.check("b", Timestamp(1_000)), None);
        assert_eq!(throttle.check("a", Timestamp(61_000)), None);
        throttle.record_success("a");
        assert_eq!(throttle.check("a", Timestamp(2_000)), None);
    }
}
