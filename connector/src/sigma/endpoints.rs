//! Which of Sigma's newer calls this org answers, learnt once per run.
//!
//! Today's Sigma has document-level calls (a workbook's or report's `/elements` and
//! `/lineage`, a data model's `/lineage`) that replace one call per page or per element.
//! An older deployment answers 404 there. The first call to each such endpoint is a probe:
//! it runs alone (concurrent callers wait for it), and its answer decides for the rest of
//! the run, so an older org costs one 404 per endpoint, not one per workbook.
//! The retired dataset API is the other way round: it is assumed present until it answers
//! 404 or 410, and from then on it is "gone" (one warning, no further calls).

use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Mutex;

use crate::client::ClientError;

/// The optional endpoints the source asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    WorkbookElements,
    WorkbookLineage,
    ReportElements,
    ReportLineage,
    DataModelLineage,
    Reports,
    DatasetSources,
}

impl Endpoint {
    const ALL: [Endpoint; 7] = [
        Endpoint::WorkbookElements,
        Endpoint::WorkbookLineage,
        Endpoint::ReportElements,
        Endpoint::ReportLineage,
        Endpoint::DataModelLineage,
        Endpoint::Reports,
        Endpoint::DatasetSources,
    ];

    fn index(self) -> usize {
        Endpoint::ALL
            .iter()
            .position(|e| *e == self)
            .unwrap_or_default()
    }

    /// The route, for messages.
    pub fn route(self) -> &'static str {
        match self {
            Endpoint::WorkbookElements => "/v2/workbooks/{workbookId}/elements",
            Endpoint::WorkbookLineage => "/v2/workbooks/{workbookId}/lineage",
            Endpoint::ReportElements => "/v2/reports/{reportId}/elements",
            Endpoint::ReportLineage => "/v2/reports/{reportId}/lineage",
            Endpoint::DataModelLineage => "/v2/dataModels/{dataModelId}/lineage",
            Endpoint::Reports => "/v2/reports",
            Endpoint::DatasetSources => "/v2/datasets/{datasetId}/sources",
        }
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

/// What the org answers, per endpoint, for one run.
#[derive(Debug, Default)]
pub struct Endpoints {
    state: [AtomicU8; 7],
    probe: [Mutex<()>; 7],
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

    /// Runs `call` unless the endpoint is known missing. The first call is a probe run
    /// alone: a 404 marks the endpoint missing (and yields `None`), anything else marks it
    /// present. Later calls run concurrently and pass their errors through, 404s included
    /// (an object deleted since the listing).
    pub async fn call<T, F>(&self, endpoint: Endpoint, call: F) -> Option<Result<T, ClientError>>
    where
        F: std::future::Future<Output = Result<T, ClientError>>,
    {
        let is_404 = |e: &ClientError| e.status().map(|s| s.as_u16()) == Some(404);
        match self.ask(endpoint, is_404, call).await {
            Answer::Missing { first: Some(_) } => {
                tracing::info!(
                    "{} is not available on this Sigma deployment (404); using the older calls for the rest of the run",
                    endpoint.route()
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
