//! Today's surface, checked against the metadata subset of Sigma's 2026 spec: reports, data
//! models, workbook-level calls, retired datasets, the older surface's 404s.

use super::*;
use crate::spec::response_validator;

const REPORT_EXEC: &str = "4e90a1b2-0001-4c3d-8e4f-5a6b7c8d9e01";
const REPORT_ARCHIVED: &str = "4e90a1b2-0002-4c3d-8e4f-5a6b7c8d9e02";
const DATA_MODEL_MARKETING: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b2";
const DATA_MODEL_TARGETS: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b3";

/// A committed spec copy, checked against `../shared/reference` where that is present.
fn committed_spec(committed: &str, shared: &str) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(committed);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Ok(reference) = std::fs::read_to_string(root.join(shared)) {
        assert!(
            reference == text,
            "{committed} differs from {shared}: copy it over"
        );
    }
    serde_json::from_str(&text).expect("spec is JSON")
}

#[tokio::test]
async fn todays_routes_conform_to_the_2026_spec() {
    let spec = committed_spec(
        "tests/data/sigma-api-2026-metadata-subset.json",
        "../shared/reference/sigma-api-2026/openapi-metadata-subset.json",
    );
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let wb = WB_REVENUE;
    let mkt = WB_MARKETING;
    let rp = REPORT_EXEC;
    let dm = DATA_MODEL_SALES;
    let routes: Vec<(&str, String)> = vec![
        ("/v2/workbooks", "/v2/workbooks?limit=2".into()),
        ("/v2/workbooks/{workbookId}", format!("/v2/workbooks/{wb}")),
        (
            "/v2/workbooks/{workbookId}/elements",
            format!("/v2/workbooks/{wb}/elements"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements",
            format!("/v2/workbooks/{mkt}/elements?limit=2"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/columns",
            format!("/v2/workbooks/{wb}/elements/{EL_JOIN_BAR}/columns"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/query",
            format!("/v2/workbooks/{mkt}/elements/elMktTbl004/query"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage",
            format!("/v2/workbooks/{wb}/lineage"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage",
            format!("/v2/workbooks/{mkt}/lineage"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{wb}/lineage/elements/{EL_CUSTOM_SQL_PIVOT}"),
        ),
        (
            "/v2/workbooks/{workbookId}/columns",
            format!("/v2/workbooks/{wb}/columns"),
        ),
        (
            "/v2/workbooks/{workbookId}/sources",
            format!("/v2/workbooks/{wb}/sources"),
        ),
        (
            "/v2/workbooks/{workbookId}/sources",
            format!("/v2/workbooks/{mkt}/sources"),
        ),
        (
            "/v2/workbooks/{workbookId}/pages",
            format!("/v2/workbooks/{wb}/pages"),
        ),
        (
            "/v2/workbooks/{workbookId}/pages/{pageId}/elements",
            format!("/v2/workbooks/{wb}/pages/{PAGE_OVERVIEW}/elements"),
        ),
        (
            "/v2/workbooks/{workbookId}/tags",
            format!("/v2/workbooks/{wb}/tags"),
        ),
        ("/v2/reports", "/v2/reports?isArchived=true".into()),
        ("/v2/reports", "/v2/reports?limit=1".into()),
        ("/v2/reports/{reportId}", format!("/v2/reports/{rp}")),
        (
            "/v2/reports/{reportId}",
            format!("/v2/reports/{REPORT_ARCHIVED}"),
        ),
        (
            "/v2/reports/{reportId}/pages",
            format!("/v2/reports/{rp}/pages"),
        ),
        (
            "/v2/reports/{reportId}/pages",
            format!("/v2/reports/{rp}/pages?pageSize=1"),
        ),
        (
            "/v2/reports/{reportId}/pages/{pageId}/elements",
            format!("/v2/reports/{rp}/pages/pgExecSum01/elements"),
        ),
        (
            "/v2/reports/{reportId}/elements",
            format!("/v2/reports/{rp}/elements"),
        ),
        (
            "/v2/reports/{reportId}/elements/{elementId}/columns",
            format!("/v2/reports/{rp}/elements/elExecKpi01/columns"),
        ),
        (
            "/v2/reports/{reportId}/elements/{elementId}/query",
            format!("/v2/reports/{rp}/elements/elExecPvt05/query"),
        ),
        (
            "/v2/reports/{reportId}/elements/{elementId}/query",
            format!("/v2/reports/{rp}/elements/elExecTbl04/query"),
        ),
        (
            "/v2/reports/{reportId}/lineage",
            format!("/v2/reports/{rp}/lineage"),
        ),
        (
            "/v2/reports/{reportId}/lineage/elements/{elementId}",
            format!("/v2/reports/{rp}/lineage/elements/elExecPvt05"),
        ),
        (
            "/v2/reports/{reportId}/queries",
            format!("/v2/reports/{rp}/queries"),
        ),
        (
            "/v2/reports/{reportId}/columns",
            format!("/v2/reports/{rp}/columns"),
        ),
        ("/v2/dataModels", "/v2/dataModels".into()),
        (
            "/v2/dataModels/{dataModelId}",
            format!("/v2/dataModels/{dm}"),
        ),
        (
            "/v2/dataModels/{dataModelId}/elements",
            format!("/v2/dataModels/{dm}/elements"),
        ),
        (
            "/v2/dataModels/{dataModelId}/columns",
            format!("/v2/dataModels/{dm}/columns"),
        ),
        (
            "/v2/dataModels/{dataModelId}/lineage",
            format!("/v2/dataModels/{dm}/lineage"),
        ),
        (
            "/v2/dataModels/{dataModelId}/lineage",
            format!("/v2/dataModels/{DATA_MODEL_TARGETS}/lineage"),
        ),
        (
            "/v2/dataModels/{dataModelId}/sources",
            format!("/v2/dataModels/{dm}/sources"),
        ),
        (
            "/v2/dataModels/{dataModelId}/sources",
            format!("/v2/dataModels/{DATA_MODEL_TARGETS}/sources"),
        ),
        (
            "/v2/dataModels/{dataModelId}/tags",
            format!("/v2/dataModels/{dm}/tags"),
        ),
        ("/v2/datasets", "/v2/datasets".into()),
        (
            "/v2/datasets/{datasetId}",
            format!("/v2/datasets/{DATASET_ORDERS}"),
        ),
        (
            "/v2/datasets/{datasetId}/sources",
            format!("/v2/datasets/{DATASET_ORDERS}/sources"),
        ),
        ("/v2/members", "/v2/members".into()),
        ("/v2/members", "/v2/members?limit=2".into()),
        (
            "/v2/members/{memberId}",
            format!("/v2/members/{MEMBER_ADA}"),
        ),
        ("/v2/teams", "/v2/teams".into()),
        ("/v2/files", "/v2/files?limit=1000".into()),
        ("/v2/connections", "/v2/connections".into()),
        (
            "/v2/connections/paths/{inodeId}",
            format!("/v2/connections/paths/{TABLE_ORDERS_INODE}"),
        ),
    ];
    // The validator bites on the new shapes too: a column whose `type` is a string.
    let columns = response_validator(&spec, "/v2/dataModels/{dataModelId}/columns");
    let (_, mut sample) = get_json(&h, &bearer, &format!("/v2/dataModels/{dm}/columns")).await;
    assert!(columns.is_valid(&sample));
    sample["entries"][0]["type"] = json!("text");
    assert!(!columns.is_valid(&sample));

    let mut failures = Vec::new();
    for (spec_route, url) in &routes {
        let validator = response_validator(&spec, spec_route);
        let (status, body) = get_json(&h, &bearer, url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        for error in validator.iter_errors(&body) {
            failures.push(format!("{url}: {} at {}", error, error.instance_path()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    h.shutdown().await;
}

#[tokio::test]
async fn the_older_surface_answers_404_on_todays_routes_and_keeps_dataset_sql() {
    let legacy = start(SandboxConfig {
        api: ApiSurface::Legacy2023,
        ..SandboxConfig::default()
    })
    .await;
    let today = fixture_sandbox().await;
    let query = format!("/v2/workbooks/{WB_MARKETING}/elements/elMktTbl004/query");
    let new_routes = [
        format!("/v2/workbooks/{WB_REVENUE}/elements"),
        format!("/v2/workbooks/{WB_REVENUE}/lineage"),
        "/v2/reports".to_owned(),
        format!("/v2/reports/{REPORT_EXEC}/pages"),
        format!("/v2/dataModels/{DATA_MODEL_SALES}/lineage"),
        format!("/v2/dataModels/{DATA_MODEL_SALES}/tags"),
    ];
    let bearer = token(&legacy).await;
    for path in &new_routes {
        let (status, body) = get_json(&legacy, &bearer, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_sigma_error(&body);
    }
    let stats = legacy.stats();
    assert_eq!(
        stats.answers("/v2/workbooks/{workbookId}/lineage", "404"),
        1
    );
    assert_eq!(stats.requests("GET /v2/reports"), 1);
    let (_, members) = get_json(&legacy, &bearer, "/v2/members").await;
    assert!(members.is_array());
    let (_, q) = get_json(&legacy, &bearer, &query).await;
    assert!(
        q["sql"].is_string(),
        "the older surface keeps a dataset element's SQL"
    );
    let (_, model_elements) = get_json(
        &legacy,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/elements"),
    )
    .await;
    assert_eq!(
        model_elements["entries"][0]["sourceTable"],
        TABLE_ORDERS_INODE
    );
    let (_, sources) = get_json(
        &legacy,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources"),
    )
    .await;
    assert!(
        sources["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["type"] != "custom-sql"),
        "2.0.0 had no custom-sql source"
    );
    let (_, columns) = get_json(
        &legacy,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/{EL_JOIN_BAR}/columns"),
    )
    .await;
    assert!(columns["entries"][0].get("type").is_none());

    let bearer = token(&today).await;
    for path in &new_routes {
        let (status, _) = get_json(&today, &bearer, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, q) = get_json(&today, &bearer, &query).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        q.get("sql").is_none(),
        "a dataset-backed element has no SQL today: {q}"
    );
    let (_, model_elements) = get_json(
        &today,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/elements"),
    )
    .await;
    assert!(model_elements["entries"][0].get("sourceTable").is_none());
    assert_eq!(model_elements["entries"][0]["columns"][0], "ID");
    // Members page only, and there are more than 50 of them.
    let (_, first) = get_json(&today, &bearer, "/v2/members").await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    let next = first["nextPage"].as_str().expect("a second page");
    let (_, second) = get_json(&today, &bearer, &format!("/v2/members?page={next}")).await;
    assert!(
        second["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["memberId"] == "MbR4dBulkMember055")
    );
    let (_, teams) = get_json(&today, &bearer, "/v2/teams").await;
    assert_eq!(teams["entries"].as_array().unwrap().len(), 2);
    legacy.shutdown().await;
    today.shutdown().await;
}

#[tokio::test]
async fn data_model_lineage_and_sources_follow_the_spec_spellings() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, lineage) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/lineage"),
    )
    .await;
    let entries = lineage["entries"].as_array().unwrap();
    let revenue = entries
        .iter()
        .find(|e| e["elementId"] == "dmElRevenu3")
        .unwrap();
    assert_eq!(revenue["type"], "element");
    assert_eq!(revenue["sourceIds"], json!(["dmElOrders1", "dmElCustmr2"]));
    assert_eq!(
        revenue["dataSourceIds"],
        json!(["inode-tblCustmrs8RtY3nL", "inode-tblOrders7QpX2mZk"]),
        "siblings followed to their tables"
    );
    let sql = entries.iter().find(|e| e["type"] == "customSQL").unwrap();
    let definition = sql["definition"].as_str().unwrap();
    assert!(definition.starts_with("with big as") && definition.contains(" join "));
    // Sources say custom-sql where lineage says customSQL; paged by token.
    let (_, first) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources?pageSize=2"),
    )
    .await;
    let token_value = first["nextPageToken"].as_str().expect("more sources");
    let (_, rest) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources?pageSize=2&pageToken={token_value}"),
    )
    .await;
    assert!(
        rest.get("nextPageToken").is_none(),
        "absent on the last page"
    );
    let all: Vec<&Value> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["entries"].as_array().unwrap())
        .collect();
    assert_eq!(all.len(), 3);
    assert!(
        all.iter()
            .any(|s| s["type"] == "custom-sql" && s["customSqlId"] == "dmElBigSql4")
    );
    let (status, _) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources?pageSize=501"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "pageSize is at most 500");
    // The chain: Targets reads Marketing, which reads Sales.
    let (_, targets) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_TARGETS}/sources"),
    )
    .await;
    assert!(targets["entries"].as_array().unwrap().contains(&json!(
        {"type": "data-model", "dataModelId": DATA_MODEL_MARKETING, "elementIds": ["dmElRegns5"]}
    )));
    assert!(targets["entries"].as_array().unwrap().contains(&json!(
        {"type": "dataset", "datasetId": DATASET_ORDERS}
    )));
    let (_, marketing) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_MARKETING}/sources"),
    )
    .await;
    assert!(marketing["entries"].as_array().unwrap().contains(&json!(
        {"type": "data-model", "dataModelId": DATA_MODEL_SALES, "elementIds": ["dmElRevenu3"]}
    )));
    let (_, columns) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_TARGETS}/columns"),
    )
    .await;
    assert_eq!(
        columns["entries"][1]["formula"],
        "[Sales Regions/Revenue] * 1.1"
    );
    assert!(columns["entries"][1]["type"].is_object());
    h.shutdown().await;
}

#[tokio::test]
async fn retired_datasets_carry_migration_state_and_fail_as_sigma_does() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, datasets) = get_json(&h, &bearer, "/v2/datasets").await;
    let states: std::collections::BTreeSet<&str> = datasets["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["migrationStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        ["migrated", "not-migrated", "not-required"]
    );
    let migrated = datasets["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["migrationStatus"] == "migrated")
        .unwrap();
    assert_eq!(
        migrated["migrationToDataModel"]["dataModelId"],
        DATA_MODEL_MARKETING
    );
    let (status, sources) = get_json(
        &h,
        &bearer,
        &format!("/v2/datasets/{DATASET_ORDERS}/sources"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sources,
        json!([{"type": "table", "inodeId": TABLE_ORDERS_INODE}])
    );
    let (status, body) = get_json(
        &h,
        &bearer,
        "/v2/datasets/d5e7a9b1-1111-4c2d-8e3f-0000000000a4/sources",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("inode_archived"))
    );
    let (status, _) = get_json(
        &h,
        &bearer,
        "/v2/datasets/d5e7a9b1-1111-4c2d-8e3f-0000000000a5/sources",
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    let (status, body) =
        get_json(&h, &bearer, "/v2/connections/paths/inode-tblOrd2019Arc0Zz9").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("inode_archived"))
    );
    let (status, _) = get_json(&h, &bearer, "/v2/connections/paths/inode-tblDeleted00Gone").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn reports_page_by_token_and_workbooks_answer_in_one_call() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, reports) = get_json(&h, &bearer, "/v2/reports").await;
    assert_eq!(
        reports["entries"].as_array().unwrap().len(),
        2,
        "archived hidden"
    );
    let (_, all) = get_json(&h, &bearer, "/v2/reports?isArchived=true").await;
    assert_eq!(all["total"], 3);
    let (_, pages) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1"),
    )
    .await;
    let next = pages["nextPageToken"].as_str().expect("a second page");
    let (_, last) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1&pageToken={next}"),
    )
    .await;
    assert_eq!(last["entries"][0]["pageId"], "pgExecDet02");
    assert!(last.get("nextPageToken").is_none());
    let (_, lineage) = get_json(&h, &bearer, &format!("/v2/reports/{REPORT_EXEC}/lineage")).await;
    let entries = lineage["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["type"] == "data-model" && e["dataModelId"] == DATA_MODEL_SALES)
    );
    assert!(entries.iter().any(
        |e| e["type"] == "customSQL" && e["definition"].as_str().unwrap().contains("SHIPMENTS")
    ));
    // Workbook-level: every element of every page, with its page.
    let (_, elements) =
        get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/elements")).await;
    let elements = elements["entries"].as_array().unwrap();
    assert_eq!(elements.len(), 9);
    assert!(elements.iter().all(|e| e["pageId"].is_string()));
    let (_, lineage) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/lineage")).await;
    let bar = lineage["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["elementId"] == EL_JOIN_BAR)
        .unwrap();
    assert_eq!(
        bar["sourceIds"],
        json!(["inode-tblCustmrs8RtY3nL", "inode-tblOrders7QpX2mZk"]),
        "a join is passed through to what it joins"
    );
    let (_, columns) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/columns")).await;
    assert!(columns["entries"].as_array().unwrap().iter().any(|c| {
        c["columnId"]
            .as_str()
            .unwrap()
            .starts_with("inode-tblOrders7QpX2mZk/")
    }));
    let (_, element_columns) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/elRevKpi001/columns"),
    )
    .await;
    assert!(element_columns["entries"][0]["label"].is_string());
    h.shutdown().await;
}

