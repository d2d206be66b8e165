//! A synthetic org for scale tests: deterministic from a seed, in the fixtures' shapes.
//!
//! Workbook summaries are built up front (a few hundred bytes each, so 100,000 fit easily);
//! pages and elements are generated on request from the workbook's position, so memory does
//! not grow with `workbooks x pages x elements`.

use serde_json::json;

use super::org::{
    ColumnSource, ColumnTruth, Connection, DataModel, DataModelColumn, DataModelElement,
    DataModelInput, Dataset, DatasetMigration, DatasetSource, Element, Folder, GeneratedContent,
    Member, Org, Page, Report, VersionTag, WarehouseTable, Workbook, Workspace,
};

/// Sizes of a generated org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticConfig {
    pub seed: u64,
    pub workspaces: usize,
    pub workbooks: usize,
    pub pages_per_workbook: usize,
    pub elements_per_page: usize,
    pub datasets: usize,
    /// Data models chain: each after the first also reads an element of the one before.
    pub data_models: usize,
    /// Reports, laid out like workbooks; every `archive_every`-th is archived too.
    pub reports: usize,
    pub members: usize,
    pub connections: usize,
    pub tables: usize,
    /// Every n-th workbook is archived (0: none).
    pub archive_every: usize,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            workspaces: 5,
            workbooks: 100,
            pages_per_workbook: 3,
            elements_per_page: 5,
            datasets: 20,
            data_models: 10,
            reports: 10,
            members: 25,
            connections: 2,
            tables: 50,
            archive_every: 0,
        }
    }
}

/// What the org needs to generate a workbook's pages on request.
#[derive(Debug, Clone)]
struct SyntheticShape {
    seed: u64,
    pages_per_workbook: usize,
    elements_per_page: usize,
}

/// A 64-bit mixer (splitmix64 finaliser): cheap, stateless, well-distributed.
pub(crate) fn mix(seed: u64, a: u64, b: u64) -> u64 {
    let mut z = seed
        .wrapping_add(a.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(b.wrapping_mul(0xD1B5_4A32_D192_ED03))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A UUID-shaped id, stable for (seed, kind, n).
fn uuid(seed: u64, kind: u64, n: u64) -> String {
    let hi = mix(seed, kind, n);
    let lo = mix(seed ^ 0x5A5A, kind, n);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xfff,
        (lo >> 48) & 0xfff,
        lo & 0xffff_ffff_ffff
    )
}

/// A short url id like Sigma's (base62-ish, 22 chars).
fn url_id(seed: u64, kind: u64, n: u64) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(22);
    let mut state = mix(seed, kind + 100, n);
    for i in 0..22u64 {
        if i % 10 == 0 {
            state = mix(state, kind, n + i);
        }
        out.push(ALPHABET[(state % 62) as usize] as char);
        state /= 62;
    }
    out
}

/// RFC 3339 with milliseconds, as Sigma writes timestamps.
pub(crate) fn timestamp(seconds_since_2023: u64) -> String {
    let seconds = 1_672_531_200 + (seconds_since_2023 % 80_000_000) as i64;
    jiff::Timestamp::from_second(seconds)
        .map(|t| format!("{t:.3}"))
        .unwrap_or_else(|_| "2023-01-01T00:00:00.000Z".to_owned())
}

const KIND_WORKSPACE: u64 = 1;
const KIND_FOLDER: u64 = 2;
const KIND_MEMBER: u64 = 3;
const KIND_CONNECTION: u64 = 4;
const KIND_TABLE: u64 = 5;
const KIND_WORKBOOK: u64 = 6;
const KIND_DATASET: u64 = 7;
const KIND_DATA_MODEL: u64 = 8;
const KIND_ELEMENT: u64 = 9;
const KIND_PAGE: u64 = 10;
const KIND_REPORT: u64 = 11;
const KIND_TAG: u64 = 12;

/// Dataset migration states, cycled through.
const MIGRATION_STATES: [&str; 3] = ["migrated", "not-migrated", "not-required"];

