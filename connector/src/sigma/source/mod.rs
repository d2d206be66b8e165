//! `SigmaSource`: a Sigma org as an ordered, bounded-memory stream of catalog items
//! (`crate::catalog`): Sigma's own ids and structure, no platform's names.
//!
//! Phases, in order: the context every workbook needs (members for
//! owners, connections for lineage), then the org's item; datasets and data models (so that dashboards can name
//! the data models they read); then workbooks and reports, expanded concurrently but emitted
//! in listing order (`buffered`), each as one item. The phases after the context fetch at once, each in a task of its own, and are
//! yielded one after the other; only mapping waits for the phase before (`Known`).
//! Nothing is fetched twice in a run: members and connections are listed once, each
//! workbook's SQL comes from one `/queries` listing, and `inode-` lookups are cached.
//!
//! Failures are per object: they surface as `Err` items naming the object, the step and
//! the error, and the stream goes on. A listing that ends early yields
//! [`SourceError::IncompleteListing`]; the runner must not delete anything after one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::stream::{self, BoxStream, StreamExt};
use tokio::sync::OnceCell;

use crate::catalog::{self, Item, WarehouseTable};
use crate::client::{ClientError, SigmaClient};

use super::api::{Listed, SigmaApi};
use super::endpoints::{Endpoint, Endpoints, says_missing};
use super::filter::NameFilter;
use super::lineage::upstream_sources;
use super::mapping;
use super::model::{
    ConnectionPath, DataModel, DataModelColumn, DataModelElement, Dataset, Document, ElementColumn,
    ElementLineage, WorkbookElement, WorkbookPage,
};
pub use super::options::SourceOptions;
use super::sql;

mod data_models;
mod datasets;
mod documents;
mod element_columns;
mod status;

pub use super::memory::{
    DatasetEnd, Digests, Group, GroupKind, KnownElement, KnownGroup, Memory, RunMemory, digest,
};

pub use status::{
    FAILED_OBJECTS_MAX, FailedObject, FailedSet, ListingIncomplete, SourceError, SourceStatus,
    StatusHandle, WarningGroup, WarningGroups,
};

/// What the source hands the runner: a catalog item, a stand-in for an item it did not
/// expand, or what the runner's checkpoint should remember.
// The large variant is the common one: boxing it would allocate per item to shrink a
// variant that appears once per unchanged object.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SourceItem {
    /// A Sigma object with everything under it; its group is [`Item::group`].
    Item(Item),
    /// An incremental run's object that has not changed (nor what its item is made
    /// from): the runner replays it from the checkpoint, here, in listing order.
    /// Never written to a sink itself.
    Unchanged { group: Group },
    /// A data model or dataset this run expanded, after its item: what the checkpoint
    /// keeps of it besides it.
    Seen { group: Group, known: KnownGroup },
    /// The last item of a stream that reached its end: warehouse paths and input digests.
    Memory(RunMemory),
}

impl From<Item> for SourceItem {
    fn from(item: Item) -> Self {
        SourceItem::Item(item)
    }
}

/// One step of the stream: an item, or a failure the stream goes on after.
pub type SourceResult = Result<SourceItem, SourceError>;

pub struct SigmaSource {
    api: SigmaApi,
    options: Arc<SourceOptions>,
    status: StatusHandle,
}

impl SigmaSource {
    pub fn new(client: SigmaClient, options: SourceOptions) -> Self {
        Self {
            api: SigmaApi::new(client),
            options: Arc::new(options),
            status: StatusHandle::default(),
        }
    }

    pub fn status(&self) -> StatusHandle {
        self.status.clone()
    }

