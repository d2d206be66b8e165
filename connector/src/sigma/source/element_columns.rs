//! Column pairs into workbook and report elements, from the document's `/columns`.
//!
//! Each element column says what it reads, exactly, and nothing here pairs columns by
//! matching their names:
//! - a warehouse column's `columnId` is `inode-<tableUrlId>/<COLUMN>`: that table's column;
//! - `[TABLE/COLUMN]` in a formula, where `TABLE` is a table the element's lineage says it
//!   reads: that table's column;
//! - `[Element/Column]`, where `Element` is another chart of the same document (one of that
//!   name) with a column `Column`: that element's data model column;
//! - `[SQL/Column]`, where `SQL` is a custom SQL the element's lineage says it reads (one of
//!   that name): the warehouse columns the SQL's output column `Column` is made of, as its
//!   projection resolves them exactly (`data_models::custom_sql_reads`, the mechanism data
//!   model elements use);
//! - `[Element/Column]` otherwise, where `Element` is an element of a data model the chart's
//!   lineage says it reads (exactly one of that name across those data models) that has a
//!   column `Column`: that data model element's column;
//! - `[Source/Column]`, where `Source` is how the lineage names a data model source the
//!   chart reads (Sigma names it by the data model's name), and that name identifies exactly
//!   one data model element the chart reads (the lineage node names the element, or the data
//!   model has one element): that element's column;
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
use crate::sigma::projection::{self, Projection};
use crate::sigma::sql::TableRef;

use super::data_models::custom_sql_reads;

/// A data model a chart reads: its elements as this run knows them, and each lineage node
/// through which the chart reads it (the node's name, and the element it names, if any).
#[derive(Debug, Clone, Default)]
pub(super) struct ModelRead {
    pub data_model_id: String,
    pub elements: Vec<KnownElement>,
    /// `(name, element id)` of each lineage node: `None` for the id when the node names the
    /// data model as a whole.
    pub nodes: Vec<(Option<String>, Option<String>)>,
}

/// A custom SQL a chart reads: its name in formulas, its connection and its SQL.
#[derive(Debug, Clone)]
pub(super) struct CustomSqlRead {
    pub name: String,
    pub connection_id: Option<String>,
    pub definition: String,
}

/// A custom SQL with its projection parsed (not `Send`: parsed where the pairs are made).
struct ParsedSql {
    name: String,
    connection_id: Option<String>,
    projection: Projection,
}

/// Where the ends of a document's pairs are placed: warehouse tables by `inode-`, and the
/// tables a custom SQL names (on its connection; `None`: not placed).
pub(super) struct Ends<'a> {
    pub by_inode: &'a BTreeMap<String, Option<WarehouseTable>>,
    pub sql_table: &'a dyn Fn(Option<&str>, &TableRef) -> Option<WarehouseTable>,
}

/// One chart element with columns: its id, its name in formulas, its columns and the
/// tables its lineage says it reads.
pub(super) struct ElementModel<'a> {
    id: String,
    name: String,
    columns: Vec<&'a ElementColumn>,
    tables: Vec<WarehouseTable>,
    /// The data models its lineage says it reads, with their elements.
    data_models: Vec<ModelRead>,
    /// The custom SQL its lineage says it reads, parsed.
    custom_sql: Vec<ParsedSql>,
    /// Lower-cased label -> the first column of that label.
    by_label: BTreeMap<String, &'a ElementColumn>,
}

