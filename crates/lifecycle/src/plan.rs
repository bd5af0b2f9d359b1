//! Delete plans: the blast radius of deleting some artifacts, computed from the catalog's graph
//! of one repository at a time (referrers and index children never cross repositories).
//!
//! An artifact reached from a target (a referrer of it, a child of it) goes only when
//! everything that holds it goes too: its subject and every index that lists it. An index
//! child with its own version tags stays. The walk keeps a visited set and a node cap, so
//! referrer loops (a cosign tag pointing back) and floods end.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};
use ocicat_catalog::{ArtifactDoc, Catalog, MAX_REPOSITORY_ARTIFACTS, is_fallback_tag, is_version_tag};

use crate::model::{
    BrokenParent, FallbackRewrite, KeptItem, Mode, Plan, PlanItem, Reason, TagDeletion, TargetSpec, Totals,
};
pub use crate::totals::fingerprint;
use crate::totals::finish;

pub use crate::model::{MAX_ITEMS, MAX_TARGETS};

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A target is not in the index.
    #[error("{0} is not in the index (refresh the repository if it was pushed just now)")]
    NotFound(String),
    /// A target cannot be deleted on its own.
    #[error("{0}")]
    Refused(String),
    /// Nothing to do.
    #[error("the plan is empty: nothing matched")]
    Empty,
    /// The index failed.
    #[error("catalog: {0}")]
    Catalog(String),
}

/// The graph of one repository, as the catalog has it.
struct Graph {
    docs: HashMap<String, ArtifactDoc>,
    /// digest → artifacts attached to it.
    referrers: HashMap<String, Vec<String>>,
    /// digest → indexes (not fallback indexes) that list it.
    parents: HashMap<String, Vec<String>>,
    /// subject digest → its fallback referrers index.
    fallback: HashMap<String, String>,
    truncated: bool,
}

impl Graph {
    fn load(catalog: &Catalog, registry: &str, repository: &str) -> Result<Graph, PlanError> {
        let artifacts = catalog
            .artifacts_in_repository(registry, repository)
            .map_err(|error| PlanError::Catalog(error.to_string()))?;
        let truncated = artifacts.len() >= MAX_REPOSITORY_ARTIFACTS;
        let mut graph = Graph {
            docs: HashMap::new(),
            referrers: HashMap::new(),
            parents: HashMap::new(),
            fallback: HashMap::new(),
            truncated,
        };
        for artifact in artifacts {
            if artifact.referrers_index {
                for tag in artifact.tags.iter().filter(|tag| is_fallback_tag(tag)) {
                    if let Some(subject) = ocicat_catalog::referrer_tag_subject(tag) {
                        graph.fallback.insert(subject, artifact.digest.clone());
                    }
                }
            } else {
                if let Some(subject) = &artifact.refers_to {
                    graph.referrers.entry(subject.clone()).or_default().push(artifact.digest.clone());
                }
                for child in &artifact.children {
                    graph.parents.entry(child.digest.clone()).or_default().push(artifact.digest.clone());
                }
            }
            graph.docs.insert(artifact.digest.clone(), artifact);
        }
        for list in graph.referrers.values_mut().chain(graph.parents.values_mut()) {
            list.sort();
            list.dedup();
        }
        Ok(graph)
    }

    fn resolve(&self, reference: &str) -> Option<&ArtifactDoc> {
        if reference.contains(':') {
            return self.docs.get(reference);
        }
        self.docs.values().find(|doc| !doc.referrers_index && doc.tags.iter().any(|tag| tag == reference))
    }

