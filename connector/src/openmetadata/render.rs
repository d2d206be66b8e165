//! Catalog items as OpenMetadata records: names and FQNs minted here (`records::naming`),
//! warehouse ends placed through the service mapping, Sigma's vocabulary mapped onto
//! OpenMetadata's enums. No I/O, so every rule is unit-tested directly.
//!
//! The order of the records is the order the runner writes them in, and a sink relies on
//! it (a dashboard after its charts and data models): a document renders as its charts,
//! its elements' data models, the dashboard, then the lineage into it (from data models, then
//! from tables, in FQN order) and into its elements' data models; a data model as its
//! elements, then the lineage into each; a dataset as itself, then the lineage into it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::services::ServiceMapping;
use crate::catalog::{
    self, Connection, DataModel, DataModelElement, Dataset, Document, DocumentKind, Element, End,
    Item, LineageSource, TablePlacement, TableSource, Upstream, WarehouseTable, workspace_of,
};
use crate::config::Workflow;
use crate::records::{
    ChartType, Column, ColumnLineage, CreateChartRequest, CreateDashboardDataModelRequest,
    CreateDashboardRequest, CreateDashboardServiceRequest, DashboardServiceType, DashboardType,
    DataModelType, Entity, EntityRef, EntityType, LineageEdge, Record, Refs, SigmaType,
    chart_type_from_sigma, column_name, entity_name, fqn,
};

/// Catalog items to OpenMetadata records, for one run.
#[derive(Debug, Clone)]
pub struct Renderer {
    service: String,
    mapping: Arc<ServiceMapping>,
    /// The org's connections (from its item, the first of every run): what a
    /// `connectionServiceMap` keyed by name applies to.
    connections: Vec<Connection>,
}

/// A warehouse table placed in OpenMetadata: its first FQN and the further candidates.
#[derive(Debug, Clone)]
struct TableEnd {
    fqn: String,
    candidates: Vec<String>,
}

impl Renderer {
    pub fn new(service_name: &str, mapping: ServiceMapping) -> Self {
        Self {
            service: service_name.to_owned(),
            mapping: Arc::new(mapping),
            connections: Vec::new(),
        }
    }

    pub fn from_workflow(workflow: &Workflow) -> Self {
        Self::new(
            &workflow.source.service_name,
            ServiceMapping::from_workflow(workflow),
        )
    }

    /// Which warehouse tables this renderer can place: the source resolves only those.
    pub fn placement(&self) -> Arc<dyn TablePlacement> {
        self.mapping.clone()
    }

    /// One item's records, in the order a sink takes them.
    pub fn render(&mut self, item: &Item) -> Vec<Record> {
        match item {
            Item::Org(org) => {
                self.connections = org.connections.clone();
                vec![dashboard_service(&self.service)]
            }
            Item::Document(doc) => self.document(doc),
            Item::DataModel(dm) => self.data_model(dm),
            Item::Dataset(ds) => self.dataset(ds),
        }
    }

    fn table(&self, table: &WarehouseTable) -> Option<TableEnd> {
        let mut candidates = self.mapping.table_fqns(
            &self.connections,
            table.connection_id.as_deref(),
            &table.path,
        );
        if candidates.is_empty() {
            return None;
        }
        let fqn = candidates.remove(0);
        Some(TableEnd { fqn, candidates })
    }

    fn data_model_element_fqn(&self, data_model_id: &str, element_id: &str) -> String {
        fqn::data_model(
            &self.service,
            &entity_name(&format!("{data_model_id}_{element_id}")),
        )
    }

    fn dataset_fqn(&self, dataset_id: &str) -> String {
        fqn::data_model(&self.service, &entity_name(dataset_id))
    }

    fn element_model_fqn(&self, doc: &Document, element_id: &str) -> String {
        fqn::data_model(
            &self.service,
            &entity_name(&format!("{}_{element_id}", entity_key(doc))),
        )
    }

