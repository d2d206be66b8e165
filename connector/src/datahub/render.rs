//! Catalog items as DataHub metadata change proposals.
//!
//! | Sigma | DataHub (URN as DataHub's own Sigma source writes it) |
//! |---|---|
//! | workspace | container (key `workspaceId`), subtype `Sigma Workspace`: what its `path` starts in is placed in it |
//! | workbook | dashboard `(sigma,<workbookId>)`, subtype `Sigma Workbook`, its pages as `dashboards` |
//! | report | dashboard `(sigma,<reportId>)`, subtype `Sigma Report` (DataHub's source has no reports) |
//! | page | dashboard `(sigma,<pageId>)` holding its charts |
//! | element (chart or table) | chart `(sigma,<elementId>)`; `inputs` = what it reads; `inputFields` = its columns' sources |
//! | data model | container (key `dataModelId`), subtype `Sigma Data Model` |
//! | data model element | dataset `(sigma,<dataModelId>.<elementId>)`: schema, `upstreamLineage` with `fineGrainedLineages` |
//! | dataset | dataset `(sigma,<datasetUrlId>)`, subtype `Sigma Dataset`; `deprecation` by migration state |
//! | warehouse table | dataset on the platform of the Sigma connection's type (or `connectionToPlatformMap`) |
//!
//! Every entity gets `status {removed: false}`; what a complete run no longer sees gets
//! `status {removed: true}` ([`removed`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::mcp::Upstream as Upstream_;
use super::mcp::*;
use super::urn::{self, ContainerKey, SIGMA};
use super::{DataHubOptions, platform_of};
use crate::catalog::{
    self, ColumnRef, DataModel, DataModelElement, Dataset, Document, DocumentKind, End, Item,
    Upstream, WarehouseTable,
};

/// Where an element sits: its siblings are charts (a document) or datasets (a data model).
#[derive(Clone, Copy)]
enum Scope<'a> {
    Document,
    DataModel(&'a str),
}

/// Renders items, remembering what later items refer to (connections, datasets' URL ids).
#[derive(Debug, Default)]
pub struct Renderer {
    options: DataHubOptions,
    /// Sigma connections by id (from the org item).
    connections: HashMap<String, catalog::Connection>,
    /// Workspace ids by name (from the org item): `None` for a name two workspaces share,
    /// which then places nothing.
    workspaces: HashMap<String, Option<String>>,
    /// A dataset's URN part (its URL id, as DataHub's source keys it) by `datasetId`.
    dataset_parts: HashMap<String, String>,
    /// Warehouse ends whose DataHub platform cannot be told, by connection: said once each.
    unmapped: BTreeSet<String>,
    /// Every entity an earlier item of this run wrote (see [`Renderer::not_yet_written`]).
    written: std::collections::HashSet<String>,
}

/// The entities proposals describe (each entity gets a `status`): what a later complete
/// run that no longer renders them marks removed.
pub fn entities(mcps: &[Mcp]) -> BTreeSet<String> {
    mcps.iter()
        .filter(|m| matches!(m.aspect, Aspect::Status(_)))
        .map(|m| m.entity_urn.clone())
        .collect()
}

/// `status {removed: true}` for `urn`: DataHub's soft delete.
pub fn removed(urn: &str) -> Mcp {
    Mcp::new(urn, Aspect::Status(Status { removed: true }))
}

/// Milliseconds since the epoch of an RFC 3339 time; 0 (DataHub's "unknown") otherwise.
fn millis(time: &str) -> i64 {
    time.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or(0)
}

fn props<const N: usize>(pairs: [(&str, Option<&str>); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned())))
        .collect()
}

fn chart_type(element: &catalog::Element) -> Option<ChartType> {
    let kind = element
        .visualization_type
        .as_deref()
        .or(element.element_type.as_deref())?
        .to_ascii_lowercase();
    Some(match kind.as_str() {
        "bar" | "column" | "waterfall" | "stacked-bar" => ChartType::Bar,
        "line" => ChartType::Line,
        "area" => ChartType::Area,
        "pie" | "donut" => ChartType::Pie,
        "scatter" => ChartType::Scatter,
        "box" | "box-plot" => ChartType::BoxPlot,
        "histogram" => ChartType::Histogram,
        "table" | "pivot-table" | "input-table" | "level-table" | "pivot" => ChartType::Table,
        "text" => ChartType::Text,
        _ => return None,
    })
}

