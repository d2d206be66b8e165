//! The source's phases overlap their requests and keep their records' order: workbooks are
//! fetched while data models are still being read, and mapped (and yielded) only after.

mod support;

use std::time::Duration;

use futures::StreamExt;
use sigma_connector::client::SigmaClient;
use sigma_connector::config::load_workflow_str;
use sigma_connector::sandbox::{Knobs, OrgSource, SyntheticConfig};
use sigma_connector::sigma::source::{SigmaSource, SourceItem};
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
    let (options, _) = support::source::source_options(&wf);
    let source = SigmaSource::new(client, options);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let consumer = tokio::spawn(async move {
        let mut stream = source.items();
        while let Some(item) = stream.next().await {
            if let Ok(SourceItem::Item(item)) = item {
                let _ = tx.send(serde_json::to_value(&item).unwrap());
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
        yielded.iter().all(|r| r["kind"] != "document"),
        "no workbook before the data models are known"
    );
    consumer.abort();
    let _ = consumer.await;
    h.shutdown().await;
}

/// The phases share what one expansion holds while others wait (an endpoint probe, a
/// warehouse path being looked up). With one request in flight (so each phase's channel
/// holds four items and fills at once), a phase that waits to hand over records must not
/// freeze the expansion that another phase waits for: the run ends, with every record.
/// (A first version froze it: `cargo bench --bench ingest_scale` hung once in two runs.)
#[tokio::test(flavor = "multi_thread")]
async fn full_channels_never_freeze_what_another_phase_waits_for() {
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 150,
            tables: 8,
            ..SyntheticConfig::default()
        }),
        Knobs::default(),
    )
    .await;
    let text = format!(
        r#"{{"source": {{"type": "sigma", "serviceName": "s",
            "serviceConnection": {{"config": {{"type": "Sigma", "hostPort": "{}", "clientId": "{}", "clientSecret": "{}", "maxConcurrency": 1}}}},
            "sourceConfig": {{"config": {{"lineageInformation": {{"dbServicePrefixes": ["warehouse"]}}}}}}}},
           "sink": {{"type": "console", "config": {{}}}}}}"#,
        h.base_url(),
        h.client_id(),
        h.client_secret()
    );
    let wf = load_workflow_str(&text).unwrap();
    // Only a guard against a hang (a deadlock never ends); not a speed bound.
    let run = tokio::time::timeout(Duration::from_secs(300), support::source::run_source(&wf))
        .await
        .expect("the run ends");
    assert!(
        run.errors.is_empty(),
        "{:?}",
        &run.errors[..run.errors.len().min(3)]
    );
    assert!(run.status.is_complete());
    let dashboards = run
        .records
        .iter()
        .filter(|r| r["kind"] == "dashboard")
        .count();
    assert_eq!(dashboards, 150 + 10, "every workbook and report");
    h.shutdown().await;
}
