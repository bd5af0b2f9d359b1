//! The matches of a query, collected once per segment, and a query over a set of them.
//!
//! A query with a comparison reads a column of every document (or a run of day postings)
//! each time it runs. Pages that look at the matches more than once (the newest-first page
//! walks them by day) collect them here once, then run [`MatchedQuery`] instead: a document
//! set that costs nothing to evaluate again and orders exactly as the query it came from.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::index::SegmentId;
use tantivy::query::{BitSetDocSet, ConstScorer, EmptyScorer, EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED, TantivyError};

/// Lists longer than this share of a segment's documents become bit sets.
const LIST_UP_TO_ONE_IN: u32 = 32;

/// The documents of one segment, as a sorted list when few and a bit set when many.
#[derive(Clone)]
pub(crate) enum SegmentDocs {
    /// Ascending document ids.
    List(Vec<DocId>),
    /// One bit per document of the segment.
    Bits(BitSet),
}

impl SegmentDocs {
    /// The set of `docs` (ascending) in a segment of `max_doc` documents.
    pub(crate) fn new(docs: Vec<DocId>, max_doc: DocId) -> Self {
        if docs.len() as u64 * u64::from(LIST_UP_TO_ONE_IN) <= u64::from(max_doc) {
            return SegmentDocs::List(docs);
        }
        let mut bits = BitSet::with_max_value(max_doc);
        for doc in docs {
            bits.insert(doc);
        }
        SegmentDocs::Bits(bits)
    }

    /// True when `doc` is in the set.
    pub(crate) fn contains(&self, doc: DocId) -> bool {
        match self {
            SegmentDocs::List(docs) => docs.binary_search(&doc).is_ok(),
            SegmentDocs::Bits(bits) => bits.contains(doc),
        }
    }

    fn scorer(&self, boost: Score) -> Box<dyn Scorer> {
        match self {
            SegmentDocs::List(docs) => Box::new(ConstScorer::new(ListDocSet { docs: docs.clone(), at: 0 }, boost)),
            SegmentDocs::Bits(bits) => Box::new(ConstScorer::new(BitSetDocSet::from(bits.clone()), boost)),
        }
    }
}

/// A sorted list of documents walked as a [`DocSet`].
struct ListDocSet {
    docs: Vec<DocId>,
    at: usize,
}

impl DocSet for ListDocSet {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).copied().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        u32::try_from(self.docs.len() - self.at).unwrap_or(u32::MAX)
    }
}

/// A set of documents per segment of one searcher, usable as a query.
#[derive(Clone, Default)]
pub(crate) struct MatchedQuery {
    segments: Arc<HashMap<SegmentId, SegmentDocs>>,
}

impl MatchedQuery {
    /// The query matching `segments`' documents (segments left out match nothing).
    pub(crate) fn new(segments: HashMap<SegmentId, SegmentDocs>) -> Self {
        MatchedQuery { segments: Arc::new(segments) }
    }

    /// The documents of `segment`, if any match.
    pub(crate) fn of(&self, segment: SegmentId) -> Option<&SegmentDocs> {
        self.segments.get(&segment)
    }
}

impl fmt::Debug for MatchedQuery {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "MatchedQuery({} segments)", self.segments.len())
    }
}

impl Query for MatchedQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(MatchedWeight { segments: Arc::clone(&self.segments) }))
    }
}

struct MatchedWeight {
    segments: Arc<HashMap<SegmentId, SegmentDocs>>,
}

impl Weight for MatchedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match self.segments.get(&reader.segment_id()) {
            Some(docs) => docs.scorer(boost),
            None => Box::new(EmptyScorer),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        match self.segments.get(&reader.segment_id()) {
            Some(docs) if docs.contains(doc) => Ok(Explanation::new("matched before", 1.0)),
            _ => Err(TantivyError::InvalidArgument(format!("document {doc} is not among the matches"))),
        }
    }
}

/// Collects the matches of a query: a [`MatchedQuery`] over them and their number.
pub(crate) struct CollectMatches;

impl Collector for CollectMatches {
    type Fruit = (MatchedQuery, usize);
    type Child = SegmentMatches;

    fn for_segment(&self, _ordinal: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentMatches> {
        Ok(SegmentMatches {
            segment: segment.segment_id(),
            max_doc: segment.max_doc(),
            docs: SegmentDocs::List(Vec::new()),
            count: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<(SegmentId, SegmentDocs, usize)>) -> tantivy::Result<(MatchedQuery, usize)> {
        let total = fruits.iter().map(|(_, _, count)| count).sum();
        let segments = fruits.into_iter().filter(|(_, _, count)| *count > 0).map(|(id, docs, _)| (id, docs)).collect();
        Ok((MatchedQuery::new(segments), total))
    }
}

/// The matches of one segment, in the order they come (ascending): a list until they are
/// many, then a bit set.
pub(crate) struct SegmentMatches {
    segment: SegmentId,
    max_doc: DocId,
    docs: SegmentDocs,
    count: usize,
}

impl SegmentCollector for SegmentMatches {
    type Fruit = (SegmentId, SegmentDocs, usize);

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.collect_block(&[doc]);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.count += docs.len();
        match &mut self.docs {
            SegmentDocs::List(list) => {
                list.extend_from_slice(docs);
                if list.len() as u64 * u64::from(LIST_UP_TO_ONE_IN) > u64::from(self.max_doc) {
                    self.docs = SegmentDocs::new(std::mem::take(list), self.max_doc);
                }
            }
            SegmentDocs::Bits(bits) => docs.iter().for_each(|&doc| {
                bits.insert(doc);
            }),
        }
    }

    fn harvest(self) -> Self::Fruit {
        (self.segment, self.docs, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lists and bit sets hold the same documents, whichever form a share of them takes.
    #[test]
    fn lists_and_bits_hold_the_same_documents() {
        let docs: Vec<DocId> = (0..100).map(|n| n * 7 + 3).collect();
        let list = SegmentDocs::new(docs[..3].to_vec(), 1_000);
        let bits = SegmentDocs::new(docs.clone(), 1_000);
        assert!(matches!(list, SegmentDocs::List(_)));
        assert!(matches!(bits, SegmentDocs::Bits(_)));
        for doc in 0..1_000 {
            assert_eq!(bits.contains(doc), docs.contains(&doc), "{doc}");
            assert_eq!(list.contains(doc), docs[..3].contains(&doc), "{doc}");
        }
    }

    /// A list walks its documents in order, seeks forward and ends terminated.
    #[test]
    fn lists_walk_and_seek_in_order() {
        let mut list = ListDocSet { docs: vec![2, 5, 9, 40], at: 0 };
        assert_eq!((list.doc(), list.size_hint()), (2, 4));
        assert_eq!(list.advance(), 5);
        assert_eq!(list.seek(10), 40);
        assert_eq!(list.advance(), TERMINATED);
        assert_eq!((list.advance(), list.size_hint()), (TERMINATED, 0));
    }
}
