//! Name order, also deep into a large list: tantivy's string-ordered top-N looks every collected
//! ordinal up in the term dictionary one by one, which took 1.8 s for page 1,000 of 100k
//! repositories. Past the first pages, each segment's matches are ordered by term ordinal
//! (dictionary order is name order), the first `offset + limit` are named in one sequential
//! pass over the dictionary, and the segments are merged by name.
//!
//! Name filters: a repository summary carries every suffix of its name, so "the name contains
//! `gateway-0`" is the term range of suffixes starting with it, whatever the number of
//! repositories (a pass over 100k names took 14 ms, and 38 ms with the term set of 12k
//! matches). Tag names, and filters longer than a suffix keeps, are a substring test over the
//! term dictionary, not a regex.

use std::collections::BTreeSet;
use std::ops::Bound;

use tantivy::collector::TopDocs;
use tantivy::query::{EnableScoring, InvertedIndexRangeQuery, Query, TermSetQuery};
use tantivy::schema::Field;
use tantivy::{DocAddress, Order, Searcher, Term};

use crate::error::{Result, index_error, io_error};

/// Up to this many names (offset + limit), tantivy's top-N is used as it is.
const SHALLOW: usize = 1_000;

/// The addresses of matches `offset..offset + limit` of `query`, ordered by the string fast
/// field `field` (documents without a value come last, in no particular order).
pub(crate) fn page_by_name(
    searcher: &Searcher,
    query: &dyn Query,
    field: &str,
    offset: usize,
    limit: usize,
) -> Result<Vec<DocAddress>> {
    let wanted = offset.saturating_add(limit);
    if wanted <= SHALLOW {
        // Few names to look up: tantivy's own top-N is quicker than a pass over every match.
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset).order_by_string_fast_field(field, Order::Asc);
        let found = searcher.search(query, &top).map_err(index_error("cannot list by name"))?;
        return Ok(found.into_iter().map(|(_, address)| address).collect());
    }
    let weight =
        query.weight(EnableScoring::disabled_from_searcher(searcher)).map_err(index_error("cannot list by name"))?;
    let mut named: Vec<(Option<String>, DocAddress)> = Vec::new();
    for (segment_ord, segment) in searcher.segment_readers().iter().enumerate() {
        let segment_ord = segment_ord as u32;
        let column = segment.fast_fields().str(field).map_err(index_error("cannot read the name column"))?;
        let mut ordered: Vec<(u64, u32)> = Vec::new();
        weight
            .for_each_no_score(segment, &mut |docs| {
                // Visits deleted documents too: a rewritten artifact would be listed twice.
                for &doc in docs.iter().filter(|doc| !segment.is_deleted(**doc)) {
                    match column.as_ref().and_then(|column| column.term_ords(doc).next()) {
                        Some(ordinal) => ordered.push((ordinal, doc)),
                        None => named.push((None, DocAddress::new(segment_ord, doc))),
                    }
                }
            })
            .map_err(index_error("cannot list by name"))?;
        let Some(column) = column else { continue };
        if ordered.len() > wanted {
            ordered.select_nth_unstable(wanted - 1);
            ordered.truncate(wanted);
        }
        ordered.sort_unstable();
        let ordinals: Vec<u64> = ordered.iter().map(|(ordinal, _)| *ordinal).collect();
        let mut names = Vec::with_capacity(ordinals.len());
        column
            .dictionary()
            .sorted_ords_to_term_cb(&ordinals, |bytes| names.push(String::from_utf8_lossy(bytes).into_owned()))
            .map_err(io_error("cannot read names from the term dictionary"))?;
        named
            .extend(names.into_iter().map(Some).zip(ordered.iter().map(|(_, doc)| DocAddress::new(segment_ord, *doc))));
    }
    // `None` sorts first in `Option`; names first, then the documents without one.
    named.sort_unstable_by(|left, right| match (&left.0, &right.0) {
        (Some(a), Some(b)) => a.cmp(b).then(left.1.cmp(&right.1)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => left.1.cmp(&right.1),
    });
    Ok(named.into_iter().skip(offset).take(limit).map(|(_, address)| address).collect())
}