#[tokio::test]
async fn knobs_and_counts_cover_todays_routes() {
    let knobs = Knobs {
        forbidden: ["/v2/reports/{reportId}/lineage".to_owned()].into(),
        malformed_ids: [DATA_MODEL_MARKETING.to_owned()].into(),
        corrupt: [(
            REPORT_EXEC.to_owned(),
            sigma_connector::sandbox::Corruption::MissingField("name".into()),
        )]
        .into(),
        fail_listings_from_offset: Some(1),
        ..Knobs::default()
    };
    let h = start(SandboxConfig {
        knobs,
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    let (status, _) = get_json(&h, &bearer, &format!("/v2/reports/{REPORT_EXEC}/lineage")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = get(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_MARKETING}/lineage"),
    )
    .await;
    assert!(response.json::<Value>().await.is_err(), "malformed body");
    let (_, report) = get_json(&h, &bearer, &format!("/v2/reports/{REPORT_EXEC}")).await;
    assert!(report.get("name").is_none() && report["reportId"] == REPORT_EXEC);
    let (_, first) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1"),
    )
    .await;
    let next = first["nextPageToken"].as_str().unwrap();
    let (status, _) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1&pageToken={next}"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "broken token listing"
    );
    let stats = h.stats();
    assert_eq!(stats.answers("/v2/reports/{reportId}/lineage", "403"), 1);
    assert_eq!(stats.requests("/v2/reports/{reportId}/pages"), 2);
    assert_eq!(stats.answers("/v2/reports/{reportId}/pages", "500"), 1);
    assert_eq!(stats.requests_under("/v2/reports"), 4);
    h.update_knobs(|k| {
        k.hang.insert(format!("/v2/workbooks/{WB_REVENUE}/lineage"));
    });
    let slow = http_with_timeout(Duration::from_millis(300))
        .get(format!(
            "{}/v2/workbooks/{WB_REVENUE}/lineage",
            h.base_url()
        ))
        .bearer_auth(&bearer)
        .send()
        .await;
    assert!(slow.is_err(), "hangs on today's routes too");
    h.shutdown().await;
}

