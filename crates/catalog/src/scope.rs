//! The access-control hook: a [`Scope`] restricts every search (results, totals and facets) to
//! registry/repository patterns; lookups ask [`Scope::allows`]. The access issue fills scopes in
//! from the signed-in user's roles (`ocicat-access`); an open server uses [`Scope::all`].

use tantivy::Term;
use tantivy::query::{BooleanQuery, EmptyQuery, Occur, Query, RegexQuery, TermQuery};
use tantivy::schema::IndexRecordOption;

use crate::error::{Result, index_error};
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

    /// The restriction as a query, `None` when everything is visible.
    pub(crate) fn query(&self, fields: &Fields) -> Result<Option<Box<dyn Query>>> {
        let Some(patterns) = &self.patterns else { return Ok(None) };
        if patterns.is_empty() {
            return Ok(Some(Box::new(EmptyQuery)));
        }
        let mut grants: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for pattern in patterns {
            let registry: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(fields.registry, &pattern.registry),
                IndexRecordOption::Basic,
            ));
            if pattern.repository == "**" {
                // The whole registry: no need to walk the repository terms.
                grants.push((Occur::Should, registry));
                continue;
            }
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
