//! Sigma workbooks and reports (documents of pages of elements): each as one item, its
//! elements with their columns, what each reads and the column pairs its formulas say.
//!
//! Today's Sigma answers a document's elements and lineage in one listing each
//! (`/elements`, `/lineage`); an older deployment answers 404 there, and the source falls
//! back to one listing per page and one lineage graph per chart, deciding once per run
//! (`endpoints.rs`). Both paths yield the same items. Without the document-level
//! `/queries`, the older per-element `/elements/{id}/query` is asked, only for the charts
//! whose tables the lineage graph did not resolve, so SQL-named tables still reach the
//! lineage.

use super::*;
use crate::catalog::{ColumnLineage, TableSource, Upstream};
use crate::sigma::api::DocumentKind;
use crate::sigma::endpoints::{Answer, Endpoint, says_absent};
use crate::sigma::lineage::LineageTree;
use crate::sigma::model::{Document, ElementQuery, LineageEntry};

use super::element_columns::{self, CustomSqlRead, ModelRead};

/// What a document's charts read: per element, its upstreams; and the warehouse table
/// behind each `inode-` the lineage named (`None`: not placed).
#[derive(Debug, Default)]
struct DocumentReads {
    upstreams: BTreeMap<String, Vec<Upstream>>,
    by_inode: BTreeMap<String, Option<WarehouseTable>>,
    /// Per element, the data models it reads with their elements and the lineage nodes it
    /// reads them through (what its columns' `[Element/Column]` formulas may name).
    models: BTreeMap<String, Vec<ModelRead>>,
    /// Per element, the custom SQL it reads (what its columns' `[SQL/Column]` may name).
    custom_sql: BTreeMap<String, Vec<CustomSqlRead>>,
}

impl DocumentReads {
    /// An element reads data model `id` (whose elements are `elements`) through a lineage
    /// node `node` (its name, and the element it names).
    fn add_model(
        &mut self,
        element_id: &str,
        id: String,
        elements: Vec<KnownElement>,
        node: (Option<String>, Option<String>),
        via: Option<String>,
    ) {
        let list = self.models.entry(element_id.to_owned()).or_default();
        let at = match list.iter().position(|read| read.data_model_id == id) {
            Some(at) => at,
            None => {
                list.push(ModelRead {
                    data_model_id: id.clone(),
                    elements: elements.clone(),
                    nodes: Vec::new(),
                });
                list.len() - 1
            }
        };
        if !list[at].nodes.contains(&node) {
            list[at].nodes.push(node);
        }
        self.add(
            element_id,
            Upstream::DataModel {
                data_model_id: id,
                elements: elements.into_iter().map(|e| e.id).collect(),
                via_dataset: via,
            },
        );
    }

    fn add(&mut self, element_id: &str, upstream: Upstream) {
        let list = self.upstreams.entry(element_id.to_owned()).or_default();
        if !list.contains(&upstream) {
            list.push(upstream);
        }
    }
}

/// A document's element columns and their pairs, by element id.
#[derive(Debug, Default)]
struct ElementColumns {
    columns: BTreeMap<String, Vec<catalog::Column>>,
    pairs: BTreeMap<String, Vec<ColumnLineage>>,
}

fn kind_of(kind: DocumentKind) -> catalog::DocumentKind {
    match kind {
        DocumentKind::Workbook => catalog::DocumentKind::Workbook,
        DocumentKind::Report => catalog::DocumentKind::Report,
    }
}

/// What a chart reads, as either lineage call says it.
enum ChartUpstream {
    Table(String),
    DataModel {
        url_id: Option<String>,
        id: Option<String>,
        /// The lineage node's name (how formulas name the source) and the element of the
        /// data model it names (`<dataModelUrlId>/<elementId>`), if any.
        name: Option<String>,
        element: Option<String>,
    },
    Dataset(String),
    /// A custom SQL source (the lineage tree's; its tables also come from the element's
    /// SQL in `/queries`, which is what decides the document's tables).
    CustomSql {
        name: Option<String>,
        definition: String,
        connection_id: Option<String>,
    },
    /// A sibling element the chart reads directly.
    Element(String),
}

