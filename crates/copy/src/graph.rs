//! The graph of one artifact as the catalog has it, in the order a copy writes it: an index's
//! children before the index, a subject before what is attached to it; with every blob its
//! image manifests name, each once. Referrers and children never cross repositories. The walk
//! keeps a visited set and a cap, so loops (a cosign tag pointing back) and floods end.

use std::collections::HashSet;

use ocicat_catalog::{ArtifactDoc, Catalog, cosign_tag_subject};

use crate::model::{Excluded, MAX_MANIFESTS, Role};
use crate::plan::CopyError;

/// A manifest of the graph.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub(crate) doc: ArtifactDoc,
    pub(crate) role: Role,
    pub(crate) parent: Option<String>,
    /// Cosign tags it carries (they name its subject, the same digest at the destination).
    pub(crate) cosign_tags: Vec<String>,
}

/// A blob of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blob {
    pub(crate) digest: String,
    pub(crate) size: u64,
}

/// The graph, in write order.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
    pub(crate) blobs: Vec<Blob>,
    pub(crate) excluded: Vec<Excluded>,
}

/// Which referrers go along: none of `exclude`, and when `include` is set only those.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TypeFilter<'a> {
    pub(crate) include: &'a [String],
    pub(crate) exclude: &'a [String],
}

impl TypeFilter<'_> {
    /// Why a referrer of `artifact_type` stays behind, if it does.
    fn leaves_behind(&self, artifact_type: &str) -> Option<String> {
        if let Some(prefix) = self.exclude.iter().find(|prefix| artifact_type.starts_with(prefix.as_str())) {
            return Some(format!("artifact type {artifact_type} is excluded ({prefix}*), with what hangs on it"));
        }
        if !self.include.is_empty() && !self.include.iter().any(|prefix| artifact_type.starts_with(prefix.as_str())) {
            return Some(format!("artifact type {artifact_type} is not among those included, with what hangs on it"));
        }
        None
    }
}

struct Walk<'a> {
    catalog: &'a Catalog,
    registry: &'a str,
    repository: &'a str,
    filter: TypeFilter<'a>,
    visited: HashSet<String>,
    graph: Graph,
}

/// The graph rooted at `roots` (digests) in `repository` of `registry`; a manifest reached
/// from two roots is written once.
pub(crate) fn walk(
    catalog: &Catalog,
    registry: &str,
    repository: &str,
    roots: &[String],
    filter: TypeFilter<'_>,
) -> Result<Graph, CopyError> {
    let mut walk = Walk { catalog, registry, repository, filter, visited: HashSet::new(), graph: Graph::default() };
    for digest in roots {
        let root = catalog
            .artifact(registry, repository, digest)
            .map_err(|error| CopyError::Catalog(error.to_string()))?
            .ok_or_else(|| CopyError::NotFound(format!("{registry}/{repository}@{digest}")))?;
        walk.visit(root, Role::Root, None)?;
    }
    // Each blob once, in the order the manifests name them.
    let mut seen = HashSet::new();
    let blobs: Vec<Blob> = walk
        .graph
        .nodes
        .iter()
        .flat_map(|node| blobs_of(&node.doc))
        .filter(|blob| seen.insert(blob.digest.clone()))
        .collect();
    walk.graph.blobs = blobs;
    Ok(walk.graph)
}

impl Walk<'_> {
    fn visit(&mut self, doc: ArtifactDoc, role: Role, parent: Option<String>) -> Result<(), CopyError> {
        if !self.visited.insert(doc.digest.clone()) {
            return Ok(());
        }
        if self.visited.len() > MAX_MANIFESTS {
            return Err(CopyError::TooLarge(MAX_MANIFESTS));
        }
        if doc.crawl_error.is_some() {
            return Err(CopyError::Refused(format!(
                "{} could not be read at its last crawl; refresh the repository before copying it",
                doc.digest
            )));
        }
        // Children first: an index is written once what it lists exists.
        for child in doc.children.clone() {
            match self.lookup(&child.digest)? {
                Some(found) => self.visit(found, Role::Child, Some(doc.digest.clone()))?,
                None => {
                    return Err(CopyError::Refused(format!(
                        "{} lists {}, which is not in the index (refresh the repository)",
                        doc.digest, child.digest
                    )));
                }
            }
        }
        let digest = doc.digest.clone();
        let cosign_tags = doc.tags.iter().filter(|tag| cosign_tag_subject(tag).is_some()).cloned().collect();
        self.graph.nodes.push(Node { doc, role, parent, cosign_tags });
        // Then what hangs on it, in a stable order.
        let mut referrers = self
            .catalog
            .referrers(self.registry, self.repository, &digest)
            .map_err(|error| CopyError::Catalog(error.to_string()))?;
        referrers.sort_by(|a, b| a.digest.cmp(&b.digest));
        for referrer in referrers {
            if referrer.referrers_index {
                continue; // a fallback index is rebuilt at the destination, not copied
            }
            let artifact_type = referrer.artifact_type.clone().unwrap_or_default();
            if let Some(reason) = self.filter.leaves_behind(&artifact_type) {
                self.graph.excluded.push(Excluded { digest: referrer.digest.clone(), reason });
                continue;
            }
            self.visit(referrer, Role::Referrer, Some(digest.clone()))?;
        }
        Ok(())
    }

    fn lookup(&self, digest: &str) -> Result<Option<ArtifactDoc>, CopyError> {
        self.catalog
            .artifact(self.registry, self.repository, digest)
            .map_err(|error| CopyError::Catalog(error.to_string()))
    }
}

/// The blobs an image manifest names: its config and its layers (an index names none).
fn blobs_of(doc: &ArtifactDoc) -> Vec<Blob> {
    doc.config.iter().chain(&doc.layers).map(|blob| Blob { digest: blob.digest.clone(), size: blob.size }).collect()
}