    fn document(&self, doc: &Document) -> Vec<Record> {
        let charts: Vec<&Element> = doc.elements.iter().filter(|e| e.is_chart).collect();
        let mut out = Vec::new();
        let mut chart_fqns = Vec::new();
        for element in &charts {
            let record = self.chart(doc, element);
            chart_fqns.push(record.fqn());
            out.push(record);
        }
        let modelled: Vec<&Element> = charts
            .iter()
            .copied()
            .filter(|e| !e.columns.is_empty())
            .collect();
        let mut model_fqns = Vec::new();
        for element in &modelled {
            let record = self.element_data_model(doc, element);
            model_fqns.push(record.fqn());
            out.push(record);
        }

        // What the charts read: data models (every element of each), datasets, tables.
        let mut data_models = BTreeSet::new();
        let mut lineage_tables: BTreeMap<&str, &WarehouseTable> = BTreeMap::new();
        for element in &charts {
            for upstream in &element.upstreams {
                match upstream {
                    Upstream::DataModel {
                        data_model_id,
                        elements,
                        ..
                    } => data_models.extend(
                        elements
                            .iter()
                            .map(|e| self.data_model_element_fqn(data_model_id, e)),
                    ),
                    Upstream::Dataset { dataset_id } => {
                        data_models.insert(self.dataset_fqn(dataset_id));
                    }
                    Upstream::Table {
                        table,
                        source: TableSource::Lineage,
                    } => {
                        lineage_tables
                            .entry(table.inode_id.as_deref().unwrap_or_default())
                            .or_insert(table);
                    }
                    _ => {}
                }
            }
        }
        // Tables Sigma's lineage names first (by inode id), then those SQL names.
        let mut tables: BTreeMap<String, TableEnd> = BTreeMap::new();
        let sql_tables = charts
            .iter()
            .flat_map(|e| &e.upstreams)
            .filter_map(|u| match u {
                Upstream::Table {
                    table,
                    source: TableSource::Sql,
                } => Some(table),
                _ => None,
            });
        for table in lineage_tables.into_values().chain(sql_tables) {
            if let Some(end) = self.table(table) {
                tables.entry(end.fqn.clone()).or_insert(end);
            }
        }

        let mut listed_models: Vec<String> = data_models.iter().cloned().collect();
        listed_models.extend(model_fqns.iter().cloned());
        let dashboard = self.dashboard(doc, chart_fqns, listed_models);
        let dashboard_fqn = dashboard.fqn();
        out.push(dashboard);
        for dm in data_models {
            out.push(lineage(
                EntityType::DashboardDataModel,
                &dm,
                EntityType::Dashboard,
                &dashboard_fqn,
                Vec::new(),
                Vec::new(),
            ));
        }
        for table in tables.into_values() {
            out.push(lineage(
                EntityType::Table,
                &table.fqn,
                EntityType::Dashboard,
                &dashboard_fqn,
                Vec::new(),
                table.candidates,
            ));
        }
        for (element, model_fqn) in modelled.iter().zip(&model_fqns) {
            out.extend(self.element_lineage(doc, element, model_fqn));
        }
        out
    }

