//! Sigma data models: each as one item, its elements with their columns, what each reads
//! (warehouse tables, custom SQL, sibling elements, other data models' elements, legacy
//! datasets) and the column pairs its formulas say.
//!
//! Today's Sigma says what each element reads in `/v2/dataModels/{id}/lineage`; an older
//! deployment answers 404 there (once per run, `endpoints.rs`), and the elements' own
//! `sourceTable` and their formulas (`[Sibling/Column]`) say it instead.

use super::*;
use crate::catalog::{ColumnLineage, ColumnRef, End, LineageSource, TableSource, Upstream};
use crate::sigma::endpoints::Endpoint;
use crate::sigma::lineage::LineageTree;
use crate::sigma::model::LineageEntry;
use crate::sigma::projection;

/// An element and its columns, for the upstreams into it and out of it.
struct ModelElement<'a> {
    element: &'a DataModelElement,
    columns: Vec<&'a DataModelColumn>,
}

impl ModelElement<'_> {
    fn name(&self) -> &str {
        self.element.name.as_deref().unwrap_or_default()
    }

    fn id(&self) -> &str {
        &self.element.element_id
    }
}

/// What one element reads: its upstreams in the order Sigma names them (each once), and
/// the column pairs each gives.
#[derive(Default)]
struct Reads {
    upstreams: Vec<Upstream>,
    pairs: Vec<ColumnLineage>,
}

impl Reads {
    /// Adds an upstream and its pairs, unless the upstream is already there.
    fn add(&mut self, upstream: Upstream, pairs: Vec<ColumnLineage>) {
        if !self.upstreams.contains(&upstream) {
            self.upstreams.push(upstream);
            self.pairs.extend(pairs);
        }
    }
}

fn column(c: &DataModelColumn) -> catalog::Column {
    catalog::Column {
        column_id: c.column_id.clone(),
        name: c.name.clone(),
        label: c.label.clone(),
        formula: c.formula.clone(),
        column_type: c.r#type.clone(),
        description: c.description.clone(),
    }
}

/// The pairs of the columns whose formulas read `source_name` (`[Source/Column]`), each
/// from `end`, in formula order.
fn column_pairs(columns: &[&DataModelColumn], end: &End, source_name: &str) -> Vec<ColumnLineage> {
    let mut out = Vec::new();
    for col in columns {
        let from: Vec<ColumnRef> =
            mapping::formula_refs(col.formula.as_deref().unwrap_or_default())
                .into_iter()
                .filter(|(s, _)| s.eq_ignore_ascii_case(source_name))
                .map(|(_, column)| ColumnRef {
                    end: end.clone(),
                    column,
                })
                .collect();
        if !from.is_empty() {
            out.push(ColumnLineage {
                to: col.name.clone(),
                from,
                function: col.formula.clone(),
                via: None,
            });
        }
    }
    out
}

/// The warehouse columns output column `output` of custom SQL `sql_name` is made of, as
/// the SQL's projection resolves them exactly (`table` places a SQL table reference, or
/// says it cannot be placed); none, with a debug line, when that cannot be told. The one
/// place a formula's `[<sql_name>/<output>]` is resolved, for data model elements and for
/// workbook and report elements alike.
pub(super) fn custom_sql_reads(
    projection: &projection::Projection,
    sql_name: &str,
    output: &str,
    table: &dyn Fn(&sql::TableRef) -> Option<WarehouseTable>,
) -> Vec<ColumnRef> {
    let Some(reads) = projection.reads_of(output) else {
        tracing::debug!(
            "custom SQL {sql_name:?}: which columns {output:?} reads cannot be told exactly; no column lineage from it"
        );
        return Vec::new();
    };
    reads
        .into_iter()
        .filter_map(|read| {
            Some(ColumnRef {
                end: End::Table {
                    table: table(&read.table)?,
                },
                column: read.column,
            })
        })
        .collect()
}

