//! Sigma workbooks: each as its charts, then its dashboard, then the lineage into it.

use super::*;

impl WorkbookCtx {
    pub(super) async fn expand_workbook(&self, wb: Workbook) -> Vec<SourceResult> {
        let items = self.expand_listed_workbook(wb).await;
        self.ctx.status.workbook_done();
        items
    }

    async fn expand_listed_workbook(&self, wb: Workbook) -> Vec<SourceResult> {
        let status = &self.ctx.status;
        let selected = self.selected(Candidate {
            kind: "dashboard",
            archived: wb.is_archived.then_some("archived workbook"),
            path: Some(&wb.path),
            name: &wb.name,
            name_filter: &self.options().dashboard_filter,
        });
        if !selected {
            return Vec::new();
        }
        if self.options().unchanged_workbooks.get(&wb.workbook_id) == Some(&wb.updated_at) {
            status.skipped("unchanged workbook");
            return vec![Ok(SourceItem::UnchangedWorkbook {
                dashboard_fqn: mapping::dashboard_fqn(self.options(), &wb.workbook_id),
                workbook_id: wb.workbook_id,
            })];
        }
        let mut items = self.expand_changed_workbook(&wb).await;
        for item in items.iter_mut().flatten() {
            if let SourceItem::Record { workbook_id, .. } = item {
                *workbook_id = Some(wb.workbook_id.clone());
            }
        }
        items
    }

    async fn expand_changed_workbook(&self, wb: &Workbook) -> Vec<SourceResult> {
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
        let mut charts: Vec<(&WorkbookPage, &WorkbookElement, Record)> = Vec::new();
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
            let record = mapping::chart(self.options(), wb, page, element, &name);
            charts.push((page, element, record));
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

        let chart_fqns: Vec<String> = charts.iter().map(|(_, _, d)| d.fqn()).collect();
        for (_, _, record) in charts {
            status.emitted(record.kind());
            items.push(Ok(record.into()));
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
        let dashboard_fqn = dashboard.fqn();
        status.emitted(dashboard.kind());
        items.push(Ok(dashboard.into()));
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
        charts: &[(&WorkbookPage, &WorkbookElement, Record)],
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
