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

    /// Records a failure of the IRP (no answer, 5xx, transient NIC error).
    pub fn failure(&self, now: Timestamp) {
        let now = now.millis();
        if let Ok(mut state) = self.state.lock() {
            state.failures += 1;
            if state.failures >= FAILURE_THRESHOLD {
                state.open_until = now + self.cooldown_ms;
                state.failures = 0;
                tracing::warn!(cooldown_ms = self.cooldown_ms, "IRP circuit breaker opened");
            }
        }
    }

    /// Records an answer from the IRP (success or a business error).
    pub fn success(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.failures = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_closes_after_the_cooldown() {
        let breaker = CircuitBreaker::new(30_000);
        for _ in 0..FAILURE_THRESHOLD - 1 {
            breaker.failure(Timestamp(1_000));
        }
        assert_eq!(breaker.open_for(Timestamp(1_000)), None);
        breaker.success();
        for _ in 0..FAILURE_THRESHOLD {
            breaker.failure(Timestamp(1_000));
        }
        assert_eq!(breaker.open_for(Timestamp(1_000)), Some(30));
        assert_eq!(breaker.open_for(Timestamp(31_000)), None);
    }
}
