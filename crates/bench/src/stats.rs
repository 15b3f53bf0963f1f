//! Latency and throughput figures from a run: percentiles from every recorded sample.

use std::collections::BTreeMap;
use std::time::Duration;

/// What a run measured.
#[derive(Debug, Default)]
pub struct RunStats {
    /// Latency of each successful request, in microseconds.
    pub latencies_us: Vec<u64>,
    /// Failures by kind (HTTP status or transport error).
    pub errors: BTreeMap<String, u64>,
    /// Wall time of the measured phase.
    pub elapsed: Duration,
}

impl RunStats {
    /// Adds another worker's samples.
    pub fn merge(&mut self, other: RunStats) {
        self.latencies_us.extend(other.latencies_us);
        for (kind, count) in other.errors {
            *self.errors.entry(kind).or_default() += count;
        }
    }

    /// The p-th percentile in milliseconds (nearest rank).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies_us.clone();
        sorted.sort_unstable();
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        let index = rank.clamp(1, sorted.len()) - 1;
        sorted[index] as f64 / 1000.0
    }

    /// Successful requests per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.latencies_us.len() as f64 / secs
        }
    }

    /// The figures as JSON.
    pub fn to_json(&self, scenario: &str, concurrency: usize, backend: &str) -> serde_json::Value {
        serde_json::json!({
            "scenario": scenario,
            "backend": backend,
            "concurrency": concurrency,
            "requests": self.latencies_us.len(),
            "elapsed_s": self.elapsed.as_secs_f64(),
            "throughput_rps": self.throughput(),
            "p50_ms": self.percentile_ms(50.0),
            "p90_ms": self.percentile_ms(90.0),
            "p99_ms": self.percentile_ms(99.0),
            "errors": self.errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let stats = RunStats {
            latencies_us: (1..=100).map(|i| i * 1000).collect(),
            elapsed: Duration::from_secs(2),
            ..Default::default()
        };
        assert_eq!(stats.percentile_ms(50.0), 50.0);
        assert_eq!(stats.percentile_ms(99.0), 99.0);
        assert_eq!(stats.percentile_ms(100.0), 100.0);
        assert_eq!(stats.throughput(), 50.0);
    }
}
