//! Which of Sigma's optional calls this org answers, learnt once per run.
//!
//! Today's Sigma has document-level calls (a workbook's or report's `/elements`,
//! `/lineage` and `/queries`, a data model's `/lineage`) that replace one call per page or
//! per element, and listings an older deployment lacks (`/v2/reports`, `/v2/dataModels`).
//! An older deployment answers 404 **or 400** there. One rule for all of them: the first
//! call to such an endpoint is a probe that runs alone (concurrent callers wait for it); a
//! 400 or 404 before any success means "not here" for the rest of the run (concluded once,
//! said once), anything that succeeds means "here", and from then on a 400 or 404 is that
//! object's own answer. So an older org costs one request per missing endpoint, not one per
//! workbook. The retired dataset API is the other way round: it is assumed present until
//! it answers 404 or 410, and from then on it is "gone" (one warning, no further calls).

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Mutex;

use crate::client::ClientError;

use super::model::DocumentKind;
use super::routes::{self, Route};

/// The optional endpoints the source asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    WorkbookElements,
    WorkbookLineage,
    WorkbookQueries,
    WorkbookColumns,
    ReportElements,
    ReportLineage,
    ReportQueries,
    ReportColumns,
    DataModelLineage,
    Reports,
    DataModels,
    DatasetSources,
}

/// How many endpoints there are: the size of the per-run tables.
const COUNT: usize = 12;

impl Endpoint {
    const ALL: [Endpoint; COUNT] = [
        Endpoint::WorkbookElements,
        Endpoint::WorkbookLineage,
        Endpoint::WorkbookQueries,
        Endpoint::WorkbookColumns,
        Endpoint::ReportElements,
        Endpoint::ReportLineage,
        Endpoint::ReportQueries,
        Endpoint::ReportColumns,
        Endpoint::DataModelLineage,
        Endpoint::Reports,
        Endpoint::DataModels,
        Endpoint::DatasetSources,
    ];

    fn index(self) -> usize {
        Endpoint::ALL
            .iter()
            .position(|e| *e == self)
            .unwrap_or_default()
    }

    /// The route, for messages (`/v2/workbooks/{workbookId}/columns`).
    pub fn route(self) -> routes::Display {
        use DocumentKind::{Report, Workbook};
        let route = match self {
            Endpoint::WorkbookElements => Route::DocumentElements(Workbook, ""),
            Endpoint::WorkbookLineage => Route::DocumentLineage(Workbook, ""),
            Endpoint::WorkbookQueries => Route::DocumentQueries(Workbook, ""),
            Endpoint::WorkbookColumns => Route::DocumentColumns(Workbook, ""),
            Endpoint::ReportElements => Route::DocumentElements(Report, ""),
            Endpoint::ReportLineage => Route::DocumentLineage(Report, ""),
            Endpoint::ReportQueries => Route::DocumentQueries(Report, ""),
            Endpoint::ReportColumns => Route::DocumentColumns(Report, ""),
            Endpoint::DataModelLineage => Route::DataModelLineage(""),
            Endpoint::Reports => Route::Reports,
            Endpoint::DataModels => Route::DataModels,
            Endpoint::DatasetSources => Route::DatasetSources(""),
        };
        route.display()
    }
}

// 0 is "not known yet": the state every endpoint starts in.
const PRESENT: u8 = 1;
const MISSING: u8 = 2;

/// Whether an answer says the endpoint does not exist here (rather than that one object
/// is missing): 404 from the first call, and 410 Gone from the dataset API.
pub fn says_missing(error: &ClientError) -> bool {
    matches!(error.status().map(|s| s.as_u16()), Some(404 | 410))
}

/// Whether an answer to an optional call or listing, before any success on it, says the
/// deployment does not have it: 404, or the 400 an older deployment may answer instead.
pub fn says_absent(error: &ClientError) -> bool {
    matches!(error.status().map(|s| s.as_u16()), Some(400 | 404))
}

/// Whether an optional listing's failure says the deployment has no such listing: a 400 or
/// 404 before any item or page arrived. Later, it is an incomplete listing like any other.
pub fn listing_absent(error: &ClientError, items_so_far: u64) -> bool {
    let pages = error.listing_progress().map_or(0, |p| p.pages);
    items_so_far == 0 && pages == 0 && says_absent(error)
}

/// What the org answers, per endpoint, for one run.
#[derive(Debug, Default)]
pub struct Endpoints {
    state: [AtomicU8; COUNT],
    probe: [Mutex<()>; COUNT],
}

impl Endpoints {
    fn load(&self, endpoint: Endpoint) -> u8 {
        self.state[endpoint.index()].load(Ordering::Acquire)
    }

    fn store(&self, endpoint: Endpoint, value: u8) {
        self.state[endpoint.index()].store(value, Ordering::Release);
    }

