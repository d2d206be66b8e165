//! Which warehouse columns each output column of a custom SQL element reads: the SQL's
//! projection, parsed (sqlparser), with aliases, qualified and unqualified columns, joins,
//! CTEs and derived tables followed. An expression lists every column it reads. A `*`
//! passes names through only from a single relation whose columns it then stands for.
//! Anything that cannot be resolved exactly (an unqualified column over two tables, a
//! scalar subquery, an unnamed expression, a set operation) is left out with a debug line:
//! a column pair is never made up by matching names.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::rc::Rc;

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, ObjectName, ObjectNamePart,
    Query, Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, Statement, TableFactor,
    TableWithJoins, Visit, Visitor,
};
use sqlparser::dialect::{Dialect, GenericDialect, SnowflakeDialect};
use sqlparser::parser::Parser;

use super::sql::{SqlError, TableRef};

/// A warehouse column: a table as the SQL names it, and a column of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnRef {
    pub table: TableRef,
    pub column: String,
}

/// What a query's output columns read.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    root: Derived,
}

impl Projection {
    /// The warehouse columns output column `name` reads (matched case-insensitively, as
    /// unquoted SQL names are), sorted; `None` when it cannot be told exactly.
    pub fn reads_of(&self, name: &str) -> Option<Vec<ColumnRef>> {
        self.root
            .resolve(name)
            .map(|reads| {
                reads
                    .into_iter()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect()
            })
            .filter(|reads: &Vec<ColumnRef>| !reads.is_empty())
    }

    /// Output columns named explicitly (aliases and plain columns), in SQL order.
    pub fn named_columns(&self) -> impl Iterator<Item = &str> {
        self.root.columns.iter().map(|(name, _)| name.as_str())
    }
}

/// Parses `sql` (Snowflake dialect first, as Sigma writes it, then generic) and resolves
/// the output columns of its (single) query.
pub fn projection(sql: &str) -> Result<Projection, SqlError> {
    let dialects: [&dyn Dialect; 2] = [&SnowflakeDialect {}, &GenericDialect {}];
    let mut last_error = String::new();
    for dialect in dialects {
        match Parser::parse_sql(dialect, sql) {
            Ok(statements) => {
                let [Statement::Query(query)] = statements.as_slice() else {
                    return Err(SqlError("not a single query".to_owned()));
                };
                return Ok(Projection {
                    root: query_output(query, &Scope::default()),
                });
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(SqlError(last_error))
}

/// A relation a query reads from.
#[derive(Debug, Clone)]
enum Relation {
    /// A warehouse table: any column name is one of its columns.
    Table(TableRef),
    /// A CTE or derived table whose output columns are known.
    Derived(Rc<Derived>),
    /// Something whose columns cannot be told (a table function, a recursive CTE...).
    Unknown,
}

impl Relation {
    fn resolve(&self, column: &str) -> Option<Vec<ColumnRef>> {
        match self {
            Relation::Table(table) => Some(vec![ColumnRef {
                table: table.clone(),
                column: column.to_owned(),
            }]),
            Relation::Derived(derived) => derived.resolve(column),
            Relation::Unknown => None,
        }
    }
}

/// The output of a query: named columns with what each reads, and the relations a `*`
/// passed through.
#[derive(Debug, Clone, Default)]
struct Derived {
    columns: Vec<(String, Option<Vec<ColumnRef>>)>,
    star: Vec<Relation>,
}

impl Derived {
    fn resolve(&self, column: &str) -> Option<Vec<ColumnRef>> {
        if let Some((_, reads)) = self
            .columns
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(column))
        {
            return reads.clone();
        }
        // Through a `*` only from one relation: over two, either may hold the name.
        match self.star.as_slice() {
            [only] => only.resolve(column),
            _ => None,
        }
    }
}

/// CTEs visible to a query, innermost last.
#[derive(Debug, Clone, Default)]
struct Scope {
    ctes: Vec<(String, Relation)>,
}

impl Scope {
    fn cte(&self, name: &str) -> Option<&Relation> {
        self.ctes
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, r)| r)
    }
}

fn query_output(query: &Query, outer: &Scope) -> Derived {
    let mut scope = outer.clone();
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            let relation = if with.recursive {
                Relation::Unknown
            } else {
                Relation::Derived(Rc::new(with_column_aliases(
                    query_output(&cte.query, &scope),
                    &cte.alias.columns,
                )))
            };
            scope.ctes.push((cte.alias.name.value.clone(), relation));
        }
    }
    set_output(&query.body, &scope)
}

