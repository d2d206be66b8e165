//! Corrupted objects (missing fields, wrong types, huge strings, odd Unicode, invalid JSON
//! escapes) served by the sandbox: each bad object is reported with its id and the field,
//! every other object is emitted unchanged, nothing panics, and what is emitted from odd but
//! valid text is still a valid OpenMetadata request.

use std::collections::BTreeSet;

use serde_json::Value;
use sigma_connector::config::Workflow;
use sigma_connector::records::{ENTITY_NAME_MAX, om_len};
use sigma_connector::sandbox::{Corruption, Knobs, ODD_UNICODE, OrgSource};
use sigma_connector::sigma::source::{SourceError, SourceStatus};

mod support;
use support::source::{run_source, sandbox, workflow};

const REVENUE: &str = "a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01";
const MARKETING: &str = "a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02";
const REVENUE_BAR: &str = "elRevBar002";
const SALES_MODEL: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b1";
const ADA: &str = "MbR4dAdaLovelace01";
const LINEAGE: &str =
    r#""includeOwners": true, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}"#;

struct Run {
    records: Vec<Value>,
    errors: Vec<SourceError>,
    status: SourceStatus,
}

impl Run {
    fn dashboards(&self) -> BTreeSet<String> {
        self.records
            .iter()
            .filter(|r| r["kind"] == "dashboard")
            .map(|r| r["entity"]["name"].as_str().unwrap().to_owned())
            .collect()
    }
    /// Every record that mentions `needle` anywhere.
    fn mentioning(&self, needle: &str) -> Vec<&Value> {
        self.records
            .iter()
            .filter(|r| r.to_string().contains(needle))
            .collect()
    }
    fn reports(&self) -> String {
        let mut all: Vec<String> = self.errors.iter().map(ToString::to_string).collect();
        all.extend(self.status.failure_examples.iter().cloned());
        all.extend(self.status.warning_examples.iter().cloned());
        all.join("\n")
    }
}

async fn run_with(corrupt: Vec<(&str, Corruption)>) -> Run {
    let knobs = Knobs {
        corrupt: corrupt
            .into_iter()
            .map(|(id, how)| (id.to_owned(), how))
            .collect(),
        ..Knobs::default()
    };
    let h = sandbox(OrgSource::Fixtures, knobs).await;
    let run = run(&workflow(&h, "", LINEAGE)).await;
    h.shutdown().await;
    run
}

async fn run(wf: &Workflow) -> Run {
    let run = run_source(wf).await;
    let records = run.records;
    Run {
        records,
        errors: run.errors,
        status: run.status,
    }
}