    /// The item stream. Every `Err` is also counted in the status.
    pub fn items(self) -> BoxStream<'static, SourceResult> {
        let status = self.status.clone();
        // Warehouse paths the last run resolved, reused as they are (incremental runs).
        let known_paths: HashMap<String, PathCell> = self
            .options
            .memory
            .paths
            .iter()
            .map(|(inode, path)| {
                (
                    inode.clone(),
                    Arc::new(OnceCell::new_with(Some(Some(path.clone())))),
                )
            })
            .collect();
        let ctx = Ctx {
            api: self.api,
            options: self.options,
            status: self.status,
            paths: Arc::new(Mutex::new(known_paths)),
            endpoints: Arc::new(Endpoints::default()),
        };
        async_stream::stream! {
            if ctx.options.include_usage {
                ctx.status.warn_once(
                    "includeUsage: Sigma has no usage API, so no dashboard usage is ingested; set includeUsage: false to silence this".into(),
                );
            }

            let (owners, connections, workspaces) =
                tokio::join!(ctx.member_emails(), ctx.connections(), ctx.workspaces());
            let (workspaces, workspaces_complete) = workspaces;
            let workspaces = workspaces
                .into_iter()
                .map(|w| catalog::Workspace {
                    owner: w.created_by.as_ref().and_then(|m| owners.emails.get(m)).cloned(),
                    id: w.workspace_id,
                    name: w.name,
                    created_at: w.created_at,
                    updated_at: w.updated_at,
                })
                .collect();
            let org = catalog::Org {
                host: ctx.options.host.clone(),
                connections,
                workspaces,
                workspaces_complete,
            };
            if ctx.options.placement.is_empty() {
                ctx.status.warn_once(ctx.options.placement.none_placed());
            }
            // What every item may be made from: owners and the connections.
            let context = digest(&(
                owners.emails.iter().collect::<BTreeMap<_, _>>(),
                &owners.listing_failed,
                org.connections.iter().map(|c| (&c.id, (&c.name, &c.connection_type))).collect::<BTreeMap<_, _>>(),
            ));
            let connections = Arc::new(org.connections.clone());
            yield Ok(SourceItem::Item(Item::Org(org)));
            let reuse = Reuse::default();
            reuse.datasets.store(
                Some(&context) == ctx.options.memory.digests.context.as_ref(),
                Ordering::Relaxed,
            );
            let wctx = Arc::new(WorkbookCtx {
                ctx: ctx.clone(), owners, connections,
                datasets: Default::default(), models: Default::default(), reuse,
                digests: Mutex::new(Digests { context: Some(context), ..Digests::default() }),
                known: tokio::sync::watch::Sender::new(Known::Context),
            });

            // The phases fetch at once; each yields in listing order, after the phase before
            // it, and maps what needs the phase before's index only once that is known
            // (`WorkbookCtx::known`): requests overlap, items keep their order.
            let capacity = ctx.options.workbook_concurrency.max(1);
            let (datasets_tx, mut datasets_rx) = tokio::sync::mpsc::channel(capacity);
            let (models_tx, mut models_rx) = tokio::sync::mpsc::channel(capacity);
            let (workbooks_tx, mut workbooks_rx) = tokio::sync::mpsc::channel(capacity);
            let (reports_tx, mut reports_rx) = tokio::sync::mpsc::channel(capacity);
            let mut phases = Phases::default();
            if ctx.options.include_data_models {
                phases.spawn(0, "datasets", wctx.clone().datasets_phase(datasets_tx));
                phases.spawn(1, "dataModels", wctx.clone().data_models_phase(models_tx));
            } else {
                drop((datasets_tx, models_tx));
                wctx.no_data_models();
            }
            let workbooks = ctx.api.workbooks(ctx.status.workbooks_total.clone());
            phases.spawn(2, "workbooks", wctx.clone().documents_phase(workbooks, "workbooks", None, workbooks_tx));
            // Reports (Sigma 2026): an older deployment answers 404 (or 400) on the listing
            // itself, which means "no reports here", not an incomplete listing.
            phases.spawn(3, "reports", wctx.clone().documents_phase(ctx.api.reports(), "reports", Some(Endpoint::Reports), reports_tx));
            let channels = [
                (&mut datasets_rx, 0),
                (&mut models_rx, 1),
                (&mut workbooks_rx, 2),
                (&mut reports_rx, 3),
            ];
            for (rx, phase) in channels {
                while let Some(item) = rx.recv().await { yield item; }
                if let Some(e) = phases.ended(phase).await { yield Err(ctx.failed(e)); }
            }
            let digests = wctx.digests.lock().unwrap_or_else(|p| p.into_inner()).clone();
            yield Ok(SourceItem::Memory(RunMemory { paths: ctx.known_paths(), digests }));
            drop(status);
        }
        .boxed()
    }
}

