//! Behaviour switches for tests and benchmarks: latency, rate limit, faults, page tokens,
//! malformed bodies, corrupted objects, 403s and hangs. All adjustable at runtime through the
//! handle.

use std::collections::{BTreeMap, BTreeSet};
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
    /// Fraction of API requests (0.0..=1.0) answered 429 whatever the load (a busy, shared
    /// server), without `Retry-After`; drawn from the seed and the request's sequence
    /// number, apart from the transient faults.
    pub throttle_rate: f64,
    /// Lifetime of access tokens from `/v2/auth/token`.
    pub token_lifetime: Duration,
    /// When set, an access token is accepted for this many API requests and then answers
    /// 401 as an expired one does: token expiry counted in requests, so a test of re-auth
    /// does not depend on how long the run takes.
    pub token_uses: Option<u64>,
    pub page_token_style: PageTokenStyle,
    /// Object ids whose routes answer 200 with a truncated JSON body.
    pub malformed_ids: BTreeSet<String>,
    /// Objects served corrupted, by id (`workbookId`, `elementId`, `memberId`, ...): the
    /// object is rewritten wherever it appears, in listings and on its own route, while the
    /// rest of the body stays well formed (except for [`Corruption::LoneSurrogate`]).
    pub corrupt: BTreeMap<String, Corruption>,
    /// Route templates (`/v2/workbooks/{workbookId}`), request paths, or object ids that answer
    /// 403 with Sigma's error body.
    pub forbidden: BTreeSet<String>,
    /// Same selectors: the request is accepted and never answered.
    pub hang: BTreeSet<String>,
    /// Every page of every listing that starts at or beyond this offset answers 500, on
    /// every attempt: a listing that breaks midway, after the pages before it succeeded.
    pub fail_listings_from_offset: Option<usize>,
    /// Route templates (`/v2/dataModels`, `/v2/workbooks/{workbookId}/queries`) or request
    /// paths this deployment does not have: they answer [`Self::absent_status`], on either
    /// surface, as the older surface's missing routes do.
    pub absent_routes: BTreeSet<String>,
    /// What a route this deployment does not have answers: 404 (the default), or the 400
    /// an older Sigma may answer instead on the newer calls. Applies to the older surface's
    /// missing routes and to [`Self::absent_routes`].
    pub absent_status: u16,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            rate_limit_per_second: None,
            fault_rate: 0.0,
            fault_seed: 0,
            throttle_rate: 0.0,
            token_lifetime: Duration::from_secs(3600),
            token_uses: None,
            page_token_style: PageTokenStyle::Opaque,
            malformed_ids: BTreeSet::new(),
            corrupt: BTreeMap::new(),
            forbidden: BTreeSet::new(),
            hang: BTreeSet::new(),
            fail_listings_from_offset: None,
            absent_routes: BTreeSet::new(),
            absent_status: 404,
        }
    }
}

/// How to corrupt one object; each names the JSON field (Sigma's camelCase name) it hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Corruption {
    /// The field is removed.
    MissingField(String),
    /// A string becomes the number 42; anything else becomes the string `"wrong type"`.
    WrongType(String),
    /// The field becomes a valid string of this many bytes (multi-byte text included).
    HugeString(String, usize),
    /// The field's text gains right-to-left and bidi-override marks, zero-width joiners, a
    /// NUL, a byte-order mark, combining accents and emoji: all valid JSON and valid UTF-8.
    OddUnicode(String),
    /// The field's text gains a lone UTF-16 surrogate escape (`\ud800`): JSON that no
    /// conforming parser turns into a string.
    LoneSurrogate(String),
}

impl Corruption {
    pub fn field(&self) -> &str {
        match self {
            Corruption::MissingField(f)
            | Corruption::WrongType(f)
            | Corruption::HugeString(f, _)
            | Corruption::OddUnicode(f)
            | Corruption::LoneSurrogate(f) => f,
        }
    }
}

impl std::str::FromStr for Corruption {
    type Err = String;

    /// `missing:FIELD`, `wrong-type:FIELD`, `huge:LEN:FIELD`, `odd-unicode:FIELD`,
    /// `lone-surrogate:FIELD`.
    fn from_str(text: &str) -> Result<Self, String> {
        let (how, rest) = text
            .split_once(':')
            .ok_or_else(|| format!("expected HOW:FIELD, got `{text}`"))?;
        let field = rest.to_owned();
        Ok(match how {
            "missing" => Corruption::MissingField(field),
            "wrong-type" => Corruption::WrongType(field),
            "odd-unicode" => Corruption::OddUnicode(field),
            "lone-surrogate" => Corruption::LoneSurrogate(field),
            "huge" => {
                let (len, field) = rest
                    .split_once(':')
                    .ok_or_else(|| format!("expected huge:LEN:FIELD, got `{text}`"))?;
                let len = len
                    .parse()
                    .map_err(|_| format!("`{len}` is not a length in bytes"))?;
                Corruption::HugeString(field.to_owned(), len)
            }
            other => return Err(format!("unknown corruption `{other}`")),
        })
    }
}

/// The text [`Corruption::OddUnicode`] appends: RLM, RLO … PDF, ZWJ family emoji, ZWSP,
/// NUL, BOM, a combining acute, a flag, and text outside the BMP.
pub const ODD_UNICODE: &str = "\u{200F}\u{202E}desrever\u{202C} \u{1F469}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200B}\u{0}\u{FEFF}e\u{301} \u{1F1EF}\u{1F1F5} \u{10348}";

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

    /// Whether the `sequence`th API request is answered 429 by [`Self::throttle_rate`].
    pub fn throttles(&self, sequence: u64) -> bool {
        if self.throttle_rate <= 0.0 {
            return false;
        }
        let draw = mix(self.fault_seed, 0x7A11, sequence);
        ((draw >> 11) as f64 / (1u64 << 53) as f64) < self.throttle_rate
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