    /// Children of a real index (a fallback index lists referrers, which it does not hold).
    fn children(&self, digest: &str) -> Vec<String> {
        match self.docs.get(digest) {
            Some(doc) if !doc.referrers_index => doc.children.iter().map(|child| child.digest.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// What holds `digest`: its subject (when indexed) and the indexes that list it.
    fn holders(&self, digest: &str) -> Vec<String> {
        let mut holders: Vec<String> = self.parents.get(digest).cloned().unwrap_or_default();
        if let Some(subject) = self.docs.get(digest).and_then(|doc| doc.refers_to.clone())
            && self.docs.contains_key(&subject)
        {
            holders.push(subject);
        }
        holders
    }
}

/// A plan in the making, for one repository.
struct Walk<'a> {
    graph: &'a Graph,
    registry: &'a str,
    repository: &'a str,
    chosen: HashMap<String, PlanItem>,
    kept: BTreeMap<String, String>,
    truncated: bool,
}

impl Walk<'_> {
    fn item(&self, doc: &ArtifactDoc, reason: Reason, depth: u32, tag: Option<String>) -> PlanItem {
        PlanItem {
            registry: self.registry.to_owned(),
            repository: self.repository.to_owned(),
            digest: doc.digest.clone(),
            kind: doc.kind.as_str().to_owned(),
            tags: doc.tags.clone(),
            tag,
            size: doc.size,
            reason,
            depth,
            after: Vec::new(),
        }
    }

    /// Adds everything that goes with the targets already chosen.
    fn close(&mut self, total_items: &mut usize) {
        let mut queue: VecDeque<String> = self.chosen.keys().cloned().collect();
        while let Some(digest) = queue.pop_front() {
            let depth = self.chosen[&digest].depth;
            let attached = self.graph.referrers.get(&digest).cloned().unwrap_or_default();
            let listed = self.graph.children(&digest);
            let reached = attached.into_iter().map(|d| (d, true)).chain(listed.into_iter().map(|d| (d, false)));
            for (candidate, is_referrer) in reached {
                if self.chosen.contains_key(&candidate) {
                    continue;
                }
                let Some(doc) = self.graph.docs.get(&candidate) else { continue };
                let outside: Vec<String> =
                    self.graph.holders(&candidate).into_iter().filter(|h| !self.chosen.contains_key(h)).collect();
                let own_tags: Vec<&String> = doc.tags.iter().filter(|tag| is_version_tag(tag)).collect();
                if !outside.is_empty() {
                    self.kept.insert(candidate.clone(), self.held_by(&candidate, &outside));
                    continue;
                }
                if !is_referrer && !own_tags.is_empty() {
                    let tags = own_tags.iter().map(|tag| tag.as_str()).collect::<Vec<_>>().join(", ");
                    self.kept.insert(candidate.clone(), format!("it has its own tags: {tags}"));
                    continue;
                }
                if *total_items >= MAX_ITEMS {
                    self.truncated = true;
                    return;
                }
                self.kept.remove(&candidate);
                let reason = if is_referrer {
                    Reason::Referrer { of: digest.clone() }
                } else {
                    Reason::Child { of: digest.clone() }
                };
                let item = self.item(doc, reason, depth + 1, None);
                self.chosen.insert(candidate.clone(), item);
                *total_items += 1;
                queue.push_back(candidate);
            }
        }
    }

    fn held_by(&self, candidate: &str, holders: &[String]) -> String {
        let listing = self.graph.parents.get(candidate);
        let words: Vec<String> = holders
            .iter()
            .map(|holder| {
                let doc = &self.graph.docs[holder];
                let tags: Vec<&str> = doc.tags.iter().filter(|t| is_version_tag(t)).map(String::as_str).collect();
                let named = if tags.is_empty() { holder.clone() } else { format!("{holder} ({})", tags.join(", ")) };
                if listing.is_some_and(|parents| parents.contains(holder)) {
                    format!("listed by index {named}, which stays")
                } else {
                    format!("attached to {named}, which stays")
                }
            })
            .collect();
        words.join("; ")
    }
}

/// Computes the plan for `targets` (and, for the page, the search they came from).
pub fn plan(
    catalog: &Catalog,
    targets: &[TargetSpec],
    mode: Mode,
    query: Option<String>,
    created_by: &str,
    tag_deletion: &BTreeMap<String, TagDeletion>,
    now: DateTime<Utc>,
) -> Result<Plan, PlanError> {
    if targets.is_empty() {
        return Err(PlanError::Empty);
    }
    let mut by_repository: BTreeMap<(String, String), Vec<&TargetSpec>> = BTreeMap::new();
    for target in targets.iter().take(MAX_TARGETS) {
        by_repository.entry((target.registry.clone(), target.repository.clone())).or_default().push(target);
    }
    let mut plan = Plan {
        id: String::new(),
        created: now,
        created_by: created_by.to_owned(),
        query,
        mode,
        targets: Vec::new(),
        items: Vec::new(),
        kept: Vec::new(),
        broken_parents: Vec::new(),
        fallback_rewrites: Vec::new(),
        tag_deletion: BTreeMap::new(),
        warnings: Vec::new(),
        totals: Totals::default(),
        truncated: targets.len() > MAX_TARGETS,
        incomplete: Vec::new(),
    };
    let mut total_items = 0;
    for ((registry, repository), wanted) in &by_repository {
        let graph = Graph::load(catalog, registry, repository)?;
        plan.truncated |= graph.truncated;
        if let Some(reasons) = incomplete_crawl(catalog, registry, repository)? {
            plan.incomplete.push(reasons);
        }
        let mut walk = Walk {
            graph: &graph,
            registry,
            repository,
            chosen: HashMap::new(),
            kept: BTreeMap::new(),
            truncated: false,
        };
        for target in wanted {
            let name = format!("{registry}/{repository}{}{}", separator(&target.reference), target.reference);
            let doc = graph.resolve(&target.reference).ok_or_else(|| PlanError::NotFound(name.clone()))?;
            if doc.referrers_index {
                return Err(PlanError::Refused(format!(
                    "{name} is a fallback referrers index; delete the referrers it lists instead"
                )));
            }
            let tag = (!target.reference.contains(':')).then(|| target.reference.clone());
            if mode == Mode::TagOnly && tag.is_none() {
                return Err(PlanError::Refused(format!("{name} is a digest: removing only a tag needs a tag")));
            }
            let item = walk.item(doc, Reason::Target, 0, tag.clone());
            plan.targets.push(item.clone());
            match walk.chosen.get_mut(&doc.digest) {
                Some(existing) if existing.tag.is_none() => existing.tag = tag,
                Some(_) => {}
                None => {
                    walk.chosen.insert(doc.digest.clone(), item);
                    total_items += 1;
                }
            }
        }
        if mode == Mode::Manifests {
            walk.close(&mut total_items);
            add_fallback_indexes(&mut walk, &mut total_items);
            plan.fallback_rewrites.extend(rewrites(&walk));
            plan.broken_parents.extend(broken_parents(&walk));
        }
        plan.truncated |= walk.truncated;
        for (digest, because) in &walk.kept {
            let doc = &graph.docs[digest];
            plan.kept.push(KeptItem {
                registry: registry.clone(),
                repository: repository.clone(),
                digest: digest.clone(),
                kind: doc.kind.as_str().to_owned(),
                because: because.clone(),
            });
        }
        plan.items.extend(order(&graph, walk.chosen));
    }
    finish(&mut plan, tag_deletion);
    Ok(plan)
}

/// `registry/repository (why)` when the catalog says its latest crawl did not see everything.
pub(crate) fn incomplete_crawl(
    catalog: &Catalog,
    registry: &str,
    repository: &str,
) -> Result<Option<String>, PlanError> {
    let summary = catalog.repository(registry, repository).map_err(|error| PlanError::Catalog(error.to_string()))?;
    Ok(summary
        .filter(|summary| !summary.incomplete.is_empty())
        .map(|summary| format!("{registry}/{repository} ({})", summary.incomplete.join("; "))))
}

fn separator(reference: &str) -> &'static str {
    if reference.contains(':') { "@" } else { ":" }
}

