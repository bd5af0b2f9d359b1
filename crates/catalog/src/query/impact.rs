//! Impact clauses (`pkg:`, `version`, `license:`, `cve:`, `fixable:`) are facts of attached
//! SBOMs and scans, not of the artifacts a search lists. Before a query is translated, each
//! conjunction's impact clauses run as one sub-search over the SBOM (or scan) documents the
//! reader may see, and are replaced by the key hashes of the artifacts those documents describe
//! ([`Expr::Keys`]: the subject, and the indexes listing it), so they combine with every other
//! clause. A version range walks the
//! distinct package terms of the name (`crate::facts`: a few dozen) and keeps those its
//! ecosystem orders inside the range (`ocicat-versions`); no document is read for it.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use ocicat_versions::{Scheme, compare};
use tantivy::query::doc_predicate_query::{DocPredicateQuery, FunctionPredicate};
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, RegexQuery, TermSetQuery};
use tantivy::{Searcher, Term};

use super::{Expr, Field, KeyHashes, Op, QueryError, error, glob_to_regex, glob_to_regex_with, term_query};
use crate::error::index_error;
use crate::schema::{FIELD_CHILD_HASHES, FIELD_KEY_HASH, FIELD_SUBJECT_HASH, Fields};

/// Most artifact keys one impact clause resolves to (beyond, the query is refused as too wide).
const MAX_KEYS: usize = 200_000;

fn is_package_fact(field: &Field) -> bool {
    matches!(field, Field::Package | Field::Version | Field::License)
}

fn is_scan_fact(field: &Field) -> bool {
    matches!(field, Field::Advisory | Field::Fixable)
}

/// `expr` with its impact clauses resolved to artifact keys, within `scope` (the reader's).
pub(crate) fn resolve(
    expr: Expr,
    searcher: &Searcher,
    fields: &Fields,
    scope: Option<&dyn Query>,
) -> Result<Expr, QueryError> {
    Ok(match expr {
        Expr::And(parts) => {
            let (mut packages, mut scans, mut rest) = (Vec::new(), Vec::new(), Vec::new());
            for part in parts {
                match &part {
                    Expr::Clause { field, .. } if is_package_fact(field) => packages.push(part),
                    Expr::Clause { field, .. } if is_scan_fact(field) => scans.push(part),
                    _ => rest.push(resolve(part, searcher, fields, scope)?),
                }
            }
            if !packages.is_empty() {
                rest.push(join(&packages, searcher, fields, scope)?);
            }
            if !scans.is_empty() {
                rest.push(join(&scans, searcher, fields, scope)?);
            }
            Expr::And(rest)
        }
        Expr::Or(parts) => {
            Expr::Or(parts.into_iter().map(|part| resolve(part, searcher, fields, scope)).collect::<Result<_, _>>()?)
        }
        Expr::Not(inner) => Expr::Not(Box::new(resolve(*inner, searcher, fields, scope)?)),
        Expr::Clause { ref field, .. } if is_package_fact(field) || is_scan_fact(field) => {
            join(std::slice::from_ref(&expr), searcher, fields, scope)?
        }
        other => other,
    })
}

/// The keys of the artifacts described by the SBOMs (or scans) matching every clause of `facts`.
fn join(facts: &[Expr], searcher: &Searcher, fields: &Fields, scope: Option<&dyn Query>) -> Result<Expr, QueryError> {
    let mut musts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let package = facts.iter().find_map(|fact| match fact {
        Expr::Clause { field: Field::Package, op: Op::Equal, value, position } => Some((value.as_str(), *position)),
        _ => None,
    });
    for fact in facts {
        let Expr::Clause { field, op, value, position } = fact else { continue };
        let position = *position;
        let query: Box<dyn Query> = match field {
            Field::Version => {
                let Some((name, _)) = package.filter(|(name, _)| !name.contains('*') && !name.starts_with("pkg:"))
                else {
                    return Err(error(
                        position,
                        "a version compares the package beside it: write pkg:<name> version < 1.2.3",
                    ));
                };
                version_query(searcher, fields, name, *op, value, position)?
            }
            _ if !matches!(op, Op::Equal) => {
                return Err(error(
                    position,
                    "this field is matched with ':' (pkg:openssl, cve:CVE-2024-3094), not compared",
                ));
            }
            Field::Package if value.to_ascii_lowercase().starts_with("pkg:") => {
                let purl = crate::impact::versionless_purl(value)
                    .ok_or_else(|| error(position, format!("'{value}' is not a package URL (pkg:type/name)")))?;
                let terms = crate::facts::purl_terms(searcher, fields, &purl)
                    .map_err(|problem| error(position, format!("cannot read packages: {problem}")))?;
                Box::new(TermSetQuery::new(terms))
            }
            Field::Package => fact_matching(fields.pkg, &value.to_lowercase(), position)?,
            Field::License => matching(fields.license, &value.to_lowercase(), position)?,
            Field::Advisory => fact_matching(fields.vuln, &value.to_ascii_uppercase(), position)?,
            Field::Fixable => match value.to_ascii_lowercase().as_str() {
                "true" | "yes" => term_query(Term::from_field_text(fields.fixable, "true")),
                "false" | "no" => term_query(Term::from_field_text(fields.fixable, "false")),
                _ => return Err(error(position, format!("'{value}' is not true or false"))),
            },
            _ => continue,
        };
        musts.push((Occur::Must, query));
    }
    if let Some(scope) = scope {
        musts.push((Occur::Must, scope.box_clone()));
    }
    let position = facts.iter().find_map(|fact| match fact {
        Expr::Clause { position, .. } => Some(*position),
        _ => None,
    });
    let hashes = described(searcher, &BooleanQuery::new(musts))
        .map_err(|problem| error(position.unwrap_or(0), format!("cannot search the attached documents: {problem}")))?;
    if hashes.len() > MAX_KEYS {
        return Err(error(position.unwrap_or(0), "this matches too many artifacts: narrow it"));
    }
    Ok(Expr::Keys(Arc::new(KeyHashes(hashes))))
}

