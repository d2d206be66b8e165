//! Sigma listings as streams of pages or items.
//!
//! Two paging styles exist in Sigma's API: `limit` + `page` (the previous response's
//! `nextPage`), used by most v2 listings, and `pageSize` + `pageToken` (the previous
//! `nextPageToken`), used by newer ones. Both cursors are opaque strings: they are passed
//! back verbatim and never parsed. A listing ends only when the cursor is absent, null or
//! empty: an empty page with a cursor is not the end. A cursor seen before ends the stream
//! with an error rather than an endless loop. Legacy endpoints (`/v2/members`,
//! `/v2/workspaces` without `limit`) answer a bare JSON array, which is taken as the only
//! page.
//!
//! A page that fails (after the client's retries) ends the stream with that error, which
//! records the listing's path and how many pages and items came before it. Whoever needs
//! the whole listing (for example before marking unseen entities deleted) must treat a
//! stream that ended in an error as partial; [`collect_all`] does that bookkeeping.

use std::collections::HashSet;
use std::marker::PhantomData;

use futures::stream::{self, BoxStream, StreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::{ClientError, ErrorKind, ListingProgress, SigmaClient, decode};

/// The paging parameters a listing endpoint takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PageStyle {
    /// `limit` + `page` (response `nextPage`): most v2 listings.
    #[default]
    PageLimit,
    /// `pageSize` + `pageToken` (response `nextPageToken`).
    Cursor,
}

impl PageStyle {
    pub(crate) fn size_param(self) -> &'static str {
        match self {
            PageStyle::PageLimit => "limit",
            PageStyle::Cursor => "pageSize",
        }
    }
    fn cursor_param(self) -> &'static str {
        match self {
            PageStyle::PageLimit => "page",
            PageStyle::Cursor => "pageToken",
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub entries: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next: Option<String>,
    /// The listing's total size, when Sigma reports it.
    pub total: Option<u64>,
    /// 1-based position of this page in the listing.
    pub number: usize,
}

#[derive(Deserialize)]
struct PageBody<T> {
    entries: Vec<T>,
    #[serde(default, rename = "nextPage")]
    next_page: Option<serde_json::Value>,
    #[serde(default, rename = "nextPageToken")]
    next_page_token: Option<serde_json::Value>,
    #[serde(default)]
    total: Option<serde_json::Value>,
}

/// A cursor as the opaque string to send back. Numbers are kept in their JSON spelling
/// (never reinterpreted); null and "" mean there is no next page.
fn cursor_of(value: Option<serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

enum Cursor {
    Start,
    Next(String),
    Fail(ClientError),
    Done,
}

struct ListingState<T> {
    client: SigmaClient,
    path: String,
    query: Vec<(String, String)>,
    style: PageStyle,
    cursor: Cursor,
    seen: HashSet<String>,
    pages: usize,
    items: usize,
    _entries: PhantomData<fn() -> T>,
}

impl<T> ListingState<T> {
    fn progress(&self) -> ListingProgress {
        ListingProgress {
            pages: self.pages,
            items: self.items,
        }
    }
}

impl SigmaClient {
    /// The pages of a `limit`/`page` listing at `path` (see [`SigmaClient::get_json`] for
    /// paths). `query` is sent with every page; `limit` defaults to the connection's
    /// `pageSize`.
    pub fn pages<T>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
    ) -> BoxStream<'static, Result<Page<T>, ClientError>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.pages_with_style(path, query, PageStyle::PageLimit)
    }

    /// The pages of a listing in the given paging style.
    pub fn pages_with_style<T>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        style: PageStyle,
    ) -> BoxStream<'static, Result<Page<T>, ClientError>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        let state = ListingState::<T> {
            client: self.clone(),
            path: path.to_owned(),
            query,
            style,
            cursor: Cursor::Start,
            seen: HashSet::new(),
            pages: 0,
            items: 0,
            _entries: PhantomData,
        };
        stream::unfold(state, next_page).boxed()
    }

    /// The items of a `limit`/`page` listing, page after page.
    pub fn items<T>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
    ) -> BoxStream<'static, Result<T, ClientError>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.items_with_style(path, query, PageStyle::PageLimit)
    }

    /// The items of a listing in the given paging style.
    pub fn items_with_style<T>(
        &self,
        path: &str,
        query: Vec<(String, String)>,
        style: PageStyle,
    ) -> BoxStream<'static, Result<T, ClientError>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.pages_with_style(path, query, style)
            .flat_map(|page| {
                let items: Vec<Result<T, ClientError>> = match page {
                    Ok(page) => page.entries.into_iter().map(Ok).collect(),
                    Err(e) => vec![Err(e)],
                };
                stream::iter(items)
            })
            .boxed()
    }
}