/// Element kinds cycled through on every page, with their visualization types.
const ELEMENT_KINDS: [(&str, Option<&str>); 12] = [
    ("table", None),
    ("visualization", Some("bar")),
    ("visualization", Some("line")),
    ("pivot-table", None),
    ("visualization", Some("area")),
    ("visualization", Some("pie")),
    ("text", None),
    ("visualization", Some("scatter")),
    ("visualization", Some("kpi")),
    ("input-table", None),
    ("control", None),
    ("visualization", Some("map")),
];

const FIRST_NAMES: [&str; 8] = [
    "Ada", "Grace", "Linus", "Zoë", "Ólafur", "Mei", "Kwame", "Priya",
];
const LAST_NAMES: [&str; 8] = [
    "Lovelace", "Hopper", "Torvalds", "Dubois", "Jónsson", "Chen", "Mensah", "Raman",
];
const DATABASES: [&str; 3] = ["ANALYTICS", "RAW", "FINANCE"];
const SCHEMAS: [&str; 4] = ["PUBLIC", "SALES", "MARKETING", "OPS"];

pub(crate) const ORG_SLUG: &str = "sandbox-org";

pub fn generate(config: &SyntheticConfig) -> Org {
    let seed = config.seed;
    let org_id = uuid(seed, 0, 0);
    let at = |kind: u64, n: usize| timestamp(mix(seed, kind, n as u64) % 40_000_000);
    let members: Vec<Member> = (0..config.members.max(1))
        .map(|n| {
            let first = FIRST_NAMES[n % FIRST_NAMES.len()];
            let last = LAST_NAMES[(n / FIRST_NAMES.len()) % LAST_NAMES.len()];
            let email_first: String = first
                .chars()
                .filter(char::is_ascii_alphabetic)
                .collect::<String>()
                .to_lowercase();
            Member {
                organization_id: org_id.clone(),
                member_id: url_id(seed, KIND_MEMBER, n as u64),
                member_type: if n == 0 { "admin" } else { "creator" }.to_owned(),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                email: format!("{email_first}.{n}@example.com"),
                profile_img_url: None,
                created_by: "system".to_owned(),
                updated_by: "system".to_owned(),
                created_at: at(KIND_MEMBER, n),
                updated_at: at(KIND_MEMBER, n),
                home_folder_id: uuid(seed, KIND_FOLDER + 1000, n as u64),
                user_kind: "internal".to_owned(),
                is_archived: Some(false),
                is_inactive: Some(false),
            }
        })
        .collect();
    let member_id = |n: u64| members[(n as usize) % members.len()].member_id.clone();
    let workspaces: Vec<Workspace> = (0..config.workspaces.max(1))
        .map(|n| Workspace {
            workspace_id: uuid(seed, KIND_WORKSPACE, n as u64),
            name: format!("Workspace {n}"),
            created_by: member_id(0),
            updated_by: member_id(0),
            created_at: at(KIND_WORKSPACE, n),
            updated_at: at(KIND_WORKSPACE, n),
        })
        .collect();
    // One folder per workspace holds its workbooks.
    let folders: Vec<Folder> = workspaces
        .iter()
        .enumerate()
        .map(|(n, w)| Folder {
            id: uuid(seed, KIND_FOLDER, n as u64),
            url_id: url_id(seed, KIND_FOLDER, n as u64),
            name: "Reports".to_owned(),
            parent_id: w.workspace_id.clone(),
            path: w.name.clone(),
            owner_id: member_id(n as u64),
            created_by: member_id(n as u64),
            created_at: at(KIND_FOLDER, n),
        })
        .collect();
    let connections: Vec<Connection> = (0..config.connections.max(1))
        .map(|n| Connection {
            organization_id: org_id.clone(),
            connection_id: uuid(seed, KIND_CONNECTION, n as u64),
            is_sample: false,
            is_audit_log: false,
            last_active_at: at(KIND_CONNECTION, n),
            name: format!("Warehouse {n}"),
            kind: if n % 2 == 0 { "snowflake" } else { "bigquery" }.to_owned(),
            use_oauth: false,
            created_by: member_id(0),
            updated_by: member_id(0),
            created_at: at(KIND_CONNECTION, n),
            updated_at: at(KIND_CONNECTION, n),
            is_archived: Some(false),
            account: None,
            warehouse: None,
        })
        .collect();
    let tables: Vec<WarehouseTable> = (0..config.tables.max(1))
        .map(|n| WarehouseTable {
            url_id: url_id(seed, KIND_TABLE, n as u64),
            connection_id: connections[n % connections.len()].connection_id.clone(),
            path: vec![
                DATABASES[n % DATABASES.len()].to_owned(),
                SCHEMAS[(n / DATABASES.len()) % SCHEMAS.len()].to_owned(),
                format!("TABLE_{n}"),
            ],
            parent_id: connections[n % connections.len()].connection_id.clone(),
            archived: false,
        })
        .collect();
    let workbooks: Vec<Workbook> = (0..config.workbooks)
        .map(|n| {
            let folder = &folders[n % folders.len()];
            let url = url_id(seed, KIND_WORKBOOK, n as u64);
            Workbook {
                workbook_id: uuid(seed, KIND_WORKBOOK, n as u64),
                url: format!("https://app.sigmacomputing.com/{ORG_SLUG}/workbook/{url}"),
                workbook_url_id: url,
                name: format!("Workbook {n}"),
                path: format!("{}/{}", folder.path, folder.name),
                latest_version: 1 + mix(seed, KIND_WORKBOOK, n as u64) % 40,
                owner_id: member_id(n as u64),
                created_by: member_id(n as u64),
                updated_by: member_id(n as u64 + 1),
                created_at: at(KIND_WORKBOOK, n),
                updated_at: at(KIND_WORKBOOK + 50, n),
                is_archived: config.archive_every > 0 && n % config.archive_every == 0,
                folder_id: folder.id.clone(),
                tags: Vec::new(),
                pages: Vec::new(),
            }
        })
        .collect();
    let data_model_ids: Vec<(String, String)> = (0..config.data_models)
        .map(|n| {
            let url = url_id(seed, KIND_DATA_MODEL, n as u64);
            (uuid(seed, KIND_DATA_MODEL, n as u64), url)
        })
        .collect();
    let datasets = (0..config.datasets)
        .map(|n| {
            let url = url_id(seed, KIND_DATASET, n as u64);
            let folder = &folders[n % folders.len()];
            let table = &tables[n % tables.len()];
            let status = MIGRATION_STATES[n % MIGRATION_STATES.len()];
            // A migrated dataset names the data model that replaced it (when there is one).
            let migration = (status == "migrated")
                .then(|| data_model_ids.get(n % data_model_ids.len().max(1)))
                .flatten()
                .map(|(id, url)| DatasetMigration {
                    data_model_id: id.clone(),
                    data_model_url: format!(
                        "https://app.sigmacomputing.com/{ORG_SLUG}/data-model/{url}"
                    ),
                    migrated_at: at(KIND_DATASET + 50, n),
                    migrated_by: member_id(0),
                });
            Dataset {
                dataset_id: uuid(seed, KIND_DATASET, n as u64),
                created_by: member_id(n as u64),
                updated_by: member_id(n as u64),
                created_at: at(KIND_DATASET, n),
                updated_at: at(KIND_DATASET, n),
                name: format!("Dataset {n}"),
                description: String::new(),
                url: format!("https://app.sigmacomputing.com/{ORG_SLUG}/dataset/{url}"),
                owner: member_id(n as u64),
                reference_count: if status == "not-required" { 0 } else { 1 },
                path: format!("{}/{}", folder.path, folder.name),
                migration_status: if migration.is_none() && status == "migrated" {
                    "not-migrated".to_owned()
                } else {
                    status.to_owned()
                },
                migration_to_data_model: migration,
                is_archived: None,
                url_id: url,
                folder_id: folder.id.clone(),
                sources: vec![DatasetSource {
                    kind: "table".to_owned(),
                    inode_id: format!("inode-{}", table.url_id),
                }],
                sources_status: None,
            }
        })
        .collect();
    let data_models = (0..config.data_models)
        .map(|n| {
            let (id, url) = data_model_ids[n].clone();
            let folder = &folders[n % folders.len()];
            let table = &tables[n % tables.len()];
            let joined = &tables[(n + 1) % tables.len()];
            let element_id =
                |e: u64| url_id(seed, KIND_DATA_MODEL + 500 + e, n as u64)[..10].to_owned();
            let columns = |element: &str, source: &str, names: &[&str]| -> Vec<DataModelColumn> {
                names
                    .iter()
                    .map(|c| DataModelColumn {
                        column_id: format!("{element}-{c}"),
                        name: (*c).to_owned(),
                        label: None,
                        formula: Some(format!("[{source}/{c}]")),
                        element_id: String::new(),
                        column_type: None,
                    })
                    .collect()
            };
            let (base, sql, summary) = (element_id(0), element_id(1), element_id(2));
            let (inode, joined_inode) = (
                format!("inode-{}", table.url_id),
                format!("inode-{}", joined.url_id),
            );
            let from_table = |inode: &str, c: &str| ColumnSource::Table {
                inode_id: inode.to_owned(),
                column: c.to_owned(),
            };
            let from_element =
                |model: &str, element: &str, c: &str| ColumnSource::DataModelElement {
                    data_model_id: model.to_owned(),
                    element_id: element.to_owned(),
                    column: c.to_owned(),
                };
            let truth = |reads: Vec<(&str, ColumnSource)>| -> Vec<ColumnTruth> {
                reads
                    .into_iter()
                    .map(|(c, read)| ColumnTruth {
                        column: c.to_owned(),
                        reads: vec![read],
                    })
                    .collect()
            };
            let mut elements = vec![
                DataModelElement {
                    element_id: base.clone(),
                    name: table.path[2].clone(),
                    kind: "table".to_owned(),
                    source_table: Some(format!("inode-{}", table.url_id)),
                    columns: columns(&base, &table.path[2], &["ID", "NAME", "AMOUNT"]),
                    inputs: Vec::new(),
                    truth: truth(
                        ["ID", "NAME", "AMOUNT"]
                            .into_iter()
                            .map(|c| (c, from_table(&inode, c)))
                            .collect(),
                    ),
                },
                DataModelElement {
                    element_id: sql.clone(),
                    name: format!("Custom SQL {n}"),
                    kind: "table".to_owned(),
                    source_table: None,
                    columns: columns(&sql, &format!("Custom SQL {n}"), &["ID", "TOTAL"]),
                    inputs: vec![DataModelInput::CustomSql {
                        name: format!("Custom SQL {n}"),
                        connection_id: table.connection_id.clone(),
                        definition: format!(
                            "with recent as (select * from {}) select r.ID, sum(j.AMOUNT) as TOTAL \
                             from recent r join {} j on j.ID = r.ID group by r.ID",
                            table.path.join("."),
                            joined.path.join(".")
                        ),
                    }],
                    // `recent` is `select *` of the table; TOTAL sums the joined table's AMOUNT.
                    truth: truth(vec![
                        ("ID", from_table(&inode, "ID")),
                        ("TOTAL", from_table(&joined_inode, "AMOUNT")),
                    ]),
                },
                DataModelElement {
                    element_id: summary.clone(),
                    name: format!("Summary {n}"),
                    kind: "visualization".to_owned(),
                    source_table: None,
                    columns: columns(&summary, &table.path[2], &["NAME", "AMOUNT"]),
                    inputs: vec![DataModelInput::Sibling {
                        element_id: base.clone(),
                    }],
                    truth: truth(vec![
                        ("NAME", from_element(&id, &base, "NAME")),
                        ("AMOUNT", from_element(&id, &base, "AMOUNT")),
                    ]),
                },
            ];
            if n > 0 {
                // The chain: this model reads the previous model's base element.
                let (previous, _) = &data_model_ids[n - 1];
                let read = element_id(3);
                let previous_base =
                    url_id(seed, KIND_DATA_MODEL + 500, (n - 1) as u64)[..10].to_owned();
                elements.push(DataModelElement {
                    truth: truth(vec![("ID", from_element(previous, &previous_base, "ID"))]),
                    element_id: read.clone(),
                    name: format!("From data model {}", n - 1),
                    kind: "table".to_owned(),
                    source_table: None,
                    columns: columns(&read, &format!("Data model {}", n - 1), &["ID"]),
                    inputs: vec![DataModelInput::DataModel {
                        data_model_id: previous.clone(),
                        element_id: url_id(seed, KIND_DATA_MODEL + 500, (n - 1) as u64)[..10]
                            .to_owned(),
                    }],
                });
            }
            DataModel {
                data_model_id: id,
                data_model_url_id: url.clone(),
                name: format!("Data model {n}"),
                url: format!("https://app.sigmacomputing.com/{ORG_SLUG}/data-model/{url}"),
                path: format!("{}/{}", folder.path, folder.name),
                latest_version: 1,
                owner_id: member_id(n as u64),
                created_by: member_id(n as u64),
                updated_by: member_id(n as u64),
                created_at: at(KIND_DATA_MODEL, n),
                updated_at: at(KIND_DATA_MODEL, n),
                is_archived: None,
                tags: (n % 2 == 0)
                    .then(|| VersionTag {
                        version_tag_id: uuid(seed, KIND_TAG, n as u64),
                        tag_name: "Production".to_owned(),
                        source_version: 1,
                        tagged_at: at(KIND_TAG, n),
                        tagged_report_id: None,
                    })
                    .into_iter()
                    .collect(),
                elements,
            }
        })
        .collect();
    let reports = (0..config.reports)
        .map(|n| {
            let folder = &folders[n % folders.len()];
            let url = url_id(seed, KIND_REPORT, n as u64);
            let report_id = uuid(seed, KIND_REPORT, n as u64);
            Report {
                tags: (n % 3 == 0)
                    .then(|| VersionTag {
                        version_tag_id: uuid(seed, KIND_TAG + 1, n as u64),
                        tag_name: "Production".to_owned(),
                        source_version: 1,
                        tagged_at: at(KIND_TAG + 1, n),
                        tagged_report_id: Some(report_id.clone()),
                    })
                    .into_iter()
                    .collect(),
                report_id,
                url: format!("https://app.sigmacomputing.com/{ORG_SLUG}/report/{url}"),
                report_url_id: url,
                name: format!("Report {n}"),
                path: format!("{}/{}", folder.path, folder.name),
                latest_version: 1 + mix(seed, KIND_REPORT, n as u64) % 10,
                owner_id: member_id(n as u64 + 3),
                created_by: member_id(n as u64 + 3),
                updated_by: member_id(n as u64 + 4),
                created_at: at(KIND_REPORT, n),
                updated_at: at(KIND_REPORT + 50, n),
                is_archived: config.archive_every > 0 && n % config.archive_every == 0,
                description: None,
                pages: Vec::new(),
            }
        })
        .collect();
    Org {
        organization_id: org_id,
        workspaces,
        folders,
        members,
        connections,
        tables,
        workbooks,
        datasets,
        data_models,
        reports,
        synthetic: Some(std::sync::Arc::new(SyntheticShape {
            seed,
            pages_per_workbook: config.pages_per_workbook,
            elements_per_page: config.elements_per_page,
        })),
        ..Org::default()
    }
    .index()
}