    /// The lineage into one element's data model: one edge per table its lineage names
    /// (with or without pairs) and one per end its columns read, in FQN order.
    fn element_lineage(&self, doc: &Document, element: &Element, model_fqn: &str) -> Vec<Record> {
        struct SourceEnd {
            from_type: EntityType,
            candidates: Vec<String>,
            pairs: BTreeMap<String, BTreeSet<String>>,
        }
        let mut sources: BTreeMap<String, SourceEnd> = BTreeMap::new();
        let mut own_tables: Vec<&WarehouseTable> = element
            .upstreams
            .iter()
            .filter_map(|u| match u {
                Upstream::Table {
                    table,
                    source: TableSource::Lineage,
                } => Some(table),
                _ => None,
            })
            .collect();
        own_tables.sort_by(|a, b| a.inode_id.cmp(&b.inode_id));
        for table in own_tables {
            if let Some(end) = self.table(table) {
                sources.entry(end.fqn).or_insert(SourceEnd {
                    from_type: EntityType::Table,
                    candidates: end.candidates,
                    pairs: BTreeMap::new(),
                });
            }
        }
        let mut to_columns = BTreeSet::new();
        // The formula of each column (by its name here), as the pairs' `function`.
        let mut functions: BTreeMap<String, Option<String>> = BTreeMap::new();
        for column in &element.columns {
            if column.name.is_empty() {
                continue;
            }
            let to = column_name(&column.name);
            // The data model keeps the first column of a name; so do the pairs.
            if !to_columns.insert(to.clone()) {
                continue;
            }
            let Some(pair) = element.column_lineage.iter().find(|p| p.to == column.name) else {
                continue;
            };
            functions.insert(
                to.clone(),
                non_empty(pair.function.as_deref()).map(str::to_owned),
            );
            for read in &pair.from {
                let (from, from_type, candidates, from_column) = match &read.end {
                    End::Table { table } => {
                        let Some(end) = self.table(table) else {
                            continue;
                        };
                        let column = fqn::column(&end.fqn, &read.column);
                        (end.fqn, EntityType::Table, end.candidates, column)
                    }
                    End::Element { element_id } => {
                        let from = self.element_model_fqn(doc, element_id);
                        let column = fqn::column(&from, &column_name(&read.column));
                        (from, EntityType::DashboardDataModel, Vec::new(), column)
                    }
                    End::DataModelElement {
                        data_model_id,
                        element_id,
                    } => {
                        let from = self.data_model_element_fqn(data_model_id, element_id);
                        let column = fqn::column(&from, &column_name(&read.column));
                        (from, EntityType::DashboardDataModel, Vec::new(), column)
                    }
                    End::Dataset { dataset_id } => {
                        let from = self.dataset_fqn(dataset_id);
                        let column = fqn::column(&from, &column_name(&read.column));
                        (from, EntityType::DashboardDataModel, Vec::new(), column)
                    }
                };
                if from == model_fqn {
                    continue;
                }
                sources
                    .entry(from)
                    .or_insert(SourceEnd {
                        from_type,
                        candidates,
                        pairs: BTreeMap::new(),
                    })
                    .pairs
                    .entry(to.clone())
                    .or_default()
                    .insert(from_column);
            }
        }
        sources
            .into_iter()
            .map(|(from, end)| {
                let pairs = end
                    .pairs
                    .into_iter()
                    .map(|(to, from_columns)| ColumnLineage {
                        from_columns: from_columns.into_iter().collect(),
                        to_column: fqn::column(model_fqn, &to),
                        function: functions.get(&to).cloned().flatten(),
                    })
                    .collect();
                lineage(
                    end.from_type,
                    &from,
                    EntityType::DashboardDataModel,
                    model_fqn,
                    pairs,
                    end.candidates,
                )
            })
            .collect()
    }

    fn data_model(&self, dm: &DataModel) -> Vec<Record> {
        let mut out: Vec<Record> = dm
            .elements
            .iter()
            .map(|element| self.data_model_element(dm, element))
            .collect();
        for element in &dm.elements {
            let target = self.data_model_element_fqn(&dm.id, &element.id);
            match dm.lineage {
                LineageSource::Tree => {
                    out.extend(self.model_lineage_from_tree(dm, element, &target))
                }
                LineageSource::Elements => {
                    out.extend(self.model_lineage_from_elements(dm, element, &target))
                }
            }
        }
        out
    }

    /// The pairs of `element` read from one end (`end`, or any end through the custom SQL
    /// `via`), each as the element's column and the end's columns in formula order.
    fn pairs_from(
        &self,
        element: &DataModelElement,
        target: &str,
        end: &End,
        from_fqn: &str,
    ) -> Vec<ColumnLineage> {
        element
            .column_lineage
            .iter()
            .filter(|p| p.via.is_none() && p.from.first().is_some_and(|r| r.end == *end))
            .map(|p| ColumnLineage {
                from_columns: p
                    .from
                    .iter()
                    .map(|r| fqn::column(from_fqn, &r.column))
                    .collect(),
                to_column: fqn::column(target, &column_name(&p.to)),
                function: non_empty(p.function.as_deref()).map(str::to_owned),
            })
            .collect()
    }

