//! Warehouse tables an element's SQL reads, found by parsing (sqlparser), not by
//! substring guessing. CTE names are not tables; quoting is removed; case is kept.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{ObjectNamePart, Statement, visit_relations};
use sqlparser::dialect::{Dialect, GenericDialect, SnowflakeDialect};
use sqlparser::parser::Parser;

/// A table reference as written: 1 to 3 parts (`table`, `schema.table`, `db.schema.table`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableRef {
    pub parts: Vec<String>,
}

/// Why SQL yielded no tables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SQL could not be parsed: {0}")]
pub struct SqlError(pub String);

/// Parses `sql` (Snowflake dialect first, as Sigma writes it, then generic) and returns
/// the tables it reads, sorted and without duplicates.
pub fn tables_in(sql: &str) -> Result<Vec<TableRef>, SqlError> {
    let dialects: [&dyn Dialect; 2] = [&SnowflakeDialect {}, &GenericDialect {}];
    let mut last_error = String::new();
    for dialect in dialects {
        match Parser::parse_sql(dialect, sql) {
            Ok(statements) => return Ok(collect(&statements)),
            Err(e) => last_error = e.to_string(),
        }
    }
    Err(SqlError(last_error))
}

// sqlparser implements `Visit` for `Vec<Statement>`, not for slices.
#[allow(clippy::ptr_arg)]
fn collect(statements: &Vec<Statement>) -> Vec<TableRef> {
    let mut ctes = BTreeSet::new();
    for statement in statements {
        if let Statement::Query(query) = statement {
            collect_ctes(query, &mut ctes);
        }
    }
    let mut out = BTreeSet::new();
    let _ = visit_relations(statements, |name| {
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(ident) => Some(ident.value.clone()),
                _ => None,
            })
            .collect();
        let is_cte = parts.len() == 1 && ctes.contains(&parts[0].to_ascii_lowercase());
        if !parts.is_empty() && parts.len() <= 3 && !is_cte {
            out.insert(TableRef { parts });
        }
        ControlFlow::<()>::Continue(())
    });
    out.into_iter().collect()
}

fn collect_ctes(query: &sqlparser::ast::Query, out: &mut BTreeSet<String>) {
    use sqlparser::ast::visit_expressions;
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            out.insert(cte.alias.name.value.to_ascii_lowercase());
            collect_ctes(&cte.query, out);
        }
    }
    // CTEs nested in subqueries are rare in generated SQL; a subquery's own WITH is
    // still picked up through its expressions.
    let _ = visit_expressions(query, |expr| {
        if let sqlparser::ast::Expr::Subquery(q) = expr {
            if let Some(with) = &q.with {
                for cte in &with.cte_tables {
                    out.insert(cte.alias.name.value.to_ascii_lowercase());
                }
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hostile SQL must fail to parse, not overflow the stack: sqlparser's depth limit
    /// plus its `recursive-protection` feature (stack growth) see to it. Checked on a
    /// stack the size of a tokio worker's (2 MiB), in an unoptimised build, where frames
    /// are largest: without that feature 30 nested subqueries overflow it.
    #[test]
    fn deeply_nested_sql_is_an_error_not_a_stack_overflow() {
        let depth = 5_000;
        let parens = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
        let subqueries = format!(
            "{}SELECT * FROM t{}",
            "SELECT * FROM (".repeat(depth),
            ") AS s".repeat(depth)
        );
        let unary = format!("SELECT {}1", "- ".repeat(depth));
        let worker = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                [parens, subqueries, unary]
                    .iter()
                    .map(|sql| tables_in(sql).is_err())
                    .collect::<Vec<_>>()
            })
            .unwrap();
        assert_eq!(worker.join().unwrap(), [true, true, true]);
    }

    fn names(sql: &str) -> Vec<String> {
        tables_in(sql)
            .unwrap()
            .into_iter()
            .map(|t| t.parts.join("."))
            .collect()
    }

    #[test]
    fn quoted_three_part_names_from_sigma_sql() {
        let sql = r#"select "A"."REGION", sum("A"."AMOUNT") from "ANALYTICS"."SALES"."ORDERS" "A" join "ANALYTICS"."SALES"."REGIONS" r on r.id = "A".region_id group by 1"#;
        assert_eq!(
            names(sql),
            vec!["ANALYTICS.SALES.ORDERS", "ANALYTICS.SALES.REGIONS"]
        );
    }

    #[test]
    fn ctes_are_not_tables_and_subqueries_are_followed() {
        let sql = "with recent as (select * from db.s.events where ts > current_date - 7) \
                   select * from recent r where r.user_id in (select id from db.s.users)";
        assert_eq!(names(sql), vec!["db.s.events", "db.s.users"]);
    }

    #[test]
    fn union_and_unqualified() {
        assert_eq!(
            names("select a from t1 union all select a from s.t2"),
            vec!["s.t2", "t1"]
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_guess() {
        assert!(tables_in("this is not sql from nowhere(").is_err());
    }
}