impl GeneratedContent for SyntheticShape {
    fn pages(&self, workbook_index: usize, workbook: &Workbook, org: &Org) -> Vec<Page> {
        self.document_pages(workbook_index as u64, &workbook.name, org)
    }

    fn report_pages(&self, report_index: usize, report: &Report, org: &Org) -> Vec<Page> {
        // Offset so a report's pages differ from the workbook at the same position.
        self.document_pages(1 << 40 | report_index as u64, &report.name, org)
    }
}

impl SyntheticShape {
    /// Pages of elements for the document at position `w`, each non-UI element reading one
    /// table (with its SQL and lineage graph).
    fn document_pages(&self, w: u64, first_page_name: &str, org: &Org) -> Vec<Page> {
        let seed = self.seed;
        (0..self.pages_per_workbook)
            .map(|p| {
                let elements = (0..self.elements_per_page)
                    .map(|e| {
                        let ordinal = (p * self.elements_per_page + e) as u64;
                        let (kind, viz) = ELEMENT_KINDS[(ordinal as usize) % ELEMENT_KINDS.len()];
                        // Element ids are random per document in Sigma, and a duplicated
                        // workbook keeps its original's: every tenth document here is such
                        // a copy of the one before it (same ids, its own tables).
                        let copied_from = if w % 10 == 9 { w - 1 } else { w };
                        let element_id = url_id(seed, KIND_ELEMENT, copied_from << 16 | ordinal)
                            [..10]
                            .to_owned();
                        let table =
                            &org.tables[(mix(seed, w, ordinal) as usize) % org.tables.len()];
                        let ui_only = matches!(kind, "text" | "control");
                        let name = format!("{} {ordinal}", kind.replace('-', " "));
                        let mut element = Element {
                            lineage: None,
                            sql: None,
                            columns: None,
                            element_id,
                            name: Some(name),
                            kind: kind.to_owned(),
                            vizualization_type: viz.map(str::to_owned),
                            formulas: Default::default(),
                            truth: Vec::new(),
                        };
                        if !ui_only {
                            // One in ten reads a custom SQL, one in ten a data model element;
                            // the rest a warehouse table.
                            match mix(seed ^ 0xC5, w, ordinal) % 10 {
                                0 => self.reads_custom_sql(&mut element, w, ordinal, table, org),
                                1 if !org.data_models.is_empty() => {
                                    self.reads_data_model(&mut element, w, ordinal, org)
                                }
                                _ => reads_table(&mut element, table),
                            }
                        }
                        element
                    })
                    .collect();
                Page {
                    page_id: format!("{}-{p}", &url_id(seed, KIND_PAGE, w)[..6]),
                    name: if p == 0 {
                        first_page_name.to_owned()
                    } else {
                        format!("Page {}", p + 1)
                    },
                    hidden: None,
                    elements,
                }
            })
            .collect()
    }
}