/// A subject that goes takes its (non-empty) fallback referrers index with it.
fn add_fallback_indexes(walk: &mut Walk<'_>, total_items: &mut usize) {
    let subjects: Vec<String> = walk.chosen.keys().cloned().collect();
    for subject in subjects {
        let Some(index) = walk.graph.fallback.get(&subject) else { continue };
        let doc = &walk.graph.docs[index];
        // An empty index has the same bytes (and digest) as every other empty one.
        if doc.children.is_empty() || walk.chosen.contains_key(index) {
            continue;
        }
        let depth = walk.chosen[&subject].depth + 1;
        let item = walk.item(doc, Reason::FallbackIndex { of: subject.clone() }, depth, None);
        walk.chosen.insert(index.clone(), item);
        *total_items += 1;
    }
}

/// Fallback indexes of subjects that stay lose the deleted referrers.
fn rewrites(walk: &Walk<'_>) -> Vec<FallbackRewrite> {
    let mut by_subject: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for item in walk.chosen.values() {
        let Some(subject) = walk.graph.docs.get(&item.digest).and_then(|doc| doc.refers_to.clone()) else { continue };
        if walk.chosen.contains_key(&subject) {
            continue;
        }
        let Some(index) = walk.graph.fallback.get(&subject) else { continue };
        if walk.graph.docs[index].children.iter().any(|child| child.digest == item.digest) {
            by_subject.entry(subject).or_default().push(item.digest.clone());
        }
    }
    by_subject
        .into_iter()
        .map(|(subject, mut remove)| {
            remove.sort();
            FallbackRewrite {
                registry: walk.registry.to_owned(),
                repository: walk.repository.to_owned(),
                tag: subject.replacen(':', "-", 1),
                subject,
                remove,
            }
        })
        .collect()
}