fn set_output(body: &SetExpr, scope: &Scope) -> Derived {
    match body {
        SetExpr::Select(select) => select_output(select, scope),
        SetExpr::Query(query) => query_output(query, scope),
        other => {
            tracing::debug!("custom SQL: column lineage not followed through `{other}`");
            Derived::default()
        }
    }
}

/// `(a, b)` after a CTE or derived table's name renames its output columns in order.
fn with_column_aliases(
    derived: Derived,
    aliases: &[sqlparser::ast::TableAliasColumnDef],
) -> Derived {
    if aliases.is_empty() {
        return derived;
    }
    if !derived.star.is_empty() || derived.columns.len() != aliases.len() {
        return Derived::default();
    }
    Derived {
        columns: derived
            .columns
            .into_iter()
            .zip(aliases)
            .map(|((_, reads), alias)| (alias.name.value.clone(), reads))
            .collect(),
        star: Vec::new(),
    }
}

/// The relations of a FROM clause, each with the names it answers to (alias, or the
/// table's own name).
#[derive(Debug, Default)]
struct FromClause {
    relations: Vec<(Vec<String>, Relation)>,
}

impl FromClause {
    fn add(&mut self, factor: &TableFactor, scope: &Scope) {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = name_parts(name);
                let relation = match (args, parts.as_slice()) {
                    (Some(_), _) => Relation::Unknown,
                    (None, [one]) if scope.cte(one).is_some() => {
                        scope.cte(one).cloned().unwrap_or(Relation::Unknown)
                    }
                    (None, p) if !p.is_empty() && p.len() <= 3 => Relation::Table(TableRef {
                        parts: parts.clone(),
                    }),
                    _ => Relation::Unknown,
                };
                let names = match alias {
                    Some(a) => vec![a.name.value.clone()],
                    None => parts.last().cloned().into_iter().collect(),
                };
                let relation = match (alias, relation) {
                    (Some(a), Relation::Derived(d)) if !a.columns.is_empty() => {
                        Relation::Derived(Rc::new(with_column_aliases((*d).clone(), &a.columns)))
                    }
                    (Some(a), Relation::Table(_)) if !a.columns.is_empty() => Relation::Unknown,
                    (_, r) => r,
                };
                self.relations.push((names, relation));
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                let derived = query_output(subquery, scope);
                let derived = match alias {
                    Some(a) => with_column_aliases(derived, &a.columns),
                    None => derived,
                };
                let names = alias.iter().map(|a| a.name.value.clone()).collect();
                self.relations
                    .push((names, Relation::Derived(Rc::new(derived))));
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.add_joined(table_with_joins, scope),
            _ => self.relations.push((Vec::new(), Relation::Unknown)),
        }
    }

    fn add_joined(&mut self, from: &TableWithJoins, scope: &Scope) {
        self.add(&from.relation, scope);
        for join in &from.joins {
            self.add(&join.relation, scope);
        }
    }

    /// The relation a qualifier names: an alias or table name, or a full table name.
    fn named(&self, qualifier: &[String]) -> Option<&Relation> {
        let found: Vec<&Relation> = self
            .relations
            .iter()
            .filter(|(names, relation)| match qualifier {
                [one] => names.iter().any(|n| n.eq_ignore_ascii_case(one)),
                _ => matches!(relation, Relation::Table(t)
                    if t.parts.len() >= qualifier.len()
                        && t.parts[t.parts.len() - qualifier.len()..]
                            .iter()
                            .zip(qualifier)
                            .all(|(a, b)| a.eq_ignore_ascii_case(b))),
            })
            .map(|(_, r)| r)
            .collect();
        match found.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// What a column reference reads: qualified through the relation it names,
    /// unqualified only when there is one relation to read it from.
    fn resolve(&self, parts: &[String]) -> Option<Vec<ColumnRef>> {
        let (column, qualifier) = parts.split_last()?;
        if qualifier.is_empty() {
            return match self.relations.as_slice() {
                [(_, only)] => only.resolve(column),
                _ => self.resolve_unqualified_among_many(column),
            };
        }
        self.named(qualifier)?.resolve(column)
    }

    /// With several relations, an unqualified name is exact only when every relation's
    /// columns are known and exactly one has it.
    fn resolve_unqualified_among_many(&self, column: &str) -> Option<Vec<ColumnRef>> {
        let mut holders = Vec::new();
        for (_, relation) in &self.relations {
            match relation {
                Relation::Derived(d) if d.star.is_empty() => {
                    if let Some(reads) = d.resolve(column) {
                        holders.push(reads);
                    } else if d
                        .columns
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(column))
                    {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        match holders.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }
}

fn select_output(select: &Select, scope: &Scope) -> Derived {
    let mut from = FromClause::default();
    for table in &select.from {
        from.add_joined(table, scope);
    }
    let mut out = Derived::default();
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(expr) => match plain_column(expr) {
                Some(parts) => {
                    let name = parts.last().cloned().unwrap_or_default();
                    out.columns.push((name, from.resolve(&parts)));
                }
                None => tracing::debug!(
                    "custom SQL: `{expr}` has no name of its own; its column lineage is left out"
                ),
            },
            SelectItem::ExprWithAlias { expr, alias } => {
                out.columns
                    .push((alias.value.clone(), expression_reads(expr, &from)));
            }
            SelectItem::Wildcard(options) if wildcard_is_plain(options) => {
                out.star
                    .extend(from.relations.iter().map(|(_, r)| r.clone()));
            }
            SelectItem::QualifiedWildcard(
                SelectItemQualifiedWildcardKind::ObjectName(name),
                options,
            ) if wildcard_is_plain(options) => {
                out.star.push(
                    from.named(&name_parts(name))
                        .cloned()
                        .unwrap_or(Relation::Unknown),
                );
            }
            other => {
                tracing::debug!("custom SQL: `{other}` not followed for column lineage");
                out.star.push(Relation::Unknown);
            }
        }
    }
    out
}

/// A `*` with EXCLUDE, REPLACE, RENAME... changes which names pass: not followed.
fn wildcard_is_plain(options: &sqlparser::ast::WildcardAdditionalOptions) -> bool {
    options.opt_exclude.is_none()
        && options.opt_except.is_none()
        && options.opt_replace.is_none()
        && options.opt_rename.is_none()
        && options.opt_ilike.is_none()
}

fn plain_column(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Identifier(ident) => Some(vec![ident.value.clone()]),
        Expr::CompoundIdentifier(idents) => Some(idents.iter().map(|i| i.value.clone()).collect()),
        Expr::Nested(inner) => plain_column(inner),
        _ => None,
    }
}

