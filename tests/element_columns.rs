//! Column lineage into workbook and report elements, over real HTTP with the sandbox: each
//! chart element's columns as a data model, every pair the org's own model implies and no
//! other, formulas reading several columns, other elements and the element's own columns,
//! and an older deployment without `/columns`.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use sigma_connector::config::Workflow;
use sigma_connector::sandbox::org::{ColumnSource, ColumnTruth, Page};
use sigma_connector::sandbox::{
    ApiSurface, Knobs, Org, OrgSource, SandboxConfig, SandboxHandle, SyntheticConfig,
};
use support::source::{SourceRun, run_source, sandbox, sandbox_with};

const SERVICE: &str = "sigma_sandbox";
const REVENUE: &str = "a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01";
const ORDERS: &str = "snowflake_prod.ANALYTICS.SALES.ORDERS";
const CUSTOMERS: &str = "snowflake_prod.ANALYTICS.SALES.CUSTOMERS";

fn workflow(h: &SandboxHandle, prefix: &str) -> Workflow {
    let source_config = format!(r#""lineageInformation": {{"dbServicePrefixes": ["{prefix}"]}}"#);
    support::source::workflow(h, "", &source_config)
}

/// Every column pair into an element data model of `doc_keys`: `(from column, to column)`.
fn element_pairs(run: &SourceRun) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for r in &run.records {
        if r["kind"] != "lineage" {
            continue;
        }
        let to = r["entity"]["to"]["fqn"].as_str().unwrap_or_default();
        for pair in r["entity"]["columns"].as_array().into_iter().flatten() {
            let to_column = pair["toColumn"].as_str().unwrap().to_owned();
            assert!(to_column.starts_with(to), "{pair}");
            for from in pair["fromColumns"].as_array().unwrap() {
                out.insert((from.as_str().unwrap().to_owned(), to_column.clone()));
            }
        }
    }
    out
}

/// The element data model FQN prefix of a workbook (`workbookId`) or report
/// (`report_<reportId>`).
fn model_prefix(doc_key: &str) -> String {
    format!("{SERVICE}.model.{doc_key}_")
}

/// The three kinds of column pair the measurement counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Category {
    WarehouseToDataModel,
    DataModelToDataModel,
    IntoDocumentElement,
}

impl Category {
    const ALL: [Category; 3] = [
        Category::WarehouseToDataModel,
        Category::DataModelToDataModel,
        Category::IntoDocumentElement,
    ];

    fn label(self) -> &'static str {
        match self {
            Category::WarehouseToDataModel => "warehouse column -> data model element column",
            Category::DataModelToDataModel => {
                "data model element column -> data model element column"
            }
            Category::IntoDocumentElement => {
                "table or data model column -> workbook/report element column"
            }
        }
    }
}

type Pairs = BTreeSet<(String, String)>;

/// `(from column, to column)` FQNs of what one column reads, from the generator's truth.
fn truth_pairs(
    org: &Org,
    prefix: &str,
    to_model: &str,
    truth: &[ColumnTruth],
    out: &mut Pairs,
) -> bool {
    let mut any_table = false;
    for column in truth {
        for read in &column.reads {
            let from = match read {
                ColumnSource::Table { inode_id, column } => {
                    let table = org.table_by_inode(inode_id).unwrap();
                    if table.archived {
                        continue;
                    }
                    any_table = true;
                    format!("{prefix}.{}.{column}", table.path.join("."))
                }
                ColumnSource::DataModelElement {
                    data_model_id,
                    element_id,
                    column,
                } => format!("{SERVICE}.model.{data_model_id}_{element_id}.{column}"),
            };
            out.insert((from, format!("{to_model}.{}", column.column)));
        }
    }
    any_table
}

