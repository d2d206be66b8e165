//! What the source yields: catalog items in Sigma's terms, pinned on the fixture org
//! (`tests/data/fixture-org.catalog.jsonl`, `UPDATE_GOLDEN=1` to accept a change), with
//! no platform's names in them.

mod support;

use serde_json::Value;
use sigma_connector::sandbox::{Knobs, OrgSource};
use support::source::{run_source, sandbox, workflow};

#[tokio::test]
async fn the_fixture_org_is_yielded_as_sigma_shaped_items() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let wf = workflow(
        &h,
        "",
        r#""includeOwners": true, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}"#,
    );
    let run = run_source(&wf).await;
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let mut items = run.items.clone();
    // The org's host is the sandbox's address, which changes from run to run.
    assert_eq!(items[0]["kind"], "org");
    assert_eq!(items[0]["item"]["host"], h.base_url().trim_end_matches('/'));
    items[0]["item"]["host"] = Value::from("<sandbox>");
    let text: String = items.iter().map(|v| format!("{v}\n")).collect();

    // No OpenMetadata name anywhere: not the service, not a minted `<id>_<element>` name.
    assert!(
        !text.contains("sigma_sandbox"),
        "an OpenMetadata name in the catalog"
    );
    assert!(
        !text.contains("snowflake_prod"),
        "an OpenMetadata service in the catalog"
    );
    // Warehouse ends carry the connection and its type.
    let connection_types: Vec<&str> = items[0]["item"]["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert!(!connection_types.is_empty());
    assert!(text.contains(r#""connectionType":"snowflake""#), "{text}");
    // Each document element carries its own upstreams and columns.
    let documents: Vec<&Value> = items.iter().filter(|i| i["kind"] == "document").collect();
    assert!(!documents.is_empty());
    assert!(documents.iter().any(|d| {
        d["item"]["elements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["upstreams"].is_array() && e["columnLineage"].is_array())
    }));
    // Data model elements read custom SQL, siblings and tables, with pairs and formulas.
    for kind in ["customSql", "element", "table"] {
        assert!(
            text.contains(&format!(r#""kind":"{kind}""#)),
            "no {kind} upstream"
        );
    }
    assert!(text.contains(r#""function":"[ORDERS/AMOUNT]""#));

    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fixture-org.catalog.jsonl");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    assert!(
        text == expected,
        "the catalog differs from {} (UPDATE_GOLDEN=1 to accept)",
        golden.display()
    );
    h.shutdown().await;
}
