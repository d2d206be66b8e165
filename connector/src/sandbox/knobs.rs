//! Behaviour switches for tests and benchmarks: latency, rate limit, faults, page tokens,
//! malformed bodies, 403s and hangs. All adjustable at runtime through the handle.

use std::collections::BTreeSet;
use std::time::Duration;

use super::generate::mix;

/// How `nextPage` tokens look. Clients must treat both as opaque strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PageTokenStyle {
    /// Base64url text that does not parse as a number (Sigma's usual shape).
    #[default]
    Opaque,
    /// Decimal offsets such as `"50"`: catches clients that cast the token to an int and
    /// back (OpenMetadata did), since any mangling changes the string.
    Numeric,
}

/// Runtime knobs. `Default` is a well-behaved Sigma.
#[derive(Debug, Clone, PartialEq)]
pub struct Knobs {
    /// Added before every answer.
    pub latency: Duration,
    /// Requests per second the server accepts before answering 429 with `Retry-After`.
    pub rate_limit_per_second: Option<u32>,
    /// Fraction of API requests (0.0..=1.0) that fail transiently: half answer 503, half drop
    /// the connection without an answer. Which requests fail is a function of the seed and
    /// the request's sequence number, so a sequential run is reproducible.
    pub fault_rate: f64,
    pub fault_seed: u64,
    /// Lifetime of access tokens from `/v2/auth/token`.
    pub token_lifetime: Duration,
    pub page_token_style: PageTokenStyle,
    /// Object ids whose routes answer 200 with a truncated JSON body.
    pub malformed_ids: BTreeSet<String>,
    /// Route templates (`/v2/workbooks/{workbookId}`), request paths, or object ids that answer
    /// 403 with Sigma's error body.
    pub forbidden: BTreeSet<String>,
    /// Same selectors: the request is accepted and never answered.
    pub hang: BTreeSet<String>,
    /// Every page of every listing that starts at or beyond this offset answers 500, on
    /// every attempt: a listing that breaks midway, after the pages before it succeeded.
    pub fail_listings_from_offset: Option<usize>,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            rate_limit_per_second: None,
            fault_rate: 0.0,
            fault_seed: 0,
            token_lifetime: Duration::from_secs(3600),
            page_token_style: PageTokenStyle::Opaque,
            malformed_ids: BTreeSet::new(),
            forbidden: BTreeSet::new(),
            hang: BTreeSet::new(),
            fail_listings_from_offset: None,
        }
    }
}

/// What fault injection decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    ServiceUnavailable,
    DropConnection,
}

impl Knobs {
    /// The fault for the `sequence`th API request. Pure, so tests can predict it.
    pub fn fault_for(&self, sequence: u64) -> Fault {
        if self.fault_rate <= 0.0 {
            return Fault::None;
        }
        let draw = mix(self.fault_seed, 0xFA17, sequence);
        let unit = (draw >> 11) as f64 / (1u64 << 53) as f64;
        if unit >= self.fault_rate {
            Fault::None
        } else if draw & 1 == 0 {
            Fault::ServiceUnavailable
        } else {
            Fault::DropConnection
        }
    }

    /// Whether a selector set names this request: by route template, exact path, or any path
    /// segment (an object id).
    pub fn selects(selectors: &BTreeSet<String>, template: &str, path: &str) -> bool {
        !selectors.is_empty()
            && (selectors.contains(template)
                || selectors.contains(path)
                || path.split('/').any(|segment| selectors.contains(segment)))
    }
}
