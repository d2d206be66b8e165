//! The organisation the sandbox serves: its entities (see `sandbox::entities`, re-exported
//! here) plus the indexes that keep every lookup O(1) and every page O(page size), whatever
//! the org's size.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

pub use super::entities::*;

/// What a generated org produces on request instead of storing: the org only knows this
/// trait, so it does not depend on the generator that implements it.
pub trait GeneratedContent: std::fmt::Debug + Send + Sync {
    /// The pages of the `workbook_index`th workbook, with elements, SQL and lineage.
    fn pages(&self, workbook_index: usize, workbook: &Workbook, org: &Org) -> Vec<Page>;
    /// The pages of the `report_index`th report.
    fn report_pages(&self, report_index: usize, report: &Report, org: &Org) -> Vec<Page>;
}

/// Where a `/v2/files/{id}` lookup lands.
#[derive(Debug, Clone, Copy)]
pub enum FileRef {
    Workspace(usize),
    Folder(usize),
    Workbook(usize),
    Dataset(usize),
    Table(usize),
}

/// The file types in the order `/v2/files` lists them.
pub const FILE_KINDS: [&str; 5] = ["workspace", "folder", "workbook", "dataset", "table"];

/// A whole Sigma organisation held in memory, with its lookup indexes.
#[derive(Debug, Default)]
pub struct Org {
    pub organization_id: String,
    pub workspaces: Vec<Workspace>,
    pub folders: Vec<Folder>,
    pub members: Vec<Member>,
    pub connections: Vec<Connection>,
    pub tables: Vec<WarehouseTable>,
    pub workbooks: Vec<Workbook>,
    pub datasets: Vec<Dataset>,
    pub data_models: Vec<DataModel>,
    pub reports: Vec<Report>,
    pub teams: Vec<Team>,
    /// Set for a generated org: pages and elements are produced on request from this.
    pub synthetic: Option<Arc<dyn GeneratedContent>>,
    pub(super) workspace_index: HashMap<String, usize>,
    pub(super) member_index: HashMap<String, usize>,
    pub(super) connection_index: HashMap<String, usize>,
    pub(super) workbook_index: HashMap<String, usize>,
    pub(super) dataset_index: HashMap<String, usize>,
    pub(super) data_model_index: HashMap<String, usize>,
    /// By report id and urlId.
    pub(super) report_index: HashMap<String, usize>,
    /// By id and by urlId.
    pub(super) file_index: HashMap<String, FileRef>,
    /// Indexes of the unarchived workbooks, so the default listing pages by offset.
    pub(super) live_workbooks: Vec<usize>,
    pub(super) archived_workbooks: Vec<usize>,
}