    /// Lineage into a data model element from what its lineage tree entry reads, one edge
    /// per source FQN, in FQN order.
    fn model_lineage_from_tree(
        &self,
        dm: &DataModel,
        element: &DataModelElement,
        target: &str,
    ) -> Vec<Record> {
        type Edges = BTreeMap<String, (EntityType, Vec<ColumnLineage>, Vec<String>)>;
        let mut edges: Edges = BTreeMap::new();
        for upstream in &element.upstreams {
            match upstream {
                Upstream::Element { element_id } => {
                    let from = self.data_model_element_fqn(&dm.id, element_id);
                    let end = End::Element {
                        element_id: element_id.clone(),
                    };
                    let pairs = self.pairs_from(element, target, &end, &from);
                    edges.insert(from, (EntityType::DashboardDataModel, pairs, Vec::new()));
                }
                Upstream::Table { table, .. } => {
                    let Some(placed) = self.table(table) else {
                        continue;
                    };
                    let end = End::Table {
                        table: table.clone(),
                    };
                    let pairs = self.pairs_from(element, target, &end, &placed.fqn);
                    edges.insert(placed.fqn, (EntityType::Table, pairs, placed.candidates));
                }
                Upstream::CustomSql { name, tables } => {
                    let mut pairs = self.custom_sql_pairs(element, target, name.as_deref());
                    for table in tables {
                        let Some(placed) = self.table(table) else {
                            continue;
                        };
                        let table_pairs = pairs.remove(&placed.fqn).unwrap_or_default();
                        edges
                            .entry(placed.fqn)
                            .or_insert((EntityType::Table, Vec::new(), placed.candidates))
                            .1
                            .extend(table_pairs);
                    }
                }
                Upstream::DataModelElement {
                    data_model_id,
                    element_id,
                } => {
                    let from = self.data_model_element_fqn(data_model_id, element_id);
                    let end = End::DataModelElement {
                        data_model_id: data_model_id.clone(),
                        element_id: element_id.clone(),
                    };
                    let pairs = self.pairs_from(element, target, &end, &from);
                    edges.insert(from, (EntityType::DashboardDataModel, pairs, Vec::new()));
                }
                Upstream::Dataset { dataset_id } => {
                    // A dataset data model has no columns: no pairs.
                    edges.insert(
                        self.dataset_fqn(dataset_id),
                        (EntityType::DashboardDataModel, Vec::new(), Vec::new()),
                    );
                }
                Upstream::DataModel { .. } => {}
            }
        }
        edges
            .into_iter()
            .map(|(from, (from_type, pairs, candidates))| {
                lineage(
                    from_type,
                    &from,
                    EntityType::DashboardDataModel,
                    target,
                    pairs,
                    candidates,
                )
            })
            .collect()
    }

    /// The pairs read through custom SQL `name`, by the FQN of the table read: per column,
    /// the table's columns it reads, sorted.
    fn custom_sql_pairs(
        &self,
        element: &DataModelElement,
        target: &str,
        name: Option<&str>,
    ) -> BTreeMap<String, Vec<ColumnLineage>> {
        let mut out: BTreeMap<String, Vec<ColumnLineage>> = BTreeMap::new();
        let Some(name) = name else {
            return out;
        };
        for pair in element
            .column_lineage
            .iter()
            .filter(|p| p.via.as_deref() == Some(name))
        {
            let mut from: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for read in &pair.from {
                let End::Table { table } = &read.end else {
                    continue;
                };
                if let Some(placed) = self.table(table) {
                    let column = fqn::column(&placed.fqn, &read.column);
                    from.entry(placed.fqn).or_default().insert(column);
                }
            }
            for (table, from_columns) in from {
                out.entry(table).or_default().push(ColumnLineage {
                    from_columns: from_columns.into_iter().collect(),
                    to_column: fqn::column(target, &column_name(&pair.to)),
                    function: non_empty(pair.function.as_deref()).map(str::to_owned),
                });
            }
        }
        out
    }

