//! One artifact as a principal may see it: its page (layers, children, referrers, parents), its
//! manifest and config (read from the registry), its referrers tree, and the digest a tag
//! points at. Each is one or a few catalog lookups, never the whole repository.

use ocicat_access::Principal;
use ocicat_catalog::{ArtifactDoc, ReferrerQuery};

use crate::error::AppError;
use crate::model::{ArtifactView, RawDocument, ReferrerTreeView};
use crate::state::{Service, blocking, host_of};
use crate::views::{Surroundings, artifact_view, pretty, referrer_node, related, shows_config};

/// A 400 unless `text` is a digest (`ocicat_oci`'s grammar: sha256 or sha512, lowercase hex).
pub(crate) fn check_digest(text: &str) -> Result<(), AppError> {
    match text.parse::<ocicat_oci::Digest>() {
        Ok(_) => Ok(()),
        Err(_) => Err(AppError::BadRequest(format!("{:?} is not a digest", text.chars().take(80).collect::<String>()))),
    }
}

fn not_found(digest: &str, repository: &str) -> AppError {
    AppError::NotFound(format!("artifact {digest} in {repository}"))
}

impl Service {
    /// An artifact page: the artifact and what surrounds it.
    pub async fn find_artifact(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        digest: String,
    ) -> Result<ArtifactView, AppError> {
        let status = self.readable_repository(who, &registry, &repository)?;
        check_digest(&digest)?;
        let (catalog, name, repo, wanted) = (self.catalog.clone(), registry, repository.clone(), digest.clone());
        let found = blocking(move || {
            let Some(artifact) = catalog.artifact(&name, &repo, &wanted)? else { return Ok(None) };
            let subject = match &artifact.refers_to {
                Some(target) => catalog.artifact(&name, &repo, target)?.as_ref().map(related),
                None => None,
            };
            let mut known_children = std::collections::HashSet::new();
            // An index lists a bounded number of children (the crawler caps them).
            for child in &artifact.children {
                if catalog.artifact(&name, &repo, &child.digest)?.is_some() {
                    known_children.insert(child.digest.clone());
                }
            }
            let around = Surroundings {
                subject,
                parents: catalog.parents(&name, &repo, &wanted)?,
                referrers: catalog.referrers(&name, &repo, &wanted)?,
                known_children,
            };
            Ok(Some((artifact, around)))
        })
        .await?;
        let (artifact, around) = found.ok_or_else(|| not_found(&digest, &repository))?;
        Ok(artifact_view(&host_of(&status.url), &artifact, around))
    }

    /// The manifest or config of an artifact, read from its registry and verified against its
    /// digest (the catalog keeps only what it parsed of them).
    pub async fn find_document(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        digest: String,
        document: RawDocument,
    ) -> Result<String, AppError> {
        let artifact = self.find_indexed(who, &registry, &repository, &digest).await?;
        let raw = match document {
            RawDocument::Manifest => ocicat_content::Raw::Manifest,
            RawDocument::Config if !artifact.config.as_ref().is_some_and(shows_config) => {
                return Err(AppError::NotFound(format!("config of {digest} in {repository}")));
            }
            RawDocument::Config => ocicat_content::Raw::Config,
        };
        let bytes = self.content.raw_document(&artifact, raw).await.map_err(crate::viewer::registry_error)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The same, pretty-printed and cut at 64 KiB, as the artifact page shows it when its
    /// `<details>` is opened.
    pub async fn find_document_pretty(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        digest: String,
        document: RawDocument,
    ) -> Result<String, AppError> {
        let stored = self.find_document(who, registry, repository, digest, document).await?;
        // A manifest may be megabytes: parsing and printing it is not for the async runtime.
        tokio::task::spawn_blocking(move || pretty(&stored)).await.map_err(|error| {
            tracing::error!(%error, "pretty-printing task failed");
            AppError::Internal
        })
    }

    /// The indexed artifact `digest` of `registry`/`repository` if `who` may read it (else not
    /// found, as if it did not exist): what the raw documents, the content proxy and the viewers
    /// start from.
    pub async fn find_indexed(
        &self,
        who: &Principal,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<ArtifactDoc, AppError> {
        self.readable_repository(who, registry, repository)?;
        check_digest(digest)?;
        let (catalog, name, repo, wanted) =
            (self.catalog.clone(), registry.to_owned(), repository.to_owned(), digest.to_owned());
        blocking(move || catalog.artifact(&name, &repo, &wanted)).await?.ok_or_else(|| not_found(digest, repository))
    }

    /// The referrers tree of an artifact (like `oras discover`): `query` filters the top level by
    /// artifact type, orders it and keeps the first N.
    pub async fn list_referrers(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        digest: String,
        query: ReferrerQuery,
    ) -> Result<ReferrerTreeView, AppError> {
        self.readable_repository(who, &registry, &repository)?;
        check_digest(&digest)?;
        let (catalog, name, repo, wanted) = (self.catalog.clone(), registry, repository.clone(), digest.clone());
        let tree = blocking(move || {
            if catalog.artifact(&name, &repo, &wanted)?.is_none() {
                return Ok(None);
            }
            catalog.referrer_tree(&name, &repo, &wanted, &query).map(Some)
        })
        .await?
        .ok_or_else(|| not_found(&digest, &repository))?;
        Ok(ReferrerTreeView {
            total: tree.total,
            truncated: tree.truncated,
            nodes: tree.nodes.into_iter().map(referrer_node).collect(),
        })
    }

    /// The digest `tag` points at in `registry`/`repository` (docker-style `repo:tag` addresses).
    pub async fn find_tag(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        tag: String,
    ) -> Result<String, AppError> {
        self.readable_repository(who, &registry, &repository)?;
        if !ocicat_oci::is_valid_tag(&tag) {
            return Err(AppError::BadRequest(format!("{:?} is not a tag", tag.chars().take(80).collect::<String>())));
        }
        let (catalog, name, repo, wanted) = (self.catalog.clone(), registry, repository.clone(), tag.clone());
        blocking(move || catalog.tag_digest(&name, &repo, &wanted))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("tag {tag:?} in {repository}")))
    }
}