impl Org {
    /// Builds every index. Call once after filling the entity vectors.
    pub fn index(mut self) -> Self {
        fn by<T>(items: &[T], key: impl Fn(&T) -> &str) -> HashMap<String, usize> {
            items
                .iter()
                .enumerate()
                .map(|(i, t)| (key(t).to_owned(), i))
                .collect()
        }
        for model in &mut self.data_models {
            for element in &mut model.elements {
                for column in &mut element.columns {
                    column.element_id.clone_from(&element.element_id);
                }
            }
        }
        self.workspace_index = by(&self.workspaces, |w| &w.workspace_id);
        self.member_index = by(&self.members, |m| &m.member_id);
        self.connection_index = by(&self.connections, |c| &c.connection_id);
        self.workbook_index = by(&self.workbooks, |w| &w.workbook_id);
        for (i, w) in self.workbooks.iter().enumerate() {
            self.workbook_index.insert(w.workbook_url_id.clone(), i);
        }
        self.report_index = by(&self.reports, |r| &r.report_id);
        for (i, r) in self.reports.iter().enumerate() {
            self.report_index.insert(r.report_url_id.clone(), i);
        }
        self.dataset_index = by(&self.datasets, |d| &d.dataset_id);
        self.data_model_index = by(&self.data_models, |d| &d.data_model_id);
        for (i, d) in self.data_models.iter().enumerate() {
            self.data_model_index.insert(d.data_model_url_id.clone(), i);
        }
        let mut files = HashMap::new();
        for (i, w) in self.workspaces.iter().enumerate() {
            files.insert(w.workspace_id.clone(), FileRef::Workspace(i));
        }
        for (i, f) in self.folders.iter().enumerate() {
            files.insert(f.id.clone(), FileRef::Folder(i));
            files.insert(f.url_id.clone(), FileRef::Folder(i));
        }
        for (i, w) in self.workbooks.iter().enumerate() {
            files.insert(w.workbook_id.clone(), FileRef::Workbook(i));
            files.insert(w.workbook_url_id.clone(), FileRef::Workbook(i));
        }
        for (i, d) in self.datasets.iter().enumerate() {
            files.insert(d.dataset_id.clone(), FileRef::Dataset(i));
            files.insert(d.url_id.clone(), FileRef::Dataset(i));
        }
        for (i, t) in self.tables.iter().enumerate() {
            files.insert(t.url_id.clone(), FileRef::Table(i));
            files.insert(format!("inode-{}", t.url_id), FileRef::Table(i));
        }
        self.file_index = files;
        self.live_workbooks = (0..self.workbooks.len())
            .filter(|&i| !self.workbooks[i].is_archived)
            .collect();
        self.archived_workbooks = (0..self.workbooks.len())
            .filter(|&i| self.workbooks[i].is_archived)
            .collect();
        self
    }

