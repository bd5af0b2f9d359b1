//! Search: the query language (parse.rs), its values (values.rs), and the translation of a
//! parsed query into a tantivy query over the fields of schema.rs.

mod dates;
mod impact;
mod parse;
mod values;

use std::ops::Bound;

use chrono::{DateTime, Duration, Utc};
use tantivy::query::{AllQuery, BooleanQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Index, Term};

pub(crate) use dates::{DateField, since_day};
pub(crate) use impact::resolve;
pub use parse::{Expr, Field, KeyHashes, Op, PastedReference, QueryError, Severity, parse_query, pasted_reference};
pub(crate) use values::{date_value, tantivy_date};

use crate::schema::Fields;

fn error(position: usize, message: impl Into<String>) -> QueryError {
    QueryError { position, message: message.into() }
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

fn negate(query: Box<dyn Query>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![(Occur::Must, Box::new(AllQuery)), (Occur::MustNot, query)]))
}

fn glob_to_regex(glob: &str) -> String {
    glob_to_regex_with(glob, ".*")
}

/// `glob` as a regex where `*` becomes `any` (`[^\x00]*` keeps it inside one NUL-separated part).
pub(crate) fn glob_to_regex_with(glob: &str, any: &str) -> String {
    let mut regex = String::new();
    for c in glob.chars() {
        match c {
            '*' => regex.push_str(any),
            // Not `<` or `>`: escaped, the regex syntax reads them as word boundaries.
            c if "\\.+?()|[]{}^$#&-~\"@".contains(c) => {
                regex.push('\\');
                regex.push(c);
            }
            c => regex.push(c),
        }
    }
    regex
}

fn bounds<T, B>(op: Op, low: T, high_exclusive: T, make: impl Fn(T) -> B) -> (Bound<B>, Bound<B>) {
    match op {
        Op::Less => (Bound::Unbounded, Bound::Excluded(make(low))),
        Op::LessOrEqual => (Bound::Unbounded, Bound::Excluded(make(high_exclusive))),
        Op::Greater => (Bound::Included(make(high_exclusive)), Bound::Unbounded),
        Op::GreaterOrEqual => (Bound::Included(make(low)), Bound::Unbounded),
        Op::Equal | Op::NotEqual => (Bound::Included(make(low)), Bound::Excluded(make(high_exclusive))),
    }
}

/// The moment a date value names and the end of its precision (a day for `yyyy-mm-dd` and
/// `today`, a second otherwise).
fn date_span(
    value: &str,
    now: DateTime<Utc>,
    position: usize,
) -> Result<(tantivy::DateTime, tantivy::DateTime), QueryError> {
    let start = values::parse_date(value, now).ok_or_else(|| {
        error(position, format!("'{value}' is not a date: use yyyy-mm-dd, RFC 3339, today, now, now-90d, now+1w"))
    })?;
    let day_precision = value.len() == 10 || value.eq_ignore_ascii_case("today");
    let end = start + if day_precision { Duration::days(1) } else { Duration::seconds(1) };
    let convert = |date| tantivy_date(date).ok_or_else(|| error(position, format!("'{value}' is out of range")));
    Ok((convert(start)?, convert(end)?))
}

/// The first and last day (see `schema::day_number`) any match of `expr` can have been
/// created on, from the `created` comparisons every match passes (those of its top-level
/// conjunction); `None` where nothing bounds it. Only an estimate's input: a value that cannot
/// be read bounds nothing here (building the query reports it).
pub(crate) fn created_days(expr: &Expr, now: DateTime<Utc>) -> (Option<i64>, Option<i64>) {
    match expr {
        Expr::And(parts) => parts.iter().map(|part| created_days(part, now)).fold((None, None), |(low, high), part| {
            (
                low.max(part.0),
                match (high, part.1) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                },
            )
        }),
        Expr::Clause { field: Field::Created, op, value, position } if *op != Op::NotEqual => {
            let Ok((start, end)) = date_span(value, now, *position) else { return (None, None) };
            let (low, high) = bounds(*op, start, end, tantivy::DateTime::into_timestamp_secs);
            let first = match low {
                Bound::Included(second) => Some(crate::schema::day_number(second)),
                _ => None,
            };
            // The high bound is exclusive: the last match is a second before it.
            let last = match high {
                Bound::Excluded(second) => Some(crate::schema::day_number(second - 1)),
                _ => None,
            };
            (first, last)
        }
        _ => (None, None),
    }
}

