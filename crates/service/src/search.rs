//! Searching with the query language over what a principal may read (results, totals and
//! facets alike), and the home page's newest tagged builds.

use ocicat_access::Principal;
use ocicat_catalog::{ArtifactDoc, SearchError, SearchSort};

use crate::authz;
use crate::error::AppError;
use crate::model::{FacetGroup, SearchHit, SearchPage};
use crate::state::Service;
use crate::views::{artifact_badges, is_version_tag};

/// Hits per search page.
pub const SEARCH_PER_PAGE: usize = 25;
/// Most recent builds shown on the home page.
pub const RECENT_LIMIT: usize = 8;
/// Deepest search page served.
const MAX_SEARCH_PAGE: usize = 4000;

/// The one mapping of a failed search: a query error points at its column, an index failure is
/// logged and internal.
pub(crate) fn search_error(error: SearchError) -> AppError {
    match error {
        SearchError::Query(error) => AppError::InvalidQuery { message: error.message, position: error.position },
        SearchError::Catalog(error) => {
            tracing::error!(%error, "search failed");
            AppError::Internal
        }
    }
}

impl Service {
    /// Every match of `query` that `who` may read, in name order, up to `cap` (and the total,
    /// which says whether the cap cut them): what bulk attachments and impact pages weigh whole.
    pub(crate) async fn all_hits(
        &self,
        who: &Principal,
        query: &str,
        cap: usize,
    ) -> Result<(u64, Vec<ArtifactDoc>), AppError> {
        if let Err(error) = ocicat_catalog::query::parse_query(query) {
            return Err(AppError::InvalidQuery { message: error.message, position: error.position });
        }
        let (catalog, text) = (self.catalog.clone(), query.to_owned());
        let scope = authz::read_scope(who, &self.registries());
        let turn = self.gates.search().await?;
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let now = chrono::Utc::now();
            let mut all: Vec<ArtifactDoc> = Vec::new();
            // The catalog's largest page at a time, in a stable order.
            loop {
                let (total, page) = catalog.search_hits(&scope, &text, SearchSort::Name, all.len(), 200, now)?;
                let last = page.len() < 200;
                all.extend(page);
                if last || all.len() >= cap || all.len() as u64 >= total {
                    all.truncate(cap);
                    return Ok((total, all));
                }
            }
        })
        .await
        .map_err(|_| AppError::Internal)?
        .map_err(search_error)
    }

    /// One page of search results with facet counts over every match.
    pub async fn search(
        &self,
        who: &Principal,
        query: String,
        sort: String,
        page: usize,
    ) -> Result<SearchPage, AppError> {
        if page > MAX_SEARCH_PAGE {
            return Err(AppError::BadRequest("page too large".into()));
        }
        let per_page = SEARCH_PER_PAGE;
        let (order, sort) = match sort.as_str() {
            "oldest" => (SearchSort::Oldest, "oldest"),
            "name" => (SearchSort::Name, "name"),
            "relevance" => (SearchSort::Relevance, "relevance"),
            "size" => (SearchSort::Size, "size"),
            _ => (SearchSort::Newest, "newest"),
        };
        let (catalog, text) = (self.catalog.clone(), query.clone());
        let scope = authz::read_scope(who, &self.registries());
        // A query that cannot run is refused before it waits for a turn among the real ones.
        if let Err(error) = ocicat_catalog::query::parse_query(&query) {
            return Err(AppError::InvalidQuery { message: error.message, position: error.position });
        }
        let turn = self.gates.search().await?;
        let found = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            catalog.search_scoped(&scope, &text, order, page * per_page, per_page, chrono::Utc::now())
        })
        .await
        .map_err(|_| AppError::Internal)?;
        let results = found.map_err(search_error)?;
        let facets = results.facets;
        let group = |field: &str, label: &str, values: Vec<(String, u64)>| FacetGroup {
            field: field.to_owned(),
            label: label.to_owned(),
            values,
        };
        let facets = vec![
            group("kind", "Kind", facets.kind),
            group("type", "Artifact type", facets.artifact_type),
            group("registry", "Registry", facets.registry),
            group("repo", "Repository", facets.repository),
            group("platform", "Platform", facets.platform),
            group("signature", "Signature", facets.signature),
        ];
        let hits: Vec<SearchHit> = results.items.into_iter().map(search_hit).collect();
        let go_to = match (ocicat_catalog::query::pasted_reference(&query), hits.as_slice()) {
            (Some(_), [only]) if results.total == 1 => {
                Some(format!("/r/{}/{}/@{}", only.registry, only.repository, only.digest))
            }
            _ => None,
        };
        Ok(SearchPage { go_to, query, total: results.total, hits, facets, sort: sort.to_owned(), page, per_page })
    }

    /// The newest artifacts with a version tag in every registry `who` may read, newest build
    /// first: what was pushed lately.
    pub async fn list_recent(&self, who: &Principal) -> Result<Vec<SearchHit>, AppError> {
        let catalog = self.catalog.clone();
        let scope = authz::read_scope(who, &self.registries());
        let turn = self.gates.search().await?;
        let found = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            // Fallback and cosign tags make a referrer "tagged" too; they are skipped below.
            catalog.search_hits(&scope, "tag:*", SearchSort::Newest, 0, RECENT_LIMIT * 4, chrono::Utc::now())
        })
        .await
        .map_err(|_| AppError::Internal)?;
        match found {
            Ok((_, items)) => {
                Ok(items.into_iter().map(search_hit).filter(|hit| !hit.tags.is_empty()).take(RECENT_LIMIT).collect())
            }
            Err(error) => {
                tracing::error!(%error, "recent pushes query failed");
                Err(AppError::Internal)
            }
        }
    }
}

fn search_hit(artifact: ArtifactDoc) -> SearchHit {
    let title = ["org.opencontainers.image.title", "org.opencontainers.image.description"]
        .iter()
        .find_map(|key| artifact.annotations.get(*key).or_else(|| artifact.labels.get(*key)).cloned());
    SearchHit {
        badges: artifact_badges(&artifact),
        subject: artifact.subject.clone(),
        tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
        artifact_type: artifact.artifact_type.clone().unwrap_or_else(|| artifact.media_type.clone()),
        created: artifact.created.map(|date| date.to_rfc3339()),
        end_of_life: artifact.end_of_life.map(|date| date.to_rfc3339()),
        registry: artifact.registry,
        repository: artifact.repository,
        digest: artifact.digest,
        kind: artifact.kind.as_str().to_owned(),
        platforms: artifact.platforms,
        size: artifact.size,
        title,
    }
}
