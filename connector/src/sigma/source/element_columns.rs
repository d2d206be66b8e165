//! Column pairs into workbook and report elements, from the document's `/columns`.
//!
//! Each element column says what it reads, exactly, and nothing here pairs columns by
//! matching their names:
//! - a warehouse column's `columnId` is `inode-<tableUrlId>/<COLUMN>`: that table's column;
//! - `[TABLE/COLUMN]` in a formula, where `TABLE` is a table the element's lineage says it
//!   reads: that table's column;
//! - `[Element/Column]`, where `Element` is another chart of the same document (one of that
//!   name) with a column `Column`: that element's data model column;
//! - `[Element/Column]` otherwise, where `Element` is an element of a data model the chart's
//!   lineage says it reads (exactly one of that name across those data models) that has a
//!   column `Column`: that data model element's column;
//! - `[Column]`, a column of the element's own: whatever that column reads, transitively
//!   (cycles end where they start).
//!
//! A reference that resolves to none of these, or to a column the other end does not have,
//! gives no pair (a debug line says which).

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{ColumnLineage, ColumnRef, End, WarehouseTable};
use crate::sigma::mapping;
use crate::sigma::memory::KnownElement;
use crate::sigma::model::ElementColumn;

/// One chart element with columns: its id, its name in formulas, its columns and the
/// tables its lineage says it reads.
pub(super) struct ElementModel<'a> {
    id: String,
    name: String,
    columns: Vec<&'a ElementColumn>,
    tables: Vec<WarehouseTable>,
    /// The data models its lineage says it reads, with their elements.
    data_models: Vec<(String, Vec<KnownElement>)>,
    /// Lower-cased label -> the first column of that label.
    by_label: BTreeMap<String, &'a ElementColumn>,
}

impl<'a> ElementModel<'a> {
    pub fn new(
        id: String,
        name: String,
        columns: Vec<&'a ElementColumn>,
        tables: Vec<WarehouseTable>,
        data_models: Vec<(String, Vec<KnownElement>)>,
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
            data_models,
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
            (None, _) => match data_model_column(model, &source, &name) {
                Ok(read) => {
                    out.insert(read);
                }
                Err(why) => tracing::debug!(
                    element = %model.id,
                    "formula of {:?} reads [{source}/{name}]: {why}; no column lineage from it",
                    label_of(column)
                ),
            },
        }
    }
}

/// `[source/name]` as a column of an element of a data model `model` reads: exactly one
/// element called `source` across those data models, with a column `name` (as that
/// element names it); else why not.
fn data_model_column(
    model: &ElementModel<'_>,
    source: &str,
    name: &str,
) -> Result<ColumnRef, &'static str> {
    let mut named = model
        .data_models
        .iter()
        .flat_map(|(data_model_id, elements)| {
            elements
                .iter()
                .filter(|e| {
                    e.name
                        .as_deref()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(source))
                })
                .map(move |e| (data_model_id, e))
        });
    let (data_model_id, element) = match (named.next(), named.next()) {
        (Some(one), None) => one,
        (Some(_), Some(_)) => return Err("several data model elements have that name"),
        (None, _) => return Err("a source the element is not known to read"),
    };
    let mut columns = element
        .columns
        .iter()
        .filter(|c| c.trim().eq_ignore_ascii_case(name));
    match (columns.next(), columns.next()) {
        (Some(column), None) => Ok(ColumnRef {
            end: End::DataModelElement {
                data_model_id: data_model_id.clone(),
                element_id: element.id.clone(),
            },
            column: column.clone(),
        }),
        (Some(_), Some(_)) => Err("the data model element has several columns of that name"),
        (None, _) => Err("the data model element has no column of that name"),
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
                Vec::new(),
            ),
            ElementModel::new(
                "b".into(),
                "Other".into(),
                b.iter().collect(),
                Vec::new(),
                Vec::new(),
            ),
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
            Vec::new(),
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

    #[test]
    fn data_model_element_columns_resolve_through_the_data_models_read() {
        let known = |id: &str, name: &str, columns: &[&str]| KnownElement {
            id: id.into(),
            name: Some(name.into()),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        };
        let chart = [
            column("c", "c/a", "Amount", "[Orders/AMOUNT]"),
            column("c", "c/t", "Total", "Sum([Amount]) + [Customers/ID]"),
            column(
                "c",
                "c/x",
                "Missing",
                "[Orders/NOPE] + [Nowhere/ID] + [Twice/ID]",
            ),
        ];
        let models = [ElementModel::new(
            "c".into(),
            "Chart".into(),
            chart.iter().collect(),
            Vec::new(),
            vec![
                (
                    "dm1".into(),
                    vec![
                        known("e1", "Orders", &["ID", "AMOUNT"]),
                        known("e2", "Customers", &["ID"]),
                        known("e3", "Twice", &["ID"]),
                    ],
                ),
                ("dm2".into(), vec![known("e4", "Twice", &["ID"])]),
            ],
        )];
        let pairs = lineage(&models, &BTreeMap::new());
        let read = |dm: &str, e: &str, c: &str| ColumnRef {
            end: End::DataModelElement {
                data_model_id: dm.into(),
                element_id: e.into(),
            },
            column: c.into(),
        };
        let got: Vec<(String, Vec<ColumnRef>)> = pairs[0]
            .iter()
            .map(|p| (p.to.clone(), p.from.clone()))
            .collect();
        // A missing column, an unknown source and a name two data models share: no pair.
        assert_eq!(
            got,
            vec![
                ("Amount".into(), vec![read("dm1", "e1", "AMOUNT")]),
                (
                    "Total".into(),
                    vec![read("dm1", "e1", "AMOUNT"), read("dm1", "e2", "ID")]
                ),
            ]
        );
    }
}
