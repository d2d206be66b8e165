//! `SigmaSource`: a Sigma org as an ordered, bounded-memory stream of OpenMetadata records.
//!
//! Phases, in order: the dashboard service; the context every workbook needs (members for
//! owners, connections for lineage); datasets and data models (so that dashboards can name
//! the data models they read); then workbooks, expanded concurrently but emitted in listing
//! order (`buffered`), each as its charts, then its dashboard, then its lineage edges.
//! Nothing is fetched twice in a run: members and connections are listed once, each
//! workbook's SQL comes from one `/queries` listing, and `inode-` lookups are cached.
//!
//! Failures are per object: they surface as `Err` items naming the object, the step and
//! the error, and the stream goes on. A listing that ends early yields
//! [`SourceError::IncompleteListing`]; the runner must not delete anything after one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures::stream::{self, BoxStream, StreamExt};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::client::{ClientError, SigmaClient};
use crate::config::{FilterPattern, Workflow};
use crate::records::{ColumnLineage, EntityType};
use crate::status::WarningGroups;

use super::api::{DecodeError, Listed, SigmaApi};
use super::filter::NameFilter;
use super::lineage::{ServiceMapping, upstream_sources};
use super::mapping::{self, RecordDraft};
use super::model::{
    ConnectionPath, DataModel, DataModelColumn, DataModelElement, Dataset, ElementLineage,
    Workbook, WorkbookElement, WorkbookPage,
};
use super::sql;

/// Everything the source needs from the workflow, checked once.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    pub service_name: String,
    /// The connection as OpenMetadata stores it on the service (no secret).
    pub connection_json: Value,
    pub dashboard_filter: NameFilter,
    pub chart_filter: NameFilter,
    pub data_model_filter: NameFilter,
    pub project_filter: NameFilter,
    pub include_owners: bool,
    pub include_tags: bool,
    pub include_data_models: bool,
    pub connection_service_map: BTreeMap<String, String>,
    pub db_service_prefixes: Vec<String>,
    /// Workbooks expanded at once (their requests share the client's limits).
    pub workbook_concurrency: usize,
    /// Incremental runs: workbook id -> `updatedAt` of the last run. A workbook still at
    /// that `updatedAt` is not expanded; an `unchanged` marker stands in for its records.
    pub unchanged_workbooks: HashMap<String, String>,
}

impl SourceOptions {
    pub fn from_workflow(workflow: &Workflow) -> Result<Self, regex::Error> {
        let conn = &workflow.source.service_connection.config;
        let sc = &workflow.source.source_config.config;
        let filter = |a: &Option<FilterPattern>, b: &Option<FilterPattern>| {
            NameFilter::new(a.iter().chain(b.iter()))
        };
        let mut prefixes: Vec<String> = sc
            .lineage_information
            .as_ref()
            .map(|l| l.db_service_prefixes.clone())
            .unwrap_or_default();
        prefixes.extend(sc.db_service_names.iter().cloned());
        Ok(Self {
            service_name: workflow.source.service_name.clone(),
            connection_json: conn.to_public_json(),
            dashboard_filter: filter(&conn.dashboard_filter_pattern, &sc.dashboard_filter_pattern)?,
            chart_filter: filter(&conn.chart_filter_pattern, &sc.chart_filter_pattern)?,
            data_model_filter: filter(
                &conn.data_model_filter_pattern,
                &sc.data_model_filter_pattern,
            )?,
            project_filter: filter(&conn.project_filter_pattern, &sc.project_filter_pattern)?,
            include_owners: sc.include_owners,
            include_tags: sc.include_tags,
            include_data_models: sc.include_data_models,
            connection_service_map: conn.connection_service_map.clone(),
            db_service_prefixes: prefixes,
            workbook_concurrency: (conn.max_concurrency as usize).clamp(1, 64),
            unchanged_workbooks: HashMap::new(),
        })
    }
}