/// Every column pair the generated org's truth implies (what the generator wrote down as
/// each column's reads, not what the connector resolves), by category.
fn expected_pairs(org: &Org, prefix: &str) -> BTreeMap<Category, Pairs> {
    let mut out: BTreeMap<Category, Pairs> =
        Category::ALL.iter().map(|c| (*c, Pairs::new())).collect();
    for model in org
        .data_models
        .iter()
        .filter(|m| m.is_archived != Some(true))
    {
        for element in &model.elements {
            let to = format!(
                "{SERVICE}.model.{}_{}",
                model.data_model_id, element.element_id
            );
            for column in &element.truth {
                let category = match column.reads.first() {
                    Some(ColumnSource::Table { .. }) => Category::WarehouseToDataModel,
                    Some(ColumnSource::DataModelElement { .. }) => Category::DataModelToDataModel,
                    None => continue,
                };
                truth_pairs(
                    org,
                    prefix,
                    &to,
                    std::slice::from_ref(column),
                    out.get_mut(&category).unwrap(),
                );
            }
        }
    }
    let documents = org
        .workbooks
        .iter()
        .enumerate()
        .filter(|(_, w)| !w.is_archived)
        .map(|(index, w)| (w.workbook_id.clone(), org.pages(index).into_owned()))
        .chain(org.reports.iter().filter(|r| !r.is_archived).map(|r| {
            (
                format!("report_{}", r.report_id),
                org.report_pages(r).into_owned(),
            )
        }));
    for (key, pages) in documents {
        for element in pages.iter().flat_map(|p: &Page| &p.elements) {
            let to = format!("{}{}", model_prefix(&key), element.element_id);
            truth_pairs(
                org,
                prefix,
                &to,
                &element.truth,
                out.get_mut(&Category::IntoDocumentElement).unwrap(),
            );
        }
    }
    out
}

/// The column pairs a run emitted, by category (the `to` end says which).
fn emitted_pairs(org: &Org, run: &SourceRun) -> BTreeMap<Category, Pairs> {
    let data_models: Vec<String> = org
        .data_models
        .iter()
        .map(|m| format!("{SERVICE}.model.{}_", m.data_model_id))
        .collect();
    let mut out: BTreeMap<Category, Pairs> =
        Category::ALL.iter().map(|c| (*c, Pairs::new())).collect();
    for r in &run.records {
        if r["kind"] != "lineage" {
            continue;
        }
        let to = r["entity"]["to"]["fqn"].as_str().unwrap_or_default();
        let from_table = r["entity"]["from"]["type"] == "table";
        let category = match (data_models.iter().any(|p| to.starts_with(p)), from_table) {
            (true, true) => Category::WarehouseToDataModel,
            (true, false) => Category::DataModelToDataModel,
            (false, _) => Category::IntoDocumentElement,
        };
        for pair in r["entity"]["columns"].as_array().into_iter().flatten() {
            let to_column = pair["toColumn"].as_str().unwrap().to_owned();
            for from in pair["fromColumns"].as_array().unwrap() {
                out.get_mut(&category)
                    .unwrap()
                    .insert((from.as_str().unwrap().to_owned(), to_column.clone()));
            }
        }
    }
    out
}

/// Every expected pair is emitted and no other, per category; the table as a string.
fn compare(expected: &BTreeMap<Category, Pairs>, got: &BTreeMap<Category, Pairs>) -> String {
    let mut table = String::from(
        "| column pairs | expected | emitted | missing | invented |\n|---|---:|---:|---:|---:|\n",
    );
    for category in Category::ALL {
        let (e, g) = (&expected[&category], &got[&category]);
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            category.label(),
            e.len(),
            g.len(),
            e.difference(g).count(),
            g.difference(e).count()
        ));
    }
    table
}

fn assert_exact(expected: &BTreeMap<Category, Pairs>, got: &BTreeMap<Category, Pairs>) {
    for category in Category::ALL {
        let (e, g) = (&expected[&category], &got[&category]);
        let missing: Vec<_> = e.difference(g).take(5).collect();
        let invented: Vec<_> = g.difference(e).take(5).collect();
        assert!(
            missing.is_empty() && invented.is_empty(),
            "{}: missing {missing:?}, invented {invented:?}",
            category.label()
        );
    }
}

