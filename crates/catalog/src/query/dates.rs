//! Date ranges (`created > now-90d`, `end-of-life < today`, `annotation."…created" < 2024-01-01`)
//! answered from postings of whole days, with only the two edge days checked against the
//! to-the-second column. An annotation's dates are one key of two JSON fields (its column and
//! its days).
//!
//! A range on a fast date column alone reads the column of every document of the index,
//! whatever it matches (5 ms at 1M artifacts for any `created` range). Each date is therefore
//! also indexed as its day number (`schema::day_number`): the days wholly inside the range
//! are read from their postings into one bit set, and the postings of a day the range starts
//! or ends inside are checked against the column one document at a time. Counted without
//! deletions, the whole days are the sum of their postings' lengths: a count of
//! `created > now-90d` reads no postings but those of its edge day.

use std::ops::Bound;

use tantivy::query::{
    BitSetDocSet, BooleanQuery, ConstScorer, EmptyQuery, EnableScoring, Explanation, Occur, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TantivyError, Term};

use crate::schema::{SECONDS_PER_DAY, day_number};

/// A date field: its fast column (to the second) and its indexed day numbers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DateField {
    pub(crate) column: Field,
    pub(crate) days: Field,
}

/// The documents whose date lies between `low` and `high`, by whole days where it can. `key`
/// names one key of JSON fields (an annotation's path in both the column and the days).
pub(crate) fn range(
    field: DateField,
    key: Option<&str>,
    low: Bound<tantivy::DateTime>,
    high: Bound<tantivy::DateTime>,
) -> Box<dyn Query> {
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
    // Days d with d's first second >= low and its last second < high.
    let first_whole = low_second
        .map(|second| second.div_euclid(SECONDS_PER_DAY) + i64::from(second.rem_euclid(SECONDS_PER_DAY) != 0));
    let end_whole = high_second.map(day_number);
    let whole = match (first_whole, end_whole) {
        (Some(first), Some(end)) if first >= end => None,
        _ => Some((first_whole, end_whole)),
    };
    // The day the range starts inside, and the one it ends inside (if another).
    let low_edge = low_second.filter(|second| second.rem_euclid(SECONDS_PER_DAY) != 0).map(day_number);
    let high_edge = high_second.filter(|second| second.rem_euclid(SECONDS_PER_DAY) != 0).map(day_number);
    let edges: Vec<i64> = [low_edge, high_edge.filter(|day| Some(*day) != low_edge)].into_iter().flatten().collect();
    if whole.is_none() && edges.is_empty() {
        return Box::new(EmptyQuery);
    }
    Box::new(DayRange { field, key: key.map(str::to_owned), whole, edges, seconds: (low_second, high_second) })
}

/// The matches of `query` dated on day `since` or later. Where `query` is a range of `field`
/// (or a conjunction holding one), that range is narrowed: the days before `since` are never
/// read. Otherwise `query` is joined with the whole days from `since`.
pub(crate) fn since_day(field: DateField, query: &dyn Query, since: i64) -> Box<dyn Query> {
    narrowed(field, query, since).unwrap_or_else(|| {
        let window =
            DayRange { field, key: None, whole: Some((Some(since), None)), edges: Vec::new(), seconds: (None, None) };
        Box::new(BooleanQuery::new(vec![(Occur::Must, query.box_clone()), (Occur::Must, Box::new(window))]))
    })
}