/// A per-object failure, or a listing that ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("{kind} `{name}` ({id}): {step} failed: {message}")]
    Object {
        kind: &'static str,
        id: String,
        name: String,
        step: &'static str,
        message: String,
    },
    #[error("{0}")]
    Malformed(DecodeError),
    #[error("listing `{listing}` ended early after {items} items: {message}")]
    IncompleteListing {
        listing: String,
        items: u64,
        message: String,
    },
}

impl SourceError {
    /// The id of the Sigma object this failure is about, if any: the runner treats it as
    /// seen (never deleted) although no record was emitted for it.
    pub fn object_id(&self) -> Option<&str> {
        match self {
            SourceError::Object { id, .. } => Some(id),
            SourceError::Malformed(d) => Some(&d.id),
            SourceError::IncompleteListing { .. } => None,
        }
    }
}

/// How many examples of each problem the status keeps.
const EXAMPLES: usize = 5;

/// Counts and first examples of what the source did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    /// Records emitted, per kind.
    pub emitted: BTreeMap<String, u64>,
    /// Objects dropped by a filter pattern, per kind.
    pub filtered: BTreeMap<String, u64>,
    /// Objects skipped on purpose (archived, UI elements), per reason.
    pub skipped: BTreeMap<String, u64>,
    pub warnings: u64,
    pub warning_examples: Vec<String>,
    /// The same warnings, one entry per cause.
    pub warnings_by_cause: WarningGroups,
    pub failures: u64,
    pub failure_examples: Vec<String>,
    /// Listings that ended early: a run with any is not complete.
    pub incomplete_listings: Vec<String>,
    /// Workbooks Sigma says it has (from the listing's `total`), for progress.
    pub workbooks_total: Option<u64>,
    /// Workbooks finished with so far (expanded, filtered, skipped or failed), for progress.
    pub workbooks_done: u64,
}

impl SourceStatus {
    pub fn is_complete(&self) -> bool {
        self.incomplete_listings.is_empty()
    }
}

/// Shared, cheaply cloned view of the status while the stream runs.
#[derive(Debug, Clone, Default)]
pub struct StatusHandle {
    status: Arc<Mutex<SourceStatus>>,
    workbooks_total: Arc<AtomicU64>,
    workbooks_done: Arc<AtomicU64>,
}

impl StatusHandle {
    pub fn snapshot(&self) -> SourceStatus {
        let mut s = self.lock().clone();
        let total = self.workbooks_total.load(Ordering::Relaxed);
        s.workbooks_total = (total > 0).then_some(total);
        s.workbooks_done = self.workbooks_done.load(Ordering::Relaxed);
        s
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, SourceStatus> {
        // A panic elsewhere must not hide the counts: take the data even if poisoned.
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }
    fn emitted(&self, kind: &str) {
        *self.lock().emitted.entry(kind.to_owned()).or_default() += 1;
    }
    fn filtered(&self, kind: &str) {
        *self.lock().filtered.entry(kind.to_owned()).or_default() += 1;
    }
    fn skipped(&self, reason: &str) {
        *self.lock().skipped.entry(reason.to_owned()).or_default() += 1;
    }
    /// A warning: `cause` is what groups it (the same words for every object it affects),
    /// `object` the id it is about, `message` the whole story for the log and the examples.
    /// Only a cause's first occurrence is logged at WARN; the rest go to DEBUG, and the
    /// summary counts them all.
    fn warn(&self, cause: &str, object: Option<&str>, message: String) {
        let mut s = self.lock();
        s.warnings += 1;
        if s.warnings_by_cause.add(cause, object) {
            tracing::warn!("{message}");
        } else {
            tracing::debug!("{message}");
        }
        if s.warning_examples.len() < EXAMPLES {
            s.warning_examples.push(message);
        }
    }
    /// A cause that concerns the whole run, not one object.
    fn warn_once(&self, cause: String) {
        self.warn(&cause, None, cause.clone());
    }
    fn fail(&self, error: &SourceError) {
        tracing::warn!("{error}");
        let mut s = self.lock();
        s.failures += 1;
        if s.failure_examples.len() < EXAMPLES {
            s.failure_examples.push(error.to_string());
        }
        if let SourceError::IncompleteListing { listing, .. } = error {
            s.incomplete_listings.push(listing.clone());
        }
    }
}

pub type SourceItem = Result<RecordDraft, SourceError>;

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