/// The one malformed-object error of a run, as (id, field).
fn the_malformed(r: &Run) -> (String, String) {
    let malformed: Vec<_> = r
        .errors
        .iter()
        .filter_map(|e| match e {
            SourceError::Malformed(d) => Some((d.id.clone(), d.field.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(malformed.len(), 1, "{:?}", r.errors);
    malformed.into_iter().next().unwrap()
}

/// What the corrupted run emitted is exactly the clean run minus the records that mention
/// `bad` (the corrupted object and what hangs from it).
fn only_the_bad_object_is_missing(clean: &Run, broken: &Run, bad: &str) {
    let kept: Vec<&Value> = clean
        .records
        .iter()
        .filter(|r| !r.to_string().contains(bad))
        .collect();
    let emitted: Vec<&Value> = broken
        .records
        .iter()
        .filter(|r| !r.to_string().contains(bad))
        .collect();
    assert_eq!(emitted, kept, "every other object is emitted unchanged");
    assert!(broken.status.is_complete(), "{:?}", broken.status);
}

async fn clean() -> Run {
    let r = run_with(vec![]).await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r
}

#[tokio::test]
async fn a_missing_required_field_names_the_object_and_the_field() {
    let clean = clean().await;
    let r = run_with(vec![(MARKETING, Corruption::MissingField("name".into()))]).await;
    assert_eq!(the_malformed(&r), (MARKETING.to_owned(), "name".to_owned()));
    assert!(
        r.reports()
            .contains(&format!("workbook {MARKETING}: field `name`"))
    );
    assert!(r.mentioning(MARKETING).is_empty());
    assert_eq!(r.dashboards().len(), clean.dashboards().len() - 1);
    only_the_bad_object_is_missing(&clean, &r, MARKETING);
}

#[tokio::test]
async fn a_wrong_type_names_the_object_and_the_field() {
    let clean = clean().await;
    // A number where a string belongs, in a workbook; a string where a number belongs, in a
    // data model; both in one run.
    let r = run_with(vec![
        (MARKETING, Corruption::WrongType("name".into())),
        (SALES_MODEL, Corruption::WrongType("latestVersion".into())),
    ])
    .await;
    let reports = r.reports();
    assert!(
        reports.contains(&format!("workbook {MARKETING}: field `name`: invalid type")),
        "{reports}"
    );
    assert!(
        reports.contains(&format!(
            "data model {SALES_MODEL}: field `latestVersion`: invalid type"
        )),
        "{reports}"
    );
    assert_eq!(r.dashboards().len(), clean.dashboards().len() - 1);
    assert!(r.dashboards().contains(REVENUE));
}

#[tokio::test]
async fn a_bad_element_fails_alone_and_its_workbook_still_flows() {
    let clean = clean().await;
    let r = run_with(vec![(REVENUE_BAR, Corruption::WrongType("name".into()))]).await;
    // A bad element is counted in the status, not yielded as its own error; it is served
    // twice (the workbook's element listing and its queries), so it fails twice.
    assert_eq!(r.status.failures, 2, "{:?}", r.status);
    assert!(
        r.reports().contains(&format!(
            "element {REVENUE_BAR}: field `name`: invalid type"
        )),
        "{}",
        r.reports()
    );
    assert!(r.mentioning(REVENUE_BAR).is_empty());
    assert!(r.dashboards().contains(REVENUE));
    assert_eq!(r.dashboards(), clean.dashboards());
    assert!(r.status.is_complete());
}

#[tokio::test]
async fn a_bad_member_is_a_warning_and_the_run_goes_on() {
    let clean = clean().await;
    let r = run_with(vec![(ADA, Corruption::MissingField("email".into()))]).await;
    assert!(
        r.status
            .warning_examples
            .iter()
            .any(|w| w.contains(ADA) && w.contains("`email`")),
        "{:?}",
        r.status.warning_examples
    );
    assert_eq!(r.dashboards(), clean.dashboards());
}

#[tokio::test]
async fn a_lone_surrogate_escape_fails_only_its_object() {
    let clean = clean().await;
    let r = run_with(vec![(MARKETING, Corruption::LoneSurrogate("name".into()))]).await;
    let (id, field) = the_malformed(&r);
    assert_eq!((id.as_str(), field.as_str()), (MARKETING, "name"));
    assert!(r.reports().contains("hex escape"), "{}", r.reports());
    only_the_bad_object_is_missing(&clean, &r, MARKETING);

    // In an element listing, only that element is lost.
    let r = run_with(vec![(
        REVENUE_BAR,
        Corruption::LoneSurrogate("name".into()),
    )])
    .await;
    assert!(
        r.reports()
            .contains(&format!("element {REVENUE_BAR}: field `name`")),
        "{}",
        r.reports()
    );
    assert_eq!(r.dashboards(), clean.dashboards());
}

#[tokio::test]
async fn a_huge_name_is_emitted_with_a_valid_entity_name() {
    let clean = clean().await;
    let huge = 1 << 20;
    let r = run_with(vec![
        (REVENUE, Corruption::HugeString("name".into(), huge)),
        (REVENUE_BAR, Corruption::HugeString("name".into(), huge)),
        (
            SALES_MODEL,
            Corruption::HugeString("description".into(), huge),
        ),
    ])
    .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.dashboards(), clean.dashboards());
    assert_eq!(r.records.len(), clean.records.len());
    let dashboard = r
        .records
        .iter()
        .find(|d| d["kind"] == "dashboard" && d["entity"]["name"] == REVENUE)
        .unwrap();
    let display = dashboard["entity"]["displayName"].as_str().unwrap();
    assert_eq!(display.len(), huge, "display names are kept whole");
    all_names_are_valid(&r);
}

#[tokio::test]
async fn odd_unicode_is_emitted_faithfully_and_names_stay_valid() {
    let clean = clean().await;
    let r = run_with(vec![
        (REVENUE, Corruption::OddUnicode("name".into())),
        (REVENUE_BAR, Corruption::OddUnicode("name".into())),
        (SALES_MODEL, Corruption::OddUnicode("name".into())),
        (ADA, Corruption::OddUnicode("firstName".into())),
    ])
    .await;
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.records.len(), clean.records.len());
    let dashboard = r
        .records
        .iter()
        .find(|d| d["kind"] == "dashboard" && d["entity"]["name"] == REVENUE)
        .unwrap();
    let display = dashboard["entity"]["displayName"].as_str().unwrap();
    let faithful: String = ODD_UNICODE.chars().filter(|&c| c != '\0').collect();
    assert!(
        display.ends_with(&faithful),
        "every mark survives except NUL: {display:?}"
    );
    assert!(!display.contains('\0'), "NUL is dropped from free text");
    all_names_are_valid(&r);
}

/// Every entity name is a valid OpenMetadata `entityName` and every FQN is free of control
/// characters, whatever text the names came from.
fn all_names_are_valid(r: &Run) {
    for record in &r.records {
        let entity = &record["entity"];
        if let Some(name) = entity["name"].as_str() {
            assert!(
                (1..=ENTITY_NAME_MAX).contains(&om_len(name)),
                "name length {}",
                om_len(name)
            );
            assert!(!name.contains("::"), "{name:?}");
            assert!(!name.chars().any(char::is_control), "{name:?}");
        }
        let text = record.to_string();
        assert!(
            !text.contains("\\u0000"),
            "no NUL anywhere: {}",
            &text[..200.min(text.len())]
        );
        for column in entity["columns"].as_array().into_iter().flatten() {
            let name = column["name"].as_str().unwrap_or_default();
            assert!(!name.chars().any(char::is_control), "{name:?}");
        }
    }
}