/// `query` with its range of `field` narrowed to days from `since`, if it holds one that every
/// match passes.
fn narrowed(field: DateField, query: &dyn Query, since: i64) -> Option<Box<dyn Query>> {
    if let Some(range) = query.downcast_ref::<DayRange>() {
        let same = range.field.days == field.days && range.key.is_none();
        return same.then(|| Box::new(range.since(since)) as Box<dyn Query>);
    }
    let conjunction = query.downcast_ref::<BooleanQuery>()?;
    let clauses = conjunction.clauses();
    if clauses.iter().any(|(occur, _)| *occur == Occur::Should) {
        return None;
    }
    let (position, narrowed) = clauses.iter().enumerate().find_map(|(position, (occur, clause))| {
        (*occur == Occur::Must)
            .then(|| narrowed(field, clause.as_ref(), since))
            .flatten()
            .map(|query| (position, query))
    })?;
    let mut narrowed = Some(narrowed);
    let clauses = clauses
        .iter()
        .enumerate()
        .map(|(at, (occur, clause))| {
            (*occur, if at == position { narrowed.take() } else { None }.unwrap_or_else(|| clause.box_clone()))
        })
        .collect();
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// Whole days from their postings, edge days checked against the column.
#[derive(Debug, Clone)]
struct DayRange {
    field: DateField,
    /// The key within JSON fields, or none for plain fields.
    key: Option<String>,
    /// Whole days: the first (inclusive) and the end (exclusive), either open.
    whole: Option<(Option<i64>, Option<i64>)>,
    /// Days only partly inside: their documents are checked against `seconds`.
    edges: Vec<i64>,
    /// The range in seconds: low inclusive, high exclusive.
    seconds: (Option<i64>, Option<i64>),
}

impl Query for DayRange {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl DayRange {
    /// This range without the days before `since`.
    fn since(&self, since: i64) -> DayRange {
        let whole = self.whole.and_then(|(first, end)| {
            let first = first.map_or(since, |first| first.max(since));
            end.is_none_or(|end| first < end).then_some((Some(first), end))
        });
        let edges = self.edges.iter().copied().filter(|edge| *edge >= since).collect();
        DayRange { field: self.field, key: self.key.clone(), whole, edges, seconds: self.seconds }
    }

    /// The term of `day` in the days field (under the key, if any).
    fn day_term(&self, day: i64) -> Term {
        match &self.key {
            Some(key) => {
                let mut term = Term::from_field_json_path(self.field.days, key, false);
                term.append_type_and_fast_value(day);
                term
            }
            None => Term::from_field_i64(self.field.days, day),
        }
    }

    /// Calls `each` with the postings information of every whole day in the segment.
    fn whole_days(
        &self,
        reader: &SegmentReader,
        mut each: impl FnMut(&tantivy::postings::TermInfo) -> tantivy::Result<()>,
    ) -> tantivy::Result<()> {
        let Some((first, end)) = self.whole else { return Ok(()) };
        let inverted = reader.inverted_index(self.field.days)?;
        // Bounded on both sides even when open: a JSON field's terms of other keys lie beyond.
        let first = self.day_term(first.unwrap_or(i64::MIN));
        let builder = inverted.terms().range().without_keys().ge(first.serialized_value_bytes());
        let builder = match end {
            Some(end) => builder.lt(self.day_term(end).serialized_value_bytes()),
            None => builder.le(self.day_term(i64::MAX).serialized_value_bytes()),
        };
        let mut days = builder.into_stream()?;
        while days.advance() {
            each(days.value())?;
        }
        Ok(())
    }

    /// Calls `each` with every document of an edge day whose date lies in the range.
    fn edge_documents(&self, reader: &SegmentReader, mut each: impl FnMut(DocId)) -> tantivy::Result<()> {
        if self.edges.is_empty() {
            return Ok(());
        }
        let inverted = reader.inverted_index(self.field.days)?;
        let name = reader.schema().get_field_name(self.field.column);
        let name = match &self.key {
            Some(key) => format!("{name}.{key}"),
            None => name.to_owned(),
        };
        // A segment without the column has no date to check (nor edge postings to check).
        let Some(column) = reader.fast_fields().column_opt::<tantivy::DateTime>(&name)? else { return Ok(()) };
        let (low, high) = self.seconds;
        for &edge in &self.edges {
            let Some(info) = inverted.get_term_info(&self.day_term(edge))? else { continue };
            each_posting(&inverted, &info, |doc| {
                let inside = column
                    .first(doc)
                    .map(tantivy::DateTime::into_timestamp_secs)
                    .is_some_and(|second| low.is_none_or(|low| second >= low) && high.is_none_or(|high| second < high));
                if inside {
                    each(doc);
                }
            })?;
        }
        Ok(())
    }
}

/// Calls `each` with every document of the postings `info` points at, a block at a time.
fn each_posting(
    inverted: &tantivy::InvertedIndexReader,
    info: &tantivy::postings::TermInfo,
    mut each: impl FnMut(DocId),
) -> tantivy::Result<()> {
    let mut postings = inverted.read_block_postings_from_terminfo(info, IndexRecordOption::Basic)?;
    while !postings.docs().is_empty() {
        postings.docs().iter().for_each(|&doc| each(doc));
        postings.advance();
    }
    Ok(())
}

impl Weight for DayRange {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut matched = BitSet::with_max_value(reader.max_doc());
        let inverted = reader.inverted_index(self.field.days)?;
        self.whole_days(reader, |info| {
            each_posting(&inverted, info, |doc| {
                matched.insert(doc);
            })
        })?;
        self.edge_documents(reader, |doc| {
            matched.insert(doc);
        })?;
        Ok(Box::new(ConstScorer::new(BitSetDocSet::from(matched), boost)))
    }

    /// Without deletions, whole days count as their postings' lengths.
    fn count(&self, reader: &SegmentReader) -> tantivy::Result<u32> {
        if let Some(alive) = reader.alive_bitset() {
            return Ok(self.scorer(reader, 1.0)?.count(alive));
        }
        let mut count = 0u32;
        self.whole_days(reader, |info| {
            count += info.doc_freq;
            Ok(())
        })?;
        self.edge_documents(reader, |_| count += 1)?;
        Ok(count)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if self.scorer(reader, 1.0)?.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("document {doc} is not in the date range")));
        }
        Ok(Explanation::new("DayRange", 1.0))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use tantivy::collector::{Count, DocSetCollector};
    use tantivy::query::{AllQuery, RangeQuery};

    use tantivy::schema::{
        DateOptions, DateTimePrecision, JsonObjectOptions, NumericOptions, OwnedValue, Schema, TextFieldIndexing,
    };
    use tantivy::{DateTime, Index, TantivyDocument};

    use super::*;

    /// Every bound on either side of day edges, before and after 1970, against the column
    /// range alone: the same documents and the same count, before and after deletions (counted
    /// from postings' lengths, then from the documents left); windows of whole days as well.
    #[test]
    fn whole_days_and_edges_match_exactly_what_the_column_range_matches() {
        let mut builder = Schema::builder();
        let column =
            builder.add_date_field("date", DateOptions::default().set_fast().set_precision(DateTimePrecision::Seconds));
        let days = builder.add_i64_field("days", NumericOptions::default().set_indexed());
        let serial = builder.add_u64_field("serial", NumericOptions::default().set_indexed());
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let day = SECONDS_PER_DAY;
        let mut seconds = Vec::new();
        for base in [-3 * day, -day, 0, day, 2 * day, 20_000 * day] {
            for offset in [0, 1, day / 2, day - 1] {
                seconds.push(base + offset);
            }
        }
        for (number, &second) in (0u64..).zip(&seconds) {
            let mut document = TantivyDocument::default();
            document.add_date(column, DateTime::from_timestamp_secs(second));
            document.add_i64(days, day_number(second));
            document.add_u64(serial, number);
            writer.add_document(document).unwrap();
        }
        // A document without a date matches no range.
        writer.add_document(TantivyDocument::default()).unwrap();
        writer.commit().unwrap();
        let reader = index.reader().unwrap();
        let compared = compare_every_range(&reader.searcher(), DateField { column, days }, &seconds);
        assert!(compared > 10_000, "{compared}");
        for number in (0..seconds.len() as u64).step_by(3) {
            writer.delete_term(Term::from_field_u64(serial, number));
        }
        writer.commit().unwrap();
        reader.reload().unwrap();
        let searcher = reader.searcher();
        assert!(searcher.segment_readers().iter().any(|segment| segment.alive_bitset().is_some()));
        assert!(compare_every_range(&searcher, DateField { column, days }, &seconds) > 10_000);
    }

    /// A range on one key of JSON date fields (a date-valued annotation) matches what that key's
    /// column range matches: never a document with only another key, and counted alike.
    #[test]
    fn a_key_of_json_dates_matches_what_its_column_range_matches() {
        let mut builder = Schema::builder();
        let column = builder.add_json_field("dates", JsonObjectOptions::default().set_fast("raw"));
        let indexing = TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_fieldnorms(false)
            .set_index_option(IndexRecordOption::Basic);
        let days = builder.add_json_field("days", JsonObjectOptions::default().set_indexing_options(indexing));
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let key = crate::schema::annotation_date_path("org.opencontainers.image.created");
        // Keys whose terms sort before and after the key's.
        let (before, after) = (crate::schema::annotation_date_path("a.b"), crate::schema::annotation_date_path("zz"));
        let day = SECONDS_PER_DAY;
        let seconds: Vec<i64> = [0, day, 2 * day, 20_000 * day]
            .iter()
            .flat_map(|base| [0, 1, day / 2, day - 1].map(|offset| base + offset))
            .collect();
        let object = |entries: &[(&String, i64)], as_day: bool| -> BTreeMap<String, OwnedValue> {
            entries
                .iter()
                .map(|(key, second)| {
                    let value = if as_day {
                        OwnedValue::I64(day_number(*second))
                    } else {
                        OwnedValue::Date(DateTime::from_timestamp_secs(*second))
                    };
                    ((*key).clone(), value)
                })
                .collect()
        };
        for (number, &second) in seconds.iter().enumerate() {
            // Every document has the key, another key, or all three (the others at other dates).
            let entries: Vec<(&String, i64)> = match number % 4 {
                0 => vec![(&key, second)],
                1 => vec![(&before, second)],
                2 => vec![(&after, second)],
                _ => vec![(&before, second + day), (&key, second), (&after, second - day)],
            };
            let mut document = TantivyDocument::default();
            document.add_object(column, object(&entries, false));
            document.add_object(days, object(&entries, true));
            writer.add_document(document).unwrap();
        }
        writer.add_document(TantivyDocument::default()).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let run = |query: &dyn Query| {
            let mut found: Vec<u32> =
                searcher.search(query, &DocSetCollector).unwrap().into_iter().map(|address| address.doc_id).collect();
            found.sort_unstable();
            (searcher.search(query, &Count).unwrap(), found)
        };
        let term = |date: DateTime| {
            let mut term = Term::from_field_json_path(column, &key, false);
            term.append_type_and_fast_value(date);
            term
        };
        let probes: Vec<i64> = seconds.iter().flat_map(|&second| [second - 1, second, second + 1]).collect();
        let mut compared = 0;
        for &low in &probes {
            for &high in &probes {
                for (low, high) in [
                    (Bound::Included(low), Bound::Excluded(high)),
                    (Bound::Excluded(low), Bound::Included(high)),
                    (Bound::Included(low), Bound::Unbounded),
                    (Bound::Unbounded, Bound::Excluded(high)),
                ] {
                    let (low, high) = (low.map(DateTime::from_timestamp_secs), high.map(DateTime::from_timestamp_secs));
                    // An open end of the column range still needs the key.
                    let column_low = match low {
                        Bound::Unbounded => Bound::Included(term(DateTime::MIN)),
                        bound => bound.map(term),
                    };
                    let column_high = match high {
                        Bound::Unbounded => Bound::Included(term(DateTime::MAX)),
                        bound => bound.map(term),
                    };
                    let expected = run(&RangeQuery::new(column_low, column_high));
                    let field = DateField { column, days };
                    assert_eq!(run(range(field, Some(&key), low, high).as_ref()), expected, "{low:?}..{high:?}");
                    compared += 1;
                }
            }
        }
        assert!(compared > 5_000, "{compared}");
        let everything =
            run(range(DateField { column, days }, Some(&key), Bound::Unbounded, Bound::Included(DateTime::MAX))
                .as_ref());
        assert_eq!(everything.0, seconds.len() / 2, "the documents with the key, and only those");
    }

    /// Compares each range over `seconds` with the column's; returns how many were compared.
    fn compare_every_range(searcher: &tantivy::Searcher, field: DateField, seconds: &[i64]) -> usize {
        let column = field.column;
        let run = |query: &dyn Query| {
            let mut found: Vec<u32> =
                searcher.search(query, &DocSetCollector).unwrap().into_iter().map(|address| address.doc_id).collect();
            found.sort_unstable();
            (searcher.search(query, &Count).unwrap(), found)
        };
        // Windows of days: alone, and over a range (narrowed, inside a conjunction or not).
        let window_days: Vec<i64> = seconds.iter().map(|&second| day_number(second)).chain([-10, 30_000]).collect();
        for &day in &window_days {
            let since = DateTime::from_timestamp_secs(day * SECONDS_PER_DAY);
            let expected =
                run(&RangeQuery::new(Bound::Included(Term::from_field_date(column, since)), Bound::Unbounded));
            assert_eq!(run(since_day(field, &AllQuery, day).as_ref()), expected, "since day {day}");
        }
        let windowed = |query: &dyn Query, day: i64| -> Vec<Box<dyn Query>> {
            let conjunction =
                BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::Must, query.box_clone())]);
            let disjunction =
                BooleanQuery::new(vec![(Occur::Should, Box::new(EmptyQuery)), (Occur::Should, query.box_clone())]);
            [query, &conjunction as &dyn Query, &disjunction]
                .into_iter()
                .map(|query| since_day(field, query, day))
                .collect()
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
                        let found = run(range(field, None, low, high).as_ref());
                        assert_eq!(found.0, found.1.len(), "{low:?}..{high:?}");
                        assert_eq!(found, expected, "{low:?}..{high:?}");
                        // The matches from one day on, each dated document's id its position.
                        let day = window_days[(compared / 3) % window_days.len()];
                        let from_day: Vec<u32> = expected
                            .1
                            .iter()
                            .copied()
                            .filter(|&doc| seconds.get(doc as usize).is_some_and(|&second| day_number(second) >= day))
                            .collect();
                        let windows = if compared % 3 == 0 {
                            windowed(range(field, None, low, high).as_ref(), day)
                        } else {
                            Vec::new()
                        };
                        for query in windows {
                            assert_eq!(
                                run(query.as_ref()),
                                (from_day.len(), from_day.clone()),
                                "{low:?}..{high:?} since {day}"
                            );
                        }
                        compared += 1;
                    }
                }
            }
        }
        compared
    }
}
