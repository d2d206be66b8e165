//! The steps: each asks Sigma one cheap question through [`SigmaApi`] (a first page of one
//! item, never a whole listing) and turns the answer into a [`StepOutcome`]. Where today's
//! Sigma has a call the ingestion prefers (workbook-level lineage, data model lineage), the
//! step asks it first and falls back as the ingestion does on an older deployment's 404.

use serde::de::IgnoredAny;
use tokio::time::Instant;

use crate::client::{ClientError, FailureCause};
use crate::config::{SigmaConnection, SigmaEndpoints};
use crate::sigma::api::{FirstPage, SigmaApi};
use crate::sigma::mapping::is_chart;
use crate::sigma::model::{DataModel, DocumentKind, Workbook, WorkbookElement, WorkbookPage};
use crate::sigma::routes::Route;

use super::messages::{self, ElementLineageProbe};
use super::result::{Step, StepOutcome};

/// Chart elements whose lineage is tried, at most, on an older deployment.
const MAX_ELEMENTS_TRIED: usize = 3;
/// One page of elements is enough to find a chart; it is never paged through.
const ELEMENTS_PAGE: u32 = 50;

/// An optional call's answer that says this deployment does not have it: 404, or the 400 an
/// older Sigma may answer instead (the ingestion's rule, `sigma::endpoints::says_absent`).
fn is_absent(e: &ClientError) -> bool {
    crate::sigma::endpoints::says_absent(e)
}

/// The steps of one test, sharing one client.
pub(super) struct Probe<'a> {
    pub(super) conn: &'a SigmaConnection,
    pub(super) api: SigmaApi,
}

