//! Routes on the fixture org: workbooks, pages, elements, queries, lineage, details, files.

use super::*;

#[tokio::test]
async fn workbooks_hide_archived_unless_asked() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let ids = |body: &Value| -> Vec<String> {
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["workbookId"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, live) = get_json(&h, &bearer, "/v2/workbooks").await;
    assert!(!ids(&live).contains(&WB_ARCHIVED.to_owned()));
    assert!(ids(&live).contains(&WB_REVENUE.to_owned()));
    let (_, all) = get_json(&h, &bearer, "/v2/workbooks?isArchived=true").await;
    assert!(ids(&all).contains(&WB_ARCHIVED.to_owned()));
    let (status, archived) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_ARCHIVED}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(archived["isArchived"], true);
    let (status, _) = get_json(&h, &bearer, "/v2/workbooks?isArchived=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.shutdown().await;
}

#[tokio::test]
async fn workbook_details_pages_elements_and_queries() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (status, wb) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wb["workbookUrlId"], WB_REVENUE_URL_ID);
    assert!(wb["latestVersion"].is_number());
    let created = wb["createdAt"].as_str().unwrap();
    assert!(created.parse::<jiff::Timestamp>().is_ok() && created.contains('.'));
    assert!(wb.get("pages").is_none() && wb.get("folderId").is_none());

    let (_, pages) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/pages")).await;
    assert_eq!(pages["entries"].as_array().unwrap().len(), 3);
    assert!(pages["entries"][0].get("elements").is_none());
    let (_, elements) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/pages/{PAGE_OVERVIEW}/elements?limit=2"),
    )
    .await;
    assert_eq!(elements["entries"].as_array().unwrap().len(), 2);
    assert_eq!(elements["entries"][1]["vizualizationType"], "bar");
    assert!(elements["entries"][1].get("sql").is_none());

    let (_, queries) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/queries")).await;
    let sql: Vec<&str> = queries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["sql"].as_str().unwrap())
        .collect();
    assert!(sql.iter().any(|s| s.contains("RAW.STRIPE.PAYMENTS")));
    assert!(sql.iter().any(|s| s.contains("ANALYTICS.SALES.CUSTOMERS")));

    let (status, query) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/{EL_JOIN_BAR}/query"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(query["elementId"], EL_JOIN_BAR);
    let (status, _) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/{EL_INPUT_TABLE}/query"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, tags) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/tags")).await;
    assert_eq!(tags["entries"][0]["name"], "Production");

    // By urlId too.
    let (status, _) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE_URL_ID}")).await;
    assert_eq!(status, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn lineage_has_joins_custom_sql_and_tables_and_400_for_ui_elements() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let lineage = |element: &str| format!("/v2/workbooks/{WB_REVENUE}/lineage/elements/{element}");
    let (status, bar) = get_json(&h, &bearer, &lineage(EL_JOIN_BAR)).await;
    assert_eq!(status, StatusCode::OK);
    let types: Vec<&str> = bar["dependencies"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"join") && types.contains(&"table") && types.contains(&"sheet"));
    assert_eq!(bar["edges"].as_array().unwrap().len(), 3);

    let (_, pivot) = get_json(&h, &bearer, &lineage(EL_CUSTOM_SQL_PIVOT)).await;
    assert!(
        pivot["dependencies"]
            .as_object()
            .unwrap()
            .values()
            .any(|n| n["type"] == "customSQL")
    );
    for ui in [EL_TEXT, EL_CONTROL] {
        let (status, body) = get_json(&h, &bearer, &lineage(ui)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ui}");
        assert_sigma_error(&body);
    }
    let (status, _) = get_json(&h, &bearer, &lineage("nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A lineage table node resolves to a connection and [db, schema, table].
    let (status, path) = get_json(
        &h,
        &bearer,
        &format!("/v2/connections/paths/{TABLE_ORDERS_INODE}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        path,
        json!({"connectionId": CONNECTION_SNOWFLAKE, "path": ["ANALYTICS", "SALES", "ORDERS"]})
    );
    let (status, file) = get_json(&h, &bearer, "/v2/files/tblOrders7QpX2mZk").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(file["type"], "table");
    h.shutdown().await;
}

#[tokio::test]
async fn other_details_and_not_found() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    for (path, field, id) in [
        (format!("/v2/members/{MEMBER_ADA}"), "memberId", MEMBER_ADA),
        (
            format!("/v2/workspaces/{WS_FINANCE}"),
            "workspaceId",
            WS_FINANCE,
        ),
        (
            format!("/v2/datasets/{DATASET_ORDERS}"),
            "datasetId",
            DATASET_ORDERS,
        ),
        (
            format!("/v2/dataModels/{DATA_MODEL_SALES}"),
            "dataModelId",
            DATA_MODEL_SALES,
        ),
        (format!("/v2/files/{WB_REVENUE_URL_ID}"), "id", WB_REVENUE),
        (
            format!("/v2/connections/{CONNECTION_SNOWFLAKE}"),
            "connectionId",
            CONNECTION_SNOWFLAKE,
        ),
    ] {
        let (status, body) = get_json(&h, &bearer, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body[field], id, "{path}");
    }
    for path in [
        "/v2/workbooks/unknown",
        "/v2/members/unknown",
        "/v2/datasets/unknown",
        "/v2/dataModels/unknown",
        "/v2/files/unknown",
        "/v2/connections/paths/inode-unknown",
        "/v2/workspaces/unknown",
        "/v2/workbooks/unknown/pages",
        "/v2/not-a-route",
    ] {
        let response = get(&h, &bearer, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.headers().contains_key("x-request-id"));
        assert_sigma_error(&response.json().await.unwrap());
    }
    let (_, elements) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/elements"),
    )
    .await;
    assert_eq!(elements["entries"].as_array().unwrap().len(), 4);
    let (_, columns) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/columns?limit=5"),
    )
    .await;
    assert_eq!(columns["total"], 12);
    assert!(columns["entries"][0]["elementId"].is_string());
    h.shutdown().await;
}

#[tokio::test]
async fn files_filter_by_type() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, workbooks) = get_json(&h, &bearer, "/v2/files?typeFilters=workbook&limit=100").await;
    let entries = workbooks["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert!(entries.iter().all(|e| e["type"] == "workbook"));
    let (_, two) = get_json(
        &h,
        &bearer,
        "/v2/files?typeFilters=folder&typeFilters=workspace&limit=100",
    )
    .await;
    assert_eq!(two["total"], 7);
    let (status, _) = get_json(&h, &bearer, "/v2/files?typeFilters=spreadsheet").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, all) = get_json(&h, &bearer, "/v2/files?limit=3").await;
    assert_eq!(all["entries"].as_array().unwrap().len(), 3);
    h.shutdown().await;
}
