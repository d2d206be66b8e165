//! DataHub's names for things, built here and nowhere else: every URN the DataHub edge
//! writes comes from one of these functions, shaped as DataHub's own `mce_builder` shapes it
//! (so an entity DataHub's Sigma source created is the same entity when we write it).

use md5::{Digest, Md5};

/// The platform DataHub's Sigma source writes under.
pub const SIGMA: &str = "sigma";

/// DataHub's environment when none is configured.
pub const DEFAULT_ENV: &str = "PROD";

/// Characters a URN part may not hold raw: DataHub percent-encodes them (its `UrnEncoder`)
/// because `,` and parentheses delimit a URN's tuple.
fn encode(part: &str) -> String {
    if !part.contains([',', '(', ')', '\u{241f}']) {
        return part.to_owned();
    }
    let mut out = String::with_capacity(part.len() + 8);
    for c in part.chars() {
        match c {
            ',' => out.push_str("%2C"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '\u{241f}' => out.push_str("%E2%90%9F"),
            c => out.push(c),
        }
    }
    out
}

/// `name` under a platform instance, as DataHub qualifies it (`<instance>.<name>`).
fn qualified(instance: Option<&str>, name: &str) -> String {
    match instance {
        Some(i) if !i.is_empty() => format!("{i}.{name}"),
        _ => name.to_owned(),
    }
}

/// `urn:li:dataPlatform:<platform>`.
pub fn data_platform(platform: &str) -> String {
    format!("urn:li:dataPlatform:{}", encode(platform))
}

/// `urn:li:dataPlatformInstance:(urn:li:dataPlatform:<platform>,<instance>)`.
pub fn data_platform_instance(platform: &str, instance: &str) -> String {
    format!(
        "urn:li:dataPlatformInstance:({},{})",
        data_platform(platform),
        encode(instance)
    )
}

/// `urn:li:dataset:(urn:li:dataPlatform:<platform>,[<instance>.]<name>,<env>)`.
pub fn dataset(platform: &str, instance: Option<&str>, name: &str, env: &str) -> String {
    format!(
        "urn:li:dataset:({},{},{})",
        data_platform(platform),
        encode(&qualified(instance, name)),
        encode(env)
    )
}

/// `urn:li:dashboard:(<platform>,[<instance>.]<name>)`: DataHub's Sigma source names a
/// workbook's dashboard by `workbookId` and a page's by `pageId`.
pub fn dashboard(platform: &str, instance: Option<&str>, name: &str) -> String {
    format!(
        "urn:li:dashboard:({},{})",
        encode(platform),
        encode(&qualified(instance, name))
    )
}

/// `urn:li:chart:(<platform>,[<instance>.]<name>)`: DataHub's Sigma source names an
/// element's chart by its bare `elementId`.
pub fn chart(platform: &str, instance: Option<&str>, name: &str) -> String {
    format!(
        "urn:li:chart:({},{})",
        encode(platform),
        encode(&qualified(instance, name))
    )
}

/// `urn:li:schemaField:(<parent urn>,<fieldPath>)`.
pub fn schema_field(parent: &str, field_path: &str) -> String {
    format!("urn:li:schemaField:({parent},{})", encode(field_path))
}

/// `urn:li:corpuser:<name>` (DataHub's Sigma source uses the member's email).
pub fn corp_user(name: &str) -> String {
    format!("urn:li:corpuser:{}", encode(name))
}

/// `urn:li:tag:<name>`.
pub fn tag(name: &str) -> String {
    format!("urn:li:tag:{}", encode(name))
}

/// A container's URN: `urn:li:container:<guid>`, the guid being the MD5 of the container
/// key as DataHub serialises it (compact JSON, keys sorted, absent fields left out), so the
/// same workspace gets the same container whichever tool wrote it.
pub fn container(key: &ContainerKey<'_>) -> String {
    format!("urn:li:container:{}", key.guid())
}

/// A DataHub container key: platform, optional instance and env, and the one id field
/// that says what the container is (`workspaceId`, `workbookId`, `dataModelId`).
#[derive(Debug, Clone, Copy)]
pub struct ContainerKey<'a> {
    pub platform: &'a str,
    pub instance: Option<&'a str>,
    pub id_field: &'static str,
    pub id: &'a str,
}