/// Runs one object's expansion in a task of its own, so that it goes on (and lets go of
/// what others wait for: an endpoint probe, a warehouse path being looked up) while its
/// phase waits to hand over items; a `buffered` stream that is not polled would freeze
/// it, and with it every phase waiting for that probe or path (a deadlock the benchmark
/// found). Aborted when dropped.
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(tokio::spawn(work));
    (&mut task.0).await
}

/// An expansion that did not end normally: its listing is cut short, so the run is partial.
fn stopped(listing: &str, error: &tokio::task::JoinError) -> SourceError {
    SourceError::IncompleteListing(ListingIncomplete {
        listing: listing.to_owned(),
        items_so_far: 0,
        pages_so_far: 0,
        cause: format!("an expansion stopped: {error}"),
        reason: "an expansion stopped".to_owned(),
    })
}

/// How far the phases have got: what mapping may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Known {
    /// Owners and connections (before any phase).
    Context,
    /// What stands for each dataset (`WorkbookCtx::datasets`).
    Datasets,
    /// Each data model's elements (`WorkbookCtx::models`), and so everything.
    DataModels,
}

/// The phases' tasks, aborted when the stream is dropped (an interrupted run).
#[derive(Default)]
struct Phases {
    /// By phase: datasets, data models, workbooks, reports.
    tasks: [Option<(&'static str, tokio::task::JoinHandle<()>)>; 4],
}

impl Phases {
    fn spawn(
        &mut self,
        index: usize,
        name: &'static str,
        phase: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        if let Some(slot) = self.tasks.get_mut(index) {
            *slot = Some((name, tokio::spawn(phase)));
        }
    }

    /// Waits for the `index`th phase's task after its channel closed. A task that did not
    /// end normally (a panic) cut its listing short: said as an incomplete listing, so the
    /// run is not mistaken for a complete one.
    async fn ended(&mut self, index: usize) -> Option<SourceError> {
        let (name, task) = self.tasks.get_mut(index)?.as_mut()?;
        match task.await {
            Ok(()) => None,
            Err(e) => Some(SourceError::IncompleteListing(ListingIncomplete {
                listing: (*name).to_owned(),
                items_so_far: 0,
                pages_so_far: 0,
                cause: format!("the {name} phase stopped: {e}"),
                reason: "a phase stopped".to_owned(),
            })),
        }
    }
}

impl Drop for Phases {
    fn drop(&mut self) {
        for (_, task) in self.tasks.iter().flatten() {
            task.abort();
        }
    }
}

impl WorkbookCtx {
    /// Waits until mapping may read what `known` says.
    async fn known(&self, known: Known) {
        let mut rx = self.known.subscribe();
        // The sender lives as long as `self`: `wait_for` cannot fail while we hold it.
        let _ = rx.wait_for(|k| *k >= known).await;
    }

    /// Without data models: no dataset or data model to know, nothing to wait for.
    fn no_data_models(&self) {
        let _ = self.datasets.set(HashMap::new());
        let _ = self.models.set(DataModelIndex::default());
        {
            let mut d = self.digests.lock().unwrap_or_else(|p| p.into_inner());
            d.datasets = d.context.clone();
            d.data_models = d.context.clone();
        }
        let reuse = self.reuse.datasets.load(Ordering::Relaxed);
        self.reuse.data_models.store(reuse, Ordering::Relaxed);
        self.reuse
            .documents
            .store(reuse && self.digests_unchanged(), Ordering::Relaxed);
        self.known.send_replace(Known::DataModels);
    }

    fn digests_unchanged(&self) -> bool {
        let d = self.digests.lock().unwrap_or_else(|p| p.into_inner());
        d.data_models == self.ctx.options.memory.digests.data_models
    }

    /// Datasets, expanded concurrently (their /sources and table lookups) and sent in
    /// listing order. Only the probe (the first /sources call) can find the dataset API
    /// gone for the run; a later 404 or 410 is that dataset's own, so what each dataset
    /// yields does not depend on timing. Ends by making what stands for each dataset known.
    async fn datasets_phase(self: Arc<Self>, tx: tokio::sync::mpsc::Sender<SourceResult>) {
        let ctx = self.ctx.clone();
        let mut dataset_ends = HashMap::new();
        let datasets = ctx
            .api
            .datasets()
            .map(|item| {
                let wctx = self.clone();
                async move {
                    match item {
                        Listed::Item(ds) => {
                            match detached(async move { wctx.dataset(ds).await }).await {
                                Ok((items, end)) => DatasetOutcome::Expanded(items, end),
                                Err(e) => DatasetOutcome::Error(stopped("datasets", &e)),
                            }
                        }
                        Listed::Malformed(e) => DatasetOutcome::Error(SourceError::Malformed(e)),
                        Listed::Failed(e) => DatasetOutcome::ListingFailed(e),
                    }
                }
            })
            .buffered(ctx.options.workbook_concurrency);
        futures::pin_mut!(datasets);
        let mut count = 0u64;
        let mut open = true;
        while let Some(outcome) = datasets.next().await {
            let items = match outcome {
                DatasetOutcome::Expanded(items, end) => {
                    count += 1;
                    dataset_ends.extend(end);
                    items
                }
                DatasetOutcome::Error(e) => vec![Err(ctx.failed(e))],
                DatasetOutcome::ListingFailed(e) => {
                    vec![Err(ctx.failed(incomplete("datasets", count, &e)))]
                }
            };
            for item in items {
                open = open && tx.send(item).await.is_ok();
            }
        }
        let unchanged = {
            let mut d = self.digests.lock().unwrap_or_else(|p| p.into_inner());
            d.datasets = Some(digest(&(
                &d.context,
                dataset_ends.iter().collect::<BTreeMap<_, _>>(),
            )));
            d.datasets == ctx.options.memory.digests.datasets
        };
        self.reuse.data_models.store(
            self.reuse.datasets.load(Ordering::Relaxed) && unchanged,
            Ordering::Relaxed,
        );
        let _ = self.datasets.set(dataset_ends);
        self.known.send_replace(Known::Datasets);
    }

    /// Data models, expanded concurrently and sent in listing order; each maps what needs
    /// the datasets once they are known. Ends by making every data model known.
    async fn data_models_phase(self: Arc<Self>, tx: tokio::sync::mpsc::Sender<SourceResult>) {
        let ctx = self.ctx.clone();
        let mut models = DataModelIndex::default();
        let expanded = ctx
            .api
            .data_models()
            .map(|item| {
                let wctx = self.clone();
                async move {
                    match item {
                        Listed::Item(dm) => {
                            match detached(async move { wctx.expand_data_model(dm).await }).await {
                                Ok(expanded) => DataModelOutcome::Expanded(expanded),
                                Err(e) => DataModelOutcome::Error(stopped("dataModels", &e)),
                            }
                        }
                        Listed::Malformed(e) => DataModelOutcome::Error(SourceError::Malformed(e)),
                        Listed::Failed(e) => DataModelOutcome::ListingFailed(e),
                    }
                }
            })
            .buffered(ctx.options.workbook_concurrency);
        futures::pin_mut!(expanded);
        let mut count = 0u64;
        let mut open = true;
        while let Some(outcome) = expanded.next().await {
            let items = match outcome {
                DataModelOutcome::Expanded(Some((dm_id, dm_url_id, elements, items))) => {
                    count += 1;
                    models.by_id.insert(dm_id.clone(), elements);
                    models.data_models.insert(dm_url_id, dm_id);
                    items
                }
                DataModelOutcome::Expanded(None) => {
                    count += 1;
                    Vec::new()
                }
                DataModelOutcome::Error(e) => vec![Err(ctx.failed(e))],
                // A deployment without the data model API answers 400 or 404 on the
                // listing itself: "no data models here", as for reports.
                DataModelOutcome::ListingFailed(e) => {
                    if ctx
                        .endpoints
                        .listing_absent(Endpoint::DataModels, &e, count)
                    {
                        Vec::new()
                    } else {
                        vec![Err(ctx.failed(incomplete("dataModels", count, &e)))]
                    }
                }
            };
            for item in items {
                open = open && tx.send(item).await.is_ok();
            }
        }
        // The datasets' digest is part of this one: known by now (every data model that
        // read one waited for it), but wait in case there was none.
        self.known(Known::Datasets).await;
        {
            let mut d = self.digests.lock().unwrap_or_else(|p| p.into_inner());
            d.data_models = Some(digest(&(
                &d.datasets,
                models.by_id.iter().collect::<BTreeMap<_, _>>(),
                models.data_models.iter().collect::<BTreeMap<_, _>>(),
            )));
        }
        self.reuse.documents.store(
            self.reuse.data_models.load(Ordering::Relaxed)
                && self.reuse.datasets.load(Ordering::Relaxed)
                && self.digests_unchanged(),
            Ordering::Relaxed,
        );
        let _ = self.models.set(models);
        self.known.send_replace(Known::DataModels);
    }

    /// Workbooks or reports, expanded concurrently and sent in listing order; each maps
    /// what needs the data models once they are known.
    async fn documents_phase<D: Into<Document> + Send + 'static>(
        self: Arc<Self>,
        listing: BoxStream<'static, Listed<D>>,
        name: &'static str,
        optional: Option<Endpoint>,
        tx: tokio::sync::mpsc::Sender<SourceResult>,
    ) {
        let mut listing = self.documents(listing, name, optional);
        while let Some(item) = listing.next().await {
            if tx.send(item).await.is_err() {
                return;
            }
        }
    }
}

/// Which phases may reuse the last run's items: decided at each phase's start from the
/// digests of its inputs (see `memory.rs`).
#[derive(Debug, Default)]
struct Reuse {
    datasets: AtomicBool,
    data_models: AtomicBool,
    documents: AtomicBool,
}

enum WorkbookOutcome {
    Expanded(Vec<SourceResult>),
    Error(SourceError),
    ListingFailed(ClientError),
}

impl WorkbookCtx {
    /// A listing of documents (workbooks or reports), each expanded concurrently and yielded
    /// in listing order. When the listing is an `optional` endpoint (reports), a 400 or 404
    /// before its first item means the deployment has none: said once, not an incomplete
    /// listing (`Endpoints::listing_absent`).
    fn documents<D: Into<Document> + Send + 'static>(
        self: Arc<Self>,
        listing: BoxStream<'static, Listed<D>>,
        name: &'static str,
        optional: Option<Endpoint>,
    ) -> BoxStream<'static, SourceResult> {
        let concurrency = self.ctx.options.workbook_concurrency;
        let ctx = self.ctx.clone();
        let expanded = listing
            .map(move |item| {
                let wctx = self.clone();
                async move {
                    match item {
                        Listed::Item(doc) => {
                            let doc: Document = doc.into();
                            match detached(async move { wctx.expand_document(doc).await }).await {
                                Ok(items) => WorkbookOutcome::Expanded(items),
                                Err(e) => WorkbookOutcome::Error(stopped(name, &e)),
                            }
                        }
                        Listed::Malformed(e) => WorkbookOutcome::Error(SourceError::Malformed(e)),
                        Listed::Failed(e) => WorkbookOutcome::ListingFailed(e),
                    }
                }
            })
            .buffered(concurrency);
        async_stream::stream! {
            futures::pin_mut!(expanded);
            let mut count = 0u64;
            while let Some(outcome) = expanded.next().await {
                match outcome {
                    WorkbookOutcome::Expanded(items) => {
                        count += 1;
                        for item in items { yield item; }
                    }
                    WorkbookOutcome::Error(e) => yield Err(ctx.failed(e)),
                    WorkbookOutcome::ListingFailed(e) => {
                        let absent = optional
                            .is_some_and(|endpoint| ctx.endpoints.listing_absent(endpoint, &e, count));
                        if !absent {
                            yield Err(ctx.failed(incomplete(name, count, &e)));
                        }
                    }
                }
            }
        }
        .boxed()
    }
}

