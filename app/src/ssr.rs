//! Server-only glue for the pages: the state server functions read, and the mapping from
//! catalog documents to the wire models (badges, referrers, parents).

use std::collections::BTreeMap;

use leptos::prelude::use_context;
use ocicat_catalog::{ArtifactDoc, Catalog, RegistryCounts};
use ocicat_crawler::{RegistryStatus, StatusBoard};

use crate::error::AppError;
use crate::model::{Annotation, ArtifactView, Badges, Part, RegistryCard, Related, RepositoryView, TagRow};

/// What the pages need from the server: the catalog and the crawl status board.
#[derive(Clone, Debug)]
pub struct UiState {
    /// The read side of the index.
    pub catalog: Catalog,
    /// Crawl progress and health per registry.
    pub board: StatusBoard,
}

/// The state provided to every server function and SSR render.
pub fn state() -> Result<UiState, AppError> {
    use_context::<UiState>().ok_or_else(|| {
        tracing::error!("ui state missing from the leptos context");
        AppError::Internal
    })
}

/// Runs a blocking catalog call off the async runtime.
pub async fn blocking<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ocicat_catalog::CatalogError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::error!(%error, "catalog query failed");
            Err(AppError::Internal)
        }
        Err(error) => {
            tracing::error!(%error, "catalog query task failed");
            Err(AppError::Internal)
        }
    }
}

/// The host:port part of a registry URL, for display and pull commands.
pub fn host_of(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    without_scheme.trim_end_matches('/').to_owned()
}

/// Builds a home-page card from crawl status and index counts.
pub fn registry_card(status: &RegistryStatus, counts: RegistryCounts) -> RegistryCard {
    RegistryCard {
        name: status.name.clone(),
        host: host_of(&status.url),
        state: serde_json::to_value(status.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        repositories: counts.repositories,
        artifacts: counts.artifacts,
        repositories_done: status.repositories_done,
        repositories_total: status.repositories_total,
        failures: status.manifests_failed,
        last_error: status.last_error.clone(),
        last_success: status.last_success.map(|date| date.to_rfc3339()),
    }
}

/// The digest a cosign-style tag (`sha256-<hex>.sig|.att|.sbom`) or fallback tag points at.
fn tag_subject(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("sha256-")?;
    let hex = rest.split('.').next()?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then(|| format!("sha256:{hex}"))
}

fn is_version_tag(tag: &str) -> bool {
    tag_subject(tag).is_none()
}

/// The digest an artifact refers to: its `subject`, or the one named by its cosign tag.
fn effective_subject(artifact: &ArtifactDoc) -> Option<String> {
    artifact
        .subject
        .clone()
        .or_else(|| artifact.tags.iter().filter(|tag| tag.contains('.')).find_map(|tag| tag_subject(tag)))
}

fn related(artifact: &ArtifactDoc) -> Related {
    Related {
        digest: artifact.digest.clone(),
        kind: artifact.kind.clone(),
        artifact_type: artifact.artifact_type.clone().unwrap_or_else(|| artifact.media_type.clone()),
        created: artifact.created.map(|date| date.to_rfc3339()),
    }
}

/// Referrers of every digest in a repository, from `subject`, cosign tags and buildx attestations.
struct Graph<'a> {
    referrers: BTreeMap<&'a str, Vec<&'a ArtifactDoc>>,
    attested_by: BTreeMap<String, u32>,
    parents: BTreeMap<&'a str, Vec<&'a ArtifactDoc>>,
}

