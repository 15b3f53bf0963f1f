//! Admission control. A bulkhead: past `max_in_flight` requests at once the gateway answers
//! 429 with Retry-After instead of queueing without bound. And per (account, GSTIN) limits on
//! calls that reach the IRP: a rate (GCRA, from `governor`), and a budget of IRP refusals,
//! because NIC blocks users with a high volume of erroneous or repeated hits
//! (`nic-irp-api.md` §11; no numeric limit is published). Limits are per account, so one
//! account's traffic never limits another's.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{Actor, FieldError, ServiceError};
use crate::clock::Timestamp;
use crate::config::AdmissionSettings;
use crate::ids::AccountId;
use crate::throttle::FailureThrottle;

/// The window of the refusal budget.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Keys the rate limiter keeps before it drops those back at a fresh state.
const MAX_RATE_KEYS: usize = 100_000;

/// The limits, shared by every request.
pub struct Admission {
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    per_gstin: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
    refusals: Option<FailureThrottle>,
}

fn key(account_id: AccountId, gstin: &str) -> String {
    format!("{account_id}|{}", gstin.to_ascii_uppercase())
}

/// Why a request was not admitted (for the metric's label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many requests in flight.
    Overloaded,
    /// Over the GSTIN's rate.
    GstinRate,
    /// Over the GSTIN's budget of IRP refusals.
    GstinRefusals,
}

impl Admission {
    /// The limits the settings give (0 turns a GSTIN limit off).
    pub fn new(settings: &AdmissionSettings) -> Self {
        let per_gstin = NonZeroU32::new(settings.gstin_calls_per_minute)
            .map(|rate| DefaultKeyedRateLimiter::hashmap(Quota::per_minute(rate)));
        let refusals = (settings.gstin_refusal_limit > 0)
            .then(|| FailureThrottle::new(settings.gstin_refusal_limit, REFUSAL_WINDOW));
        Admission {
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            max_in_flight: settings.max_in_flight,
            per_gstin,
            clock: DefaultClock::default(),
            refusals,
        }
    }

    /// A place among the requests in flight, or `None` when all are taken.
    pub fn enter(&self) -> Option<OwnedSemaphorePermit> {
        self.in_flight.clone().try_acquire_owned().ok()
    }

    /// The 429 for a full gateway.
    pub fn overloaded(&self) -> ServiceError {
        ServiceError::Throttled {
            error: FieldError::general(
                "overloaded",
                format!(
                    "the gateway is handling {} requests at once; retry in 1 s",
                    self.max_in_flight
                ),
            ),
            retry_after_secs: 1,
        }
    }

    /// Admits `calls` IRP-bound calls for the account and GSTIN, or says when to retry.
    pub fn admit(
        &self,
        actor: Actor,
        gstin: &str,
        calls: u32,
        now: Timestamp,
    ) -> Result<(), (Refusal, ServiceError)> {
        let key = key(actor.account_id, gstin);
        if let Some(retry_after_secs) = self.refusals.as_ref().and_then(|r| r.check(&key, now)) {
            return Err((
                Refusal::GstinRefusals,
                ServiceError::Throttled {
                    error: FieldError::new(
                        "gstin_error_budget",
                        format!("the IRP refused too many calls for this GSTIN from your account in the last 10 minutes (NIC blocks users with many erroneous hits); fix the documents, then retry in {retry_after_secs} s"),
                        "gstin",
                    ),
                    retry_after_secs,
                },
            ));
        }
        let Some(limiter) = &self.per_gstin else {
            return Ok(());
        };
        if limiter.len() > MAX_RATE_KEYS {
            limiter.retain_recent();
        }
        let calls = NonZeroU32::new(calls.max(1)).unwrap_or(NonZeroU32::MIN);
        let wait = match limiter.check_key_n(&key, calls) {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(not_until)) => not_until.wait_time_from(self.clock.now()),
            // More calls at once than a minute allows: never admitted as one batch.
            Err(_) => Duration::from_secs(60),
        };
        let retry_after_secs = wait.as_secs().saturating_add(1);
        Err((
            Refusal::GstinRate,
            ServiceError::Throttled {
                error: FieldError::new(
                    "gstin_rate_limited",
                    format!("too many IRP calls for this GSTIN from your account; retry in {retry_after_secs} s"),
                    "gstin",
                ),
                retry_after_secs,
            },
        ))
    }

    /// Counts a call the IRP refused for the account and GSTIN against its budget.
    pub fn irp_refused(&self, account_id: AccountId, gstin: &str, now: Timestamp) {
        if let Some(refusals) = &self.refusals {
            refusals.record_failure(&key(account_id, gstin), now);
        }
    }
}

impl Refusal {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Overloaded => "overloaded",
            Refusal::GstinRate => "gstin_rate",
            Refusal::GstinRefusals => "gstin_error_budget",
        }
    }
}
