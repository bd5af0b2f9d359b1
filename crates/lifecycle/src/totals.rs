//! The finishing touches of a plan: totals, warnings for the user to read before confirming,
//! and the fingerprint that is its id.

use std::collections::{BTreeMap, BTreeSet};

use ocicat_catalog::is_version_tag;
use sha2::{Digest as _, Sha256};

use crate::model::{MAX_ITEMS, MAX_TARGETS};
use crate::model::{Mode, Plan, TagDeletion};

/// Totals, warnings, the id.
pub(crate) fn finish(plan: &mut Plan, tag_deletion: &BTreeMap<String, TagDeletion>) {
    let mut repositories = BTreeSet::new();
    for item in &plan.items {
        repositories.insert((item.registry.clone(), item.repository.clone()));
        plan.totals.bytes += item.size;
        *plan.totals.by_kind.entry(item.kind.clone()).or_insert(0) += 1;
        if plan.mode == Mode::Manifests {
            plan.totals.tags += item.tags.iter().filter(|tag| is_version_tag(tag)).count() as u64;
        }
    }
    plan.totals.repositories = repositories.len() as u64;
    match plan.mode {
        Mode::Manifests => plan.totals.manifests = plan.items.len() as u64,
        Mode::TagOnly => {
            plan.totals.tags = plan.items.len() as u64;
            plan.totals.bytes = 0;
        }
    }
    for target in plan.targets.iter().filter(|target| target.tag.is_some()) {
        let registry = &target.registry;
        let support = tag_deletion.get(registry).copied().unwrap_or(TagDeletion::Unknown);
        plan.tag_deletion.insert(registry.clone(), support);
        let others: Vec<&str> = target
            .tags
            .iter()
            .filter(|tag| is_version_tag(tag) && Some(*tag) != target.tag.as_ref())
            .map(String::as_str)
            .collect();
        if plan.mode == Mode::Manifests && !others.is_empty() {
            plan.warnings.push(format!(
                "{} is also tagged {}: deleting the manifest removes every tag on it",
                target.tag.as_deref().unwrap_or_default(),
                others.join(", ")
            ));
        }
    }
    if plan.mode == Mode::TagOnly {
        for (registry, support) in &plan.tag_deletion {
            match support {
                TagDeletion::Unsupported => plan.warnings.push(format!(
                    "registry {registry} refused to remove a tag alone, even through a throwaway manifest \
                     (are deletes disabled?): delete the manifest instead, which removes every tag on it"
                )),
                TagDeletion::Unknown => plan.warnings.push(format!(
                    "registry {registry} has not been asked to remove a tag alone before; if it cannot delete \
                     a tag, the tag is pointed at a throwaway manifest that is then deleted (the image and its \
                     other tags stay)"
                )),
                TagDeletion::Throwaway => plan.warnings.push(format!(
                    "registry {registry} cannot delete a tag: the tag is pointed at a throwaway manifest that \
                     is then deleted (the image and its other tags stay)"
                )),
                TagDeletion::Supported => {}
            }
        }
    }
    for parent in &plan.broken_parents {
        plan.warnings.push(format!(
            "index {} stays but lists {}, which goes: pulling that platform from it will fail",
            parent.digest, parent.child
        ));
    }
    if plan.truncated {
        plan.warnings.push(format!(
            "the plan was cut at {MAX_TARGETS} targets or {MAX_ITEMS} manifests: it deletes less than asked; \
             run it again afterwards"
        ));
    }
    for repository in &plan.incomplete {
        plan.warnings.push(format!(
            "the latest crawl of {repository} did not see everything: this plan may miss what holds \
             its items, so it cannot be executed; refresh the repository, then plan again"
        ));
    }
    plan.id = fingerprint(plan);
}

/// The id of a plan: a hash of everything the plan shows (what goes in which order with which
/// tags, what stays and why, what breaks, what is rewritten, the totals and warnings), so a
/// page confirms exactly the plan it showed; who asked and when do not count.
pub fn fingerprint(plan: &Plan) -> String {
    let shown = Plan {
        id: String::new(),
        created: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        created_by: String::new(),
        ..plan.clone()
    };
    let bytes = serde_json::to_vec(&shown).unwrap_or_default();
    hex::encode(&Sha256::digest(&bytes)[..12])
}
