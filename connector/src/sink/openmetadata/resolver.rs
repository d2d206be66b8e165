//! Ids by FQN and email, and the Sigma tags, each settled once per run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use super::client::{OmClient, OmError};
use crate::records::{EntityType, TAG_CLASSIFICATION, fqn as om_fqn, tag_name};

/// Adds tag labels to an entity body's `tags`, leaving out any it already has.
pub(super) fn add_tags(body: &mut Value, labels: Vec<Value>) {
    if labels.is_empty() {
        return;
    }
    let Some(entity) = body.as_object_mut() else {
        return;
    };
    let list = entity.entry("tags").or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(list) = list.as_array_mut() {
        for label in labels {
            if !list.iter().any(|l| l.get("tagFQN") == label.get("tagFQN")) {
                list.push(label);
            }
        }
    }
}

pub(super) type Cell = Arc<OnceCell<Option<String>>>;

/// Whether a classification or tag exists in OpenMetadata (else why not), settled once.
pub(super) type Ensured = Arc<OnceCell<Result<(), String>>>;

/// The description of the classification the sink creates.
pub(super) const CLASSIFICATION_DESCRIPTION: &str = "Tags from Sigma Computing: each tag here is a tag that Sigma workbooks carry, created by the Sigma connector when it ingests them (sourceConfig.config.includeTags).";

/// Ids by FQN and by email, each looked up at most once (concurrent askers wait for the
/// one lookup). A failed lookup is not cached: the next asker tries again.
pub(super) struct Resolver {
    pub(super) client: OmClient,
    pub(super) entities: Mutex<HashMap<(EntityType, String), Cell>>,
    pub(super) users: Mutex<HashMap<String, Cell>>,
    /// The `SigmaTags` classification, created at most once per run.
    pub(super) classification: Ensured,
    /// Tags by (valid) tag name, each created at most once per run; a refusal is kept too,
    /// so a tag OpenMetadata refused is not asked for again by every entity that carries it.
    pub(super) tags: Mutex<HashMap<String, Ensured>>,
}

impl Resolver {
    pub(super) fn cell<K: std::hash::Hash + Eq, V: Default + Clone>(
        map: &Mutex<HashMap<K, V>>,
        key: K,
    ) -> V {
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key).or_default().clone()
    }

    /// `PUT /v1/classifications`: the classification that holds the Sigma tags.
    pub(super) async fn classification(&self) -> Result<(), String> {
        self.classification
            .get_or_init(|| async {
                let body = json!({
                    "name": TAG_CLASSIFICATION,
                    "description": CLASSIFICATION_DESCRIPTION,
                    "mutuallyExclusive": false,
                });
                match self.client.put(&["v1", "classifications"], &body).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(format!(
                        "cannot create classification {TAG_CLASSIFICATION}: {e}"
                    )),
                }
            })
            .await
            .clone()
    }

    /// `PUT /v1/tags` for a Sigma tag (after its classification): the tag's FQN to label
    /// entities with, or why it cannot be used.
    pub(super) async fn tag(&self, raw: &str) -> Result<String, String> {
        let name = tag_name(raw);
        let tag_fqn = om_fqn::tag(TAG_CLASSIFICATION, &name);
        let cell: Ensured = Self::cell(&self.tags, name.clone());
        cell.get_or_init(|| async {
            self.classification().await?;
            let mut body = json!({
                "name": name,
                "classification": TAG_CLASSIFICATION,
                "description": format!("Sigma tag `{}`, as Sigma workbooks carry it.", raw.trim()),
            });
            if name != raw.trim() {
                body["displayName"] = json!(raw.trim());
            }
            match self.client.put(&["v1", "tags"], &body).await {
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
        .clone()
        .map(|()| tag_fqn)
    }

    /// Records an id learnt from a `PUT` answer, so lineage needs no lookup for it.
    pub(super) fn remember(&self, entity_type: EntityType, fqn: &str, id: String) {
        let cell = Self::cell(&self.entities, (entity_type, fqn.to_owned()));
        let _ = cell.set(Some(id));
    }

    /// `GET /v1/{collection}/name/{fqn}`: the entity's id, `None` if OpenMetadata has none.
    pub(super) async fn entity(
        &self,
        entity_type: EntityType,
        fqn: &str,
    ) -> Result<Option<String>, OmError> {
        let cell = Self::cell(&self.entities, (entity_type, fqn.to_owned()));
        cell.get_or_try_init(|| self.client.id_by_fqn(entity_type, fqn))
            .await
            .cloned()
    }

    /// A user's id by email (`OmClient::user_by_email`), once per email per run.
    pub(super) async fn user(&self, email: &str) -> Result<Option<String>, OmError> {
        let cell = Self::cell(&self.users, email.to_lowercase());
        cell.get_or_try_init(|| self.client.user_by_email(email))
            .await
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::TagLabel;

    #[test]
    fn tags_are_added_once_each() {
        let label = |f: &str| serde_json::to_value(TagLabel::classification(f)).unwrap();
        let mut body = json!({"name": "d", "tags": [label("SigmaTags.A")]});
        add_tags(&mut body, vec![label("SigmaTags.A"), label("SigmaTags.B")]);
        assert_eq!(
            body["tags"],
            json!([label("SigmaTags.A"), label("SigmaTags.B")])
        );
        let mut body = json!({"name": "d"});
        add_tags(&mut body, Vec::new());
        assert_eq!(body, json!({"name": "d"}));
        add_tags(&mut body, vec![label("SigmaTags.A")]);
        assert_eq!(
            body["tags"][0],
            json!({"tagFQN": "SigmaTags.A", "source": "Classification", "labelType": "Automated", "state": "Confirmed"})
        );
    }
}
