//! Being a good client: a bound on requests in flight per registry, waiting out 429 windows
//! (`Retry-After`) for every request to that registry, backoff on 5xx and transport failures,
//! a circuit breaker after repeated failures, and the `ratelimit-*` headers Docker Hub sends.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use reqwest::Response;
use tokio::sync::{Semaphore, SemaphorePermit};

/// Tuning of the politeness rules.
#[derive(Debug, Clone)]
pub struct Politeness {
    /// Requests in flight at once to this registry.
    pub max_in_flight: usize,
    /// Retries after a 429, a 5xx or a transport failure (GET and HEAD only for the last two).
    pub max_retries: u32,
    /// First backoff delay; doubles per retry.
    pub retry_base_delay: Duration,
    /// Consecutive failures that open the circuit.
    pub breaker_threshold: u32,
    /// How long an open circuit refuses requests.
    pub breaker_cooldown: Duration,
}

impl Default for Politeness {
    fn default() -> Self {
        Politeness {
            max_in_flight: 4,
            max_retries: 2,
            retry_base_delay: Duration::from_millis(500),
            breaker_threshold: 5,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

/// The rate-limit budget a registry last announced (`ratelimit-limit` / `ratelimit-remaining`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimitState {
    /// Requests allowed per window, when announced.
    pub limit: Option<u64>,
    /// Requests left in the window, when announced.
    pub remaining: Option<u64>,
    /// Seconds until requests may resume after a 429, when one is in force.
    pub blocked_for_secs: Option<u64>,
}

#[derive(Debug, Default)]
struct State {
    blocked_until: Option<Instant>,
    consecutive_failures: u32,
    open_until: Option<Instant>,
    limit: Option<u64>,
    remaining: Option<u64>,
    last_failure: Option<String>,
}

/// The shared politeness state of one client.
#[derive(Debug)]
pub(crate) struct Governor {
    rules: Politeness,
    permits: Semaphore,
    state: Mutex<State>,
}

fn leading_number(value: &str) -> Option<u64> {
    value.split(';').next()?.trim().parse().ok()
}

impl Governor {
    pub(crate) fn new(rules: Politeness) -> Governor {
        let permits = Semaphore::new(rules.max_in_flight.max(1));
        Governor { rules, permits, state: Mutex::new(State::default()) }
    }

    pub(crate) fn rules(&self) -> &Politeness {
        &self.rules
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) async fn permit(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.acquire().await.ok()
    }

    /// The remaining cooldown and the last failure when the circuit is open.
    pub(crate) fn open_for(&self) -> Option<(Duration, String)> {
        let state = self.state();
        let left = state
            .open_until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .filter(|left| !left.is_zero())?;
        Some((left, state.last_failure.clone().unwrap_or_default()))
    }

    /// Waits until a 429 window announced by the registry is over.
    pub(crate) async fn wait_for_window(&self) {
        let until = self.state().blocked_until;
        if let Some(until) = until.filter(|until| *until > Instant::now()) {
            tokio::time::sleep_until(until.into()).await;
        }
    }

    pub(crate) fn block_for(&self, wait: Duration) {
        let mut state = self.state();
        let until = Instant::now() + wait;
        if state.blocked_until.is_none_or(|current| current < until) {
            state.blocked_until = Some(until);
        }
    }

    pub(crate) fn succeeded(&self, response: &Response) {
        let mut state = self.state();
        state.consecutive_failures = 0;
        state.open_until = None;
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).and_then(leading_number);
        if let Some(limit) = header("ratelimit-limit") {
            state.limit = Some(limit);
        }
        if let Some(remaining) = header("ratelimit-remaining") {
            state.remaining = Some(remaining);
        }
    }

    pub(crate) fn failed(&self, cause: String) {
        let mut state = self.state();
        state.last_failure = Some(cause);
        state.consecutive_failures += 1;
        if state.consecutive_failures >= self.rules.breaker_threshold {
            state.open_until = Some(Instant::now() + self.rules.breaker_cooldown);
        }
    }

    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        self.rules.retry_base_delay.saturating_mul(2u32.saturating_pow(attempt)).min(Duration::from_secs(30))
    }

    /// How long to wait after a 429: `Retry-After` when given, else the backoff.
    pub(crate) fn wait_after_429(&self, response: &Response, attempt: u32) -> Duration {
        response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| crate::parse::retry_after(value, SystemTime::now()))
            .unwrap_or_else(|| self.backoff(attempt))
    }

    pub(crate) fn snapshot(&self) -> RateLimitState {
        let state = self.state();
        let blocked_for_secs = state
            .blocked_until
            .and_then(|until| until.checked_duration_since(Instant::now()))
            .map(|left| left.as_secs());
        RateLimitState {
            limit: state.limit,
            remaining: state.remaining,
            blocked_for_secs: blocked_for_secs.filter(|secs| *secs > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circuit_opens_after_the_threshold_and_closes_on_success() {
        let governor = Governor::new(Politeness { breaker_threshold: 3, ..Politeness::default() });
        governor.failed("first".into());
        governor.failed("second".into());
        assert!(governor.open_for().is_none());
        governor.failed("third".into());
        assert_eq!(governor.open_for().map(|(_, cause)| cause), Some("third".to_string()));
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let governor = Governor::new(Politeness::default());
        assert_eq!(governor.backoff(0), Duration::from_millis(500));
        assert_eq!(governor.backoff(2), Duration::from_secs(2));
        assert_eq!(governor.backoff(30), Duration::from_secs(30));
    }

    #[test]
    fn rate_limit_headers_read_their_leading_number() {
        assert_eq!(leading_number("100;w=21600"), Some(100));
        assert_eq!(leading_number(" 7 "), Some(7));
        assert_eq!(leading_number("lots"), None);
    }
}