impl WorkbookCtx {
    pub(super) async fn expand_document(&self, doc: Document) -> Vec<SourceResult> {
        let is_workbook = doc.kind == DocumentKind::Workbook;
        let items = self.expand_listed_document(doc).await;
        if is_workbook {
            self.ctx.status.workbook_done();
        }
        items
    }

    async fn expand_listed_document(&self, doc: Document) -> Vec<SourceResult> {
        let status = &self.ctx.status;
        let (archived, unchanged) = match doc.kind {
            DocumentKind::Workbook => ("archived workbook", "unchanged workbook"),
            DocumentKind::Report => ("archived report", "unchanged report"),
        };
        let selected = self.selected(Candidate {
            kind: "dashboard",
            archived: doc.is_archived.then_some(archived),
            path: Some(&doc.path),
            name: &doc.name,
            name_filter: &self.options().dashboard_filter,
        });
        if !selected {
            return Vec::new();
        }
        let group = Group::document(doc.id.clone());
        let same_stamp = self.options().memory.documents.get(&doc.id) == Some(&doc.updated_at);
        if same_stamp {
            // Unchanged by its stamp: whether its inputs are is known with the data models.
            self.known(Known::DataModels).await;
        }
        if same_stamp && self.reuse.documents.load(Ordering::Relaxed) {
            status.skipped(unchanged);
            return vec![Ok(SourceItem::Unchanged { group })];
        }
        self.expand_changed_document(&doc).await
    }

    /// The document-level `/elements` listing, when the org has it (`None`: it does not).
    async fn all_elements(
        &self,
        doc: &Document,
    ) -> Option<Result<Vec<WorkbookElement>, ClientError>> {
        let endpoint = match doc.kind {
            DocumentKind::Workbook => Endpoint::WorkbookElements,
            DocumentKind::Report => Endpoint::ReportElements,
        };
        let listing = self.ctx.api.document_elements(doc.kind, &doc.id);
        self.ctx
            .endpoints
            .call(endpoint, collect(listing, self.ctx.status.clone()))
            .await
    }

    /// Every element with its page: from the document-level listing when it answered and
    /// names each element's page, else page by page.
    async fn document_elements(
        &self,
        doc: &Document,
        pages: &[WorkbookPage],
        all: Option<Result<Vec<WorkbookElement>, ClientError>>,
    ) -> Result<Vec<(usize, WorkbookElement)>, ClientError> {
        let status = &self.ctx.status;
        if let Some(Ok(all)) = all {
            let placed: Option<Vec<(usize, WorkbookElement)>> = all
                .into_iter()
                .map(|e| {
                    let page = pages
                        .iter()
                        .position(|p| Some(&p.page_id) == e.page_id.as_ref())?;
                    Some((page, e))
                })
                .collect();
            if let Some(mut placed) = placed {
                // Page order, then Sigma's order within a page: as the per-page path.
                placed.sort_by_key(|(page, _)| *page);
                return Ok(placed);
            }
            tracing::debug!(document = %doc.id, "elements without a known pageId: listing page by page");
        }
        let listings: Vec<_> = pages
            .iter()
            .map(|p| {
                collect(
                    self.ctx
                        .api
                        .document_page_elements(doc.kind, &doc.id, &p.page_id),
                    status.clone(),
                )
            })
            .collect();
        let mut out = Vec::new();
        for (index, list) in futures::future::join_all(listings)
            .await
            .into_iter()
            .enumerate()
        {
            out.extend(list?.into_iter().map(|e| (index, e)));
        }
        Ok(out)
    }

