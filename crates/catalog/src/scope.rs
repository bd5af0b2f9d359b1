//! The access-control hook: a [`Scope`] restricts every search (results, totals and facets) to
//! registry/repository patterns; lookups ask [`Scope::allows`]. The access issue fills scopes in
//! from the signed-in user's roles (`ocicat-access`); an open server uses [`Scope::all`].

use std::collections::BTreeSet;

use tantivy::query::{BooleanQuery, EmptyQuery, Occur, Query, RegexQuery, TermQuery, TermSetQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{Searcher, Term};

use crate::error::{Result, index_error, io_error};
use crate::schema::Fields;

/// One grant: a registry name and a repository pattern (`*` one path segment, `**` any number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePattern {
    /// The registry's configured name (exact).
    pub registry: String,
    /// `prod/*`, `team-a/**`, `**` or an exact repository.
    pub repository: String,
}

/// Which registries and repositories a query may see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    /// `None`: everything; `Some(empty)`: nothing.
    patterns: Option<Vec<ScopePattern>>,
}

impl Scope {
    /// Everything (no access control).
    pub fn all() -> Scope {
        Scope { patterns: None }
    }

    /// Only what `patterns` grant.
    pub fn only(patterns: Vec<ScopePattern>) -> Scope {
        Scope { patterns: Some(patterns) }
    }

    /// True when `repository` of `registry` is visible.
    pub fn allows(&self, registry: &str, repository: &str) -> bool {
        let Some(patterns) = &self.patterns else { return true };
        patterns
            .iter()
            .any(|grant| grant.registry == registry && crate::pattern::matches(&grant.repository, repository))
    }

    /// The restriction as a query over what `searcher` sees; `None` when it hides nothing.
    ///
    /// Whole-registry grants (`**`) are one term set, and none at all when every registry in
    /// the index is granted whole (an open server, or a user granted each registry): as a
    /// union of one term query per registry, every match of a search seeked into postings
    /// covering the whole index, 70 % of a million-artifact search's instructions.
    pub(crate) fn query(&self, fields: &Fields, searcher: &Searcher) -> Result<Option<Box<dyn Query>>> {
        let Some(patterns) = &self.patterns else { return Ok(None) };
        if patterns.is_empty() {
            return Ok(Some(Box::new(EmptyQuery)));
        }
        let whole: BTreeSet<&str> = patterns
            .iter()
            .filter(|pattern| pattern.repository == "**")
            .map(|pattern| pattern.registry.as_str())
            .collect();
        let partial: Vec<&ScopePattern> = patterns.iter().filter(|pattern| pattern.repository != "**").collect();
        if partial.is_empty() && indexed_registries(searcher, fields)?.iter().all(|name| whole.contains(name.as_str()))
        {
            return Ok(None);
        }
        let mut grants: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if !whole.is_empty() {
            let terms = whole.iter().map(|registry| Term::from_field_text(fields.registry, registry));
            grants.push((Occur::Should, Box::new(TermSetQuery::new(terms))));
        }
        for pattern in partial {
            let registry: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(fields.registry, &pattern.registry),
                IndexRecordOption::Basic,
            ));
            let repository: Box<dyn Query> = Box::new(
                RegexQuery::from_pattern(&crate::pattern::regex(&pattern.repository), fields.repository)
                    .map_err(index_error("cannot build scope"))?,
            );
            grants.push((
                Occur::Should,
                Box::new(BooleanQuery::new(vec![(Occur::Must, registry), (Occur::Must, repository)])),
            ));
        }
        Ok(Some(Box::new(BooleanQuery::new(grants))))
    }
}

/// The registry names in `searcher`'s segments (a handful of terms each; names of documents
/// deleted but not yet merged away count too, which only keeps a restriction in place).
fn indexed_registries(searcher: &Searcher, fields: &Fields) -> Result<BTreeSet<String>> {
    let mut names = BTreeSet::new();
    for segment in searcher.segment_readers() {
        let index = segment.inverted_index(fields.registry).map_err(index_error("cannot read registry names"))?;
        let mut stream = index.terms().stream().map_err(io_error("cannot stream registry names"))?;
        while stream.advance() {
            names.insert(String::from_utf8_lossy(stream.key()).into_owned());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(patterns: &[(&str, &str)]) -> Scope {
        Scope::only(
            patterns
                .iter()
                .map(|(registry, repository)| ScopePattern {
                    registry: (*registry).into(),
                    repository: (*repository).into(),
                })
                .collect(),
        )
    }

    #[test]
    fn one_star_is_one_segment_and_two_stars_any_depth() {
        let granted = scope(&[("a", "prod/*"), ("a", "team-a/**"), ("b", "exact/name")]);
        assert!(granted.allows("a", "prod/web"));
        assert!(!granted.allows("a", "prod/web/api"));
        assert!(granted.allows("a", "team-a/x/y/z"));
        assert!(!granted.allows("a", "team-ab/x"));
        assert!(granted.allows("b", "exact/name"));
        assert!(!granted.allows("b", "prod/web"), "patterns are per registry");
        assert!(!granted.allows("b", "exact/name2"));
        assert!(Scope::all().allows("any", "thing"));
        assert!(!Scope::only(vec![]).allows("a", "prod/web"));
    }
}
