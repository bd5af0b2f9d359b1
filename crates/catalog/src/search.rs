//! Searching the catalog with the query language: matching artifacts sorted and paged, with
//! facet counts (kind, artifact type, registry, repository, platform), all within a [`Scope`].

use chrono::{DateTime, Utc};
use serde_json::Value;
use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::AggregationResults;
use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
use tantivy::collector::{Collector, Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query};
use tantivy::tokenizer::TokenizerManager;
use tantivy::{DocAddress, Order, Term};

use crate::by_created::ByCreated;
use crate::document::ArtifactDoc;
use crate::error::{CatalogError, index_error};
use crate::facets::{FACET_CACHE_ENTRIES, FACET_SIZE, FacetCache, Facets, SegmentFacets, in_facet_order};
use crate::query::{Expr, QueryError, build, matches_only_artifacts, parse_query};
use crate::reader::Catalog;
use crate::schema::{FACET_FIELDS, FIELD_REPOSITORY, FIELD_SIZE};
use crate::scope::Scope;

/// Most results of one page.
const MAX_LIMIT: usize = 200;
/// The deepest offset a page starts at.
const MAX_OFFSET: usize = 100_000;

/// A search's query within its scope, and its shape.
struct Scoped {
    /// A lone clause stands alone (not in a one-clause boolean query): tantivy then counts a
    /// term's matches from its postings' length instead of visiting each.
    query: Box<dyn Query>,
    /// No query and no restriction: the facets are summed from per-segment counts.
    everything: bool,
    /// Some clause compares a value other than `created` (`size >`, `end-of-life <`, an
    /// annotation's date): the newest page is sorted in one pass.
    one_pass: bool,
    /// The days the matches were created within, as far as the query's `created` clauses say.
    created: crate::newest::CreatedDays,
}