/// Indexes that stay but list something that goes.
fn broken_parents(walk: &Walk<'_>) -> Vec<BrokenParent> {
    let mut broken = Vec::new();
    for digest in walk.chosen.keys() {
        for parent in walk.graph.parents.get(digest).into_iter().flatten() {
            if walk.chosen.contains_key(parent) {
                continue;
            }
            let doc = &walk.graph.docs[parent];
            broken.push(BrokenParent {
                registry: walk.registry.to_owned(),
                repository: walk.repository.to_owned(),
                digest: parent.clone(),
                tags: doc.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
                child: digest.clone(),
            });
        }
    }
    broken.sort_by(|a, b| (&a.digest, &a.child).cmp(&(&b.digest, &b.child)));
    broken
}

/// Execution order: an artifact after everything attached to it and after the indexes that
/// list it, and a fallback index before its subject. A loop is broken by depth, then digest.
fn order(graph: &Graph, chosen: HashMap<String, PlanItem>) -> Vec<PlanItem> {
    // before[x] = items that must go before x.
    let mut before: HashMap<&str, BTreeSet<&str>> = chosen.keys().map(|d| (d.as_str(), BTreeSet::new())).collect();
    for (digest, item) in &chosen {
        let mut goes_first: Vec<&str> = Vec::new();
        goes_first.extend(graph.referrers.get(digest).into_iter().flatten().map(String::as_str));
        goes_first.extend(graph.parents.get(digest).into_iter().flatten().map(String::as_str));
        if let Some(index) = graph.fallback.get(digest) {
            goes_first.push(index);
        }
        if let Reason::FallbackIndex { of } = &item.reason {
            goes_first.extend(graph.referrers.get(of).into_iter().flatten().map(String::as_str));
        }
        let entry = before.get_mut(digest.as_str()).expect("every chosen item has an entry");
        entry.extend(goes_first.into_iter().filter(|d| chosen.contains_key(*d) && *d != digest));
    }
    let mut done: HashSet<&str> = HashSet::new();
    let mut ordered = Vec::with_capacity(chosen.len());
    let mut remaining: BTreeSet<(std::cmp::Reverse<u32>, &str)> =
        chosen.iter().map(|(digest, item)| (std::cmp::Reverse(item.depth), digest.as_str())).collect();
    while !remaining.is_empty() {
        let ready = remaining.iter().find(|(_, digest)| before[digest].iter().all(|d| done.contains(d))).copied();
        // In a loop nothing is ready: take the deepest first.
        let next = ready.unwrap_or_else(|| *remaining.iter().next().expect("not empty"));
        remaining.remove(&next);
        done.insert(next.1);
        ordered.push(next.1.to_owned());
    }
    let after: HashMap<String, Vec<String>> = before
        .into_iter()
        .map(|(digest, first)| (digest.to_owned(), first.into_iter().map(str::to_owned).collect()))
        .collect();
    let mut chosen = chosen;
    ordered
        .into_iter()
        .filter_map(|digest| {
            let mut item = chosen.remove(&digest)?;
            item.after = after.get(&digest).cloned().unwrap_or_default();
            Some(item)
        })
        .collect()
}
