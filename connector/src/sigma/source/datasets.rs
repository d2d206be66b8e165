//! Sigma datasets (`/v2/datasets`, deprecated by Sigma and still ingested) as data models.

use super::*;

impl WorkbookCtx {
    pub(super) fn dataset(&self, ds: Dataset, index: &mut DataModelIndex) -> Option<SourceResult> {
        let selected = self.selected(Candidate {
            kind: "dataModel",
            archived: ds.is_archived.then_some("archived dataset"),
            path: None,
            name: &ds.name,
            name_filter: &self.options().data_model_filter,
        });
        if !selected {
            return None;
        }
        let record = mapping::dataset(self.options(), &ds);
        if let Some(url_id) = ds.url.rsplit('/').next().filter(|s| !s.is_empty()) {
            index.datasets.insert(url_id.to_owned(), record.fqn());
        }
        self.ctx.status.emitted(record.kind());
        Some(Ok(record.into()))
    }
}
