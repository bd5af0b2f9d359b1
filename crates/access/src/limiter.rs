//! Sign-in throttling: each key (a user name, a client address) gets a few free failures, then
//! a lockout that doubles with every further failure, up to a cap; a success clears the key.
//! Memory is bounded: when the table is full, entries whose lockout has ended go first, then
//! the oldest.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Failures before the first lockout.
const FREE_FAILURES: u32 = 5;
/// The first lockout; each further failure doubles it.
const FIRST_LOCKOUT: Duration = Duration::from_secs(1);
/// The longest lockout.
const MAX_LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Keys remembered at most.
const MAX_KEYS: usize = 10_000;

/// Whether a sign-in attempt may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// Go ahead.
    Allowed,
    /// Refuse without checking the password; try again after this long.
    Locked {
        /// Time left in the lockout.
        retry_after: Duration,
    },
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    locked_until: Option<Instant>,
    last_failure: Instant,
}

/// Failure counts per key.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    records: HashMap<String, Record>,
}

impl LoginLimiter {
    /// Whether `key` may try at `now`.
    pub fn check(&self, key: &str, now: Instant) -> Throttle {
        match self.records.get(key).and_then(|record| record.locked_until) {
            Some(until) if until > now => Throttle::Locked { retry_after: until - now },
            _ => Throttle::Allowed,
        }
    }

    /// Counts a failure of `key` at `now`; returns the throttle that now applies.
    pub fn record_failure(&mut self, key: &str, now: Instant) -> Throttle {
        if !self.records.contains_key(key) && self.records.len() >= MAX_KEYS {
            self.evict(now);
        }
        let record =
            self.records.entry(key.to_owned()).or_insert(Record { failures: 0, locked_until: None, last_failure: now });
        record.failures = record.failures.saturating_add(1);
        record.last_failure = now;
        if record.failures > FREE_FAILURES {
            let doublings = (record.failures - FREE_FAILURES - 1).min(20);
            let lockout = FIRST_LOCKOUT.saturating_mul(1 << doublings).min(MAX_LOCKOUT);
            record.locked_until = Some(now + lockout);
        }
        self.check(key, now)
    }

    /// A successful sign-in: `key` starts afresh.
    pub fn record_success(&mut self, key: &str) {
        self.records.remove(key);
    }

    /// Keys remembered (for tests and metrics).
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn evict(&mut self, now: Instant) {
        self.records.retain(|_, record| record.locked_until.is_some_and(|until| until > now));
        if self.records.len() >= MAX_KEYS {
            let oldest = self.records.iter().min_by_key(|(_, record)| record.last_failure).map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.records.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_free_failures_then_doubling_lockouts_up_to_the_cap() {
        let mut limiter = LoginLimiter::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(limiter.record_failure("user:alice", start), Throttle::Allowed);
        }
        assert_eq!(limiter.record_failure("user:alice", start), Throttle::Locked { retry_after: FIRST_LOCKOUT });
        assert_eq!(limiter.check("user:alice", start + FIRST_LOCKOUT), Throttle::Allowed, "the lockout ends");
        let later = start + FIRST_LOCKOUT;
        assert_eq!(limiter.record_failure("user:alice", later), Throttle::Locked { retry_after: FIRST_LOCKOUT * 2 });
        for _ in 0..30 {
            limiter.record_failure("user:alice", later);
        }
        assert_eq!(limiter.check("user:alice", later), Throttle::Locked { retry_after: MAX_LOCKOUT });
        assert_eq!(limiter.check("user:bob", later), Throttle::Allowed, "keys are independent");
        limiter.record_success("user:alice");
        assert_eq!(limiter.check("user:alice", later), Throttle::Allowed);
    }

    #[test]
    fn the_table_never_grows_past_its_bound() {
        let mut limiter = LoginLimiter::default();
        let now = Instant::now();
        for _ in 0..=FREE_FAILURES {
            limiter.record_failure("user:alice", now);
        }
        for number in 0..MAX_KEYS + 50 {
            limiter.record_failure(&format!("ip:{number}"), now);
        }
        assert!(limiter.len() <= MAX_KEYS, "{} keys", limiter.len());
        assert!(
            matches!(limiter.check("user:alice", now), Throttle::Locked { .. }),
            "a flood of new keys does not lift a running lockout"
        );
    }
}