/// Columns every generated table has.
const TABLE_COLUMNS: [&str; 3] = ["ID", "NAME", "AMOUNT"];

fn set_lineage(element: &mut Element, node_id: &str, node: serde_json::Value) {
    let id = element.element_id.clone();
    element.lineage = Some(json!({
        "dependencies": {
            id.clone(): {"nodeId": id, "type": "sheet", "name": element.name, "elementId": id},
            node_id: node,
        },
        "edges": [{"source": node_id, "target": id, "type": "source"}],
    }));
}

/// A table-backed element: its columns are the table's, `[TABLE/COLUMN]`.
fn reads_table(element: &mut Element, table: &WarehouseTable) {
    let node = format!("inode-{}", table.url_id);
    set_lineage(
        element,
        &node,
        json!({"nodeId": node, "type": "table", "name": table.path[2]}),
    );
    element.sql = Some(format!(
        "select ID, NAME, AMOUNT from {} limit 25000",
        table.path.join(".")
    ));
    element.columns = Some(TABLE_COLUMNS.iter().map(|c| (*c).to_owned()).collect());
    element.truth = TABLE_COLUMNS
        .iter()
        .map(|c| ColumnTruth {
            column: (*c).to_owned(),
            reads: vec![ColumnSource::Table {
                inode_id: node.clone(),
                column: (*c).to_owned(),
            }],
        })
        .collect();
}

