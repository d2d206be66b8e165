//! What a person at OpenMetadata's form reads: one sentence per step (`message`) saying what
//! happened and what to change, and the detail behind it (`errorLog`). Every text of the test
//! is here, so the wording can be reviewed (and translated) in one file.

use std::fmt::Write as _;
use std::time::Duration;

use crate::client::{AuthFailure, ClientError, ErrorKind, FailureCause};
use crate::config::{ConfigError, SigmaConnection, SigmaEndpoints};

use super::result::Step;
use super::result::StepOutcome;

pub(super) fn config_valid(endpoints: &SigmaEndpoints) -> String {
    format!(
        "The configuration is valid (API {}).",
        endpoints.api_base.as_str().trim_end_matches('/')
    )
}

pub(super) fn config_failure(e: &ConfigError) -> StepOutcome {
    match e {
        ConfigError::Invalid { violations } => {
            // The loader's own hostPort messages may already name an example URL.
            let hint = if violations.iter().any(|v| {
                v.pointer.ends_with("/hostPort") && !v.message.contains("sigmacomputing.com")
            }) {
                " hostPort must be your Sigma cloud's API URL, for example https://aws-api.sigmacomputing.com (Administration → Developer Access shows it)."
            } else {
                ""
            };
            let first = violations
                .first()
                .map(|v| v.to_string())
                .unwrap_or_default();
            StepOutcome::fail(
                format!(
                    "The configuration is invalid ({} problem{}; first: {first}).{hint}",
                    violations.len(),
                    if violations.len() == 1 { "" } else { "s" },
                ),
                violations
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        }
        other => StepOutcome::fail(
            "The configuration could not be read; see errorLog.",
            other.to_string(),
        ),
    }
}

pub(super) fn connection_unusable(e: &impl std::fmt::Display) -> StepOutcome {
    StepOutcome::fail(
        format!("The connection cannot be used: {e}."),
        e.to_string(),
    )
}

pub(super) fn token_obtained(endpoints: &SigmaEndpoints, elapsed: Duration) -> String {
    format!(
        "Obtained an access token from {} in {} ms.",
        origin(&endpoints.token_url),
        elapsed.as_millis()
    )
}

/// Why the token request failed, in words: `client::FailureCause`, which `ingest` says too
/// when a run cannot start, so both name the same cause the same way.
pub(super) fn token_failure(conn: &SigmaConnection, e: &ClientError) -> String {
    match e.kind() {
        ErrorKind::Auth(_)
        | ErrorKind::Connect
        | ErrorKind::Tls
        | ErrorKind::Timeout
        | ErrorKind::TooLarge { .. } => FailureCause::of(conn, e).to_string(),
        _ => api_failure(Step::GetToken, e),
    }
}

/// What the objects of a step are called in a message.
fn objects(step: Step) -> &'static str {
    match step {
        Step::CheckConfig | Step::GetToken => "the API",
        Step::GetWorkbooks => "workbooks",
        Step::GetReports => "reports",
        Step::GetDatasets => "datasets",
        Step::GetDataModels => "data models",
        Step::GetMembers => "members",
        Step::GetLineage => "lineage",
    }
}

/// What a 403 on a step means for the credentials' owner.
fn permission_hint(step: Step) -> &'static str {
    match step {
        Step::GetMembers => {
            "listing members needs the Admin account type; without it owners are not ingested"
        }
        Step::GetLineage => {
            "reading lineage needs access to the workbook's data sources (an account type that can explore, such as Creator or Admin); without it lineage is not ingested"
        }
        Step::GetDatasets | Step::GetDataModels | Step::GetReports => {
            "give the owner an account type that can see them (Admin sees all), or they will not be ingested"
        }
        _ => "give the owner an account type that can see workbooks (Admin sees all of them)",
    }
}