/// True when a clause of `expr` compares a value other than `created`. Its matches may lie in
/// any days, old ones only (`end-of-life < today` matches old builds): windows from the newest
/// day would widen again and again, each running the comparison anew, so one pass sorts them.
/// A `created` comparison bounds its own days (`query::created_days`), and the windows start
/// there.
fn compares_other_than_created(expr: &Expr) -> bool {
    use crate::query::{Field, Op};
    match expr {
        Expr::And(parts) | Expr::Or(parts) => parts.iter().any(compares_other_than_created),
        Expr::Not(inner) => compares_other_than_created(inner),
        Expr::Clause { op, field, .. } => !matches!(op, Op::Equal | Op::NotEqual) && *field != Field::Created,
        Expr::Text(_) | Expr::Keys(_) => false,
    }
}

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
        let searcher = self.reader.searcher();
        let scoped = self.scoped_query(&searcher, scope, text, now)?;
        let (total, items) = self.hits(&searcher, &scoped, sort, offset, limit)?;
        let facets = self.cached_facets(&searcher, scoped.query.as_ref(), scoped.everything, scope, text, now)?;
        Ok(SearchResults { total, items, facets })
    }

    /// The matches of `text` within `scope` without facets: one pass for the page and the count.
    pub fn search_hits(
        &self,
        scope: &Scope,
        text: &str,
        sort: SearchSort,
        offset: usize,
        limit: usize,
        now: DateTime<Utc>,
    ) -> Result<(u64, Vec<ArtifactDoc>), SearchError> {
        let searcher = self.reader.searcher();
        let scoped = self.scoped_query(&searcher, scope, text, now)?;
        self.hits(&searcher, &scoped, sort, offset, limit)
    }

    /// The facets of `text` within `scope`; remembered until the next commit.
    pub fn search_facets(&self, scope: &Scope, text: &str, now: DateTime<Utc>) -> Result<Facets, SearchError> {
        let searcher = self.reader.searcher();
        let Scoped { query, everything, .. } = self.scoped_query(&searcher, scope, text, now)?;
        self.cached_facets(&searcher, query.as_ref(), everything, scope, text, now)
    }

    /// The query of `text` within `scope`, and what shape it has.
    fn scoped_query(
        &self,
        searcher: &tantivy::Searcher,
        scope: &Scope,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Scoped, SearchError> {
        let expr = parse_query(text).map_err(SearchError::Query)?;
        let restriction = scope.query(&self.fields, searcher)?;
        let expr =
            crate::query::resolve(expr, searcher, &self.fields, restriction.as_deref()).map_err(SearchError::Query)?;
        let index = searcher.index();
        let unqueried = matches!(&expr, Expr::And(parts) if parts.is_empty());
        let everything = unqueried && restriction.is_none();
        let one_pass = compares_other_than_created(&expr);
        let created = crate::query::created_days(&expr, now);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = if unqueried {
            vec![(Occur::Must, self.of_type(crate::schema::DocType::Artifact))]
        } else if matches_only_artifacts(&expr, &self.fields, index) {
            let matched = build(&expr, &self.fields, index, now).map_err(SearchError::Query)?;
            // Fallback referrers indexes (kept for registries without the referrers API) carry
            // the artifact fields; most indexes hold none, and then no clause excludes them.
            let referrers_index =
                Term::from_field_text(self.fields.doc_type, crate::schema::DocType::ReferrersIndex.as_str());
            let holds_fallbacks =
                searcher.doc_freq(&referrers_index).map_err(index_error("cannot read the index"))? > 0;
            let mut clauses = vec![(Occur::Must, matched)];
            if holds_fallbacks {
                clauses.push((Occur::MustNot, self.of_type(crate::schema::DocType::ReferrersIndex)));
            }
            clauses
        } else {
            let matched = build(&expr, &self.fields, index, now).map_err(SearchError::Query)?;
            vec![(Occur::Must, self.of_type(crate::schema::DocType::Artifact)), (Occur::Must, matched)]
        };
        if let Some(restriction) = restriction {
            clauses.push((Occur::Must, restriction));
        }
        let query = match clauses.len() {
            1 if clauses[0].0 == Occur::Must => clauses.remove(0).1,
            _ => Box::new(BooleanQuery::new(clauses)),
        };
        Ok(Scoped { query, everything, one_pass, created })
    }

    /// One page of `query` in `sort` order and the total, collected in a single pass.
    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        scoped: &Scoped,
        sort: SearchSort,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<ArtifactDoc>), SearchError> {
        let query = scoped.query.as_ref();
        let top = || TopDocs::with_limit(limit.clamp(1, MAX_LIMIT)).and_offset(offset.min(MAX_OFFSET));
        let by_created = |order| {
            let collector = ByCreated { order, offset: offset.min(MAX_OFFSET), limit: limit.clamp(1, MAX_LIMIT) };
            searcher.search(query, &collector).map_err(index_error("cannot run search"))
        };
        let (found, total) = match sort {
            // Its matches may all lie in old days (see `compares_other_than_created`).
            SearchSort::Newest if scoped.one_pass => by_created(Order::Desc)?,
            SearchSort::Newest => crate::newest::page(
                searcher,
                crate::query::DateField { column: self.fields.created, days: self.fields.created_day },
                query,
                scoped.created,
                offset.min(MAX_OFFSET),
                limit.clamp(1, MAX_LIMIT),
            )?,
            SearchSort::Oldest => by_created(Order::Asc)?,
            SearchSort::Size => one_pass(searcher, query, top().order_by_fast_field::<u64>(FIELD_SIZE, Order::Desc))?,
            SearchSort::Name => {
                one_pass(searcher, query, top().order_by_string_fast_field(FIELD_REPOSITORY, Order::Asc))?
            }
            SearchSort::Relevance => one_pass(searcher, query, top().order_by_score())?,
        };
        let items = found
            .into_iter()
            .map(|address| self.stored(searcher, address))
            .collect::<Result<Vec<_>, CatalogError>>()?;
        Ok((total as u64, items))
    }

    fn cached_facets(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        everything: bool,
        scope: &Scope,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Facets, SearchError> {
        let generation = searcher.generation().generation_id();
        let key = format!("{scope:?}\u{0}{text}\u{0}{}", now.timestamp() / 60);
        let cached = {
            let cache = self.facet_cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            (cache.generation == generation).then(|| cache.entries.get(&key).cloned()).flatten()
        };
        if let Some(facets) = cached {
            return Ok(facets);
        }
        let facets = if everything {
            SegmentFacets::everything(&self.segment_facets, searcher.segment_readers(), self.fields.doc_type)?
        } else {
            self.facets(searcher, query)?
        };
        let mut cache = self.facet_cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if cache.generation != generation {
            *cache = FacetCache { generation, entries: Default::default() };
        }
        if cache.entries.len() >= FACET_CACHE_ENTRIES {
            cache.entries.clear();
        }
        cache.entries.insert(key, facets.clone());
        Ok(facets)
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
            let mut values: Vec<(String, u64)> = list
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter_map(|bucket| {
                    let key = bucket.get("key")?.as_str()?.to_owned();
                    let count = bucket.get("doc_count")?.as_u64()?;
                    (count > 0).then_some((key, count))
                })
                .collect();
            in_facet_order(&mut values);
            values
        };
        let [kind, artifact_type, registry, repository, platform, signature] = FACET_FIELDS;
        Ok(Facets {
            kind: buckets(kind),
            artifact_type: buckets(artifact_type),
            registry: buckets(registry),
            repository: buckets(repository),
            platform: buckets(platform),
            signature: buckets(signature),
        })
    }
}

/// The page `top` collects from `query` and the number of matches, in one pass.
fn one_pass<T, C>(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
    top: C,
) -> Result<(Vec<DocAddress>, usize), CatalogError>
where
    C: Collector<Fruit = Vec<(T, DocAddress)>>,
{
    let (hits, total) = searcher.search(query, &(top, Count)).map_err(index_error("cannot run search"))?;
    Ok((hits.into_iter().map(|(_, address)| address).collect(), total))
}