/// Translates a parsed query; `now` anchors `today` and `now-…`.
pub(crate) fn build(
    expr: &Expr,
    fields: &Fields,
    index: &Index,
    now: DateTime<Utc>,
) -> Result<Box<dyn Query>, QueryError> {
    Ok(match expr {
        Expr::And(parts) if parts.is_empty() => Box::new(AllQuery),
        Expr::And(parts) => Box::new(BooleanQuery::new(
            parts
                .iter()
                .map(|part| Ok((Occur::Must, build(part, fields, index, now)?)))
                .collect::<Result<_, QueryError>>()?,
        )),
        Expr::Or(parts) => Box::new(BooleanQuery::new(
            parts
                .iter()
                .map(|part| Ok((Occur::Should, build(part, fields, index, now)?)))
                .collect::<Result<_, QueryError>>()?,
        )),
        Expr::Not(inner) => negate(build(inner, fields, index, now)?),
        Expr::Text(text) => text_query(text, fields, index)?,
        Expr::Clause { field, op, value, position } => clause(field, *op, value, *position, fields, now)?,
        Expr::Keys(hashes) => impact::keys_query(hashes.clone()),
    })
}

/// True when every document `expr` can match is an artifact (or a fallback referrers index,
/// which has the same fields): a positive clause on a field only they carry, in every branch.
/// Searches then skip intersecting with the million-entry `doc_type:artifact` postings.
pub(crate) fn matches_only_artifacts(expr: &Expr, fields: &Fields, index: &Index) -> bool {
    match expr {
        Expr::And(parts) => parts.iter().any(|part| matches_only_artifacts(part, fields, index)),
        Expr::Or(parts) => !parts.is_empty() && parts.iter().all(|part| matches_only_artifacts(part, fields, index)),
        Expr::Not(_) => false,
        // Text with no token matches everything (see `text_query`).
        Expr::Text(text) => index.tokenizer_for_field(fields.text).is_ok_and(|mut tokenizer| {
            let mut stream = tokenizer.token_stream(text);
            stream.advance()
        }),
        Expr::Keys(_) => true,
        // Registry and repository names are on every document type; `!=` matches all others.
        Expr::Clause { field, op, .. } => *op != Op::NotEqual && !matches!(field, Field::Registry | Field::Repository),
    }
}

fn text_query(text: &str, fields: &Fields, index: &Index) -> Result<Box<dyn Query>, QueryError> {
    let mut tokenizer = index.tokenizer_for_field(fields.text).map_err(|e| error(0, e.to_string()))?;
    let mut stream = tokenizer.token_stream(text);
    let mut terms = Vec::new();
    while let Some(token) = stream.next() {
        terms.push(Term::from_field_text(fields.text, &token.text));
    }
    Ok(match terms.len() {
        0 => Box::new(AllQuery),
        1 => term_query(terms.remove(0)),
        _ => Box::new(PhraseQuery::new(terms)),
    })
}