/// On the generated org of today's Sigma, every column of every workbook and report chart
/// element is paired with what it reads (a warehouse table's column, a custom SQL's output
/// through its projection, a data model element's column) and nothing else is paired; one
/// `/columns` call per document.
#[tokio::test]
async fn generated_org_every_warehouse_column_reaches_its_element_and_nothing_else() {
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 8,
            reports: 4,
            data_models: 3,
            datasets: 3,
            ..SyntheticConfig::default()
        }),
        Knobs::default(),
    )
    .await;
    let run = run_source(&workflow(&h, "warehouse")).await;
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let org = h.org();
    let documents = org.workbooks.iter().filter(|w| !w.is_archived).count() as u64;
    let reports = org.reports.iter().filter(|r| !r.is_archived).count() as u64;
    let expected = expected_pairs(org, "warehouse");
    let got = emitted_pairs(org, &run);
    assert!(
        expected[&Category::IntoDocumentElement].len() > 100,
        "{}",
        expected[&Category::IntoDocumentElement].len()
    );
    // The generated org exercises custom SQL and data model sources into elements.
    let into = &expected[&Category::IntoDocumentElement];
    assert!(
        into.iter().any(|(from, _)| from.starts_with(SERVICE)),
        "data model reads"
    );
    assert!(
        org.workbooks
            .iter()
            .enumerate()
            .flat_map(|(i, _)| org.pages(i).into_owned())
            .flat_map(|p| p.elements)
            .any(|e| e.formulas.values().any(|f| f.starts_with("[Custom SQL"))),
        "custom SQL reads"
    );
    assert_exact(&expected, &got);
    let stats = h.stats();
    let calls = |route: &str| stats.requests_by_route.get(route).copied().unwrap_or(0);
    assert_eq!(calls("GET /v2/workbooks/{workbookId}/columns"), documents);
    assert_eq!(calls("GET /v2/reports/{reportId}/columns"), reports);
    assert_eq!(
        calls("GET /v2/workbooks/{workbookId}/elements/{elementId}/columns"),
        0
    );

    // Every element data model is listed in its dashboard, and has its columns.
    for dashboard in run.records.iter().filter(|r| r["kind"] == "dashboard") {
        let key = dashboard["entity"]["name"].as_str().unwrap();
        let own: Vec<&Value> = run
            .records
            .iter()
            .filter(|r| {
                r["kind"] == "dataModel"
                    && r["fqn"].as_str().unwrap().starts_with(&model_prefix(key))
            })
            .collect();
        assert!(!own.is_empty(), "{key}");
        for model in own {
            assert!(
                dashboard["entity"]["dataModels"]
                    .as_array()
                    .unwrap()
                    .contains(&model["fqn"]),
                "{key}: {}",
                model["fqn"]
            );
            assert!(!model["entity"]["columns"].as_array().unwrap().is_empty());
        }
    }
}

/// The issue's measurement on the org `sigma-connector sandbox --workbooks 60 --data-models
/// 12 --reports 15` serves: each kind of column pair, as the generator's truth implies it
/// and as the run emitted it. Prints the table (`--nocapture`); fails on any difference.
#[tokio::test]
async fn column_pairs_table_on_the_60_workbook_org() {
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 60,
            data_models: 12,
            reports: 15,
            ..SyntheticConfig::default()
        }),
        Knobs::default(),
    )
    .await;
    let run = run_source(&workflow(&h, "warehouse")).await;
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let org = h.org();
    let expected = expected_pairs(org, "warehouse");
    let got = emitted_pairs(org, &run);
    println!("{}", compare(&expected, &got));
    // The third row by what the element reads, from the truth.
    let (mut table, mut sql, mut model) = (0, 0, 0);
    let documents = (0..org.workbooks.len())
        .map(|i| org.pages(i).into_owned())
        .chain(org.reports.iter().map(|r| org.report_pages(r).into_owned()));
    for element in documents.flatten().flat_map(|p| p.elements) {
        let reads: usize = element.truth.iter().map(|t| t.reads.len()).sum();
        let node = |kind: &str| {
            element.lineage.as_ref().is_some_and(|l| {
                l["dependencies"]
                    .as_object()
                    .is_some_and(|d| d.values().any(|n| n["type"] == kind))
            })
        };
        if node("customSQL") {
            sql += reads;
        } else if node("data-model") {
            model += reads;
        } else {
            table += reads;
        }
    }
    println!(
        "into elements: {table} from table-backed, {sql} through custom SQL, {model} from data model elements"
    );
    assert_exact(&expected, &got);
}

