//! Server functions of the browsing pages, one per page need; each calls the service with the
//! request's principal. The JSON API serves the same data from the same service.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{
    ArtifactView, ContentQuery, ContentsView, RawDocument, ReferrerTreeView, RegistryCard, RepositoryList,
    RepositoryView, SearchHit, SearchPage, SignatureRow, TagList,
};

/// The replicas sharing this server's database, for those who may see them (`None` otherwise,
/// and when this server is the only one).
#[server]
pub async fn list_replicas() -> Result<Option<crate::model::ReplicasView>, AppError> {
    use crate::shim::*;
    match service()?.replicas(&principal()).await {
        Ok(view) => Ok(Some(view)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(error) => Err(error),
    }
}

/// Every connected registry with its health and index counts.
#[server]
pub async fn list_registries() -> Result<Vec<RegistryCard>, AppError> {
    use crate::shim::*;
    service()?.list_registries(&principal()).await
}

/// Whether `registry` is configured (a 404 otherwise): what the registry page asks before it
/// shows its filter, without querying the index.
#[server]
pub async fn check_registry(registry: String) -> Result<(), AppError> {
    use crate::shim::*;
    service()?.check_registry(&principal(), &registry)
}

/// The digest a tag points at, for docker-style `/r/<registry>/<repository>:<tag>` addresses.
#[server]
pub async fn resolve_tag(registry: String, repository: String, tag: String) -> Result<String, AppError> {
    use crate::shim::*;
    service()?.find_tag(&principal(), registry, repository, tag).await
}

/// The newest tagged artifacts of every registry, for the home page.
#[server]
pub async fn recent_pushes() -> Result<Vec<SearchHit>, AppError> {
    use crate::shim::*;
    service()?.list_recent(&principal()).await
}

/// Starts a crawl of `registry` now ("refresh now"); it runs in the background.
#[server]
pub async fn refresh_now(registry: String) -> Result<(), AppError> {
    use crate::shim::*;
    service()?.refresh_registry(&principal(), &registry)
}

/// One page of a registry's repositories, filtered by a substring and sorted.
#[server]
pub async fn list_repositories(
    registry: String,
    filter: String,
    sort: String,
    page: usize,
) -> Result<RepositoryList, AppError> {
    use crate::shim::*;
    service()?.list_repositories(&principal(), registry, filter, sort, page).await
}

/// A repository's counts for its page header.
#[server]
pub async fn get_repository(registry: String, repository: String) -> Result<RepositoryView, AppError> {
    use crate::shim::*;
    service()?.find_repository(&principal(), registry, repository).await
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
    use crate::shim::*;
    service()?.list_tags(&principal(), registry, repository, filter, sort, page).await
}

/// One artifact with its layers, children, referrers and run configuration (its raw JSON
/// comes apart, from [`get_raw_json`]).
#[server]
pub async fn get_artifact(registry: String, repository: String, digest: String) -> Result<ArtifactView, AppError> {
    use crate::shim::*;
    service()?.find_artifact(&principal(), registry, repository, digest).await
}

/// An artifact's manifest or config, pretty-printed and cut at 64 KiB for the page, which asks
/// for it when its `<details>` is opened (the JSON API serves the registry's bytes whole).
#[server]
pub async fn get_raw_json(
    registry: String,
    repository: String,
    digest: String,
    document: RawDocument,
) -> Result<String, AppError> {
    use crate::shim::*;
    service()?.find_document_pretty(&principal(), registry, repository, digest, document).await
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
    use crate::shim::*;
    let query = ocicat_service::ReferrerQuery {
        artifact_type: (!artifact_type.is_empty()).then_some(artifact_type),
        oldest_first: order == "oldest",
        limit: top,
    };
    service()?.list_referrers(&principal(), registry, repository, digest, query).await
}

/// Searches every registry with the query language.
#[server]
pub async fn search_artifacts(query: String, sort: String, page: usize) -> Result<SearchPage, AppError> {
    use crate::shim::*;
    service()?.search(&principal(), query, sort, page).await
}

/// The documents inside an attached SBOM, scan, signature or attestation, read through the
/// content proxy, with one page of packages or findings as `query` asks.
#[server]
pub async fn get_contents(
    registry: String,
    repository: String,
    digest: String,
    query: ContentQuery,
) -> Result<ContentsView, AppError> {
    use crate::shim::*;
    service()?.find_contents(&principal(), registry, repository, digest, query).await
}

/// The signatures and attestations of an artifact, each read for who signed it and when.
#[server]
pub async fn list_signatures(
    registry: String,
    repository: String,
    digest: String,
) -> Result<Vec<SignatureRow>, AppError> {
    use crate::shim::*;
    service()?.list_signatures(&principal(), registry, repository, digest).await
}
