//! Column pairs into workbook and report elements, from the document's `/columns`.
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

use crate::catalog::{ColumnLineage, ColumnRef, End, WarehouseTable};
use crate::sigma::mapping;
use crate::sigma::model::ElementColumn;

/// One chart element with columns: its id, its name in formulas, its columns and the
/// tables its lineage says it reads.
pub(super) struct ElementModel<'a> {
    id: String,
    name: String,
    columns: Vec<&'a ElementColumn>,
    tables: Vec<WarehouseTable>,
    /// Lower-cased label -> the first column of that label.
    by_label: BTreeMap<String, &'a ElementColumn>,
}

impl<'a> ElementModel<'a> {
    pub fn new(
        id: String,
        name: String,
        columns: Vec<&'a ElementColumn>,
        tables: Vec<WarehouseTable>,
    ) -> Self {
        let mut by_label = BTreeMap::new();
        for column in &columns {
            by_label
                .entry(label_of(column).to_lowercase())
                .or_insert(*column);
        }
        Self {
            id,
            name,
            columns,
            tables,
            by_label,
        }
    }
}

/// `inode-<urlId>/<COLUMN>` as `(inode-<urlId>, COLUMN)`.
pub(super) fn warehouse_column(column_id: &str) -> Option<(&str, &str)> {
    let (inode, column) = column_id.split_once('/')?;
    (inode.starts_with("inode-") && inode.len() > "inode-".len() && !column.trim().is_empty())
        .then_some((inode, column))
}

/// The source columns one element column reads.
type Reads = BTreeSet<ColumnRef>;

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
    by_inode: &BTreeMap<String, Option<WarehouseTable>>,
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
            element = %model.id,
            "formula of {:?} reads columns more than {MAX_DEPTH} deep; no column lineage beyond",
            label_of(column)
        );
        return;
    }
    if !visiting.insert((at, label)) {
        return;
    }
    if let Some((inode, native)) = column.column_id.as_deref().and_then(warehouse_column) {
        if let Some(Some(table)) = by_inode.get(inode) {
            out.insert(ColumnRef {
                end: End::Table {
                    table: table.clone(),
                },
                column: native.to_owned(),
            });
        }
    }
    for (source, name) in mapping::formula_columns(column.formula.as_deref().unwrap_or_default()) {
        let Some(source) = source else {
            // A column of the element's own: what it reads.
            match find_column(model, &name) {
                Some(own) => reads_of(models, by_inode, at, own, depth + 1, visiting, out),
                None => tracing::debug!(
                    element = %model.id,
                    "formula of {:?} reads [{name}], which the element has no column of; no column lineage from it",
                    label_of(column)
                ),
            }
            continue;
        };
        let tables: Vec<&WarehouseTable> = model
            .tables
            .iter()
            .filter(|t| t.table().eq_ignore_ascii_case(&source))
            .collect();
        if !tables.is_empty() {
            for table in tables {
                out.insert(ColumnRef {
                    end: End::Table {
                        table: table.clone(),
                    },
                    column: name.clone(),
                });
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
                    out.insert(ColumnRef {
                        end: End::Element {
                            element_id: other.id.clone(),
                        },
                        column: label_of(read).to_owned(),
                    });
                }
                None => tracing::debug!(
                    element = %model.id,
                    "formula of {:?} reads [{source}/{name}], which element {source:?} has no column of; no column lineage from it",
                    label_of(column)
                ),
            },
            (Some(_), Some(_)) => tracing::debug!(
                element = %model.id,
                "formula of {:?} reads [{source}/{name}]: several elements are called {source:?}; no column lineage from it",
                label_of(column)
            ),
            (None, _) => tracing::debug!(
                element = %model.id,
                "formula of {:?} reads [{source}/{name}], a source the element is not known to read; no column lineage from it",
                label_of(column)
            ),
        }
    }
}

/// Every element's column pairs, by model: one per column (the first of a name) that reads
/// anything, in column order, its reads in order.
pub(super) fn lineage(
    models: &[ElementModel<'_>],
    by_inode: &BTreeMap<String, Option<WarehouseTable>>,
) -> Vec<Vec<ColumnLineage>> {
    let mut out = Vec::new();
    for (at, model) in models.iter().enumerate() {
        let mut pairs = Vec::new();
        let mut seen = BTreeSet::new();
        for column in &model.columns {
            let Some(label) = column.label() else {
                continue;
            };
            // The first column of a name speaks for it.
            if !seen.insert(label) {
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
            if !reads.is_empty() {
                pairs.push(ColumnLineage {
                    to: label.to_owned(),
                    from: reads.into_iter().collect(),
                    function: column.formula.clone(),
                    via: None,
                });
            }
        }
        out.push(pairs);
    }
    out
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

    fn table(name: &str) -> WarehouseTable {
        WarehouseTable {
            connection_id: Some("c1".into()),
            connection_type: Some("snowflake".into()),
            path: vec!["DB".into(), "S".into(), name.into()],
            inode_id: Some("inode-T1".into()),
        }
    }

    fn read_table(column: &str) -> ColumnRef {
        ColumnRef {
            end: End::Table {
                table: table("ORDERS"),
            },
            column: column.into(),
        }
    }

    fn read_element(id: &str, column: &str) -> ColumnRef {
        ColumnRef {
            end: End::Element {
                element_id: id.into(),
            },
            column: column.into(),
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
        let by_inode: BTreeMap<String, Option<WarehouseTable>> =
            [("inode-T1".to_owned(), Some(table("ORDERS")))].into();
        let models = [
            ElementModel::new(
                "a".into(),
                "Sales".into(),
                a.iter().collect(),
                vec![table("ORDERS")],
            ),
            ElementModel::new("b".into(), "Other".into(), b.iter().collect(), Vec::new()),
        ];
        let pairs = lineage(&models, &by_inode);
        let of = |at: usize| -> Vec<(String, Vec<ColumnRef>)> {
            pairs[at]
                .iter()
                .map(|p| (p.to.clone(), p.from.clone()))
                .collect()
        };
        assert_eq!(
            of(0),
            vec![
                ("ID".into(), vec![read_table("ID")]),
                ("Amount".into(), vec![read_table("AMOUNT")]),
                ("Twice".into(), vec![read_table("AMOUNT"), read_table("ID")]),
                ("Loop".into(), vec![read_table("AMOUNT"), read_table("ID")]),
            ]
        );
        assert_eq!(
            of(1),
            vec![
                ("Order id".into(), vec![read_element("a", "ID")]),
                (
                    "Sum".into(),
                    vec![read_element("a", "Amount"), read_element("a", "Twice")]
                ),
            ]
        );
        assert_eq!(
            pairs[1][1].function.as_deref(),
            Some("Sum([Sales/Amount]) + [Sales/Twice]")
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
        let by_inode: BTreeMap<String, Option<WarehouseTable>> =
            [("inode-T1".to_owned(), Some(table("ORDERS")))].into();
        let models = [ElementModel::new(
            "a".into(),
            "Long".into(),
            columns.iter().collect(),
            vec![table("ORDERS")],
        )];
        let pairs = lineage(&models, &by_inode);
        // Columns within reach of c0 are paired; the rest are left out, not guessed.
        let paired = pairs[0].len();
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