impl<'a> ElementModel<'a> {
    pub fn new(
        id: String,
        name: String,
        columns: Vec<&'a ElementColumn>,
        tables: Vec<WarehouseTable>,
        data_models: Vec<ModelRead>,
        custom_sql: Vec<CustomSqlRead>,
    ) -> Self {
        let mut by_label = BTreeMap::new();
        for column in &columns {
            by_label
                .entry(label_of(column).to_lowercase())
                .or_insert(*column);
        }
        let custom_sql = custom_sql
            .into_iter()
            .filter_map(|read| match projection::projection(&read.definition) {
                Ok(projection) => Some(ParsedSql {
                    name: read.name,
                    connection_id: read.connection_id,
                    projection,
                }),
                Err(e) => {
                    tracing::debug!(
                        element = %id,
                        "custom SQL {:?} not parsed for column lineage: {e}",
                        read.name
                    );
                    None
                }
            })
            .collect();
        Self {
            id,
            name,
            columns,
            tables,
            data_models,
            custom_sql,
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
    ends: &Ends<'_>,
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
        if let Some(Some(table)) = ends.by_inode.get(inode) {
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
                Some(own) => reads_of(models, ends, at, own, depth + 1, visiting, out),
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
        let mut sqls = model
            .custom_sql
            .iter()
            .filter(|s| s.name.trim().eq_ignore_ascii_case(&source));
        match (sqls.next(), sqls.next()) {
            (Some(sql), None) => {
                let table = |t: &TableRef| (ends.sql_table)(sql.connection_id.as_deref(), t);
                out.extend(custom_sql_reads(&sql.projection, &sql.name, &name, &table));
                continue;
            }
            (Some(_), Some(_)) => {
                tracing::debug!(
                    element = %model.id,
                    "formula of {:?} reads [{source}/{name}]: several custom SQL sources are called {source:?}; no column lineage from it",
                    label_of(column)
                );
                continue;
            }
            (None, _) => {}
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
/// element called `source` across those data models, or else exactly one element read
/// through lineage nodes called `source`; with a column `name` (as that element names it).
/// Else why not.
fn data_model_column(
    model: &ElementModel<'_>,
    source: &str,
    name: &str,
) -> Result<ColumnRef, &'static str> {
    let (data_model_id, element) = match element_named(model, source)? {
        Some(found) => found,
        None => element_read_through(model, source)?,
    };
    let mut columns = element
        .columns
        .iter()
        .filter(|c| c.trim().eq_ignore_ascii_case(name));
    match (columns.next(), columns.next()) {
        (Some(column), None) => Ok(ColumnRef {
            end: End::DataModelElement {
                data_model_id: data_model_id.to_owned(),
                element_id: element.id.clone(),
            },
            column: column.clone(),
        }),
        (Some(_), Some(_)) => Err("the data model element has several columns of that name"),
        (None, _) => Err("the data model element has no column of that name"),
    }
}

/// The one data model element called `source` across the data models `model` reads.
fn element_named<'m>(
    model: &'m ElementModel<'_>,
    source: &str,
) -> Result<Option<(&'m str, &'m KnownElement)>, &'static str> {
    let mut named = model.data_models.iter().flat_map(|read| {
        read.elements
            .iter()
            .filter(|e| {
                e.name
                    .as_deref()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(source))
            })
            .map(move |e| (read.data_model_id.as_str(), e))
    });
    match (named.next(), named.next()) {
        (Some(one), None) => Ok(Some(one)),
        (Some(_), Some(_)) => Err("several data model elements have that name"),
        (None, _) => Ok(None),
    }
}

/// The one data model element `model` reads through lineage nodes called `source` (how
/// Sigma names a data model source in formulas): the element a node names, or the only
/// element of a data model a node names as a whole. Two elements, or a node naming an
/// element this run does not know, identify none.
fn element_read_through<'m>(
    model: &'m ElementModel<'_>,
    source: &str,
) -> Result<(&'m str, &'m KnownElement), &'static str> {
    let mut found: Vec<(&str, &KnownElement)> = Vec::new();
    for read in &model.data_models {
        for (node_name, element_id) in &read.nodes {
            if !node_name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(source))
            {
                continue;
            }
            let element = match element_id {
                Some(id) => read.elements.iter().find(|e| e.id == *id),
                None => match read.elements.as_slice() {
                    [only] => Some(only),
                    _ => return Err("the source names a data model of several elements, not one"),
                },
            };
            let Some(element) = element else {
                return Err("the source names a data model element this run does not know");
            };
            if !found
                .iter()
                .any(|(dm, e)| *dm == read.data_model_id && e.id == element.id)
            {
                found.push((read.data_model_id.as_str(), element));
            }
        }
    }
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err("a source the element is not known to read"),
        _ => Err("the source names several data model elements the element reads"),
    }
}

