//! Facet counts of a search (kind, artifact type, registry, repository, platform, signature),
//! the cache that remembers them per committed snapshot, and the per-segment counts of every
//! artifact that the facets of the query matching everything are summed from.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::index::SegmentId;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocSet, Opstamp, SegmentReader, TERMINATED, Term};

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
        let mut totals: [HashMap<&str, u64>; FACET_FIELDS.len()] = Default::default();
        for (_, counts) in &per_segment {
            for (total, values) in totals.iter_mut().zip(counts.iter()) {
                for (value, count) in values {
                    *total.entry(value.as_str()).or_default() += count;
                }
            }
        }
        let [kind, artifact_type, registry, repository, platform, signature] = totals.map(most_frequent);
        Ok(Facets { kind, artifact_type, registry, repository, platform, signature })
    }
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
    let mut counts: SegmentCounts = Default::default();
    for (field, values) in FACET_FIELDS.iter().zip(counts.iter_mut()) {
        let Some(column) = segment.fast_fields().str(field).map_err(index_error(read))? else {
            continue;
        };
        let mut by_ordinal = vec![0u64; column.num_terms()];
        let ordinals = column.ords();
        // A block at a time, as tantivy's own aggregations read columns: rows of the block's
        // documents, then their ordinals.
        let (mut docs, mut rows, mut block_ordinals) = (Vec::new(), Vec::new(), Vec::new());
        for block in artifacts.chunks(BLOCK) {
            docs.clear();
            rows.clear();
            ordinals.row_ids_for_docs(block, &mut docs, &mut rows);
            block_ordinals.resize(rows.len(), 0u64);
            ordinals.values.get_vals(&rows, &mut block_ordinals);
            for &ordinal in &block_ordinals {
                if let Some(count) = by_ordinal.get_mut(ordinal as usize) {
                    *count += 1;
                }
            }
        }
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
