//! Sigma's two paging idioms: `limit`/`page` → `nextPage` (null on the last page) on most
//! listings, `pageSize`/`pageToken` → `nextPageToken` (absent on the last page) on data model
//! sources and report sub-resources. Both page by offset, so a page costs the same anywhere.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Serialize;
use serde_json::json;

use super::error::ApiError;
use super::knobs::PageTokenStyle;
use super::state::AppState;

/// Query parameters, parsed by hand so every bad value becomes a 400 in Sigma's shape.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<String>) -> Self {
        Self(
            url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name || k == &format!("{name}[]"))
            .map(|(_, v)| v.as_str())
    }
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::bad_request(format!(
                "{name} must be true or false"
            ))),
        }
    }
    pub fn has_paging(&self) -> bool {
        self.get("limit").is_some() || self.get("page").is_some()
    }
}

pub const DEFAULT_PAGE_LIMIT: usize = 50;
pub const MAX_PAGE_LIMIT: usize = 1000;
const OPAQUE_TOKEN_PREFIX: &str = "sbx1:";

struct PageRequest {
    offset: usize,
    limit: usize,
}

fn page_request(params: &Params) -> Result<PageRequest, ApiError> {
    let limit = match params.get("limit") {
        None => DEFAULT_PAGE_LIMIT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit must be an integer between 1 and {MAX_PAGE_LIMIT}"
                )));
            }
        },
    };
    let offset = match params.get("page") {
        None | Some("") => 0,
        Some(token) => {
            decode_page_token(token).ok_or_else(|| ApiError::bad_request("Invalid page token"))?
        }
    };
    Ok(PageRequest { offset, limit })
}

fn decode_page_token(token: &str) -> Option<usize> {
    if let Ok(offset) = token.parse::<usize>() {
        return Some(offset);
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix(OPAQUE_TOKEN_PREFIX)?
        .parse()
        .ok()
}

fn encode_page_token(offset: usize, style: PageTokenStyle) -> String {
    match style {
        PageTokenStyle::Numeric => offset.to_string(),
        PageTokenStyle::Opaque => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{OPAQUE_TOKEN_PREFIX}{offset}")),
    }
}

/// The positions one page covers: the page's items are built from these alone, so a page
/// costs the same at any offset of any listing.
fn page_positions(offset: usize, limit: usize, total: usize) -> std::ops::Range<usize> {
    let end = offset.saturating_add(limit).min(total);
    offset.min(end)..end
}

impl AppState {
    /// `{entries, nextPage, total}` for positions `offset..offset+limit` of `total` items.
    pub fn page<T: Serialize>(
        &self,
        params: &Params,
        total: usize,
        item: impl Fn(usize) -> Option<T>,
    ) -> Result<Response, ApiError> {
        let request = page_request(params)?;
        self.check_listing_offset(request.offset)?;
        let positions = page_positions(request.offset, request.limit, total);
        let end = positions.end;
        let entries: Vec<T> = positions.filter_map(item).collect();
        let next_page =
            (end < total).then(|| encode_page_token(end, self.knobs().page_token_style));
        Ok(
            Json(json!({"entries": entries, "nextPage": next_page, "total": total}))
                .into_response(),
        )
    }
}

pub(crate) fn page_slice<T: Serialize>(
    state: &AppState,
    params: &Params,
    items: &[T],
) -> Result<Response, ApiError> {
    state.page(params, items.len(), |i| items.get(i))
}

/// `pageSize` cap of data model `/sources` (report sub-resources allow [`MAX_PAGE_LIMIT`]).
pub const MAX_SOURCES_PAGE_SIZE: usize = 500;

impl AppState {
    /// `{entries, nextPageToken}` for the `pageSize`/`pageToken` idiom: `nextPageToken` is
    /// left out on the last page, as Sigma does.
    pub fn token_page<T: Serialize>(
        &self,
        params: &Params,
        max_page_size: usize,
        total: usize,
        item: impl Fn(usize) -> Option<T>,
    ) -> Result<Response, ApiError> {
        let size = match params.get("pageSize") {
            None => DEFAULT_PAGE_LIMIT,
            Some(raw) => match raw.parse::<usize>() {
                Ok(n) if (1..=max_page_size).contains(&n) => n,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "pageSize must be an integer between 1 and {max_page_size}"
                    )));
                }
            },
        };
        let offset = match params.get("pageToken") {
            None | Some("") => 0,
            Some(token) => decode_page_token(token)
                .ok_or_else(|| ApiError::bad_request("Invalid pageToken"))?,
        };
        self.check_listing_offset(offset)?;
        let positions = page_positions(offset, size, total);
        let end = positions.end;
        let entries: Vec<T> = positions.filter_map(item).collect();
        let mut body = json!({ "entries": entries });
        if end < total {
            body["nextPageToken"] = json!(encode_page_token(end, self.knobs().page_token_style));
        }
        Ok(Json(body).into_response())
    }

    /// The `fail_listings_from_offset` knob, for both paging idioms.
    fn check_listing_offset(&self, offset: usize) -> Result<(), ApiError> {
        if self
            .knobs()
            .fail_listings_from_offset
            .is_some_and(|from| offset >= from && offset > 0)
        {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "listing page unavailable (sandbox knob fail_listings_from_offset)",
            ));
        }
        Ok(())
    }
}

/// [`AppState::token_page`] over a slice.
pub(crate) fn token_page_slice<T: Serialize>(
    state: &AppState,
    params: &Params,
    max_page_size: usize,
    items: &[T],
) -> Result<Response, ApiError> {
    state.token_page(params, max_page_size, items.len(), |i| items.get(i))
}

#[cfg(test)]
mod tests {
    use super::page_positions;

    #[test]
    fn a_page_covers_its_own_positions_only_at_any_offset() {
        assert_eq!(page_positions(0, 1000, 100_000), 0..1000);
        assert_eq!(page_positions(99_000, 1000, 100_000), 99_000..100_000);
        assert_eq!(page_positions(99_500, 1000, 100_000), 99_500..100_000);
        assert_eq!(page_positions(200_000, 1000, 100_000).len(), 0);
        assert_eq!(page_positions(usize::MAX, 1000, 10).len(), 0);
    }
}
