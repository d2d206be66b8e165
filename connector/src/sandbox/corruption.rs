//! The `corrupt` and `malformed_ids` knobs: rewriting chosen objects in otherwise good
//! 200 bodies, wherever they appear.

use std::collections::{BTreeMap, BTreeSet};

use axum::body::Body;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::knobs::{Corruption, ODD_UNICODE};

/// Keys that carry an object's own id, most specific first: the first key present is the
/// object's. A data model column also names its element, an element (in a document-level
/// `/elements` listing) its page, a page or element may name its document, so the parts
/// come before the wholes.
const OWN_ID_KEYS: [&str; 13] = [
    "columnId",
    "nodeId",
    "elementId",
    "pageId",
    "versionTagId",
    "memberId",
    "teamId",
    "connectionId",
    "workbookId",
    "reportId",
    "dataModelId",
    "datasetId",
    "workspaceId",
];

/// Stands in for a lone surrogate escape until the body is text: no `Value` can hold one.
const LONE_SURROGATE_MARK: &str = "\u{E000}sandbox-lone-surrogate\u{E000}";

/// Rewrites every object of the body whose own id is in `corrupt`, as its knob says.
pub(crate) async fn corrupt_objects(
    response: Response,
    corrupt: &BTreeMap<String, Corruption>,
) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "sandbox could not buffer a body to corrupt",
        )
        .into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    corrupt_value(&mut value, corrupt);
    let text = value.to_string().replace(LONE_SURROGATE_MARK, "\\ud800");
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

fn corrupt_value(value: &mut Value, corrupt: &BTreeMap<String, Corruption>) {
    match value {
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| corrupt_value(item, corrupt)),
        Value::Object(object) => {
            let own_id = OWN_ID_KEYS
                .iter()
                .find_map(|key| object.get(*key))
                .and_then(Value::as_str)
                .map(str::to_owned);
            object
                .values_mut()
                .for_each(|child| corrupt_value(child, corrupt));
            if let Some(how) = own_id.and_then(|id| corrupt.get(&id)) {
                apply_corruption(object, how);
            }
        }
        _ => {}
    }
}

fn apply_corruption(object: &mut serde_json::Map<String, Value>, how: &Corruption) {
    let field = how.field().to_owned();
    let current = object.get(&field).cloned().unwrap_or(Value::Null);
    let text = current.as_str().unwrap_or_default().to_owned();
    match how {
        Corruption::MissingField(_) => {
            object.remove(&field);
        }
        Corruption::WrongType(_) => {
            let wrong = if current.is_string() {
                json!(42)
            } else {
                json!("wrong type")
            };
            object.insert(field, wrong);
        }
        Corruption::HugeString(_, len) => {
            // Multi-byte on purpose: a cut in the wrong place would split a character.
            let unit = "Ωmega-ünïcode-";
            let mut huge = unit.repeat(len / unit.len() + 1);
            let mut cut = (*len).min(huge.len());
            while !huge.is_char_boundary(cut) {
                cut -= 1;
            }
            huge.truncate(cut);
            object.insert(field, Value::String(huge));
        }
        Corruption::OddUnicode(_) => {
            object.insert(field, Value::String(format!("{text}{ODD_UNICODE}")));
        }
        Corruption::LoneSurrogate(_) => {
            object.insert(field, Value::String(format!("{text}{LONE_SURROGATE_MARK}")));
        }
    }
}

pub(crate) fn malformed(ids: &BTreeSet<String>, path: &str) -> bool {
    !ids.is_empty() && path.split('/').any(|segment| ids.contains(segment))
}