/// Every column an expression reads; `None` when one of them cannot be resolved (an
/// expression reading a column we cannot place is not an exact pair) or the expression
/// holds a subquery.
fn expression_reads(expr: &Expr, from: &FromClause) -> Option<Vec<ColumnRef>> {
    let mut collector = ColumnCollector::default();
    let _ = expr.visit(&mut collector);
    if collector.subquery {
        tracing::debug!("custom SQL: `{expr}` reads through a subquery; left out");
        return None;
    }
    let mut reads = Vec::new();
    for parts in collector.columns {
        match from.resolve(&parts) {
            Some(found) => reads.extend(found),
            None => {
                tracing::debug!(
                    "custom SQL: `{}` in `{expr}` cannot be placed exactly; left out",
                    parts.join(".")
                );
                return None;
            }
        }
    }
    Some(reads)
}

/// Keywords that parse as identifiers but name no column: date parts given to date
/// functions, and niladic functions written without parentheses.
const NOT_COLUMNS: [&str; 19] = [
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "CURRENT_USER",
    "LOCALTIME",
    "LOCALTIMESTAMP",
    "SYSDATE",
    "YEAR",
    "QUARTER",
    "MONTH",
    "WEEK",
    "DAY",
    "DAYOFWEEK",
    "DAYOFYEAR",
    "HOUR",
    "MINUTE",
    "SECOND",
    "MILLISECOND",
    "EPOCH",
];

/// Functions whose first argument is a date part, not a column.
const DATE_PART_FUNCTIONS: [&str; 8] = [
    "DATEADD",
    "DATEDIFF",
    "DATE_TRUNC",
    "DATE_PART",
    "TIMESTAMPADD",
    "TIMESTAMPDIFF",
    "TIMEADD",
    "TIMEDIFF",
];

#[derive(Default)]
struct ColumnCollector {
    columns: Vec<Vec<String>>,
    /// Date-part arguments seen, so their identifiers are not taken for columns.
    date_parts: Vec<*const Expr>,
    subquery: bool,
}