    pub fn workspace(&self, id: &str) -> Option<&Workspace> {
        self.workspace_index.get(id).map(|&i| &self.workspaces[i])
    }
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.member_index.get(id).map(|&i| &self.members[i])
    }
    pub fn connection(&self, id: &str) -> Option<&Connection> {
        self.connection_index.get(id).map(|&i| &self.connections[i])
    }
    /// By workbook id or urlId.
    pub fn workbook(&self, id: &str) -> Option<(usize, &Workbook)> {
        self.workbook_index
            .get(id)
            .map(|&i| (i, &self.workbooks[i]))
    }
    pub fn dataset(&self, id: &str) -> Option<&Dataset> {
        self.dataset_index.get(id).map(|&i| &self.datasets[i])
    }
    pub fn data_model(&self, id: &str) -> Option<&DataModel> {
        self.data_model_index.get(id).map(|&i| &self.data_models[i])
    }
    /// By report id or urlId.
    pub fn report(&self, id: &str) -> Option<&Report> {
        self.report_index.get(id).map(|&i| &self.reports[i])
    }
    /// A data model by the urlId its lineage node ids carry (`inode-<urlId>`), or by id.
    /// `<urlId>/<elementId>` names one of its elements, and finds the data model too.
    pub fn data_model_by_node(&self, node_id: &str) -> Option<&DataModel> {
        let id = node_id.strip_prefix("inode-").unwrap_or(node_id);
        self.data_model(id.split_once('/').map_or(id, |(model, _)| model))
    }
    /// A dataset by `inode-<urlId>`, urlId or id.
    pub fn dataset_by_node(&self, node_id: &str) -> Option<&Dataset> {
        let key = node_id.strip_prefix("inode-").unwrap_or(node_id);
        match self.file(key)? {
            FileRef::Dataset(i) => Some(&self.datasets[i]),
            _ => None,
        }
    }
    pub fn file(&self, id: &str) -> Option<FileRef> {
        self.file_index.get(id).copied()
    }
    pub fn table_by_inode(&self, inode_id: &str) -> Option<&WarehouseTable> {
        match self.file(inode_id)? {
            FileRef::Table(i) => Some(&self.tables[i]),
            _ => None,
        }
    }

    /// Workbook indexes visible in a listing: live ones, or the archived ones as well.
    pub fn listed_workbooks(&self, include_archived: bool) -> ListedWorkbooks<'_> {
        ListedWorkbooks {
            org: self,
            include_archived,
        }
    }

    /// A workbook's pages: stored for fixtures, generated for a synthetic org.
    pub fn pages(&self, workbook_index: usize) -> Cow<'_, [Page]> {
        let workbook = &self.workbooks[workbook_index];
        match &self.synthetic {
            Some(generator) if workbook.pages.is_empty() => {
                Cow::Owned(generator.pages(workbook_index, workbook, self))
            }
            _ => Cow::Borrowed(&workbook.pages),
        }
    }

    /// A report's pages: stored for fixtures, generated for a synthetic org.
    pub fn report_pages<'a>(&'a self, report: &'a Report) -> Cow<'a, [Page]> {
        match &self.synthetic {
            Some(generator) if report.pages.is_empty() => {
                let index = self
                    .report_index
                    .get(&report.report_id)
                    .copied()
                    .unwrap_or(0);
                Cow::Owned(generator.report_pages(index, report, self))
            }
            _ => Cow::Borrowed(&report.pages),
        }
    }

    /// The `/v2/files` entry for a file, in the spec's shape.
    pub fn file_entry(&self, file: FileRef) -> Value {
        match file {
            FileRef::Workspace(i) => {
                let w = &self.workspaces[i];
                file_json(FileFields {
                    id: &w.workspace_id,
                    url_id: &w.workspace_id,
                    name: &w.name,
                    kind: "workspace",
                    parent_id: &w.workspace_id,
                    path: &w.name,
                    owner_id: Some(&w.created_by),
                    created_by: &w.created_by,
                    updated_by: &w.updated_by,
                    created_at: &w.created_at,
                    updated_at: &w.updated_at,
                    is_archived: false,
                })
            }
            FileRef::Folder(i) => {
                let f = &self.folders[i];
                file_json(FileFields {
                    id: &f.id,
                    url_id: &f.url_id,
                    name: &f.name,
                    kind: "folder",
                    parent_id: &f.parent_id,
                    path: &f.path,
                    owner_id: Some(&f.owner_id),
                    created_by: &f.created_by,
                    updated_by: &f.created_by,
                    created_at: &f.created_at,
                    updated_at: &f.created_at,
                    is_archived: false,
                })
            }
            FileRef::Workbook(i) => {
                let w = &self.workbooks[i];
                file_json(FileFields {
                    id: &w.workbook_id,
                    url_id: &w.workbook_url_id,
                    name: &w.name,
                    kind: "workbook",
                    parent_id: &w.folder_id,
                    path: &w.path,
                    owner_id: Some(&w.owner_id),
                    created_by: &w.created_by,
                    updated_by: &w.updated_by,
                    created_at: &w.created_at,
                    updated_at: &w.updated_at,
                    is_archived: w.is_archived,
                })
            }
            FileRef::Dataset(i) => {
                let d = &self.datasets[i];
                file_json(FileFields {
                    id: &d.dataset_id,
                    url_id: &d.url_id,
                    name: &d.name,
                    kind: "dataset",
                    parent_id: &d.folder_id,
                    path: &self.parent_path(&d.folder_id),
                    owner_id: Some(&d.created_by),
                    created_by: &d.created_by,
                    updated_by: &d.updated_by,
                    created_at: &d.created_at,
                    updated_at: &d.updated_at,
                    is_archived: d.is_archived.unwrap_or(false),
                })
            }
            FileRef::Table(i) => {
                let t = &self.tables[i];
                let name = t.path.last().map(String::as_str).unwrap_or_default();
                let created_at = "2023-01-01T00:00:00.000Z";
                file_json(FileFields {
                    id: &format!("inode-{}", t.url_id),
                    url_id: &t.url_id,
                    name,
                    kind: "table",
                    parent_id: &t.parent_id,
                    path: &t.path.join("/"),
                    owner_id: None,
                    created_by: "system",
                    updated_by: "system",
                    created_at,
                    updated_at: created_at,
                    is_archived: false,
                })
            }
        }
    }

    fn parent_path(&self, folder_id: &str) -> String {
        match self.file(folder_id) {
            Some(FileRef::Folder(i)) => {
                let f = &self.folders[i];
                format!("{}/{}", f.path, f.name)
            }
            Some(FileRef::Workspace(i)) => self.workspaces[i].name.clone(),
            _ => String::new(),
        }
    }

    fn parent_url_id(&self, parent_id: &str) -> String {
        match self.file(parent_id) {
            Some(FileRef::Folder(i)) => self.folders[i].url_id.clone(),
            _ => parent_id.to_owned(),
        }
    }

    /// How many files of one kind exist (kinds from [`FILE_KINDS`]).
    pub fn file_count(&self, kind: &str) -> usize {
        match kind {
            "workspace" => self.workspaces.len(),
            "folder" => self.folders.len(),
            "workbook" => self.workbooks.len(),
            "dataset" => self.datasets.len(),
            "table" => self.tables.len(),
            _ => 0,
        }
    }

    /// The `n`th file of one kind.
    pub fn file_at(&self, kind: &str, n: usize) -> Option<FileRef> {
        (n < self.file_count(kind)).then_some(match kind {
            "workspace" => FileRef::Workspace(n),
            "folder" => FileRef::Folder(n),
            "workbook" => FileRef::Workbook(n),
            "dataset" => FileRef::Dataset(n),
            _ => FileRef::Table(n),
        })
    }

    /// The parent id of a file (for `parentId` filtering).
    pub fn file_parent(&self, file: FileRef) -> &str {
        match file {
            FileRef::Workspace(_) => "",
            FileRef::Folder(i) => &self.folders[i].parent_id,
            FileRef::Workbook(i) => &self.workbooks[i].folder_id,
            FileRef::Dataset(i) => &self.datasets[i].folder_id,
            FileRef::Table(i) => &self.tables[i].parent_id,
        }
    }
}

