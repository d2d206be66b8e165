//! Sigma datasets (`/v2/datasets`, retired by Sigma as a data source on 2026-09-15), by
//! migration state: a migrated dataset stands for nothing of its own (the data model it
//! became stands for it, and says so in `replacesDatasets`); any other stands for itself,
//! with the tables behind it (`/v2/datasets/{id}/sources` → `/v2/connections/paths/{inodeId}`),
//! since an element that reads it no longer has SQL to name them.

use super::*;
use crate::sigma::endpoints::Answer;

impl WorkbookCtx {
    /// A dataset's item, and what stands for it (by its urlId) for the elements that
    /// read it.
    pub(super) async fn dataset(
        &self,
        ds: Dataset,
    ) -> (Vec<SourceResult>, Option<(String, DatasetEnd)>) {
        let selected = self.selected(Candidate {
            kind: "dataModel",
            archived: ds.is_archived.then_some("archived dataset"),
            path: None,
            name: &ds.name,
            name_filter: &self.options().data_model_filter,
        });
        if !selected {
            return (Vec::new(), None);
        }
        let url_id = ds
            .url
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let group = Group::dataset(ds.dataset_id.clone());
        // What says it changed: `updatedAt`, and the migration state, which can change on
        // its own.
        let stamp = format!(
            "{}|{}|{}",
            ds.updated_at,
            ds.migration_status.as_deref().unwrap_or_default(),
            ds.migration_to_data_model
                .as_ref()
                .map_or("", |m| m.data_model_id.as_str())
        );
        let known = self
            .ctx
            .options
            .memory
            .datasets
            .get(&ds.dataset_id)
            .filter(|k| k.stamp == stamp && self.reuse.datasets.load(Ordering::Relaxed));
        if let Some(known) = known {
            self.ctx.status.skipped("unchanged dataset");
            let end = known.url_id.clone().zip(known.end.clone());
            return (vec![Ok(SourceItem::Unchanged { group })], end);
        }
        let seen = |end: &DatasetEnd| {
            Ok(SourceItem::Seen {
                group: group.clone(),
                known: KnownGroup {
                    url_id: url_id.clone(),
                    stamp: stamp.clone(),
                    elements: Vec::new(),
                    end: Some(end.clone()),
                },
            })
        };
        let mut item = catalog::Dataset {
            id: ds.dataset_id.clone(),
            url_id: url_id.clone(),
            name: ds.name.clone(),
            description: ds.description.clone(),
            url: ds.url.clone(),
            path: ds.path.clone().filter(|p| !p.is_empty()),
            created_at: Some(ds.created_at.clone()),
            updated_at: ds.updated_at.clone(),
            migration_status: ds.migration_status.clone(),
            migrated_to: ds
                .migration_to_data_model
                .as_ref()
                .map(|m| m.data_model_id.clone()),
            upstreams: Vec::new(),
        };
        if item.is_migrated() {
            if let Some(target) = &item.migrated_to {
                self.ctx.status.skipped("migrated dataset");
                let end = DatasetEnd::MigratedTo {
                    data_model_id: target.clone(),
                    dataset_id: ds.dataset_id.clone(),
                };
                let items = vec![Ok(Item::Dataset(item).into()), seen(&end)];
                return (items, url_id.clone().map(|u| (u, end)));
            }
        }
        item.upstreams = self.dataset_tables(&ds).await;
        let end = DatasetEnd::Emitted(ds.dataset_id.clone());
        let items = vec![Ok(Item::Dataset(item).into()), seen(&end)];
        (items, url_id.clone().map(|u| (u, end)))
    }

    /// The warehouse tables behind a dataset. A 404 or 410 on the first call (the probe)
    /// means the dataset API is gone from this org: said once, and not asked again this run;
    /// later, it is that dataset's own answer. A 409 `inode_archived` means
    /// the dataset has no table any more, which is not a failure.
    async fn dataset_tables(&self, ds: &Dataset) -> Vec<WarehouseTable> {
        let endpoints = &self.ctx.endpoints;
        if self.options().placement.is_empty() || endpoints.is_missing(Endpoint::DatasetSources) {
            return Vec::new();
        }
        // The first call probes alone: a dataset API retired everywhere costs one 404 or 410,
        // even with datasets expanded concurrently.
        let answer = endpoints
            .ask(
                Endpoint::DatasetSources,
                says_missing,
                self.ctx.api.dataset_sources(&ds.dataset_id),
            )
            .await;
        let sources = match answer {
            Answer::Missing { first: None } => return Vec::new(),
            Answer::Missing { first: Some(e) } => {
                self.dataset_api_gone(&e, ds);
                return Vec::new();
            }
            Answer::Got(Ok(sources)) => sources,
            // After the probe found the API present, a 404 or 410 is this dataset's alone
            // (deleted, or retired on its own): no table for it, one grouped warning.
            Answer::Got(Err(e)) if says_missing(&e) => {
                let status = e.status().map_or(0, |s| s.as_u16());
                self.ctx.status.warn(
                    &format!("the dataset API answered {status} for some datasets (retired or deleted); no table lineage for them"),
                    Some(&ds.dataset_id),
                    format!(
                        "the dataset API answered {status} for dataset `{}` ({}): no table lineage for it",
                        ds.name, ds.dataset_id
                    ),
                );
                return Vec::new();
            }
            Answer::Got(Err(e)) if e.status().map(|s| s.as_u16()) == Some(409) => {
                tracing::debug!(dataset = %ds.dataset_id, "dataset sources archived: no table");
                return Vec::new();
            }
            Answer::Got(Err(e)) => {
                self.ctx.status.warn(
                    &format!("dataset sources unavailable ({})", e.cause()),
                    Some(&ds.dataset_id),
                    format!(
                        "dataset `{}` ({}): sources unavailable: {e}",
                        ds.name, ds.dataset_id
                    ),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for source in sources {
            if let Some(inode) = source.inode_id.filter(|_| source.source_type == "table") {
                out.extend(self.table_for_inode(&inode).await);
            }
        }
        out
    }

    fn dataset_api_gone(&self, e: &ClientError, ds: &Dataset) {
        self.ctx.status.warn_once(format!(
            "the dataset API answered {} for dataset `{}`: Sigma has retired datasets here; no dataset table lineage for the rest of the run",
            e.status().map_or(0, |s| s.as_u16()),
            ds.name
        ));
    }
}