/// The pairs of the columns whose formulas read a custom SQL's output
/// (`[<sql_name>/<output column>]`): the warehouse columns that output is made of.
fn custom_sql_pairs(
    columns: &[&DataModelColumn],
    projection: &projection::Projection,
    sql_name: &str,
    table: &dyn Fn(&sql::TableRef) -> Option<WarehouseTable>,
) -> Vec<ColumnLineage> {
    let mut out = Vec::new();
    for col in columns {
        let mut from = Vec::new();
        for (source, output) in mapping::formula_refs(col.formula.as_deref().unwrap_or_default()) {
            if source.eq_ignore_ascii_case(sql_name) {
                from.extend(custom_sql_reads(projection, sql_name, &output, table));
            }
        }
        if !from.is_empty() {
            out.push(ColumnLineage {
                to: col.name.clone(),
                from,
                function: col.formula.clone(),
                via: Some(sql_name.to_owned()),
            });
        }
    }
    out
}

impl WorkbookCtx {
    /// A data model as one item: its elements, what each reads, its column pairs.
    pub(super) async fn expand_data_model(&self, dm: DataModel) -> ExpandedModel {
        let selected = self.selected(Candidate {
            kind: "dataModel",
            archived: dm.is_archived.then_some("archived data model"),
            path: Some(&dm.path),
            name: &dm.name,
            name_filter: &self.options().data_model_filter,
        });
        if !selected {
            return None;
        }
        let status = &self.ctx.status;
        let group = Group::data_model(dm.data_model_id.clone());
        let known = self
            .ctx
            .options
            .memory
            .data_models
            .get(&dm.data_model_id)
            .filter(|k| k.stamp == dm.updated_at);
        if known.is_some() {
            // Unchanged by its stamp: whether its inputs are is known with the datasets.
            self.known(Known::Datasets).await;
        }
        if let Some(known) = known.filter(|_| self.reuse.data_models.load(Ordering::Relaxed)) {
            status.skipped("unchanged data model");
            return Some((
                dm.data_model_id.clone(),
                dm.data_model_url_id.clone(),
                known.elements.clone(),
                vec![Ok(SourceItem::Unchanged { group })],
            ));
        }
        let lineage = self.ctx.endpoints.call(
            Endpoint::DataModelLineage,
            collect(
                self.ctx.api.data_model_lineage(&dm.data_model_id),
                status.clone(),
            ),
        );
        let (elements, columns, lineage) = tokio::join!(
            collect(
                self.ctx.api.data_model_elements(&dm.data_model_id),
                status.clone()
            ),
            collect(
                self.ctx.api.data_model_columns(&dm.data_model_id),
                status.clone()
            ),
            lineage,
        );
        let fail = |step, e: ClientError| {
            let err = SourceError::Object {
                kind: "dataModel",
                id: dm.data_model_id.clone(),
                name: dm.name.clone(),
                step,
                message: e.to_string(),
                cause: e.cause().into(),
            };
            Some((
                dm.data_model_id.clone(),
                dm.data_model_url_id.clone(),
                Vec::new(),
                vec![Err(self.ctx.failed(err))],
            ))
        };
        let elements = match elements {
            Ok(v) => v,
            Err(e) => return fail("elements", e),
        };
        // Fetched; what follows reads the datasets (migrated into this model, read by it).
        self.known(Known::Datasets).await;
        let columns = match columns {
            Ok(v) => v,
            Err(e) => return fail("columns", e),
        };
        // Every dataset migrated into this data model, in id order: the datasets map is
        // keyed by urlId, and its order must not reach the output.
        let mut replaces: Vec<String> = self
            .datasets
            .get()
            .into_iter()
            .flat_map(|d| d.values())
            .filter_map(|end| match end {
                DatasetEnd::MigratedTo {
                    data_model_id,
                    dataset_id,
                } if *data_model_id == dm.data_model_id => Some(dataset_id.clone()),
                _ => None,
            })
            .collect();
        replaces.sort_unstable();
        replaces.dedup();
        let model: Vec<ModelElement<'_>> = elements
            .iter()
            .map(|element| ModelElement {
                element,
                columns: columns
                    .iter()
                    .filter(|c| c.element_id.as_deref() == Some(element.element_id.as_str()))
                    .collect(),
            })
            .collect();
        let (source, reads) = match lineage {
            Some(Ok(entries)) => {
                let tree = LineageTree::new(entries);
                let mut reads = Vec::new();
                for target in &model {
                    reads.push(self.element_reads_from_tree(&tree, &model, target).await);
                }
                (LineageSource::Tree, reads)
            }
            other => {
                if let Some(Err(e)) = other {
                    status.warn(
                        &format!(
                            "data model lineage unavailable ({}); using the elements' own sources",
                            e.cause()
                        ),
                        Some(&dm.data_model_id),
                        format!(
                            "data model `{}` ({}): lineage unavailable ({e}); using the elements' own sources",
                            dm.name, dm.data_model_id
                        ),
                    );
                }
                let mut reads = Vec::new();
                for target in &model {
                    reads.push(self.element_reads_from_elements(&model, target).await);
                }
                (LineageSource::Elements, reads)
            }
        };
        let item = catalog::DataModel {
            id: dm.data_model_id.clone(),
            url_id: dm.data_model_url_id.clone(),
            name: dm.name.clone(),
            description: dm.description.clone(),
            url: dm.url.clone(),
            path: dm.path.clone(),
            created_at: Some(dm.created_at.clone()),
            updated_at: dm.updated_at.clone(),
            owner: self
                .options()
                .include_owners
                .then(|| self.owners.emails.get(&dm.owner_id).cloned())
                .flatten(),
            tags: Vec::new(),
            elements: model
                .iter()
                .zip(reads)
                .map(|(m, reads)| catalog::DataModelElement {
                    id: m.element.element_id.clone(),
                    name: m.element.name.clone(),
                    element_type: m.element.element_type.clone(),
                    url: mapping::element_url(&dm.url, &m.element.element_id),
                    columns: m.columns.iter().map(|c| column(c)).collect(),
                    upstreams: reads.upstreams,
                    column_lineage: reads.pairs,
                })
                .collect(),
            replaces_datasets: replaces,
            lineage: source,
        };
        let known_elements: Vec<KnownElement> = item
            .elements
            .iter()
            .map(|e| KnownElement {
                id: e.id.clone(),
                name: e.name.clone(),
                columns: e.columns.iter().map(|c| c.name.clone()).collect(),
            })
            .collect();
        let items = vec![
            Ok(SourceItem::Item(Item::DataModel(item))),
            Ok(SourceItem::Seen {
                group,
                known: KnownGroup {
                    url_id: Some(dm.data_model_url_id.clone()),
                    stamp: dm.updated_at.clone(),
                    elements: known_elements.clone(),
                    end: None,
                },
            }),
        ];
        Some((
            dm.data_model_id.clone(),
            dm.data_model_url_id.clone(),
            known_elements,
            items,
        ))
    }

