//! The Sigma source against the sandbox: exact records for the fixture org, filters,
//! toggles, lineage, per-object failures, incomplete listings, paging at scale.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sigma_connector::config::Workflow;
use sigma_connector::sandbox::{
    ApiSurface, Knobs, OrgSource, PageTokenStyle, Sandbox, SandboxConfig, SandboxHandle, Stats,
    SyntheticConfig,
};
use sigma_connector::sigma::source::{SourceError, SourceStatus};

mod support;
use support::source::{run_source, sandbox, workflow};

const REVENUE: &str = "a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01";
const MARKETING: &str = "a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02";
const ARCHIVED: &str = "a3c1e5f7-0005-4a2b-8c3d-5e6f7a8b9c05";
const LINEAGE: &str = r#""lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}"#;

struct Run {
    records: Vec<Value>,
    errors: Vec<SourceError>,
    status: SourceStatus,
    stats: Stats,
}

impl Run {
    fn of_kind(&self, kind: &str) -> Vec<&Value> {
        self.records.iter().filter(|r| r["kind"] == kind).collect()
    }
    /// Dashboards of workbooks (a report's says `dashboardType: Report`).
    fn workbook_dashboards(&self) -> Vec<&Value> {
        self.of_kind("dashboard")
            .into_iter()
            .filter(|d| d["entity"].get("dashboardType").is_none())
            .collect()
    }
    fn reports(&self) -> Vec<&Value> {
        self.of_kind("dashboard")
            .into_iter()
            .filter(|d| d["entity"]["dashboardType"] == "Report")
            .collect()
    }
    fn requests(&self, route: &str) -> u64 {
        self.stats
            .requests_by_route
            .get(route)
            .copied()
            .unwrap_or(0)
    }
    fn lineage(&self, from: &str, to: &str) -> Option<&Value> {
        self.records.iter().find(|r| {
            r["kind"] == "lineage"
                && r["entity"]["from"]["fqn"] == from
                && r["entity"]["to"]["fqn"] == to
        })
    }
}

async fn run(h: &SandboxHandle, wf: &Workflow) -> Run {
    h.reset_stats();
    let run = run_source(wf).await;
    Run {
        records: run.records,
        errors: run.errors,
        status: run.status,
        stats: h.stats(),
    }
}

async fn fixture_run(source_config: &str) -> Run {
    fixture_run_on(ApiSurface::default(), source_config).await
}