fn clause(
    field: &Field,
    op: Op,
    value: &str,
    position: usize,
    fields: &Fields,
    now: DateTime<Utc>,
) -> Result<Box<dyn Query>, QueryError> {
    let string_field = match field {
        Field::Kind => Some(fields.kind),
        Field::Repository => Some(fields.repository),
        Field::Tag => Some(fields.tags),
        Field::Registry => Some(fields.registry),
        Field::ArtifactType => Some(fields.artifact_type),
        Field::MediaType => Some(fields.media_type),
        Field::Platform => Some(fields.platforms),
        Field::Digest => Some(fields.digest),
        // What is attached to a digest, however it is attached (subject field, cosign tag,
        // buildx attestation manifest), as `has:` counts it.
        Field::Subject => Some(fields.refers_to),
        Field::Has => Some(fields.attached),
        Field::Signature => Some(fields.signature),
        Field::Trust => Some(fields.trust),
        Field::Signer => Some(fields.signer),
        _ => None,
    };
    if let Some(tantivy_field) = string_field {
        let value = if matches!(field, Field::Kind | Field::Has | Field::Signature) {
            value.to_ascii_lowercase()
        } else {
            value.to_owned()
        };
        let query: Box<dyn Query> = if value.contains('*') {
            Box::new(
                RegexQuery::from_pattern(&glob_to_regex(&value), tantivy_field)
                    .map_err(|e| error(position, e.to_string()))?,
            )
        } else {
            term_query(Term::from_field_text(tantivy_field, &value))
        };
        return match op {
            Op::Equal => Ok(query),
            Op::NotEqual => Ok(negate(query)),
            _ => Err(error(position, "this field is matched with ':' (or '=', '!='), not compared")),
        };
    }
    let range = match field {
        Field::Created | Field::EndOfLife => {
            let date_field = if *field == Field::Created {
                dates::DateField { column: fields.created, days: fields.created_day }
            } else {
                dates::DateField { column: fields.end_of_life, days: fields.end_of_life_day }
            };
            let (start, end) = date_span(value, now, position)?;
            let (low, high) = bounds(op, start, end, |date| date);
            let query = dates::range(date_field, None, low, high);
            return Ok(if op == Op::NotEqual { negate(query) } else { query });
        }
        Field::Size => {
            let bytes = values::parse_size(value)
                .ok_or_else(|| error(position, format!("'{value}' is not a size: use 1234, 10MB, 1.5GiB")))?;
            bounds(op, bytes, bytes.saturating_add(1), |bytes| Term::from_field_u64(fields.size, bytes))
        }
        Field::Vulnerabilities(severity) => {
            let count: u64 = value.parse().map_err(|_| {
                error(position, format!("'{value}' is not a count: use a whole number, like vulns.critical > 0"))
            })?;
            let tantivy_field = match severity {
                Severity::Critical => fields.vulns_critical,
                Severity::High => fields.vulns_high,
                Severity::Medium => fields.vulns_medium,
                Severity::Low => fields.vulns_low,
                Severity::Unknown => fields.vulns_unknown,
                Severity::Total => fields.vulns_total,
            };
            // Artifacts without a readable scan have no value and match no comparison, `!=` included.
            let term = |count| Term::from_field_u64(tantivy_field, count);
            if op == Op::NotEqual {
                let scanned: Box<dyn Query> = Box::new(RangeQuery::new(Bound::Included(term(0)), Bound::Unbounded));
                let equal: Box<dyn Query> =
                    Box::new(RangeQuery::new(Bound::Included(term(count)), Bound::Excluded(term(count + 1))));
                return Ok(Box::new(BooleanQuery::new(vec![(Occur::Must, scanned), (Occur::MustNot, equal)])));
            }
            bounds(op, count, count.saturating_add(1), term)
        }
        Field::Annotation(key) => {
            // ':' '=' '!=' match the exact value; '<' '<=' '>' '>=' compare date-valued annotations.
            if matches!(op, Op::Equal | Op::NotEqual) {
                let query =
                    term_query(Term::from_field_text(fields.annotations, &crate::keys::joined_key(&[key, value])));
                return Ok(if op == Op::NotEqual { negate(query) } else { query });
            }
            // One key of the JSON objects (see `schema::annotation_date_path`): its days'
            // postings, edge days checked against its column.
            let (start, end) = date_span(value, now, position)?;
            let (low, high) = bounds(op, start, end, |date| date);
            let key = crate::schema::annotation_date_path(key);
            let field = dates::DateField { column: fields.annotation_dates, days: fields.annotation_days };
            return Ok(dates::range(field, Some(&key), low, high));
        }
        Field::Package | Field::Version | Field::Advisory | Field::License | Field::Fixable => {
            return Err(error(position, "this clause reads attached SBOMs and scans, which this search cannot"));
        }
        _ => unreachable!("string fields returned above"),
    };
    let query: Box<dyn Query> = Box::new(RangeQuery::new(range.0, range.1));
    Ok(if op == Op::NotEqual { negate(query) } else { query })
}
