//! The lookups behind every page and API call: validate the input, query the catalog off the
//! runtime, map to the wire models.

use ocicat_access::Principal;
use ocicat_catalog::ArtifactDoc;

use super::access::{card_for, read_scope, registry_visible, repository_visible, visible_registries};
use super::views::is_version_tag;
use super::{UiState, blocking, host_of};
use crate::error::AppError;
use crate::model::{ArtifactView, RawDocument, RepositoryView};

fn sort_from(text: &str) -> ocicat_catalog::RepositorySort {
    match text {
        "pushed" => ocicat_catalog::RepositorySort::LastPush,
        "tags" => ocicat_catalog::RepositorySort::TagCount,
        _ => ocicat_catalog::RepositorySort::Name,
    }
}

/// Every registry `who` may read something in, with its health and what `who` sees of it.
pub async fn find_registries(state: &UiState, who: &Principal) -> Result<Vec<crate::model::RegistryCard>, AppError> {
    let statuses = visible_registries(state, who);
    let scope = read_scope(state, who);
    let (catalog, who) = (state.catalog.clone(), who.clone());
    blocking(move || {
        statuses
            .iter()
            .map(|status| Ok(card_for(&who, status, catalog.registry_counts_in(&scope, &status.name)?)))
            .collect()
    })
    .await
}

/// One page of repositories (shared by the server function and the JSON API).
pub async fn find_repositories(
    state: &UiState,
    who: &Principal,
    registry: String,
    filter: String,
    sort: String,
    page: usize,
) -> Result<crate::model::RepositoryList, AppError> {
    let status = registry_visible(state, who, &registry)?;
    if filter.len() > 200 || page > 100_000 {
        return Err(AppError::BadRequest("filter too long or page too large".into()));
    }
    let per_page = crate::api::REPOSITORIES_PER_PAGE;
    let catalog = state.catalog.clone();
    let name = registry.clone();
    let scope = read_scope(state, who);
    let (counts, found) = blocking(move || {
        let counts = catalog.registry_counts_in(&scope, &name)?;
        let found = catalog.repositories_in(&scope, &name, &filter, sort_from(&sort), page * per_page, per_page)?;
        Ok((counts, found))
    })
    .await?;
    let rows = found
        .items
        .into_iter()
        .map(|repository| crate::model::RepositoryRow {
            name: repository.repository,
            tag_count: repository.tag_count,
            artifact_count: repository.artifact_count,
            size: repository.size,
            last_push: repository.last_push.map(|date| date.to_rfc3339()),
        })
        .collect();
    Ok(crate::model::RepositoryList {
        registry: card_for(who, &status, counts),
        total: found.total,
        rows,
        page,
        per_page,
    })
}

/// A repository's header: its counts and when it was crawled (shared by the server function and
/// the JSON API); its tags come a page at a time from [`find_tags`].
pub async fn find_repository(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
) -> Result<RepositoryView, AppError> {
    let status = repository_visible(state, who, &registry, &repository)?;
    let catalog = state.catalog.clone();
    let (name, repo) = (registry.clone(), repository.clone());
    let found = blocking(move || catalog.repository(&name, &repo))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("repository {repository:?}")))?;
    Ok(RepositoryView {
        registry,
        host: host_of(&status.url),
        repository,
        tag_count: found.tag_count,
        artifact_count: found.artifact_count,
        size: found.size,
        last_push: found.last_push.map(|date| date.to_rfc3339()),
        crawled_at: found.crawled_at.map(|date| date.to_rfc3339()),
    })
}

/// Tags listed per page.
pub const TAGS_PER_PAGE: usize = 50;

/// One page of a repository's version tags, sorted (`newest`, `name`, `semver`) and filtered
/// in the catalog: the cost is one page, whatever the repository holds.
pub async fn find_tags(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
    filter: String,
    sort: String,
    page: usize,
) -> Result<crate::model::TagList, AppError> {
    repository_visible(state, who, &registry, &repository)?;
    if filter.len() > 200 || page > 100_000 {
        return Err(AppError::BadRequest("filter too long or page too large".into()));
    }
    let (order, sort) = match sort.as_str() {
        "name" => (ocicat_catalog::TagSort::Name, "name"),
        "semver" => (ocicat_catalog::TagSort::Semver, "semver"),
        _ => (ocicat_catalog::TagSort::Newest, "newest"),
    };
    let catalog = state.catalog.clone();
    let (name, repo) = (registry.clone(), repository.clone());
    let found = blocking(move || {
        if catalog.repository(&name, &repo)?.is_none() {
            return Ok(None);
        }
        catalog.tags(&name, &repo, &filter, order, page * TAGS_PER_PAGE, TAGS_PER_PAGE).map(Some)
    })
    .await?
    .ok_or_else(|| AppError::NotFound(format!("repository {repository:?}")))?;
    Ok(crate::model::TagList {
        total: found.total,
        rows: found.items.into_iter().map(super::views::tag_row).collect(),
        sort: sort.to_owned(),
        page,
        per_page: TAGS_PER_PAGE,
    })
}

