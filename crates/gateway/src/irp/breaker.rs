//! A circuit breaker for the IRP: after a run of failures it opens and calls fail fast (the
//! API answers 503 with Retry-After) until a cool-down passes; then one call may try again.

use crate::clock::Timestamp;
use std::sync::Mutex;

/// Failures in a row that open the breaker.
pub const FAILURE_THRESHOLD: u32 = 5;

#[derive(Default)]
struct BreakerState {
    failures: u32,
    open_until: i64,
    /// Opened since the last answer: the IRP is reported unavailable until it answers.
    unavailable: bool,
}

/// The breaker.
pub struct CircuitBreaker {
    cooldown_ms: i64,
    state: Mutex<BreakerState>,
}

impl CircuitBreaker {
    /// A closed breaker that stays open for `cooldown_ms` once tripped.
    pub fn new(cooldown_ms: i64) -> Self {
        CircuitBreaker {
            cooldown_ms,
            state: Mutex::new(BreakerState::default()),
        }
    }

    /// `Some(seconds to wait)` while open.
    pub fn open_for(&self, now: Timestamp) -> Option<u64> {
        let now = now.millis();
        let state = self.state.lock().ok()?;
        (state.open_until > now).then(|| {
            u64::try_from((state.open_until - now + 999) / 1000)
                .unwrap_or(1)
                .max(1)
        })
    }

    /// Records a failure of the IRP (no answer, 5xx, transient NIC error); true when this
    /// made the IRP unavailable (the first opening since it last answered).
    pub fn failure(&self, now: Timestamp) -> bool {
        let now = now.millis();
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        state.failures += 1;
        if state.failures < FAILURE_THRESHOLD {
            return false;
        }
        state.open_until = now + self.cooldown_ms;
        state.failures = 0;
        tracing::warn!(cooldown_ms = self.cooldown_ms, "IRP circuit breaker opened");
        !std::mem::replace(&mut state.unavailable, true)
    }

    /// Records an answer from the IRP (success or a business error), which closes the breaker;
    /// true when the IRP was unavailable until now.
    pub fn success(&self) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        state.failures = 0;
        state.open_until = 0;
        std::mem::replace(&mut state.unavailable, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_closes_after_the_cooldown() {
        let breaker = CircuitBreaker::new(30_000);
        for _ in 0..FAILURE_THRESHOLD - 1 {
            assert!(!breaker.failure(Timestamp(1_000)));
        }
        assert_eq!(breaker.open_for(Timestamp(1_000)), None);
        assert!(!breaker.success(), "never unavailable yet");
        let opened: Vec<bool> = (0..FAILURE_THRESHOLD)
            .map(|_| breaker.failure(Timestamp(1_000)))
            .collect();
        assert_eq!(opened.iter().filter(|o| **o).count(), 1, "{opened:?}");
        assert_eq!(breaker.open_for(Timestamp(1_000)), Some(30));
        assert_eq!(breaker.open_for(Timestamp(31_000)), None);
        // Opening again before an answer is not a new outage; the first answer is a recovery.
        let again: Vec<bool> = (0..FAILURE_THRESHOLD)
            .map(|_| breaker.failure(Timestamp(31_000)))
            .collect();
        assert!(again.iter().all(|o| !o));
        assert!(breaker.success());
        assert_eq!(
            breaker.open_for(Timestamp(31_000)),
            None,
            "an answer closes it"
        );
        assert!(!breaker.success());
    }
}