/// A data model's id, urlId, elements and items.
type ExpandedModel = Option<(String, String, Vec<KnownElement>, Vec<SourceResult>)>;

enum DatasetOutcome {
    Expanded(Vec<SourceResult>, Option<(String, DatasetEnd)>),
    Error(SourceError),
    ListingFailed(ClientError),
}

enum DataModelOutcome {
    Expanded(ExpandedModel),
    Error(SourceError),
    ListingFailed(ClientError),
}

fn incomplete(listing: &str, items: u64, error: &ClientError) -> SourceError {
    SourceError::IncompleteListing(ListingIncomplete {
        listing: listing.to_owned(),
        items_so_far: items,
        pages_so_far: error.listing_progress().map_or(0, |p| p.pages as u64),
        cause: error.to_string(),
        reason: error.cause(),
    })
}

/// What a data-model node resolves to.
#[derive(Debug, Default)]
struct DataModelIndex {
    /// dataModelUrlId -> dataModelId.
    data_models: HashMap<String, String>,
    /// dataModelId -> its elements (lineage trees name data models by id).
    by_id: HashMap<String, Vec<KnownElement>>,
}

impl DataModelIndex {
    /// A data model named by id or urlId, with its elements (`None` when unknown or
    /// without elements).
    fn get<'a>(
        &'a self,
        id: Option<&'a str>,
        url_id: Option<&str>,
    ) -> Option<(&'a str, &'a [KnownElement])> {
        let id = id.filter(|id| self.by_id.contains_key(*id)).or_else(|| {
            url_id
                .and_then(|u| self.data_models.get(u))
                .map(String::as_str)
        })?;
        let elements = self.by_id.get(id)?;
        (!elements.is_empty()).then_some((id, elements.as_slice()))
    }
}