    /// Lineage into a data model element on an older deployment: its `sourceTable` first,
    /// then the siblings its formulas read, in FQN order.
    fn model_lineage_from_elements(
        &self,
        dm: &DataModel,
        element: &DataModelElement,
        target: &str,
    ) -> Vec<Record> {
        let mut out = Vec::new();
        let mut siblings: BTreeMap<String, Vec<ColumnLineage>> = BTreeMap::new();
        for upstream in &element.upstreams {
            match upstream {
                Upstream::Table { table, .. } => {
                    let Some(placed) = self.table(table) else {
                        continue;
                    };
                    let end = End::Table {
                        table: table.clone(),
                    };
                    let pairs = self.pairs_from(element, target, &end, &placed.fqn);
                    out.push(lineage(
                        EntityType::Table,
                        &placed.fqn,
                        EntityType::DashboardDataModel,
                        target,
                        pairs,
                        placed.candidates,
                    ));
                }
                Upstream::Element { element_id } => {
                    let from = self.data_model_element_fqn(&dm.id, element_id);
                    let end = End::Element {
                        element_id: element_id.clone(),
                    };
                    let pairs = self.pairs_from(element, target, &end, &from);
                    siblings.insert(from, pairs);
                }
                _ => {}
            }
        }
        for (from, pairs) in siblings {
            out.push(lineage(
                EntityType::DashboardDataModel,
                &from,
                EntityType::DashboardDataModel,
                target,
                pairs,
                Vec::new(),
            ));
        }
        out
    }

    fn dataset(&self, ds: &Dataset) -> Vec<Record> {
        if ds.is_migrated() {
            // The data model it became stands for it (`refs.replacesDatasets`).
            return Vec::new();
        }
        let record = Record::new(Entity::DataModel(without_nul(
            CreateDashboardDataModelRequest {
                name: entity_name(&ds.id),
                display_name: ds.name.clone(),
                description: non_empty(ds.description.as_deref()).map(str::to_owned),
                data_model_type: DataModelType::SigmaDataModel,
                service_type: DashboardServiceType::Sigma,
                columns: Vec::new(),
                sql: None,
                project: None,
                service: self.service.clone(),
                tags: Vec::new(),
                owners: Vec::new(),
            },
        )))
        .with_refs(Refs {
            source_url: Some(ds.url.clone()),
            updated_at: Some(ds.updated_at.clone()),
            sigma_type: Some(SigmaType::Dataset),
            migration_status: ds.migration_status.clone(),
            ..Refs::default()
        });
        let to = record.fqn();
        let mut out = vec![record];
        for table in &ds.upstreams {
            if let Some(placed) = self.table(table) {
                out.push(lineage(
                    EntityType::Table,
                    &placed.fqn,
                    EntityType::DashboardDataModel,
                    &to,
                    Vec::new(),
                    placed.candidates,
                ));
            }
        }
        out
    }

    fn chart(&self, doc: &Document, element: &Element) -> Record {
        let name = entity_name(&format!("{}_{}", entity_key(doc), element.id));
        let page_name = doc
            .pages
            .iter()
            .find(|p| p.id == element.page_id)
            .and_then(|p| p.name.as_deref())
            .unwrap_or(&element.page_id);
        let mut description = format!("Page: {page_name}");
        if let Some(err) = non_empty(element.error.as_deref()) {
            description.push_str(&format!(
                "\n\nSigma reported an error for this element: {err}"
            ));
        }
        Record::new(Entity::Chart(without_nul(CreateChartRequest {
            name,
            display_name: element.display_name.clone(),
            description: Some(description),
            chart_type: chart_type(element),
            source_url: element.url.clone(),
            service: self.service.clone(),
            tags: Vec::new(),
            owners: Vec::new(),
        })))
    }

