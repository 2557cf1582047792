//! Reconnect pacing per broker address, as Kafka clients do it
//! (`reconnect.backoff.ms`, `reconnect.backoff.max.ms`): after a failed
//! connect the address is not tried again before a backoff that doubles per
//! consecutive failure up to the maximum, with ±20 % jitter so that many
//! clients of a restarted broker do not all come back in the same instant.
//! A successful connect resets it.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::time::Instant;

/// Kafka's `reconnect.backoff.ms` default.
pub const DEFAULT_RECONNECT_BACKOFF: Duration = Duration::from_millis(50);
/// Kafka's `reconnect.backoff.max.ms` default.
pub const DEFAULT_RECONNECT_BACKOFF_MAX: Duration = Duration::from_millis(1000);

/// The `attempt`-th wait (0-based) of a doubling backoff from `base` up to
/// `max`, jittered by ±20 %.
pub fn jittered(base: Duration, max: Duration, attempt: u32) -> Duration {
    let max = max.max(base);
    let plain = base.saturating_mul(1u32 << attempt.min(20)).min(max);
    // 0.8 ..= 1.2 of the plain value.
    let factor = 0.8 + 0.4 * fastrand::f64();
    plain.mul_f64(factor)
}

#[derive(Debug, Clone, Copy)]
struct Failing {
    /// Consecutive failed connects.
    failures: u32,
    /// Not tried again before this.
    retry_at: Instant,
}

/// Which addresses failed lately and when each may be tried again.
#[derive(Debug, Default)]
pub struct ReconnectBackoff {
    base: Duration,
    max: Duration,
    failing: HashMap<String, Failing>,
    /// Addresses connected to at least once: losing one of those is worth
    /// telling the user about, failing to reach a new one is the caller's
    /// error to report.
    reached: HashSet<String>,
}

impl ReconnectBackoff {
    pub fn new(base: Duration, max: Duration) -> ReconnectBackoff {
        ReconnectBackoff {
            base,
            max,
            failing: HashMap::new(),
            reached: HashSet::new(),
        }
    }

    /// How long to wait before `addr` may be tried (zero: now).
    pub fn wait(&self, addr: &str, now: Instant) -> Duration {
        self.failing.get(addr).map_or(Duration::ZERO, |f| {
            f.retry_at.saturating_duration_since(now)
        })
    }

    /// A connect to `addr` failed; returns the number of consecutive
    /// failures so far (1 for the first).
    pub fn failed(&mut self, addr: &str, now: Instant) -> u32 {
        let failures = self.failing.get(addr).map_or(0, |f| f.failures);
        let retry_at = now + jittered(self.base, self.max, failures);
        self.failing.insert(
            addr.to_string(),
            Failing {
                failures: failures + 1,
                retry_at,
            },
        );
        failures + 1
    }

    /// Whether a connect to `addr` ever succeeded.
    pub fn was_reached(&self, addr: &str) -> bool {
        self.reached.contains(addr)
    }

    /// A connect to `addr` succeeded; returns how many had failed before.
    pub fn succeeded(&mut self, addr: &str) -> u32 {
        if !self.reached.contains(addr) {
            self.reached.insert(addr.to_string());
        }
        self.failing.remove(addr).map_or(0, |f| f.failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_maximum_with_jitter() {
        let base = Duration::from_millis(50);
        let max = Duration::from_millis(1000);
        for (attempt, plain) in [(0, 50), (1, 100), (2, 200), (4, 800), (5, 1000), (30, 1000)] {
            let d = jittered(base, max, attempt).as_secs_f64() * 1000.0;
            let plain = plain as f64;
            assert!(
                d >= plain * 0.8 - 0.001 && d <= plain * 1.2 + 0.001,
                "attempt {attempt}: {d} ms"
            );
        }
    }

    #[test]
    fn an_address_waits_after_failures_and_is_reset_by_success() {
        let mut b = ReconnectBackoff::new(Duration::from_millis(50), Duration::from_millis(1000));
        let now = Instant::now();
        assert_eq!(b.wait("a:1", now), Duration::ZERO);
        assert_eq!(b.failed("a:1", now), 1);
        assert!(b.wait("a:1", now) >= Duration::from_millis(40));
        assert_eq!(b.failed("a:1", now), 2);
        assert!(b.wait("a:1", now) >= Duration::from_millis(80));
        assert_eq!(b.wait("b:1", now), Duration::ZERO);
        assert!(!b.was_reached("a:1"));
        assert_eq!(b.succeeded("a:1"), 2);
        assert!(b.was_reached("a:1"));
        assert_eq!(b.wait("a:1", now), Duration::ZERO);
    }
}
