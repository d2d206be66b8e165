//! Every Sigma call the connector makes, written once.
//!
//! A [`Route`] is one call with its ids. Its template (`workbooks/{workbookId}/pages`) is
//! the only place a route is spelled: the request path is the template with each `{...}`
//! filled by the next id, percent-encoded ([`Route::path`]); messages name the template
//! ([`Route::display`]); the paging style and what an entry is called sit beside it. The
//! sandbox (`crate::sandbox`) spells the same routes on its own on purpose: it emulates
//! Sigma's documented API independently, so it can catch the connector asking for a wrong
//! one.

use std::fmt;

use crate::client::PageStyle;

use super::model::DocumentKind;

/// One Sigma call, with the ids it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    Workbooks,
    Reports,
    Datasets,
    DataModels,
    Members,
    Connections,
    /// Asked for only by a platform that places documents in workspaces (DataHub).
    Workspaces,
    /// A workbook's or report's pages.
    DocumentPages(DocumentKind, &'a str),
    /// One page's elements: the older surface's per-page call.
    PageElements(DocumentKind, &'a str, &'a str),
    /// Every element of every page (Sigma 2026).
    DocumentElements(DocumentKind, &'a str),
    /// The whole document's lineage tree (Sigma 2026).
    DocumentLineage(DocumentKind, &'a str),
    /// Every element's SQL in one listing (Sigma 2026).
    DocumentQueries(DocumentKind, &'a str),
    /// Every element's columns in one listing (Sigma 2026).
    DocumentColumns(DocumentKind, &'a str),
    /// One element's SQL: the older surface's per-element call.
    ElementQuery(DocumentKind, &'a str, &'a str),
    /// One element's lineage graph: the older surface's per-element call.
    ElementLineage(DocumentKind, &'a str, &'a str),
    DataModelElements(&'a str),
    DataModelColumns(&'a str),
    DataModelLineage(&'a str),
    DataModelSources(&'a str),
    /// A retired dataset's tables.
    DatasetSources(&'a str),
    /// The connection and `[db, schema, table]` behind an `inode-` id.
    ConnectionPath(&'a str),
}

impl<'a> Route<'a> {
    /// The route relative to the API base (`hostPort` plus `apiVersion`), ids as
    /// `{placeholders}`: the one spelling of it.
    pub fn template(self) -> &'static str {
        use DocumentKind::{Report, Workbook};
        match self {
            Route::Workbooks => "workbooks",
            Route::Reports => "reports",
            Route::Datasets => "datasets",
            Route::DataModels => "dataModels",
            Route::Members => "members",
            Route::Connections => "connections",
            Route::Workspaces => "workspaces",
            Route::DocumentPages(Workbook, _) => "workbooks/{workbookId}/pages",
            Route::DocumentPages(Report, _) => "reports/{reportId}/pages",
            Route::PageElements(Workbook, ..) => "workbooks/{workbookId}/pages/{pageId}/elements",
            Route::PageElements(Report, ..) => "reports/{reportId}/pages/{pageId}/elements",
            Route::DocumentElements(Workbook, _) => "workbooks/{workbookId}/elements",
            Route::DocumentElements(Report, _) => "reports/{reportId}/elements",
            Route::DocumentLineage(Workbook, _) => "workbooks/{workbookId}/lineage",
            Route::DocumentLineage(Report, _) => "reports/{reportId}/lineage",
            Route::DocumentQueries(Workbook, _) => "workbooks/{workbookId}/queries",
            Route::DocumentQueries(Report, _) => "reports/{reportId}/queries",
            Route::DocumentColumns(Workbook, _) => "workbooks/{workbookId}/columns",
            Route::DocumentColumns(Report, _) => "reports/{reportId}/columns",
            Route::ElementQuery(Workbook, ..) => {
                "workbooks/{workbookId}/elements/{elementId}/query"
            }
            Route::ElementQuery(Report, ..) => "reports/{reportId}/elements/{elementId}/query",
            Route::ElementLineage(Workbook, ..) => {
                "workbooks/{workbookId}/lineage/elements/{elementId}"
            }
            Route::ElementLineage(Report, ..) => "reports/{reportId}/lineage/elements/{elementId}",
            Route::DataModelElements(_) => "dataModels/{dataModelId}/elements",
            Route::DataModelColumns(_) => "dataModels/{dataModelId}/columns",
            Route::DataModelLineage(_) => "dataModels/{dataModelId}/lineage",
            Route::DataModelSources(_) => "dataModels/{dataModelId}/sources",
            Route::DatasetSources(_) => "datasets/{datasetId}/sources",
            Route::ConnectionPath(_) => "connections/paths/{inodeId}",
        }
    }

    /// The ids that fill the template's placeholders, in order.
    fn ids(self) -> [Option<&'a str>; 2] {
        match self {
            Route::Workbooks
            | Route::Reports
            | Route::Datasets
            | Route::DataModels
            | Route::Members
            | Route::Connections
            | Route::Workspaces => [None, None],
            Route::DocumentPages(_, id)
            | Route::DocumentElements(_, id)
            | Route::DocumentLineage(_, id)
            | Route::DocumentQueries(_, id)
            | Route::DocumentColumns(_, id)
            | Route::DataModelElements(id)
            | Route::DataModelColumns(id)
            | Route::DataModelLineage(id)
            | Route::DataModelSources(id)
            | Route::DatasetSources(id)
            | Route::ConnectionPath(id) => [Some(id), None],
            Route::PageElements(_, id, sub)
            | Route::ElementQuery(_, id, sub)
            | Route::ElementLineage(_, id, sub) => [Some(id), Some(sub)],
        }
    }

    /// The request path relative to the API base: the template, each placeholder filled
    /// with its id percent-encoded (ids are opaque; one must never add a `/`).
    pub fn path(self) -> String {
        let template = self.template();
        let mut ids = self.ids().into_iter().flatten();
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            out.push_str(&enc(ids.next().unwrap_or_default()));
            rest = &rest[close..];
        }
        out.push_str(rest);
        out
    }

    /// The route as messages name it: `/v2/workbooks/{workbookId}/columns`.
    pub fn display(self) -> Display {
        Display(self.template())
    }

    /// How the listing pages: Sigma's newer listings page by cursor (`pageSize`,
    /// `nextPageToken`), the older ones by `page` and `limit`.
    pub fn style(self) -> PageStyle {
        match self {
            Route::DocumentPages(DocumentKind::Report, _)
            | Route::PageElements(DocumentKind::Report, ..)
            | Route::DocumentElements(DocumentKind::Report, _)
            | Route::DocumentLineage(DocumentKind::Report, _)
            | Route::DocumentQueries(DocumentKind::Report, _)
            | Route::DocumentColumns(DocumentKind::Report, _)
            | Route::DataModelSources(_) => PageStyle::Cursor,
            _ => PageStyle::PageLimit,
        }
    }

    /// What an entry of the listing is called in a decode error, and the field holding
    /// its id.
    pub fn entry(self) -> (&'static str, &'static str) {
        match self {
            Route::Workbooks => ("workbook", "workbookId"),
            Route::Reports => ("report", "reportId"),
            Route::Datasets => ("dataset", "datasetId"),
            Route::DataModels => ("data model", "dataModelId"),
            Route::Members => ("member", "memberId"),
            Route::Connections => ("connection", "connectionId"),
            Route::Workspaces => ("workspace", "workspaceId"),
            Route::DocumentPages(..) => ("page", "pageId"),
            Route::PageElements(..) | Route::DocumentElements(..) => ("element", "elementId"),
            Route::DocumentLineage(..) => ("lineage entry", "elementId"),
            Route::DocumentQueries(..) | Route::ElementQuery(..) => ("query", "elementId"),
            Route::DocumentColumns(..) => ("element column", "columnId"),
            Route::ElementLineage(..) => ("element lineage", "elementId"),
            Route::DataModelElements(_) => ("data model element", "elementId"),
            Route::DataModelColumns(_) => ("data model column", "columnId"),
            Route::DataModelLineage(_) => ("data model lineage entry", "elementId"),
            Route::DataModelSources(_) => ("data model source", "inodeId"),
            Route::DatasetSources(_) => ("dataset source", "inodeId"),
            Route::ConnectionPath(_) => ("connection path", "connectionId"),
        }
    }
}

/// A route's template as messages show it, under the API version Sigma documents.
#[derive(Debug, Clone, Copy)]
pub struct Display(&'static str);

impl fmt::Display for Display {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/v2/{}", self.0)
    }
}

/// Percent-encodes one path segment.
fn enc(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::*;
    use DocumentKind::{Report, Workbook};

    #[test]
    fn paths_fill_the_template_with_encoded_ids() {
        assert_eq!(Route::Workbooks.path(), "workbooks");
        assert_eq!(
            Route::PageElements(Workbook, "wb 1", "p/2").path(),
            "workbooks/wb%201/pages/p%2F2/elements"
        );
        assert_eq!(
            Route::ElementLineage(Report, "r", "e").path(),
            "reports/r/lineage/elements/e"
        );
        assert_eq!(
            Route::ConnectionPath("inode-abc").path(),
            "connections/paths/inode-abc"
        );
        assert_eq!(
            Route::DocumentColumns(Workbook, "x").display().to_string(),
            "/v2/workbooks/{workbookId}/columns"
        );
    }

    #[test]
    fn every_placeholder_has_an_id_and_every_id_a_placeholder() {
        let routes = [
            Route::Workbooks,
            Route::Reports,
            Route::Datasets,
            Route::DataModels,
            Route::Members,
            Route::Connections,
            Route::Workspaces,
            Route::DocumentPages(Workbook, "a"),
            Route::PageElements(Report, "a", "b"),
            Route::DocumentElements(Workbook, "a"),
            Route::DocumentLineage(Report, "a"),
            Route::DocumentQueries(Workbook, "a"),
            Route::DocumentColumns(Report, "a"),
            Route::ElementQuery(Workbook, "a", "b"),
            Route::ElementLineage(Workbook, "a", "b"),
            Route::DataModelElements("a"),
            Route::DataModelColumns("a"),
            Route::DataModelLineage("a"),
            Route::DataModelSources("a"),
            Route::DatasetSources("a"),
            Route::ConnectionPath("a"),
        ];
        for route in routes {
            let placeholders = route.template().matches('{').count();
            let ids = route.ids().into_iter().flatten().count();
            assert_eq!(placeholders, ids, "{route:?}");
            assert!(!route.path().contains('{'), "{route:?}");
        }
    }
}