/// A copy of `fixtures/` where Revenue's bar chart has computed columns.
fn fixtures_with_formulas(dir: &std::path::Path) {
    for entry in std::fs::read_dir("fixtures").unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let path = dir.join("workbooks.json");
    let mut workbooks: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let bar = workbooks
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|w| w["pages"].as_array_mut().unwrap())
        .flat_map(|p| p["elements"].as_array_mut().unwrap())
        .find(|e| e["elementId"] == "elRevBar002")
        .unwrap();
    bar["columns"] = json!(["Region", "Revenue", "Share", "From KPI", "Ghost"]);
    bar["formulas"] = json!({
        "Region": "[CUSTOMERS/REGION]",
        "Revenue": "Sum([ORDERS/AMOUNT]) - Sum([ORDERS/DISCOUNT]) + 0 * [CUSTOMERS/ID]",
        "Share": "[Revenue] / Sum([Revenue]) + [Share]",
        "From KPI": "[Total Revenue/Total Revenue]",
        "Ghost": "[Total Revenue/NOPE] + [NOPE] + [ELSEWHERE/ID]",
    });
    std::fs::write(&path, workbooks.to_string()).unwrap();
}

/// Formulas reading several columns give several `fromColumns`; `[Column]` resolves through
/// the element's own column; `[Element/Column]` pairs from that element's data model; a
/// column missing on the other end gives no pair.
#[tokio::test]
async fn formulas_resolve_exactly_and_missing_columns_give_no_pair() {
    let dir = tempfile::tempdir().unwrap();
    fixtures_with_formulas(dir.path());
    let h = sandbox(
        OrgSource::FixtureDir(dir.path().to_owned()),
        Knobs::default(),
    )
    .await;
    let run = run_source(&workflow(&h, "snowflake_prod")).await;
    let bar = format!("{}elRevBar002", model_prefix(REVENUE));
    let kpi = format!("{}elRevKpi001", model_prefix(REVENUE));
    let edge = |from: &str| -> Vec<Value> {
        run.records
            .iter()
            .find(|r| {
                r["kind"] == "lineage"
                    && r["entity"]["from"]["fqn"] == from
                    && r["entity"]["to"]["fqn"] == bar.as_str()
            })
            .map(|r| {
                r["entity"]["columns"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .unwrap_or_else(|| panic!("no edge {from} -> {bar}"))
    };
    let revenue_from_orders = vec![format!("{ORDERS}.AMOUNT"), format!("{ORDERS}.DISCOUNT")];
    // Each pair keeps its column's formula as its `function`.
    let revenue = "Sum([ORDERS/AMOUNT]) - Sum([ORDERS/DISCOUNT]) + 0 * [CUSTOMERS/ID]";
    let share = "[Revenue] / Sum([Revenue]) + [Share]";
    assert_eq!(
        edge(ORDERS),
        vec![
            json!({"fromColumns": revenue_from_orders, "toColumn": format!("{bar}.Revenue"), "function": revenue}),
            json!({"fromColumns": revenue_from_orders, "toColumn": format!("{bar}.Share"), "function": share}),
        ]
    );
    assert_eq!(
        edge(CUSTOMERS),
        vec![
            json!({"fromColumns": [format!("{CUSTOMERS}.REGION")], "toColumn": format!("{bar}.Region"), "function": "[CUSTOMERS/REGION]"}),
            json!({"fromColumns": [format!("{CUSTOMERS}.ID")], "toColumn": format!("{bar}.Revenue"), "function": revenue}),
            json!({"fromColumns": [format!("{CUSTOMERS}.ID")], "toColumn": format!("{bar}.Share"), "function": share}),
        ]
    );
    let from_kpi = run
        .records
        .iter()
        .find(|r| r["kind"] == "lineage" && r["fqn"] == format!("{kpi} -> {bar}").as_str())
        .expect("element -> element");
    assert_eq!(from_kpi["entity"]["from"]["type"], "dashboardDataModel");
    assert_eq!(
        from_kpi["entity"]["columns"],
        json!([{"fromColumns": [format!("{kpi}.Total Revenue")], "toColumn": format!("{bar}.From KPI"), "function": "[Total Revenue/Total Revenue]"}])
    );
    // `Ghost` reads a column the KPI lacks, one its own element lacks, and a source the
    // element does not read: no pair anywhere.
    assert!(
        !element_pairs(&run)
            .iter()
            .any(|(from, to)| to.ends_with(".Ghost") || from.contains("NOPE")),
    );
    // The bar chart's data model carries its five columns, formulas in the descriptions.
    let model = run
        .records
        .iter()
        .find(|r| r["kind"] == "dataModel" && r["fqn"] == bar.as_str())
        .unwrap();
    let columns = model["entity"]["columns"].as_array().unwrap();
    assert_eq!(columns.len(), 5);
    assert_eq!(
        columns[1]["description"],
        "Formula: `Sum([ORDERS/AMOUNT]) - Sum([ORDERS/DISCOUNT]) + 0 * [CUSTOMERS/ID]`"
    );
}

/// An older deployment without `/columns`: one request finds that out, no element data
/// models, and the run still succeeds with the same charts and dashboards.
#[tokio::test]
async fn older_deployment_asks_once_and_has_no_element_columns() {
    let h = sandbox_with(SandboxConfig {
        api: ApiSurface::Legacy2023,
        ..SandboxConfig::default()
    })
    .await;
    let run = run_source(&workflow(&h, "snowflake_prod")).await;
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let stats = h.stats();
    assert_eq!(
        stats
            .requests_by_route
            .get("GET /v2/workbooks/{workbookId}/columns"),
        Some(&1)
    );
    let dashboards: Vec<&Value> = run
        .records
        .iter()
        .filter(|r| r["kind"] == "dashboard")
        .collect();
    assert!(!dashboards.is_empty());
    for d in dashboards {
        let prefix = model_prefix(d["entity"]["name"].as_str().unwrap());
        assert!(
            !run.records
                .iter()
                .any(|r| r["fqn"].as_str().unwrap_or_default().contains(&prefix)),
            "{prefix}"
        );
    }

    // The same on today's surface with only `/columns` absent.
    let h = sandbox(
        OrgSource::Fixtures,
        Knobs {
            absent_routes: ["/v2/workbooks/{workbookId}/columns".to_owned()].into(),
            ..Knobs::default()
        },
    )
    .await;
    let run = run_source(&workflow(&h, "snowflake_prod")).await;
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(
        h.stats()
            .requests_by_route
            .get("GET /v2/workbooks/{workbookId}/columns"),
        Some(&1)
    );
    assert!(!run.records.iter().any(|r| {
        r["fqn"]
            .as_str()
            .unwrap_or_default()
            .contains(&model_prefix(REVENUE))
    }));
}

/// A document whose `/columns` fails is a failed document, as when its pages fail: its
/// elements' data models were not seen, which must not read as deleted. The others go on.
#[tokio::test]
async fn a_failed_columns_listing_fails_its_document_only() {
    let h = sandbox(
        OrgSource::Fixtures,
        Knobs {
            forbidden: [format!("/v2/workbooks/{REVENUE}/columns")].into(),
            ..Knobs::default()
        },
    )
    .await;
    let run = run_source(&workflow(&h, "snowflake_prod")).await;
    let failed: Vec<String> = run.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        failed[0].contains(REVENUE) && failed[0].contains("columns"),
        "{failed:?}"
    );
    assert!(
        !run.records
            .iter()
            .any(|r| r["fqn"].as_str().unwrap_or_default().contains(REVENUE))
    );
    // Marketing Funnel still has its elements' data models.
    let marketing = model_prefix("a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02");
    assert!(
        run.records
            .iter()
            .any(|r| r["kind"] == "dataModel" && r["fqn"].as_str().unwrap().starts_with(&marketing))
    );
}

/// `[Element/Column]` naming an element of a data model the chart reads reaches that data
/// model element's column, exactly: a column the element lacks, or a name no data model the
/// chart reads has, gives no pair.
#[tokio::test]
async fn data_model_element_columns_reach_the_charts_that_read_them() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("fixtures").unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let path = dir.path().join("workbooks.json");
    let mut workbooks: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let scatter = workbooks
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|w| w["pages"].as_array_mut().unwrap())
        .flat_map(|p| p["elements"].as_array_mut().unwrap())
        .find(|e| e["elementId"] == "elRevSct008")
        .unwrap();
    // The scatter reads the Sales Model (its lineage names it).
    scatter["formulas"] = json!({
        "Amount": "[Orders/AMOUNT]",
        "Tenure": "DateDiff(\"day\", [Orders/ORDERED_AT], Today()) + [Customers/NOPE] + [Nowhere/ID]",
    });
    std::fs::write(&path, workbooks.to_string()).unwrap();
    let h = sandbox(
        OrgSource::FixtureDir(dir.path().to_owned()),
        Knobs::default(),
    )
    .await;
    let run = run_source(&workflow(&h, "snowflake_prod")).await;
    let chart = format!("{}elRevSct008", model_prefix(REVENUE));
    let orders = format!("{SERVICE}.model.e8f9a0b1-2222-4d3e-9f40-0000000000b1_dmElOrders1");
    let into_chart: Vec<&Value> = run
        .records
        .iter()
        .filter(|r| r["kind"] == "lineage" && r["entity"]["to"]["fqn"] == chart.as_str())
        .collect();
    assert_eq!(into_chart.len(), 1, "{into_chart:#?}");
    let edge = into_chart[0];
    assert_eq!(edge["entity"]["from"]["fqn"], orders.as_str());
    assert_eq!(edge["entity"]["from"]["type"], "dashboardDataModel");
    assert_eq!(
        edge["entity"]["columns"],
        json!([
            {"fromColumns": [format!("{orders}.AMOUNT")], "toColumn": format!("{chart}.Amount"),
             "function": "[Orders/AMOUNT]"},
            {"fromColumns": [format!("{orders}.ORDERED_AT")], "toColumn": format!("{chart}.Tenure"),
             "function": "DateDiff(\"day\", [Orders/ORDERED_AT], Today()) + [Customers/NOPE] + [Nowhere/ID]"},
        ])
    );
    // Both ends have the columns paired (what OpenMetadata's server checks).
    let columns_of = |fqn: &str| -> Vec<String> {
        let model = run
            .records
            .iter()
            .find(|r| r["kind"] == "dataModel" && r["fqn"] == fqn)
            .unwrap_or_else(|| panic!("no data model {fqn}"));
        model["entity"]["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{fqn}.{}", c["name"].as_str().unwrap()))
            .collect()
    };
    let (from_columns, to_columns) = (columns_of(&orders), columns_of(&chart));
    for pair in edge["entity"]["columns"].as_array().unwrap() {
        assert!(to_columns.contains(&pair["toColumn"].as_str().unwrap().to_owned()));
        for from in pair["fromColumns"].as_array().unwrap() {
            assert!(
                from_columns.contains(&from.as_str().unwrap().to_owned()),
                "{from}"
            );
        }
    }
    h.shutdown().await;
}
