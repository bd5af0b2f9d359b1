//! Facet counts of a search (kind, artifact type, registry, repository, platform, signature),
//! the cache that remembers them per committed snapshot, and the per-segment counts of every
//! artifact that the facets of the query matching everything are summed from.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{RowId, StrColumn};
use tantivy::index::SegmentId;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Opstamp, Score, SegmentOrdinal, SegmentReader, TERMINATED, TantivyError, Term};

use crate::error::{Result, index_error, io_error};
use crate::schema::{DocType, FACET_FIELDS};

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

/// Every value of each facet field ([`FACET_FIELDS`] order) with its count over one segment's
/// live artifacts.
type SegmentCounts = [Vec<(String, u64)>; FACET_FIELDS.len()];

/// The counts of every live artifact per segment, for as long as the segment and its deletes
/// stay the same: a segment is immutable, so after a commit only the segments it wrote (or
/// deleted from) are counted again, and merged-away segments are dropped.
#[derive(Debug, Default)]
pub(crate) struct SegmentFacets {
    entries: HashMap<(SegmentId, Option<Opstamp>), Arc<SegmentCounts>>,
}

impl SegmentFacets {
    /// The facets of every artifact in `segments`, counting only the segments not seen before.
    pub(crate) fn everything(
        cache: &std::sync::Mutex<SegmentFacets>,
        segments: &[SegmentReader],
        doc_type: Field,
    ) -> Result<Facets> {
        let mut per_segment = Vec::with_capacity(segments.len());
        for segment in segments {
            let key = (segment.segment_id(), segment.delete_opstamp());
            let known = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).entries.get(&key).cloned();
            let counts = match known {
                Some(counts) => counts,
                None => {
                    let counts = Arc::new(count_segment(segment, doc_type)?);
                    let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    cache.entries.insert(key, counts.clone());
                    counts
                }
            };
            per_segment.push((key, counts));
        }
        {
            // Only the segments of the newest searcher are worth keeping.
            let mut cache = cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if cache.entries.len() > per_segment.len() {
                cache.entries.retain(|key, _| per_segment.iter().any(|(live, _)| live == key));
            }
        }
        Ok(summed(per_segment.iter().map(|(_, counts)| counts.as_ref())))
    }
}

/// The facets of the counts of several segments.
fn summed<'a>(segments: impl Iterator<Item = &'a SegmentCounts>) -> Facets {
    let mut totals: [HashMap<&str, u64>; FACET_FIELDS.len()] = Default::default();
    for counts in segments {
        for (total, values) in totals.iter_mut().zip(counts.iter()) {
            for (value, count) in values {
                *total.entry(value.as_str()).or_default() += count;
            }
        }
    }
    let [kind, artifact_type, registry, repository, platform, signature] = totals.map(most_frequent);
    Facets { kind, artifact_type, registry, repository, platform, signature }
}

/// The [`FACET_SIZE`] most frequent values, in facet order.
fn most_frequent(counts: HashMap<&str, u64>) -> Vec<(String, u64)> {
    let mut values: Vec<(&str, u64)> = counts.into_iter().filter(|(_, count)| *count > 0).collect();
    in_facet_order(&mut values);
    values.truncate(FACET_SIZE as usize);
    values.into_iter().map(|(value, count)| (value.to_owned(), count)).collect()
}

/// Facet order: the most frequent first, ties by value (whichever way the counts were made).
pub(crate) fn in_facet_order<S: AsRef<str>>(values: &mut [(S, u64)]) {
    values.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_ref().cmp(b.0.as_ref())));
}

/// Documents whose column rows are read at once.
const BLOCK: usize = 1_024;

/// Counts each facet field's values over the live artifacts of one segment, by term ordinal.
fn count_segment(segment: &SegmentReader, doc_type: Field) -> Result<SegmentCounts> {
    let read = "cannot count the facets of a segment";
    let mut artifacts = Vec::new();
    let term = Term::from_field_text(doc_type, DocType::Artifact.as_str());
    let inverted = segment.inverted_index(doc_type).map_err(index_error(read))?;
    if let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic).map_err(io_error(read))? {
        let alive = segment.alive_bitset();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|alive| alive.is_alive(doc)) {
                artifacts.push(doc);
            }
            doc = postings.advance();
        }
    }
    let mut counts = OrdinalCounts::open(segment)?;
    for block in artifacts.chunks(BLOCK) {
        counts.add(block);
    }
    counts.named()
}