    /// The record stream. Every `Err` is also counted in the status.
    pub fn records(self) -> BoxStream<'static, SourceItem> {
        let status = self.status.clone();
        let ctx = Ctx {
            api: self.api,
            options: self.options,
            status: self.status,
            paths: Arc::new(Mutex::new(HashMap::new())),
        };
        async_stream::stream! {
            let service = mapping::dashboard_service(&ctx.options);
            ctx.status.emitted(service.kind);
            yield Ok(service);

            let (owners, connections) = tokio::join!(ctx.member_emails(), ctx.connection_names());
            let mapping = Arc::new(ServiceMapping::new(
                &ctx.options.connection_service_map,
                &ctx.options.db_service_prefixes,
                &connections,
            ));
            if mapping.is_empty() {
                ctx.status.warn_once(
                    "lineage to warehouse tables is skipped: set lineageInformation.dbServicePrefixes or connectionServiceMap to map Sigma connections to OpenMetadata database services".into(),
                );
            }
            let wctx = Arc::new(WorkbookCtx { ctx: ctx.clone(), owners, mapping, models: Default::default() });

            if ctx.options.include_data_models {
                let mut models = DataModelIndex::default();
                let mut datasets = ctx.api.datasets();
                let mut count = 0u64;
                while let Some(item) = datasets.next().await {
                    match item {
                        Listed::Item(ds) => {
                            count += 1;
                            if let Some(item) = wctx.dataset(ds, &mut models) { yield item; }
                        }
                        Listed::Malformed(e) => yield Err(ctx.failed(SourceError::Malformed(e))),
                        Listed::Failed(e) => yield Err(ctx.failed(incomplete("datasets", count, &e))),
                    }
                }
                let listing = ctx.api.data_models();
                let expanded = listing
                    .map(|item| {
                        let wctx = wctx.clone();
                        async move {
                            match item {
                                Listed::Item(dm) => DataModelOutcome::Expanded(wctx.expand_data_model(dm).await),
                                Listed::Malformed(e) => DataModelOutcome::Error(SourceError::Malformed(e)),
                                Listed::Failed(e) => DataModelOutcome::ListingFailed(e),
                            }
                        }
                    })
                    .buffered(ctx.options.workbook_concurrency);
                futures::pin_mut!(expanded);
                let mut count = 0u64;
                while let Some(outcome) = expanded.next().await {
                    match outcome {
                        DataModelOutcome::Expanded(Some((dm_url_id, fqns, items))) => {
                            count += 1;
                            models.data_models.insert(dm_url_id, fqns);
                            for item in items { yield item; }
                        }
                        DataModelOutcome::Expanded(None) => count += 1,
                        DataModelOutcome::Error(e) => yield Err(ctx.failed(e)),
                        DataModelOutcome::ListingFailed(e) => yield Err(ctx.failed(incomplete("dataModels", count, &e))),
                    }
                }
                // Workbooks start only after every data model is known.
                let _ = wctx.models.set(models);
            } else {
                let _ = wctx.models.set(DataModelIndex::default());
            }

            let listing = ctx.api.workbooks(ctx.status.workbooks_total.clone());
            let expanded = listing
                .map(|item| {
                    let wctx = wctx.clone();
                    async move {
                        match item {
                            Listed::Item(wb) => WorkbookOutcome::Expanded(wctx.expand_workbook(wb).await),
                            Listed::Malformed(e) => WorkbookOutcome::Error(SourceError::Malformed(e)),
                            Listed::Failed(e) => WorkbookOutcome::ListingFailed(e),
                        }
                    }
                })
                .buffered(ctx.options.workbook_concurrency);
            futures::pin_mut!(expanded);
            let mut count = 0u64;
            while let Some(outcome) = expanded.next().await {
                match outcome {
                    WorkbookOutcome::Expanded(items) => {
                        count += 1;
                        for item in items { yield item; }
                    }
                    WorkbookOutcome::Error(e) => yield Err(ctx.failed(e)),
                    WorkbookOutcome::ListingFailed(e) => yield Err(ctx.failed(incomplete("workbooks", count, &e))),
                }
            }
            drop(status);
        }
        .boxed()
    }
}