/// A term query, or a regex one for a `*` glob.
fn matching(field: tantivy::schema::Field, value: &str, position: usize) -> Result<Box<dyn Query>, QueryError> {
    if value.contains('*') {
        let regex =
            RegexQuery::from_pattern(&glob_to_regex(value), field).map_err(|e| error(position, e.to_string()))?;
        return Ok(Box::new(regex));
    }
    Ok(term_query(Term::from_field_text(field, value)))
}

/// The fact terms of `field` whose first part (a package name, an advisory id) is `value`, a
/// `*` glob within that part.
fn fact_matching(field: tantivy::schema::Field, value: &str, position: usize) -> Result<Box<dyn Query>, QueryError> {
    let pattern = format!("{}\\x00(?s:.*)", glob_to_regex_with(value, "[^\\x00]*"));
    let regex = RegexQuery::from_pattern(&pattern, field).map_err(|e| error(position, e.to_string()))?;
    Ok(Box::new(regex))
}

/// The package terms of `name` whose version stands in `op` to `wanted`, in its ecosystem's
/// order, as one query.
fn version_query(
    searcher: &Searcher,
    fields: &Fields,
    name: &str,
    op: Op,
    wanted: &str,
    position: usize,
) -> Result<Box<dyn Query>, QueryError> {
    let prefix = format!("{}\u{0}", name.to_lowercase());
    let mut keys: BTreeSet<Vec<u8>> = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let index = segment
            .inverted_index(fields.pkg)
            .map_err(|problem| error(position, format!("cannot read package versions: {problem}")))?;
        let mut stream = index
            .terms()
            .range()
            .ge(prefix.as_bytes())
            .into_stream()
            .map_err(|problem| error(position, format!("cannot read package versions: {problem}")))?;
        while stream.advance() {
            let key = stream.key();
            if !key.starts_with(prefix.as_bytes()) {
                break;
            }
            let Some(package) = crate::facts::parse_package_term(key) else { continue };
            let Some(version) = &package.version else { continue };
            let scheme = Scheme::for_purl_type(package.ecosystem.as_deref().unwrap_or_default());
            if op.holds(compare(scheme, version, wanted).ordering) {
                keys.insert(key.to_vec());
            }
        }
    }
    let terms = keys.into_iter().map(|key| Term::from_field_text(fields.pkg, &String::from_utf8_lossy(&key)));
    Ok(Box::new(TermSetQuery::new(terms)))
}

/// The subject hashes of the facts documents `query` matches (deleted ones skipped:
/// `for_each_no_score` visits them too).
fn described(searcher: &Searcher, query: &dyn Query) -> crate::error::Result<HashSet<u64>> {
    let weight = query
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(index_error("cannot run impact search"))?;
    let mut hashes = HashSet::new();
    for segment in searcher.segment_readers() {
        let Some(subjects) = segment.fast_fields().u64(FIELD_SUBJECT_HASH).ok() else { continue };
        weight
            .for_each_no_score(segment, &mut |docs| {
                for &doc in docs.iter().filter(|doc| !segment.is_deleted(**doc)) {
                    hashes.extend(subjects.values_for_doc(doc));
                }
            })
            .map_err(index_error("cannot run impact search"))?;
    }
    Ok(hashes)
}

/// The artifacts whose key hash, or one of whose children's key hashes, is in `hashes`: a scan
/// of two fast columns per segment, cheaper than a term set of long keys.
pub(super) fn keys_query(hashes: Arc<KeyHashes>) -> Box<dyn Query> {
    let predicate = FunctionPredicate::from(move |segment: &tantivy::SegmentReader| {
        let fast = segment.fast_fields();
        let (own, children) = (fast.u64(FIELD_KEY_HASH)?, fast.u64(FIELD_CHILD_HASHES)?);
        let hashes = hashes.clone();
        Ok(move |doc: tantivy::DocId| {
            own.values_for_doc(doc).any(|hash| hashes.0.contains(&hash))
                || children.values_for_doc(doc).any(|hash| hashes.0.contains(&hash))
        })
    });
    Box::new(DocPredicateQuery::from(predicate))
}