impl<'a> Graph<'a> {
    fn new(artifacts: &'a [ArtifactDoc], subjects: &'a [Option<String>]) -> Graph<'a> {
        let mut graph = Graph { referrers: BTreeMap::new(), attested_by: BTreeMap::new(), parents: BTreeMap::new() };
        for (artifact, subject) in artifacts.iter().zip(subjects) {
            if let Some(subject) = subject {
                graph.referrers.entry(subject.as_str()).or_default().push(artifact);
            }
            let fallback_index = artifact.tags.iter().any(|tag| !tag.contains('.') && tag_subject(tag).is_some());
            for child in &artifact.children {
                if fallback_index {
                    continue;
                }
                graph.parents.entry(child.digest.as_str()).or_default().push(artifact);
                if let Some(attested) = &child.attests {
                    *graph.attested_by.entry(attested.clone()).or_default() += 1;
                }
            }
        }
        graph
    }

    fn badges(&self, digest: &str, today: &str) -> Badges {
        let mut badges =
            Badges { attestations: self.attested_by.get(digest).copied().unwrap_or(0), ..Badges::default() };
        for referrer in self.referrers.get(digest).into_iter().flatten() {
            match referrer.kind.as_str() {
                "signature" => badges.signed = true,
                "sbom" => badges.sbom = true,
                "scan" => badges.scans += 1,
                "attestation" => badges.attestations += 1,
                "lifecycle" => {
                    let date = referrer
                        .annotations
                        .get("vnd.microsoft.artifact.lifecycle.end-of-life.date")
                        .map(|d| d.chars().take(10).collect::<String>());
                    if let Some(date) = date {
                        if badges.end_of_life.as_ref().is_none_or(|known| date < *known) {
                            badges.end_of_life = Some(date);
                        }
                    }
                }
                _ => {}
            }
        }
        badges.expired = badges.end_of_life.as_deref().is_some_and(|date| date < today);
        badges
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

/// Builds the repository page: one row per version tag, then untagged top-level manifests.
pub fn repository_view(registry: &str, host: &str, repository: &str, artifacts: &[ArtifactDoc]) -> RepositoryView {
    let subjects: Vec<Option<String>> = artifacts.iter().map(effective_subject).collect();
    let graph = Graph::new(artifacts, &subjects);
    let today = today();
    let mut tags = Vec::new();
    for (artifact, subject) in artifacts.iter().zip(&subjects) {
        let versions: Vec<&String> = artifact.tags.iter().filter(|tag| is_version_tag(tag)).collect();
        let top_level =
            subject.is_none() && !graph.parents.contains_key(artifact.digest.as_str()) && artifact.tags.is_empty();
        let row = |tag: Option<String>| TagRow {
            tag,
            digest: artifact.digest.clone(),
            kind: artifact.kind.clone(),
            platforms: artifact.platforms.clone(),
            size: artifact.size,
            created: artifact.created.map(|date| date.to_rfc3339()),
            created_epoch: artifact.created.map_or(0, |date| date.timestamp()),
            badges: graph.badges(&artifact.digest, &today),
        };
        if versions.is_empty() && top_level {
            tags.push(row(None));
        }
        tags.extend(versions.into_iter().map(|tag| row(Some(tag.clone()))));
    }
    tags.sort_by(|a, b| b.created_epoch.cmp(&a.created_epoch).then_with(|| a.tag.cmp(&b.tag)));
    RepositoryView {
        registry: registry.to_owned(),
        host: host.to_owned(),
        repository: repository.to_owned(),
        tags,
        artifact_count: artifacts.len() as u64,
    }
}

fn annotation_list(map: &BTreeMap<String, String>) -> Vec<Annotation> {
    map.iter()
        .map(|(key, value)| {
            let lower = value.to_ascii_lowercase();
            let is_link = (lower.starts_with("https://") || lower.starts_with("http://"))
                && !value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
            Annotation { key: key.clone(), value: value.clone(), is_link }
        })
        .collect()
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| json.to_owned())
}

/// Builds the artifact page for `digest` from every artifact of its repository.
pub fn artifact_view(host: &str, artifact: &ArtifactDoc, artifacts: &[ArtifactDoc]) -> ArtifactView {
    let subjects: Vec<Option<String>> = artifacts.iter().map(effective_subject).collect();
    let graph = Graph::new(artifacts, &subjects);
    let known = |digest: &str| artifacts.iter().any(|other| other.digest == digest);
    let subject = effective_subject(artifact).map(|digest| {
        artifacts.iter().find(|other| other.digest == digest).map(related).unwrap_or(Related {
            digest,
            kind: "unknown".into(),
            artifact_type: "not in this repository".into(),
            created: None,
        })
    });
    let mut referrers: Vec<Related> =
        graph.referrers.get(artifact.digest.as_str()).into_iter().flatten().map(|r| related(r)).collect();
    referrers.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.digest.cmp(&b.digest)));
    ArtifactView {
        registry: artifact.registry.clone(),
        host: host.to_owned(),
        repository: artifact.repository.clone(),
        digest: artifact.digest.clone(),
        tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
        kind: artifact.kind.clone(),
        media_type: artifact.media_type.clone(),
        artifact_type: artifact.artifact_type.clone(),
        config_media_type: artifact.config_media_type.clone(),
        platforms: artifact.platforms.clone(),
        size: artifact.size,
        created: artifact.created.map(|date| date.to_rfc3339()),
        annotations: annotation_list(&artifact.annotations),
        labels: annotation_list(&artifact.labels),
        layers: artifact
            .layers
            .iter()
            .map(|layer| Part {
                media_type: layer.media_type.clone(),
                digest: layer.digest.clone(),
                size: layer.size,
                label: layer.title.clone(),
                linked: false,
            })
            .collect(),
        children: artifact
            .children
            .iter()
            .map(|child| Part {
                media_type: child.media_type.clone(),
                digest: child.digest.clone(),
                size: child.size,
                label: child
                    .attests
                    .as_ref()
                    .map(|d| format!("attestation for {}", crate::model::short_digest(d)))
                    .or_else(|| child.platform.clone()),
                linked: known(&child.digest),
            })
            .collect(),
        subject,
        referrers,
        parents: graph.parents.get(artifact.digest.as_str()).into_iter().flatten().map(|p| related(p)).collect(),
        badges: graph.badges(&artifact.digest, &today()),
        manifest_json: pretty(&artifact.manifest_json),
        config_json: artifact.config_json.as_deref().map(pretty),
    }
}