    async fn expand_changed_document(&self, doc: &Document) -> Vec<SourceResult> {
        let status = &self.ctx.status;
        let fail = |step: &'static str, e: &ClientError| {
            vec![Err(self.ctx.failed(SourceError::Object {
                kind: "dashboard",
                id: doc.id.clone(),
                name: doc.name.clone(),
                step,
                message: e.to_string(),
                cause: e.cause().into(),
            }))]
        };
        // Pages, SQL and (today's) element listing do not depend on each other: one round
        // trip for the three.
        let queries_endpoint = match doc.kind {
            DocumentKind::Workbook => Endpoint::WorkbookQueries,
            DocumentKind::Report => Endpoint::ReportQueries,
        };
        let (pages, queries, all, columns) = tokio::join!(
            collect(
                self.ctx.api.document_pages(doc.kind, &doc.id),
                status.clone()
            ),
            self.ctx.endpoints.call(
                queries_endpoint,
                collect(
                    self.ctx.api.document_queries(doc.kind, &doc.id),
                    status.clone()
                )
            ),
            self.all_elements(doc),
            self.element_columns(doc),
        );
        let pages: Vec<WorkbookPage> = match pages {
            Ok(p) => p,
            Err(e) => return fail("pages", &e),
        };
        // Queries feed lineage only: without them the document still ingests. `None`: the
        // deployment has no `/queries`, so the charts the lineage graph leaves unresolved
        // are asked one by one.
        let sql_by_element: Option<HashMap<String, String>> = match queries {
            None => None,
            Some(Ok(q)) => Some(
                q.into_iter()
                    .filter_map(|q| q.sql.map(|sql| (q.element_id, sql)))
                    .collect(),
            ),
            Some(Err(e)) => {
                status.warn(
                    &format!(
                        "element SQL unavailable ({}); lineage comes from the lineage graph only",
                        e.cause()
                    ),
                    Some(&doc.id),
                    format!(
                        "{} `{}` ({}): element SQL unavailable ({e}); lineage comes from the lineage graph only",
                        doc_noun(doc.kind),
                        doc.name,
                        doc.id
                    ),
                );
                Some(HashMap::new())
            }
        };
        let elements_listed = match self.document_elements(doc, &pages, all).await {
            Ok(e) => e,
            Err(e) => return fail("elements", &e),
        };
        let columns = match columns {
            Ok(c) => c,
            Err(e) => return fail("columns", &e),
        };

        // Elements, in page and element order; what charts read.
        let mut elements = Vec::new();
        let mut charts: Vec<&WorkbookElement> = Vec::new();
        for (index, (page, element)) in elements_listed.iter().enumerate() {
            let page = &pages[*page];
            let is_chart = mapping::is_chart(element);
            let name = mapping::element_display_name(element, page, index);
            if !is_chart {
                status.skipped("non-chart element");
            } else if !self.options().chart_filter.allows(&name) {
                status.filtered("chart");
                continue;
            } else {
                charts.push(element);
            }
            elements.push(catalog::Element {
                id: element.element_id.clone(),
                page_id: page.page_id.clone(),
                name: element.name.clone(),
                display_name: name,
                element_type: element.element_type.clone(),
                visualization_type: element.vizualization_type.clone(),
                is_chart,
                error: element.error.clone(),
                url: mapping::element_url(&doc.url, &element.element_id),
                columns: Vec::new(),
                upstreams: Vec::new(),
                column_lineage: Vec::new(),
            });
        }

