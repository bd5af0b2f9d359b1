//! What a search answers: hits with their badges, facet groups, the page.

use serde::{Deserialize, Serialize};

use super::Badges;

/// One search hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// Registry name.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Digest.
    pub digest: String,
    /// Version tags.
    pub tags: Vec<String>,
    /// Coarse kind.
    pub kind: String,
    /// Artifact type or media type.
    pub artifact_type: String,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Size in bytes.
    pub size: u64,
    /// Created (RFC 3339).
    pub created: Option<String>,
    /// End of life (RFC 3339).
    pub end_of_life: Option<String>,
    /// `org.opencontainers.image.title` or `.description`, if any.
    pub title: Option<String>,
    /// Signed, SBOM, scans and vulnerability counts, end of life (as on tag rows).
    pub badges: Badges,
    /// What a referrer (SBOM, signature, scan…) is about: the subject's digest.
    pub subject: Option<String>,
}

/// The counts of one facet: narrowing by a value adds `field:"value"` to the query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct FacetGroup {
    /// The query field (`kind`, `type`, `registry`, `repo`, `platform`).
    pub field: String,
    /// What people call it.
    pub label: String,
    /// Values with their match counts, most frequent first.
    pub values: Vec<(String, u64)>,
}

/// A page of search results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SearchPage {
    /// The query as given.
    pub query: String,
    /// Matches in total.
    pub total: u64,
    /// This page.
    pub hits: Vec<SearchHit>,
    /// Matches per value of each facet (kind, type, registry, repo, platform), over all matches.
    pub facets: Vec<FacetGroup>,
    /// The order, as named in URLs (`newest`, `oldest`, `name`, `relevance`, `size`).
    pub sort: String,
    /// Zero-based page number.
    pub page: usize,
    /// Hits per page.
    pub per_page: usize,
    /// When the query is one pasted reference (`repo:tag`, `repo@sha256:…`) and exactly one
    /// artifact matches: its page, where the search page goes at once.
    #[serde(default)]
    pub go_to: Option<String>,
}