impl<'a> ContainerKey<'a> {
    pub fn workspace(instance: Option<&'a str>, id: &'a str) -> Self {
        Self {
            platform: SIGMA,
            instance,
            id_field: "workspaceId",
            id,
        }
    }

    pub fn data_model(instance: Option<&'a str>, id: &'a str) -> Self {
        Self {
            platform: SIGMA,
            instance,
            id_field: "dataModelId",
            id,
        }
    }

    fn guid(&self) -> String {
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("platform", self.platform);
        if let Some(instance) = self.instance.filter(|i| !i.is_empty()) {
            fields.insert("instance", instance);
        }
        fields.insert(self.id_field, self.id);
        // serde_json's compact form is Python's `separators=(",", ":")`; a BTreeMap is
        // `sort_keys=True`. Python escapes non-ASCII (`ensure_ascii`), so do the same.
        let json = ascii_json(&fields);
        let digest = Md5::digest(json.as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Compact JSON with every non-ASCII character escaped as `\uXXXX`, as Python's
/// `json.dumps` writes it by default.
fn ascii_json(fields: &std::collections::BTreeMap<&str, &str>) -> String {
    let json = serde_json::to_string(fields).unwrap_or_default();
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_are_shaped_as_datahubs_builders_shape_them() {
        assert_eq!(
            dashboard(SIGMA, None, "37e9671c-4537-4d5d-890d-ed883ae5a691"),
            "urn:li:dashboard:(sigma,37e9671c-4537-4d5d-890d-ed883ae5a691)"
        );
        assert_eq!(
            chart(SIGMA, Some("prod"), "B53"),
            "urn:li:chart:(sigma,prod.B53)"
        );
        assert_eq!(
            dataset("snowflake", None, "db.s.t", "PROD"),
            "urn:li:dataset:(urn:li:dataPlatform:snowflake,db.s.t,PROD)"
        );
        let ds = dataset(SIGMA, None, "dm.el", "PROD");
        assert_eq!(
            schema_field(&ds, "Sum(Amount, 2)"),
            "urn:li:schemaField:(urn:li:dataset:(urn:li:dataPlatform:sigma,dm.el,PROD),Sum%28Amount%2C 2%29)"
        );
        assert_eq!(
            corp_user("ada@example.com"),
            "urn:li:corpuser:ada@example.com"
        );
        assert_eq!(
            data_platform_instance(SIGMA, "eu"),
            "urn:li:dataPlatformInstance:(urn:li:dataPlatform:sigma,eu)"
        );
    }

    #[test]
    fn a_workspace_container_is_the_one_datahubs_sigma_source_writes() {
        // From DataHub 1.7's Sigma source run on the sandbox org: Workspace 0.
        let key = ContainerKey::workspace(None, "28efe333-b266-4103-8afd-ec7aaf44da7b");
        assert_eq!(
            container(&key),
            "urn:li:container:41361021a2168b631d6335d711e4d62d"
        );
        // Python: hashlib.md5(json.dumps({"instance": "eu", "platform": "sigma",
        // "workspaceId": "w-é"}, separators=(",", ":"), sort_keys=True).encode()).hexdigest()
        let key = ContainerKey::workspace(Some("eu"), "w-\u{e9}");
        assert_eq!(
            ascii_json(
                &[
                    ("instance", "eu"),
                    ("platform", "sigma"),
                    ("workspaceId", "w-\u{e9}")
                ]
                .into_iter()
                .collect()
            ),
            r#"{"instance":"eu","platform":"sigma","workspaceId":"w-\u00e9"}"#
        );
        assert_eq!(
            container(&key),
            "urn:li:container:731a51966bb261acbf08e0d67f4642c9"
        );
    }
}
