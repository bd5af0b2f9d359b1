//! One plan item against its registry: the HEAD re-checks and the DELETE of a manifest or a
//! tag, each turned into an [`ItemResult`]; a registry that refuses deletes says so in words.

use ocicat_oci::{DeleteOutcome, Digest, OciError};

use crate::engine::Engine;
use crate::model::{ItemResult, Outcome, PlanItem, TagDeletion};

impl Engine {
    pub(crate) async fn delete_manifest(&self, item: &PlanItem) -> ItemResult {
        let Some(client) = self.client(&item.registry) else {
            return failed(item, format!("registry {} is not configured any more", item.registry));
        };
        let digest: Digest = match item.digest.parse() {
            Ok(digest) => digest,
            Err(error) => return failed(item, format!("bad digest in the plan: {error}")),
        };
        let mut result = pending(item);
        match client.head_manifest(&item.repository, &item.digest).await {
            Err(OciError::NotFound { .. }) => {
                result.outcome = Outcome::AlreadyGone;
                return result;
            }
            Err(error) => return failed(item, format!("cannot check it before deleting: {error}")),
            Ok(_) => {}
        }
        if let Some(tag) = &item.tag {
            match client.head_manifest(&item.repository, tag).await {
                Ok(Some(now)) if now.to_string() == item.digest => {}
                Ok(now) => {
                    result.outcome = Outcome::TagMoved;
                    let now = now.map_or_else(|| "an unknown digest".to_owned(), |digest| digest.to_string());
                    result.message = Some(format!("tag {tag} now points at {now}; not deleted"));
                    return result;
                }
                Err(OciError::NotFound { .. }) => {
                    result.outcome = Outcome::TagMoved;
                    result.message = Some(format!("tag {tag} was removed since the plan; not deleted"));
                    return result;
                }
                Err(error) => return failed(item, format!("cannot check tag {tag}: {error}")),
            }
        }
        match client.delete_manifest(&item.repository, &digest).await {
            Ok(DeleteOutcome::Deleted) => result.outcome = Outcome::Deleted,
            Ok(DeleteOutcome::AlreadyGone) => result.outcome = Outcome::AlreadyGone,
            Err(OciError::Unsupported { .. }) => {
                let message = format!(
                    "registry {} refuses deletes (deletion is disabled: distribution needs \
                     storage.delete.enabled: true); nothing was deleted there",
                    item.registry
                );
                return refused(item, message);
            }
            Err(error) => return failed(item, format!("delete failed: {error}")),
        }
        result
    }

    pub(crate) async fn delete_tag(&self, item: &PlanItem) -> ItemResult {
        let Some(client) = self.client(&item.registry) else {
            return failed(item, format!("registry {} is not configured any more", item.registry));
        };
        let Some(tag) = &item.tag else { return failed(item, "a tag-only item without a tag".into()) };
        let mut result = pending(item);
        match client.head_manifest(&item.repository, tag).await {
            Ok(Some(now)) if now.to_string() == item.digest => {}
            Err(OciError::NotFound { .. }) => {
                result.outcome = Outcome::AlreadyGone;
                return result;
            }
            Ok(now) => {
                result.outcome = Outcome::TagMoved;
                let now = now.map_or_else(|| "an unknown digest".to_owned(), |digest| digest.to_string());
                result.message = Some(format!("tag {tag} now points at {now}; not removed"));
                return result;
            }
            Err(error) => return failed(item, format!("cannot check tag {tag}: {error}")),
        }
        let learnt = match client.delete_tag(&item.repository, tag).await {
            Ok(DeleteOutcome::Deleted) => {
                result.outcome = Outcome::Deleted;
                TagDeletion::Supported
            }
            Ok(DeleteOutcome::AlreadyGone) => {
                result.outcome = Outcome::AlreadyGone;
                TagDeletion::Supported
            }
            // As regclient does: the tag moves to a throwaway manifest, which is then deleted.
            Err(OciError::Unsupported { .. }) => match self.tag_still_names(client, item, tag).await {
                Err(moved) => return moved,
                Ok(()) => match client.remove_tag_by_throwaway(&item.repository, tag).await {
                    Ok(throwaway) => {
                        result.outcome = Outcome::Deleted;
                        result.message = Some(format!(
                            "registry {} cannot delete a tag, so tag {tag} was pointed at a throwaway manifest {throwaway} \
                             and that was deleted; the image and its other tags stay",
                            item.registry
                        ));
                        TagDeletion::Throwaway
                    }
                    Err(error) => {
                        result = refused(
                            item,
                            format!(
                                "registry {} cannot remove a tag alone, not even through a throwaway manifest \
                                 ({error}); delete the manifest instead, which removes every tag on it",
                                item.registry
                            ),
                        );
                        TagDeletion::Unsupported
                    }
                },
            },
            Err(error) => return failed(item, format!("removing the tag failed: {error}")),
        };
        if let Ok(mut known) = self.tag_deletion.lock() {
            known.insert(item.registry.clone(), learnt);
        }
        result
    }
}

impl Engine {
    /// Ok when `tag` still names the item's digest (checked again right before it is moved).
    async fn tag_still_names(&self, client: &ocicat_oci::Client, item: &PlanItem, tag: &str) -> Result<(), ItemResult> {
        match client.head_manifest(&item.repository, tag).await {
            Ok(Some(now)) if now.to_string() == item.digest => Ok(()),
            Ok(now) => {
                let mut moved = pending(item);
                moved.outcome = Outcome::TagMoved;
                let now = now.map_or_else(|| "an unknown digest".to_owned(), |digest| digest.to_string());
                moved.message = Some(format!("tag {tag} now points at {now}; not removed"));
                Err(moved)
            }
            Err(error) => Err(failed(item, format!("cannot check tag {tag}: {error}"))),
        }
    }
}

pub(crate) fn pending(item: &PlanItem) -> ItemResult {
    ItemResult {
        registry: item.registry.clone(),
        repository: item.repository.clone(),
        digest: item.digest.clone(),
        tag: item.tag.clone(),
        outcome: Outcome::Pending,
        message: None,
        refused: false,
    }
}

pub(crate) fn failed(item: &PlanItem, message: String) -> ItemResult {
    ItemResult { outcome: Outcome::Failed, message: Some(message), ..pending(item) }
}

/// A failure because the registry refuses such deletes altogether: the rest of the plan there
/// is not tried.
fn refused(item: &PlanItem, message: String) -> ItemResult {
    ItemResult { refused: true, ..failed(item, message) }
}
