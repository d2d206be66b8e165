//! The source's phases overlap their requests and keep their records' order: workbooks are
//! fetched while data models are still being read, and mapped (and yielded) only after.

mod support;

use std::time::Duration;

use futures::StreamExt;
use sigma_connector::client::SigmaClient;
use sigma_connector::config::load_workflow_str;
use sigma_connector::sandbox::{Knobs, OrgSource, SyntheticConfig};
use sigma_connector::sigma::source::{SigmaSource, SourceItem, SourceOptions};
use support::source::sandbox;

/// With the data model listing never answering, workbooks are fetched anyway (their pages,
/// queries and elements), but no workbook record is yielded: mapping waits for the data
/// models. Dropping the stream stops every phase.
#[tokio::test(flavor = "multi_thread")]
async fn workbooks_are_fetched_while_data_models_are_read_and_yielded_after() {
    let knobs = Knobs {
        hang: ["/v2/dataModels".to_owned()].into_iter().collect(),
        ..Knobs::default()
    };
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 20,
            ..SyntheticConfig::default()
        }),
        knobs,
    )
    .await;
    let text = format!(
        r#"{{"source": {{"type": "sigma", "serviceName": "s",
            "serviceConnection": {{"config": {{"type": "Sigma", "hostPort": "{}", "clientId": "{}", "clientSecret": "{}"}}}},
            "sourceConfig": {{"config": {{"lineageInformation": {{"dbServicePrefixes": ["warehouse"]}}}}}}}},
           "sink": {{"type": "console", "config": {{}}}}}}"#,
        h.base_url(),
        h.client_id(),
        h.client_secret()
    );
    let wf = load_workflow_str(&text).unwrap();
    let client = SigmaClient::new(&wf.source.service_connection.config).unwrap();
    let source = SigmaSource::new(client, SourceOptions::from_workflow(&wf).unwrap());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let consumer = tokio::spawn(async move {
        let mut stream = source.records();
        while let Some(item) = stream.next().await {
            if let Ok(SourceItem::Record { record, .. }) = item {
                let _ = tx.send(serde_json::to_value(&record).unwrap());
            }
        }
    });
    // Events, not time: wait (polling) until workbooks' pages were asked. The bound only
    // keeps a broken build from hanging the suite.
    let pages = "/v2/workbooks/{workbookId}/pages";
    let mut waited = Duration::ZERO;
    while h.stats().requests(pages) < 16 {
        assert!(
            waited < Duration::from_secs(60),
            "no workbook fetched while the data models are read: {:?}",
            h.stats().requests_by_route
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    assert_eq!(h.stats().requests("/v2/dataModels"), 1);
    let mut yielded = Vec::new();
    while let Ok(record) = rx.try_recv() {
        yielded.push(record);
    }
    assert!(
        yielded
            .iter()
            .all(|r| !matches!(r["kind"].as_str(), Some("chart" | "dashboard"))),
        "no workbook record before the data models are known"
    );
    consumer.abort();
    let _ = consumer.await;
    h.shutdown().await;
}