type PathCell = Arc<OnceCell<Option<ConnectionPath>>>;

#[derive(Clone)]
struct Ctx {
    api: SigmaApi,
    options: Arc<SourceOptions>,
    status: StatusHandle,
    /// inode id -> where it lives; one lookup per id per run, however many ask at once.
    paths: Arc<Mutex<HashMap<String, PathCell>>>,
    /// Which of Sigma's newer calls this org answers, learnt once per run.
    endpoints: Arc<Endpoints>,
}

impl Ctx {
    fn failed(&self, error: SourceError) -> SourceError {
        self.status.fail(&error);
        error
    }

    async fn member_emails(&self) -> Owners {
        let mut out = Owners::default();
        if !self.options.include_owners {
            return out;
        }
        let mut members = self.api.members();
        while let Some(item) = members.next().await {
            match item {
                Listed::Item(m) => {
                    out.emails.insert(m.member_id, m.email);
                }
                Listed::Malformed(e) => self.status.warn(
                    "a member could not be read; workbooks they own get no owner",
                    Some(&e.id),
                    format!("owner lookup: {e}"),
                ),
                Listed::Failed(e) => {
                    // Every workbook whose owner was not listed is filed under this cause,
                    // which is the real one, rather than as "owner is not a member".
                    let cause = format!(
                        "members could not be listed ({} {}: {}), so workbooks whose owner was not listed get no owner; let the API credential's owner list members (an admin account type), or set includeOwners: false",
                        e.method(),
                        e.path(),
                        e.cause()
                    );
                    self.status
                        .warn(&cause, None, format!("{cause}. The error: {e}"));
                    out.listing_failed = Some(cause);
                    break;
                }
            }
        }
        out
    }

