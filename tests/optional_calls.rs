//! One rule for every optional Sigma call and listing, over real HTTP with the sandbox: a
//! 400 or 404 before any success means "not here" for the rest of the run (asked once, said
//! once); a deployment without the data model API runs to success; without the
//! document-level `/queries`, the per-element `/query` keeps SQL-named tables in the lineage.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use sigma_connector::sandbox::surface::CURRENT_ONLY_ROUTES;
use sigma_connector::sandbox::{
    ApiSurface, Knobs, OrgSource, SandboxConfig, Stats, SyntheticConfig,
};
use sigma_connector::sigma::source::SourceStatus;
use support::source::{assert_same_records, run_source, sandbox_with, workflow};

const LINEAGE: &str =
    r#""includeOwners": true, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}"#;

/// Workbook-, report- and data-model-level calls an older deployment lacks.
const DOCUMENT_LEVEL: &[&str] = &[
    "/v2/workbooks/{workbookId}/elements",
    "/v2/workbooks/{workbookId}/lineage",
    "/v2/workbooks/{workbookId}/queries",
    "/v2/reports/{reportId}/elements",
    "/v2/reports/{reportId}/lineage",
    "/v2/reports/{reportId}/queries",
    "/v2/dataModels/{dataModelId}/lineage",
];

struct Run {
    records: Vec<Value>,
    errors: usize,
    status: SourceStatus,
    stats: Stats,
}

async fn run_on(org: OrgSource, api: ApiSurface, knobs: Knobs) -> Run {
    let h = sandbox_with(SandboxConfig {
        org,
        api,
        knobs,
        ..SandboxConfig::default()
    })
    .await;
    let wf = workflow(&h, "", LINEAGE);
    h.reset_stats();
    let run = run_source(&wf).await;
    let stats = h.stats();
    h.shutdown().await;
    Run {
        records: run.records,
        errors: run.errors.len(),
        status: run.status,
        stats,
    }
}

fn synthetic(workbooks: usize) -> OrgSource {
    OrgSource::Synthetic(SyntheticConfig {
        workbooks,
        ..SyntheticConfig::default()
    })
}

fn absent(routes: &[&str], status: u16) -> Knobs {
    Knobs {
        absent_routes: routes.iter().map(|r| (*r).to_owned()).collect(),
        absent_status: status,
        ..Knobs::default()
    }
}