    fn dashboard(&self, doc: &Document, charts: Vec<String>, data_models: Vec<String>) -> Record {
        let project = workspace_of(&doc.path);
        let entity = without_nul(CreateDashboardRequest {
            name: entity_name(&entity_key(doc)),
            dashboard_type: (doc.kind == DocumentKind::Report).then_some(DashboardType::Report),
            display_name: doc.name.clone(),
            description: non_empty(doc.description.as_deref()).map(str::to_owned),
            source_url: doc.url.clone(),
            project: (!project.is_empty()).then(|| project.to_owned()),
            charts,
            data_models,
            service: self.service.clone(),
            tags: Vec::new(),
            owners: Vec::new(),
        });
        Record::new(Entity::Dashboard(entity)).with_refs(Refs {
            owners: doc.owner.iter().cloned().collect(),
            tags: doc.tags.clone(),
            updated_at: Some(doc.updated_at.clone()),
            ..Refs::default()
        })
    }

    /// OpenMetadata's create request has no `sourceUrl` for data models: it travels in refs.
    fn data_model_element(&self, dm: &DataModel, element: &DataModelElement) -> Record {
        let name = entity_name(&format!("{}_{}", dm.id, element.id));
        let element_name = element.name.as_deref().unwrap_or(&element.id);
        let project = workspace_of(&dm.path);
        let entity = without_nul(CreateDashboardDataModelRequest {
            name,
            display_name: format!("{} / {element_name}", dm.name),
            description: non_empty(dm.description.as_deref()).map(str::to_owned),
            data_model_type: DataModelType::SigmaDataModel,
            service_type: DashboardServiceType::Sigma,
            columns: element.columns.iter().map(column).collect(),
            sql: None,
            project: (!project.is_empty()).then(|| project.to_owned()),
            service: self.service.clone(),
            tags: Vec::new(),
            owners: Vec::new(),
        });
        Record::new(Entity::DataModel(entity)).with_refs(Refs {
            source_url: Some(element.url.clone()),
            updated_at: Some(dm.updated_at.clone()),
            replaces_datasets: dm.replaces_datasets.clone(),
            ..Refs::default()
        })
    }

    /// A workbook or report element's columns as a data model (OpenMetadata's charts have
    /// no columns; OpenMetadata's own Sigma connector does the same): one per chart element
    /// that has columns, listed in its dashboard's `dataModels`.
    fn element_data_model(&self, doc: &Document, element: &Element) -> Record {
        let name = entity_name(&format!("{}_{}", entity_key(doc), element.id));
        let project = workspace_of(&doc.path);
        let mut seen = BTreeSet::new();
        let columns = element
            .columns
            .iter()
            .filter_map(|c| {
                if c.name.is_empty() {
                    return None;
                }
                // One column per name: OpenMetadata keys a data model's columns by name.
                if !seen.insert(column_name(&c.name)) {
                    return None;
                }
                Some(column(&catalog::Column {
                    label: Some(c.name.clone()),
                    description: None,
                    ..c.clone()
                }))
            })
            .collect();
        let entity = without_nul(CreateDashboardDataModelRequest {
            name,
            display_name: format!("{} / {}", doc.name, element.display_name),
            description: None,
            data_model_type: DataModelType::SigmaDataModel,
            service_type: DashboardServiceType::Sigma,
            columns,
            sql: None,
            project: (!project.is_empty()).then(|| project.to_owned()),
            service: self.service.clone(),
            tags: Vec::new(),
            owners: Vec::new(),
        });
        Record::new(Entity::DataModel(entity)).with_refs(Refs {
            source_url: Some(element.url.clone()),
            updated_at: Some(doc.updated_at.clone()),
            ..Refs::default()
        })
    }
}

/// What OpenMetadata names the dashboard (and the prefix of its charts' names): the
/// workbook id, or `report_<reportId>`, so that a report never takes a workbook's name.
fn entity_key(doc: &Document) -> String {
    match doc.kind {
        DocumentKind::Workbook => doc.id.clone(),
        DocumentKind::Report => format!("report_{}", doc.id),
    }
}

/// OpenMetadata `chartType` for a Sigma element (see `records::chart_type_from_sigma`).
fn chart_type(element: &Element) -> ChartType {
    chart_type_from_sigma(
        element.visualization_type.as_deref(),
        element.element_type.as_deref().unwrap_or_default(),
    )
}

