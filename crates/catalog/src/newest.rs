//! The newest-first page of a search, collected from windows of recent days.
//!
//! Ordering every match by the optional `created` column costs about 185 instructions a
//! match (its `value_row_ids` and `rank_if_exists` per document): 185M for the page of a
//! search with no query over 1M artifacts. When a search matches many artifacts, the page is
//! collected from the matches created in the newest days only (the `created_day` postings), a
//! window widened until it holds the page. Every match outside the window is older than every
//! match inside it, so the page is the one the whole sort gives, in the same order; artifacts
//! without a date (last in this order) are reached by the whole sort when the window would
//! span every day. The first window is an estimate: the days the matches can lie in (the
//! index's, narrowed by the query's own `created` bounds) and the matches per day that gives.

use tantivy::collector::Count;
use tantivy::query::Query;
use tantivy::{DocAddress, Order, Searcher};

use crate::by_created::ByCreated;
use crate::error::{Result, index_error};
use crate::query::{DateField, since_day};
use crate::schema::{FIELD_CREATED, day_number};

/// Up to this many matches (or four pages' worth) the whole sort is cheap enough.
pub(crate) const WHOLE_SORT_UP_TO: usize = 4_096;

/// The days every match of a query was created within, as far as the query says (first, last;
/// `None` is open): see `query::created_days`.
pub(crate) type CreatedDays = (Option<i64>, Option<i64>);

/// The `limit` newest matches of `query` after `offset`, and the number of matches.
pub(crate) fn page(
    searcher: &Searcher,
    created: DateField,
    query: &dyn Query,
    bounds: CreatedDays,
    offset: usize,
    limit: usize,
) -> Result<(Vec<DocAddress>, usize)> {
    page_windowed(searcher, created, query, bounds, offset, limit, WHOLE_SORT_UP_TO)
}

fn page_windowed(
    searcher: &Searcher,
    created: DateField,
    query: &dyn Query,
    bounds: CreatedDays,
    offset: usize,
    limit: usize,
    whole_sort_up_to: usize,
) -> Result<(Vec<DocAddress>, usize)> {
    let error = || index_error("cannot run search");
    let top = ByCreated { order: Order::Desc, offset, limit };
    let needed = offset + limit;
    let total = searcher.search(query, &Count).map_err(error())?;
    // The index's days, narrowed to the query's own bounds.
    let days = days_with_dates(searcher)?.map(|(first, last)| {
        (bounds.0.map_or(first, |low| low.max(first)), bounds.1.map_or(last, |high| high.min(last)))
    });
    let Some((first_day, last_day)) =
        days.filter(|(first, last)| first <= last && total > whole_sort_up_to.max(needed * 4))
    else {
        return Ok((searcher.search(query, &top).map_err(error())?.0, total));
    };
    // The days that would hold twice the page if the matches were spread evenly over them.
    let spread = (last_day - first_day + 1) as f64;
    let mut span = ((spread * (2 * needed) as f64 / total as f64).ceil() as i64).max(1);
    loop {
        let since = last_day - span + 1;
        if since <= first_day {
            break;
        }
        let windowed = since_day(created, query, since);
        let (hits, in_window) = searcher.search(&windowed, &top).map_err(error())?;
        if in_window >= needed {
            return Ok((hits, total));
        }
        span = span.saturating_mul(4);
    }
    Ok((searcher.search(query, &top).map_err(error())?.0, total))
}

