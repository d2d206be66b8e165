//! What to do after one attempt, as pure functions (Vector's `should_retry` style), the
//! bounds of a request's retries, and [`with_retries`], the one request loop. The Sigma
//! client and the OpenMetadata sink each plug their own attempt into it (the Sigma client its
//! token, its in-flight slot and its 401 replay; the sink nothing), as Vector's sinks plug a
//! `RetryLogic` into one policy, so both count attempts, wait and give up the same way.

use std::future::Future;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use tokio::time::Instant;

use super::backoff::{Backoff, BackoffConfig};
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
    /// The response body passed the size cap: the same request gets the same answer.
    TooLarge,
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
/// Never retried: 501 (retrying will not implement it), every other 4xx (the request
/// itself is wrong) and a body over the size cap (retrying will not make it smaller).
/// 401 is handled before this (the token is replaced and the request replayed), so here it
/// is final.
pub fn should_retry(outcome: AttemptOutcome, idempotent: bool) -> RetryDecision {
    match outcome {
        AttemptOutcome::Status(status) if status.is_success() => RetryDecision::Success,
        AttemptOutcome::Status(status) => match status.as_u16() {
            408 | 429 | 500 | 502 | 503 | 504 => RetryDecision::Retry,
            _ => RetryDecision::DontRetry,
        },
        AttemptOutcome::Connect => RetryDecision::Retry,
        AttemptOutcome::Tls | AttemptOutcome::TooLarge => RetryDecision::DontRetry,
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

/// What one attempt of [`with_retries`] is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// 1 for the first attempt.
    pub number: u32,
    /// How many earlier attempts of this request asked for a [`Step::Replay`].
    pub replays: u32,
}

/// How one attempt ended, as the caller's attempt judges it.
pub(crate) enum Step<T, E> {
    /// Finished, well or badly: no further attempt.
    Done(Result<T, E>),
    /// Worth retrying (see [`should_retry`]); `give_up` is what the request ends with when
    /// no retry fits (an error, or a retryable answer for the caller to interpret).
    Retry {
        retry_after: Option<Duration>,
        status: Option<u16>,
        request_id: Option<String>,
        error: Option<String>,
        give_up: Result<T, E>,
    },
    /// Try again at once, not counted as a retry (a 401 answered with a new token).
    Replay,
}

/// What a request spent, reported the same way by every caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spent {
    pub attempts: u32,
    pub retries: u32,
    pub elapsed: Duration,
    /// The request failed because no further retry fitted the budget.
    pub gave_up: bool,
}

impl Spent {
    /// How an error says what the request spent: ` after N attempts in 1.2s`, or nothing
    /// for a single attempt. The Sigma client's and the OpenMetadata sink's errors both
    /// use it.
    pub(crate) fn note(attempts: u32, elapsed: Duration) -> String {
        if attempts > 1 {
            format!(" after {attempts} attempts in {elapsed:.1?}")
        } else {
            String::new()
        }
    }
}

/// Runs `attempt` until it is done, or until a retry no longer fits `config` (after the
/// backoff wait, or the server's `Retry-After` when longer, capped). `service` names the
/// server in the retry log line.
pub(crate) async fn with_retries<T, E, F, Fut>(
    config: &RetryConfig,
    service: &'static str,
    method: &reqwest::Method,
    path: &str,
    mut attempt: F,
) -> (Result<T, E>, Spent)
where
    F: FnMut(Attempt) -> Fut,
    Fut: Future<Output = Step<T, E>>,
{
    let start = Instant::now();
    let mut backoff = Backoff::new(config.backoff);
    let mut spent = Spent {
        attempts: 0,
        retries: 0,
        elapsed: Duration::ZERO,
        gave_up: false,
    };
    let mut replays = 0;
    loop {
        spent.attempts += 1;
        let step = attempt(Attempt {
            number: spent.attempts,
            replays,
        })
        .await;
        let result = match step {
            Step::Done(result) => result,
            Step::Replay => {
                replays += 1;
                continue;
            }
            Step::Retry {
                retry_after,
                status,
                request_id,
                error,
                give_up,
            } => {
                // A 429 is the server's flow control, which the client's limit answers (each
                // attempt waits for a slot and its turn) and `Retry-After` when sent; growing
                // this request's backoff on top made one refused three times at random wait
                // seconds for nothing. Other failures back off more each time.
                let backoff_wait = if status == Some(429) {
                    backoff.first_wait()
                } else {
                    backoff.next_wait()
                };
                let wait = wait_before_retry(backoff_wait, retry_after, config.max_retry_after);
                if may_retry(config, spent.retries, start.elapsed(), wait) {
                    spent.retries += 1;
                    // Retries are routine: DEBUG, with their totals in the run summary.
                    tracing::debug!(
                        %method,
                        path,
                        attempt = spent.attempts,
                        wait_ms = wait.as_millis() as u64,
                        status,
                        error,
                        request_id = request_id.as_deref(),
                        "retrying {service} request"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                spent.gave_up = true;
                give_up
            }
        };
        spent.elapsed = start.elapsed();
        return (result, spent);
    }
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

    fn retryable(n: u32) -> Step<u32, String> {
        Step::Retry {
            retry_after: None,
            status: Some(503),
            request_id: None,
            error: None,
            give_up: Err(format!("gave up at attempt {n}")),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_loop_retries_within_the_budget_then_gives_up() {
        let config = RetryConfig {
            max_retries: 3,
            ..RetryConfig::default()
        };
        let method = reqwest::Method::GET;
        let (result, spent) = with_retries(&config, "test", &method, "/x", |a| async move {
            retryable(a.number)
        })
        .await;
        assert_eq!(result, Err("gave up at attempt 4".to_owned()));
        assert_eq!((spent.attempts, spent.retries, spent.gave_up), (4, 3, true));
        assert!(Spent::note(spent.attempts, spent.elapsed).starts_with(" after 4 attempts in "));
    }

    #[tokio::test(start_paused = true)]
    async fn a_replay_is_not_a_retry_and_success_ends_the_loop() {
        let config = RetryConfig {
            max_retries: 0,
            ..RetryConfig::default()
        };
        let method = reqwest::Method::GET;
        let (result, spent) = with_retries(&config, "test", &method, "/x", |a| async move {
            if a.replays > 0 {
                Step::Done(Ok::<_, String>(a.number))
            } else {
                Step::Replay
            }
        })
        .await;
        assert_eq!(result, Ok(2));
        assert_eq!(
            (spent.attempts, spent.retries, spent.gave_up),
            (2, 0, false)
        );
        assert_eq!(Spent::note(1, Duration::from_secs(1)), "");
    }
}