enum WorkbookOutcome {
    Expanded(Vec<SourceItem>),
    Error(SourceError),
    ListingFailed(ClientError),
}

type ExpandedModel = Option<(String, Vec<String>, Vec<SourceItem>)>;

enum DataModelOutcome {
    Expanded(ExpandedModel),
    Error(SourceError),
    ListingFailed(ClientError),
}

fn incomplete(listing: &str, items: u64, error: &ClientError) -> SourceError {
    SourceError::IncompleteListing {
        listing: listing.to_owned(),
        items,
        message: error.to_string(),
    }
}

/// What a data-model or dataset `inode-` node resolves to.
#[derive(Debug, Default)]
struct DataModelIndex {
    /// dataModelUrlId -> FQNs of its elements' data models.
    data_models: HashMap<String, Vec<String>>,
    /// dataset urlId -> its data model FQN.
    datasets: HashMap<String, String>,
}

type PathCell = Arc<OnceCell<Option<ConnectionPath>>>;

#[derive(Clone)]
struct Ctx {
    api: SigmaApi,
    options: Arc<SourceOptions>,
    status: StatusHandle,
    /// inode id -> where it lives; one lookup per id per run, however many ask at once.
    paths: Arc<Mutex<HashMap<String, PathCell>>>,
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

    async fn connection_names(&self) -> HashMap<String, String> {
        let mut out = HashMap::new();
        let mut connections = self.api.connections();
        while let Some(item) = connections.next().await {
            match item {
                Listed::Item(c) => {
                    out.insert(c.connection_id, c.name);
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
    mapping: Arc<ServiceMapping>,
    models: OnceCell<DataModelIndex>,
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

impl WorkbookCtx {
    fn options(&self) -> &SourceOptions {
        &self.ctx.options
    }

    fn dataset(&self, ds: Dataset, index: &mut DataModelIndex) -> Option<SourceItem> {
        if ds.is_archived {
            self.ctx.status.skipped("archived dataset");
            return None;
        }
        if !self.options().data_model_filter.allows(&ds.name) {
            self.ctx.status.filtered("dataModel");
            return None;
        }
        let draft = mapping::dataset(self.options(), &ds);
        if let Some(url_id) = ds.url.rsplit('/').next().filter(|s| !s.is_empty()) {
            index.datasets.insert(url_id.to_owned(), draft.fqn.clone());
        }
        self.ctx.status.emitted(draft.kind);
        Some(Ok(draft))
    }

    /// A data model's elements as data models, and the lineage from the tables they read.
    async fn expand_data_model(&self, dm: DataModel) -> ExpandedModel {
        if dm.is_archived {
            self.ctx.status.skipped("archived data model");
            return None;
        }
        if !self.options().data_model_filter.allows(&dm.name) {
            self.ctx.status.filtered("dataModel");
            return None;
        }
        if !self
            .options()
            .project_filter
            .allows(mapping::project_of(&dm.path))
        {
            self.ctx.status.filtered("dataModel");
            return None;
        }
        let status = &self.ctx.status;
        let (elements, columns) = tokio::join!(
            collect(
                self.ctx.api.data_model_elements(&dm.data_model_id),
                status.clone()
            ),
            collect(
                self.ctx.api.data_model_columns(&dm.data_model_id),
                status.clone()
            ),
        );
        let fail = |step, e: ClientError| {
            let err = SourceError::Object {
                kind: "dataModel",
                id: dm.data_model_id.clone(),
                name: dm.name.clone(),
                step,
                message: e.to_string(),
            };
            Some((
                dm.data_model_url_id.clone(),
                Vec::new(),
                vec![Err(self.ctx.failed(err))],
            ))
        };
        let elements = match elements {
            Ok(v) => v,
            Err(e) => return fail("elements", e),
        };
        let columns = match columns {
            Ok(v) => v,
            Err(e) => return fail("columns", e),
        };
        let mut items = Vec::new();
        let mut fqns = Vec::new();
        let mut by_name: HashMap<String, (String, &DataModelElement)> = HashMap::new();
        for element in &elements {
            let cols: Vec<&DataModelColumn> = columns
                .iter()
                .filter(|c| c.element_id.as_deref() == Some(element.element_id.as_str()))
                .collect();
            let draft = mapping::data_model_element(self.options(), &dm, element, &cols);
            by_name.insert(
                element.name.clone().unwrap_or_default().to_lowercase(),
                (draft.fqn.clone(), element),
            );
            fqns.push(draft.fqn.clone());
            self.ctx.status.emitted(draft.kind);
            items.push(Ok(draft));
        }
        // Lineage into each element: from its warehouse table, and from sibling elements
        // its formulas read (`[Sibling/Column]`).
        for (element, fqn) in elements.iter().zip(&fqns) {
            let cols: Vec<&DataModelColumn> = columns
                .iter()
                .filter(|c| c.element_id.as_deref() == Some(element.element_id.as_str()))
                .collect();
            if let Some(inode) = &element.source_table {
                for table in self.table_fqns_for_inode(inode).await {
                    let pairs = mapping::column_pairs(&cols, &table.fqn, &table.name, fqn);
                    items.push(Ok(self.lineage(
                        EntityType::Table,
                        &table.fqn,
                        EntityType::DashboardDataModel,
                        fqn,
                        pairs,
                        table.candidates,
                    )));
                }
            }
            let mut siblings: BTreeMap<String, Vec<&DataModelColumn>> = BTreeMap::new();
            for col in &cols {
                for (source, _) in mapping::formula_refs(col.formula.as_deref().unwrap_or_default())
                {
                    if let Some((sib_fqn, sib)) = by_name.get(&source.to_lowercase()) {
                        if sib.element_id != element.element_id {
                            siblings.entry(sib_fqn.clone()).or_default().push(col);
                        }
                    }
                }
            }
            for (sib_fqn, _) in siblings {
                let source_name = by_name
                    .values()
                    .find(|(f, _)| *f == sib_fqn)
                    .and_then(|(_, e)| e.name.clone())
                    .unwrap_or_default();
                let pairs = mapping::column_pairs(&cols, &sib_fqn, &source_name, fqn);
                items.push(Ok(self.lineage(
                    EntityType::DashboardDataModel,
                    &sib_fqn,
                    EntityType::DashboardDataModel,
                    fqn,
                    pairs,
                    Vec::new(),
                )));
            }
        }
        Some((dm.data_model_url_id.clone(), fqns, items))
    }

    fn lineage(
        &self,
        from_type: EntityType,
        from_fqn: &str,
        to_type: EntityType,
        to_fqn: &str,
        columns: Vec<ColumnLineage>,
        candidates: Vec<String>,
    ) -> RecordDraft {
        let draft = mapping::lineage(from_type, from_fqn, to_type, to_fqn, columns, candidates);
        self.ctx.status.emitted(draft.kind);
        draft
    }

    /// Table FQN candidates for a warehouse `inode-`; problems become warnings.
    async fn table_fqns_for_inode(&self, inode: &str) -> Vec<TableEnd> {
        if self.mapping.is_empty() {
            return Vec::new();
        }
        match self.ctx.connection_path(inode).await {
            Ok(Some(path)) if path.path.len() == 3 => {
                let candidates = self
                    .mapping
                    .table_fqns(Some(&path.connection_id), &path.path);
                match candidates.first() {
                    Some(first) => vec![TableEnd {
                        fqn: first.clone(),
                        name: path.path[2].clone(),
                        candidates: candidates[1..].to_vec(),
                    }],
                    None => {
                        let table = path.path.join(".");
                        self.ctx.status.warn(
                            "tables match no database service prefix (lineageInformation.dbServicePrefixes, connectionServiceMap); lineage to them is skipped",
                            Some(&table),
                            format!(
                                "table {table} (connection {}) matches no database service prefix; lineage to it is skipped",
                                path.connection_id
                            ),
                        );
                        Vec::new()
                    }
                }
            }
            Ok(_) => Vec::new(),
            Err(e) => {
                self.ctx.status.warn(
                    &format!(
                        "warehouse tables could not be resolved ({}); lineage to them is skipped",
                        e.cause()
                    ),
                    Some(inode),
                    format!("table {inode} could not be resolved: {e}"),
                );
                Vec::new()
            }
        }
    }

    async fn expand_workbook(&self, wb: Workbook) -> Vec<SourceItem> {
        let items = self.expand_listed_workbook(wb).await;
        self.ctx
            .status
            .workbooks_done
            .fetch_add(1, Ordering::Relaxed);
        items
    }

    async fn expand_listed_workbook(&self, wb: Workbook) -> Vec<SourceItem> {
        let status = &self.ctx.status;
        if wb.is_archived {
            status.skipped("archived workbook");
            return Vec::new();
        }
        let project = mapping::project_of(&wb.path);
        if !self.options().project_filter.allows(project) {
            status.filtered("dashboard");
            return Vec::new();
        }
        if !self.options().dashboard_filter.allows(&wb.name) {
            status.filtered("dashboard");
            return Vec::new();
        }
        if self.options().unchanged_workbooks.get(&wb.workbook_id) == Some(&wb.updated_at) {
            status.skipped("unchanged workbook");
            return vec![Ok(mapping::unchanged(self.options(), &wb))];
        }
        let mut items = self.expand_changed_workbook(&wb).await;
        for item in items.iter_mut().flatten() {
            item.workbook_id = Some(wb.workbook_id.clone());
        }
        items
    }

    async fn expand_changed_workbook(&self, wb: &Workbook) -> Vec<SourceItem> {
        let status = &self.ctx.status;
        let fail = |step: &'static str, e: &dyn std::fmt::Display| {
            vec![Err(self.ctx.failed(SourceError::Object {
                kind: "dashboard",
                id: wb.workbook_id.clone(),
                name: wb.name.clone(),
                step,
                message: e.to_string(),
            }))]
        };
        let (pages, queries) = tokio::join!(
            collect(self.ctx.api.pages(&wb.workbook_id), status.clone()),
            collect(self.ctx.api.queries(&wb.workbook_id), status.clone()),
        );
        let pages: Vec<WorkbookPage> = match pages {
            Ok(p) => p,
            Err(e) => return fail("pages", &e),
        };
        // Queries feed lineage only: without them the workbook still ingests.
        let sql_by_element: HashMap<String, String> = match queries {
            Ok(q) => q
                .into_iter()
                .filter_map(|q| q.sql.map(|sql| (q.element_id, sql)))
                .collect(),
            Err(e) => {
                status.warn(
                    &format!(
                        "workbook element SQL unavailable ({}); lineage comes from the lineage graph only",
                        e.cause()
                    ),
                    Some(&wb.workbook_id),
                    format!(
                        "workbook `{}` ({}): element SQL unavailable ({e}); lineage comes from the lineage graph only",
                        wb.name, wb.workbook_id
                    ),
                );
                HashMap::new()
            }
        };
        let listings: Vec<_> = pages
            .iter()
            .map(|p| {
                collect(
                    self.ctx.api.elements(&wb.workbook_id, &p.page_id),
                    status.clone(),
                )
            })
            .collect();
        let element_lists = futures::future::join_all(listings).await;
        let mut elements: Vec<(&WorkbookPage, WorkbookElement)> = Vec::new();
        for (page, list) in pages.iter().zip(element_lists) {
            match list {
                Ok(list) => elements.extend(list.into_iter().map(|e| (page, e))),
                Err(e) => return fail("elements", &e),
            }
        }

        // Charts, in page and element order.
        let mut items = Vec::new();
        let mut charts: Vec<(&WorkbookPage, &WorkbookElement, RecordDraft)> = Vec::new();
        for (index, (page, element)) in elements.iter().enumerate() {
            if !mapping::is_chart(element) {
                status.skipped("non-chart element");
                continue;
            }
            let name = mapping::element_display_name(element, page, index);
            if !self.options().chart_filter.allows(&name) {
                status.filtered("chart");
                continue;
            }
            let draft = mapping::chart(self.options(), wb, page, element, &name);
            charts.push((page, element, draft));
        }

        // Lineage of every chart element, concurrently; UI elements are never asked.
        let element_ids: Vec<String> = charts
            .iter()
            .map(|(_, e, _)| e.element_id.clone())
            .collect();
        let api = self.ctx.api.clone();
        let workbook_id = wb.workbook_id.clone();
        let results: Vec<(String, Result<Option<ElementLineage>, ClientError>)> =
            stream::iter(element_ids)
                .map(move |element_id| {
                    let api = api.clone();
                    let workbook_id = workbook_id.clone();
                    async move {
                        let lineage = api.element_lineage(&workbook_id, &element_id).await;
                        (element_id, lineage)
                    }
                })
                .buffered(8)
                .collect()
                .await;
        let lineages: Vec<Option<ElementLineage>> = results
            .into_iter()
            .map(|(element_id, result)| match result {
                Ok(l) => l,
                Err(e) => {
                    status.warn(
                        &format!("element lineage unavailable ({})", e.cause()),
                        Some(&format!("{}/{element_id}", wb.workbook_id)),
                        format!(
                            "workbook `{}` element {element_id}: lineage unavailable: {e}",
                            wb.name
                        ),
                    );
                    None
                }
            })
            .collect();

        let ends = self
            .workbook_sources(&charts, &lineages, &sql_by_element)
            .await;

        let chart_fqns: Vec<String> = charts.iter().map(|(_, _, d)| d.fqn.clone()).collect();
        for (_, _, draft) in charts {
            status.emitted(draft.kind);
            items.push(Ok(draft));
        }
        let owner = if self.options().include_owners {
            match (
                self.owners.emails.get(&wb.owner_id),
                &self.owners.listing_failed,
            ) {
                (Some(email), _) => Some(email.clone()),
                (None, Some(cause)) => {
                    status.warn(
                        cause,
                        Some(&wb.workbook_id),
                        format!("workbook `{}`: no owner set: {cause}", wb.name),
                    );
                    None
                }
                (None, None) => {
                    status.warn(
                        "workbook owners are not listed members (deactivated, or not visible to these credentials); no owner set",
                        Some(&wb.workbook_id),
                        format!(
                            "workbook `{}`: owner {} is not a listed member; no owner set",
                            wb.name, wb.owner_id
                        ),
                    );
                    None
                }
            }
        } else {
            None
        };
        let tags: Vec<String> = if self.options().include_tags {
            wb.tags.iter().map(|t| t.name.clone()).collect()
        } else {
            Vec::new()
        };
        let data_model_fqns: Vec<String> = ends.data_models.iter().cloned().collect();
        let dashboard = mapping::dashboard(
            self.options(),
            wb,
            chart_fqns,
            data_model_fqns.clone(),
            owner,
            tags,
        );
        let dashboard_fqn = dashboard.fqn.clone();
        status.emitted(dashboard.kind);
        items.push(Ok(dashboard));
        for dm in data_model_fqns {
            items.push(Ok(self.lineage(
                EntityType::DashboardDataModel,
                &dm,
                EntityType::Dashboard,
                &dashboard_fqn,
                Vec::new(),
                Vec::new(),
            )));
        }
        for table in ends.tables.into_values() {
            items.push(Ok(self.lineage(
                EntityType::Table,
                &table.fqn,
                EntityType::Dashboard,
                &dashboard_fqn,
                Vec::new(),
                table.candidates,
            )));
        }
        items
    }

    /// What the workbook's charts read: data models (by FQN) and warehouse tables, from
    /// the lineage graphs (`inode-` nodes, following sheet-to-sheet edges) and each
    /// element's SQL.
    async fn workbook_sources(
        &self,
        charts: &[(&WorkbookPage, &WorkbookElement, RecordDraft)],
        lineages: &[Option<ElementLineage>],
        sql_by_element: &HashMap<String, String>,
    ) -> WorkbookEnds {
        let mut ends = WorkbookEnds::default();
        let models = self.models.get();
        let mut inodes = BTreeSet::new();
        let mut connections_seen = BTreeSet::new();
        for lineage in lineages.iter().flatten() {
            for node in upstream_sources(lineage) {
                match node.node_type.as_str() {
                    "table" => {
                        inodes.insert(node.node_id.clone());
                    }
                    "data-model" => {
                        let url_id = node.node_id.trim_start_matches("inode-");
                        if let Some(fqns) = models.and_then(|m| m.data_models.get(url_id)) {
                            ends.data_models.extend(fqns.iter().cloned());
                        }
                    }
                    "dataset" => {
                        let url_id = node.node_id.trim_start_matches("inode-");
                        if let Some(fqn) = models.and_then(|m| m.datasets.get(url_id)) {
                            ends.data_models.insert(fqn.clone());
                        }
                    }
                    _ => {}
                }
            }
        }
        if self.mapping.is_empty() {
            return ends;
        }
        for inode in &inodes {
            if let Ok(Some(path)) = self.ctx.connection_path(inode).await {
                connections_seen.insert(path.connection_id.clone());
            }
            for table in self.table_fqns_for_inode(inode).await {
                ends.tables.entry(table.fqn.clone()).or_insert(table);
            }
        }
        // SQL names tables without a connection: when every inode table of this workbook
        // is on one connection, that is the connection; otherwise the prefixes decide.
        let connection = (connections_seen.len() == 1)
            .then(|| connections_seen.iter().next().cloned())
            .flatten();
        for (_, element, _) in charts {
            let Some(sql_text) = sql_by_element.get(&element.element_id) else {
                continue;
            };
            match sql::tables_in(sql_text) {
                Ok(tables) => {
                    for t in tables {
                        let candidates = self.mapping.table_fqns(connection.as_deref(), &t.parts);
                        if let Some(first) = candidates.first() {
                            ends.tables.entry(first.clone()).or_insert(TableEnd {
                                fqn: first.clone(),
                                name: t.table().to_owned(),
                                candidates: candidates[1..].to_vec(),
                            });
                        }
                    }
                }
                Err(e) => tracing::debug!(element = %element.element_id, "SQL not parsed: {e}"),
            }
        }
        ends
    }
}

#[derive(Debug, Default)]
struct WorkbookEnds {
    data_models: BTreeSet<String>,
    tables: BTreeMap<String, TableEnd>,
}

#[derive(Debug, Clone)]
struct TableEnd {
    fqn: String,
    name: String,
    /// Further FQNs to try, in order, when the first does not exist in OpenMetadata.
    candidates: Vec<String>,
}