        let upstream = self.charts_upstream(doc, &charts).await;
        let mut element_tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (element_id, node) in &upstream {
            if let ChartUpstream::Table(inode) = node {
                element_tables
                    .entry(element_id.clone())
                    .or_default()
                    .insert(inode.clone());
            }
        }
        let mut reads = self
            .document_sources(doc, &charts, upstream, sql_by_element)
            .await;
        let mut element_columns = self
            .element_models(&elements, &columns, &element_tables, &mut reads)
            .await;
        for element in &mut elements {
            element.upstreams = reads.upstreams.remove(&element.id).unwrap_or_default();
            element.columns = element_columns
                .columns
                .remove(&element.id)
                .unwrap_or_default();
            element.column_lineage = element_columns
                .pairs
                .remove(&element.id)
                .unwrap_or_default();
        }
        let owner = if self.options().include_owners {
            match (
                self.owners.emails.get(&doc.owner_id),
                &self.owners.listing_failed,
            ) {
                (Some(email), _) => Some(email.clone()),
                (None, Some(cause)) => {
                    status.warn(
                        cause,
                        Some(&doc.id),
                        format!(
                            "{} `{}`: no owner set: {cause}",
                            doc_noun(doc.kind),
                            doc.name
                        ),
                    );
                    None
                }
                (None, None) => {
                    status.warn(
                        "owners are not listed members (deactivated, or not visible to these credentials); no owner set",
                        Some(&doc.id),
                        format!(
                            "{} `{}`: owner {} is not a listed member; no owner set",
                            doc_noun(doc.kind),
                            doc.name,
                            doc.owner_id
                        ),
                    );
                    None
                }
            }
        } else {
            None
        };
        let tags: Vec<String> = if self.options().include_tags {
            doc.tags.clone()
        } else {
            Vec::new()
        };
        let item = catalog::Document {
            id: doc.id.clone(),
            url_id: doc.url_id.clone(),
            kind: kind_of(doc.kind),
            name: doc.name.clone(),
            description: doc.description.clone(),
            url: doc.url.clone(),
            path: doc.path.clone(),
            created_at: Some(doc.created_at.clone()),
            updated_at: doc.updated_at.clone(),
            owner,
            tags,
            pages: pages
                .iter()
                .map(|p| catalog::Page {
                    id: p.page_id.clone(),
                    name: p.name.clone(),
                })
                .collect(),
            elements,
        };
        vec![Ok(Item::Document(item).into())]
    }

    /// Every element's columns, from the document's `/columns` (one listing; Sigma 2026).
    /// An older deployment has none: one request per run finds that out, and the documents
    /// then have no element columns. A failed listing fails the document, as its pages
    /// would: its elements' data models were not seen, which must not read as deleted. Not
    /// asked when data models are off.
    async fn element_columns(&self, doc: &Document) -> Result<Vec<ElementColumn>, ClientError> {
        // Element columns are carried as data models: none without data models.
        if !self.options().include_data_models {
            return Ok(Vec::new());
        }
        let endpoint = match doc.kind {
            DocumentKind::Workbook => Endpoint::WorkbookColumns,
            DocumentKind::Report => Endpoint::ReportColumns,
        };
        let listing = collect(
            self.ctx.api.document_columns(doc.kind, &doc.id),
            self.ctx.status.clone(),
        );
        match self.ctx.endpoints.ask(endpoint, says_absent, listing).await {
            Answer::Missing { first: Some(e) } => {
                tracing::info!(
                    "{} is not available on this Sigma deployment ({}); no element columns or column lineage into elements this run",
                    endpoint.route(),
                    e.status().map_or(0, |s| s.as_u16())
                );
                Ok(Vec::new())
            }
            Answer::Missing { first: None } => Ok(Vec::new()),
            Answer::Got(result) => result,
        }
    }

    /// Each chart element's columns, and what they read (see `element_columns.rs`).
    async fn element_models(
        &self,
        elements: &[catalog::Element],
        columns: &[ElementColumn],
        element_tables: &BTreeMap<String, BTreeSet<String>>,
        reads: &mut DocumentReads,
    ) -> ElementColumns {
        // Warehouse columns name their table (`inode-<urlId>/<COLUMN>`): the tables the
        // lineage did not already resolve are resolved here (cached per run).
        let named: BTreeSet<&str> = columns
            .iter()
            .filter_map(|c| element_columns::warehouse_column(c.column_id.as_deref()?))
            .map(|(inode, _)| inode)
            .collect();
        if !self.options().placement.is_empty() {
            for inode in named {
                if !reads.by_inode.contains_key(inode) {
                    let table = self.table_for_inode(inode).await;
                    reads.by_inode.insert(inode.to_owned(), table);
                }
            }
        }
        let mut by_element: BTreeMap<&str, Vec<&ElementColumn>> = BTreeMap::new();
        for column in columns {
            if let Some(element_id) = column.element_id.as_deref() {
                by_element.entry(element_id).or_default().push(column);
            }
        }
        let mut out = ElementColumns::default();
        let mut models = Vec::new();
        for element in elements.iter().filter(|e| e.is_chart) {
            let Some(cols) = by_element.get(element.id.as_str()) else {
                continue;
            };
            let tables = element_tables
                .get(&element.id)
                .into_iter()
                .flatten()
                .filter_map(|inode| reads.by_inode.get(inode).cloned().flatten())
                .collect();
            out.columns.insert(
                element.id.clone(),
                cols.iter()
                    .map(|c| catalog::Column {
                        column_id: c.column_id.clone(),
                        name: c.label().unwrap_or_default().to_owned(),
                        label: c.label.clone(),
                        formula: c.formula.clone(),
                        column_type: c.r#type.clone(),
                        description: None,
                    })
                    .collect(),
            );
            models.push(element_columns::ElementModel::new(
                element.id.clone(),
                element.display_name.clone(),
                cols.clone(),
                tables,
                reads.models.get(&element.id).cloned().unwrap_or_default(),
                reads
                    .custom_sql
                    .get(&element.id)
                    .cloned()
                    .unwrap_or_default(),
            ));
        }
        let sql_table = |connection: Option<&str>, table: &sql::TableRef| {
            self.place_sql_table(connection, table)
        };
        let ends = element_columns::Ends {
            by_inode: &reads.by_inode,
            sql_table: &sql_table,
        };
        let pairs = element_columns::lineage(&models, &ends);
        for (element, pairs) in elements
            .iter()
            .filter(|e| e.is_chart && by_element.contains_key(e.id.as_str()))
            .zip(pairs)
        {
            out.pairs.insert(element.id.clone(), pairs);
        }
        out
    }

    /// What the charts read: from the document's lineage tree in one listing when the org
    /// has it, else from one lineage graph per chart (8 at a time). UI elements are never
    /// asked. Custom SQL is left to the element's own SQL (`/queries`) on both paths.
    async fn charts_upstream(
        &self,
        doc: &Document,
        charts: &[&WorkbookElement],
    ) -> Vec<(String, ChartUpstream)> {
        let status = &self.ctx.status;
        let endpoint = match doc.kind {
            DocumentKind::Workbook => Endpoint::WorkbookLineage,
            DocumentKind::Report => Endpoint::ReportLineage,
        };
        if charts.is_empty() {
            return Vec::new();
        }
        let listing = self.ctx.api.document_lineage(doc.kind, &doc.id);
        match self
            .ctx
            .endpoints
            .call(endpoint, collect(listing, status.clone()))
            .await
        {
            Some(Ok(entries)) => {
                let tree = LineageTree::new(entries);
                let mut out = Vec::new();
                for element in charts {
                    for read in tree.direct(&element.element_id) {
                        if tree.is_element(read) && *read != element.element_id {
                            out.push((
                                element.element_id.clone(),
                                ChartUpstream::Element(read.clone()),
                            ));
                        }
                    }
                    for source in tree.data_sources(&element.element_id) {
                        let upstream = match source {
                            LineageEntry::Table { inode_id, .. } => {
                                ChartUpstream::Table(inode_id.clone())
                            }
                            LineageEntry::Dataset { inode_id, .. } => {
                                ChartUpstream::Dataset(inode_id.clone())
                            }
                            LineageEntry::DataModel {
                                data_model_id,
                                datasource_id,
                                name,
                            } => {
                                let (url_id, element) =
                                    data_model_node(datasource_id.as_deref().unwrap_or_default());
                                ChartUpstream::DataModel {
                                    url_id,
                                    id: Some(data_model_id.clone()),
                                    name: name.clone(),
                                    element,
                                }
                            }
                            LineageEntry::CustomSql {
                                definition,
                                connection_id,
                                name,
                                ..
                            } => ChartUpstream::CustomSql {
                                name: name.clone(),
                                definition: definition.clone(),
                                connection_id: connection_id.clone(),
                            },
                            _ => continue,
                        };
                        out.push((element.element_id.clone(), upstream));
                    }
                }
                return out;
            }
            Some(Err(e)) => status.warn(
                &format!(
                    "lineage trees unavailable ({}); asking element by element",
                    e.cause()
                ),
                Some(&doc.id),
                format!(
                    "{} `{}`: lineage tree unavailable ({e}); asking element by element",
                    doc_noun(doc.kind),
                    doc.name
                ),
            ),
            None => {}
        }
        let element_ids: Vec<String> = charts.iter().map(|e| e.element_id.clone()).collect();
        let api = self.ctx.api.clone();
        let (kind, id) = (doc.kind, doc.id.clone());
        let results: Vec<(String, Result<Option<ElementLineage>, ClientError>)> =
            stream::iter(element_ids)
                .map(move |element_id| {
                    let api = api.clone();
                    let id = id.clone();
                    async move {
                        let lineage = api.document_element_lineage(kind, &id, &element_id).await;
                        (element_id, lineage)
                    }
                })
                .buffered(8)
                .collect()
                .await;
        let mut out = Vec::new();
        for (element_id, result) in results {
            let lineage = match result {
                Ok(l) => l,
                Err(e) => {
                    status.warn(
                        &format!("element lineage unavailable ({})", e.cause()),
                        Some(&format!("{}/{element_id}", doc.id)),
                        format!(
                            "{} `{}` element {element_id}: lineage unavailable: {e}",
                            doc_noun(doc.kind),
                            doc.name
                        ),
                    );
                    None
                }
            };
            for node in lineage.iter().flat_map(upstream_sources) {
                let upstream = match node.node_type.as_str() {
                    "table" => ChartUpstream::Table(node.node_id.clone()),
                    "dataset" => ChartUpstream::Dataset(node.node_id.clone()),
                    "data-model" => {
                        let (url_id, element) = data_model_node(&node.node_id);
                        ChartUpstream::DataModel {
                            url_id,
                            id: None,
                            name: node.name.clone(),
                            element,
                        }
                    }
                    _ => continue,
                };
                out.push((element_id.clone(), upstream));
            }
        }
        out
    }

    /// What each of the document's charts reads: data models, datasets and warehouse
    /// tables, from their lineage and each element's SQL. `sql_by_element` is `None` when
    /// the deployment has no `/queries`: then the charts whose ends the lineage did not
    /// resolve are asked for their SQL one by one (the older surface's call).
    async fn document_sources(
        &self,
        doc: &Document,
        charts: &[&WorkbookElement],
        upstream: Vec<(String, ChartUpstream)>,
        sql_by_element: Option<HashMap<String, String>>,
    ) -> DocumentReads {
        let mut reads = DocumentReads::default();
        let mut inodes: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut read = Vec::new();
        for (element_id, node) in upstream {
            match node {
                ChartUpstream::Table(inode) => inodes.entry(inode).or_default().push(element_id),
                other => read.push((element_id, other)),
            }
        }
        let placement_empty = self.options().placement.is_empty();
        let mut connections_seen = BTreeSet::new();
        // Charts with at least one end the lineage graph resolved.
        let mut resolved: BTreeSet<String> = BTreeSet::new();
        // Warehouse tables first: they need no other phase.
        if !placement_empty {
            for (inode, readers) in &inodes {
                if let Ok(Some(path)) = self.ctx.connection_path(inode).await {
                    connections_seen.insert(path.connection_id.clone());
                }
                let table = self.table_for_inode(inode).await;
                if let Some(table) = &table {
                    resolved.extend(readers.iter().cloned());
                    for reader in readers {
                        reads.add(
                            reader,
                            Upstream::Table {
                                table: table.clone(),
                                source: TableSource::Lineage,
                            },
                        );
                    }
                }
                reads.by_inode.insert(inode.clone(), table);
            }
        }
        // Data models and datasets: once every one is known.
        self.known(Known::DataModels).await;
        let models = self.models.get();
        let datasets = self.datasets.get();
        let model = |id: Option<&str>, url_id: Option<&str>| {
            models
                .and_then(|m| m.get(id, url_id))
                .map(|(id, elements)| (id.to_owned(), elements.to_vec()))
        };
        for (element_id, node) in read {
            match node {
                ChartUpstream::Table(_) => {}
                ChartUpstream::Element(id) => {
                    reads.add(&element_id, Upstream::Element { element_id: id })
                }
                ChartUpstream::CustomSql {
                    name,
                    definition,
                    connection_id,
                } => {
                    let tables = if placement_empty {
                        Vec::new()
                    } else {
                        self.tables_in_sql(&definition, connection_id.as_deref())
                    };
                    // What `[<name>/<column>]` in the element's formulas reads: its
                    // projection, parsed where the pairs are made.
                    if let (Some(sql_name), false) = (&name, placement_empty) {
                        reads
                            .custom_sql
                            .entry(element_id.clone())
                            .or_default()
                            .push(CustomSqlRead {
                                name: sql_name.clone(),
                                connection_id: connection_id.clone(),
                                definition: definition.clone(),
                            });
                    }
                    reads.add(&element_id, Upstream::CustomSql { name, tables });
                }
                ChartUpstream::DataModel {
                    url_id,
                    id,
                    name,
                    element,
                } => {
                    if let Some((data_model_id, elements)) = model(id.as_deref(), url_id.as_deref())
                    {
                        reads.add_model(
                            &element_id,
                            data_model_id,
                            elements,
                            (name, element),
                            None,
                        );
                        resolved.insert(element_id);
                    }
                }
                ChartUpstream::Dataset(inode) => {
                    let url_id = inode.trim_start_matches("inode-");
                    match datasets.and_then(|d| d.get(url_id)) {
                        Some(DatasetEnd::Emitted(dataset_id)) => {
                            reads.add(
                                &element_id,
                                Upstream::Dataset {
                                    dataset_id: dataset_id.clone(),
                                },
                            );
                            resolved.insert(element_id);
                        }
                        // A migrated dataset: its data model stands for it.
                        Some(DatasetEnd::MigratedTo {
                            data_model_id,
                            dataset_id,
                        }) => {
                            if let Some((data_model_id, elements)) =
                                model(Some(data_model_id), None)
                            {
                                reads.add_model(
                                    &element_id,
                                    data_model_id,
                                    elements,
                                    (None, None),
                                    Some(dataset_id.clone()),
                                );
                                resolved.insert(element_id);
                            }
                        }
                        None => {}
                    }
                }
            }
        }
        if placement_empty {
            return reads;
        }
        // SQL names tables without a connection: when every inode table of this document
        // is on one connection, that is the connection; otherwise the platform decides.
        let connection = (connections_seen.len() == 1)
            .then(|| connections_seen.iter().next().cloned())
            .flatten();
        let sql_by_element = match sql_by_element {
            Some(listed) => listed,
            None => {
                let unresolved: Vec<String> = charts
                    .iter()
                    .map(|e| e.element_id.clone())
                    .filter(|id| !resolved.contains(id))
                    .collect();
                self.element_sql(doc, unresolved).await
            }
        };
        for element in charts {
            let Some(sql_text) = sql_by_element.get(&element.element_id) else {
                continue;
            };
            for table in self.tables_in_sql(sql_text, connection.as_deref()) {
                reads.add(
                    &element.element_id,
                    Upstream::Table {
                        table,
                        source: TableSource::Sql,
                    },
                );
            }
        }
        reads
    }

    /// The SQL of some of a document's elements, one `/elements/{id}/query` each (8 at a
    /// time): the fallback where the deployment has no `/queries`. An element Sigma has no
    /// query for (400, 403, 404) has no SQL; any other failure is a warning.
    async fn element_sql(
        &self,
        doc: &Document,
        element_ids: Vec<String>,
    ) -> HashMap<String, String> {
        let api = self.ctx.api.clone();
        let (kind, id) = (doc.kind, doc.id.clone());
        let results: Vec<(String, Result<Option<ElementQuery>, ClientError>)> =
            stream::iter(element_ids)
                .map(move |element_id| {
                    let api = api.clone();
                    let id = id.clone();
                    async move {
                        let query = api.document_element_query(kind, &id, &element_id).await;
                        (element_id, query)
                    }
                })
                .buffered(8)
                .collect()
                .await;
        let mut out = HashMap::new();
        for (element_id, result) in results {
            match result {
                Ok(query) => {
                    if let Some(sql) = query.and_then(|q| q.sql) {
                        out.insert(element_id, sql);
                    }
                }
                Err(e) => self.ctx.status.warn(
                    &format!(
                        "element SQL unavailable ({}); lineage comes from the lineage graph only",
                        e.cause()
                    ),
                    Some(&format!("{}/{element_id}", doc.id)),
                    format!(
                        "{} `{}` element {element_id}: SQL unavailable ({e}); lineage comes from the lineage graph only",
                        doc_noun(doc.kind),
                        doc.name
                    ),
                ),
            }
        }
        out
    }
}

/// A data model lineage node id as `(urlId, elementId)`: `inode-<urlId>` names the data
/// model as a whole, `<urlId>/<elementId>` one of its elements.
fn data_model_node(node_id: &str) -> (Option<String>, Option<String>) {
    let id = node_id.strip_prefix("inode-").unwrap_or(node_id);
    let (url_id, element) = match id.split_once('/') {
        Some((url_id, element)) => (url_id, Some(element)),
        None => (id, None),
    };
    (
        (!url_id.is_empty()).then(|| url_id.to_owned()),
        element.filter(|e| !e.is_empty()).map(str::to_owned),
    )
}

fn doc_noun(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Workbook => "workbook",
        DocumentKind::Report => "report",
    }
}
