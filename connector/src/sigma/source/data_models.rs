//! Sigma data models: each element as a data model, and the lineage into it from the
//! warehouse tables and the sibling elements it reads.

use super::*;

impl WorkbookCtx {
    /// A data model's elements as data models, and the lineage from the tables they read.
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
        let (elements, columns) = tokio::join!(
            collect(
                self.ctx.api.data_model_elements(&dm.data_model_id),
                status.clone()
            ),
            collect(
                self.ctx.api.data_model_columns(&dm.data_model_id),
                status.clone()
            ),
        );
        let fail = |step, e: ClientError| {
            let err = SourceError::Object {
                kind: "dataModel",
                id: dm.data_model_id.clone(),
                name: dm.name.clone(),
                step,
                message: e.to_string(),
            };
            Some((
                dm.data_model_url_id.clone(),
                Vec::new(),
                vec![Err(self.ctx.failed(err))],
            ))
        };
        let elements = match elements {
            Ok(v) => v,
            Err(e) => return fail("elements", e),
        };
        let columns = match columns {
            Ok(v) => v,
            Err(e) => return fail("columns", e),
        };
        let mut items = Vec::new();
        let mut fqns = Vec::new();
        let mut by_name: HashMap<String, (String, &DataModelElement)> = HashMap::new();
        for element in &elements {
            let cols: Vec<&DataModelColumn> = columns
                .iter()
                .filter(|c| c.element_id.as_deref() == Some(element.element_id.as_str()))
                .collect();
            let record = mapping::data_model_element(self.options(), &dm, element, &cols);
            let fqn = record.fqn();
            by_name.insert(
                element.name.clone().unwrap_or_default().to_lowercase(),
                (fqn.clone(), element),
            );
            fqns.push(fqn);
            self.ctx.status.emitted(record.kind());
            items.push(Ok(record.into()));
        }
        // Lineage into each element: from its warehouse table, and from sibling elements
        // its formulas read (`[Sibling/Column]`).
        for (element, fqn) in elements.iter().zip(&fqns) {
            let cols: Vec<&DataModelColumn> = columns
                .iter()
                .filter(|c| c.element_id.as_deref() == Some(element.element_id.as_str()))
                .collect();
            if let Some(inode) = &element.source_table {
                for table in self.table_fqns_for_inode(inode).await {
                    let pairs = mapping::column_pairs(&cols, &table.fqn, &table.name, fqn);
                    items.push(Ok(self.lineage(
                        EntityType::Table,
                        &table.fqn,
                        EntityType::DashboardDataModel,
                        fqn,
                        pairs,
                        table.candidates,
                    )));
                }
            }
            let mut siblings: BTreeMap<String, Vec<&DataModelColumn>> = BTreeMap::new();
            for col in &cols {
                for (source, _) in mapping::formula_refs(col.formula.as_deref().unwrap_or_default())
                {
                    if let Some((sib_fqn, sib)) = by_name.get(&source.to_lowercase()) {
                        if sib.element_id != element.element_id {
                            siblings.entry(sib_fqn.clone()).or_default().push(col);
                        }
                    }
                }
            }
            for (sib_fqn, _) in siblings {
                let source_name = by_name
                    .values()
                    .find(|(f, _)| *f == sib_fqn)
                    .and_then(|(_, e)| e.name.clone())
                    .unwrap_or_default();
                let pairs = mapping::column_pairs(&cols, &sib_fqn, &source_name, fqn);
                items.push(Ok(self.lineage(
                    EntityType::DashboardDataModel,
                    &sib_fqn,
                    EntityType::DashboardDataModel,
                    fqn,
                    pairs,
                    Vec::new(),
                )));
            }
        }
        Some((dm.data_model_url_id.clone(), fqns, items))
    }
}