async fn fixture_run_on(api: ApiSurface, source_config: &str) -> Run {
    let h = Sandbox::start(SandboxConfig {
        api,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let wf = workflow(&h, "", source_config);
    run(&h, &wf).await
}

#[tokio::test]
async fn fixture_org_yields_exactly_the_expected_records() {
    assert_golden(ApiSurface::Current, "tests/data/fixture-org.jsonl").await;
}

/// The older surface (no workbook-level calls, no reports, data model elements naming their
/// `sourceTable`) keeps its own golden, so what the source does there stays pinned.
#[tokio::test]
async fn fixture_org_on_the_older_surface_yields_exactly_the_expected_records() {
    assert_golden(ApiSurface::Legacy2023, "tests/data/fixture-org-2023.jsonl").await;
}

async fn assert_golden(api: ApiSurface, golden: &str) {
    let r = fixture_run_on(api, &format!(r#""includeOwners": true, {LINEAGE}"#)).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // The service record carries no connection, so nothing in it varies from run to run.
    assert!(r.records[0]["entity"].get("connection").is_none());
    let records = &r.records;
    let actual: String = records.iter().map(|v| format!("{v}\n")).collect();
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(golden);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    if actual != expected {
        for (i, (a, e)) in actual.lines().zip(expected.lines()).enumerate() {
            if a != e {
                panic!(
                    "line {}: differs\n actual:   {a}\n expected: {e}\n(UPDATE_GOLDEN=1 to accept)",
                    i + 1
                );
            }
        }
        panic!(
            "{} lines, expected {} (UPDATE_GOLDEN=1 to accept)",
            actual.lines().count(),
            expected.lines().count()
        );
    }
    // The shape of it, said plainly.
    assert_eq!(r.records[0]["kind"], "dashboardService");
    assert_eq!(
        r.workbook_dashboards().len(),
        5,
        "5 live workbooks; the archived one is skipped"
    );
    let (reports, ui_elements) = match api {
        // Executive Summary and Weekly Marketing; Old Board Report is archived. The
        // report's text element is the fourth UI element.
        ApiSurface::Current => (2, 4),
        _ => (0, 3),
    };
    assert_eq!(r.reports().len(), reports);
    assert!(r.records.iter().all(|v| !v.to_string().contains(ARCHIVED)));
    assert_eq!(
        r.status.skipped.get("non-chart element"),
        Some(&ui_elements),
        "text and control elements"
    );
    assert_eq!(
        r.status.skipped.get("migrated dataset"),
        Some(&1),
        "Web Sessions: its data model stands for it"
    );
    assert!(r.status.is_complete());
}

#[tokio::test]
async fn charts_are_qualified_deep_linked_and_typed() {
    let r = fixture_run("").await;
    let bar = r
        .of_kind("chart")
        .into_iter()
        .find(|c| c["entity"]["displayName"] == "Revenue by Region")
        .unwrap();
    assert_eq!(bar["entity"]["name"], format!("{REVENUE}_elRevBar002"));
    assert_eq!(bar["entity"]["chartType"], "Bar");
    assert!(
        bar["entity"]["sourceUrl"]
            .as_str()
            .unwrap()
            .ends_with("?:nodeId=elRevBar002")
    );
    assert_eq!(bar["entity"]["description"], "Page: Overview");
    let names: Vec<&str> = r
        .of_kind("chart")
        .iter()
        .map(|c| c["entity"]["name"].as_str().unwrap())
        .collect();
    assert!(names.iter().all(|n| !n.contains('.')));
    let dashboard = r
        .of_kind("dashboard")
        .into_iter()
        .find(|d| d["entity"]["name"] == REVENUE)
        .unwrap();
    assert_eq!(dashboard["entity"]["project"], "Finance");
    assert_eq!(dashboard["entity"]["charts"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn lineage_at_table_and_column_level() {
    // Today's surface says it in `/dataModels/{id}/lineage` and the workbook-level
    // `/lineage`; the older one in the elements' `sourceTable` and per-element graphs.
    for api in [ApiSurface::Current, ApiSurface::Legacy2023] {
        lineage_at_table_and_column_level_on(api).await;
    }
}

async fn lineage_at_table_and_column_level_on(api: ApiSurface) {
    let r = fixture_run_on(api, LINEAGE).await;
    let dashboard = format!("sigma_sandbox.{REVENUE}");
    assert!(
        r.lineage("snowflake_prod.ANALYTICS.SALES.ORDERS", &dashboard)
            .is_some()
    );
    assert!(
        r.lineage("snowflake_prod.RAW.STRIPE.PAYMENTS", &dashboard)
            .is_some(),
        "through a custom SQL node"
    );
    let dm = "sigma_sandbox.model.e8f9a0b1-2222-4d3e-9f40-0000000000b1_dmElOrders1";
    let edge = r
        .lineage("snowflake_prod.ANALYTICS.SALES.ORDERS", dm)
        .unwrap();
    let columns = edge["entity"]["columns"].as_array().unwrap();
    assert!(columns.contains(&json!({
        "fromColumns": ["snowflake_prod.ANALYTICS.SALES.ORDERS.AMOUNT"],
        "toColumn": format!("{dm}.AMOUNT"),
        "function": "[ORDERS/AMOUNT]"
    })));
    assert!(
        r.lineage(dm, &dashboard).is_some(),
        "data model -> dashboard"
    );
    // The dataset node in Marketing Funnel resolves to the dataset's data model.
    let marketing = r
        .of_kind("dashboard")
        .into_iter()
        .find(|d| d["entity"]["name"] == MARKETING)
        .unwrap();
    // The data model it reads, then its own elements' data models (their columns).
    let listed = marketing["entity"]["dataModels"].as_array().unwrap();
    assert_eq!(
        listed[0],
        json!("sigma_sandbox.model.d5e7a9b1-1111-4c2d-8e3f-0000000000a1")
    );
    let own = format!("sigma_sandbox.model.{MARKETING}_");
    assert!(
        listed[1..]
            .iter()
            .all(|m| m.as_str().unwrap().starts_with(&own)),
        "{listed:?}"
    );
}

#[tokio::test]
async fn nothing_is_fetched_twice() {
    let r = fixture_run(&format!(r#""includeOwners": true, {LINEAGE}"#)).await;
    assert_eq!(r.requests("GET /v2/members"), 1);
    assert_eq!(r.requests("GET /v2/connections"), 1);
    assert_eq!(r.requests("GET /v2/workbooks"), 1);
    for route in [
        "GET /v2/workbooks/{workbookId}/queries",
        "GET /v2/workbooks/{workbookId}/pages",
        "GET /v2/workbooks/{workbookId}/elements",
    ] {
        assert_eq!(r.requests(route), 5, "{route}: one per live workbook");
    }
    assert_eq!(
        r.requests("GET /v2/workbooks/{workbookId}/lineage"),
        4,
        "one per live workbook with charts"
    );
    // Every inode is looked up once, though ORDERS is read by many elements.
    let tables: std::collections::BTreeSet<&str> = r
        .records
        .iter()
        .filter(|v| v["kind"] == "lineage" && v["entity"]["from"]["type"] == "table")
        .map(|v| v["entity"]["from"]["fqn"].as_str().unwrap())
        .collect();
    // Inodes whose path answers 404 or 409 (a dataset's vanished or archived table) are
    // asked once too, and give no table.
    let no_table = r.stats.answers("/v2/connections/paths/{inodeId}", "404")
        + r.stats.answers("/v2/connections/paths/{inodeId}", "409");
    assert_eq!(
        r.requests("GET /v2/connections/paths/{inodeId}") as usize,
        tables.len() + no_table as usize
    );
    assert_eq!(
        r.requests("GET /v2/workbooks/{workbookId}/lineage/elements/{elementId}")
            + r.requests("GET /v2/workbooks/{workbookId}/pages/{pageId}/elements"),
        0,
        "today's surface: the workbook-level calls say it all"
    );
    assert_eq!(r.stats.token_grants.values().sum::<u64>(), 1);
}

#[tokio::test]
async fn owners_tags_and_data_models_toggle() {
    let on = fixture_run(r#""includeOwners": true, "includeTags": true"#).await;
    let off =
        fixture_run(r#""includeOwners": false, "includeTags": false, "includeDataModels": false"#)
            .await;
    let revenue = |r: &Run| {
        r.of_kind("dashboard")
            .into_iter()
            .find(|d| d["entity"]["name"] == REVENUE)
            .unwrap()
            .clone()
    };
    assert_eq!(
        revenue(&on)["refs"]["owners"],
        json!(["ada.lovelace@example.com"])
    );
    assert_eq!(revenue(&on)["refs"]["tags"], json!(["Production"]));
    assert!(revenue(&off)["refs"].get("owners").is_none());
    assert!(revenue(&off)["refs"].get("tags").is_none());
    assert_eq!(
        off.requests("GET /v2/members"),
        0,
        "owners off: members are not listed"
    );
    assert!(on.of_kind("dataModel").len() >= 6);
    assert!(off.of_kind("dataModel").is_empty());
    assert_eq!(off.requests("GET /v2/dataModels"), 0);
    assert_eq!(off.requests("GET /v2/datasets"), 0);
    snapshot("owners_tags_on", &on);
    snapshot("owners_tags_data_models_off", &off);
}

/// The whole record set of a run, with the sandbox's address (a new port every run)
/// redacted. `cargo insta review` (or `INSTA_UPDATE=always`) accepts a change.
fn snapshot(name: &str, r: &Run) {
    insta::assert_json_snapshot!(name, r.records, {
        "[].entity.connection.config.hostPort" => "[sandbox address]",
    });
}

#[tokio::test]
async fn filters_have_openmetadata_semantics_and_are_counted() {
    let r = fixture_run(
        r#""dashboardFilterPattern": {"excludes": ["marketing"]},
           "chartFilterPattern": {"includes": ["revenue", "orders"]},
           "dataModelFilterPattern": {"excludes": [".*dataset"]}"#,
    )
    .await;
    let names: Vec<&str> = r
        .of_kind("dashboard")
        .iter()
        .map(|d| d["entity"]["displayName"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"Marketing Funnel"), "{names:?}");
    assert_eq!(r.status.filtered.get("dashboard"), Some(&1));
    let charts: Vec<&str> = r
        .of_kind("chart")
        .iter()
        .map(|c| c["entity"]["displayName"].as_str().unwrap())
        .collect();
    assert!(
        charts
            .iter()
            .all(|c| c.to_lowercase().starts_with("revenue")
                || c.to_lowercase().starts_with("orders")),
        "{charts:?}"
    );
    assert!(r.status.filtered.get("chart").copied().unwrap_or(0) > 0);
    assert!(
        r.of_kind("dataModel")
            .iter()
            .all(|d| d["entity"]["displayName"] != "Orders Dataset")
    );
    // A filtered workbook is not fetched further.
    assert_eq!(r.requests("GET /v2/workbooks/{workbookId}/queries"), 4);

    let projects = fixture_run(r#""projectFilterPattern": {"includes": ["finance"]}"#).await;
    assert!(
        projects
            .of_kind("dashboard")
            .iter()
            .all(|d| d["entity"]["project"] == "Finance")
    );
    assert_eq!(
        projects.of_kind("dashboard").len(),
        3,
        "Quarterly Revenue, the Board Pack and the Executive Summary report"
    );
    snapshot("filters_workbook_chart_data_model", &r);
    snapshot("filters_project_finance", &projects);
}

#[tokio::test]
async fn without_a_service_mapping_table_lineage_is_skipped_with_one_warning() {
    let r = fixture_run("").await;
    assert!(
        r.records
            .iter()
            .all(|v| v["entity"]["from"]["type"] != "table")
    );
    // One warning for the lineage, one for includeUsage (on by default, as in 2.0.7).
    assert_eq!(r.status.warnings, 2, "{:?}", r.status.warning_examples);
    assert_eq!(
        r.status
            .warning_examples
            .iter()
            .filter(|w| w.starts_with("lineage to warehouse tables is skipped"))
            .count(),
        1
    );
    assert_eq!(r.requests("GET /v2/connections/paths/{inodeId}"), 0);
}

#[tokio::test]
async fn a_workbook_whose_elements_fail_is_reported_and_the_rest_flows() {
    let knobs = Knobs {
        // Both ways to its elements: the workbook-level listing first, then per page.
        forbidden: [
            format!("/v2/workbooks/{MARKETING}/elements"),
            format!("/v2/workbooks/{MARKETING}/pages/pgMktFunl01/elements"),
        ]
        .into(),
        ..Knobs::default()
    };
    let h = sandbox(OrgSource::Fixtures, knobs).await;
    let r = run(&h, &workflow(&h, "", "")).await;
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    let SourceError::Object { id, step, .. } = &r.errors[0] else {
        panic!("{:?}", r.errors)
    };
    assert_eq!((id.as_str(), *step), (MARKETING, "elements"));
    assert_eq!(r.workbook_dashboards().len(), 4);
    assert_eq!(r.status.failures, 1);
    assert!(
        r.status.is_complete(),
        "a failed object is not an incomplete listing"
    );
}

#[tokio::test]
async fn a_malformed_object_is_reported_by_id_and_the_rest_flows() {
    let knobs = Knobs {
        malformed_ids: [MARKETING.to_owned()].into(),
        ..Knobs::default()
    };
    let h = sandbox(OrgSource::Fixtures, knobs).await;
    let r = run(&h, &workflow(&h, "", "")).await;
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert!(
        r.errors[0].to_string().contains(MARKETING),
        "{}",
        r.errors[0]
    );
    assert_eq!(r.workbook_dashboards().len(), 4);
    assert_eq!(r.reports().len(), 2, "reports are not affected");
}

fn synthetic(workbooks: usize) -> OrgSource {
    OrgSource::Synthetic(SyntheticConfig {
        workbooks,
        pages_per_workbook: 1,
        elements_per_page: 2,
        datasets: 3,
        data_models: 2,
        ..SyntheticConfig::default()
    })
}

#[tokio::test]
async fn more_than_1000_workbooks_page_to_the_end_with_numeric_tokens() {
    let knobs = Knobs {
        page_token_style: PageTokenStyle::Numeric,
        ..Knobs::default()
    };
    let h = sandbox(synthetic(1500), knobs).await;
    let r = run(&h, &workflow(&h, "", "")).await;
    assert!(
        r.errors.is_empty(),
        "{:?}",
        &r.errors[..r.errors.len().min(3)]
    );
    assert_eq!(r.workbook_dashboards().len(), 1500);
    assert_eq!(r.requests("GET /v2/workbooks"), 2, "limit=1000: two pages");
    let ids: std::collections::BTreeSet<&str> = r
        .workbook_dashboards()
        .iter()
        .map(|d| d["entity"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1500, "no workbook twice");
}

#[tokio::test]
async fn a_listing_that_breaks_midway_is_reported_incomplete() {
    let knobs = Knobs {
        fail_listings_from_offset: Some(1000),
        ..Knobs::default()
    };
    let h = sandbox(synthetic(1500), knobs).await;
    let wf = workflow(&h, r#", "maxRetries": 1, "retryTimeout": 5"#, "");
    let r = run(&h, &wf).await;
    assert_eq!(
        r.workbook_dashboards().len(),
        1000,
        "the first page is kept"
    );
    assert!(!r.status.is_complete());
    let [listing] = r.status.incomplete_listings.as_slice() else {
        panic!("one incomplete listing: {:?}", r.status.incomplete_listings)
    };
    assert_eq!(
        (
            listing.listing.as_str(),
            listing.items_so_far,
            listing.pages_so_far
        ),
        ("workbooks", 1000, 1)
    );
    assert!(listing.cause.contains("HTTP"), "{listing}");
    assert!(
        r.errors
            .iter()
            .any(|e| matches!(e, SourceError::IncompleteListing(l) if l == listing)),
        "{:?}",
        r.errors
    );
}

#[tokio::test]
async fn output_is_the_same_for_the_same_org_whatever_the_timing() {
    // Overlap is certain, not timed: every answer is held 10 ms while the source has
    // dozens of requests ready (60 workbooks listed at once), so for none to overlap the
    // client would have to be starved 10 ms before each of its ~300 requests.
    let knobs = Knobs {
        latency: std::time::Duration::from_millis(10),
        ..Knobs::default()
    };
    let h = sandbox(synthetic(60), knobs).await;
    let wf = workflow(&h, r#", "maxConcurrency": 8"#, LINEAGE);
    let a = run(&h, &wf).await;
    let b = run(&h, &wf).await;
    assert_eq!(a.records, b.records);
    assert!(
        a.stats.peak_in_flight > 1,
        "requests really overlapped: {}",
        a.stats.peak_in_flight
    );
    let kinds: BTreeMap<String, usize> = a.records.iter().fold(BTreeMap::new(), |mut m, r| {
        *m.entry(r["kind"].as_str().unwrap().to_owned()).or_default() += 1;
        m
    });
    assert_eq!(a.workbook_dashboards().len(), 60);
    assert_eq!(kinds["dashboard"], 60 + a.reports().len());
}

/// Requests per endpoint on both surfaces: today's uses the workbook-, report- and data
/// model-level calls; the older one answers 404 there once per endpoint, after which the
/// source asks page by page and element by element. No object is asked twice.
#[tokio::test]
async fn request_counts_per_endpoint_on_both_surfaces() {
    let config = format!(r#""includeOwners": true, {LINEAGE}"#);
    let today = fixture_run_on(ApiSurface::Current, &config).await;
    let older = fixture_run_on(ApiSurface::Legacy2023, &config).await;
    let counts = |r: &Run| -> BTreeMap<String, u64> {
        r.stats
            .requests_by_route
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect()
    };
    insta::assert_json_snapshot!("request_counts_today", counts(&today));
    insta::assert_json_snapshot!("request_counts_2023", counts(&older));
    for surface in [&today, &older] {
        for (route, statuses) in &surface.stats.statuses_by_route {
            let not_found = statuses.get("404").copied().unwrap_or(0);
            // Elements without a query answer 404 on their query route; a missing endpoint
            // answers 404 once.
            if !route.ends_with("/query") {
                assert!(not_found <= 1, "{route}: {statuses:?}");
            }
        }
        assert_eq!(
            surface.stats.requests("/v2/members"),
            1,
            "60 members in one page"
        );
    }
    for route in [
        "/v2/workbooks/{workbookId}/elements",
        "/v2/workbooks/{workbookId}/lineage",
        "/v2/dataModels/{dataModelId}/lineage",
        "/v2/reports",
    ] {
        assert_eq!(older.stats.answers(route, "404"), 1, "{route}");
        assert_eq!(today.stats.answers(route, "404"), 0, "{route}");
    }
    assert_eq!(older.stats.requests_under("GET /v2/reports"), 1);
    // Today: at most 5 requests per live workbook, listings and lookups amortised.
    let per_workbook: u64 = today
        .stats
        .requests_by_route
        .iter()
        .filter(|(route, _)| route.starts_with("GET /v2/workbooks/{workbookId}"))
        .map(|(_, n)| n)
        .sum();
    assert!(
        per_workbook <= 5 * 5,
        "{per_workbook} requests for 5 workbooks"
    );
    // The same workbooks, charts and lineage on both; reports only today.
    let workbook_records = |r: &Run| -> Vec<Value> {
        let mut v: Vec<Value> = r
            .records
            .iter()
            .filter(|v| {
                let fqn = v["fqn"].as_str().unwrap_or_default();
                let into_dashboard =
                    v["kind"] == "lineage" && v["entity"]["to"]["type"] == "dashboard";
                (matches!(v["kind"].as_str(), Some("chart" | "dashboard")) || into_dashboard)
                    && !fqn.contains("report_")
            })
            .cloned()
            .map(|mut v| {
                // Element data models need `/columns`, which the older surface lacks.
                if v["kind"] == "dashboard" {
                    let own = format!(
                        "sigma_sandbox.model.{}_",
                        v["entity"]["name"].as_str().unwrap_or_default()
                    );
                    if let Some(models) = v["entity"]["dataModels"].as_array_mut() {
                        models.retain(|m| !m.as_str().unwrap_or_default().starts_with(&own));
                    }
                }
                v
            })
            .collect();
        v.sort_by_key(|v| v.to_string());
        v
    };
    assert_eq!(workbook_records(&today), workbook_records(&older));
    assert!(older.reports().is_empty());
    assert_eq!(today.reports().len(), 2, "the archived report is skipped");
}

const SALES_MODEL: &str = "sigma_sandbox.model.e8f9a0b1-2222-4d3e-9f40-0000000000b1";
const EXEC_REPORT: &str = "sigma_sandbox.report_4e90a1b2-0001-4c3d-8e4f-5a6b7c8d9e01";

/// Today's data model lineage: a chain of three models, custom SQL with a CTE and a join,
/// a dataset read by a data model element, each with column pairs where formulas give them.
#[tokio::test]
async fn data_model_lineage_chain_custom_sql_and_datasets() {
    let r = fixture_run(LINEAGE).await;
    let revenue = format!("{SALES_MODEL}_dmElRevenu3");
    let regions = "sigma_sandbox.model.e8f9a0b1-2222-4d3e-9f40-0000000000b2_dmElRegns5";
    let targets = "sigma_sandbox.model.e8f9a0b1-2222-4d3e-9f40-0000000000b3_dmElTargt6";
    let link = r.lineage(&revenue, regions).expect("model 1 -> model 2");
    assert!(link["entity"]["columns"].as_array().unwrap().contains(&json!({
        "fromColumns": [format!("{revenue}.Revenue")], "toColumn": format!("{regions}.Revenue"),
        "function": "[Revenue by Region/Revenue]"
    })));
    let link = r.lineage(regions, targets).expect("model 2 -> model 3");
    assert!(link["entity"]["columns"].as_array().unwrap().contains(&json!({
        "fromColumns": [format!("{regions}.Revenue")], "toColumn": format!("{targets}.Target"),
        "function": "[Sales Regions/Revenue] * 1.1"
    })));
    // Siblings: Revenue by Region reads Orders and Customers of its own model.
    let sibling = r
        .lineage(&format!("{SALES_MODEL}_dmElOrders1"), &revenue)
        .expect("sibling edge");
    assert!(!sibling["entity"]["columns"].as_array().unwrap().is_empty());
    // Custom SQL: `with big as (... ORDERS ...) ... join CUSTOMERS`: both tables, not `big`.
    let big = format!("{SALES_MODEL}_dmElBigSql4");
    let into_big: Vec<&str> = r
        .of_kind("lineage")
        .iter()
        .filter(|l| l["entity"]["to"]["fqn"] == big.as_str())
        .map(|l| l["entity"]["from"]["fqn"].as_str().unwrap())
        .collect();
    assert_eq!(
        into_big,
        vec![
            "snowflake_prod.ANALYTICS.SALES.CUSTOMERS",
            "snowflake_prod.ANALYTICS.SALES.ORDERS"
        ]
    );
    // ... and column pairs from the SQL's projection: `big.ID`, `big.AMOUNT` through the
    // CTE's `*` to ORDERS, `c.REGION` to CUSTOMERS; each pair on the edge of its own table.
    let pairs = |table: &str| r.lineage(table, &big).unwrap()["entity"]["columns"].clone();
    let orders = "snowflake_prod.ANALYTICS.SALES.ORDERS";
    let customers = "snowflake_prod.ANALYTICS.SALES.CUSTOMERS";
    assert_eq!(
        pairs(orders),
        json!([
            {"fromColumns": [format!("{orders}.ID")], "toColumn": format!("{big}.ID"),
             "function": "[Big orders with customers/ID]"},
            {"fromColumns": [format!("{orders}.AMOUNT")], "toColumn": format!("{big}.AMOUNT"),
             "function": "[Big orders with customers/AMOUNT]"}
        ])
    );
    assert_eq!(
        pairs(customers),
        json!([{"fromColumns": [format!("{customers}.REGION")], "toColumn": format!("{big}.REGION"),
                "function": "[Big orders with customers/REGION]"}])
    );
    // A data model element reading the (not migrated) Orders Dataset.
    assert!(
        r.lineage(
            "sigma_sandbox.model.d5e7a9b1-1111-4c2d-8e3f-0000000000a1",
            "sigma_sandbox.model.e8f9a0b1-2222-4d3e-9f40-0000000000b3_dmElLegcy7"
        )
        .is_some()
    );
    // The dataset's own table comes through /datasets/{id}/sources, its record says its state.
    let dataset = r
        .of_kind("dataModel")
        .into_iter()
        .find(|d| d["entity"]["displayName"] == "Orders Dataset")
        .unwrap();
    assert_eq!(dataset["refs"]["migrationStatus"], "not-migrated");
    assert!(
        r.lineage(
            "snowflake_prod.ANALYTICS.SALES.ORDERS",
            "sigma_sandbox.model.d5e7a9b1-1111-4c2d-8e3f-0000000000a1"
        )
        .is_some()
    );
    // Web Sessions was migrated into the Marketing model: not emitted, named by its model.
    assert!(
        r.of_kind("dataModel")
            .iter()
            .all(|d| d["entity"]["displayName"] != "Web Sessions")
    );
    let sessions = r
        .of_kind("dataModel")
        .into_iter()
        .find(|d| d["fqn"] == regions)
        .unwrap();
    assert_eq!(
        sessions["refs"]["replacesDatasets"],
        json!(["d5e7a9b1-1111-4c2d-8e3f-0000000000a2"])
    );
    // Legacy Shipments' own 410 (after the first /sources call found the API present) costs
    // it its table lineage and one grouped warning, not the datasets after it theirs.
    assert_eq!(
        r.stats.answers("/v2/datasets/{datasetId}/sources", "410"),
        1
    );
    assert!(
        r.status
            .warnings_by_cause
            .iter()
            .any(|g| g.cause.contains("answered 410 for some datasets") && g.objects == 1),
        "{:?}",
        r.status.warnings_by_cause
    );
}

/// A dataset API retired everywhere answers the first /sources call 410: one call, one
/// warning, and no further /sources calls that run, though datasets expand concurrently.
#[tokio::test]
async fn a_dataset_api_retired_everywhere_costs_one_call() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let datasets_file = dir.path().join("datasets.json");
    let mut datasets: Value =
        serde_json::from_str(&std::fs::read_to_string(&datasets_file).unwrap()).unwrap();
    for ds in datasets.as_array_mut().unwrap() {
        ds["sourcesStatus"] = json!(410);
    }
    std::fs::write(&datasets_file, datasets.to_string()).unwrap();
    let h = Sandbox::start(SandboxConfig {
        org: OrgSource::FixtureDir(dir.path().to_owned()),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let r = run(&h, &workflow(&h, "", LINEAGE)).await;
    assert_eq!(
        r.stats.answers("/v2/datasets/{datasetId}/sources", "410"),
        1
    );
    assert_eq!(
        r.stats
            .requests_by_route
            .get("GET /v2/datasets/{datasetId}/sources")
            .copied(),
        Some(1)
    );
    let retired: Vec<&String> = r
        .status
        .warning_examples
        .iter()
        .filter(|w| w.contains("Sigma has retired datasets here"))
        .collect();
    assert_eq!(retired.len(), 1, "{:?}", r.status.warning_examples);
}

/// Reports are dashboards with `dashboardType: Report`, their own names, owners (a member
/// beyond the first page of 50), tags, and lineage, and go through every filter.
#[tokio::test]
async fn reports_are_report_dashboards_under_every_filter() {
    let r = fixture_run(&format!(
        r#""includeOwners": true, "includeTags": true, {LINEAGE}"#
    ))
    .await;
    let exec = r
        .reports()
        .into_iter()
        .find(|d| d["fqn"] == EXEC_REPORT)
        .unwrap();
    assert_eq!(exec["entity"]["displayName"], "Executive Summary");
    assert_eq!(
        exec["refs"]["owners"],
        json!(["barbara.moore.55@example.com"])
    );
    assert_eq!(exec["refs"]["tags"], json!(["Production"]));
    assert!(
        r.lineage("snowflake_prod.ANALYTICS.SALES.ORDERS", EXEC_REPORT)
            .is_some()
    );
    assert!(
        r.lineage(&format!("{SALES_MODEL}_dmElRevenu3"), EXEC_REPORT)
            .is_some()
    );
    let charts = exec["entity"]["charts"].as_array().unwrap();
    assert!(
        charts
            .iter()
            .all(|c| c.as_str().unwrap().starts_with("sigma_sandbox.report_")),
        "{charts:?}"
    );

    let names = |r: &Run| -> Vec<String> {
        r.reports()
            .iter()
            .map(|d| d["entity"]["displayName"].as_str().unwrap().to_owned())
            .collect()
    };
    let dashboards = fixture_run(r#""dashboardFilterPattern": {"excludes": ["executive"]}"#).await;
    assert_eq!(names(&dashboards), vec!["Weekly Marketing"]);
    let projects = fixture_run(r#""projectFilterPattern": {"includes": ["marketing"]}"#).await;
    assert_eq!(names(&projects), vec!["Weekly Marketing"]);
    let charts = fixture_run(r#""chartFilterPattern": {"includes": ["revenue"]}"#).await;
    let exec = charts
        .reports()
        .into_iter()
        .find(|d| d["fqn"] == EXEC_REPORT)
        .unwrap()
        .clone();
    assert_eq!(
        exec["entity"]["charts"].as_array().unwrap().len(),
        2,
        "Revenue this month, Revenue by Region (model)"
    );
}

/// Custom SQL in the generated org (`with recent as (select * from T) select r.ID,
/// sum(j.AMOUNT) as TOTAL from recent r join J j ...`): every data model's custom SQL
/// element gets exactly its two pairs, ID from its base table through the CTE, TOTAL from
/// the joined table, and nothing else.
#[tokio::test]
async fn custom_sql_elements_get_column_lineage_from_their_projection() {
    let h = sandbox(synthetic(6), Knobs::default()).await;
    let wf = workflow(&h, "", LINEAGE);
    let r = run(&h, &wf).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let custom_sql: Vec<&Value> = r
        .of_kind("dataModel")
        .into_iter()
        .filter(|d| {
            d["entity"]["displayName"]
                .as_str()
                .is_some_and(|n| n.contains(" / Custom SQL "))
        })
        .collect();
    assert!(
        !custom_sql.is_empty(),
        "{:?}",
        r.of_kind("dataModel")
            .iter()
            .map(|d| d["entity"]["displayName"].clone())
            .collect::<Vec<_>>()
    );
    for element in custom_sql {
        let fqn = element["fqn"].as_str().unwrap();
        let mut pairs: Vec<(String, String)> = r
            .of_kind("lineage")
            .iter()
            .filter(|l| l["entity"]["to"]["fqn"] == fqn)
            .flat_map(|l| {
                l["entity"]["columns"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .map(|p| {
                let from = p["fromColumns"].as_array().unwrap();
                assert_eq!(from.len(), 1, "{p}");
                let to = p["toColumn"].as_str().unwrap();
                (
                    from[0]
                        .as_str()
                        .unwrap()
                        .rsplit('.')
                        .next()
                        .unwrap()
                        .to_owned(),
                    to.rsplit('.').next().unwrap().to_owned(),
                )
            })
            .collect();
        pairs.sort();
        assert_eq!(
            pairs,
            [
                ("AMOUNT".to_owned(), "TOTAL".to_owned()),
                ("ID".to_owned(), "ID".to_owned())
            ],
            "{fqn}"
        );
    }
}