/// The one-sentence message for a failed API request of `step`.
pub(super) fn api_failure(step: Step, e: &ClientError) -> String {
    let objects = objects(step);
    let status = e.status().map_or(0, |s| s.as_u16());
    if e.is_forbidden() {
        return format!(
            "These credentials may not read {objects} (HTTP 403): API credentials act with their owner's account type; {}.",
            permission_hint(step)
        );
    }
    if e.is_rate_limited() {
        return format!(
            "Sigma is rate-limiting these credentials (HTTP 429 after {} attempt{}); wait a minute and test again, and consider lowering maxConcurrency or setting requestsPerSecond.",
            e.attempts(),
            if e.attempts() == 1 { "" } else { "s" }
        );
    }
    match e.kind() {
        ErrorKind::Auth(AuthFailure::TokenRejected) => "Sigma issued a token but rejects it (HTTP 401); the credentials may have been revoked, or their owner lacks API access.".to_owned(),
        ErrorKind::Auth(_) => format!("Authentication failed while reading {objects}: {e}."),
        ErrorKind::Status if status == 401 => format!("Sigma answered HTTP 401 to {objects}; the credentials may have been revoked."),
        ErrorKind::Status if status == 404 => format!(
            "Sigma answered HTTP 404 for {objects}; check hostPort and apiVersion (`v2`)."
        ),
        ErrorKind::Status if status >= 500 => format!(
            "Sigma failed to list {objects} (HTTP {status}); it may be unavailable, try again later."
        ),
        ErrorKind::Status => format!("Sigma refused to list {objects} (HTTP {status}); see errorLog."),
        ErrorKind::Connect => format!("The connection to Sigma failed while reading {objects}; check that this machine can reach hostPort."),
        ErrorKind::Tls => format!("TLS failed while reading {objects}; check that no proxy intercepts TLS."),
        ErrorKind::Timeout => format!("Reading {objects} timed out: Sigma did not answer in time; try again, or raise the step timeout."),
        ErrorKind::Transport => format!("The connection broke while reading {objects}; try again."),
        ErrorKind::Decode { .. } => format!("Sigma's answer for {objects} did not have the expected shape; see errorLog."),
        ErrorKind::TooLarge { .. } => format!("Sigma's answer for {objects} was too large: {e}."),
        _ => format!("Reading {objects} failed: {e}."),
    }
}

/// A 404 from the API while `hostPort` carries a path: the token came from a separate
/// `tokenUrl`, so only the API calls meet the path, and the path is what to change.
pub(super) fn unused_host_path(endpoints: &SigmaEndpoints, e: &ClientError) -> Option<StepOutcome> {
    let path = endpoints.host_path()?;
    Some(StepOutcome::fail(
        format!(
            "{} answered HTTP 404 at {}: hostPort has the path `{path}`, which Sigma's API does not use; set hostPort to {} (without `{path}`).",
            endpoints.host_origin(),
            e.path(),
            endpoints.host_origin()
        ),
        detail(e),
    ))
}

/// A failed request as a step outcome: the sentence and the detail.
pub(super) fn request_failed(step: Step, e: &ClientError) -> StepOutcome {
    StepOutcome::fail(api_failure(step, e), detail(e))
}

/// The detail of a failed request for `errorLog`: every field on its own line.
pub(super) fn detail(e: &ClientError) -> String {
    let mut out = String::new();
    let _ = write!(out, "request: {} {}", e.method(), e.path());
    if let Some(s) = e.status() {
        let _ = write!(out, "\nstatus: {s}");
    }
    if let Some(c) = e.sigma_code() {
        let _ = write!(out, "\ncode: {c}");
    }
    if let Some(m) = e.sigma_message() {
        let _ = write!(out, "\nmessage: {m}");
    }
    if let Some(id) = e.request_id() {
        let _ = write!(out, "\nrequestId: {id}");
    }
    let _ = write!(
        out,
        "\nattempts: {}\nelapsed: {} ms\nerror: {e}",
        e.attempts(),
        e.elapsed().as_millis()
    );
    out
}

/// "Listed workbooks: 5 visible to these credentials."
pub(super) fn listed(step: Step, total: Option<u64>, empty: bool) -> String {
    let objects = objects(step);
    match total {
        Some(total) => format!("Listed {objects}: {total} visible to these credentials."),
        None if empty => format!("Listed {objects}: none visible to these credentials."),
        None => format!("Listed {objects}."),
    }
}