/// The first and last day of any `created` date in the index (deleted documents included).
fn days_with_dates(searcher: &Searcher) -> Result<Option<(i64, i64)>> {
    let mut span: Option<(i64, i64)> = None;
    for segment in searcher.segment_readers() {
        let column = segment.fast_fields().date(FIELD_CREATED).map_err(index_error("cannot read the created dates"))?;
        if column.values.num_vals() == 0 {
            continue;
        }
        let (first, last) = (
            day_number(column.min_value().into_timestamp_secs()),
            day_number(column.max_value().into_timestamp_secs()),
        );
        span = Some(span.map_or((first, last), |(low, high)| (low.min(first), high.max(last))));
    }
    Ok(span)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};
    use tantivy::Term;
    use tantivy::collector::TopDocs;
    use tantivy::query::{AllQuery, BooleanQuery, Occur, TermQuery};
    use tantivy::schema::IndexRecordOption;

    use super::*;
    use crate::document::ArtifactDoc;
    use crate::schema::DocType;
    use crate::writer::WriterConfig;

    const PAGES: [(usize, usize); 7] = [(0, 1), (0, 10), (7, 13), (50, 50), (140, 20), (560, 50), (0, 200)];

    fn start() -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2021, 6, 1, 12, 0, 0).unwrap()
    }

    /// The whole sort's page of `query` and its number of matches.
    fn whole_sort(searcher: &Searcher, query: &dyn Query, offset: usize, limit: usize) -> (Vec<DocAddress>, usize) {
        let top = TopDocs::with_limit(limit)
            .and_offset(offset)
            .order_by_fast_field::<tantivy::DateTime>(FIELD_CREATED, Order::Desc);
        let whole = searcher.search(query, &top).unwrap();
        (whole.into_iter().map(|(_, address)| address).collect(), searcher.search(query, &Count).unwrap())
    }

    /// Pages through windows equal the whole sort's pages, for dense and sparse queries, deep
    /// offsets, equal dates and artifacts without a date.
    #[tokio::test]
    async fn windowed_pages_equal_the_whole_sort() {
        let catalog = six_hundred_artifacts().await;
        let searcher = catalog.reader.searcher();
        let fields = &catalog.fields;
        let created = DateField { column: fields.created, days: fields.created_day };
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
        let mut windowed_pages = 0;
        for query in &queries {
            for (offset, limit) in PAGES {
                let (whole, total) = whole_sort(&searcher, query, offset, limit);
                let open = (None, None);
                let windowed = page_windowed(&searcher, created, query, open, offset, limit, 0).unwrap();
                assert_eq!(windowed, (whole.clone(), total), "offset {offset}, limit {limit}, {query:?}");
                assert_eq!(page(&searcher, created, query, open, offset, limit).unwrap(), (whole, total));
                windowed_pages += usize::from(total > 4 * (offset + limit));
            }
        }
        assert!(windowed_pages >= 8, "{windowed_pages}");
    }

    /// Date comparisons paged through windows (the first narrowed to the query's `created`
    /// bounds) equal the whole sort, whether the matches lie in the newest days, only in old
    /// ones, between two bounds, outside one, or nowhere.
    #[tokio::test]
    async fn date_comparisons_page_like_the_whole_sort() {
        let catalog = six_hundred_artifacts().await;
        let searcher = catalog.reader.searcher();
        let fields = &catalog.fields;
        let created = DateField { column: fields.created, days: fields.created_day };
        let now = start() + Duration::days(600);
        let mut windowed_pages = 0;
        for text in [
            "created > 2021-07-20",
            "created < 2021-06-20",
            "created >= 2021-06-05 created <= 2021-07-15T06:00:00Z",
            "NOT created > 2021-06-10",
            "created > now-1d",
            "kind:sbom created < 2021-08-01",
            "(created < 2021-06-03 OR created > 2022-01-01) kind:image",
        ] {
            let expr = crate::query::parse_query(text).unwrap();
            let query = crate::query::build(&expr, fields, searcher.index(), now).unwrap();
            let bounds = crate::query::created_days(&expr, now);
            for (offset, limit) in PAGES {
                let (whole, total) = whole_sort(&searcher, query.as_ref(), offset, limit);
                let windowed = page_windowed(&searcher, created, query.as_ref(), bounds, offset, limit, 0).unwrap();
                assert_eq!(windowed, (whole, total), "{text}: offset {offset}, limit {limit}");
                windowed_pages += usize::from(total > 4 * (offset + limit));
            }
        }
        assert!(windowed_pages >= 12, "{windowed_pages}");
    }

    /// The days a query's own `created` clauses allow, to the day, where every match must
    /// pass them; nothing where a match need not.
    #[test]
    fn created_days_are_the_bounds_every_match_passes() {
        let now = start();
        let day = |date: &str| {
            let midnight = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap().and_hms_opt(0, 0, 0).unwrap();
            Some(crate::schema::day_number(midnight.and_utc().timestamp()))
        };
        let days = |text: &str| crate::query::created_days(&crate::query::parse_query(text).unwrap(), now);
        assert_eq!(days("created > 2021-06-10"), (day("2021-06-11"), None));
        assert_eq!(days("created >= 2021-06-10"), (day("2021-06-10"), None));
        assert_eq!(days("created < 2021-06-10"), (None, day("2021-06-09")));
        assert_eq!(days("created <= 2021-06-10"), (None, day("2021-06-10")));
        assert_eq!(days("created:2021-06-10"), (day("2021-06-10"), day("2021-06-10")));
        assert_eq!(days("created > 2021-06-10T23:59:59Z"), (day("2021-06-11"), None));
        assert_eq!(days("created < 2021-06-10T00:00:01Z"), (None, day("2021-06-10")));
        assert_eq!(days("created > now-9d"), (day("2021-05-23"), None));
        assert_eq!(
            days("kind:sbom created > 2021-01-01 created > 2021-03-01 created < 2021-06-10 created < 2022-01-01"),
            (day("2021-03-02"), day("2021-06-09"))
        );
        for unbounded in
            ["kind:sbom", "NOT created > 2021-06-10", "created != 2021-06-10", "created > 2021-06-10 OR tag:x"]
        {
            assert_eq!(days(unbounded), (None, None), "{unbounded}");
        }
    }

    /// 600 artifacts of `team/api`: clusters of equal dates, gaps of days, some without a
    /// date, a sparse recent tail, and every fifth an SBOM.
    async fn six_hundred_artifacts() -> crate::reader::Catalog {
        let (catalog, writer) = crate::open_in_ram(WriterConfig::default()).unwrap();
        let start = start();
        let artifacts: Vec<ArtifactDoc> = (0..600u32)
            .map(|number| {
                let digest = format!("sha256:{number:064x}");
                // Clusters of equal dates, gaps of days, some without a date, and a
                // sparse recent tail: the first windows hold too few and are widened.
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
                ArtifactDoc { created, kind, ..ArtifactDoc::new("demo", "team/api", digest) }
            })
            .collect();
        let summary = crate::RepositoryDoc { artifact_count: 600, ..crate::RepositoryDoc::new("demo", "team/api") };
        writer.upsert_repository(summary, artifacts, Vec::new()).await.unwrap();
        writer.flush().await.unwrap();
        catalog
    }
}