    /// Whether the endpoint is known to be missing.
    pub fn is_missing(&self, endpoint: Endpoint) -> bool {
        self.load(endpoint) == MISSING
    }

    /// Marks an endpoint gone for the rest of the run; `true` the first time.
    pub fn mark_missing(&self, endpoint: Endpoint) -> bool {
        self.state[endpoint.index()].swap(MISSING, Ordering::AcqRel) != MISSING
    }

    /// An optional listing ended with `error` after `items_so_far` items: whether that
    /// says the deployment has no such listing (see [`listing_absent`]). The first time,
    /// it marks the endpoint missing and says so once.
    pub fn listing_absent(
        &self,
        endpoint: Endpoint,
        error: &ClientError,
        items_so_far: u64,
    ) -> bool {
        if !listing_absent(error, items_so_far) {
            return false;
        }
        if self.mark_missing(endpoint) {
            tracing::info!(
                "{} is not available on this Sigma deployment ({}); nothing of it is ingested",
                endpoint.route(),
                error.status().map_or(0, |s| s.as_u16())
            );
        }
        true
    }

    /// Runs `call` unless the endpoint is known missing. The first call is a probe run
    /// alone: a 400 or 404 marks the endpoint missing (and yields `None`), a success marks
    /// it present, any other error leaves it undecided (the next call probes again). Later
    /// calls run concurrently and pass their errors through, 400s and 404s included (an
    /// object deleted since the listing, or one Sigma has no answer for).
    pub async fn call<T, F>(&self, endpoint: Endpoint, call: F) -> Option<Result<T, ClientError>>
    where
        F: std::future::Future<Output = Result<T, ClientError>>,
    {
        match self.ask(endpoint, says_absent, call).await {
            Answer::Missing { first: Some(e) } => {
                tracing::info!(
                    "{} is not available on this Sigma deployment ({}); using the older calls for the rest of the run",
                    endpoint.route(),
                    e.status().map_or(0, |s| s.as_u16())
                );
                None
            }
            Answer::Missing { first: None } => None,
            Answer::Got(result) => Some(result),
        }
    }

    /// [`Self::call`] with the caller's idea of "missing" (the dataset API's 404 and 410),
    /// handing back the probe's error when it is the one that found the endpoint missing.
    pub async fn ask<T, F>(
        &self,
        endpoint: Endpoint,
        missing: impl Fn(&ClientError) -> bool,
        call: F,
    ) -> Answer<T>
    where
        F: std::future::Future<Output = Result<T, ClientError>>,
    {
        match self.load(endpoint) {
            MISSING => return Answer::Missing { first: None },
            PRESENT => return Answer::Got(call.await),
            _ => {}
        }
        let probe = self.probe[endpoint.index()].lock().await;
        match self.load(endpoint) {
            MISSING => return Answer::Missing { first: None },
            PRESENT => {
                // Decided while this caller waited: run concurrently, not under the lock.
                drop(probe);
                return Answer::Got(call.await);
            }
            _ => {}
        }
        match call.await {
            Err(e) if missing(&e) => {
                self.store(endpoint, MISSING);
                Answer::Missing { first: Some(e) }
            }
            // Not decided: the next caller probes again.
            Err(e) => Answer::Got(Err(e)),
            Ok(v) => {
                self.store(endpoint, PRESENT);
                Answer::Got(Ok(v))
            }
        }
    }
}

/// What [`Endpoints::ask`] got.
pub enum Answer<T> {
    /// The endpoint is missing here; `first` is the answer that found it so (once per run).
    Missing {
        first: Option<ClientError>,
    },
    Got(Result<T, ClientError>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_have_distinct_slots() {
        let e = Endpoints::default();
        assert!(e.mark_missing(Endpoint::DatasetSources));
        assert!(!e.mark_missing(Endpoint::DatasetSources), "once per run");
        assert!(!e.is_missing(Endpoint::WorkbookLineage));
        assert_eq!(Endpoint::ALL.len(), e.state.len());
    }

    /// The probe runs alone; the callers that waited for it then run together, not one
    /// after another under the probe's lock.
    #[tokio::test(start_paused = true)]
    async fn after_the_probe_waiting_calls_run_concurrently() {
        let e = Endpoints::default();
        let started = tokio::time::Instant::now();
        let call = || async {
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            Ok::<_, ClientError>(())
        };
        let calls = (0..10).map(|_| e.call(Endpoint::WorkbookLineage, call()));
        let answers = futures::future::join_all(calls).await;
        assert!(answers.iter().all(|a| matches!(a, Some(Ok(())))));
        assert_eq!(
            started.elapsed(),
            std::time::Duration::from_millis(50),
            "one probe, then the other nine at once"
        );
    }
}
