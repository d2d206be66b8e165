//! Column lineage into workbook and report elements, from the document's `/columns`.
//!
//! Each element column says what it reads, exactly, and nothing here pairs columns by
//! matching their names:
//! - a warehouse column's `columnId` is `inode-<tableUrlId>/<COLUMN>`: that table's column;
//! - `[TABLE/COLUMN]` in a formula, where `TABLE` is a table the element's lineage says it
//!   reads: that table's column;
//! - `[Element/Column]`, where `Element` is another chart of the same document (one of that
//!   name) with a column `Column`: that element's data model column;
//! - `[Column]`, a column of the element's own: whatever that column reads, transitively
//!   (cycles end where they start).
//!
//! A reference that resolves to none of these, or to a column the other end does not have,
//! gives no pair (a debug line says which).

use std::collections::{BTreeMap, BTreeSet};

use crate::records::{ColumnLineage, EntityType, column_name, fqn};
use crate::sigma::mapping;
use crate::sigma::model::ElementColumn;

use super::TableEnd;

/// One chart element's data model: its name in formulas, FQN, columns and the tables its
/// lineage says it reads.
pub(super) struct ElementModel<'a> {
    name: String,
    fqn: String,
    columns: Vec<&'a ElementColumn>,
    tables: Vec<TableEnd>,
    /// Lower-cased label -> the first column of that label.
    by_label: BTreeMap<String, &'a ElementColumn>,
}

impl<'a> ElementModel<'a> {
    pub fn new(
        name: String,
        fqn: String,
        columns: Vec<&'a ElementColumn>,
        tables: Vec<TableEnd>,
    ) -> Self {
        let mut by_label = BTreeMap::new();
        for column in &columns {
            by_label
                .entry(label_of(column).to_lowercase())
                .or_insert(*column);
        }
        Self {
            name,
            fqn,
            columns,
            tables,
            by_label,
        }
    }
}

/// One lineage edge into an element's data model.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ElementEdge {
    pub from_type: EntityType,
    pub from: String,
    pub to: String,
    pub pairs: Vec<ColumnLineage>,
    pub candidates: Vec<String>,
}

/// `inode-<urlId>/<COLUMN>` as `(inode-<urlId>, COLUMN)`.
pub(super) fn warehouse_column(column_id: &str) -> Option<(&str, &str)> {
    let (inode, column) = column_id.split_once('/')?;
    (inode.starts_with("inode-") && inode.len() > "inode-".len() && !column.trim().is_empty())
        .then_some((inode, column))
}

/// What one source end gives an element: its type, further FQN candidates and the source
/// columns read, per element column.
struct SourceEnd {
    from_type: EntityType,
    candidates: Vec<String>,
    /// Target column name -> source column FQNs.
    pairs: BTreeMap<String, BTreeSet<String>>,
}

/// Source end FQN -> what it gives.
type Sources = BTreeMap<String, SourceEnd>;

/// The source columns one element column reads, as `(from FQN, whether it is a table,
/// candidates, column FQN)`.
type Reads = BTreeSet<(String, bool, Vec<String>, String)>;

fn label_of(column: &ElementColumn) -> &str {
    column.label().unwrap_or_default()
}

fn find_column<'a>(model: &ElementModel<'a>, label: &str) -> Option<&'a ElementColumn> {
    model.by_label.get(&label.to_lowercase()).copied()
}

/// How many of its own columns a column may read through, one after another: bounds the
/// recursion (and the stack) on any input.
const MAX_DEPTH: usize = 256;

