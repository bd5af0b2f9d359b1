//! Date ranges (`created > now-90d`, `end-of-life < today`) answered from postings of whole
//! days, with only the two edge days checked against the to-the-second column.
//!
//! A range on a fast date column alone reads the column of every document of the index,
//! whatever it matches (5 ms at 1M artifacts for any `created` range). Each date is therefore
//! also indexed as its day number (`schema::day_number`): the days wholly inside the range
//! are one term range over those postings, and a day the range starts or ends inside is that
//! day's postings intersected with the column range, which tantivy checks one document at a
//! time (`seek_danger`) instead of scanning.

use std::ops::Bound;

use tantivy::query::{BooleanQuery, EmptyQuery, InvertedIndexRangeQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DateTime, Term};

use crate::schema::{SECONDS_PER_DAY, day_number};

/// A date field: its fast column (to the second) and its indexed day numbers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateField {
    pub(crate) column: Field,
    pub(crate) days: Field,
}

/// The documents whose date lies between `low` and `high`, by whole days where it can.
pub(crate) fn range(field: DateField, low: Bound<DateTime>, high: Bound<DateTime>) -> Box<dyn Query> {
    // Seconds, low inclusive and high exclusive (the column holds whole seconds).
    let low_second = match low {
        Bound::Included(date) => Some(date.into_timestamp_secs()),
        Bound::Excluded(date) => Some(date.into_timestamp_secs().saturating_add(1)),
        Bound::Unbounded => None,
    };
    let high_second = match high {
        Bound::Included(date) => Some(date.into_timestamp_secs().saturating_add(1)),
        Bound::Excluded(date) => Some(date.into_timestamp_secs()),
        Bound::Unbounded => None,
    };
    if let (Some(low), Some(high)) = (low_second, high_second)
        && low >= high
    {
        return Box::new(EmptyQuery);
    }
    let day_term = |day: i64| Term::from_field_i64(field.days, day);
    // Days d with d's first second >= low and its last second < high.
    let first_whole = low_second
        .map(|second| second.div_euclid(SECONDS_PER_DAY) + i64::from(second.rem_euclid(SECONDS_PER_DAY) != 0));
    let end_whole = high_second.map(day_number);
    let mut parts: Vec<Box<dyn Query>> = Vec::with_capacity(3);
    if !matches!((first_whole, end_whole), (Some(first), Some(end)) if first >= end) {
        let lower = first_whole.map_or(Bound::Unbounded, |day| Bound::Included(day_term(day)));
        let upper = end_whole.map_or(Bound::Unbounded, |day| Bound::Excluded(day_term(day)));
        parts.push(Box::new(InvertedIndexRangeQuery::new(lower, upper)));
    }
    // The day the range starts inside, and the one it ends inside (if another).
    let low_edge = low_second.filter(|second| second.rem_euclid(SECONDS_PER_DAY) != 0).map(day_number);
    let high_edge = high_second.filter(|second| second.rem_euclid(SECONDS_PER_DAY) != 0).map(day_number);
    let column_range = || -> Box<dyn Query> {
        let term = |date| Term::from_field_date(field.column, date);
        Box::new(RangeQuery::new(low.map(term), high.map(term)))
    };
    for edge in [low_edge, high_edge.filter(|day| Some(*day) != low_edge)].into_iter().flatten() {
        let day: Box<dyn Query> = Box::new(TermQuery::new(day_term(edge), IndexRecordOption::Basic));
        parts.push(Box::new(BooleanQuery::new(vec![(Occur::Must, day), (Occur::Must, column_range())])));
    }
    match parts.len() {
        0 => Box::new(EmptyQuery),
        1 => parts.remove(0),
        _ => Box::new(BooleanQuery::new(parts.into_iter().map(|part| (Occur::Should, part)).collect())),
    }
}

#[cfg(test)]
mod tests {
    use tantivy::collector::DocSetCollector;
    use tantivy::schema::{DateOptions, DateTimePrecision, NumericOptions, Schema};
    use tantivy::{Index, TantivyDocument};

    use super::*;

    /// Every bound on either side of day edges, before and after 1970, against the column
    /// range alone: the same documents.
    #[test]
    fn whole_days_and_edges_match_exactly_what_the_column_range_matches() {
        let mut builder = Schema::builder();
        let column =
            builder.add_date_field("date", DateOptions::default().set_fast().set_precision(DateTimePrecision::Seconds));
        let days = builder.add_i64_field("days", NumericOptions::default().set_indexed());
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let day = SECONDS_PER_DAY;
        let mut seconds = Vec::new();
        for base in [-3 * day, -day, 0, day, 2 * day, 20_000 * day] {
            for offset in [0, 1, day / 2, day - 1] {
                seconds.push(base + offset);
            }
        }
        for &second in &seconds {
            let mut document = TantivyDocument::default();
            document.add_date(column, DateTime::from_timestamp_secs(second));
            document.add_i64(days, day_number(second));
            writer.add_document(document).unwrap();
        }
        // A document without a date matches no range.
        writer.add_document(TantivyDocument::default()).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let field = DateField { column, days };
        let run = |query: &dyn Query| {
            let mut found: Vec<u32> =
                searcher.search(query, &DocSetCollector).unwrap().into_iter().map(|address| address.doc_id).collect();
            found.sort_unstable();
            found
        };
        let mut probes: Vec<i64> = seconds.iter().flat_map(|&second| [second - 1, second, second + 1]).collect();
        probes.extend([i64::from(i32::MIN), i64::from(i32::MAX)]);
        let bound = |kind: u8, second: i64| {
            let date = DateTime::from_timestamp_secs(second);
            match kind {
                0 => Bound::Included(date),
                1 => Bound::Excluded(date),
                _ => Bound::Unbounded,
            }
        };
        let mut compared = 0;
        for &low in &probes {
            for &high in &probes {
                for low_kind in 0..3 {
                    for high_kind in 0..3 {
                        if low_kind == 2 && high_kind == 2 {
                            continue;
                        }
                        let (low, high) = (bound(low_kind, low), bound(high_kind, high));
                        let term = |date| Term::from_field_date(column, date);
                        let expected = run(&RangeQuery::new(low.map(term), high.map(term)));
                        assert_eq!(run(range(field, low, high).as_ref()), expected, "{low:?}..{high:?}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
    }
}