#[tokio::test]
async fn generated_orgs_have_reports_and_chained_data_models_with_lineage() {
    let config = SyntheticConfig {
        workbooks: 5,
        data_models: 4,
        reports: 3,
        datasets: 6,
        seed: 11,
        ..SyntheticConfig::default()
    };
    let a = sigma_connector::sandbox::generate::generate(&config);
    let b = sigma_connector::sandbox::generate::generate(&config);
    for (x, y) in [
        (
            serde_json::to_value(&a.reports).unwrap(),
            serde_json::to_value(&b.reports).unwrap(),
        ),
        (
            serde_json::to_value(&a.datasets).unwrap(),
            serde_json::to_value(&b.datasets).unwrap(),
        ),
        (
            serde_json::to_value(&*a.report_pages(&a.reports[2])).unwrap(),
            serde_json::to_value(&*b.report_pages(&b.reports[2])).unwrap(),
        ),
    ] {
        assert_eq!(x, y);
    }
    let h = start(SandboxConfig {
        org: OrgSource::Synthetic(config),
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    let models = h.org().data_models.clone();
    assert_eq!(models.len(), 4);
    // Each model after the first reads the one before it: a chain of four.
    for pair in models.windows(2) {
        let (_, sources) = get_json(
            &h,
            &bearer,
            &format!("/v2/dataModels/{}/sources", pair[1].data_model_id),
        )
        .await;
        let entries = sources["entries"].as_array().unwrap();
        assert!(entries.iter().any(
            |s| s["type"] == "data-model" && s["dataModelId"] == pair[0].data_model_id.as_str()
        ));
        assert!(
            entries.iter().any(|s| s["type"] == "custom-sql"
                && s["definition"].as_str().unwrap().contains(" join "))
        );
    }
    let (_, lineage) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{}/lineage", models[0].data_model_id),
    )
    .await;
    assert!(
        lineage["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "table")
    );
    let report = &h.org().reports[0].report_id.clone();
    let (status, pages) = get_json(&h, &bearer, &format!("/v2/reports/{report}/pages")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pages["entries"].as_array().unwrap().len(), 3);
    let (_, lineage) = get_json(&h, &bearer, &format!("/v2/reports/{report}/lineage")).await;
    assert!(
        lineage["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "table")
    );
    let (_, datasets) = get_json(&h, &bearer, "/v2/datasets").await;
    let migrated = &datasets["entries"][0];
    assert_eq!(migrated["migrationStatus"], "migrated");
    assert_eq!(
        migrated["migrationToDataModel"]["dataModelId"],
        models[0].data_model_id.as_str()
    );
    h.shutdown().await;
}