/// The columns `column` of `models[at]` reads, added to `out`.
fn reads_of(
    models: &[ElementModel<'_>],
    by_inode: &BTreeMap<String, Vec<TableEnd>>,
    at: usize,
    column: &ElementColumn,
    depth: usize,
    visiting: &mut BTreeSet<(usize, String)>,
    out: &mut Reads,
) {
    let Some(model) = models.get(at) else {
        return;
    };
    let label = label_of(column).to_lowercase();
    if depth >= MAX_DEPTH {
        tracing::debug!(
            element = %model.fqn,
            "formula of {:?} reads columns more than {MAX_DEPTH} deep; no column lineage beyond",
            label_of(column)
        );
        return;
    }
    if !visiting.insert((at, label)) {
        return;
    }
    if let Some((inode, native)) = column.column_id.as_deref().and_then(warehouse_column) {
        for table in by_inode.get(inode).into_iter().flatten() {
            out.insert((
                table.fqn.clone(),
                true,
                table.candidates.clone(),
                fqn::column(&table.fqn, native),
            ));
        }
    }
    for (source, name) in mapping::formula_columns(column.formula.as_deref().unwrap_or_default()) {
        let Some(source) = source else {
            // A column of the element's own: what it reads.
            match find_column(model, &name) {
                Some(own) => reads_of(models, by_inode, at, own, depth + 1, visiting, out),
                None => tracing::debug!(
                    element = %model.fqn,
                    "formula of {:?} reads [{name}], which the element has no column of; no column lineage from it",
                    label_of(column)
                ),
            }
            continue;
        };
        let tables: Vec<&TableEnd> = model
            .tables
            .iter()
            .filter(|t| t.name.eq_ignore_ascii_case(&source))
            .collect();
        if !tables.is_empty() {
            for table in tables {
                out.insert((
                    table.fqn.clone(),
                    true,
                    table.candidates.clone(),
                    fqn::column(&table.fqn, &name),
                ));
            }
            continue;
        }
        let mut others = models
            .iter()
            .enumerate()
            .filter(|(i, m)| *i != at && m.name.eq_ignore_ascii_case(&source));
        match (others.next(), others.next()) {
            (Some((_, other)), None) => match find_column(other, &name) {
                Some(read) => {
                    out.insert((
                        other.fqn.clone(),
                        false,
                        Vec::new(),
                        fqn::column(&other.fqn, &column_name(label_of(read))),
                    ));
                }
                None => tracing::debug!(
                    element = %model.fqn,
                    "formula of {:?} reads [{source}/{name}], which element {source:?} has no column of; no column lineage from it",
                    label_of(column)
                ),
            },
            (Some(_), Some(_)) => tracing::debug!(
                element = %model.fqn,
                "formula of {:?} reads [{source}/{name}]: several elements are called {source:?}; no column lineage from it",
                label_of(column)
            ),
            (None, _) => tracing::debug!(
                element = %model.fqn,
                "formula of {:?} reads [{source}/{name}], a source the element is not known to read; no column lineage from it",
                label_of(column)
            ),
        }
    }
}

/// The lineage edges into every element's data model: one per table the element reads
/// (with or without pairs) and one per source end its columns read, in FQN order.
pub(super) fn lineage(
    models: &[ElementModel<'_>],
    by_inode: &BTreeMap<String, Vec<TableEnd>>,
) -> Vec<ElementEdge> {
    let mut edges = Vec::new();
    for (at, model) in models.iter().enumerate() {
        let mut sources: Sources = BTreeMap::new();
        for table in &model.tables {
            sources.entry(table.fqn.clone()).or_insert(SourceEnd {
                from_type: EntityType::Table,
                candidates: table.candidates.clone(),
                pairs: BTreeMap::new(),
            });
        }
        let mut to_columns = BTreeSet::new();
        for column in &model.columns {
            let Some(label) = column.label() else {
                continue;
            };
            let to = column_name(label);
            // The data model keeps the first column of a name; so do the pairs.
            if !to_columns.insert(to.clone()) {
                continue;
            }
            let mut reads = Reads::new();
            reads_of(
                models,
                by_inode,
                at,
                column,
                0,
                &mut BTreeSet::new(),
                &mut reads,
            );
            for (from, is_table, candidates, from_column) in reads {
                let from_type = if is_table {
                    EntityType::Table
                } else {
                    EntityType::DashboardDataModel
                };
                if from == model.fqn {
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
        for (from, end) in sources {
            let to_fqn = &model.fqn;
            edges.push(ElementEdge {
                from_type: end.from_type,
                from,
                to: to_fqn.clone(),
                pairs: end
                    .pairs
                    .into_iter()
                    .map(|(to, from_columns)| ColumnLineage {
                        from_columns: from_columns.into_iter().collect(),
                        to_column: fqn::column(to_fqn, &to),
                    })
                    .collect(),
                candidates: end.candidates,
            });
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(element: &str, id: &str, label: &str, formula: &str) -> ElementColumn {
        ElementColumn {
            column_id: Some(id.to_owned()),
            name: None,
            label: Some(label.to_owned()),
            formula: Some(formula.to_owned()),
            r#type: None,
            element_id: Some(element.to_owned()),
        }
    }

    fn table(fqn: &str, name: &str) -> TableEnd {
        TableEnd {
            fqn: fqn.to_owned(),
            name: name.to_owned(),
            candidates: Vec::new(),
        }
    }

    #[test]
    fn every_reference_kind_resolves_exactly() {
        let a = [
            column("a", "inode-T1/ID", "ID", "[ORDERS/ID]"),
            column("a", "a/amount", "Amount", "[ORDERS/AMOUNT]"),
            column("a", "a/x", "Twice", "[Amount] + [ID] * [Loop]"),
            column("a", "a/loop", "Loop", "[Loop] + [Twice]"),
            column(
                "a",
                "a/missing",
                "Gone",
                "[Nope] + [Other/NOPE] + [Elsewhere/ID]",
            ),
        ];
        let b = [
            column("b", "b/id", "Order id", "[Sales/ID]"),
            column("b", "b/sum", "Sum", "Sum([Sales/Amount]) + [Sales/Twice]"),
        ];
        let by_inode: BTreeMap<String, Vec<TableEnd>> = [(
            "inode-T1".to_owned(),
            vec![table("db.s.d.orders", "ORDERS")],
        )]
        .into();
        let models = [
            ElementModel::new(
                "Sales".into(),
                "svc.model.a".into(),
                a.iter().collect(),
                vec![table("db.s.d.orders", "ORDERS")],
            ),
            ElementModel::new(
                "Other".into(),
                "svc.model.b".into(),
                b.iter().collect(),
                Vec::new(),
            ),
        ];
        let edges = lineage(&models, &by_inode);
        let pairs = |edge: &ElementEdge| -> Vec<(String, Vec<String>)> {
            edge.pairs
                .iter()
                .map(|p| (p.to_column.clone(), p.from_columns.clone()))
                .collect()
        };
        assert_eq!(edges.len(), 2);
        assert_eq!(
            (edges[0].from.as_str(), edges[0].to.as_str()),
            ("db.s.d.orders", "svc.model.a")
        );
        assert_eq!(
            pairs(&edges[0]),
            vec![
                (
                    "svc.model.a.Amount".into(),
                    vec!["db.s.d.orders.AMOUNT".into()]
                ),
                ("svc.model.a.ID".into(), vec!["db.s.d.orders.ID".into()]),
                (
                    "svc.model.a.Loop".into(),
                    vec!["db.s.d.orders.AMOUNT".into(), "db.s.d.orders.ID".into()]
                ),
                (
                    "svc.model.a.Twice".into(),
                    vec!["db.s.d.orders.AMOUNT".into(), "db.s.d.orders.ID".into()]
                ),
            ]
        );
        assert_eq!(
            (edges[1].from.as_str(), edges[1].to.as_str()),
            ("svc.model.a", "svc.model.b")
        );
        assert_eq!(edges[1].from_type, EntityType::DashboardDataModel);
        assert_eq!(
            pairs(&edges[1]),
            vec![
                ("svc.model.b.Order id".into(), vec!["svc.model.a.ID".into()]),
                (
                    "svc.model.b.Sum".into(),
                    vec!["svc.model.a.Amount".into(), "svc.model.a.Twice".into()]
                ),
            ]
        );
    }

    #[test]
    fn a_long_chain_of_own_columns_ends_without_exhausting_the_stack() {
        let mut columns = vec![column("a", "inode-T1/ID", "c0", "[ORDERS/ID]")];
        for i in 1..1_000 {
            columns.push(column(
                "a",
                &format!("a/{i}"),
                &format!("c{i}"),
                &format!("[c{}]", i - 1),
            ));
        }
        let by_inode: BTreeMap<String, Vec<TableEnd>> = [(
            "inode-T1".to_owned(),
            vec![table("db.s.d.orders", "ORDERS")],
        )]
        .into();
        let models = [ElementModel::new(
            "Long".into(),
            "svc.model.a".into(),
            columns.iter().collect(),
            vec![table("db.s.d.orders", "ORDERS")],
        )];
        let edges = lineage(&models, &by_inode);
        assert_eq!(edges.len(), 1);
        // Columns within reach of c0 are paired; the rest are left out, not guessed.
        let paired = edges[0].pairs.len();
        assert!(paired > MAX_DEPTH / 2 && paired < columns.len(), "{paired}");
    }

    #[test]
    fn warehouse_column_ids() {
        assert_eq!(warehouse_column("inode-abc/ID"), Some(("inode-abc", "ID")));
        assert_eq!(warehouse_column("inode-/ID"), None);
        assert_eq!(warehouse_column("inode-abc/"), None);
        assert_eq!(warehouse_column("el1/ID"), None);
        assert_eq!(warehouse_column("inode-abc"), None);
    }
}
