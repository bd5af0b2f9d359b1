//! A page of matches ordered by `created`, read a block of documents at a time.
//!
//! tantivy's `TopDocs::order_by_fast_field` reads the optional `created` column one document at
//! a time: a rank through the optional index, then the value, then the top-k check, each read
//! waiting on the one before. This collector takes the block of documents the query hands over,
//! turns it into row ids in one sorted pass (`row_ids_for_docs`) and reads their values in one
//! batch (`get_vals`). The instructions are about the same (~170 a match); the reads of a block
//! are independent of each other, so their cache misses overlap: the sort of an annotation
//! date's 20,500 matches at 1M artifacts took ~1.0 ms of CPU instead of ~2.0 (session 22). The
//! page and its order are exactly `order_by_fast_field`'s: newest (or oldest) first, artifacts
//! without a date last, equal dates by document address; and it counts the matches it sees, so
//! no second `Count` pass is needed.

use std::cmp::Ordering;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Weight;
use tantivy::{COLLECT_BLOCK_BUFFER_LEN, DocAddress, DocId, Order, Score, SegmentOrdinal, SegmentReader};

use crate::schema::FIELD_CREATED;

/// Where a document ranks: a date ranks above none, and a greater value above a smaller one
/// (the value is the date's negation when the oldest come first).
type Rank = (bool, i64);

/// The page after `offset` of at most `limit` matches in `order` of `created`, and the number
/// of matches.
pub(crate) struct ByCreated {
    /// Newest (`Desc`) or oldest (`Asc`) first.
    pub(crate) order: Order,
    /// Matches skipped before the page.
    pub(crate) offset: usize,
    /// The most matches in the page.
    pub(crate) limit: usize,
}

/// The rank of `date` in `order`.
fn rank(order: Order, date: Option<tantivy::DateTime>) -> Rank {
    match (date, order) {
        (None, _) => (false, 0),
        (Some(date), Order::Desc) => (true, date.into_timestamp_nanos()),
        (Some(date), Order::Asc) => (true, date.into_timestamp_nanos().saturating_neg()),
    }
}

/// Higher ranks first, then the lower address (tantivy's order for equal values).
fn page_order<D: Ord>(left: &(Rank, D), right: &(Rank, D)) -> Ordering {
    right.0.cmp(&left.0).then_with(|| left.1.cmp(&right.1))
}