fn sort_from(text: &str) -> ocicat_catalog::RepositorySort {
    match text {
        "pushed" => ocicat_catalog::RepositorySort::LastPush,
        "tags" => ocicat_catalog::RepositorySort::TagCount,
        _ => ocicat_catalog::RepositorySort::Name,
    }
}

fn registry_status(state: &UiState, registry: &str) -> Result<RegistryStatus, AppError> {
    state.board.get(registry).ok_or_else(|| AppError::NotFound(format!("registry {registry:?}")))
}

/// One page of repositories (shared by the server function and the JSON API).
pub async fn find_repositories(
    state: &UiState,
    registry: String,
    filter: String,
    sort: String,
    page: usize,
) -> Result<crate::model::RepositoryList, AppError> {
    let status = registry_status(state, &registry)?;
    if filter.len() > 200 || page > 100_000 {
        return Err(AppError::BadRequest("filter too long or page too large".into()));
    }
    let per_page = crate::api::REPOSITORIES_PER_PAGE;
    let catalog = state.catalog.clone();
    let name = registry.clone();
    let (counts, found) = blocking(move || {
        let counts = catalog.registry_counts(&name)?;
        let found = catalog.repositories(&name, &filter, sort_from(&sort), page * per_page, per_page)?;
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
        registry: registry_card(&status, counts),
        total: found.total,
        rows,
        page,
        per_page,
    })
}

/// A repository page (shared by the server function and the JSON API).
pub async fn find_repository(
    state: &UiState,
    registry: String,
    repository: String,
) -> Result<RepositoryView, AppError> {
    let status = registry_status(state, &registry)?;
    let catalog = state.catalog.clone();
    let (name, repo) = (registry.clone(), repository.clone());
    let artifacts = blocking(move || catalog.artifacts_in_repository(&name, &repo)).await?;
    if artifacts.is_empty() {
        return Err(AppError::NotFound(format!("repository {repository:?}")));
    }
    Ok(repository_view(&registry, &host_of(&status.url), &repository, &artifacts))
}

/// An artifact page (shared by the server function and the JSON API).
pub async fn find_artifact(
    state: &UiState,
    registry: String,
    repository: String,
    digest: String,
) -> Result<ArtifactView, AppError> {
    let status = registry_status(state, &registry)?;
    if !is_digest(&digest) {
        return Err(AppError::BadRequest(format!("{:?} is not a digest", digest.chars().take(80).collect::<String>())));
    }
    let catalog = state.catalog.clone();
    let (name, repo) = (registry.clone(), repository.clone());
    let artifacts = blocking(move || catalog.artifacts_in_repository(&name, &repo)).await?;
    let artifact = artifacts
        .iter()
        .find(|artifact| artifact.digest == digest)
        .ok_or_else(|| AppError::NotFound(format!("artifact {digest} in {repository}")))?;
    Ok(artifact_view(&host_of(&status.url), artifact, &artifacts))
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
    query: String,
    sort: String,
    page: usize,
) -> Result<crate::model::SearchPage, AppError> {
    if page > 4000 {
        return Err(AppError::BadRequest("page too large".into()));
    }
    let per_page = crate::api::SEARCH_PER_PAGE;
    let order = match sort.as_str() {
        "oldest" => ocicat_catalog::SearchSort::Oldest,
        "name" => ocicat_catalog::SearchSort::Name,
        _ => ocicat_catalog::SearchSort::Newest,
    };
    let catalog = state.catalog.clone();
    let text = query.clone();
    let found = tokio::task::spawn_blocking(move || {
        catalog.search(&text, order, page * per_page, per_page, chrono::Utc::now())
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
    Ok(crate::model::SearchPage { query, total: results.total, hits, kinds: results.kinds, page, per_page })
}

fn search_hit(artifact: ArtifactDoc) -> crate::model::SearchHit {
    let title = ["org.opencontainers.image.title", "org.opencontainers.image.description"]
        .iter()
        .find_map(|key| artifact.annotations.get(*key).or_else(|| artifact.labels.get(*key)).cloned());
    crate::model::SearchHit {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_are_links() {
        let map: BTreeMap<String, String> = [
            ("a".to_string(), "https://example.com/x".to_string()),
            ("b".to_string(), "javascript:alert(1)".to_string()),
            ("c".to_string(), "data:text/html,<b>".to_string()),
            ("d".to_string(), "https://x\" onmouseover=\"y".to_string()),
        ]
        .into();
        let links: Vec<bool> = annotation_list(&map).iter().map(|a| a.is_link).collect();
        assert_eq!(links, [true, false, false, false]);
    }
}