/// The workbooks a listing shows, addressable by position without rescanning.
pub struct ListedWorkbooks<'a> {
    org: &'a Org,
    include_archived: bool,
}

impl ListedWorkbooks<'_> {
    pub fn len(&self) -> usize {
        if self.include_archived {
            self.org.workbooks.len()
        } else {
            self.org.live_workbooks.len()
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, n: usize) -> Option<&Workbook> {
        if self.include_archived {
            self.org.workbooks.get(n)
        } else {
            self.org
                .live_workbooks
                .get(n)
                .map(|&i| &self.org.workbooks[i])
        }
    }
    pub fn archived_count(&self) -> usize {
        self.org.archived_workbooks.len()
    }
}

struct FileFields<'a> {
    id: &'a str,
    url_id: &'a str,
    name: &'a str,
    kind: &'a str,
    parent_id: &'a str,
    path: &'a str,
    owner_id: Option<&'a str>,
    created_by: &'a str,
    updated_by: &'a str,
    created_at: &'a str,
    updated_at: &'a str,
    is_archived: bool,
}

fn file_json(f: FileFields<'_>) -> Value {
    serde_json::json!({
        "id": f.id,
        "urlId": f.url_id,
        "name": f.name,
        "type": f.kind,
        "parentId": f.parent_id,
        "parentUrlId": f.parent_id,
        "permission": "edit",
        "path": f.path,
        "badge": null,
        "isArchived": f.is_archived,
        "ownerId": f.owner_id,
        "createdBy": f.created_by,
        "updatedBy": f.updated_by,
        "createdAt": f.created_at,
        "updatedAt": f.updated_at,
    })
}

impl Org {
    /// `file_entry` with the parent's urlId filled in (folders have their own urlIds).
    pub fn file_json(&self, file: FileRef) -> Value {
        let mut entry = self.file_entry(file);
        let parent = self.file_parent(file).to_owned();
        if !parent.is_empty() {
            entry["parentUrlId"] = Value::String(self.parent_url_id(&parent));
        }
        entry
    }
}