impl Probe<'_> {
    fn endpoints(&self) -> &SigmaEndpoints {
        self.api.client().endpoints()
    }

    pub(super) async fn get_token(&self) -> StepOutcome {
        let endpoints = self.endpoints();
        if let Some((cause, detail)) = FailureCause::unresolvable_host(self.conn).await {
            return StepOutcome::fail(cause.to_string(), detail);
        }
        let start = Instant::now();
        match self.api.client().authenticate().await {
            Ok(()) => StepOutcome::pass(messages::token_obtained(endpoints, start.elapsed())),
            Err(e) => {
                StepOutcome::fail(messages::token_failure(self.conn, &e), messages::detail(&e))
            }
        }
    }

    /// The workbook listing, and the first workbook's id for the lineage step.
    pub(super) async fn get_workbooks(&self) -> (StepOutcome, Option<String>) {
        match self.api.first_page::<Workbook>(Route::Workbooks, 1).await {
            Ok(page) => {
                let first = first_ok(&page).map(|w| w.workbook_id.clone());
                let outcome = match (&first, page.entries.first()) {
                    (None, Some(Err(e))) => messages::first_entry_malformed(Step::GetWorkbooks, e),
                    _ => StepOutcome::pass(listed(Step::GetWorkbooks, &page)),
                };
                (outcome, first)
            }
            Err(e) => {
                let outcome = e
                    .is_not_found()
                    .then(|| messages::unused_host_path(self.endpoints(), &e))
                    .flatten()
                    .unwrap_or_else(|| messages::request_failed(Step::GetWorkbooks, &e));
                (outcome, None)
            }
        }
    }

    pub(super) async fn get_reports(&self) -> StepOutcome {
        match self.api.first_page::<IgnoredAny>(Route::Reports, 1).await {
            Ok(page) => StepOutcome::pass(listed(Step::GetReports, &page)),
            Err(e) if is_absent(&e) => messages::reports_missing(&e),
            Err(e) => messages::request_failed(Step::GetReports, &e),
        }
    }

    /// A listing of which only the count matters.
    pub(super) async fn count(&self, step: Step, listing: Route<'_>) -> StepOutcome {
        match self.api.first_page::<IgnoredAny>(listing, 1).await {
            Ok(page) => StepOutcome::pass(listed(step, &page)),
            Err(e) => messages::request_failed(step, &e),
        }
    }

    /// The data model listing, then what the ingestion reads of one data model: its
    /// lineage, or (older deployments answer 404 there) its sources.
    pub(super) async fn get_data_models(&self) -> StepOutcome {
        let step = Step::GetDataModels;
        let page = match self.api.first_page::<DataModel>(Route::DataModels, 1).await {
            Ok(page) => page,
            Err(e) if is_absent(&e) => return messages::data_models_missing(&e),
            Err(e) => return messages::request_failed(step, &e),
        };
        let listed = listed(step, &page);
        let Some(model) = first_ok(&page) else {
            return match page.entries.first() {
                Some(Err(e)) => messages::first_entry_malformed(step, e),
                _ => StepOutcome::pass(messages::no_data_model_to_probe(&listed)),
            };
        };
        let id = model.data_model_id.as_str();
        let lineage_404 = match self
            .api
            .first_page::<IgnoredAny>(Route::DataModelLineage(id), 1)
            .await
        {
            Ok(lineage) => {
                return StepOutcome::pass(messages::data_model_lineage_read(
                    &listed,
                    id,
                    lineage.entries.len(),
                ));
            }
            Err(e) if is_absent(&e) => e,
            Err(e) => return messages::request_failed(step, &e),
        };
        match self
            .api
            .first_page::<IgnoredAny>(Route::DataModelSources(id), 1)
            .await
        {
            Ok(_) => StepOutcome::pass(messages::data_model_sources_read(
                &listed,
                id,
                Some(&lineage_404),
            )),
            Err(e) if is_absent(&e) => messages::older_deployment(
                "data model lineage or sources",
                "data models are ingested without lineage",
                &e,
            ),
            Err(e) => messages::request_failed(step, &e),
        }
    }

    /// The first workbook's lineage in one call; on an older deployment's 404, the
    /// per-element path the ingestion then falls back to.
    pub(super) async fn get_lineage(&self, workbook: Option<&str>) -> StepOutcome {
        let step = Step::GetLineage;
        let Some(workbook) = workbook else {
            return StepOutcome::pass(messages::no_workbook_for_lineage());
        };
        let lineage_404 = match self
            .api
            .first_page::<IgnoredAny>(Route::DocumentLineage(DocumentKind::Workbook, workbook), 1)
            .await
        {
            Ok(page) => {
                return StepOutcome::pass(messages::workbook_lineage_read(
                    workbook,
                    page.entries.len(),
                    page.total,
                ));
            }
            Err(e) if is_absent(&e) => e,
            Err(e) => return messages::request_failed(step, &e),
        };
        match self.element_lineage(workbook).await {
            Ok(found) => {
                let message = messages::element_lineage_fallback(workbook, &found, &lineage_404);
                match found {
                    ElementLineageProbe::NoneAnswered { .. } => {
                        StepOutcome::fail(message, messages::detail(&lineage_404))
                    }
                    _ => StepOutcome::pass(message),
                }
            }
            Err(e) => messages::request_failed(step, &e),
        }
    }

    /// First page → its elements (one page of them) → the lineage of up to a few chart
    /// elements, until one has some (UI elements and elements without lineage answer
    /// 400/403/404/500, which the ingestion takes as "no lineage").
    async fn element_lineage(&self, workbook: &str) -> Result<ElementLineageProbe, ClientError> {
        let pages = self
            .api
            .first_page::<WorkbookPage>(Route::DocumentPages(DocumentKind::Workbook, workbook), 1)
            .await?;
        let Some(page) = first_ok(&pages) else {
            return Ok(ElementLineageProbe::NoPages);
        };
        let elements = self
            .api
            .first_page::<WorkbookElement>(
                Route::PageElements(DocumentKind::Workbook, workbook, &page.page_id),
                ELEMENTS_PAGE,
            )
            .await?;
        let charts: Vec<&WorkbookElement> = elements
            .entries
            .iter()
            .filter_map(|e| e.as_ref().ok())
            .filter(|e| is_chart(e))
            .take(MAX_ELEMENTS_TRIED)
            .collect();
        if charts.is_empty() {
            return Ok(ElementLineageProbe::NoCharts);
        }
        for element in &charts {
            if let Some(lineage) = self
                .api
                .element_lineage(workbook, &element.element_id)
                .await?
            {
                return Ok(ElementLineageProbe::Read {
                    element: element.element_id.clone(),
                    nodes: lineage.dependencies.len(),
                });
            }
        }
        Ok(ElementLineageProbe::NoneAnswered {
            tried: charts.len(),
        })
    }
}

fn first_ok<T>(page: &FirstPage<T>) -> Option<&T> {
    page.entries.iter().find_map(|e| e.as_ref().ok())
}

fn listed<T>(step: Step, page: &FirstPage<T>) -> String {
    messages::listed(step, page.total, page.entries.is_empty())
}