/// One segment's facet columns and the count of each of their term ordinals so far.
pub(crate) struct OrdinalCounts {
    columns: [Option<StrColumn>; FACET_FIELDS.len()],
    by_ordinal: [Vec<u64>; FACET_FIELDS.len()],
    rows: (Vec<DocId>, Vec<RowId>, Vec<u64>),
}

impl OrdinalCounts {
    fn open(segment: &SegmentReader) -> Result<Self> {
        let mut columns: [Option<StrColumn>; FACET_FIELDS.len()] = Default::default();
        for (field, column) in FACET_FIELDS.iter().zip(&mut columns) {
            *column = segment.fast_fields().str(field).map_err(index_error("cannot read a facet column"))?;
        }
        // Counters are made when a segment's first match comes: most segments of a narrow
        // search have none, and a repository column has a term per repository.
        Ok(OrdinalCounts { columns, by_ordinal: Default::default(), rows: Default::default() })
    }

    /// Counts the values of `docs` (ascending): rows of the block's documents, then their
    /// ordinals, as tantivy's own aggregations read columns.
    fn add(&mut self, docs: &[DocId]) {
        let (found, rows, ordinals) = &mut self.rows;
        for (column, by_ordinal) in self.columns.iter().zip(&mut self.by_ordinal) {
            let Some(column) = column else { continue };
            if by_ordinal.is_empty() {
                by_ordinal.resize(column.num_terms(), 0);
            }
            found.clear();
            rows.clear();
            column.ords().row_ids_for_docs(docs, found, rows);
            ordinals.resize(rows.len(), 0);
            column.ords().values.get_vals(rows, ordinals);
            for &ordinal in ordinals.iter() {
                if let Some(count) = by_ordinal.get_mut(ordinal as usize) {
                    *count += 1;
                }
            }
        }
    }

    /// The values counted, by name.
    fn named(self) -> Result<SegmentCounts> {
        let read = "cannot name the facet values of a segment";
        let mut counts: SegmentCounts = Default::default();
        for ((column, by_ordinal), values) in self.columns.iter().zip(&self.by_ordinal).zip(&mut counts) {
            let Some(column) = column else { continue };
            let present: Vec<u64> =
                (0..by_ordinal.len() as u64).filter(|&ordinal| by_ordinal[ordinal as usize] > 0).collect();
            let mut names = Vec::with_capacity(present.len());
            column
                .dictionary()
                .sorted_ords_to_term_cb(&present, |bytes| names.push(String::from_utf8_lossy(bytes).into_owned()))
                .map_err(io_error(read))?;
            *values =
                names.into_iter().zip(&present).map(|(name, &ordinal)| (name, by_ordinal[ordinal as usize])).collect();
        }
        Ok(counts)
    }
}

/// Counts the facets of a query's matches, a block of documents at a time.
pub(crate) struct CountFacets;

impl Collector for CountFacets {
    type Fruit = Facets;
    type Child = SegmentFacetCounter;

    fn for_segment(&self, _ordinal: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentFacetCounter> {
        let counts = OrdinalCounts::open(segment).map_err(|error| TantivyError::InternalError(error.to_string()))?;
        Ok(SegmentFacetCounter { counts, pending: Vec::with_capacity(BLOCK) })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<OrdinalCounts>) -> tantivy::Result<Facets> {
        let named = fruits
            .into_iter()
            .map(OrdinalCounts::named)
            .collect::<Result<Vec<_>>>()
            .map_err(|error| TantivyError::InternalError(error.to_string()))?;
        Ok(summed(named.iter()))
    }
}

/// The facet counts of one segment's matches, and the matches not counted yet.
pub(crate) struct SegmentFacetCounter {
    counts: OrdinalCounts,
    pending: Vec<DocId>,
}

impl SegmentCollector for SegmentFacetCounter {
    type Fruit = OrdinalCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.collect_block(&[doc]);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.pending.extend_from_slice(docs);
        if self.pending.len() >= BLOCK {
            self.counts.add(&self.pending);
            self.pending.clear();
        }
    }

