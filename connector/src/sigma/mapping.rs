//! Sigma's own rules the source applies: which elements are charts, what an unnamed
//! element is called, element URLs, what a formula reads. No platform naming here (that is
//! each platform's edge), and no I/O, so every rule is unit-tested directly.

use super::model::{WorkbookElement, WorkbookPage};

pub use crate::catalog::workspace_of as project_of;

/// Elements that are charts or tables (not text, controls, images, dividers, ...).
pub fn is_chart(element: &WorkbookElement) -> bool {
    match element.element_type.as_deref() {
        Some("table" | "visualization" | "pivot-table" | "input-table" | "level-table") => true,
        Some(
            "text" | "control" | "image" | "divider" | "button" | "embed" | "container" | "tabs",
        ) => false,
        // Unknown kinds: a chart if Sigma says how it is drawn.
        _ => element.vizualization_type.is_some(),
    }
}

/// The element's name, or a readable one from its type and page when it has none.
pub fn element_display_name(
    element: &WorkbookElement,
    page: &WorkbookPage,
    index: usize,
) -> String {
    if let Some(name) = element
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        return name.to_owned();
    }
    let kind = element
        .vizualization_type
        .as_deref()
        .or(element.element_type.as_deref())
        .unwrap_or("element");
    let page_name = page.name.as_deref().unwrap_or(&page.page_id);
    format!("Untitled {kind} {} on {page_name}", index + 1)
}

/// `{url}?:nodeId={elementId}`: deep-links the element, not just the workbook.
pub fn element_url(workbook_url: &str, element_id: &str) -> String {
    let sep = if workbook_url.contains('?') { '&' } else { '?' };
    format!("{workbook_url}{sep}:nodeId={element_id}")
}

/// Every `[...]` reference of a Sigma formula: `(Some(source), column)` for
/// `[Source/Column]`, `(None, column)` for a column of the formula's own element.
pub fn formula_columns(formula: &str) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    let mut rest = formula;
    while let Some(start) = rest.find('[') {
        let Some(end) = rest[start..].find(']') else {
            break;
        };
        let inner = rest[start + 1..start + end].trim();
        match inner.split_once('/') {
            Some((source, column)) => {
                let (source, column) = (source.trim(), column.trim());
                if !source.is_empty() && !column.is_empty() {
                    out.push((Some(source.to_owned()), column.to_owned()));
                }
            }
            None if !inner.is_empty() => out.push((None, inner.to_owned())),
            None => {}
        }
        rest = &rest[start + end + 1..];
    }
    out
}

/// `[Source/Column]` references in a Sigma formula, as `(source, column)` pairs.
pub fn formula_refs(formula: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = formula;
    while let Some(start) = rest.find('[') {
        let Some(end) = rest[start..].find(']') else {
            break;
        };
        let inner = &rest[start + 1..start + end];
        if let Some((source, column)) = inner.split_once('/') {
            if !source.is_empty() && !column.is_empty() {
                out.push((source.trim().to_owned(), column.trim().to_owned()));
            }
        }
        rest = &rest[start + end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element(t: &str, viz: Option<&str>, name: Option<&str>) -> WorkbookElement {
        WorkbookElement {
            element_id: "el1".into(),
            name: name.map(Into::into),
            element_type: Some(t.into()),
            columns: vec![],
            vizualization_type: viz.map(Into::into),
            error: None,
            page_id: None,
        }
    }

    #[test]
    fn chart_kinds_and_types() {
        assert!(is_chart(&element("visualization", Some("bar"), None)));
        assert!(is_chart(&element("pivot-table", None, None)));
        assert!(!is_chart(&element("text", None, None)));
        assert!(!is_chart(&element("control", None, None)));
    }

    #[test]
    fn unnamed_elements_get_readable_names() {
        let page = WorkbookPage {
            page_id: "p1".into(),
            name: Some("Overview".into()),
            hidden: false,
        };
        assert_eq!(
            element_display_name(&element("visualization", Some("bar"), None), &page, 2),
            "Untitled bar 3 on Overview"
        );
        assert_eq!(
            element_display_name(&element("table", None, Some(" Sales ")), &page, 0),
            "Sales"
        );
    }

    #[test]
    fn urls_projects_formulas() {
        assert_eq!(
            element_url("https://x/wb/1", "e"),
            "https://x/wb/1?:nodeId=e"
        );
        assert_eq!(
            element_url("https://x/wb/1?a=b", "e"),
            "https://x/wb/1?a=b&:nodeId=e"
        );
        assert_eq!(project_of("Finance/Reports/Q3"), "Finance");
        assert_eq!(project_of("My Documents"), "My Documents");
        assert_eq!(
            formula_refs("Sum([Orders/AMOUNT]) + [Customers/REGION] + [bad]"),
            vec![
                ("Orders".into(), "AMOUNT".into()),
                ("Customers".into(), "REGION".into())
            ]
        );
        assert_eq!(
            formula_columns("[Orders/AMOUNT] * [Rate] + [] + [ x/ ] + [unclosed"),
            vec![
                (Some("Orders".into()), "AMOUNT".into()),
                (None, "Rate".into())
            ]
        );
    }
}