/// The referrers tree of an artifact (like `oras discover`): `artifact_type` filters the top
/// level, `oldest` orders by created ascending, `top` keeps the first N.
pub async fn find_referrers(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
    digest: String,
    query: ocicat_catalog::ReferrerQuery,
) -> Result<crate::model::ReferrerTreeView, AppError> {
    repository_visible(state, who, &registry, &repository)?;
    check_digest(&digest)?;
    let catalog = state.catalog.clone();
    let (name, repo, wanted) = (registry.clone(), repository.clone(), digest.clone());
    let tree = blocking(move || {
        if catalog.artifact(&name, &repo, &wanted)?.is_none() {
            return Ok(None);
        }
        catalog.referrer_tree(&name, &repo, &wanted, &query).map(Some)
    })
    .await?
    .ok_or_else(|| AppError::NotFound(format!("artifact {digest} in {repository}")))?;
    Ok(crate::model::ReferrerTreeView {
        total: tree.total,
        truncated: tree.truncated,
        nodes: tree.nodes.into_iter().map(super::views::referrer_node).collect(),
    })
}

/// An artifact page (shared by the server function and the JSON API): the artifact and what
/// surrounds it, each from a catalog lookup (never the whole repository).
pub async fn find_artifact(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
    digest: String,
) -> Result<ArtifactView, AppError> {
    let status = repository_visible(state, who, &registry, &repository)?;
    check_digest(&digest)?;
    let catalog = state.catalog.clone();
    let (name, repo, wanted) = (registry.clone(), repository.clone(), digest.clone());
    let found = blocking(move || {
        let Some(artifact) = catalog.artifact(&name, &repo, &wanted)? else { return Ok(None) };
        let subject = match &artifact.refers_to {
            Some(target) => catalog.artifact(&name, &repo, target)?.as_ref().map(super::views::related),
            None => None,
        };
        let mut known_children = std::collections::HashSet::new();
        // An index lists a bounded number of children (the crawler caps them).
        for child in &artifact.children {
            if catalog.artifact(&name, &repo, &child.digest)?.is_some() {
                known_children.insert(child.digest.clone());
            }
        }
        let around = super::views::Surroundings {
            subject,
            parents: catalog.parents(&name, &repo, &wanted)?,
            referrers: catalog.referrers(&name, &repo, &wanted)?,
            known_children,
        };
        Ok(Some((artifact, around)))
    })
    .await?;
    let (artifact, around) = found.ok_or_else(|| AppError::NotFound(format!("artifact {digest} in {repository}")))?;
    Ok(super::artifact_view(&host_of(&status.url), &artifact, around))
}

/// The stored manifest or config of an artifact, as the registry served it (shared by the
/// raw-JSON API and the artifact page, which loads it when its `<details>` is opened).
pub async fn find_document(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
    digest: String,
    document: RawDocument,
) -> Result<String, AppError> {
    let artifact = find_indexed(state, who, &registry, &repository, &digest).await?;
    match document {
        RawDocument::Manifest => Ok(artifact.manifest_json),
        RawDocument::Config => {
            artifact.config_json.ok_or_else(|| AppError::NotFound(format!("config of {digest} in {repository}")))
        }
    }
}

/// The indexed artifact `digest` of `registry`/`repository`, if `who` may read it (else 404, as
/// if it did not exist): what the raw documents, the content proxy and the viewers start from.
pub async fn find_indexed(
    state: &UiState,
    who: &Principal,
    registry: &str,
    repository: &str,
    digest: &str,
) -> Result<ocicat_catalog::ArtifactDoc, AppError> {
    repository_visible(state, who, registry, repository)?;
    check_digest(digest)?;
    let catalog = state.catalog.clone();
    let (name, repo, wanted) = (registry.to_owned(), repository.to_owned(), digest.to_owned());
    blocking(move || catalog.artifact(&name, &repo, &wanted))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("artifact {digest} in {repository}")))
}

/// A 400 unless `text` is a sha256 or sha512 digest in lowercase hex.
fn check_digest(text: &str) -> Result<(), AppError> {
    if is_digest(text) {
        return Ok(());
    }
    Err(AppError::BadRequest(format!("{:?} is not a digest", text.chars().take(80).collect::<String>())))
}