    fn harvest(mut self) -> OrdinalCounts {
        if !self.pending.is_empty() {
            self.counts.add(&self.pending);
        }
        self.counts
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;
    use tantivy::aggregation::agg_req::Aggregations;
    use tantivy::aggregation::agg_result::AggregationResults;
    use tantivy::aggregation::{AggContextParams, AggregationCollector, AggregationLimitsGuard};
    use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
    use tantivy::tokenizer::TokenizerManager;

    use super::*;
    use crate::document::ArtifactDoc;
    use crate::writer::WriterConfig;

    /// The facets tantivy's term aggregations count (every value kept, then ordered and cut as
    /// ocicat lists them): the reference the collector is held to.
    fn aggregated(searcher: &tantivy::Searcher, query: &dyn Query) -> Facets {
        let request: serde_json::Map<String, Value> = FACET_FIELDS
            .iter()
            .map(|field| (field.to_string(), serde_json::json!({"terms": {"field": field, "size": 100_000}})))
            .collect();
        let aggregations: Aggregations = serde_json::from_value(Value::Object(request)).unwrap();
        let context = AggContextParams::new(AggregationLimitsGuard::default(), TokenizerManager::default());
        let collector = AggregationCollector::from_aggs(aggregations, context);
        let results: AggregationResults = searcher.search(query, &collector).unwrap();
        let results = serde_json::to_value(results).unwrap();
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
            values.truncate(FACET_SIZE as usize);
            values
        };
        let [kind, artifact_type, registry, repository, platform, signature] = FACET_FIELDS;
        Facets {
            kind: buckets(kind),
            artifact_type: buckets(artifact_type),
            registry: buckets(registry),
            repository: buckets(repository),
            platform: buckets(platform),
            signature: buckets(signature),
        }
    }

    /// The collector counts what tantivy's aggregations count, over several segments, deletes,
    /// multi-valued platforms, missing values and more values than a facet lists.
    #[tokio::test]
    async fn collected_facets_equal_the_aggregations() {
        let (catalog, writer) = crate::open_in_ram(WriterConfig::default()).unwrap();
        let repository = |name: String, numbers: Vec<u32>| {
            let artifacts: Vec<ArtifactDoc> = numbers
                .iter()
                .map(|&number| {
                    let kind = [ocicat_oci::ArtifactKind::Image, ocicat_oci::ArtifactKind::Sbom][number as usize % 2];
                    let platforms = match number % 3 {
                        0 => vec!["linux/amd64".to_owned(), "linux/arm64".to_owned()],
                        1 => vec![format!("linux/riscv{}", number % 7)],
                        _ => Vec::new(),
                    };
                    let artifact_type = (number % 4 == 0).then(|| format!("application/vnd.test.{}", number % 5));
                    let registry = if number > 1_500 && number % 2 == 1 { "mirror" } else { "demo" };
                    ArtifactDoc {
                        kind,
                        platforms,
                        artifact_type,
                        ..ArtifactDoc::new(registry, &name, format!("sha256:{number:064x}"))
                    }
                })
                .collect();
            let summary = crate::RepositoryDoc {
                registry: "demo".into(),
                repository: name,
                tag_count: 0,
                artifact_count: numbers.len() as u64,
                size: 0,
                last_push: None,
                crawled_at: None,
                incomplete: Vec::new(),
            };
            (summary, artifacts)
        };
        // 30 repositories of different sizes (more than a facet lists), in several commits; the
        // last commit rewrites one with fewer artifacts, deleting from an older segment.
        for repo in 0..30u32 {
            let numbers = (repo * 100..repo * 100 + 1 + repo % 11).collect();
            let (summary, artifacts) = repository(format!("team/r{repo:02}"), numbers);
            writer.upsert_repository(summary, artifacts, Vec::new()).await.unwrap();
            if repo % 10 == 9 {
                writer.flush().await.unwrap();
            }
        }
        let (summary, artifacts) = repository("team/r05".into(), vec![500, 502]);
        writer.upsert_repository(summary, artifacts, Vec::new()).await.unwrap();
        writer.flush().await.unwrap();
        let searcher = catalog.reader.searcher();
        assert!(searcher.segment_readers().len() >= 2);
        assert!(searcher.segment_readers().iter().any(|segment| segment.has_deletes()));
        let term = |field: Field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
        };
        let fields = &catalog.fields;
        let queries: Vec<Box<dyn Query>> = vec![
            term(fields.doc_type, DocType::Artifact.as_str()),
            term(fields.kind, "sbom"),
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
                (Occur::MustNot, term(fields.kind, "image")),
            ])),
        ];
        for query in &queries {
            let collected = searcher.search(query.as_ref(), &CountFacets).unwrap();
            assert_eq!(collected.repository.len(), FACET_SIZE as usize, "{collected:?}");
            assert_eq!(collected.registry.len(), 2, "{collected:?}");
            assert_eq!(collected, aggregated(&searcher, query.as_ref()), "{query:?}");
        }
    }
}
