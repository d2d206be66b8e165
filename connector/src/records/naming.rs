//! Names and fully qualified names as OpenMetadata accepts them.
//!
//! OpenMetadata's `entityName` is 1..=256 characters and must not contain `::`; its FQNs join
//! names with `.` and wrap a name that contains a `.` in double quotes. We go one step further
//! for the names we mint ourselves (dashboards, charts, data models, the service): `.` and `"`
//! become `_`, so our FQNs never need quoting and always split back into the same parts.
//! Names we do not mint (database, schema, table and column names, which must match what a
//! database connector already ingested) are kept as they are and quoted when needed.

use std::borrow::Cow;

/// OpenMetadata's `entityName` maxLength (`type/basic.json`).
pub const ENTITY_NAME_MAX: usize = 256;

/// The column-name cap we apply. OpenMetadata's `columnName` was 128 in early releases,
/// then 256, and the newest schema drops the limit (PR #26530); 256 suits all but the oldest.
pub const COLUMN_NAME_MAX: usize = 256;

/// Length as OpenMetadata's Java server measures it (UTF-16 code units). It is never less
/// than the code-point count JSON Schema and pydantic use, so staying under it satisfies both.
pub fn om_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// FNV-1a, 64 bit: a stable hash with no dependency and no per-process seed, so a long name
/// truncates to the same value on every run and every machine.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Cuts `name` to at most `max` UTF-16 units. When it has to cut, it keeps a prefix (on a
/// char boundary) and appends `_` plus 8 hex digits of a hash of `original`, so two long names
/// that share a prefix stay distinct (OpenMetadata's own 64-char cut merged such columns, #11887).
fn fit(name: String, original: &str, max: usize) -> String {
    if om_len(&name) <= max {
        return name;
    }
    let suffix = format!("_{:08x}", fnv1a64(original.as_bytes()) as u32);
    let budget = max - suffix.len();
    let mut used = 0;
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if used + c.len_utf16() > budget {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push_str(&suffix);
    out
}

/// Control characters break OpenMetadata's name pattern (Java's `.` does not match a line
/// break), and `::` is forbidden outright.
fn scrub_common(raw: &str, extra: impl Fn(char) -> bool) -> String {
    let mut out: String = raw
        .trim()
        .chars()
        .map(|c| {
            if c.is_control() {
                ' '
            } else if extra(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    while out.contains("::") {
        out = out.replace("::", "_:");
    }
    out
}

/// A valid OpenMetadata `entityName` for a name we mint: no `.`, no `"`, no `::`, no control
/// characters, 1..=256 UTF-16 units (long names get a stable hash suffix). Deterministic.
pub fn entity_name(raw: &str) -> String {
    let name = scrub_common(raw, |c| c == '.' || c == '"');
    if name.is_empty() {
        return "_".to_owned();
    }
    fit(name, raw, ENTITY_NAME_MAX)
}

/// A valid OpenMetadata column name: dots are kept (columns are quoted in FQNs), `::` and
/// control characters are not, and names over [`COLUMN_NAME_MAX`] are cut with a stable hash
/// suffix instead of failing the whole data model. Keep the raw name as the `displayName`.
pub fn column_name(raw: &str) -> String {
    let name = scrub_common(raw, |_| false);
    if name.is_empty() {
        return "_".to_owned();
    }
    fit(name, raw, COLUMN_NAME_MAX)
}

/// The OpenMetadata classification that holds the tags the metadata-rest sink creates
/// from Sigma's tag names (its own connectors keep their tags in a classification each).
pub const TAG_CLASSIFICATION: &str = "SigmaTags";

/// `TagLabel.tagFQN`'s maxLength: `SigmaTags.<tag>` must fit.
pub const TAG_FQN_MAX: usize = 128;

/// A valid OpenMetadata tag name for a Sigma tag: the same rules as [`entity_name`] (no `.`,
/// so the FQN never needs quoting; no `"`, `::` or control characters), cut so that
/// `SigmaTags.<name>` stays within [`TAG_FQN_MAX`]. Keep the raw name as the `displayName`.
pub fn tag_name(raw: &str) -> String {
    let name = scrub_common(raw, |c| c == '.' || c == '"');
    if name.is_empty() {
        return "_".to_owned();
    }
    fit(name, raw, TAG_FQN_MAX - om_len(TAG_CLASSIFICATION) - 1)
}

/// Builders for OpenMetadata fully qualified names.
pub mod fqn {
    use super::Cow;

    /// One FQN part as OpenMetadata writes it: wrapped in double quotes when it contains a
    /// `.` (and no `"`, exactly as the server's own `quoteName` does, so our FQNs match the
    /// ones it computes); an already-quoted part is kept, and quotes around a part without a
    /// `.` are dropped.
    pub fn quote(part: &str) -> Cow<'_, str> {
        if let Some(inner) = part
            .strip_prefix('"')
            .and_then(|p| p.strip_suffix('"'))
            .filter(|inner| !inner.is_empty() && !inner.contains('"'))
        {
            return if inner.contains('.') {
                Cow::Borrowed(part)
            } else {
                Cow::Borrowed(inner)
            };
        }
        if part.contains('.') && !part.contains('"') {
            Cow::Owned(format!("\"{part}\""))
        } else {
            Cow::Borrowed(part)
        }
    }

    /// Joins parts with `.`, quoting each as needed.
    pub fn build(parts: &[&str]) -> String {
        parts.iter().map(|p| quote(p)).collect::<Vec<_>>().join(".")
    }

    /// Splits an FQN back into its (unquoted) parts.
    pub fn split(fqn: &str) -> Vec<String> {
        let mut parts = Vec::new();
        let mut current = String::new();
        let mut quoted = false;
        for c in fqn.chars() {
            match c {
                '"' => quoted = !quoted,
                '.' if !quoted => parts.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
        parts.push(current);
        parts
    }

    /// `service.dashboard`
    pub fn dashboard(service: &str, name: &str) -> String {
        build(&[service, name])
    }

    /// `service.chart` (charts live directly under the service, hence globally unique names).
    pub fn chart(service: &str, name: &str) -> String {
        build(&[service, name])
    }

    /// `service.model.dataModel`: OpenMetadata puts the literal `model` between the two.
    pub fn data_model(service: &str, name: &str) -> String {
        build(&[service, "model", name])
    }

    /// `service.database.schema.table`
    pub fn table(service: &str, database: &str, schema: &str, table: &str) -> String {
        build(&[service, database, schema, table])
    }

    /// A classification tag: `classification.tag`.
    pub fn tag(classification: &str, tag: &str) -> String {
        build(&[classification, tag])
    }

    /// A column of a table or data model: `parentFqn.column`.
    pub fn column(parent_fqn: &str, column: &str) -> String {
        format!("{parent_fqn}.{}", quote(column))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_clean_names_pass_through() {
        assert_eq!(entity_name("wb123_el456"), "wb123_el456");
        assert_eq!(column_name("Order Date"), "Order Date");
    }

    #[test]
    fn fit_respects_utf16_units_and_char_boundaries() {
        let raw = "😀".repeat(200); // 400 UTF-16 units
        let name = entity_name(&raw);
        assert!(om_len(&name) <= ENTITY_NAME_MAX);
        assert!(name.ends_with(&format!("_{:08x}", fnv1a64(raw.as_bytes()) as u32)));
    }

    #[test]
    fn tag_names_never_need_quoting_and_fit_a_tag_fqn() {
        assert_eq!(tag_name("Production"), "Production");
        assert_eq!(tag_name(" v1.2 \"beta\" a::b\n"), "v1_2 _beta_ a_:b");
        assert_eq!(tag_name(""), "_");
        let long = tag_name(&"x".repeat(300));
        let full = fqn::tag(TAG_CLASSIFICATION, &long);
        assert_eq!(om_len(&full), TAG_FQN_MAX);
        assert_eq!(fqn::split(&full), [TAG_CLASSIFICATION, long.as_str()]);
        assert_eq!(fqn::tag(TAG_CLASSIFICATION, "a.b"), "SigmaTags.\"a.b\"");
    }

    #[test]
    fn fqn_split_inverts_build() {
        let f = fqn::table("snow", "DB", "my.schema", "T");
        assert_eq!(f, "snow.DB.\"my.schema\".T");
        assert_eq!(fqn::split(&f), ["snow", "DB", "my.schema", "T"]);
    }
}