/// The longest suffix of a name that is indexed, in bytes; longer ones are cut (at a character
/// boundary). A filter of up to [`SUFFIX_FILTER_BYTES`] is found whole in a cut suffix.
const SUFFIX_BYTES: usize = 64;

/// The longest filter the suffixes answer: a cut suffix keeps at least this many bytes (a
/// character is at most 4).
const SUFFIX_FILTER_BYTES: usize = SUFFIX_BYTES - 3;

/// The suffixes of `name` that a repository summary is indexed with: one from each character,
/// each cut to [`SUFFIX_BYTES`].
pub(crate) fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    name.char_indices().map(move |(start, _)| {
        let suffix = &name[start..];
        let mut end = suffix.len().min(SUFFIX_BYTES);
        while !suffix.is_char_boundary(end) {
            end -= 1;
        }
        &suffix[..end]
    })
}

/// Repository summaries whose name contains `needle`: the suffixes (`suffixes_field`) that
/// start with it, or for a filter longer than a suffix keeps, a pass over the names
/// (`names_field`, see [`containing`]).
pub(crate) fn repositories_containing(
    searcher: &Searcher,
    suffixes_field: Field,
    names_field: Field,
    needle: &str,
) -> Result<Box<dyn Query>> {
    if needle.len() > SUFFIX_FILTER_BYTES {
        return containing(searcher, names_field, needle);
    }
    let lower = Term::from_field_text(suffixes_field, needle);
    let upper = prefix_end(needle.as_bytes())
        .map_or(Bound::Unbounded, |end| Bound::Excluded(Term::from_field_bytes(suffixes_field, &end)));
    Ok(Box::new(InvertedIndexRangeQuery::new(Bound::Included(lower), upper)))
}

/// The first byte string after every one that starts with `prefix` (`None`: there is none).
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Names of `field` that contain `needle`, as a query for exactly those names: one pass over
/// each segment's term dictionary with a plain substring test, where a `.*needle.*` regex
/// automaton took ~40 ms over 100k names.
pub(crate) fn containing(searcher: &Searcher, field: Field, needle: &str) -> Result<Box<dyn Query>> {
    let needle = needle.as_bytes();
    let mut found: BTreeSet<Vec<u8>> = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let index = segment.inverted_index(field).map_err(index_error("cannot read names"))?;
        let mut stream = index.terms().stream().map_err(io_error("cannot stream names from the term dictionary"))?;
        while stream.advance() {
            let key = stream.key();
            if key.len() >= needle.len() && key.windows(needle.len()).any(|window| window == needle) {
                found.insert(key.to_vec());
            }
        }
    }
    let terms = found
        .into_iter()
        .filter_map(|bytes| String::from_utf8(bytes).ok())
        .map(|name| Term::from_field_text(field, &name));
    Ok(Box::new(TermSetQuery::new(terms)))
}

#[cfg(test)]
mod tests {
    use super::{SUFFIX_BYTES, prefix_end, suffixes};

    #[test]
    fn a_name_is_indexed_from_each_character_cut_at_a_boundary() {
        assert_eq!(suffixes("ab/c").collect::<Vec<_>>(), ["ab/c", "b/c", "/c", "c"]);
        assert_eq!(suffixes("").count(), 0);
        let long = format!("{}é-tail", "x".repeat(SUFFIX_BYTES - 1));
        let first = suffixes(&long).next().unwrap();
        assert_eq!(first, "x".repeat(SUFFIX_BYTES - 1), "é straddles the cut and is left out whole");
        assert!(suffixes(&long).all(|suffix| suffix.len() <= SUFFIX_BYTES));
        assert_eq!(suffixes(&long).last(), Some("l"));
    }

    #[test]
    fn a_prefix_ends_at_its_last_byte_that_can_grow() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[b'a', 0xff]), Some(b"b".to_vec()));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }
}
