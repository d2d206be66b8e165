//! Typed Sigma endpoint calls on top of the authenticated client. Listings decode each
//! entry on its own, so one malformed object is reported (with its id and the field at
//! fault) while every other object still flows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::stream::{self, BoxStream, StreamExt};
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::client::{ClientError, SigmaClient};

use super::model::{
    Connection, ConnectionPath, DataModel, DataModelColumn, DataModelElement, Dataset,
    DatasetSource, ElementColumn, ElementLineage, ElementQuery, LineageEntry, Member, Report,
    Workbook, WorkbookElement, WorkbookPage, Workspace,
};

pub use super::model::DocumentKind;
pub use super::routes::Route;

/// An entry of a listing that arrived but could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {id}: field `{field}`: {message}")]
pub struct DecodeError {
    pub kind: &'static str,
    /// The object's id when the payload had one, else its position in the listing.
    pub id: String,
    /// JSON path of the offending field (`.` for the object itself).
    pub field: String,
    pub message: String,
}

/// One item of a listing: an object, an object that failed to decode, or the error that
/// ended the listing early (after which nothing follows).
#[derive(Debug)]
pub enum Listed<T> {
    Item(T),
    Malformed(DecodeError),
    Failed(ClientError),
}

/// Decodes one listing entry from its raw JSON text. A listing page is split into raw
/// entries first, so text that no `Value` can hold (a lone UTF-16 surrogate escape such as
/// `"\ud800"`) fails only the entry that carries it, not its whole page.
pub fn decode_raw<T: DeserializeOwned>(
    kind: &'static str,
    id_field: &str,
    position: usize,
    raw: &str,
) -> Result<T, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // Only a failed entry needs its id read separately: a second pass over its text.
        let id = probe_id(raw, id_field).unwrap_or_else(|| format!("#{position}"));
        decode_error(kind, id, &e)
    })
}

/// Longest message kept from serde: its messages quote the offending value, which may be
/// a megabyte of text.
const MESSAGE_MAX_CHARS: usize = 200;

fn decode_error<E: std::fmt::Display>(
    kind: &'static str,
    id: String,
    e: &serde_path_to_error::Error<E>,
) -> DecodeError {
    let path = e.path().to_string();
    let inner = e.inner().to_string();
    // serde names a missing field only in its message (`missing field `name``), with the
    // path at the object that lacks it; name the field itself.
    let field = match missing_field(&inner) {
        Some(name) if path == "." => name.to_owned(),
        Some(name) => format!("{path}.{name}"),
        None => path,
    };
    DecodeError {
        kind,
        id: truncate_chars(&id, MESSAGE_MAX_CHARS),
        field: truncate_chars(&field, MESSAGE_MAX_CHARS),
        message: truncate_chars(&inner, MESSAGE_MAX_CHARS),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")?
        .split('`')
        .next()
        .filter(|name| !name.is_empty())
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The entry's id, read leniently: every other value is skipped unparsed (serde's
/// `IgnoredAny` accepts escapes a `String` would reject), so a bad field elsewhere in the
/// entry still leaves its id to report.
fn probe_id(raw: &str, id_field: &str) -> Option<String> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

    struct IdProbe<'a>(&'a str);
    impl<'de> Visitor<'de> for IdProbe<'_> {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut id = None;
            while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                if id.is_none() && key == self.0 {
                    // Not a string (or not decodable): no id from it.
                    id = map.next_value::<Value>().ok().and_then(|v| match v {
                        Value::String(s) => Some(s),
                        _ => None,
                    });
                    if id.is_none() {
                        return Ok(None);
                    }
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(id)
        }
    }
    impl<'de> DeserializeSeed<'de> for IdProbe<'_> {
        type Value = Option<String>;
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_map(self)
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw);
    IdProbe(id_field).deserialize(&mut de).ok().flatten()
}

/// The first page of a listing, asked for with a small page size and never followed.
#[derive(Debug)]
pub struct FirstPage<T> {
    /// Each entry decoded on its own: one malformed entry does not hide the others.
    pub entries: Vec<Result<T, DecodeError>>,
    /// Sigma's count of the whole listing, when it gives one.
    pub total: Option<u64>,
}

#[derive(Clone)]
pub struct SigmaApi {
    client: SigmaClient,
}

impl SigmaApi {
    pub fn new(client: SigmaClient) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &SigmaClient {
        &self.client
    }