    /// What one element reads, from its entry in the model's lineage tree: tables (with
    /// column pairs from formulas such as `[ORDERS/AMOUNT]`), the tables custom SQL names,
    /// siblings and elements of other data models (column pairs from formulas), datasets.
    async fn element_reads_from_tree(
        &self,
        tree: &LineageTree,
        model: &[ModelElement<'_>],
        target: &ModelElement<'_>,
    ) -> Reads {
        let mut reads = Reads::default();
        let mut other_models = Vec::new();
        let mut named = Vec::new();
        for source_id in tree.direct(target.id()) {
            if let Some(sibling) = model
                .iter()
                .find(|m| m.id() == source_id.as_str() && m.id() != target.id())
            {
                named.push(sibling.name().to_lowercase());
                let end = End::Element {
                    element_id: sibling.id().to_owned(),
                };
                let pairs = column_pairs(&target.columns, &end, sibling.name());
                reads.add(
                    Upstream::Element {
                        element_id: sibling.id().to_owned(),
                    },
                    pairs,
                );
                continue;
            }
            match tree.source(source_id) {
                Some(LineageEntry::Table { inode_id, name, .. }) => {
                    let Some(table) = self.table_for_inode(inode_id).await else {
                        continue;
                    };
                    let end = End::Table {
                        table: table.clone(),
                    };
                    let mut pairs = column_pairs(&target.columns, &end, table.table());
                    if let Some(name) = name.as_deref().filter(|_| pairs.is_empty()) {
                        pairs = column_pairs(&target.columns, &end, name);
                    }
                    named.push(table.table().to_lowercase());
                    named.extend(name.as_deref().map(str::to_lowercase));
                    reads.add(
                        Upstream::Table {
                            table,
                            source: TableSource::Lineage,
                        },
                        pairs,
                    );
                }
                Some(LineageEntry::CustomSql {
                    definition,
                    connection_id,
                    name,
                    ..
                }) => {
                    named.extend(name.as_deref().map(str::to_lowercase));
                    if self.options().placement.is_empty() {
                        continue;
                    }
                    // Column pairs from the SQL's projection: `[<name>/ID]` in a column's
                    // formula reads the warehouse columns the SQL's `ID` is made of.
                    let pairs = match (name.as_deref(), projection::projection(definition)) {
                        (Some(sql_name), Ok(projected)) => {
                            custom_sql_pairs(&target.columns, &projected, sql_name, &|t| {
                                self.place_sql_table(connection_id.as_deref(), t)
                            })
                        }
                        (_, Err(e)) => {
                            tracing::debug!("custom SQL not parsed for column lineage: {e}");
                            Vec::new()
                        }
                        (None, Ok(_)) => Vec::new(),
                    };
                    let tables = self.tables_in_sql(definition, connection_id.as_deref());
                    reads.add(
                        Upstream::CustomSql {
                            name: name.clone(),
                            tables,
                        },
                        pairs,
                    );
                }
                Some(LineageEntry::DataModel { data_model_id, .. }) => {
                    // `<dataModelUrlId>/<elementId>`: the element read.
                    if let Some((_, element_id)) = source_id.split_once('/') {
                        other_models.push((data_model_id.clone(), element_id.to_owned()));
                    }
                }
                Some(LineageEntry::Dataset { inode_id, name, .. }) => {
                    named.extend(name.as_deref().map(str::to_lowercase));
                    let url_id = inode_id.trim_start_matches("inode-");
                    let dataset = self.datasets.get().and_then(|d| match d.get(url_id)? {
                        DatasetEnd::Emitted(id) => Some(id.clone()),
                        DatasetEnd::MigratedTo { .. } => None,
                    });
                    // A dataset has no columns: no pairs.
                    if let Some(dataset_id) = dataset {
                        reads.add(Upstream::Dataset { dataset_id }, Vec::new());
                    }
                }
                _ => {}
            }
        }
        // An element of another data model: its columns are the formula sources that are
        // neither siblings nor tables. With one such model read, they are its columns.
        let only_one = other_models.len() == 1;
        for (data_model_id, element_id) in other_models {
            let end = End::DataModelElement {
                data_model_id: data_model_id.clone(),
                element_id: element_id.clone(),
            };
            let pairs = if only_one {
                let source = target
                    .columns
                    .iter()
                    .flat_map(|c| mapping::formula_refs(c.formula.as_deref().unwrap_or_default()))
                    .map(|(source, _)| source)
                    .find(|source| !named.contains(&source.to_lowercase()));
                source.map_or_else(Vec::new, |s| column_pairs(&target.columns, &end, &s))
            } else {
                Vec::new()
            };
            reads.add(
                Upstream::DataModelElement {
                    data_model_id,
                    element_id,
                },
                pairs,
            );
        }
        reads
    }

    /// What one element reads on an older deployment: its `sourceTable`, and the sibling
    /// elements its formulas read (`[Sibling/Column]`).
    async fn element_reads_from_elements(
        &self,
        model: &[ModelElement<'_>],
        target: &ModelElement<'_>,
    ) -> Reads {
        let mut reads = Reads::default();
        if let Some(inode) = &target.element.source_table {
            if let Some(table) = self.table_for_inode(inode).await {
                let end = End::Table {
                    table: table.clone(),
                };
                let pairs = column_pairs(&target.columns, &end, table.table());
                reads.add(
                    Upstream::Table {
                        table,
                        source: TableSource::Lineage,
                    },
                    pairs,
                );
            }
        }
        let mut siblings: BTreeMap<&str, &ModelElement<'_>> = BTreeMap::new();
        for col in &target.columns {
            for (source, _) in mapping::formula_refs(col.formula.as_deref().unwrap_or_default()) {
                if let Some(sibling) = model
                    .iter()
                    .find(|m| m.name().eq_ignore_ascii_case(&source) && m.id() != target.id())
                {
                    siblings.insert(sibling.id(), sibling);
                }
            }
        }
        for (id, sibling) in siblings {
            let end = End::Element {
                element_id: id.to_owned(),
            };
            let pairs = column_pairs(&target.columns, &end, sibling.name());
            reads.add(
                Upstream::Element {
                    element_id: id.to_owned(),
                },
                pairs,
            );
        }
        reads
    }
}