    async fn connections(&self) -> Vec<catalog::Connection> {
        let mut out: Vec<catalog::Connection> = Vec::new();
        let mut connections = self.api.connections();
        while let Some(item) = connections.next().await {
            match item {
                Listed::Item(c) => {
                    // One entry per id, the last listed (as a map by id kept it).
                    out.retain(|known| known.id != c.connection_id);
                    out.push(catalog::Connection {
                        id: c.connection_id,
                        name: c.name,
                        connection_type: c.connection_type,
                    });
                }
                Listed::Malformed(e) => self.status.warn(
                    "a connection could not be read; connectionServiceMap entries naming it may not apply",
                    Some(&e.id),
                    format!("connection lookup: {e}"),
                ),
                Listed::Failed(e) => {
                    self.status.warn_once(format!(
                        "connections could not be listed ({e}); connectionServiceMap entries keyed by name may not apply"
                    ));
                    break;
                }
            }
        }
        out
    }

    /// The org's workspaces, when the platform asks for them, and whether the listing is
    /// whole. A failed listing or a malformed entry is a warning (said once), never a
    /// failure: the platform places what it can and deletes nothing made from workspaces.
    async fn workspaces(&self) -> (Vec<super::model::Workspace>, bool) {
        let mut out: Vec<super::model::Workspace> = Vec::new();
        if !self.options.list_workspaces {
            return (out, false);
        }
        let mut complete = true;
        let mut workspaces = self.api.workspaces();
        while let Some(item) = workspaces.next().await {
            match item {
                Listed::Item(w) => {
                    out.retain(|known| known.workspace_id != w.workspace_id);
                    out.push(w);
                }
                Listed::Malformed(e) => {
                    complete = false;
                    self.status.warn(
                        "a workspace could not be read; what is in it is not placed in its container",
                        Some(&e.id),
                        format!("workspace listing: {e}"),
                    );
                }
                Listed::Failed(e) => {
                    self.status.warn_once(format!(
                        "workspaces could not be listed ({} {}: {}); documents and data models are written without workspace containers, and no workspace container is removed",
                        e.method(),
                        e.path(),
                        e.cause()
                    ));
                    return (Vec::new(), false);
                }
            }
        }
        (out, complete)
    }

