//! Crawls one repository: every tag, every manifest they point at, and (recursively, bounded)
//! every child of an index — including the referrers listed by `sha256-<hex>` fallback indexes.

use std::collections::{BTreeMap, VecDeque};

use chrono::Utc;
use ocicat_catalog::{ArtifactDoc, RepositoryDoc};
use ocicat_oci::{Client, Digest, ManifestBody, OciError, media_types};

use crate::mapping::artifact_doc;

/// Most manifests indexed per repository.
const MAX_MANIFESTS_PER_REPOSITORY: usize = 10_000;
/// Largest config blob fetched for display and platform detection.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// What crawling one repository produced.
#[derive(Debug)]
pub struct RepositoryCrawl {
    /// The repository summary for the list page.
    pub summary: RepositoryDoc,
    /// Every manifest found.
    pub artifacts: Vec<ArtifactDoc>,
    /// Manifests fetched.
    pub manifests_seen: u64,
    /// Errors for individual tags or manifests (the crawl went on without them).
    pub failures: Vec<String>,
}

/// True for tags that name versions; false for referrer fallback and cosign tags.
pub(crate) fn is_version_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-").or_else(|| tag.strip_prefix("sha512-")) else { return true };
    let hex = rest
        .strip_suffix(".sig")
        .or_else(|| rest.strip_suffix(".att"))
        .or_else(|| rest.strip_suffix(".sbom"))
        .unwrap_or(rest);
    !((hex.len() == 64 || hex.len() == 128) && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn wants_config(media_type: &str, size: u64) -> bool {
    media_type != media_types::OCI_EMPTY
        && size <= MAX_CONFIG_BYTES
        && (media_type.ends_with("json") || media_type.ends_with("+json"))
}

/// Crawls `repository` of `registry` through `client`.
#[tracing::instrument(skip_all, fields(registry.name = %registry, repo.name = %repository))]
pub async fn crawl_repository(registry: &str, client: &Client, repository: &str) -> Result<RepositoryCrawl, OciError> {
    let listing = client.tags(repository).await?;
    let mut failures = Vec::new();
    if listing.truncated {
        failures.push(format!("tag list of {repository} was truncated"));
    }
    let mut documents: BTreeMap<String, ArtifactDoc> = BTreeMap::new();
    let mut queue: VecDeque<(String, Option<String>)> =
        listing.items.iter().map(|tag| (tag.clone(), Some(tag.clone()))).collect();
    let mut manifests_seen = 0u64;
    while let Some((reference, tag)) = queue.pop_front() {
        if let Some(existing) = documents.get_mut(&reference) {
            // Already fetched by digest; a tag only adds itself.
            if let Some(tag) = tag {
                existing.tags.push(tag);
            }
            continue;
        }
        if documents.len() >= MAX_MANIFESTS_PER_REPOSITORY {
            failures.push(format!(
                "{repository} has more than {MAX_MANIFESTS_PER_REPOSITORY} manifests; the rest were skipped"
            ));
            break;
        }
        let manifest = match client.get_manifest(repository, &reference).await {
            Ok(manifest) => manifest,
            Err(error) => {
                tracing::warn!(manifest.reference = %reference, %error, "failed to fetch manifest");
                failures.push(format!("{repository}@{reference}: {error}"));
                continue;
            }
        };
        manifests_seen += 1;
        let digest = manifest.digest.to_string();
        if let Some(existing) = documents.get_mut(&digest) {
            if let Some(tag) = tag {
                existing.tags.push(tag);
            }
            continue;
        }
        let config = match &manifest.body {
            ManifestBody::Image(image)
                if wants_config(&image.config().media_type().to_string(), image.config().size()) =>
            {
                match image.config().digest().to_string().parse::<Digest>() {
                    Ok(config_digest) => match client.get_blob(repository, &config_digest).await {
                        Ok(bytes) => Some(bytes),
                        Err(error) => {
                            tracing::warn!(artifact.digest = %digest, %error, "failed to fetch config");
                            failures.push(format!("{repository}@{digest} config: {error}"));
                            None
                        }
                    },
                    Err(error) => {
                        failures.push(format!("{repository}@{digest} config: {error}"));
                        None
                    }
                }
            }
            _ => None,
        };
        let mut document = artifact_doc(registry, repository, &manifest, config.as_deref());
        if let Some(tag) = tag {
            document.tags.push(tag);
        }
        for child in &document.children {
            queue.push_back((child.digest.clone(), None));
        }
        documents.insert(digest, document);
    }
    let artifacts: Vec<ArtifactDoc> = documents
        .into_values()
        .map(|mut document| {
            document.tags.sort();
            document.tags.dedup();
            document
        })
        .collect();
    let version_tags = listing.items.iter().filter(|tag| is_version_tag(tag)).count() as u64;
    let tagged = artifacts.iter().filter(|artifact| artifact.tags.iter().any(|tag| is_version_tag(tag)));
    let summary = RepositoryDoc {
        registry: registry.to_owned(),
        repository: repository.to_owned(),
        tag_count: version_tags,
        artifact_count: artifacts.len() as u64,
        size: tagged.clone().map(|artifact| artifact.size).sum(),
        last_push: tagged.filter_map(|artifact| artifact.created).max().or(Some(Utc::now())),
    };
    Ok(RepositoryCrawl { summary, artifacts, manifests_seen, failures })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_and_cosign_tags_are_not_versions() {
        let hex = "a".repeat(64);
        assert!(!is_version_tag(&format!("sha256-{hex}")));
        assert!(!is_version_tag(&format!("sha256-{hex}.sig")));
        assert!(!is_version_tag(&format!("sha256-{hex}.att")));
        assert!(is_version_tag("sha256-not-a-digest"));
        assert!(is_version_tag("v1.2.3"));
    }
}
