//! Server functions, one per page: validate the input, read the catalog off the runtime, map
//! to wire models. The JSON API (`/api/v1`) serves the same data from the same mapping.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{
    ArtifactView, RawDocument, ReferrerTreeView, RegistryCard, RepositoryList, RepositoryView, SearchPage, TagList,
};

/// Rows per page of the repository list.
pub const REPOSITORIES_PER_PAGE: usize = 50;

/// Every connected registry with its health and index counts.
#[server]
pub async fn list_registries() -> Result<Vec<RegistryCard>, AppError> {
    use crate::ssr::*;
    find_registries(&state()?, &principal()).await
}

/// Whether `registry` is configured (a 404 otherwise): what the registry page asks before it
/// shows its filter, without querying the index.
#[server]
pub async fn check_registry(registry: String) -> Result<(), AppError> {
    crate::ssr::registry_visible(&crate::ssr::state()?, &crate::ssr::principal(), &registry).map(|_| ())
}

/// The digest a tag points at, for docker-style `/r/<registry>/<repository>:<tag>` addresses.
#[server]
pub async fn resolve_tag(registry: String, repository: String, tag: String) -> Result<String, AppError> {
    crate::ssr::find_tag(&crate::ssr::state()?, &crate::ssr::principal(), registry, repository, tag).await
}

/// The newest tagged artifacts of every registry, for the home page.
#[server]
pub async fn recent_pushes() -> Result<Vec<crate::model::SearchHit>, AppError> {
    crate::ssr::find_recent(&crate::ssr::state()?, &crate::ssr::principal()).await
}

/// Starts a crawl of `registry` now ("refresh now"); it runs in the background. Needs the
/// admin role on the whole registry.
#[server]
pub async fn refresh_now(registry: String) -> Result<(), AppError> {
    let who = crate::ssr::principal();
    crate::ssr::registry_visible(&crate::ssr::state()?, &who, &registry)?;
    if !who.can_whole_registry(ocicat_access::Right::Administer, &registry) {
        return Err(AppError::Forbidden(format!("starting a crawl of {registry:?} needs the admin role")));
    }
    let crawler = use_context::<std::sync::Arc<ocicat_crawler::Crawler>>().ok_or_else(|| {
        tracing::error!("crawler missing from the leptos context");
        AppError::Internal
    })?;
    if crawler.trigger(&registry) { Ok(()) } else { Err(AppError::NotFound(format!("registry {registry:?}"))) }
}

/// One page of a registry's repositories, filtered by a substring and sorted.
#[server]
pub async fn list_repositories(
    registry: String,
    filter: String,
    sort: String,
    page: usize,
) -> Result<RepositoryList, AppError> {
    use crate::ssr::*;
    find_repositories(&state()?, &principal(), registry, filter, sort, page).await
}

/// A repository's counts for its page header.
#[server]
pub async fn get_repository(registry: String, repository: String) -> Result<RepositoryView, AppError> {
    use crate::ssr::*;
    find_repository(&state()?, &principal(), registry, repository).await
}

/// One page of a repository's version tags with their badges, filtered and sorted.
#[server]
pub async fn list_tags(
    registry: String,
    repository: String,
    filter: String,
    sort: String,
    page: usize,
) -> Result<TagList, AppError> {
    use crate::ssr::*;
    find_tags(&state()?, &principal(), registry, repository, filter, sort, page).await
}

/// One artifact with its layers, children, referrers and run configuration (its raw JSON
/// comes apart, from [`get_raw_json`]).
#[server]
pub async fn get_artifact(registry: String, repository: String, digest: String) -> Result<ArtifactView, AppError> {
    use crate::ssr::*;
    find_artifact(&state()?, &principal(), registry, repository, digest).await
}

/// An artifact's manifest or config, pretty-printed and cut at 64 KiB for the page, which asks
/// for it when its `<details>` is opened (the JSON API serves the stored bytes whole).
#[server]
pub async fn get_raw_json(
    registry: String,
    repository: String,
    digest: String,
    document: RawDocument,
) -> Result<String, AppError> {
    use crate::ssr::*;
    let stored = find_document(&state()?, &principal(), registry, repository, digest, document).await?;
    // A manifest may be megabytes: parsing and printing it is not for the async runtime.
    tokio::task::spawn_blocking(move || pretty(&stored)).await.map_err(|error| {
        tracing::error!(%error, "pretty-printing task failed");
        AppError::Internal
    })
}

/// The referrers tree of an artifact: `artifact_type` (empty for all) filters the top level,
/// `order` is `newest` or `oldest`, `top` keeps the first N (0 for all).
#[server]
pub async fn list_referrers(
    registry: String,
    repository: String,
    digest: String,
    artifact_type: String,
    order: String,
    top: usize,
) -> Result<ReferrerTreeView, AppError> {
    use crate::ssr::*;
    let query = ocicat_catalog::ReferrerQuery {
        artifact_type: (!artifact_type.is_empty()).then_some(artifact_type),
        oldest_first: order == "oldest",
        limit: top,
    };
    find_referrers(&state()?, &principal(), registry, repository, digest, query).await
}

/// Hits per search page.
pub const SEARCH_PER_PAGE: usize = 25;

/// Searches every registry with the query language.
#[server]
pub async fn search_artifacts(query: String, sort: String, page: usize) -> Result<SearchPage, AppError> {
    use crate::ssr::*;
    find_search(&state()?, &principal(), query, sort, page).await
}

/// The documents inside an attached SBOM, scan, signature or attestation, read through the
/// content proxy, with one page of packages or findings as `query` asks.
#[server]
pub async fn get_contents(
    registry: String,
    repository: String,
    digest: String,
    query: crate::model::ContentQuery,
) -> Result<crate::model::ContentsView, AppError> {
    use crate::ssr::*;
    find_contents(&state()?, &principal(), registry, repository, digest, query).await
}

/// The signatures and attestations of an artifact, each read for who signed it and when.
#[server]
pub async fn list_signatures(
    registry: String,
    repository: String,
    digest: String,
) -> Result<Vec<crate::model::SignatureRow>, AppError> {
    use crate::ssr::*;
    find_signatures(&state()?, &principal(), registry, repository, digest).await
}