impl Renderer {
    pub fn new(options: DataHubOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    fn instance(&self) -> Option<&str> {
        self.options.platform_instance.as_deref()
    }

    /// Leaves out the proposals of entities an earlier item of this run already wrote.
    /// Chart and page URNs are bare Sigma ids (DataHub's own Sigma source's choice, kept),
    /// and those ids repeat across workbooks: without this, which workbook's chart "wins"
    /// would depend on which batch GMS happened to take last. The first in listing order
    /// wins, the same every run.
    pub fn not_yet_written(&mut self, mcps: Vec<Mcp>) -> Vec<Mcp> {
        let earlier: BTreeSet<String> = entities(&mcps)
            .into_iter()
            .filter(|u| self.written.contains(u))
            .collect();
        self.written.extend(entities(&mcps));
        if earlier.is_empty() {
            return mcps;
        }
        mcps.into_iter()
            .filter(|m| !earlier.contains(&m.entity_urn))
            .collect()
    }

    pub fn options(&self) -> &DataHubOptions {
        &self.options
    }

    /// The proposals for one item, in a stable order.
    pub fn render(&mut self, item: &Item) -> Vec<Mcp> {
        match item {
            Item::Org(org) => {
                for c in &org.connections {
                    self.connections.insert(c.id.clone(), c.clone());
                }
                self.workspaces.clear();
                for w in &org.workspaces {
                    self.workspaces
                        .entry(w.name.clone())
                        .and_modify(|id| *id = None)
                        .or_insert_with(|| Some(w.id.clone()));
                }
                org.workspaces
                    .iter()
                    .flat_map(|w| self.workspace(w))
                    .collect()
            }
            Item::Document(d) => self.document(d),
            Item::DataModel(m) => self.data_model(m),
            Item::Dataset(d) => self.dataset(d),
        }
    }

    // ---- URNs of Sigma objects ------------------------------------------------------

    fn dm_element_urn(&self, data_model_id: &str, element_id: &str) -> String {
        urn::dataset(
            SIGMA,
            self.instance(),
            &format!("{data_model_id}.{element_id}"),
            &self.options.env,
        )
    }

    fn dataset_urn(&self, dataset_id: &str) -> String {
        let part = self
            .dataset_parts
            .get(dataset_id)
            .map_or(dataset_id, String::as_str);
        urn::dataset(SIGMA, self.instance(), part, &self.options.env)
    }

    fn chart_urn(&self, element_id: &str) -> String {
        urn::chart(SIGMA, self.instance(), element_id)
    }

    fn dashboard_urn(&self, id: &str) -> String {
        urn::dashboard(SIGMA, self.instance(), id)
    }

    /// The container of the workspace `path` starts in. Sigma's listings name a
    /// document's workspace only by `path`, whose first segment is the workspace's name:
    /// matched exactly, and only when one workspace has that name.
    fn workspace_container(&self, path: &str) -> Option<String> {
        let name = path.split('/').next()?;
        let id = self.workspaces.get(name)?.as_deref()?;
        Some(urn::container(&ContainerKey::workspace(
            self.instance(),
            id,
        )))
    }

    /// A warehouse table's dataset: the platform from the connection's mapping or type,
    /// the name its path joined by `.` (lower-cased as DataHub does, below).
    /// `None` (said once per connection) when no platform can be told.
    fn table(&mut self, table: &WarehouseTable) -> Option<(String, bool)> {
        let connection = table
            .connection_id
            .as_deref()
            .and_then(|id| self.connections.get(id));
        let mapping = table
            .connection_id
            .as_deref()
            .and_then(|id| self.options.connections.get(id))
            .or_else(|| connection.and_then(|c| self.options.connections.get(&c.name)));
        let sigma_type = table
            .connection_type
            .as_deref()
            .or(connection.map(|c| c.connection_type.as_str()));
        let platform = mapping
            .and_then(|m| m.platform.clone())
            .or_else(|| sigma_type.and_then(platform_of).map(str::to_owned));
        let Some(platform) = platform else {
            let which = table
                .connection_id
                .clone()
                .unwrap_or_else(|| "(unknown connection)".to_owned());
            if self.unmapped.insert(which.clone()) {
                tracing::warn!(
                    connection = %which,
                    sigma_type = sigma_type.unwrap_or("unknown"),
                    "no DataHub platform for this Sigma connection: its tables are left out of lineage; name one in sink.config.connectionToPlatformMap"
                );
            }
            return None;
        };
        if table.path.is_empty() {
            return None;
        }
        // DataHub's rule (its Sigma source and warehouse connectors): Snowflake names are
        // lower-cased by default, other platforms keep Sigma's casing; an explicit setting
        // turns it on or off, except on the platforms whose table names are case-sensitive.
        let lower = match mapping.and_then(|m| m.convert_urns_to_lowercase) {
            Some(false) => false,
            Some(true) => !matches!(platform.as_str(), "bigquery" | "db2"),
            None => platform == "snowflake",
        };
        let default_database = mapping
            .and_then(|m| m.default_database.as_deref())
            .filter(|db| !db.is_empty() && table.path.len() == 2);
        let mut name = default_database
            .into_iter()
            .chain(table.path.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(".");
        if lower {
            name = name.to_lowercase();
        }
        let env = mapping
            .and_then(|m| m.env.clone())
            .unwrap_or_else(|| self.options.env.clone());
        let instance = mapping.and_then(|m| m.platform_instance.as_deref());
        Some((urn::dataset(&platform, instance, &name, &env), lower))
    }

    fn upstream_urns(&mut self, upstream: &Upstream, scope: Scope<'_>) -> Vec<String> {
        match upstream {
            Upstream::Table { table, .. } => {
                self.table(table).map(|(u, _)| u).into_iter().collect()
            }
            Upstream::CustomSql { tables, .. } => tables
                .iter()
                .filter_map(|t| self.table(t).map(|(u, _)| u))
                .collect(),
            Upstream::DataModel {
                data_model_id,
                elements,
                ..
            } => elements
                .iter()
                .map(|e| self.dm_element_urn(data_model_id, e))
                .collect(),
            Upstream::DataModelElement {
                data_model_id,
                element_id,
            } => vec![self.dm_element_urn(data_model_id, element_id)],
            Upstream::Dataset { dataset_id } => vec![self.dataset_urn(dataset_id)],
            Upstream::Element { element_id } => match scope {
                Scope::DataModel(dm) => vec![self.dm_element_urn(dm, element_id)],
                // A chart reading a sibling chart: no dataset to point at.
                Scope::Document => Vec::new(),
            },
        }
    }

    /// A source column's schema field URN.
    fn source_field(&mut self, from: &ColumnRef, scope: Scope<'_>) -> Option<String> {
        let (parent, lower) = match &from.end {
            End::Table { table } => self.table(table)?,
            End::DataModelElement {
                data_model_id,
                element_id,
            } => (self.dm_element_urn(data_model_id, element_id), false),
            End::Dataset { dataset_id } => (self.dataset_urn(dataset_id), false),
            End::Element { element_id } => match scope {
                Scope::DataModel(dm) => (self.dm_element_urn(dm, element_id), false),
                Scope::Document => (self.chart_urn(element_id), false),
            },
        };
        let column = if lower {
            from.column.to_lowercase()
        } else {
            from.column.clone()
        };
        Some(urn::schema_field(&parent, &column))
    }

    fn common(
        &self,
        out: &mut Vec<Mcp>,
        entity: &str,
        owner: Option<&str>,
        tags: &[String],
        container: Option<&str>,
    ) {
        if let Some(owner) = owner.filter(|o| !o.is_empty()) {
            out.push(Mcp::new(
                entity,
                Aspect::Ownership(Ownership::data_owners([urn::corp_user(owner)])),
            ));
        }
        if !tags.is_empty() {
            let tags = tags
                .iter()
                .map(|t| TagAssociation { tag: urn::tag(t) })
                .collect();
            out.push(Mcp::new(entity, Aspect::GlobalTags(GlobalTags { tags })));
        }
        if let Some(container) = container {
            out.push(Mcp::new(
                entity,
                Aspect::Container(Container {
                    container: container.to_owned(),
                }),
            ));
        }
    }

    /// `browsePathsV2`: the workspace container (when known), then the folders of `path`
    /// after the workspace, then `extra`.
    fn browse(&self, path: &str, extra: &[&str], parent: Option<(&str, &str)>) -> BrowsePathsV2 {
        let mut entries = Vec::new();
        let mut segments = path.split('/').filter(|s| !s.is_empty());
        if let Some(ws) = self.workspace_container(path) {
            segments.next();
            entries.push(BrowsePathEntry {
                id: ws.clone(),
                urn: Some(ws),
            });
        }
        entries.extend(segments.map(|s| BrowsePathEntry {
            id: s.to_owned(),
            urn: None,
        }));
        if let Some((id, urn)) = parent {
            entries.push(BrowsePathEntry {
                id: id.to_owned(),
                urn: Some(urn.to_owned()),
            });
        }
        entries.extend(extra.iter().map(|s| BrowsePathEntry {
            id: (*s).to_owned(),
            urn: None,
        }));
        BrowsePathsV2 { path: entries }
    }

    // ---- Items ----------------------------------------------------------------------

    /// A workspace's container, with the aspects DataHub's `gen_containers` gives it.
    fn workspace(&self, ws: &catalog::Workspace) -> Vec<Mcp> {
        let container = urn::container(&ContainerKey::workspace(self.instance(), &ws.id));
        let mut out = vec![
            Mcp::new(
                &container,
                Aspect::ContainerProperties(ContainerProperties {
                    custom_properties: props([
                        ("platform", Some(SIGMA)),
                        ("instance", self.instance()),
                        ("workspaceId", Some(ws.id.as_str())),
                    ]),
                    external_url: None,
                    name: ws.name.clone(),
                    description: None,
                    created: ws
                        .created_at
                        .as_deref()
                        .map(|t| TimeStamp { time: millis(t) }),
                    last_modified: ws
                        .updated_at
                        .as_deref()
                        .map(|t| TimeStamp { time: millis(t) }),
                }),
            ),
            Mcp::new(&container, Aspect::alive()),
            Mcp::new(
                &container,
                Aspect::DataPlatformInstance(DataPlatformInstance {
                    platform: urn::data_platform(SIGMA),
                    instance: self
                        .instance()
                        .map(|i| urn::data_platform_instance(SIGMA, i)),
                }),
            ),
            Mcp::new(&container, Aspect::sub_type("Sigma Workspace")),
        ];
        self.common(&mut out, &container, ws.owner.as_deref(), &[], None);
        // A top-level container: an empty browse path, as DataHub's auto_browse_path_v2 gives it.
        out.push(Mcp::new(
            &container,
            Aspect::BrowsePathsV2(BrowsePathsV2 { path: Vec::new() }),
        ));
        out
    }

    fn document(&mut self, doc: &Document) -> Vec<Mcp> {
        let mut out = Vec::new();
        let urn = self.dashboard_urn(&doc.id);
        let (sub_type, kind) = match doc.kind {
            DocumentKind::Workbook => ("Sigma Workbook", "workbook"),
            DocumentKind::Report => ("Sigma Report", "report"),
        };
        let updated = millis(&doc.updated_at);
        let stamps = ChangeAuditStamps {
            created: doc
                .created_at
                .as_deref()
                .map(|t| AuditStamp::at(millis(t)))
                .unwrap_or_default(),
            last_modified: AuditStamp::at(updated),
        };
        let charts: Vec<&catalog::Element> = doc.elements.iter().filter(|e| e.is_chart).collect();
        out.push(Mcp::new(&urn, Aspect::alive()));
        out.push(Mcp::new(
            &urn,
            Aspect::DashboardInfo(DashboardInfo {
                custom_properties: props([
                    ("path", Some(doc.path.as_str())),
                    ("sigmaType", Some(kind)),
                    ("urlId", doc.url_id.as_deref()),
                ]),
                external_url: Some(doc.url.clone()),
                title: doc.name.clone(),
                description: doc.description.clone().unwrap_or_default(),
                charts: Vec::new(),
                datasets: Vec::new(),
                dashboards: doc
                    .pages
                    .iter()
                    .map(|p| Edge {
                        source_urn: urn.clone(),
                        destination_urn: self.dashboard_urn(&p.id),
                    })
                    .collect(),
                last_modified: stamps.clone(),
            }),
        ));
        out.push(Mcp::new(&urn, Aspect::sub_type(sub_type)));
        let ws = self.workspace_container(&doc.path);
        self.common(
            &mut out,
            &urn,
            doc.owner.as_deref(),
            &doc.tags,
            ws.as_deref(),
        );
        out.push(Mcp::new(
            &urn,
            Aspect::BrowsePathsV2(self.browse(&doc.path, &[&doc.name], None)),
        ));

        for page in &doc.pages {
            let page_urn = self.dashboard_urn(&page.id);
            let on_page: Vec<String> = charts
                .iter()
                .filter(|e| e.page_id == page.id)
                .map(|e| self.chart_urn(&e.id))
                .collect();
            out.push(Mcp::new(&page_urn, Aspect::alive()));
            out.push(Mcp::new(
                &page_urn,
                Aspect::DashboardInfo(DashboardInfo {
                    custom_properties: props([
                        ("ElementsCount", Some(on_page.len().to_string().as_str())),
                        ("documentId", Some(doc.id.as_str())),
                    ]),
                    external_url: None,
                    title: page.name.clone().unwrap_or_else(|| page.id.clone()),
                    description: String::new(),
                    charts: on_page,
                    datasets: Vec::new(),
                    dashboards: Vec::new(),
                    last_modified: ChangeAuditStamps::default(),
                }),
            ));
            out.push(Mcp::new(
                &page_urn,
                Aspect::BrowsePathsV2(self.browse(&doc.path, &[&doc.name], None)),
            ));
        }

        // A page's input fields are its charts' (as DataHub's source writes them): what the
        // page reads, for DataHub's "fields used" of a dashboard.
        let mut page_fields: BTreeMap<&str, Vec<InputField>> = BTreeMap::new();
        for element in charts {
            let fields = self.chart(&mut out, doc, element);
            let on_page = page_fields.entry(element.page_id.as_str()).or_default();
            for field in fields {
                let path = field.schema_field.as_ref().map(|f| &f.field_path);
                let known = on_page.iter().any(|f| {
                    f.schema_field_urn == field.schema_field_urn
                        && f.schema_field.as_ref().map(|f| &f.field_path) == path
                });
                if !known {
                    on_page.push(field);
                }
            }
        }
        for page in &doc.pages {
            if let Some(fields) = page_fields
                .remove(page.id.as_str())
                .filter(|f| !f.is_empty())
            {
                out.push(Mcp::new(
                    self.dashboard_urn(&page.id),
                    Aspect::InputFields(InputFields { fields }),
                ));
            }
        }
        out
    }

    /// A chart's proposals; its input fields are returned for its page's.
    fn chart(
        &mut self,
        out: &mut Vec<Mcp>,
        doc: &Document,
        element: &catalog::Element,
    ) -> Vec<InputField> {
        let urn = self.chart_urn(&element.id);
        let mut inputs = Vec::new();
        for up in &element.upstreams {
            for u in self.upstream_urns(up, Scope::Document) {
                if !inputs.contains(&u) {
                    inputs.push(u);
                }
            }
        }
        out.push(Mcp::new(&urn, Aspect::alive()));
        out.push(Mcp::new(
            &urn,
            Aspect::ChartInfo(ChartInfo {
                custom_properties: props([
                    ("VizualizationType", element.visualization_type.as_deref()),
                    ("type", element.element_type.as_deref()),
                    ("documentId", Some(doc.id.as_str())),
                    ("pageId", Some(element.page_id.as_str())),
                    ("error", element.error.as_deref()),
                ]),
                external_url: Some(element.url.clone()),
                title: element.display_name.clone(),
                description: String::new(),
                last_modified: ChangeAuditStamps::default(),
                inputs,
                chart_type: chart_type(element),
            }),
        ));
        // Each column: one input field per source column it reads; a column read from
        // nowhere this run can name is listed as the chart's own (as DataHub's source does).
        let mut fields = Vec::new();
        for column in &element.columns {
            let field = SchemaField::new(
                column.name.clone(),
                column.column_type.as_deref(),
                column.formula.clone(),
            );
            let sources: Vec<String> = element
                .column_lineage
                .iter()
                .filter(|l| l.to == column.name)
                .flat_map(|l| l.from.iter())
                .collect::<Vec<_>>()
                .into_iter()
                .filter_map(|from| self.source_field(from, Scope::Document))
                .collect();
            if sources.is_empty() {
                fields.push(InputField {
                    schema_field_urn: urn::schema_field(&urn, &column.name),
                    schema_field: Some(field),
                });
            } else {
                let mut seen = BTreeSet::new();
                for source in sources {
                    if seen.insert(source.clone()) {
                        fields.push(InputField {
                            schema_field_urn: source,
                            schema_field: Some(field.clone()),
                        });
                    }
                }
            }
        }
        if !fields.is_empty() {
            out.push(Mcp::new(
                &urn,
                Aspect::InputFields(InputFields {
                    fields: fields.clone(),
                }),
            ));
        }
        out.push(Mcp::new(
            &urn,
            Aspect::BrowsePathsV2(self.browse(&doc.path, &[&doc.name], None)),
        ));
        fields
    }

    fn data_model(&mut self, dm: &DataModel) -> Vec<Mcp> {
        let mut out = Vec::new();
        let container = urn::container(&ContainerKey::data_model(self.instance(), &dm.id));
        out.push(Mcp::new(
            &container,
            Aspect::ContainerProperties(ContainerProperties {
                custom_properties: props([
                    ("dataModelId", Some(dm.id.as_str())),
                    ("dataModelUrlId", Some(dm.url_id.as_str())),
                    ("path", Some(dm.path.as_str())),
                    (
                        "replacesDatasets",
                        (!dm.replaces_datasets.is_empty())
                            .then(|| dm.replaces_datasets.join(","))
                            .as_deref(),
                    ),
                ]),
                external_url: Some(dm.url.clone()),
                name: dm.name.clone(),
                description: dm.description.clone(),
                created: dm
                    .created_at
                    .as_deref()
                    .map(|t| TimeStamp { time: millis(t) }),
                last_modified: Some(TimeStamp {
                    time: millis(&dm.updated_at),
                }),
            }),
        ));
        out.push(Mcp::new(&container, Aspect::alive()));
        out.push(Mcp::new(
            &container,
            Aspect::DataPlatformInstance(DataPlatformInstance {
                platform: urn::data_platform(SIGMA),
                instance: self
                    .instance()
                    .map(|i| urn::data_platform_instance(SIGMA, i)),
            }),
        ));
        out.push(Mcp::new(&container, Aspect::sub_type("Sigma Data Model")));
        let ws = self.workspace_container(&dm.path);
        self.common(
            &mut out,
            &container,
            dm.owner.as_deref(),
            &dm.tags,
            ws.as_deref(),
        );
        out.push(Mcp::new(
            &container,
            Aspect::BrowsePathsV2(self.browse(&dm.path, &[], None)),
        ));
        for element in &dm.elements {
            self.data_model_element(&mut out, dm, &container, element);
        }
        out
    }

    fn data_model_element(
        &mut self,
        out: &mut Vec<Mcp>,
        dm: &DataModel,
        container: &str,
        element: &DataModelElement,
    ) {
        let urn = self.dm_element_urn(&dm.id, &element.id);
        let name = element.name.clone().unwrap_or_else(|| element.id.clone());
        out.push(Mcp::new(&urn, Aspect::alive()));
        out.push(Mcp::new(
            &urn,
            Aspect::DatasetProperties(DatasetProperties {
                custom_properties: props([
                    ("dataModelId", Some(dm.id.as_str())),
                    ("dataModelUrlId", Some(dm.url_id.as_str())),
                    ("elementId", Some(element.id.as_str())),
                    (
                        "type",
                        Some(element.element_type.as_deref().unwrap_or("Unknown")),
                    ),
                ]),
                external_url: Some(element.url.clone()),
                name: Some(name.clone()),
                qualified_name: Some(format!("{}/{}", dm.name, name)),
                description: None,
                created: None,
                last_modified: Some(TimeStamp {
                    time: millis(&dm.updated_at),
                }),
                tags: Vec::new(),
            }),
        ));
        out.push(Mcp::new(&urn, Aspect::sub_type("Sigma Data Model Element")));
        if let Some(instance) = self.instance() {
            out.push(Mcp::new(
                &urn,
                Aspect::DataPlatformInstance(DataPlatformInstance {
                    platform: urn::data_platform(SIGMA),
                    instance: Some(urn::data_platform_instance(SIGMA, instance)),
                }),
            ));
        }
        let mut fields = Vec::new();
        let mut paths = BTreeSet::new();
        for column in &element.columns {
            // DataHub keys a schema by field path: a repeated name would be refused.
            if paths.insert(column.name.clone()) {
                fields.push(SchemaField::new(
                    column.name.clone(),
                    column.column_type.as_deref(),
                    column.description.clone(),
                ));
            }
        }
        out.push(Mcp::new(
            &urn,
            Aspect::SchemaMetadata(SchemaMetadata {
                schema_name: name.clone(),
                platform: urn::data_platform(SIGMA),
                version: 0,
                hash: String::new(),
                platform_schema: OtherSchema,
                fields,
            }),
        ));
        let scope = Scope::DataModel(&dm.id);
        let mut upstreams: Vec<String> = Vec::new();
        for up in &element.upstreams {
            for u in self.upstream_urns(up, scope) {
                if u != urn && !upstreams.contains(&u) {
                    upstreams.push(u);
                }
            }
        }
        let mut fine = Vec::new();
        for pair in &element.column_lineage {
            let mut sources: Vec<String> = Vec::new();
            for from in &pair.from {
                if let Some(f) = self.source_field(from, scope) {
                    if !sources.contains(&f) {
                        sources.push(f);
                    }
                }
            }
            if sources.is_empty() {
                continue;
            }
            // A column's source dataset is an upstream too, even when the table-grain
            // lineage did not name it.
            for s in &sources {
                if let Some(parent) = parent_of(s) {
                    if parent != urn && !upstreams.iter().any(|u| u == parent) {
                        upstreams.push(parent.to_owned());
                    }
                }
            }
            fine.push(FineGrainedLineage::field(
                sources,
                urn::schema_field(&urn, &pair.to),
                pair.function.clone(),
            ));
        }
        if !upstreams.is_empty() {
            out.push(Mcp::new(
                &urn,
                Aspect::UpstreamLineage(UpstreamLineage {
                    upstreams: upstreams
                        .into_iter()
                        .map(|dataset| Upstream_ {
                            audit_stamp: AuditStamp::default(),
                            dataset,
                            lineage_type: LineageType::Transformed,
                        })
                        .collect(),
                    fine_grained_lineages: fine,
                }),
            ));
        }
        out.push(Mcp::new(
            &urn,
            Aspect::Container(Container {
                container: container.to_owned(),
            }),
        ));
        out.push(Mcp::new(
            &urn,
            Aspect::BrowsePathsV2(self.browse(&dm.path, &[], Some((container, container)))),
        ));
    }

    fn dataset(&mut self, ds: &Dataset) -> Vec<Mcp> {
        let part = ds
            .url_id
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| {
                ds.url
                    .rsplit('/')
                    .next()
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| ds.id.clone());
        self.dataset_parts.insert(ds.id.clone(), part);
        let urn = self.dataset_urn(&ds.id);
        let mut out = Vec::new();
        out.push(Mcp::new(&urn, Aspect::alive()));
        out.push(Mcp::new(
            &urn,
            Aspect::DatasetProperties(DatasetProperties {
                custom_properties: props([
                    ("datasetId", Some(ds.id.as_str())),
                    ("migrationStatus", ds.migration_status.as_deref()),
                    ("migratedToDataModel", ds.migrated_to.as_deref()),
                ]),
                external_url: Some(ds.url.clone()),
                name: Some(ds.name.clone()),
                qualified_name: Some(ds.name.clone()),
                description: Some(ds.description.clone().unwrap_or_default()),
                created: ds
                    .created_at
                    .as_deref()
                    .map(|t| TimeStamp { time: millis(t) }),
                last_modified: Some(TimeStamp {
                    time: millis(&ds.updated_at),
                }),
                tags: Vec::new(),
            }),
        ));
        out.push(Mcp::new(&urn, Aspect::sub_type("Sigma Dataset")));
        // Sigma retired datasets as a data source (2026-09-15): every one not yet replaced
        // is deprecated, a migrated one names the data model that stands for it.
        let deprecation = match (ds.migration_status.as_deref(), ds.migrated_to.as_deref()) {
            (Some("migrated"), Some(dm)) => Some(Deprecation {
                deprecated: true,
                note: format!("Sigma retired datasets; this one was migrated to data model {dm}"),
                actor: "urn:li:corpuser:datahub".to_owned(),
                replacement: Some(urn::container(&ContainerKey::data_model(self.instance(), dm))),
            }),
            (Some("not-migrated"), _) => Some(Deprecation {
                deprecated: true,
                note: "Sigma retired datasets as a data source on 2026-09-15; not migrated to a data model yet".to_owned(),
                actor: "urn:li:corpuser:datahub".to_owned(),
                replacement: None,
            }),
            _ => None,
        };
        if let Some(d) = deprecation {
            out.push(Mcp::new(&urn, Aspect::Deprecation(d)));
        }
        if let Some(path) = ds.path.as_deref() {
            let ws = self.workspace_container(path);
            self.common(&mut out, &urn, None, &[], ws.as_deref());
            out.push(Mcp::new(
                &urn,
                Aspect::BrowsePathsV2(self.browse(path, &[], None)),
            ));
        }
        let mut upstreams: Vec<String> = Vec::new();
        for t in &ds.upstreams {
            if let Some((u, _)) = self.table(t) {
                if !upstreams.contains(&u) {
                    upstreams.push(u);
                }
            }
        }
        if !upstreams.is_empty() {
            out.push(Mcp::new(
                &urn,
                Aspect::UpstreamLineage(UpstreamLineage {
                    upstreams: upstreams
                        .into_iter()
                        .map(|dataset| Upstream_ {
                            audit_stamp: AuditStamp::default(),
                            dataset,
                            lineage_type: LineageType::Copy,
                        })
                        .collect(),
                    fine_grained_lineages: Vec::new(),
                }),
            ));
        }
        out
    }
}

/// The parent URN of a schema field URN (`urn:li:schemaField:(<parent>,<field>)`).
fn parent_of(field: &str) -> Option<&str> {
    let inner = field
        .strip_prefix("urn:li:schemaField:(")?
        .strip_suffix(')')?;
    let comma = inner.rfind(',')?;
    Some(&inner[..comma])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{
        Column, ColumnLineage, Connection, Element, LineageSource, Org, Page, TableSource,
        Workspace,
    };

    fn table(path: &[&str]) -> WarehouseTable {
        WarehouseTable {
            connection_id: Some("c1".into()),
            connection_type: None,
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            inode_id: Some("inode-t".into()),
        }
    }

    fn column(name: &str, formula: &str) -> Column {
        Column {
            column_id: None,
            name: name.into(),
            label: None,
            formula: Some(formula.into()),
            column_type: Some("number".into()),
            description: None,
        }
    }

    pub(crate) fn sample() -> Vec<Item> {
        let orders = table(&["DB", "SALES", "ORDERS"]);
        vec![
            Item::Org(Org {
                host: "https://sigma.example".into(),
                connections: vec![Connection {
                    id: "c1".into(),
                    name: "Warehouse".into(),
                    connection_type: "snowflake".into(),
                }],
                workspaces: vec![
                    Workspace {
                        id: "ws0".into(),
                        name: "Workspace 0".into(),
                        owner: Some("ada@example.com".into()),
                        created_at: Some("2026-01-01T00:00:00Z".into()),
                        updated_at: None,
                    },
                    Workspace {
                        id: "ws1".into(),
                        name: "Twice".into(),
                        owner: None,
                        created_at: None,
                        updated_at: None,
                    },
                    Workspace {
                        id: "ws2".into(),
                        name: "Twice".into(),
                        owner: None,
                        created_at: None,
                        updated_at: None,
                    },
                ],
                workspaces_complete: true,
            }),
            Item::Dataset(Dataset {
                id: "ds1".into(),
                url_id: Some("dsUrl1".into()),
                name: "Old orders".into(),
                description: None,
                url: "https://app/dataset/dsUrl1".into(),
                path: Some("Twice/Legacy".into()),
                created_at: None,
                updated_at: "2026-01-02T03:04:05Z".into(),
                migration_status: Some("not-migrated".into()),
                migrated_to: None,
                upstreams: vec![orders.clone()],
            }),
            Item::DataModel(DataModel {
                id: "dm1".into(),
                url_id: "dmUrl1".into(),
                name: "Sales model".into(),
                description: None,
                url: "https://app/data-model/dmUrl1".into(),
                path: "Workspace 0/Models".into(),
                created_at: None,
                updated_at: "2026-01-02T03:04:05Z".into(),
                owner: Some("ada@example.com".into()),
                tags: vec!["Production".into()],
                elements: vec![DataModelElement {
                    id: "e1".into(),
                    name: Some("Orders".into()),
                    element_type: Some("table".into()),
                    url: "https://app/data-model/dmUrl1?:nodeId=e1".into(),
                    columns: vec![column("Amount (USD)", "[ORDERS/AMOUNT]")],
                    upstreams: vec![Upstream::Table {
                        table: orders.clone(),
                        source: TableSource::Lineage,
                    }],
                    column_lineage: vec![ColumnLineage {
                        to: "Amount (USD)".into(),
                        from: vec![ColumnRef {
                            end: End::Table { table: orders },
                            column: "AMOUNT".into(),
                        }],
                        function: Some("[ORDERS/AMOUNT]".into()),
                        via: None,
                    }],
                }],
                replaces_datasets: Vec::new(),
                lineage: LineageSource::Tree,
            }),
            Item::Document(Document {
                id: "wb1".into(),
                url_id: Some("wbUrl1".into()),
                kind: DocumentKind::Report,
                name: "Quarterly".into(),
                description: None,
                url: "https://app/report/wbUrl1".into(),
                path: "Workspace 0".into(),
                created_at: Some("2025-12-01T00:00:00Z".into()),
                updated_at: "2026-01-02T03:04:05Z".into(),
                owner: Some("ada@example.com".into()),
                tags: vec!["Production".into()],
                pages: vec![Page {
                    id: "p1".into(),
                    name: Some("Overview".into()),
                }],
                elements: vec![Element {
                    id: "el1".into(),
                    page_id: "p1".into(),
                    name: Some("Revenue".into()),
                    display_name: "Revenue".into(),
                    element_type: Some("visualization".into()),
                    visualization_type: Some("bar".into()),
                    is_chart: true,
                    error: None,
                    url: "https://app/report/wbUrl1?:nodeId=el1".into(),
                    columns: vec![column("Total", "Sum([Orders/Amount (USD)])")],
                    upstreams: vec![Upstream::DataModel {
                        data_model_id: "dm1".into(),
                        elements: vec!["e1".into()],
                        via_dataset: None,
                    }],
                    column_lineage: vec![ColumnLineage {
                        to: "Total".into(),
                        from: vec![ColumnRef {
                            end: End::DataModelElement {
                                data_model_id: "dm1".into(),
                                element_id: "e1".into(),
                            },
                            column: "Amount (USD)".into(),
                        }],
                        function: Some("Sum([Orders/Amount (USD)])".into()),
                        via: None,
                    }],
                }],
            }),
        ]
    }

    #[test]
    fn a_report_a_data_model_and_a_dataset_render_with_datahubs_urns_and_column_lineage() {
        let mut renderer = Renderer::new(DataHubOptions::from_sink(&Default::default()));
        let mcps: Vec<Mcp> = sample().iter().flat_map(|i| renderer.render(i)).collect();
        let urns: BTreeSet<&str> = mcps.iter().map(|m| m.entity_urn.as_str()).collect();
        for expected in [
            "urn:li:dashboard:(sigma,wb1)",
            "urn:li:dashboard:(sigma,p1)",
            "urn:li:chart:(sigma,el1)",
            "urn:li:dataset:(urn:li:dataPlatform:sigma,dm1.e1,PROD)",
            "urn:li:dataset:(urn:li:dataPlatform:sigma,dsUrl1,PROD)",
        ] {
            assert!(urns.contains(expected), "{expected} in {urns:?}");
        }
        let lineage = mcps
            .iter()
            .find_map(|m| match &m.aspect {
                Aspect::UpstreamLineage(l) if m.entity_urn.contains("dm1.e1") => Some(l),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            lineage.upstreams[0].dataset,
            "urn:li:dataset:(urn:li:dataPlatform:snowflake,db.sales.orders,PROD)"
        );
        assert_eq!(
            lineage.fine_grained_lineages[0].upstreams,
            [
                "urn:li:schemaField:(urn:li:dataset:(urn:li:dataPlatform:snowflake,db.sales.orders,PROD),amount)"
            ]
        );
        assert_eq!(
            lineage.fine_grained_lineages[0].downstreams,
            [
                "urn:li:schemaField:(urn:li:dataset:(urn:li:dataPlatform:sigma,dm1.e1,PROD),Amount %28USD%29)"
            ]
        );
        let inputs = mcps
            .iter()
            .find_map(|m| match &m.aspect {
                Aspect::InputFields(f) => Some(f),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            inputs.fields[0].schema_field_urn,
            "urn:li:schemaField:(urn:li:dataset:(urn:li:dataPlatform:sigma,dm1.e1,PROD),Amount %28USD%29)"
        );
        let page_fields = mcps
            .iter()
            .find_map(|m| match &m.aspect {
                Aspect::InputFields(f) if m.entity_urn == "urn:li:dashboard:(sigma,p1)" => Some(f),
                _ => None,
            })
            .expect("the page lists its charts' input fields");
        assert_eq!(
            page_fields, inputs,
            "one chart on the page: the same fields"
        );
        let sub = mcps
            .iter()
            .find(|m| {
                m.entity_urn == "urn:li:dashboard:(sigma,wb1)" && m.aspect.name() == "subTypes"
            })
            .unwrap();
        assert_eq!(
            sub.aspect,
            Aspect::SubTypes(SubTypes {
                type_names: vec!["Sigma Report".into()]
            })
        );
        let info = mcps
            .iter()
            .find_map(|m| match &m.aspect {
                Aspect::DashboardInfo(i) if m.entity_urn == "urn:li:dashboard:(sigma,wb1)" => {
                    Some(i)
                }
                _ => None,
            })
            .unwrap();
        assert_eq!(
            (
                info.last_modified.created.time,
                info.last_modified.last_modified.time
            ),
            (1_764_547_200_000, 1_767_323_045_000),
            "Sigma's createdAt and updatedAt, as DataHub's source stamps them"
        );
        let deprecated = mcps
            .iter()
            .find(|m| m.aspect.name() == "deprecation")
            .unwrap();
        assert_eq!(
            deprecated.entity_urn,
            "urn:li:dataset:(urn:li:dataPlatform:sigma,dsUrl1,PROD)"
        );
        // Dumped for `datahub check metadata-file` when asked (the Python tests check the
        // sandbox run's whole file the same way).
        if let Ok(path) = std::env::var("DATAHUB_SAMPLE_MCPS") {
            let forms: Vec<_> = mcps.iter().map(Mcp::file_form).collect();
            std::fs::write(path, serde_json::to_vec_pretty(&forms).unwrap()).unwrap();
        }
    }

    #[test]
    fn a_default_database_completes_two_part_paths_only() {
        let mut options = DataHubOptions::from_sink(&Default::default());
        options.connections.insert(
            "Warehouse".into(),
            crate::config::DataHubConnection {
                default_database: Some("ANALYTICS".into()),
                ..Default::default()
            },
        );
        let mut renderer = Renderer::new(options);
        // The org item names the connection, so the mapping is found by its name.
        renderer.render(&sample()[0]);
        let urn = |r: &mut Renderer, path: &[&str]| r.table(&table(path)).unwrap().0;
        assert_eq!(
            urn(&mut renderer, &["SALES", "ORDERS"]),
            "urn:li:dataset:(urn:li:dataPlatform:snowflake,analytics.sales.orders,PROD)"
        );
        assert_eq!(
            urn(&mut renderer, &["DB", "SALES", "ORDERS"]),
            "urn:li:dataset:(urn:li:dataPlatform:snowflake,db.sales.orders,PROD)"
        );
    }

    #[test]
    fn workspaces_are_containers_and_hold_what_their_path_starts_in_when_the_name_is_unique() {
        let mut renderer = Renderer::new(DataHubOptions::from_sink(&Default::default()));
        let mcps: Vec<Mcp> = sample().iter().flat_map(|i| renderer.render(i)).collect();
        let ws0 = urn::container(&ContainerKey::workspace(None, "ws0"));
        let of = |entity: &str, aspect: &str| {
            mcps.iter()
                .find(|m| m.entity_urn == entity && m.aspect.name() == aspect)
                .map(|m| m.aspect.clone())
        };
        assert_eq!(
            of(&ws0, "subTypes"),
            Some(Aspect::SubTypes(SubTypes {
                type_names: vec!["Sigma Workspace".into()]
            }))
        );
        let Some(Aspect::ContainerProperties(p)) = of(&ws0, "containerProperties") else {
            panic!("no containerProperties for {ws0}");
        };
        assert_eq!(p.name, "Workspace 0");
        assert_eq!(p.custom_properties["workspaceId"], "ws0");
        assert!(p.created.is_some() && p.last_modified.is_none());
        assert!(of(&ws0, "ownership").is_some());
        // Every listed workspace is a container, a shared name too.
        let containers = mcps
            .iter()
            .filter(|m| {
                m.aspect
                    == Aspect::SubTypes(SubTypes {
                        type_names: vec!["Sigma Workspace".into()],
                    })
            })
            .count();
        assert_eq!(containers, 3);
        // The report and the data model (path "Workspace 0/...") are in ws0's container,
        // first in their browse paths.
        let dm = urn::container(&ContainerKey::data_model(None, "dm1"));
        for entity in ["urn:li:dashboard:(sigma,wb1)", dm.as_str()] {
            assert_eq!(
                of(entity, "container"),
                Some(Aspect::Container(Container {
                    container: ws0.clone()
                })),
                "{entity}"
            );
            let Some(Aspect::BrowsePathsV2(b)) = of(entity, "browsePathsV2") else {
                panic!("no browsePathsV2 for {entity}");
            };
            assert_eq!(b.path[0].urn.as_deref(), Some(ws0.as_str()), "{entity}");
        }
        let Some(Aspect::BrowsePathsV2(b)) = of("urn:li:chart:(sigma,el1)", "browsePathsV2") else {
            panic!("no chart browse path");
        };
        assert_eq!(b.path[0].urn.as_deref(), Some(ws0.as_str()));
        // Two workspaces named "Twice": the dataset in it is placed in neither.
        let ds = "urn:li:dataset:(urn:li:dataPlatform:sigma,dsUrl1,PROD)";
        assert_eq!(of(ds, "container"), None);
        let Some(Aspect::BrowsePathsV2(b)) = of(ds, "browsePathsV2") else {
            panic!("no dataset browse path");
        };
        assert_eq!(b.path[0].id, "Twice");
        assert_eq!(b.path[0].urn, None);
    }

    #[test]
    fn an_entity_a_later_item_renders_again_is_written_once_the_first_time() {
        let mut renderer = Renderer::new(DataHubOptions::from_sink(&Default::default()));
        let items = sample();
        let first: Vec<Mcp> = items
            .iter()
            .flat_map(|i| {
                let mcps = renderer.render(i);
                renderer.not_yet_written(mcps)
            })
            .collect();
        assert!(
            first
                .iter()
                .any(|m| m.entity_urn == "urn:li:chart:(sigma,el1)")
        );
        // The same report again (a second document sharing its ids): nothing of it is new.
        let again = renderer.render(&items[3]);
        assert!(!again.is_empty());
        assert!(renderer.not_yet_written(again).is_empty());
    }
}