/// Every element's column pairs, by model: one per column (the first of a name) that reads
/// anything, in column order, its reads in order.
pub(super) fn lineage(models: &[ElementModel<'_>], ends: &Ends<'_>) -> Vec<Vec<ColumnLineage>> {
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
                ends,
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

    fn place(_: Option<&str>, t: &TableRef) -> Option<WarehouseTable> {
        // Any table SQL names is placed, on connection c1, except `UNPLACED`.
        (t.parts.last().map(String::as_str) != Some("UNPLACED")).then(|| WarehouseTable {
            connection_id: Some("c1".into()),
            connection_type: None,
            path: t.parts.clone(),
            inode_id: None,
        })
    }

    fn ends(by_inode: &BTreeMap<String, Option<WarehouseTable>>) -> Ends<'_> {
        Ends {
            by_inode,
            sql_table: &place,
        }
    }

    fn known(id: &str, name: &str, columns: &[&str]) -> KnownElement {
        KnownElement {
            id: id.into(),
            name: Some(name.into()),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    fn model_read(
        id: &str,
        elements: Vec<KnownElement>,
        nodes: &[(Option<&str>, Option<&str>)],
    ) -> ModelRead {
        ModelRead {
            data_model_id: id.into(),
            elements,
            nodes: nodes
                .iter()
                .map(|(n, e)| (n.map(str::to_owned), e.map(str::to_owned)))
                .collect(),
        }
    }

    fn read_dm(dm: &str, e: &str, c: &str) -> ColumnRef {
        ColumnRef {
            end: End::DataModelElement {
                data_model_id: dm.into(),
                element_id: e.into(),
            },
            column: c.into(),
        }
    }

    fn read_sql_table(path: &str, column: &str) -> ColumnRef {
        ColumnRef {
            end: End::Table {
                table: WarehouseTable {
                    connection_id: Some("c1".into()),
                    connection_type: None,
                    path: path.split('.').map(str::to_owned).collect(),
                    inode_id: None,
                },
            },
            column: column.into(),
        }
    }

    fn pairs_of(pairs: &[ColumnLineage]) -> Vec<(String, Vec<ColumnRef>)> {
        pairs
            .iter()
            .map(|p| (p.to.clone(), p.from.clone()))
            .collect()
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
                Vec::new(),
            ),
            ElementModel::new(
                "b".into(),
                "Other".into(),
                b.iter().collect(),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            ),
        ];
        let pairs = lineage(&models, &ends(&by_inode));
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
            Vec::new(),
        )];
        let pairs = lineage(&models, &ends(&by_inode));
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
                model_read(
                    "dm1",
                    vec![
                        known("e1", "Orders", &["ID", "AMOUNT"]),
                        known("e2", "Customers", &["ID"]),
                        known("e3", "Twice", &["ID"]),
                    ],
                    &[],
                ),
                model_read("dm2", vec![known("e4", "Twice", &["ID"])], &[]),
            ],
            Vec::new(),
        )];
        let pairs = lineage(&models, &ends(&BTreeMap::new()));
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

    /// `[SQL/Column]` reads the warehouse columns the custom SQL's output is made of:
    /// aliases, joins, expressions (every column read) and `*` over one table; an output the
    /// SQL does not have, an unnamed expression, an unplaced table or an unparsable SQL give
    /// no pair.
    #[test]
    fn custom_sql_outputs_resolve_through_the_projection() {
        let sql = |name: &str, definition: &str| CustomSqlRead {
            name: name.into(),
            connection_id: Some("c1".into()),
            definition: definition.into(),
        };
        let chart = [
            column("c", "c/1", "Order", "[Joined/ORDER_ID]"),
            column("c", "c/2", "Who", "[Joined/WHO]"),
            column("c", "c/3", "Mixed", "[Joined/MIXED] + [Starred/AMOUNT]"),
            column("c", "c/4", "Count", "[Joined/N]"),
            column(
                "c",
                "c/5",
                "Ghost",
                "[Joined/NOPE] + [Broken/ID] + [Away/ID]",
            ),
            column("c", "c/6", "Star", "[starred/ID]"),
        ];
        let models = [ElementModel::new(
            "c".into(),
            "Chart".into(),
            chart.iter().collect(),
            Vec::new(),
            Vec::new(),
            vec![
                sql(
                    "Joined",
                    "select o.ID as ORDER_ID, c.NAME as WHO, o.AMOUNT * c.RATE as MIXED, count(*) as N \
                     from DB.S.ORDERS o join DB.S.CUSTOMERS c on c.ID = o.CUSTOMER_ID group by 1, 2, 3",
                ),
                sql("Starred", "select * from DB.S.PAYMENTS"),
                sql("Broken", "select from where"),
                sql("Away", "select ID from DB.S.UNPLACED"),
            ],
        )];
        let pairs = lineage(&models, &ends(&BTreeMap::new()));
        assert_eq!(
            pairs_of(&pairs[0]),
            vec![
                ("Order".into(), vec![read_sql_table("DB.S.ORDERS", "ID")]),
                ("Who".into(), vec![read_sql_table("DB.S.CUSTOMERS", "NAME")]),
                (
                    "Mixed".into(),
                    vec![
                        read_sql_table("DB.S.CUSTOMERS", "RATE"),
                        read_sql_table("DB.S.ORDERS", "AMOUNT"),
                        read_sql_table("DB.S.PAYMENTS", "AMOUNT"),
                    ]
                ),
                ("Star".into(), vec![read_sql_table("DB.S.PAYMENTS", "ID")]),
            ]
        );
        assert_eq!(
            pairs[0][2].function.as_deref(),
            Some("[Joined/MIXED] + [Starred/AMOUNT]")
        );
    }

    /// `[Source/Column]` where `Source` is the lineage node's name of a data model source
    /// (Sigma names it by the data model): exact when the nodes of that name identify one
    /// element the chart reads; two elements, an unknown element or a data model of several
    /// elements read as a whole identify none, and a column the element lacks gives no pair.
    #[test]
    fn data_model_sources_named_as_sigma_names_them_resolve_to_one_element() {
        let chart = [
            column("c", "c/1", "Id", "[Sales Model/ID]"),
            column(
                "c",
                "c/2",
                "Amount",
                "[sales model/AMOUNT] + [Sales Model/NOPE]",
            ),
            column("c", "c/3", "Both", "[Two Reads/ID]"),
            column("c", "c/4", "Whole", "[Whole Model/ID]"),
            column("c", "c/5", "Single", "[Single Model/X]"),
            column("c", "c/6", "Unknown", "[Ghost Model/ID]"),
        ];
        let models = [ElementModel::new(
            "c".into(),
            "Chart".into(),
            chart.iter().collect(),
            Vec::new(),
            vec![
                model_read(
                    "dm1",
                    vec![
                        known("e1", "Orders", &["ID", "AMOUNT"]),
                        known("e2", "Customers", &["ID"]),
                    ],
                    &[(Some("Sales Model"), Some("e1"))],
                ),
                model_read(
                    "dm2",
                    vec![known("e3", "A", &["ID"]), known("e4", "B", &["ID"])],
                    &[
                        (Some("Two Reads"), Some("e3")),
                        (Some("Two Reads"), Some("e4")),
                    ],
                ),
                model_read(
                    "dm3",
                    vec![known("e5", "A", &["ID"]), known("e6", "B", &["ID"])],
                    &[(Some("Whole Model"), None)],
                ),
                model_read(
                    "dm4",
                    vec![known("e7", "Only", &["X"])],
                    &[
                        (Some("Single Model"), None),
                        (Some("Ghost Model"), Some("e9")),
                    ],
                ),
            ],
            Vec::new(),
        )];
        let pairs = lineage(&models, &ends(&BTreeMap::new()));
        assert_eq!(
            pairs_of(&pairs[0]),
            vec![
                ("Id".into(), vec![read_dm("dm1", "e1", "ID")]),
                ("Amount".into(), vec![read_dm("dm1", "e1", "AMOUNT")]),
                ("Single".into(), vec![read_dm("dm4", "e7", "X")]),
            ]
        );
    }
}
