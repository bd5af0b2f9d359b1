//! The referrers tree of an artifact, like `oras discover`: what is attached to it, what is
//! attached to those, and so on — filtered, ordered by created date and cut to the top N.

use std::collections::HashSet;

use crate::document::ArtifactDoc;
use crate::error::Result;
use crate::reader::Catalog;

/// Deepest level followed (a signature on an SBOM on an image is level 2).
const MAX_DEPTH: usize = 8;
/// Most nodes in one tree, whatever the registry holds (S22: 10⁵ referrers, loops).
const MAX_NODES: usize = 1_000;

/// What to return.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferrerQuery {
    /// Only top-level referrers of this artifact type (e.g. `application/spdx+json`).
    pub artifact_type: Option<String>,
    /// Oldest first instead of newest first.
    pub oldest_first: bool,
    /// At most this many top-level referrers (0: no limit beyond the node cap).
    pub limit: usize,
}

/// A referrer and what refers to it in turn.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferrerNode {
    /// The referrer.
    pub artifact: ArtifactDoc,
    /// Its own referrers, in the same order.
    pub referrers: Vec<ReferrerNode>,
}

/// The tree and whether a cap cut it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReferrerTree {
    /// Top-level referrers.
    pub nodes: Vec<ReferrerNode>,
    /// Top-level referrers that matched before `limit` applied.
    pub total: usize,
    /// True when the depth or node cap left some out.
    pub truncated: bool,
}

impl Catalog {
    /// The referrers tree of `digest` in one repository.
    pub fn referrer_tree(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
        query: &ReferrerQuery,
    ) -> Result<ReferrerTree> {
        let mut walk = Walk {
            catalog: self,
            registry,
            repository,
            query,
            seen: HashSet::from([digest.to_owned()]),
            nodes: 0,
            truncated: false,
        };
        let mut top = walk.level(digest)?;
        if let Some(wanted) = &query.artifact_type {
            top.retain(|artifact| artifact.artifact_type.as_deref() == Some(wanted.as_str()));
        }
        let total = top.len();
        if query.limit > 0 {
            top.truncate(query.limit);
        }
        let nodes = top.into_iter().map(|artifact| walk.node(artifact, 1)).collect::<Result<Vec<_>>>()?;
        Ok(ReferrerTree { nodes, total, truncated: walk.truncated })
    }
}

struct Walk<'a> {
    catalog: &'a Catalog,
    registry: &'a str,
    repository: &'a str,
    query: &'a ReferrerQuery,
    seen: HashSet<String>,
    nodes: usize,
    truncated: bool,
}

impl Walk<'_> {
    /// The unseen referrers of `digest`, ordered.
    fn level(&mut self, digest: &str) -> Result<Vec<ArtifactDoc>> {
        let mut found = self.catalog.referrers(self.registry, self.repository, digest)?;
        found.retain(|artifact| self.seen.insert(artifact.digest.clone()));
        found.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.digest.cmp(&b.digest)));
        if !self.query.oldest_first {
            found.reverse();
        }
        Ok(found)
    }

    fn node(&mut self, artifact: ArtifactDoc, depth: usize) -> Result<ReferrerNode> {
        self.nodes += 1;
        let mut referrers = Vec::new();
        if depth >= MAX_DEPTH || self.nodes >= MAX_NODES {
            self.truncated |= !self.catalog.referrers(self.registry, self.repository, &artifact.digest)?.is_empty();
        } else {
            for child in self.level(&artifact.digest)? {
                if self.nodes >= MAX_NODES {
                    self.truncated = true;
                    break;
                }
                referrers.push(self.node(child, depth + 1)?);
            }
        }
        Ok(ReferrerNode { artifact, referrers })
    }
}