impl Visitor for ColumnCollector {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
                self.subquery = true;
            }
            Expr::Function(f) => {
                let name = f.name.to_string().to_ascii_uppercase();
                if DATE_PART_FUNCTIONS.contains(&name.as_str())
                    && let FunctionArguments::List(list) = &f.args
                    && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(first))) =
                        list.args.first()
                {
                    self.date_parts.push(first as *const Expr);
                }
                if matches!(f.args, FunctionArguments::Subquery(_)) {
                    self.subquery = true;
                }
            }
            Expr::Identifier(ident) if !self.is_date_part(expr) && is_column(ident) => {
                self.columns.push(vec![ident.value.clone()]);
            }
            Expr::CompoundIdentifier(idents) => {
                self.columns
                    .push(idents.iter().map(|i| i.value.clone()).collect());
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

impl ColumnCollector {
    fn is_date_part(&self, expr: &Expr) -> bool {
        self.date_parts.iter().any(|p| std::ptr::eq(*p, expr))
    }
}

fn is_column(ident: &Ident) -> bool {
    // A quoted name is always a column; an unquoted keyword-like one may not be.
    ident.quote_style.is_some() || !NOT_COLUMNS.contains(&ident.value.to_ascii_uppercase().as_str())
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(|p| match p {
            ObjectNamePart::Identifier(ident) => Some(ident.value.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(sql: &str, column: &str) -> Option<Vec<String>> {
        projection(sql).unwrap().reads_of(column).map(|r| {
            r.into_iter()
                .map(|c| format!("{}.{}", c.table.parts.join("."), c.column))
                .collect()
        })
    }

    fn one(s: &str) -> Option<Vec<String>> {
        Some(vec![s.to_owned()])
    }

    #[test]
    fn aliases_and_qualified_columns() {
        let sql = r#"select o.ID as ORDER_ID, "O"."AMOUNT", o.region from DB.S.ORDERS o"#;
        assert_eq!(reads(sql, "ORDER_ID"), one("DB.S.ORDERS.ID"));
        assert_eq!(reads(sql, "amount"), one("DB.S.ORDERS.AMOUNT"));
        assert_eq!(reads(sql, "REGION"), one("DB.S.ORDERS.region"));
        assert_eq!(
            reads(sql, "ID"),
            None,
            "renamed: ID is not an output column"
        );
    }

    #[test]
    fn joins_place_qualified_columns_and_refuse_ambiguous_ones() {
        let sql = "select o.ID, c.NAME, AMOUNT from DB.S.ORDERS o \
                   join DB.S.CUSTOMERS c on c.ID = o.CUSTOMER_ID";
        assert_eq!(reads(sql, "ID"), one("DB.S.ORDERS.ID"));
        assert_eq!(reads(sql, "NAME"), one("DB.S.CUSTOMERS.NAME"));
        // Either table may have AMOUNT: not guessed.
        assert_eq!(reads(sql, "AMOUNT"), None);
        // A table named by its own name, fully qualified or not.
        let sql = "select ORDERS.ID, DB.S.CUSTOMERS.NAME from DB.S.ORDERS, DB.S.CUSTOMERS";
        assert_eq!(reads(sql, "ID"), one("DB.S.ORDERS.ID"));
        assert_eq!(reads(sql, "NAME"), one("DB.S.CUSTOMERS.NAME"));
    }

    #[test]
    fn expressions_list_every_column_they_read() {
        let sql = "select o.ID, o.PRICE * o.QTY - coalesce(d.AMOUNT, 0) as NET, \
                   cast(o.TS as date) as DAY_OF, count(*) as N, \
                   dateadd(day, 1, o.TS) as NEXT_DAY, current_date as TODAY \
                   from DB.S.ORDERS o left join DB.S.DISCOUNTS d on d.ORDER_ID = o.ID";
        assert_eq!(
            reads(sql, "NET"),
            Some(vec![
                "DB.S.DISCOUNTS.AMOUNT".to_owned(),
                "DB.S.ORDERS.PRICE".to_owned(),
                "DB.S.ORDERS.QTY".to_owned()
            ])
        );
        assert_eq!(reads(sql, "DAY_OF"), one("DB.S.ORDERS.TS"));
        assert_eq!(reads(sql, "NEXT_DAY"), one("DB.S.ORDERS.TS"));
        // Reads no column: nothing to pair.
        assert_eq!(reads(sql, "N"), None);
        assert_eq!(reads(sql, "TODAY"), None);
    }

    #[test]
    fn an_expression_with_a_column_it_cannot_place_is_left_out_whole() {
        let sql = "select o.ID + X as Y from DB.S.ORDERS o join DB.S.OTHER p on p.ID = o.ID";
        assert_eq!(reads(sql, "Y"), None);
        let sql = "select (select max(ID) from DB.S.OTHER) as M, o.ID from DB.S.ORDERS o";
        assert_eq!(reads(sql, "M"), None);
        assert_eq!(reads(sql, "ID"), one("DB.S.ORDERS.ID"));
    }

    #[test]
    fn star_passes_names_from_one_relation_only() {
        assert_eq!(
            reads("select * from DB.S.ORDERS", "AMOUNT"),
            one("DB.S.ORDERS.AMOUNT")
        );
        let join = "select * from DB.S.ORDERS o join DB.S.CUSTOMERS c on c.ID = o.CID";
        assert_eq!(reads(join, "AMOUNT"), None);
        let qualified =
            "select c.*, o.AMOUNT from DB.S.ORDERS o join DB.S.CUSTOMERS c on c.ID = o.CID";
        assert_eq!(reads(qualified, "NAME"), one("DB.S.CUSTOMERS.NAME"));
        assert_eq!(reads(qualified, "AMOUNT"), one("DB.S.ORDERS.AMOUNT"));
        // A star that renames or drops columns is not followed.
        assert_eq!(
            reads("select * exclude (SECRET) from DB.S.ORDERS", "AMOUNT"),
            None
        );
    }

    #[test]
    fn ctes_and_derived_tables_are_followed_to_the_warehouse() {
        // The sandbox's generated custom SQL.
        let sql = "with recent as (select * from DB.S.ORDERS) select r.ID, sum(j.AMOUNT) as TOTAL \
                   from recent r join DB.S.PAYMENTS j on j.ID = r.ID group by r.ID";
        assert_eq!(reads(sql, "ID"), one("DB.S.ORDERS.ID"));
        assert_eq!(reads(sql, "TOTAL"), one("DB.S.PAYMENTS.AMOUNT"));
        let sql = "with a as (select ID, AMOUNT * 2 as DOUBLE from DB.S.ORDERS), \
                   b (K, V) as (select ID, DOUBLE from a) \
                   select t.K, t.V as VALUE from (select K, V from b) t";
        assert_eq!(reads(sql, "K"), one("DB.S.ORDERS.ID"));
        assert_eq!(reads(sql, "VALUE"), one("DB.S.ORDERS.AMOUNT"));
        // Unqualified over a CTE and a derived table whose columns are known: exact.
        let sql = "with a as (select ID from DB.S.ORDERS) \
                   select ID, NAME from a, (select NAME from DB.S.CUSTOMERS) c";
        assert_eq!(reads(sql, "ID"), one("DB.S.ORDERS.ID"));
        assert_eq!(reads(sql, "NAME"), one("DB.S.CUSTOMERS.NAME"));
    }

    #[test]
    fn what_cannot_be_told_is_left_out() {
        let union = "select ID from DB.S.A union all select ID from DB.S.B";
        assert_eq!(reads(union, "ID"), None);
        let recursive = "with recursive r as (select 1 as N union all select N + 1 from r) \
                         select N from r";
        assert_eq!(reads(recursive, "N"), None);
        assert_eq!(reads("select upper(NAME) from DB.S.C", "NAME"), None);
        assert!(projection("delete from DB.S.C").is_err());
        assert!(projection("not sql at all (").is_err());
    }

    /// As deep as the parser goes (its recursion limit), on a tokio worker's 2 MiB stack in
    /// an unoptimised build: resolved, not overflowed; deeper is a parse error.
    #[test]
    fn deep_nesting_resolves_within_a_worker_stack() {
        let worker = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(|| {
                let depth = 20;
                let nested = format!(
                    "{}select ID from DB.S.T{}",
                    "select ID from (".repeat(depth),
                    ") x".repeat(depth)
                );
                let deep = format!(
                    "{}select ID from DB.S.T{}",
                    "select ID from (".repeat(5_000),
                    ") x".repeat(5_000)
                );
                (
                    projection(&nested).map(|p| p.reads_of("ID")),
                    projection(&deep).is_err(),
                )
            })
            .unwrap();
        let (nested, deep_is_error) = worker.join().unwrap();
        assert_eq!(nested.unwrap().unwrap()[0].table.parts, ["DB", "S", "T"]);
        assert!(deep_is_error);
    }

    #[test]
    fn snowflake_casts_and_quoted_names() {
        let sql =
            r#"select "o"."Amount"::number(10,2) as "Net", o.ID from "DB"."S"."ORDERS" as "o""#;
        assert_eq!(reads(sql, "NET"), one("DB.S.ORDERS.Amount"));
        assert_eq!(
            projection(sql).unwrap().named_columns().collect::<Vec<_>>(),
            ["Net", "ID"]
        );
    }
}
