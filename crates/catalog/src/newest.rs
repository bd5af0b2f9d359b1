//! The newest-first page of a search, collected from the matches of the newest days.
//!
//! Ordering every match by the optional `created` column costs about 185 instructions a
//! match (its `value_row_ids` and `rank_if_exists` per document): 185M for the page of a
//! search with no query over 1M artifacts. When a search matches many artifacts, its matches
//! are collected once, then the `created_day` postings are walked from the newest day back
//! until the days walked hold the page; only their matches are sorted. Every match of an
//! older day is older than every match of those days, so the page is the one the whole sort
//! gives, in the same order. The whole sort is used when the walk would cost more than it
//! saves (the matches lie in old days) or the dated matches run out (artifacts without a
//! date come last in this order).

use tantivy::collector::TopDocs;
use tantivy::query::Query;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Order, Searcher, TERMINATED};

use crate::error::{Result, index_error};
use crate::matched::{CollectMatches, MatchedQuery, SegmentDocs};
use crate::schema::FIELD_CREATED;

/// Up to this many matches (or four pages' worth) the whole sort is cheap enough.
pub(crate) const WHOLE_SORT_UP_TO: usize = 4_096;

/// Day postings walked per match before the walk gives way to the whole sort: a posting
/// walked costs a small fraction of a match sorted.
const WALK_PER_MATCH: usize = 4;

/// The `limit` newest matches of `query` after `offset`, and the number of matches.
pub(crate) fn page(
    searcher: &Searcher,
    created_day: Field,
    query: &dyn Query,
    offset: usize,
    limit: usize,
) -> Result<(Vec<DocAddress>, usize)> {
    page_walking(searcher, created_day, query, offset, limit, WHOLE_SORT_UP_TO, WALK_PER_MATCH)
}

fn page_walking(
    searcher: &Searcher,
    created_day: Field,
    query: &dyn Query,
    offset: usize,
    limit: usize,
    whole_sort_up_to: usize,
    walk_per_match: usize,
) -> Result<(Vec<DocAddress>, usize)> {
    let error = || index_error("cannot run search");
    let sorted = |docs: &MatchedQuery| -> Result<Vec<DocAddress>> {
        let top = TopDocs::with_limit(limit)
            .and_offset(offset)
            .order_by_fast_field::<tantivy::DateTime>(FIELD_CREATED, Order::Desc);
        let hits = searcher.search(docs, &top).map_err(error())?;
        Ok(hits.into_iter().map(|(_, address)| address).collect())
    };
    let (matched, total) = searcher.search(query, &CollectMatches).map_err(error())?;
    let needed = offset + limit;
    if total <= whole_sort_up_to.max(needed * 4) {
        return Ok((sorted(&matched)?, total));
    }
    let budget = total.saturating_mul(walk_per_match);
    match newest_days(searcher, created_day, &matched, needed, budget)? {
        Some(newest) => Ok((sorted(&newest)?, total)),
        None => Ok((sorted(&matched)?, total)),
    }
}

/// One segment's part of the walk: its days (ascending, walked from the end) and the matches
/// found in the days walked.
struct SegmentWalk<'a> {
    segment: tantivy::index::SegmentId,
    max_doc: DocId,
    matches: &'a SegmentDocs,
    postings: std::sync::Arc<tantivy::InvertedIndexReader>,
    days: Vec<(u64, tantivy::postings::TermInfo)>,
    found: Vec<DocId>,
}