/// The first listed object of a step did not decode: the listing works, the object does not.
pub(super) fn first_entry_malformed(step: Step, e: &crate::sigma::api::DecodeError) -> StepOutcome {
    StepOutcome::fail(
        format!(
            "Sigma listed {} but the first one did not have the expected shape ({e}); it will be skipped when ingesting.",
            objects(step)
        ),
        e.to_string(),
    )
}

/// A route today's Sigma has answered 404: the deployment predates it. Not a failure of the
/// credentials or the URL (the earlier steps proved those), so the sentence says so.
pub(super) fn older_deployment(what: &str, consequence: &str, e: &ClientError) -> StepOutcome {
    StepOutcome::fail(
        format!(
            "This Sigma deployment has no {what} (HTTP {} at {}): its API is older than Sigma's current one; {consequence}.",
            http_status(e),
            e.path()
        ),
        detail(e),
    )
}

/// The status of an answer that says a call is not on this deployment (404, or 400).
fn http_status(e: &ClientError) -> u16 {
    e.status().map_or(404, |s| s.as_u16())
}

pub(super) fn data_models_missing(e: &ClientError) -> StepOutcome {
    older_deployment(
        "data model API",
        "data models will not be ingested (workbooks, reports and datasets are not affected)",
        e,
    )
}

pub(super) fn reports_missing(e: &ClientError) -> StepOutcome {
    older_deployment(
        "reports API",
        "reports will not be ingested (workbooks, data models and datasets are not affected)",
        e,
    )
}

pub(super) fn data_model_lineage_read(listed: &str, data_model: &str, entries: usize) -> String {
    format!(
        "{} Read the lineage of data model {data_model} ({entries} entr{} on its first page).",
        listed,
        if entries == 1 { "y" } else { "ies" }
    )
}

pub(super) fn data_model_sources_read(
    listed: &str,
    data_model: &str,
    lineage_404: Option<&ClientError>,
) -> String {
    match lineage_404 {
        Some(e) => format!(
            "{listed} Read the sources of data model {data_model}; this deployment has no data model lineage (HTTP {} at {}: an older API), so data model lineage will come from sources only.",
            http_status(e),
            e.path()
        ),
        None => format!("{listed} Read the sources of data model {data_model}."),
    }
}

pub(super) fn no_data_model_to_probe(listed: &str) -> String {
    format!("{listed} No data model is visible, so their lineage was not checked.")
}

pub(super) fn no_workbook_for_lineage() -> String {
    "No workbook is visible to these credentials; lineage was not checked.".into()
}

pub(super) fn workbook_lineage_read(workbook: &str, entries: usize, total: Option<u64>) -> String {
    let count = total.map_or(entries as u64, |t| t.max(entries as u64));
    format!(
        "Read the lineage of workbook {workbook} in one call ({count} entr{}).",
        if count == 1 { "y" } else { "ies" }
    )
}

/// Where the per-element fallback ended, with the reason it was needed.
pub(super) fn element_lineage_fallback(
    workbook: &str,
    found: &ElementLineageProbe,
    lineage_404: &ClientError,
) -> String {
    let older = format!(
        "this deployment has no workbook-level lineage (HTTP {} at {}: an older API), so lineage will be read element by element",
        http_status(lineage_404),
        lineage_404.path()
    );
    match found {
        ElementLineageProbe::Read { element, nodes } => format!(
            "Read the lineage of element {element} of workbook {workbook} ({nodes} node{}); {older}.",
            if *nodes == 1 { "" } else { "s" }
        ),
        ElementLineageProbe::NoPages => {
            format!("Workbook {workbook} has no pages, so lineage was not checked; {older}.")
        }
        ElementLineageProbe::NoCharts => format!(
            "The first page of workbook {workbook} has no chart elements, so lineage was not checked; {older}."
        ),
        ElementLineageProbe::NoneAnswered { tried } => format!(
            "None of the {tried} chart elements tried on the first page of workbook {workbook} has lineage, which the ingestion takes as \"no lineage\"; {older}."
        ),
    }
}

/// What the per-element lineage probe found.
#[derive(Debug, Clone)]
pub(super) enum ElementLineageProbe {
    Read { element: String, nodes: usize },
    NoPages,
    NoCharts,
    NoneAnswered { tried: usize },
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &url::Url) -> String {
    crate::config::endpoints::origin(url)
}
