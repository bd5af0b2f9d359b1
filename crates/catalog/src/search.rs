//! Searching the catalog with the query language: matching artifacts sorted and paged, with
//! counts per kind for the facet list.

use chrono::{DateTime, Utc};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::{DocAddress, Order};

use crate::document::ArtifactDoc;
use crate::error::{CatalogError, index_error};
use crate::query::{QueryError, build, parse_query};
use crate::reader::Catalog;
use crate::schema::{FIELD_CREATED, FIELD_REPOSITORY};

/// The kinds counted for the facet list.
const KINDS: [&str; 10] =
    ["image", "index", "helm", "wasm", "sbom", "signature", "attestation", "scan", "lifecycle", "other"];

/// Result orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchSort {
    /// Newest created first.
    #[default]
    Newest,
    /// Oldest created first.
    Oldest,
    /// By repository name.
    Name,
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Artifacts matching.
    pub total: u64,
    /// This page of them.
    pub items: Vec<ArtifactDoc>,
    /// Matches per kind (kinds with none left out).
    pub kinds: Vec<(String, u64)>,
}

/// Why a search failed: the query (shown to the user, with a position) or the index.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SearchError {
    /// The query text is wrong.
    #[error("{0}")]
    Query(QueryError),
    /// The index failed.
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl Catalog {
    /// Runs `text` (the query language) relative to `now`; `limit` is capped at 200.
    pub fn search(
        &self,
        text: &str,
        sort: SearchSort,
        offset: usize,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<SearchResults, SearchError> {
        let expr = parse_query(text).map_err(SearchError::Query)?;
        let searcher = self.reader.searcher();
        let matched = build(&expr, &self.fields, searcher.index(), now).map_err(SearchError::Query)?;
        let artifacts = |extra: Option<Box<dyn Query>>| {
            let mut clauses =
                vec![(Occur::Must, self.term(self.fields.doc_type, "artifact")), (Occur::Must, matched.box_clone())];
            clauses.extend(extra.map(|query| (Occur::Must, query)));
            BooleanQuery::new(clauses)
        };
        let query = artifacts(None);
        let count_error = index_error("cannot count search results");
        let total = searcher.search(&query, &Count).map_err(count_error)? as u64;
        let top = TopDocs::with_limit(limit.clamp(1, 200)).and_offset(offset.min(100_000));
        let search_error = || index_error("cannot run search");
        let addresses: Vec<DocAddress> = match sort {
            SearchSort::Newest | SearchSort::Oldest => {
                let order = if sort == SearchSort::Newest { Order::Desc } else { Order::Asc };
                let hits = searcher
                    .search(&query, &top.order_by_fast_field::<tantivy::DateTime>(FIELD_CREATED, order))
                    .map_err(search_error())?;
                hits.into_iter().map(|(_, address)| address).collect()
            }
            SearchSort::Name => {
                let hits = searcher
                    .search(&query, &top.order_by_string_fast_field(FIELD_REPOSITORY, Order::Asc))
                    .map_err(search_error())?;
                hits.into_iter().map(|(_, address)| address).collect()
            }
        };
        let items = addresses
            .into_iter()
            .map(|address| self.stored(&searcher, address))
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let mut kinds = Vec::new();
        for kind in KINDS {
            let count = searcher
                .search(&artifacts(Some(self.term(self.fields.kind, kind))), &Count)
                .map_err(index_error("cannot count facets"))?;
            if count > 0 {
                kinds.push((kind.to_owned(), count as u64));
            }
        }
        Ok(SearchResults { total, items, kinds })
    }
}