impl SyntheticShape {
    /// An element reading a custom SQL directly: its columns say `[<SQL name>/<output>]`;
    /// the SQL aliases, joins, computes or selects `*`. What each output is made of is
    /// written down with the SQL (the truth), not derived from it.
    fn reads_custom_sql(
        &self,
        element: &mut Element,
        w: u64,
        ordinal: u64,
        table: &WarehouseTable,
        org: &Org,
    ) {
        let other = &org.tables[(mix(self.seed, w, ordinal + 7) as usize) % org.tables.len()];
        let (t, u) = (table.path.join("."), other.path.join("."));
        let (i, j) = (
            format!("inode-{}", table.url_id),
            format!("inode-{}", other.url_id),
        );
        let col = |inode: &str, c: &str| ColumnSource::Table {
            inode_id: inode.to_owned(),
            column: c.to_owned(),
        };
        let (definition, outputs): (String, Vec<(&str, Vec<ColumnSource>)>) = match mix(
            self.seed ^ 0x5E1,
            w,
            ordinal,
        ) % 4
        {
            0 => (
                format!("select ID as ORDER_ID, NAME as LABEL, AMOUNT from {t}"),
                vec![
                    ("ORDER_ID", vec![col(&i, "ID")]),
                    ("LABEL", vec![col(&i, "NAME")]),
                    ("AMOUNT", vec![col(&i, "AMOUNT")]),
                ],
            ),
            1 => (
                format!(
                    "select a.ID, b.NAME as CUSTOMER, a.AMOUNT from {t} a join {u} b on b.ID = a.ID"
                ),
                vec![
                    ("ID", vec![col(&i, "ID")]),
                    ("CUSTOMER", vec![col(&j, "NAME")]),
                    ("AMOUNT", vec![col(&i, "AMOUNT")]),
                    // A column the SQL does not have: no pair.
                    ("NOPE", Vec::new()),
                ],
            ),
            2 => (
                format!(
                    "select ID, AMOUNT * 2 as DOUBLED, concat(NAME, ID) as TAG, count(*) as N \
                         from {t} group by ID, AMOUNT, NAME"
                ),
                vec![
                    ("ID", vec![col(&i, "ID")]),
                    ("DOUBLED", vec![col(&i, "AMOUNT")]),
                    ("TAG", vec![col(&i, "NAME"), col(&i, "ID")]),
                    // Reads no column: no pair.
                    ("N", Vec::new()),
                ],
            ),
            _ => (
                format!("select * from {t} where AMOUNT > 0"),
                TABLE_COLUMNS
                    .iter()
                    .map(|c| (*c, vec![col(&i, c)]))
                    .collect(),
            ),
        };
        let sql_name = format!("Custom SQL {ordinal}");
        let node = format!("customSQL-{}", element.element_id);
        set_lineage(
            element,
            &node,
            json!({"nodeId": node, "type": "customSQL", "name": sql_name,
                   "connectionId": table.connection_id}),
        );
        element.sql = Some(definition);
        let labels: Vec<String> = outputs
            .iter()
            .map(|(o, _)| {
                if *o == "NOPE" {
                    "Missing".to_owned()
                } else {
                    (*o).to_owned()
                }
            })
            .collect();
        element.formulas = outputs
            .iter()
            .zip(&labels)
            .map(|((o, _), label)| (label.clone(), format!("[{sql_name}/{o}]")))
            .collect();
        element.truth = outputs
            .into_iter()
            .zip(&labels)
            .map(|((_, reads), label)| ColumnTruth {
                column: label.clone(),
                reads,
            })
            .collect();
        element.columns = Some(labels);
    }

