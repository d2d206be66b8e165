//! Conformance of every served route to Sigma's OpenAPI response schemas (2.0.0).

use super::*;

/// The spec's `components/schemas` plus one response schema, as a JSON Schema document:
/// `oneOf` becomes `anyOf` because the spec's branches overlap.
pub(crate) fn response_validator(spec: &Value, path: &str) -> jsonschema::Validator {
    fn one_of_to_any_of(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(branches) = map.remove("oneOf") {
                    map.insert("anyOf".to_owned(), branches);
                }
                if let Some(Value::String(reference)) = map.get_mut("$ref")
                    && reference.starts_with("#components/")
                {
                    *reference = reference.replacen("#components/", "#/components/", 1);
                }
                map.values_mut().for_each(one_of_to_any_of);
            }
            Value::Array(items) => items.iter_mut().for_each(one_of_to_any_of),
            _ => {}
        }
    }
    let operation = spec["paths"][path]
        .get("get")
        .or_else(|| spec["paths"][path].get("post"))
        .unwrap_or_else(|| panic!("{path} in spec"));
    let mut schema = operation["responses"]["200"]["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{path} has a 200 JSON schema");
    let mut components = json!({"schemas": spec["components"]["schemas"].clone()});
    one_of_to_any_of(&mut schema);
    one_of_to_any_of(&mut components);
    let mut document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
    });
    if let (Value::Object(doc), Value::Object(s)) = (&mut document, schema) {
        doc.extend(s);
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&document)
        .unwrap_or_else(|e| panic!("{path}: schema builds: {e}"))
}

#[tokio::test]
async fn every_served_spec_route_conforms_to_the_spec() {
    // A copy of Sigma's published spec is committed, so the test runs on a clone without
    // the project's `../shared` beside it; where `../shared` is there, the copy must match.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec_path = root.join("tests/data/sigma-openapi-2.0.0.json");
    let text = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("{}: {e}", spec_path.display()));
    if let Ok(shared) =
        std::fs::read_to_string(root.join("../shared/reference/sigma-openapi-2.0.0.json"))
    {
        assert!(
            shared == text,
            "tests/data/sigma-openapi-2.0.0.json differs from ../shared/reference: copy it over"
        );
    }
    let spec: Value = serde_json::from_str(&text).expect("spec is JSON");
    // Spec 2.0.0 describes the older surface.
    let h = start(SandboxConfig {
        api: ApiSurface::Legacy2023,
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    let wb = WB_REVENUE;
    // (spec path, served URL). Several URLs per route where shapes differ.
    let routes: Vec<(&str, String)> = vec![
        ("/v2/workbooks", "/v2/workbooks?isArchived=true".into()),
        ("/v2/workbooks", "/v2/workbooks?limit=2".into()),
        ("/v2/workbooks/{workbookId}", format!("/v2/workbooks/{wb}")),
        (
            "/v2/workbooks/{workbookId}",
            format!("/v2/workbooks/{WB_ARCHIVED}"),
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
            "/v2/workbooks/{workbookId}/pages/{pageId}/elements",
            format!("/v2/workbooks/{wb}/pages/pgRevDetl02/elements"),
        ),
        (
            "/v2/workbooks/{workbookId}/queries",
            format!("/v2/workbooks/{wb}/queries"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/query",
            format!("/v2/workbooks/{wb}/elements/{EL_JOIN_BAR}/query"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{wb}/lineage/elements/{EL_JOIN_BAR}"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{wb}/lineage/elements/{EL_CUSTOM_SQL_PIVOT}"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{WB_MARKETING}/lineage/elements/elMktTbl004"),
        ),
        (
            "/v2/workbooks/{workbookId}/tags",
            format!("/v2/workbooks/{wb}/tags"),
        ),
        (
            "/v2/workbooks/{workbookId}/sources",
            format!("/v2/workbooks/{wb}/sources"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/columns",
            format!("/v2/workbooks/{wb}/elements/{EL_JOIN_BAR}/columns"),
        ),
        (
            "/v2/dataModels/{dataModelId}/sources",
            format!("/v2/dataModels/{DATA_MODEL_SALES}/sources"),
        ),
        (
            "/v2/datasets/{datasetId}/sources",
            format!("/v2/datasets/{DATASET_ORDERS}/sources"),
        ),
        ("/v2/teams", "/v2/teams".into()),
        (
            "/v2/datasets/{datasetId}",
            format!("/v2/datasets/{DATASET_ORDERS}"),
        ),
        ("/v2/dataModels", "/v2/dataModels".into()),
        (
            "/v2/dataModels/{dataModelId}",
            format!("/v2/dataModels/{DATA_MODEL_SALES}"),
        ),
        ("/v2/files", "/v2/files?limit=1000".into()),
        (
            "/v2/files/{inodeId}",
            format!("/v2/files/{WB_REVENUE_URL_ID}"),
        ),
        ("/v2/files/{inodeId}", "/v2/files/tblOrders7QpX2mZk".into()),
        (
            "/v2/connections",
            "/v2/connections?includeArchived=true".into(),
        ),
        (
            "/v2/connections/{connectionId}",
            format!("/v2/connections/{CONNECTION_SNOWFLAKE}"),
        ),
        (
            "/v2/connections/paths/{inodeId}",
            format!("/v2/connections/paths/{TABLE_ORDERS_INODE}"),
        ),
        (
            "/v2/members",
            "/v2/members?includeArchived=true&includeInactive=true".into(),
        ),
        ("/v2/members", "/v2/members?limit=2".into()),
        (
            "/v2/members/{memberId}",
            format!("/v2/members/{MEMBER_ADA}"),
        ),
        ("/v2.1/members", "/v2.1/members".into()),
        ("/v2/workspaces", "/v2/workspaces".into()),
        ("/v2/workspaces", "/v2/workspaces?limit=1".into()),
        (
            "/v2/workspaces/{workspaceId}",
            format!("/v2/workspaces/{WS_FINANCE}"),
        ),
        ("/v2.1/workspaces", "/v2.1/workspaces".into()),
    ];
    // The validator must bite: a workbook without its required fields or with a bad timestamp.
    let workbooks = response_validator(&spec, "/v2/workbooks");
    assert!(!workbooks.is_valid(&json!({"entries": [{"workbookId": "x"}], "nextPage": null})));
    let (_, mut sample) = get_json(&h, &bearer, "/v2/workbooks?limit=1").await;
    assert!(workbooks.is_valid(&sample));
    sample["entries"][0]["createdAt"] = json!("yesterday");
    assert!(!workbooks.is_valid(&sample));

    let mut failures = Vec::new();
    for (spec_route, url) in &routes {
        let validator = response_validator(&spec, spec_route);
        let (status, body) = get_json(&h, &bearer, url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        for error in validator.iter_errors(&body) {
            failures.push(format!("{url}: {} at {}", error, error.instance_path()));
        }
    }
    // The token route too (form POST).
    let validator = response_validator(&spec, "/v2/auth/token");
    let body: Value = token_response(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", h.client_id()),
            ("client_secret", h.client_secret()),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    failures.extend(validator.iter_errors(&body).map(|e| format!("token: {e}")));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    h.shutdown().await;
}