    /// Every warehouse path this run knows (resolved or reused), for the next run.
    fn known_paths(&self) -> BTreeMap<String, ConnectionPath> {
        let paths = self.paths.lock().unwrap_or_else(|p| p.into_inner());
        paths
            .iter()
            .filter_map(|(inode, cell)| Some((inode.clone(), cell.get()?.clone()?)))
            .collect()
    }

    /// Where an `inode-` table lives, looked up once per run.
    async fn connection_path(&self, inode: &str) -> Result<Option<ConnectionPath>, ClientError> {
        let cell = {
            let mut paths = self.paths.lock().unwrap_or_else(|p| p.into_inner());
            paths.entry(inode.to_owned()).or_default().clone()
        };
        cell.get_or_try_init(|| self.api.connection_path(inode))
            .await
            .cloned()
    }
}

/// Workbook owners' emails by member id, and why there are none if members could not be
/// listed.
#[derive(Default)]
struct Owners {
    emails: HashMap<String, String>,
    listing_failed: Option<String>,
}

struct WorkbookCtx {
    ctx: Ctx,
    owners: Owners,
    /// The org's warehouse connections, as listed.
    connections: Arc<Vec<catalog::Connection>>,
    /// Set after the datasets phase: dataset urlId -> what stands for it.
    datasets: OnceCell<HashMap<String, DatasetEnd>>,
    /// Set after the data models phase.
    models: OnceCell<DataModelIndex>,
    /// Which phases may reuse the last run's items.
    reuse: Reuse,
    /// The digests of this run's inputs, each phase's as it ends.
    digests: Mutex<Digests>,
    /// How far the phases have got (see [`Known`]).
    known: tokio::sync::watch::Sender<Known>,
}

/// Collects a whole listing for one object; `Err` names the step.
async fn collect<T>(
    mut listing: BoxStream<'static, Listed<T>>,
    status: StatusHandle,
) -> Result<Vec<T>, ClientError> {
    let mut out = Vec::new();
    while let Some(item) = listing.next().await {
        match item {
            Listed::Item(v) => out.push(v),
            Listed::Malformed(e) => status.fail(&SourceError::Malformed(e)),
            Listed::Failed(e) => return Err(e),
        }
    }
    Ok(out)
}