    /// Every entry of the listing at `route`, each decoded on its own; `total` receives
    /// Sigma's count of them (for progress) as pages arrive.
    fn list<T: DeserializeOwned + Send + 'static>(
        &self,
        route: Route<'_>,
        total: Option<Arc<AtomicU64>>,
    ) -> BoxStream<'static, Listed<T>> {
        let (kind, id_field) = route.entry();
        self.client
            .pages_with_style::<Box<RawValue>>(&route.path(), vec![], route.style())
            .flat_map(move |page| {
                let items: Vec<Result<Box<RawValue>, ClientError>> = match page {
                    Ok(page) => {
                        if let (Some(cell), Some(n)) = (&total, page.total) {
                            cell.store(n, Ordering::Relaxed);
                        }
                        page.entries.into_iter().map(Ok).collect()
                    }
                    Err(e) => vec![Err(e)],
                };
                stream::iter(items)
            })
            .enumerate()
            .map(move |(i, item)| match item {
                Ok(raw) => match decode_raw::<T>(kind, id_field, i, raw.get()) {
                    Ok(v) => Listed::Item(v),
                    Err(e) => Listed::Malformed(e),
                },
                Err(e) => Listed::Failed(e),
            })
            .boxed()
    }

    /// The first page of the listing at `route`, at most `size` entries (Sigma's `limit`
    /// or `pageSize`): a cheap probe of an endpoint, as test connection makes, without
    /// paging through.
    pub async fn first_page<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        size: u32,
    ) -> Result<FirstPage<T>, ClientError> {
        let style = route.style();
        let query = vec![(style.size_param().to_owned(), size.max(1).to_string())];
        let first = self
            .client
            .pages_with_style::<Box<RawValue>>(&route.path(), query, style)
            .next()
            .await;
        let (kind, id_field) = route.entry();
        match first {
            Some(Ok(page)) => Ok(FirstPage {
                entries: page
                    .entries
                    .iter()
                    .enumerate()
                    .map(|(i, raw)| decode_raw(kind, id_field, i, raw.get()))
                    .collect(),
                total: page.total,
            }),
            Some(Err(e)) => Err(e),
            // A listing always yields its first page or the error that prevented it.
            None => Ok(FirstPage {
                entries: Vec::new(),
                total: None,
            }),
        }
    }

    /// One object at `route`; `None` when Sigma answers one of `none_for` (it has none).
    async fn get_optional<T: DeserializeOwned>(
        &self,
        route: Route<'_>,
        none_for: &[u16],
    ) -> Result<Option<T>, ClientError> {
        match self.client.get_json::<T>(&route.path(), &[]).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.status().is_some_and(|s| none_for.contains(&s.as_u16())) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Workbooks; `total` receives Sigma's count of them once the first page arrives.
    pub fn workbooks(&self, total: Arc<AtomicU64>) -> BoxStream<'static, Listed<Workbook>> {
        self.list(Route::Workbooks, Some(total))
    }

    /// Reports (Sigma 2026; an older deployment answers 404).
    pub fn reports(&self) -> BoxStream<'static, Listed<Report>> {
        self.list(Route::Reports, None)
    }

    pub fn document_pages(
        &self,
        doc: DocumentKind,
        id: &str,
    ) -> BoxStream<'static, Listed<WorkbookPage>> {
        self.list(Route::DocumentPages(doc, id), None)
    }

    pub fn document_page_elements(
        &self,
        doc: DocumentKind,
        id: &str,
        page_id: &str,
    ) -> BoxStream<'static, Listed<WorkbookElement>> {
        self.list(Route::PageElements(doc, id, page_id), None)
    }

    /// Every element of every page, each with its `pageId` (Sigma 2026).
    pub fn document_elements(
        &self,
        doc: DocumentKind,
        id: &str,
    ) -> BoxStream<'static, Listed<WorkbookElement>> {
        self.list(Route::DocumentElements(doc, id), None)
    }

    /// The whole document's lineage tree (Sigma 2026).
    pub fn document_lineage(
        &self,
        doc: DocumentKind,
        id: &str,
    ) -> BoxStream<'static, Listed<LineageEntry>> {
        self.list(Route::DocumentLineage(doc, id), None)
    }

    pub fn document_queries(
        &self,
        doc: DocumentKind,
        id: &str,
    ) -> BoxStream<'static, Listed<ElementQuery>> {
        self.list(Route::DocumentQueries(doc, id), None)
    }

    /// Every element's columns in one listing (Sigma 2026).
    pub fn document_columns(
        &self,
        doc: DocumentKind,
        id: &str,
    ) -> BoxStream<'static, Listed<ElementColumn>> {
        self.list(Route::DocumentColumns(doc, id), None)
    }

    /// A data model's lineage tree (Sigma 2026).
    pub fn data_model_lineage(
        &self,
        data_model_id: &str,
    ) -> BoxStream<'static, Listed<LineageEntry>> {
        self.list(Route::DataModelLineage(data_model_id), None)
    }

    /// One element's SQL (the older surface's per-element call, the fallback for
    /// `/queries`); `None` when Sigma has none for it (400, 403, 404: a UI element, an
    /// element without a query).
    pub async fn document_element_query(
        &self,
        doc: DocumentKind,
        id: &str,
        element_id: &str,
    ) -> Result<Option<ElementQuery>, ClientError> {
        self.get_optional(Route::ElementQuery(doc, id, element_id), &[400, 403, 404])
            .await
    }

    /// The tables behind a dataset (deprecated): a bare array, or a page of `entries`.
    pub async fn dataset_sources(
        &self,
        dataset_id: &str,
    ) -> Result<Vec<DatasetSource>, ClientError> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Sources {
            Bare(Vec<DatasetSource>),
            Paged { entries: Vec<DatasetSource> },
        }
        let path = Route::DatasetSources(dataset_id).path();
        Ok(match self.client.get_json::<Sources>(&path, &[]).await? {
            Sources::Bare(v) | Sources::Paged { entries: v } => v,
        })
    }

    pub fn datasets(&self) -> BoxStream<'static, Listed<Dataset>> {
        self.list(Route::Datasets, None)
    }

    pub fn data_models(&self) -> BoxStream<'static, Listed<DataModel>> {
        self.list(Route::DataModels, None)
    }

    pub fn data_model_elements(
        &self,
        data_model_id: &str,
    ) -> BoxStream<'static, Listed<DataModelElement>> {
        self.list(Route::DataModelElements(data_model_id), None)
    }

    pub fn data_model_columns(
        &self,
        data_model_id: &str,
    ) -> BoxStream<'static, Listed<DataModelColumn>> {
        self.list(Route::DataModelColumns(data_model_id), None)
    }

    pub fn members(&self) -> BoxStream<'static, Listed<Member>> {
        self.list(Route::Members, None)
    }

    pub fn connections(&self) -> BoxStream<'static, Listed<Connection>> {
        self.list(Route::Connections, None)
    }

    /// Every workspace (paged: `limit` is always sent, so older deployments page too).
    pub fn workspaces(&self) -> BoxStream<'static, Listed<Workspace>> {
        self.list(Route::Workspaces, None)
    }

    /// An element's lineage graph; `None` when Sigma has none for it (UI elements answer
    /// 400, elements without lineage 400/403/404/500: "no lineage", not a failure).
    pub async fn element_lineage(
        &self,
        workbook_id: &str,
        element_id: &str,
    ) -> Result<Option<ElementLineage>, ClientError> {
        self.document_element_lineage(DocumentKind::Workbook, workbook_id, element_id)
            .await
    }

    /// [`Self::element_lineage`] for a workbook or a report.
    pub async fn document_element_lineage(
        &self,
        doc: DocumentKind,
        id: &str,
        element_id: &str,
    ) -> Result<Option<ElementLineage>, ClientError> {
        self.get_optional(
            Route::ElementLineage(doc, id, element_id),
            &[400, 403, 404, 500],
        )
        .await
    }

    /// The connection and `[db, schema, table]` behind an `inode-` id; `None` when Sigma
    /// does not know it.
    pub async fn connection_path(
        &self,
        inode_id: &str,
    ) -> Result<Option<ConnectionPath>, ClientError> {
        self.get_optional(Route::ConnectionPath(inode_id), &[400, 403, 404])
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_names_object_and_field() {
        let err = decode_raw::<Workbook>(
            "workbook",
            "workbookId",
            3,
            r#"{"workbookId": "wb-1", "name": 42}"#,
        )
        .unwrap_err();
        assert_eq!(err.id, "wb-1");
        assert!(
            err.field == "name" || err.message.contains("missing field"),
            "{err}"
        );
        let err = decode_raw::<Workbook>("workbook", "workbookId", 3, r#""x""#).unwrap_err();
        assert_eq!(err.id, "#3");
    }

    #[test]
    fn raw_entries_name_the_missing_field_and_survive_bad_escapes() {
        let err = decode_raw::<Workbook>("workbook", "workbookId", 0, r#"{"workbookId":"wb-1"}"#)
            .unwrap_err();
        assert_eq!(
            (err.id.as_str(), err.field.as_str()),
            ("wb-1", "workbookUrlId")
        );
        let err = decode_raw::<WorkbookPage>(
            "page",
            "pageId",
            4,
            r#"{"name":"a\ud800b","pageId":"p-9"}"#,
        )
        .unwrap_err();
        assert_eq!((err.id.as_str(), err.field.as_str()), ("p-9", "name"));
        let err = decode_raw::<WorkbookPage>("page", "pageId", 4, "[1").unwrap_err();
        assert_eq!(err.id, "#4");
        let huge = "x".repeat(10_000);
        let err =
            decode_raw::<WorkbookPage>("page", &huge, 0, &format!(r#"{{"{huge}":"{huge}"}}"#))
                .unwrap_err();
        assert!(err.to_string().len() < 1_000, "messages stay short");
    }
}