    /// An element reading one element of a data model (its first, table-backed one), as
    /// Sigma names it: the lineage node `<dataModelUrlId>/<elementId>` carries the data
    /// model's name, and formulas say `[<data model name>/<column>]`.
    fn reads_data_model(&self, element: &mut Element, w: u64, ordinal: u64, org: &Org) {
        let model =
            &org.data_models[(mix(self.seed ^ 0xD1, w, ordinal) as usize) % org.data_models.len()];
        let Some(read) = model.elements.first() else {
            return;
        };
        let node = format!("{}/{}", model.data_model_url_id, read.element_id);
        set_lineage(
            element,
            &node,
            json!({"nodeId": node, "type": "data-model", "name": model.name}),
        );
        let columns: Vec<String> = read.columns.iter().map(|c| c.name.clone()).collect();
        element.formulas = columns
            .iter()
            .map(|c| (c.clone(), format!("[{}/{c}]", model.name)))
            .collect();
        element.truth = columns
            .iter()
            .map(|c| ColumnTruth {
                column: c.clone(),
                reads: vec![ColumnSource::DataModelElement {
                    data_model_id: model.data_model_id.clone(),
                    element_id: read.element_id.clone(),
                    column: c.clone(),
                }],
            })
            .collect();
        element.columns = Some(columns);
    }
}