async fn next_page<T>(
    mut s: ListingState<T>,
) -> Option<(Result<Page<T>, ClientError>, ListingState<T>)>
where
    T: DeserializeOwned + Send + 'static,
{
    let cursor = match std::mem::replace(&mut s.cursor, Cursor::Done) {
        Cursor::Done => return None,
        Cursor::Fail(error) => return Some((Err(error), s)),
        Cursor::Start => None,
        Cursor::Next(cursor) => Some(cursor),
    };
    let size = s.client.page_size().to_string();
    let size_param = s.style.size_param();
    let mut query: Vec<(&str, &str)> = s
        .query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if !query.iter().any(|(k, _)| *k == size_param) {
        query.push((size_param, &size));
    }
    if let Some(c) = &cursor {
        query.push((s.style.cursor_param(), c));
    }
    let result = match s.client.url(&s.path, query) {
        Ok(url) => s
            .client
            .get(&url)
            .await
            .and_then(|raw| parse_page::<T>(&raw.body, url.path())),
        Err(e) => Err(e),
    };
    match result {
        Err(e) => {
            let e = e.with_listing(s.progress());
            Some((Err(e), s))
        }
        Ok((entries, next, total)) => {
            s.pages += 1;
            s.items += entries.len();
            if let Some(next) = &next {
                s.cursor = if s.seen.insert(next.clone()) {
                    Cursor::Next(next.clone())
                } else {
                    let path = s
                        .client
                        .url(&s.path, [])
                        .map(|u| u.path().to_owned())
                        .unwrap_or_default();
                    Cursor::Fail(
                        ClientError::new(ErrorKind::RepeatedCursor, Method::GET, path)
                            .with_listing(s.progress()),
                    )
                };
            }
            let page = Page {
                entries,
                next,
                total,
                number: s.pages,
            };
            Some((Ok(page), s))
        }
    }
}

pub(crate) type ParsedPage<T> = (Vec<T>, Option<String>, Option<u64>);

pub(crate) fn parse_page<T: DeserializeOwned>(
    body: &[u8],
    path: &str,
) -> Result<ParsedPage<T>, ClientError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        // Legacy unpaged answer: the whole listing at once.
        let entries: Vec<T> = decode(body, &Method::GET, path)?;
        return Ok((entries, None, None));
    }
    let page: PageBody<T> = decode(body, &Method::GET, path)?;
    let next = cursor_of(page.next_page).or_else(|| cursor_of(page.next_page_token));
    let total = page.total.and_then(|t| t.as_u64());
    Ok((page.entries, next, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_opaque_and_empty_means_done() {
        use serde_json::json;
        assert_eq!(cursor_of(Some(json!("0001"))), Some("0001".to_owned()));
        assert_eq!(cursor_of(Some(json!(12))), Some("12".to_owned()));
        assert_eq!(cursor_of(Some(json!(""))), None);
        assert_eq!(cursor_of(Some(json!(null))), None);
        assert_eq!(cursor_of(None), None);
    }

    #[test]
    fn page_shapes() {
        let (e, n, t) =
            parse_page::<u32>(br#"{"entries":[1,2],"nextPage":"abc","total":5}"#, "/v2/x").unwrap();
        assert_eq!((e, n, t), (vec![1, 2], Some("abc".to_owned()), Some(5)));
        let (e, n, _) =
            parse_page::<u32>(br#"{"entries":[],"nextPageToken":"t2"}"#, "/v2/x").unwrap();
        assert_eq!((e, n), (vec![], Some("t2".to_owned())));
        let (e, n, _) = parse_page::<u32>(b" [1,2,3]", "/v2/members").unwrap();
        assert_eq!((e, n), (vec![1, 2, 3], None));
        let err = parse_page::<u32>(br#"{"entries":[1,"x"]}"#, "/v2/x").unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::Decode { json_path, .. } if json_path == "entries[1]"),
            "{err}"
        );
    }
}