/// What the selection checks need of a Sigma object.
struct Candidate<'a> {
    /// The status key for an object a filter drops (`dashboard`, `dataModel`).
    kind: &'static str,
    /// The status reason when Sigma says it is archived (`archived workbook`), else `None`.
    archived: Option<&'static str>,
    /// The Sigma path, for the project filter; `None` for objects without one (datasets).
    path: Option<&'a str>,
    name: &'a str,
    name_filter: &'a NameFilter,
}

impl WorkbookCtx {
    fn options(&self) -> &SourceOptions {
        &self.ctx.options
    }

    /// The selection every Sigma object goes through, written once: archived objects are
    /// skipped, then the project filter and the object's name filter apply. Counted in
    /// the status either way.
    fn selected(&self, c: Candidate<'_>) -> bool {
        if let Some(reason) = c.archived {
            self.ctx.status.skipped(reason);
            return false;
        }
        let project_allowed = c.path.is_none_or(|path| {
            self.options()
                .project_filter
                .allows(mapping::project_of(path))
        });
        if !project_allowed || !c.name_filter.allows(c.name) {
            self.ctx.status.filtered(c.kind);
            return false;
        }
        true
    }

    /// A warehouse table on `connection` (when known), with its type.
    fn warehouse(
        &self,
        connection: Option<&str>,
        path: Vec<String>,
        inode: Option<&str>,
    ) -> WarehouseTable {
        let connection_type = connection.and_then(|id| {
            self.connections
                .iter()
                .find(|c| c.id == id)
                .map(|c| c.connection_type.clone())
        });
        WarehouseTable {
            connection_id: connection.map(str::to_owned),
            connection_type,
            path,
            inode_id: inode.map(str::to_owned),
        }
    }

    /// Whether the platform written to can place `table`.
    fn places(&self, table: &WarehouseTable) -> bool {
        self.options().placement.places(&self.connections, table)
    }

    /// A table a custom SQL names, on `connection`, when the platform can place it.
    fn place_sql_table(
        &self,
        connection: Option<&str>,
        table: &sql::TableRef,
    ) -> Option<WarehouseTable> {
        let table = self.warehouse(connection, table.parts.clone(), None);
        self.places(&table).then_some(table)
    }

    /// The tables a SQL text reads (CTEs are not tables) that the platform can place, on
    /// `connection` (or wherever the platform puts them when it is unknown).
    fn tables_in_sql(&self, sql_text: &str, connection: Option<&str>) -> Vec<WarehouseTable> {
        match sql::tables_in(sql_text) {
            Ok(tables) => tables
                .into_iter()
                .map(|t| self.warehouse(connection, t.parts, None))
                .filter(|t| self.places(t))
                .collect(),
            Err(e) => {
                tracing::debug!("SQL not parsed: {e}");
                Vec::new()
            }
        }
    }

    /// The warehouse table behind an `inode-`, when the platform can place it; problems
    /// become warnings.
    async fn table_for_inode(&self, inode: &str) -> Option<WarehouseTable> {
        if self.options().placement.is_empty() {
            return None;
        }
        match self.ctx.connection_path(inode).await {
            Ok(Some(path)) if path.path.len() == 3 => {
                let connection = path.connection_id.clone();
                let table = self.warehouse(Some(&connection), path.path, Some(inode));
                if self.places(&table) {
                    return Some(table);
                }
                let name = table.path.join(".");
                let (group, detail) = self.options().placement.not_placed(&name, &connection);
                self.ctx.status.warn(&group, Some(&name), detail);
                None
            }
            Ok(_) => None,
            Err(e) => {
                self.ctx.status.warn(
                    &format!(
                        "warehouse tables could not be resolved ({}); lineage to them is skipped",
                        e.cause()
                    ),
                    Some(inode),
                    format!("table {inode} could not be resolved: {e}"),
                );
                None
            }
        }
    }
}
