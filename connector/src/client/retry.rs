//! What to do after one attempt, as pure functions (Vector's `should_retry` style), and the
//! bounds of a request's retries. The request loop in `mod.rs` only wires these together.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use super::backoff::BackoffConfig;
use crate::config::SigmaConnection;

/// Longest wait a server's `Retry-After` can impose on one retry. A misbehaving proxy that
/// answers `Retry-After: 86400` must not park a nightly run for a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);

/// How persistently one request is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// Total time one request may spend, attempts and waits included, before no further
    /// retry is started.
    pub retry_timeout: Duration,
    /// Backoff between retries.
    pub backoff: BackoffConfig,
    /// Cap on a `Retry-After` wait.
    pub max_retry_after: Duration,
}

impl RetryConfig {
    /// The retry settings of a connection (`maxRetries`, `retryTimeout`).
    pub fn from_connection(conn: &SigmaConnection) -> Self {
        Self {
            max_retries: conn.max_retries,
            retry_timeout: Duration::from_secs(conn.retry_timeout),
            backoff: BackoffConfig::default(),
            max_retry_after: MAX_RETRY_AFTER,
        }
    }
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_retries: 8,
            retry_timeout: Duration::from_secs(300),
            backoff: BackoffConfig::default(),
            max_retry_after: MAX_RETRY_AFTER,
        }
    }
}

/// What one attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The server answered with this status.
    Status(StatusCode),
    /// No connection was made (DNS, refused, TLS handshake): the request never reached
    /// the server.
    Connect,
    /// TLS failed (untrusted certificate, handshake): retrying will not fix it.
    Tls,
    /// The request or the response body timed out.
    Timeout,
    /// The connection broke while the request or the response was in transit.
    Transport,
}

/// The verdict on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    Success,
    Retry,
    DontRetry,
}

/// Whether an attempt succeeded, may be retried, or failed for good.
///
/// Retried: 408, 429, 500, 502, 503, 504 and failures to connect; timeouts and broken
/// connections only for idempotent requests (the server may have acted on the first try).
/// Never retried: 501 (retrying will not implement it) and every other 4xx (the request
/// itself is wrong). 401 is handled before this (the token is replaced and the request
/// replayed once), so here it is final.
pub fn should_retry(outcome: AttemptOutcome, idempotent: bool) -> RetryDecision {
    match outcome {
        AttemptOutcome::Status(status) if status.is_success() => RetryDecision::Success,
        AttemptOutcome::Status(status) => match status.as_u16() {
            408 | 429 | 500 | 502 | 503 | 504 => RetryDecision::Retry,
            _ => RetryDecision::DontRetry,
        },
        AttemptOutcome::Connect => RetryDecision::Retry,
        AttemptOutcome::Tls => RetryDecision::DontRetry,
        AttemptOutcome::Timeout | AttemptOutcome::Transport if idempotent => RetryDecision::Retry,
        AttemptOutcome::Timeout | AttemptOutcome::Transport => RetryDecision::DontRetry,
    }
}

/// Parses a `Retry-After` header: delta seconds or an HTTP date (RFC 9110 §10.2.3).
/// A date in the past means "now" (zero). Unparseable values are ignored.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    // Some servers send fractional seconds; accept them rather than ignore the hint.
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Some(Duration::from_secs_f64(seconds.min(u32::MAX as f64)));
        }
        return None;
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait before the next retry: the backoff, but at least what the server asked for
/// (capped at `max_retry_after`).
pub fn wait_before_retry(
    backoff: Duration,
    retry_after: Option<Duration>,
    max_retry_after: Duration,
) -> Duration {
    match retry_after {
        Some(asked) => backoff.max(asked.min(max_retry_after)),
        None => backoff,
    }
}

/// Whether another retry fits: fewer than `max_retries` retries done, and the wait would
/// not carry the request past `retry_timeout`.
pub fn may_retry(
    config: &RetryConfig,
    retries_done: u32,
    elapsed: Duration,
    wait: Duration,
) -> bool {
    retries_done < config.max_retries && elapsed.saturating_add(wait) <= config.retry_timeout
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> AttemptOutcome {
        AttemptOutcome::Status(StatusCode::from_u16(code).unwrap())
    }

    #[test]
    fn transient_statuses_are_retried() {
        for code in [408, 429, 500, 502, 503, 504] {
            assert_eq!(
                should_retry(status(code), true),
                RetryDecision::Retry,
                "{code}"
            );
            assert_eq!(
                should_retry(status(code), false),
                RetryDecision::Retry,
                "{code}"
            );
        }
    }

    #[test]
    fn client_errors_and_501_are_final() {
        for code in [400, 401, 403, 404, 405, 409, 422, 501, 505, 301, 302, 307] {
            assert_eq!(
                should_retry(status(code), true),
                RetryDecision::DontRetry,
                "{code}"
            );
        }
    }

    #[test]
    fn success_is_success() {
        for code in [200, 201, 204] {
            assert_eq!(should_retry(status(code), true), RetryDecision::Success);
        }
    }

    #[test]
    fn timeouts_are_retried_only_when_idempotent() {
        assert_eq!(
            should_retry(AttemptOutcome::Timeout, true),
            RetryDecision::Retry
        );
        assert_eq!(
            should_retry(AttemptOutcome::Timeout, false),
            RetryDecision::DontRetry
        );
        assert_eq!(
            should_retry(AttemptOutcome::Transport, false),
            RetryDecision::DontRetry
        );
        assert_eq!(
            should_retry(AttemptOutcome::Connect, false),
            RetryDecision::Retry
        );
    }

    #[test]
    fn retry_after_in_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retry_after_as_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        // A date already past means: retry now.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn retry_after_is_a_capped_minimum() {
        let cap = Duration::from_secs(120);
        let b = Duration::from_millis(300);
        assert_eq!(wait_before_retry(b, None, cap), b);
        assert_eq!(
            wait_before_retry(b, Some(Duration::from_secs(5)), cap),
            Duration::from_secs(5)
        );
        assert_eq!(wait_before_retry(b, Some(Duration::ZERO), cap), b);
        assert_eq!(
            wait_before_retry(b, Some(Duration::from_secs(86_400)), cap),
            cap
        );
    }

    #[test]
    fn retries_are_bounded_by_count_and_time() {
        let c = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(10),
            ..RetryConfig::default()
        };
        let s = Duration::from_secs(1);
        assert!(may_retry(&c, 0, Duration::ZERO, s));
        assert!(!may_retry(&c, 3, Duration::ZERO, s));
        assert!(may_retry(&c, 2, Duration::from_secs(9), s));
        assert!(!may_retry(
            &c,
            2,
            Duration::from_secs(9),
            Duration::from_millis(1001)
        ));
        // `elapsed + wait` overflowed (a panic) for a wait near Duration::MAX.
        assert!(!may_retry(&c, 0, Duration::from_secs(1), Duration::MAX));
    }
}
