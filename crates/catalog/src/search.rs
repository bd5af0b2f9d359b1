//! Searching the catalog with the query language: matching artifacts sorted and paged, with
//! facet counts (kind, artifact type, registry, repository, platform), all within a [`Scope`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::AggregationResults;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::tokenizer::TokenizerManager;
use tantivy::{DocAddress, Order};

use crate::document::ArtifactDoc;
use crate::error::{CatalogError, index_error};
use crate::query::{QueryError, build, parse_query};
use crate::reader::Catalog;
use crate::schema::{FACET_FIELDS, FIELD_CREATED, FIELD_REPOSITORY, FIELD_SIZE};
use crate::scope::Scope;

/// Values listed per facet (the most frequent first).
const FACET_SIZE: u32 = 20;

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
    /// Best match of the free text first.
    Relevance,
    /// Largest first.
    Size,
}

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
}

/// One page of search results.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchResults {
    /// Artifacts matching.
    pub total: u64,
    /// This page of them.
    pub items: Vec<ArtifactDoc>,
    /// Counts over every match (not only this page).
    pub facets: Facets,
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
    /// Runs `text` (the query language) relative to `now` over everything; `limit` is capped at 200.
    pub fn search(
        &self,
        text: &str,
        sort: SearchSort,
        offset: usize,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<SearchResults, SearchError> {
        self.search_scoped(&Scope::all(), text, sort, offset, limit, now)
    }

    /// Runs `text` within `scope`: results, totals and facets only count what the scope allows.
    pub fn search_scoped(
        &self,
        scope: &Scope,
        text: &str,
        sort: SearchSort,
        offset: usize,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<SearchResults, SearchError> {
        let expr = parse_query(text).map_err(SearchError::Query)?;
        let searcher = self.reader.searcher();
        let matched = build(&expr, &self.fields, searcher.index(), now).map_err(SearchError::Query)?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, self.term(self.fields.doc_type, "artifact")), (Occur::Must, matched)];
        if let Some(restriction) = scope.query(&self.fields)? {
            clauses.push((Occur::Must, restriction));
        }
        let query = BooleanQuery::new(clauses);
        let top = || TopDocs::with_limit(limit.clamp(1, 200)).and_offset(offset.min(100_000));
        let search_error = || index_error("cannot run search");
        let by_field = |field: &str, order: Order| -> Result<Vec<DocAddress>, CatalogError> {
            let addresses: Vec<DocAddress> = if field == FIELD_CREATED {
                let hits = searcher.search(&query, &top().order_by_fast_field::<tantivy::DateTime>(field, order));
                hits.map_err(search_error())?.into_iter().map(|(_, address)| address).collect()
            } else {
                let hits = searcher.search(&query, &top().order_by_fast_field::<u64>(field, order));
                hits.map_err(search_error())?.into_iter().map(|(_, address)| address).collect()
            };
            Ok(addresses)
        };
        let (addresses, total): (Vec<DocAddress>, usize) = match sort {
            SearchSort::Newest | SearchSort::Oldest => {
                let order = if sort == SearchSort::Newest { Order::Desc } else { Order::Asc };
                (by_field(FIELD_CREATED, order)?, searcher.search(&query, &Count).map_err(search_error())?)
            }
            SearchSort::Size => {
                (by_field(FIELD_SIZE, Order::Desc)?, searcher.search(&query, &Count).map_err(search_error())?)
            }
            SearchSort::Name => {
                let (hits, total) = searcher
                    .search(&query, &(top().order_by_string_fast_field(FIELD_REPOSITORY, Order::Asc), Count))
                    .map_err(search_error())?;
                (hits.into_iter().map(|(_, address)| address).collect(), total)
            }
            SearchSort::Relevance => {
                let (hits, total) = searcher.search(&query, &(top().order_by_score(), Count)).map_err(search_error())?;
                (hits.into_iter().map(|(_, address)| address).collect(), total)
            }
        };
        let items = addresses
            .into_iter()
            .map(|address| self.stored(&searcher, address))
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let facets = self.facets(&searcher, &query)?;
        Ok(SearchResults { total: total as u64, items, facets })
    }

    /// Counts per facet value over every match, in one pass of the fast fields.
    fn facets(&self, searcher: &tantivy::Searcher, query: &dyn Query) -> Result<Facets, CatalogError> {
        let request: serde_json::Map<String, Value> = FACET_FIELDS
            .iter()
            .map(|field| (field.to_string(), serde_json::json!({"terms": {"field": field, "size": FACET_SIZE}})))
            .collect();
        let aggregations: Aggregations = serde_json::from_value(Value::Object(request))
            .map_err(|error| CatalogError::Corrupt(format!("bad facet request: {error}")))?;
        let context = AggContextParams::new(AggregationLimitsGuard::default(), TokenizerManager::default());
        let collector = AggregationCollector::from_aggs(aggregations, context);
        let results: AggregationResults =
            searcher.search(query, &collector).map_err(index_error("cannot count facets"))?;
        let results = serde_json::to_value(results).map_err(|error| CatalogError::Corrupt(error.to_string()))?;
        let buckets = |field: &str| -> Vec<(String, u64)> {
            let list = results.pointer(&format!("/{field}/buckets")).and_then(Value::as_array);
            list.map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|bucket| {
                    let key = bucket.get("key")?.as_str()?.to_owned();
                    let count = bucket.get("doc_count")?.as_u64()?;
                    (count > 0).then_some((key, count))
                })
                .collect()
        };
        let [kind, artifact_type, registry, repository, platform] = FACET_FIELDS;
        Ok(Facets {
            kind: buckets(kind),
            artifact_type: buckets(artifact_type),
            registry: buckets(registry),
            repository: buckets(repository),
            platform: buckets(platform),
        })
    }
}