/// The matches of the newest days that hold at least `needed` of them, or `None` when more
/// than `budget` postings would be walked or fewer than `needed` matches have a date.
fn newest_days(
    searcher: &Searcher,
    created_day: Field,
    matched: &MatchedQuery,
    needed: usize,
    budget: usize,
) -> Result<Option<MatchedQuery>> {
    let read = "cannot read the created days";
    let mut walks = Vec::new();
    for reader in searcher.segment_readers() {
        let Some(matches) = matched.of(reader.segment_id()) else { continue };
        let postings = reader.inverted_index(created_day).map_err(index_error(read))?;
        // Day terms are big-endian and order as their days do.
        let mut days = Vec::new();
        let mut terms = postings.terms().stream().map_err(|error| index_error(read)(error.into()))?;
        while terms.advance() {
            if let Ok(key) = <[u8; 8]>::try_from(terms.key()) {
                days.push((u64::from_be_bytes(key), terms.value().clone()));
            }
        }
        let (segment, max_doc) = (reader.segment_id(), reader.max_doc());
        walks.push(SegmentWalk { segment, max_doc, matches, postings, days, found: Vec::new() });
    }
    let (mut found, mut walked) = (0usize, 0usize);
    while let Some(day) = walks.iter().filter_map(|walk| walk.days.last().map(|(day, _)| *day)).max() {
        for walk in &mut walks {
            let Some((_, info)) = walk.days.pop_if(|(last, _)| *last == day) else { continue };
            walked += info.doc_freq as usize;
            let mut postings = walk
                .postings
                .read_postings_from_terminfo(&info, IndexRecordOption::Basic)
                .map_err(|error| index_error(read)(error.into()))?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if walk.matches.contains(doc) {
                    walk.found.push(doc);
                    found += 1;
                }
                doc = postings.advance();
            }
        }
        if found >= needed {
            let segments = walks
                .into_iter()
                .filter(|walk| !walk.found.is_empty())
                .map(|mut walk| {
                    walk.found.sort_unstable();
                    (walk.segment, SegmentDocs::new(walk.found, walk.max_doc))
                })
                .collect();
            return Ok(Some(MatchedQuery::new(segments)));
        }
        if walked > budget {
            return Ok(None);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use tantivy::Term;
    use tantivy::collector::Count;
    use tantivy::query::{AllQuery, TermQuery};
    use tantivy::query::{BooleanQuery, Occur};
    use tantivy::schema::IndexRecordOption;

    use super::*;
    use crate::document::ArtifactDoc;
    use crate::schema::DocType;
    use crate::writer::WriterConfig;

    /// Pages from the newest days equal the whole sort's pages, for dense and sparse queries,
    /// deep offsets, equal dates and artifacts without a date, whether the walk ends, gives up
    /// or runs out of dated matches.
    #[tokio::test]
    async fn pages_from_the_newest_days_equal_the_whole_sort() {
        let (catalog, writer) = crate::open_in_ram(WriterConfig::default()).unwrap();
        let start = Utc.with_ymd_and_hms(2021, 6, 1, 12, 0, 0).unwrap();
        let repository = |name: &str, numbers: Vec<u32>| {
            let artifacts: Vec<ArtifactDoc> = numbers
                .iter()
                .map(|&number| {
                    let digest = format!("sha256:{number:064x}");
                    // Clusters of equal dates, gaps of days, some without a date, and a
                    // sparse tail: the first days walked hold too few.
                    let at = if number < 20 {
                        start + Duration::days(400 + i64::from(number) * 9)
                    } else {
                        start + Duration::hours(i64::from(number / 3) * 7)
                    };
                    // Most SBOMs have no date: their pages run out of dated ones.
                    let undated = number % 37 == 0 || (number % 5 == 0 && number >= 100);
                    let created = (!undated).then_some(at);
                    let kind =
                        if number % 5 == 0 { ocicat_oci::ArtifactKind::Sbom } else { ocicat_oci::ArtifactKind::Image };
                    ArtifactDoc { created, kind, ..ArtifactDoc::new("demo", name, digest) }
                })
                .collect();
            let summary = crate::RepositoryDoc {
                registry: "demo".into(),
                repository: name.into(),
                tag_count: 0,
                artifact_count: numbers.len() as u64,
                size: 0,
                last_push: None,
                crawled_at: None,
                incomplete: Vec::new(),
            };
            (summary, artifacts)
        };
        // Two segments at least, the newest days' artifacts partly deleted from the first.
        for (name, numbers) in [
            ("team/api", (0..600).collect::<Vec<u32>>()),
            ("team/web", (600..900).collect()),
            ("team/web", (600..900).filter(|number| number % 4 != 0).collect()),
        ] {
            let (summary, artifacts) = repository(name, numbers);
            writer.upsert_repository(summary, artifacts, Vec::new()).await.unwrap();
            writer.flush().await.unwrap();
        }
        let searcher = catalog.reader.searcher();
        let fields = &catalog.fields;
        let of_type = |kind: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(fields.kind, kind), IndexRecordOption::Basic))
        };
        let artifacts: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(fields.doc_type, DocType::Artifact.as_str()),
            IndexRecordOption::Basic,
        ));
        let queries = [
            BooleanQuery::new(vec![(Occur::Must, artifacts.box_clone())]),
            BooleanQuery::new(vec![(Occur::Must, of_type("sbom"))]),
            BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, of_type("image"))]),
        ];
        let mut walked_pages = 0;
        for query in &queries {
            for (offset, limit) in [(0, 1), (0, 10), (7, 13), (50, 50), (140, 20), (560, 50), (0, 200)] {
                let whole = searcher
                    .search(
                        query,
                        &TopDocs::with_limit(limit)
                            .and_offset(offset)
                            .order_by_fast_field::<tantivy::DateTime>(FIELD_CREATED, Order::Desc),
                    )
                    .unwrap();
                let whole: Vec<DocAddress> = whole.into_iter().map(|(_, address)| address).collect();
                let total = searcher.search(query, &Count).unwrap();
                let expected = (whole.clone(), total);
                for walk_per_match in [0, 1, WALK_PER_MATCH, usize::MAX] {
                    let walking =
                        page_walking(&searcher, fields.created_day, query, offset, limit, 0, walk_per_match).unwrap();
                    assert_eq!(walking, expected, "offset {offset}, limit {limit}, walk {walk_per_match}, {query:?}");
                }
                assert_eq!(page(&searcher, fields.created_day, query, offset, limit).unwrap(), expected);
                // The walk itself must end with the page often, or the test proves nothing.
                let (matched, _) = searcher.search(query, &CollectMatches).unwrap();
                let newest = newest_days(&searcher, fields.created_day, &matched, offset + limit, usize::MAX).unwrap();
                walked_pages += usize::from(newest.is_some());
            }
        }
        assert!(walked_pages >= 8, "{walked_pages}");
        assert!(
            searcher.segment_readers().len() >= 2
                && searcher.segment_readers().iter().any(|segment| segment.has_deletes())
        );
    }
}