impl Collector for ByCreated {
    type Fruit = (Vec<DocAddress>, usize);
    type Child = SegmentByCreated;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentByCreated> {
        let column = reader.fast_fields().column_opt::<tantivy::DateTime>(FIELD_CREATED)?;
        let keep = self.offset.saturating_add(self.limit);
        Ok(SegmentByCreated {
            order: self.order,
            segment,
            column,
            keep,
            kept: Vec::new(),
            threshold: None,
            seen: 0,
            valued_docs: Vec::new(),
            rows: Vec::new(),
            values: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<(Vec<(Rank, DocAddress)>, usize)>) -> tantivy::Result<Self::Fruit> {
        let total = fruits.iter().map(|(_, seen)| seen).sum();
        let mut ranked: Vec<(Rank, DocAddress)> = fruits.into_iter().flat_map(|(kept, _)| kept).collect();
        ranked.sort_unstable_by(page_order);
        let page = ranked.into_iter().skip(self.offset).take(self.limit).map(|(_, address)| address).collect();
        Ok((page, total))
    }

    /// Hands the segment collector whole blocks, deleted documents taken out first (tantivy's
    /// default would hand a segment with deletions over one document at a time).
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<<SegmentByCreated as SegmentCollector>::Fruit> {
        let mut collector = self.for_segment(segment, reader)?;
        match reader.alive_bitset() {
            None => weight.for_each_no_score(reader, &mut |docs| collector.collect_block(docs))?,
            Some(alive) => {
                let mut living = Vec::with_capacity(COLLECT_BLOCK_BUFFER_LEN);
                weight.for_each_no_score(reader, &mut |docs| {
                    living.clear();
                    living.extend(docs.iter().copied().filter(|&doc| alive.is_alive(doc)));
                    collector.collect_block(&living);
                })?;
            }
        }
        Ok(collector.harvest())
    }
}

/// One segment's best `keep` matches so far and the number it has seen.
pub(crate) struct SegmentByCreated {
    order: Order,
    segment: SegmentOrdinal,
    column: Option<Column<tantivy::DateTime>>,
    keep: usize,
    /// Up to twice `keep` candidates; cut back to the best `keep` when full.
    kept: Vec<(Rank, DocId)>,
    /// The rank of the best candidate cut: a later document (a higher id) ranking no higher
    /// ranks below `keep` others.
    threshold: Option<Rank>,
    seen: usize,
    /// Scratch buffers of a block: the documents with a date, their rows and their dates.
    valued_docs: Vec<DocId>,
    rows: Vec<u32>,
    values: Vec<tantivy::DateTime>,
}

impl SegmentByCreated {
    fn offer(&mut self, rank: Rank, doc: DocId) {
        if self.keep == 0 || self.threshold.is_some_and(|threshold| rank <= threshold) {
            return;
        }
        if self.kept.len() >= 2 * self.keep {
            self.kept.select_nth_unstable_by(self.keep, page_order);
            self.threshold = Some(self.kept[self.keep].0);
            self.kept.truncate(self.keep);
            if self.threshold.is_some_and(|threshold| rank <= threshold) {
                return;
            }
        }
        self.kept.push((rank, doc));
    }
}

impl SegmentCollector for SegmentByCreated {
    type Fruit = (Vec<(Rank, DocAddress)>, usize);

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.collect_block(&[doc]);
    }

    fn collect_block(&mut self, docs: &[DocId]) {
        self.seen += docs.len();
        let Some(column) = self.column.take() else {
            for &doc in docs {
                self.offer((false, 0), doc);
            }
            return;
        };
        self.valued_docs.clear();
        self.rows.clear();
        column.row_ids_for_docs(docs, &mut self.valued_docs, &mut self.rows);
        self.values.clear();
        self.values.resize(self.rows.len(), tantivy::DateTime::MIN);
        column.values.get_vals(&self.rows, &mut self.values);
        // Both lists ascend; a document missing from the valued ones has no date. A document
        // with several dates (none is written so) ranks by its first, as `first` reads it.
        let valued_docs = std::mem::take(&mut self.valued_docs);
        let values = std::mem::take(&mut self.values);
        let mut next = 0;
        for &doc in docs {
            let date = (valued_docs.get(next) == Some(&doc)).then(|| values[next]);
            while valued_docs.get(next) == Some(&doc) {
                next += 1;
            }
            self.offer(rank(self.order, date), doc);
        }
        self.valued_docs = valued_docs;
        self.values = values;
        self.column = Some(column);
    }

    fn harvest(mut self) -> Self::Fruit {
        if self.kept.len() > self.keep {
            self.kept.select_nth_unstable_by(self.keep, page_order);
            self.kept.truncate(self.keep);
        }
        let segment = self.segment;
        let kept = self.kept.into_iter().map(|(rank, doc)| (rank, DocAddress::new(segment, doc))).collect();
        (kept, self.seen)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
    use tantivy::schema::IndexRecordOption;
    use tantivy::{Searcher, Term};

    use super::*;
    use crate::document::ArtifactDoc;
    use crate::writer::WriterConfig;

    const PAGES: [(usize, usize); 8] =
        [(0, 1), (0, 10), (7, 13), (50, 50), (140, 20), (560, 50), (0, 200), (1_000, 10)];

    /// tantivy's own page of `query` in `order` and the number of matches.
    fn tantivy_page(
        searcher: &Searcher,
        query: &dyn Query,
        order: Order,
        offset: usize,
        limit: usize,
    ) -> (Vec<DocAddress>, usize) {
        let top = TopDocs::with_limit(limit)
            .and_offset(offset)
            .order_by_fast_field::<tantivy::DateTime>(FIELD_CREATED, order);
        let page = searcher.search(query, &top).unwrap().into_iter().map(|(_, address)| address).collect();
        (page, searcher.search(query, &Count).unwrap())
    }

    /// Pages in both orders equal tantivy's, over several segments, with deleted documents,
    /// equal dates, artifacts without a date, and offsets past the end.
    #[tokio::test]
    async fn pages_equal_order_by_fast_field() {
        let (catalog, writer) = crate::open_in_ram(WriterConfig::default()).unwrap();
        let start = Utc.with_ymd_and_hms(2021, 6, 1, 12, 0, 0).unwrap();
        // Four repositories written in turn (one segment each at least), the second rewritten
        // with fewer artifacts so its first segment holds deleted documents.
        for (round, (repository, count)) in
            [("team/a", 300u32), ("team/b", 250), ("team/c", 200), ("team/b", 120)].into_iter().enumerate()
        {
            let artifacts: Vec<ArtifactDoc> = (0..count)
                .map(|number| {
                    let digest = format!("sha256:{round:02x}{number:062x}");
                    // Clusters of equal dates across repositories, and some without a date.
                    let created = (number % 11 != 3).then(|| start + Duration::hours(i64::from(number / 4) * 5));
                    let kind =
                        if number % 3 == 0 { ocicat_oci::ArtifactKind::Sbom } else { ocicat_oci::ArtifactKind::Image };
                    ArtifactDoc { created, kind, ..ArtifactDoc::new("demo", repository, digest) }
                })
                .collect();
            let summary = crate::RepositoryDoc {
                artifact_count: u64::from(count),
                ..crate::RepositoryDoc::new("demo", repository)
            };
            writer.upsert_repository(summary, artifacts, Vec::new()).await.unwrap();
            writer.flush().await.unwrap();
        }
        let searcher = catalog.reader.searcher();
        assert!(searcher.segment_readers().len() > 1, "one segment");
        assert!(searcher.segment_readers().iter().any(|segment| segment.num_deleted_docs() > 0), "no deletions");
        let fields = &catalog.fields;
        let sboms: Box<dyn Query> =
            Box::new(TermQuery::new(Term::from_field_text(fields.kind, "sbom"), IndexRecordOption::Basic));
        let queries: [Box<dyn Query>; 3] = [
            Box::new(AllQuery),
            sboms.box_clone(),
            Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, sboms)])),
        ];
        for query in &queries {
            for order in [Order::Desc, Order::Asc] {
                for (offset, limit) in PAGES {
                    let ours = searcher.search(query.as_ref(), &ByCreated { order, offset, limit }).unwrap();
                    assert_eq!(
                        ours,
                        tantivy_page(&searcher, query.as_ref(), order, offset, limit),
                        "{order:?} offset {offset}, limit {limit}, {query:?}"
                    );
                }
            }
        }
    }
}
