//! Facet counts of a search (kind, artifact type, registry, repository, platform), and the
//! cache that remembers them per committed snapshot.

/// Matches per value of each facet, most frequent first (values with none left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    /// By kind.
    pub kind: Vec<(String, u64)>,
    /// By artifact type.
    pub artifact_type: Vec<(String, u64)>,
    /// By registry.
    pub registry: Vec<(String, u64)>,
    /// By repository.
    pub repository: Vec<(String, u64)>,
    /// By platform.
    pub platform: Vec<(String, u64)>,
    /// By the verdicts on attached signatures (`verified`, `invalid`, …, `none`).
    pub signature: Vec<(String, u64)>,
}

/// Values listed per facet (the most frequent first).
pub(crate) const FACET_SIZE: u32 = 20;
/// Searches whose facets are remembered per committed snapshot.
pub(crate) const FACET_CACHE_ENTRIES: usize = 512;

/// Facets by (scope, query, minute) for one searcher generation: a commit empties it, and the
/// minute keeps `now`-relative queries fresh.
#[derive(Debug, Default)]
pub(crate) struct FacetCache {
    pub(crate) generation: u64,
    pub(crate) entries: std::collections::HashMap<String, Facets>,
}
