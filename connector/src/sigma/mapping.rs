//! Pure mapping from Sigma objects to OpenMetadata Create requests. No I/O here, so every
//! rule (names, FQNs, chart types, URLs, column lineage) is unit-tested directly.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::api::DocumentKind;
use super::model::{
    DataModel, DataModelColumn, DataModelElement, Dataset, Document, ElementColumn,
    WorkbookElement, WorkbookPage,
};
use super::options::SourceOptions;
use crate::records::{
    ChartType, Column, ColumnLineage, CreateChartRequest, CreateDashboardDataModelRequest,
    CreateDashboardRequest, CreateDashboardServiceRequest, DashboardServiceType, DashboardType,
    DataModelType, Entity, EntityRef, EntityType, LineageEdge, Record, Refs, SigmaType,
    chart_type_from_sigma, column_name, entity_name, fqn,
};

/// The workspace a Sigma path starts with (`Finance/Reports/Q3` -> `Finance`).
pub fn project_of(path: &str) -> &str {
    path.split('/').next().unwrap_or_default().trim()
}

/// Elements that are charts or tables (not text, controls, images, dividers, ...).
pub fn is_chart(element: &WorkbookElement) -> bool {
    match element.element_type.as_deref() {
        Some("table" | "visualization" | "pivot-table" | "input-table" | "level-table") => true,
        Some(
            "text" | "control" | "image" | "divider" | "button" | "embed" | "container" | "tabs",
        ) => false,
        // Unknown kinds: a chart if Sigma says how it is drawn.
        _ => element.vizualization_type.is_some(),
    }
}

/// The element's name, or a readable one from its type and page when it has none.
pub fn element_display_name(
    element: &WorkbookElement,
    page: &WorkbookPage,
    index: usize,
) -> String {
    if let Some(name) = element
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return name.to_owned();
    }
    let kind = element
        .vizualization_type
        .as_deref()
        .or(element.element_type.as_deref())
        .unwrap_or("element");
    let page_name = page.name.as_deref().unwrap_or(&page.page_id);
    format!("Untitled {kind} {} on {page_name}", index + 1)
}

/// OpenMetadata `chartType` for a Sigma element (see `records::chart_type_from_sigma`).
pub fn chart_type(element: &WorkbookElement) -> ChartType {
    chart_type_from_sigma(
        element.vizualization_type.as_deref(),
        element.element_type.as_deref().unwrap_or_default(),
    )
}

