//! Before anything is deleted, the registry's tags as they are now against the plan: a planned
//! digest whose tags changed since the plan (a tag moved onto it, off it or away) is left, with
//! everything that came into the plan with it, so a delete never takes a tag the plan did not
//! show. Tags are listed and resolved once per repository the plan touches.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use ocicat_oci::OciError;

use crate::engine::Engine;
use crate::execute::entry;
use crate::item::pending;
use crate::model::{Execution, Mode, Outcome, PlanItem};

/// Where every tag of one repository points now: digest → its tags.
type TagsNow = BTreeMap<String, BTreeSet<String>>;

impl Engine {
    /// Where every tag of `repository` points now, or why that cannot be told.
    async fn tags_now(&self, registry: &str, repository: &str) -> Result<TagsNow, String> {
        let client = self.client(registry).ok_or_else(|| format!("registry {registry} is not configured any more"))?;
        let listing = match client.tags(repository).await {
            Ok(listing) => listing,
            Err(OciError::NotFound { .. }) => return Ok(TagsNow::new()),
            Err(error) => return Err(format!("cannot list its tags: {error}")),
        };
        if listing.truncated {
            return Err("its tag list is longer than ocicat reads".into());
        }
        let mut now = TagsNow::new();
        for tag in listing.items {
            match client.head_manifest(repository, &tag).await {
                Ok(Some(digest)) => {
                    now.entry(digest.to_string()).or_default().insert(tag);
                }
                Ok(None) => return Err(format!("the registry does not say where tag {tag} points")),
                Err(OciError::NotFound { .. }) => {}
                Err(error) => return Err(format!("cannot resolve tag {tag}: {error}")),
            }
        }
        Ok(now)
    }

    /// Leaves every item whose tags changed since the plan, and everything that came with it;
    /// answers the items so decided (each with an audit line).
    pub(crate) async fn leave_changed(&self, execution: &mut Execution, actor: &str) -> HashSet<usize> {
        let mut decided = HashSet::new();
        if execution.plan.mode != Mode::Manifests {
            return decided;
        }
        let mut repositories: HashMap<(String, String), Result<TagsNow, String>> = HashMap::new();
        let mut left: HashMap<String, String> = HashMap::new();
        for index in 0..execution.plan.items.len() {
            if execution.results[index].outcome.is_done() {
                continue;
            }
            let item = execution.plan.items[index].clone();
            let key = (item.registry.clone(), item.repository.clone());
            if !repositories.contains_key(&key) {
                let now = self.tags_now(&item.registry, &item.repository).await;
                repositories.insert(key.clone(), now);
            }
            let Some(why) = changed(&item, &repositories[&key]) else { continue };
            let mut result = pending(&item);
            result.outcome = Outcome::TagMoved;
            result.message = Some(format!("{why} since the plan; not deleted"));
            left.insert(item.digest.clone(), why);
            execution.results[index] = result;
            decided.insert(index);
        }
        loop {
            let mut grew = false;
            for (index, item) in execution.plan.items.iter().enumerate() {
                let Some(parent) = item.reason.parent() else { continue };
                if decided.contains(&index) || !left.contains_key(parent) {
                    continue;
                }
                let mut result = pending(item);
                result.outcome = Outcome::Skipped;
                result.message = Some(format!("comes with {parent}, which stays ({}); not deleted", left[parent]));
                execution.results[index] = result;
                left.insert(item.digest.clone(), left[parent].clone());
                decided.insert(index);
                grew = true;
            }
            if !grew {
                break;
            }
        }
        let mut decided_in_order: Vec<usize> = decided.iter().copied().collect();
        decided_in_order.sort_unstable();
        for index in decided_in_order {
            let (item, result) = (&execution.plan.items[index], &execution.results[index]);
            let mut line = entry(actor, "delete", Some(item), &execution.plan.id, result.outcome.key(), None);
            line.detail = result.message.clone();
            self.audit(line).await;
        }
        decided
    }
}

/// Why `item`'s tags are not what the plan showed, if they are not.
fn changed(item: &PlanItem, now: &Result<TagsNow, String>) -> Option<String> {
    let now = match now {
        Ok(now) => now,
        Err(reason) => return Some(format!("the tags of {} cannot be checked ({reason})", item.repository)),
    };
    let planned: BTreeSet<String> = item.tags.iter().cloned().collect();
    let current = now.get(&item.digest).cloned().unwrap_or_default();
    if planned == current {
        return None;
    }
    if let Some(tag) = item.tag.as_ref().filter(|tag| !current.contains(*tag)) {
        let moved_to = now.iter().find(|(_, tags)| tags.contains(tag)).map(|(digest, _)| digest.clone());
        return Some(match moved_to {
            Some(digest) => format!("tag {tag} points at {digest}"),
            None => format!("tag {tag} was removed"),
        });
    }
    let list = |tags: &BTreeSet<String>| {
        if tags.is_empty() { "none".to_owned() } else { tags.iter().cloned().collect::<Vec<_>>().join(", ") }
    };
    Some(format!("its tags changed (planned: {}; now: {})", list(&planned), list(&current)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Reason;

    fn item(digest: &str, tags: &[&str], tag: Option<&str>) -> PlanItem {
        PlanItem {
            registry: "local".into(),
            repository: "team/app".into(),
            digest: digest.into(),
            kind: "image".into(),
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            tag: tag.map(str::to_owned),
            size: 1,
            reason: Reason::Target,
            depth: 0,
            after: Vec::new(),
        }
    }

    fn now(pairs: &[(&str, &[&str])]) -> Result<TagsNow, String> {
        Ok(pairs
            .iter()
            .map(|(digest, tags)| ((*digest).to_owned(), tags.iter().map(|t| (*t).to_owned()).collect()))
            .collect())
    }

    #[test]
    fn a_tag_that_moved_onto_a_planned_digest_leaves_it() {
        let planned = item("sha256:a", &["1.0"], None);
        assert_eq!(changed(&planned, &now(&[("sha256:a", &["1.0"])])), None);
        let why = changed(&planned, &now(&[("sha256:a", &["1.0", "prod"])])).expect("prod moved onto it");
        assert!(why.contains("planned: 1.0; now: 1.0, prod"), "{why}");
        assert!(changed(&planned, &now(&[])).unwrap().contains("now: none"), "a tag went away");
    }

    #[test]
    fn a_target_tag_that_moved_says_where() {
        let planned = item("sha256:a", &["1.0"], Some("1.0"));
        assert_eq!(changed(&planned, &now(&[("sha256:b", &["1.0"])])).unwrap(), "tag 1.0 points at sha256:b");
        assert_eq!(changed(&planned, &now(&[])).unwrap(), "tag 1.0 was removed");
        let unreadable: Result<TagsNow, String> = Err("cannot list its tags".into());
        assert!(changed(&planned, &unreadable).unwrap().contains("cannot be checked"));
    }
}
