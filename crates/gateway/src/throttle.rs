//! Throttling of repeated failures (wrong passwords, bad tokens): after too many failures for
//! one key within a window, further attempts are refused until the window has passed.

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
    pub fn check(&self, key: &str, now_ms: i64) -> Option<u64> {
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

    /// Records a failure for the key.
    pub fn record_failure(&self, key: &str, now_ms: i64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() > 100_000 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttles_after_the_limit_until_the_window_passes() {
        let throttle = FailureThrottle::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert_eq!(throttle.check("a", 1_000), None);
            throttle.record_failure("a", 1_000);
        }
        assert_eq!(throttle.check("a", 1_000), Some(60));
        assert_eq!(throttle.check("b", 1_000), None);
        assert_eq!(throttle.check("a", 61_000), None);
        throttle.record_success("a");
        assert_eq!(throttle.check("a", 2_000), None);
    }
}