fn column(col: &catalog::Column) -> Column {
    let mut c = Column::from_sigma(&col.name, col.column_type.as_deref().unwrap_or_default());
    if let Some(label) = non_empty(col.label.as_deref()) {
        c.display_name = Some(label.to_owned());
    }
    let mut description = Vec::new();
    if let Some(d) = non_empty(col.description.as_deref()) {
        description.push(d.to_owned());
    }
    if let Some(f) = non_empty(col.formula.as_deref()) {
        description.push(format!("Formula: `{f}`"));
    }
    if !description.is_empty() {
        c.description = Some(description.join("\n\n"));
    }
    c
}

/// The entity with U+0000 dropped from every string (see [`drop_nul`]). Serialising first
/// to look is cheap; only an entity that holds a NUL takes the round trip through JSON.
fn without_nul<T: Serialize + DeserializeOwned>(entity: T) -> T {
    let has_nul = serde_json::to_string(&entity).is_ok_and(|text| text.contains("\\u0000"));
    if !has_nul {
        return entity;
    }
    let Ok(mut value) = serde_json::to_value(&entity) else {
        return entity;
    };
    drop_nul(&mut value);
    serde_json::from_value(value).unwrap_or(entity)
}

/// Removes U+0000 from every string. It is valid JSON (`\u0000`) and valid in OpenMetadata's
/// schemas, but OpenMetadata on PostgreSQL stores entities as `jsonb`, which rejects it and
/// fails the whole request; no Sigma text means anything by a NUL. Every other character,
/// bidi marks and zero-width joiners included, is kept as Sigma sent it.
fn drop_nul(value: &mut Value) {
    match value {
        Value::String(s) if s.contains('\0') => s.retain(|c| c != '\0'),
        Value::Array(items) => items.iter_mut().for_each(drop_nul),
        Value::Object(map) => map.values_mut().for_each(drop_nul),
        _ => {}
    }
}

fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn dashboard_service(service: &str) -> Record {
    Record::new(Entity::DashboardService(without_nul(
        CreateDashboardServiceRequest::new(service),
    )))
}

/// A lineage edge between two FQN-addressed entities; `candidates` are further FQNs for
/// the `from` end, tried in order by the metadata-rest sink when the first does not exist.
fn lineage(
    from_type: EntityType,
    from_fqn: &str,
    to_type: EntityType,
    to_fqn: &str,
    columns: Vec<ColumnLineage>,
    candidates: Vec<String>,
) -> Record {
    let mut edge = LineageEdge::new(
        EntityRef::new(from_type, from_fqn),
        EntityRef::new(to_type, to_fqn),
    );
    edge.columns = columns;
    Record::new(Entity::Lineage(without_nul(edge))).with_refs(Refs {
        from_candidates: candidates,
        ..Refs::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(t: &str, viz: Option<&str>) -> Element {
        Element {
            id: "el1".into(),
            page_id: "p1".into(),
            name: None,
            display_name: "x".into(),
            element_type: Some(t.into()),
            visualization_type: viz.map(Into::into),
            is_chart: true,
            error: None,
            url: "https://x".into(),
            columns: Vec::new(),
            upstreams: Vec::new(),
            column_lineage: Vec::new(),
        }
    }

    #[test]
    fn names_are_valid_and_stable() {
        assert_eq!(entity_name("a.b\"c"), "a_b_c");
        let long = "x".repeat(400);
        let n = entity_name(&long);
        assert_eq!(n.chars().count(), crate::records::ENTITY_NAME_MAX);
        assert_eq!(n, entity_name(&long));
        assert_ne!(n, entity_name(&format!("{long}y")));
        assert_eq!(entity_name("Umsätze 📈"), "Umsätze 📈");
    }

    #[test]
    fn chart_types() {
        // The full table is in tests/records.rs; here: the element decides when the
        // visualization does not.
        assert_eq!(
            chart_type(&element("visualization", Some("bar"))),
            ChartType::Bar
        );
        assert_eq!(chart_type(&element("pivot-table", None)), ChartType::Table);
        assert_eq!(
            chart_type(&element("visualization", Some("sunburst"))),
            ChartType::Other
        );
    }
}
