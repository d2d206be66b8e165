//! Sigma data models: each element as a data model, and the lineage into it from the
//! warehouse tables, custom SQL, sibling elements, other data models and legacy datasets it
//! reads.
//!
//! Today's Sigma says what each element reads in `/v2/dataModels/{id}/lineage`; an older
//! deployment answers 404 there (once per run, `endpoints.rs`), and the elements' own
//! `sourceTable` and their formulas (`[Sibling/Column]`) say it instead.

use super::*;
use crate::sigma::endpoints::Endpoint;
use crate::sigma::lineage::LineageTree;
use crate::sigma::model::LineageEntry;
use crate::sigma::projection;

/// An element's record FQN, name and columns, for the edges into it and out of it.
struct ModelElement<'a> {
    element: &'a DataModelElement,
    fqn: String,
    columns: Vec<&'a DataModelColumn>,
}

impl ModelElement<'_> {
    fn name(&self) -> &str {
        self.element.name.as_deref().unwrap_or_default()
    }
}

impl WorkbookCtx {
    /// A data model's elements as data models, and the lineage into them.
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
                known.fqns.clone(),
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
        // Fetched; mapping reads the datasets (migrated into this model, read by it).
        self.known(Known::Datasets).await;
        let columns = match columns {
            Ok(v) => v,
            Err(e) => return fail("columns", e),
        };
        // Every dataset migrated into this data model, in id order: the datasets map is
        // keyed by urlId, and its order must not reach the output.
        let mut replaces: Vec<&str> = self
            .datasets
            .get()
            .into_iter()
            .flat_map(|d| d.values())
            .filter_map(|end| match end {
                DatasetEnd::MigratedTo {
                    data_model_id,
                    dataset_id,
                } if *data_model_id == dm.data_model_id => Some(dataset_id.as_str()),
                _ => None,
            })
            .collect();
        replaces.sort_unstable();
        replaces.dedup();
        let mut items = Vec::new();
        let mut model = Vec::new();
        for element in &elements {
            let cols: Vec<&DataModelColumn> = columns
                .iter()
                .filter(|c| c.element_id.as_deref() == Some(element.element_id.as_str()))
                .collect();
            let record =
                mapping::data_model_element(self.options(), &dm, element, &cols, &replaces);
            model.push(ModelElement {
                element,
                fqn: record.fqn(),
                columns: cols,
            });
            self.ctx.status.emitted(record.kind());
            items.push(Ok(record.into()));
        }
        match lineage {
            Some(Ok(entries)) => {
                let tree = LineageTree::new(entries);
                for target in &model {
                    items.extend(self.element_lineage_from_tree(&tree, &model, target).await);
                }
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
                for target in &model {
                    items.extend(self.element_lineage_from_elements(&model, target).await);
                }
            }
        }
        let fqns: Vec<String> = model.into_iter().map(|m| m.fqn).collect();
        grouped(&mut items, &group);
        items.push(Ok(SourceItem::Seen {
            group,
            known: KnownGroup {
                url_id: Some(dm.data_model_url_id.clone()),
                stamp: dm.updated_at.clone(),
                fqns: fqns.clone(),
                end: None,
            },
        }));
        Some((
            dm.data_model_id.clone(),
            dm.data_model_url_id.clone(),
            fqns,
            items,
        ))
    }

    /// Lineage into one element from its entry in the model's lineage tree: tables (with
    /// column pairs from formulas such as `[ORDERS/AMOUNT]`), the tables custom SQL names,
    /// siblings and elements of other data models (column pairs from formulas), datasets.
    async fn element_lineage_from_tree(
        &self,
        tree: &LineageTree,
        model: &[ModelElement<'_>],
        target: &ModelElement<'_>,
    ) -> Vec<SourceResult> {
        let mut edges: BTreeMap<String, (EntityType, Vec<ColumnLineage>, Vec<String>)> =
            BTreeMap::new();
        let mut other_models = Vec::new();
        let mut named = Vec::new();
        for source_id in tree.direct(&target.element.element_id) {
            if let Some(sibling) = model
                .iter()
                .find(|m| m.element.element_id == *source_id && m.fqn != target.fqn)
            {
                named.push(sibling.name().to_lowercase());
                let pairs = mapping::column_pairs(
                    &target.columns,
                    &sibling.fqn,
                    sibling.name(),
                    &target.fqn,
                );
                edges.insert(
                    sibling.fqn.clone(),
                    (EntityType::DashboardDataModel, pairs, Vec::new()),
                );
                continue;
            }
            match tree.source(source_id) {
                Some(LineageEntry::Table { inode_id, name, .. }) => {
                    for table in self.table_fqns_for_inode(inode_id).await {
                        let mut pairs = mapping::column_pairs(
                            &target.columns,
                            &table.fqn,
                            &table.name,
                            &target.fqn,
                        );
                        if let Some(name) = name.as_deref().filter(|_| pairs.is_empty()) {
                            pairs = mapping::column_pairs(
                                &target.columns,
                                &table.fqn,
                                name,
                                &target.fqn,
                            );
                        }
                        named.push(table.name.to_lowercase());
                        named.extend(name.as_deref().map(str::to_lowercase));
                        edges.insert(table.fqn, (EntityType::Table, pairs, table.candidates));
                    }
                }
                Some(LineageEntry::CustomSql {
                    definition,
                    connection_id,
                    name,
                    ..
                }) => {
                    named.extend(name.as_deref().map(str::to_lowercase));
                    if self.mapping.is_empty() {
                        continue;
                    }
                    // Column pairs from the SQL's projection: `[<name>/ID]` in a column's
                    // formula reads the warehouse columns the SQL's `ID` is made of.
                    let mut pairs = match (name.as_deref(), projection::projection(definition)) {
                        (Some(sql_name), Ok(projected)) => mapping::custom_sql_column_pairs(
                            &target.columns,
                            &projected,
                            sql_name,
                            |table| {
                                self.mapping
                                    .table_fqns(connection_id.as_deref(), &table.parts)
                                    .into_iter()
                                    .next()
                            },
                            &target.fqn,
                        ),
                        (_, Err(e)) => {
                            tracing::debug!("custom SQL not parsed for column lineage: {e}");
                            BTreeMap::new()
                        }
                        (None, Ok(_)) => BTreeMap::new(),
                    };
                    for table in self.tables_in_sql(definition, connection_id.as_deref()) {
                        let table_pairs = pairs.remove(&table.fqn).unwrap_or_default();
                        edges
                            .entry(table.fqn)
                            .or_insert((EntityType::Table, Vec::new(), table.candidates))
                            .1
                            .extend(table_pairs);
                    }
                }
                Some(LineageEntry::DataModel { data_model_id, .. }) => {
                    // `<dataModelUrlId>/<elementId>`: the element read.
                    if let Some((_, element_id)) = source_id.split_once('/') {
                        other_models.push(mapping::data_model_element_fqn(
                            self.options(),
                            data_model_id,
                            element_id,
                        ));
                    }
                }
                Some(LineageEntry::Dataset { inode_id, name, .. }) => {
                    named.extend(name.as_deref().map(str::to_lowercase));
                    let url_id = inode_id.trim_start_matches("inode-");
                    let fqn = self.datasets.get().and_then(|d| match d.get(url_id)? {
                        DatasetEnd::Emitted(fqn) => Some(fqn.clone()),
                        DatasetEnd::MigratedTo { .. } => None,
                    });
                    // A dataset data model has no columns: no pairs.
                    if let Some(fqn) = fqn {
                        edges.insert(
                            fqn,
                            (EntityType::DashboardDataModel, Vec::new(), Vec::new()),
                        );
                    }
                }
                _ => {}
            }
        }
        // An element of another data model: its columns are the formula sources that are
        // neither siblings nor tables. With one such model read, they are its columns.
        let only_one = other_models.len() == 1;
        for fqn in other_models {
            let pairs = if only_one {
                let source = target
                    .columns
                    .iter()
                    .flat_map(|c| mapping::formula_refs(c.formula.as_deref().unwrap_or_default()))
                    .map(|(source, _)| source)
                    .find(|source| !named.contains(&source.to_lowercase()));
                source.map_or_else(Vec::new, |s| {
                    mapping::column_pairs(&target.columns, &fqn, &s, &target.fqn)
                })
            } else {
                Vec::new()
            };
            edges.insert(fqn, (EntityType::DashboardDataModel, pairs, Vec::new()));
        }
        edges
            .into_iter()
            .map(|(from, (from_type, pairs, candidates))| {
                Ok(self.lineage(
                    from_type,
                    &from,
                    EntityType::DashboardDataModel,
                    &target.fqn,
                    pairs,
                    candidates,
                ))
            })
            .collect()
    }

    /// Lineage into one element on an older deployment: from its `sourceTable`, and from the
    /// sibling elements its formulas read (`[Sibling/Column]`).
    async fn element_lineage_from_elements(
        &self,
        model: &[ModelElement<'_>],
        target: &ModelElement<'_>,
    ) -> Vec<SourceResult> {
        let mut items = Vec::new();
        if let Some(inode) = &target.element.source_table {
            for table in self.table_fqns_for_inode(inode).await {
                let pairs =
                    mapping::column_pairs(&target.columns, &table.fqn, &table.name, &target.fqn);
                items.push(Ok(self.lineage(
                    EntityType::Table,
                    &table.fqn,
                    EntityType::DashboardDataModel,
                    &target.fqn,
                    pairs,
                    table.candidates,
                )));
            }
        }
        let mut siblings: BTreeMap<String, &ModelElement<'_>> = BTreeMap::new();
        for col in &target.columns {
            for (source, _) in mapping::formula_refs(col.formula.as_deref().unwrap_or_default()) {
                if let Some(sibling) = model
                    .iter()
                    .find(|m| m.name().eq_ignore_ascii_case(&source) && m.fqn != target.fqn)
                {
                    siblings.insert(sibling.fqn.clone(), sibling);
                }
            }
        }
        for (fqn, sibling) in siblings {
            let pairs = mapping::column_pairs(&target.columns, &fqn, sibling.name(), &target.fqn);
            items.push(Ok(self.lineage(
                EntityType::DashboardDataModel,
                &fqn,
                EntityType::DashboardDataModel,
                &target.fqn,
                pairs,
                Vec::new(),
            )));
        }
        items
    }
}