fn is_digest(text: &str) -> bool {
    let Some((algorithm, hex)) = text.split_once(':') else { return false };
    let length = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == length && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// One page of search results (shared by the server function, the JSON API and the CLI).
pub async fn find_search(
    state: &UiState,
    who: &Principal,
    query: String,
    sort: String,
    page: usize,
) -> Result<crate::model::SearchPage, AppError> {
    if page > 4000 {
        return Err(AppError::BadRequest("page too large".into()));
    }
    let per_page = crate::api::SEARCH_PER_PAGE;
    let (order, sort) = match sort.as_str() {
        "oldest" => (ocicat_catalog::SearchSort::Oldest, "oldest"),
        "name" => (ocicat_catalog::SearchSort::Name, "name"),
        "relevance" => (ocicat_catalog::SearchSort::Relevance, "relevance"),
        "size" => (ocicat_catalog::SearchSort::Size, "size"),
        _ => (ocicat_catalog::SearchSort::Newest, "newest"),
    };
    let catalog = state.catalog.clone();
    let text = query.clone();
    let scope = read_scope(state, who);
    let found = tokio::task::spawn_blocking(move || {
        catalog.search_scoped(&scope, &text, order, page * per_page, per_page, chrono::Utc::now())
    })
    .await
    .map_err(|_| AppError::Internal)?;
    let results = match found {
        Ok(results) => results,
        Err(ocicat_catalog::SearchError::Query(error)) => {
            return Err(AppError::InvalidQuery { message: error.message, position: error.position });
        }
        Err(ocicat_catalog::SearchError::Catalog(error)) => {
            tracing::error!(%error, "search failed");
            return Err(AppError::Internal);
        }
    };
    let hits = results.items.into_iter().map(search_hit).collect();
    let facets = results.facets;
    let group = |field: &str, label: &str, values: Vec<(String, u64)>| crate::model::FacetGroup {
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
    ];
    Ok(crate::model::SearchPage { query, total: results.total, hits, facets, sort: sort.to_owned(), page, per_page })
}

/// The digest `tag` points at in `registry`/`repository` (docker-style `repo:tag` addresses).
pub async fn find_tag(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
    tag: String,
) -> Result<String, AppError> {
    repository_visible(state, who, &registry, &repository)?;
    let valid = (1..=128).contains(&tag.len())
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && !tag.starts_with(['.', '-']);
    if !valid {
        return Err(AppError::BadRequest(format!("{:?} is not a tag", tag.chars().take(80).collect::<String>())));
    }
    let catalog = state.catalog.clone();
    let (name, repo, wanted) = (registry.clone(), repository.clone(), tag.clone());
    blocking(move || catalog.tag_digest(&name, &repo, &wanted))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("tag {tag:?} in {repository}")))
}

/// Most recent builds shown on the home page.
pub const RECENT_LIMIT: usize = 8;

/// The newest artifacts with a version tag in every registry (by creation date, newest first):
/// what was pushed lately, for the home page and `GET /api/v1/recent`.
pub async fn find_recent(state: &UiState, who: &Principal) -> Result<Vec<crate::model::SearchHit>, AppError> {
    let catalog = state.catalog.clone();
    let scope = read_scope(state, who);
    let found = tokio::task::spawn_blocking(move || {
        catalog.search_hits(
            &scope,
            "tag:*",
            ocicat_catalog::SearchSort::Newest,
            0,
            // Fallback and cosign tags make a referrer "tagged" too; they are skipped below.
            RECENT_LIMIT * 4,
            chrono::Utc::now(),
        )
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

fn search_hit(artifact: ArtifactDoc) -> crate::model::SearchHit {
    let title = ["org.opencontainers.image.title", "org.opencontainers.image.description"]
        .iter()
        .find_map(|key| artifact.annotations.get(*key).or_else(|| artifact.labels.get(*key)).cloned());
    crate::model::SearchHit {
        badges: super::artifact_badges(&artifact),
        subject: artifact.subject.clone(),
        tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
        artifact_type: artifact.artifact_type.clone().unwrap_or_else(|| artifact.media_type.clone()),
        created: artifact.created.map(|date| date.to_rfc3339()),
        end_of_life: artifact.end_of_life.map(|date| date.to_rfc3339()),
        registry: artifact.registry,
        repository: artifact.repository,
        digest: artifact.digest,
        kind: artifact.kind,
        platforms: artifact.platforms,
        size: artifact.size,
        title,
    }
}