fn lineage_edges(r: &Run) -> BTreeSet<(String, String)> {
    r.records
        .iter()
        .filter(|v| v["kind"] == "lineage")
        .map(|v| {
            (
                v["entity"]["from"]["fqn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                v["entity"]["to"]["fqn"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

/// On the older surface, whether its missing calls answer 404 or 400, each is asked at most
/// twice in a run (here: once), nothing is reported per workbook, and the records are the
/// same either way.
#[tokio::test]
async fn on_the_older_surface_each_missing_call_is_asked_once_whether_it_answers_404_or_400() {
    let mut runs = BTreeMap::new();
    for status in [404u16, 400] {
        let r = run_on(synthetic(40), ApiSurface::Legacy2023, absent(&[], status)).await;
        let mut tried = BTreeMap::new();
        // Every route the older surface lacks (reports' sub-routes are never reached).
        for route in CURRENT_ONLY_ROUTES {
            let n = r.stats.requests(route);
            assert!(n <= 2, "{route} asked {n} times on a {status} surface");
            if n > 0 {
                tried.insert(*route, n);
            }
        }
        println!("older surface answering {status}: requests per missing route {tried:?}");
        assert_eq!(r.stats.requests("/v2/workbooks/{workbookId}/lineage"), 1);
        assert_eq!(r.stats.requests("/v2/workbooks/{workbookId}/elements"), 1);
        assert_eq!(r.stats.requests("/v2/dataModels/{dataModelId}/lineage"), 1);
        assert_eq!(r.errors, 0, "{status}: {:?}", r.status.failure_examples);
        assert!(r.status.is_complete(), "{status}: {:?}", r.status);
        assert!(
            r.status
                .warning_examples
                .iter()
                .all(|w| !w.contains("unavailable (HTTP 400")),
            "{status}: a missing call is not a per-object warning: {:?}",
            r.status.warning_examples
        );
        runs.insert(status, r);
    }
    assert_same_records(&runs[&400].records, &runs[&404].records, "400 vs 404");
    assert!(!runs[&404].records.is_empty());
}

/// Today's surface with every document-level call answering 400 (a deployment that says
/// "bad request" to paths it does not know): concluded once per call, the per-page and
/// per-element path gives the same workbooks as today's calls.
#[tokio::test]
async fn today_with_the_document_level_calls_answering_400_concludes_once_per_call() {
    let today = run_on(OrgSource::Fixtures, ApiSurface::Current, Knobs::default()).await;
    let without = run_on(
        OrgSource::Fixtures,
        ApiSurface::Current,
        absent(DOCUMENT_LEVEL, 400),
    )
    .await;
    for route in DOCUMENT_LEVEL {
        assert!(without.stats.answers(route, "400") <= 1, "{route}");
    }
    assert_eq!(without.errors, 0);
    assert!(without.status.is_complete());
    let dashboards = |r: &Run| -> Vec<Value> {
        let mut v: Vec<Value> = r
            .records
            .iter()
            .filter(|v| matches!(v["kind"].as_str(), Some("chart" | "dashboard")))
            .cloned()
            .collect();
        v.sort_by_key(|v| v.to_string());
        v
    };
    assert_eq!(dashboards(&without), dashboards(&today));
}

/// A deployment without the data model API (the listing answers 404, or 400) runs to
/// success, as one without reports does: no incomplete listing, no failure, everything
/// else ingested.
#[tokio::test]
async fn a_deployment_without_the_data_model_api_runs_to_success() {
    let full = run_on(OrgSource::Fixtures, ApiSurface::Current, Knobs::default()).await;
    for status in [404u16, 400] {
        let r = run_on(
            OrgSource::Fixtures,
            ApiSurface::Current,
            absent(&["/v2/dataModels"], status),
        )
        .await;
        assert_eq!(r.errors, 0, "{status}: {:?}", r.status.failure_examples);
        assert!(
            r.status.is_complete(),
            "{status}: {:?}",
            r.status.incomplete_listings
        );
        assert_eq!(r.stats.requests("/v2/dataModels"), 1, "asked once");
        assert_eq!(r.stats.requests_under("GET /v2/dataModels/"), 0);
        let dashboards = |r: &Run| {
            r.records
                .iter()
                .filter(|v| v["kind"] == "dashboard")
                .count()
        };
        assert_eq!(dashboards(&r), dashboards(&full), "{status}");
        assert!(
            r.records.iter().all(|v| !v["fqn"]
                .as_str()
                .unwrap_or_default()
                .contains(".model.e8f9a0b1")),
            "no data model of the API that is not there"
        );
    }
}

/// Without `/queries`, the charts whose tables the lineage graph did not resolve are asked
/// for their SQL one by one, so the tables their SQL names stay in the lineage; charts the
/// graph resolved are not asked.
#[tokio::test]
async fn without_queries_sql_named_tables_still_reach_the_lineage() {
    let queries = "/v2/workbooks/{workbookId}/queries";
    let element_query = "/v2/workbooks/{workbookId}/elements/{elementId}/query";
    let full = run_on(OrgSource::Fixtures, ApiSurface::Current, Knobs::default()).await;
    let without = run_on(
        OrgSource::Fixtures,
        ApiSurface::Current,
        absent(&[queries], 404),
    )
    .await;
    assert_eq!(without.stats.requests(queries), 1, "concluded once");
    assert_eq!(without.errors, 0);
    let charts = full.records.iter().filter(|v| v["kind"] == "chart").count() as u64;
    let asked = without.stats.requests(element_query);
    assert!(
        asked > 0 && asked < charts,
        "only the unresolved charts: {asked} of {charts}"
    );
    let into_dashboards = |r: &Run| -> BTreeSet<(String, String)> {
        lineage_edges(r)
            .into_iter()
            .filter(|(_, to)| !to.contains(".model."))
            .collect()
    };
    assert_eq!(into_dashboards(&without), into_dashboards(&full));
    assert!(
        lineage_edges(&without).contains(&(
            "snowflake_prod.RAW.STRIPE.PAYMENTS".to_owned(),
            "sigma_sandbox.a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01".to_owned()
        )),
        "the custom SQL's table"
    );

    // The DataHub-shaped case: no `/queries` and no warehouse path lookups either, so the
    // lineage graph resolves no table at all; the SQL still names them.
    let blind = run_on(
        OrgSource::Fixtures,
        ApiSurface::Current,
        absent(&[queries, "/v2/connections/paths/{inodeId}"], 404),
    )
    .await;
    let blind_dashboards = into_dashboards(&blind);
    assert!(
        blind_dashboards.contains(&(
            "snowflake_prod.ANALYTICS.SALES.ORDERS".to_owned(),
            "sigma_sandbox.a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01".to_owned()
        )),
        "{blind_dashboards:?}"
    );
    println!(
        "charts {charts}; per-element /query asked: {asked} (paths resolve), {} (paths do not)",
        blind.stats.requests(element_query)
    );
}

/// Test connection follows the same rule: an older deployment answering 400 on the newer
/// calls, and one without the data model API, are said to be older deployments (a warning,
/// not a failed test), with the status they answered.
#[tokio::test]
async fn test_connection_says_older_deployment_for_400_and_for_no_data_model_api() {
    use sigma_connector::test_connection::{
        TestConnectionStatus, TestInput, TestOptions, test_connection,
    };
    let options = TestOptions {
        total_timeout: std::time::Duration::from_secs(20),
        step_timeout: std::time::Duration::from_secs(5),
        ..TestOptions::default()
    };
    let cases = [
        (
            ApiSurface::Legacy2023,
            absent(&[], 400),
            "GetReports",
            "HTTP 400",
        ),
        (
            ApiSurface::Current,
            absent(&["/v2/dataModels"], 404),
            "GetDataModels",
            "no data model API (HTTP 404",
        ),
    ];
    for (api, knobs, step, says) in cases {
        let h = sandbox_with(SandboxConfig {
            api,
            knobs,
            ..SandboxConfig::default()
        })
        .await;
        let form = serde_json::json!({"type": "Sigma", "hostPort": h.base_url(),
            "clientId": h.client_id(), "clientSecret": h.client_secret()});
        let r = test_connection(TestInput::text(form.to_string()), &options).await;
        assert_eq!(r.status, TestConnectionStatus::Successful, "{r:#?}");
        let s = r.step(step).unwrap();
        let message = s.message.as_deref().unwrap_or_default();
        assert!(
            !s.passed && message.contains("older") && message.contains(says),
            "{step}: {message}"
        );
        if api == ApiSurface::Legacy2023 {
            let lineage = r.step("GetLineage").unwrap();
            let said = lineage.message.as_deref().unwrap_or_default();
            assert!(lineage.passed && said.contains("(HTTP 400 at"), "{said}");
        }
        h.shutdown().await;
    }
}