/// `{url}?:nodeId={elementId}`: deep-links the element, not just the workbook.
pub fn element_url(workbook_url: &str, element_id: &str) -> String {
    let sep = if workbook_url.contains('?') { '&' } else { '?' };
    format!("{workbook_url}{sep}:nodeId={element_id}")
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

pub fn dashboard_service(options: &SourceOptions) -> Record {
    Record::new(Entity::DashboardService(without_nul(
        CreateDashboardServiceRequest::new(&options.service_name),
    )))
}

/// The FQN of one data model element's data model.
pub fn data_model_element_fqn(
    options: &SourceOptions,
    data_model_id: &str,
    element_id: &str,
) -> String {
    fqn::data_model(
        &options.service_name,
        &entity_name(&format!("{data_model_id}_{element_id}")),
    )
}

pub fn chart(
    options: &SourceOptions,
    workbook: &Document,
    page: &WorkbookPage,
    element: &WorkbookElement,
    display_name: &str,
) -> Record {
    let name = entity_name(&format!("{}_{}", workbook.entity_key(), element.element_id));
    let page_name = page.name.as_deref().unwrap_or(&page.page_id);
    let mut description = format!("Page: {page_name}");
    if let Some(err) = non_empty(element.error.as_deref()) {
        description.push_str(&format!(
            "\n\nSigma reported an error for this element: {err}"
        ));
    }
    Record::new(Entity::Chart(without_nul(CreateChartRequest {
        name,
        display_name: display_name.to_owned(),
        description: Some(description),
        chart_type: chart_type(element),
        source_url: element_url(&workbook.url, &element.element_id),
        service: options.service_name.clone(),
        tags: Vec::new(),
        owners: Vec::new(),
    })))
}

pub fn dashboard(
    options: &SourceOptions,
    workbook: &Document,
    charts: Vec<String>,
    data_models: Vec<String>,
    owner_email: Option<String>,
    tags: Vec<String>,
) -> Record {
    let project = project_of(&workbook.path);
    let entity = without_nul(CreateDashboardRequest {
        name: entity_name(&workbook.entity_key()),
        dashboard_type: (workbook.kind == DocumentKind::Report).then_some(DashboardType::Report),
        display_name: workbook.name.clone(),
        description: non_empty(workbook.description.as_deref()).map(str::to_owned),
        source_url: workbook.url.clone(),
        project: (!project.is_empty()).then(|| project.to_owned()),
        charts,
        data_models,
        service: options.service_name.clone(),
        tags: Vec::new(),
        owners: Vec::new(),
    });
    Record::new(Entity::Dashboard(entity)).with_refs(Refs {
        owners: owner_email.into_iter().collect(),
        tags,
        updated_at: Some(workbook.updated_at.clone()),
        ..Refs::default()
    })
}

fn column(col: &DataModelColumn) -> Column {
    let mut c = Column::from_sigma(&col.name, col.r#type.as_deref().unwrap_or_default());
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

/// OpenMetadata's create request has no `sourceUrl` for data models: it travels in refs.
pub fn data_model_element(
    options: &SourceOptions,
    dm: &DataModel,
    element: &DataModelElement,
    columns: &[&DataModelColumn],
    replaces_datasets: &[&str],
) -> Record {
    let name = entity_name(&format!("{}_{}", dm.data_model_id, element.element_id));
    let element_name = element.name.as_deref().unwrap_or(&element.element_id);
    let project = project_of(&dm.path);
    let entity = without_nul(CreateDashboardDataModelRequest {
        name,
        display_name: format!("{} / {element_name}", dm.name),
        description: non_empty(dm.description.as_deref()).map(str::to_owned),
        data_model_type: DataModelType::SigmaDataModel,
        service_type: DashboardServiceType::Sigma,
        columns: columns.iter().map(|c| column(c)).collect(),
        sql: None,
        project: (!project.is_empty()).then(|| project.to_owned()),
        service: options.service_name.clone(),
        tags: Vec::new(),
        owners: Vec::new(),
    });
    Record::new(Entity::DataModel(entity)).with_refs(Refs {
        source_url: Some(element_url(&dm.url, &element.element_id)),
        updated_at: Some(dm.updated_at.clone()),
        replaces_datasets: replaces_datasets.iter().map(|d| (*d).to_owned()).collect(),
        ..Refs::default()
    })
}

/// A workbook or report element's columns as a data model (OpenMetadata's charts have no
/// columns; OpenMetadata's own Sigma connector does the same): one per chart element that
/// has columns, listed in its dashboard's `dataModels`.
pub fn element_data_model(
    options: &SourceOptions,
    doc: &Document,
    element: &WorkbookElement,
    display_name: &str,
    columns: &[&ElementColumn],
) -> Record {
    let name = entity_name(&format!("{}_{}", doc.entity_key(), element.element_id));
    let project = project_of(&doc.path);
    let mut seen = std::collections::BTreeSet::new();
    let columns = columns
        .iter()
        .filter_map(|c| {
            let label = c.label()?;
            // One column per name: OpenMetadata keys a data model's columns by name.
            if !seen.insert(column_name(label)) {
                return None;
            }
            Some(column(&DataModelColumn {
                column_id: c.column_id.clone(),
                name: label.to_owned(),
                element_id: c.element_id.clone(),
                label: Some(label.to_owned()),
                formula: c.formula.clone(),
                r#type: c.r#type.clone(),
                description: None,
            }))
        })
        .collect();
    let entity = without_nul(CreateDashboardDataModelRequest {
        name,
        display_name: format!("{} / {display_name}", doc.name),
        description: None,
        data_model_type: DataModelType::SigmaDataModel,
        service_type: DashboardServiceType::Sigma,
        columns,
        sql: None,
        project: (!project.is_empty()).then(|| project.to_owned()),
        service: options.service_name.clone(),
        tags: Vec::new(),
        owners: Vec::new(),
    });
    Record::new(Entity::DataModel(entity)).with_refs(Refs {
        source_url: Some(element_url(&doc.url, &element.element_id)),
        updated_at: Some(doc.updated_at.clone()),
        ..Refs::default()
    })
}

/// Every `[...]` reference of a Sigma formula: `(Some(source), column)` for
/// `[Source/Column]`, `(None, column)` for a column of the formula's own element.
pub fn formula_columns(formula: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut rest = formula;
    while let Some(start) = rest.find('[') {
        let Some(end) = rest[start..].find(']') else {
            break;
        };
        let inner = rest[start + 1..start + end].trim();
        match inner.split_once('/') {
            Some((source, column)) => {
                let (source, column) = (source.trim(), column.trim());
                if !source.is_empty() && !column.is_empty() {
                    out.push((Some(source.to_owned()), column.to_owned()));
                }
            }
            None if !inner.is_empty() => out.push((None, inner.to_owned())),
            None => {}
        }
        rest = &rest[start + end + 1..];
    }
    out
}

pub fn dataset(options: &SourceOptions, ds: &Dataset) -> Record {
    let entity = without_nul(CreateDashboardDataModelRequest {
        name: entity_name(&ds.dataset_id),
        display_name: ds.name.clone(),
        description: non_empty(ds.description.as_deref()).map(str::to_owned),
        data_model_type: DataModelType::SigmaDataModel,
        service_type: DashboardServiceType::Sigma,
        columns: Vec::new(),
        sql: None,
        project: None,
        service: options.service_name.clone(),
        tags: Vec::new(),
        owners: Vec::new(),
    });
    Record::new(Entity::DataModel(entity)).with_refs(Refs {
        source_url: Some(ds.url.clone()),
        updated_at: Some(ds.updated_at.clone()),
        sigma_type: Some(SigmaType::Dataset),
        migration_status: ds.migration_status.clone(),
        ..Refs::default()
    })
}

/// A lineage edge between two FQN-addressed entities; `candidates` are further FQNs for
/// the `from` end, tried in order by the metadata-rest sink when the first does not exist.
pub fn lineage(
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

/// `[Source/Column]` references in a Sigma formula, as `(source, column)` pairs.
pub fn formula_refs(formula: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = formula;
    while let Some(start) = rest.find('[') {
        let Some(end) = rest[start..].find(']') else {
            break;
        };
        let inner = &rest[start + 1..start + end];
        if let Some((source, column)) = inner.split_once('/') {
            if !source.is_empty() && !column.is_empty() {
                out.push((source.trim().to_owned(), column.trim().to_owned()));
            }
        }
        rest = &rest[start + end + 1..];
    }
    out
}

/// Column-level lineage from `source` (named `source_name`, FQN `source_fqn`) into the
/// columns of `target_fqn` whose formulas read it.
pub fn column_pairs(
    columns: &[&DataModelColumn],
    source_fqn: &str,
    source_name: &str,
    target_fqn: &str,
) -> Vec<ColumnLineage> {
    let mut out = Vec::new();
    for col in columns {
        let from: Vec<String> = formula_refs(col.formula.as_deref().unwrap_or_default())
            .into_iter()
            .filter(|(s, _)| s.eq_ignore_ascii_case(source_name))
            .map(|(_, c)| fqn::column(source_fqn, &c))
            .collect();
        if !from.is_empty() {
            out.push(ColumnLineage {
                from_columns: from,
                to_column: fqn::column(target_fqn, &column_name(&col.name)),
            });
        }
    }
    out
}

/// Column-level lineage from the warehouse columns a custom SQL reads into the columns of
/// `target_fqn` whose formulas read the SQL's output (`[<sql_name>/<output column>]`), by
/// table FQN (`table_fqn` names a SQL table reference's table, or `None` when it maps to
/// none). Only what the SQL's projection resolves exactly is paired.
pub fn custom_sql_column_pairs(
    columns: &[&DataModelColumn],
    projection: &super::projection::Projection,
    sql_name: &str,
    table_fqn: impl Fn(&super::sql::TableRef) -> Option<String>,
    target_fqn: &str,
) -> std::collections::BTreeMap<String, Vec<ColumnLineage>> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut out: BTreeMap<String, Vec<ColumnLineage>> = BTreeMap::new();
    for col in columns {
        let mut from: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (source, output) in formula_refs(col.formula.as_deref().unwrap_or_default()) {
            if !source.eq_ignore_ascii_case(sql_name) {
                continue;
            }
            let Some(reads) = projection.reads_of(&output) else {
                tracing::debug!(
                    "custom SQL {sql_name:?}: which columns {output:?} reads cannot be told exactly; no column lineage for {:?}",
                    col.name
                );
                continue;
            };
            for read in reads {
                if let Some(fqn) = table_fqn(&read.table) {
                    let column = fqn::column(&fqn, &read.column);
                    from.entry(fqn).or_default().insert(column);
                }
            }
        }
        for (table, from_columns) in from {
            out.entry(table).or_default().push(ColumnLineage {
                from_columns: from_columns.into_iter().collect(),
                to_column: fqn::column(target_fqn, &column_name(&col.name)),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(t: &str, viz: Option<&str>, name: Option<&str>) -> WorkbookElement {
        WorkbookElement {
            element_id: "el1".into(),
            name: name.map(Into::into),
            element_type: Some(t.into()),
            columns: vec![],
            vizualization_type: viz.map(Into::into),
            error: None,
            page_id: None,
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
    fn chart_kinds_and_types() {
        assert!(is_chart(&element("visualization", Some("bar"), None)));
        assert!(is_chart(&element("pivot-table", None, None)));
        assert!(!is_chart(&element("text", None, None)));
        assert!(!is_chart(&element("control", None, None)));
        // The full table is in tests/records.rs; here: the element decides when the
        // visualization does not.
        assert_eq!(
            chart_type(&element("visualization", Some("bar"), None)),
            ChartType::Bar
        );
        assert_eq!(
            chart_type(&element("pivot-table", None, None)),
            ChartType::Table
        );
        assert_eq!(
            chart_type(&element("visualization", Some("sunburst"), None)),
            ChartType::Other
        );
    }

    #[test]
    fn unnamed_elements_get_readable_names() {
        let page = WorkbookPage {
            page_id: "p1".into(),
            name: Some("Overview".into()),
            hidden: false,
        };
        assert_eq!(
            element_display_name(&element("visualization", Some("bar"), None), &page, 2),
            "Untitled bar 3 on Overview"
        );
        assert_eq!(
            element_display_name(&element("table", None, Some(" Sales ")), &page, 0),
            "Sales"
        );
    }

    #[test]
    fn urls_projects_formulas() {
        assert_eq!(
            element_url("https://x/wb/1", "e"),
            "https://x/wb/1?:nodeId=e"
        );
        assert_eq!(
            element_url("https://x/wb/1?a=b", "e"),
            "https://x/wb/1?a=b&:nodeId=e"
        );
        assert_eq!(project_of("Finance/Reports/Q3"), "Finance");
        assert_eq!(project_of("My Documents"), "My Documents");
        assert_eq!(
            formula_refs("Sum([Orders/AMOUNT]) + [Customers/REGION] + [bad]"),
            vec![
                ("Orders".into(), "AMOUNT".into()),
                ("Customers".into(), "REGION".into())
            ]
        );
        assert_eq!(
            formula_columns("[Orders/AMOUNT] * [Rate] + [] + [ x/ ] + [unclosed"),
            vec![
                (Some("Orders".into()), "AMOUNT".into()),
                (None, "Rate".into())
            ]
        );
    }
}
