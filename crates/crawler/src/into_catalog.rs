//! Crawling one repository into the catalog: its previous documents read, the walk, the
//! difference written, the registry's counters updated. Full crawls and targeted refreshes
//! (notifications, "refresh now", after a delete) both go through here.

use std::collections::HashMap;

use ocicat_catalog::{ArtifactDoc, Catalog, CatalogWriter};
use ocicat_oci::OciError;

use crate::error::CrawlError;
use crate::repository::{CrawlMode, crawl_repository_in};
use crate::source::RegistrySource;
use crate::status::StatusBoard;

/// What crawling one repository into the catalog came to.
#[derive(Debug)]
pub enum Walked {
    /// The repository was walked and its changes written.
    Crawled {
        /// Errors for individual tags or manifests (the walk went on without them).
        failures: Vec<String>,
        /// Every tag the registry listed, with the digest it points at.
        tags: HashMap<String, String>,
        /// Manifests fetched.
        fetched: u64,
    },
    /// The registry no longer has the repository; it was removed from the catalog.
    Gone,
}

/// The catalog's documents of `repository`, read off the async runtime.
async fn previous_documents(
    catalog: &Catalog,
    registry: &str,
    repository: &str,
) -> Result<Vec<ArtifactDoc>, CrawlError> {
    let (catalog, registry, repository) = (catalog.clone(), registry.to_owned(), repository.to_owned());
    tokio::task::spawn_blocking(move || catalog.artifacts_in_repository(&registry, &repository))
        .await
        .map_err(|error| CrawlError::Task(error.to_string()))?
        .map_err(CrawlError::from)
}

/// Walks `repository` of `source` in `mode` and writes what changed; the registry's fetch,
/// reuse and failure counters on `board` grow by what this walk did.
#[tracing::instrument(skip_all, fields(registry.name = %source.name, repo.name = %repository, crawl.mode = ?mode))]
pub async fn crawl_into_catalog(
    source: &RegistrySource,
    catalog: &Catalog,
    writer: &CatalogWriter,
    board: &StatusBoard,
    repository: &str,
    mode: CrawlMode,
) -> Result<Walked, CrawlError> {
    let previous = previous_documents(catalog, &source.name, repository).await?;
    let policies = source.policies_for(repository);
    let walked = crawl_repository_in(&source.name, &source.client, repository, &previous, mode, &policies).await;
    board.record_rate_limit(&source.name, &source.client);
    match walked {
        Ok(crawl) => {
            let (fetched, reused, failed) =
                (crawl.manifests_seen, crawl.manifests_unchanged, crawl.failures.len() as u64);
            writer.upsert_repository(crawl.summary, crawl.changed, crawl.removed).await?;
            board.update(&source.name, |status| {
                status.manifests_seen += fetched;
                status.manifests_unchanged += reused;
                status.manifests_failed += failed;
            });
            Ok(Walked::Crawled { failures: crawl.failures, tags: crawl.tags, fetched })
        }
        Err(OciError::NotFound { .. }) => {
            writer.remove_repository(&source.name, repository).await?;
            tracing::info!("repository is gone, removed from the catalog");
            Ok(Walked::Gone)
        }
        Err(error) => {
            mark_incomplete(catalog, writer, &source.name, repository, &error).await;
            Err(error.into())
        }
    }
}

/// A walk that failed as a whole leaves the catalog's documents as they were, but says on the
/// repository that they are not confirmed: deletes in it wait for a complete crawl.
async fn mark_incomplete(
    catalog: &Catalog,
    writer: &CatalogWriter,
    registry: &str,
    repository: &str,
    error: &OciError,
) {
    let (reader, name, path) = (catalog.clone(), registry.to_owned(), repository.to_owned());
    let known = tokio::task::spawn_blocking(move || reader.repository(&name, &path)).await;
    let Ok(Ok(Some(mut summary))) = known else { return };
    summary.incomplete = vec![format!("the latest crawl of it failed: {error}")];
    if let Err(error) = writer.upsert_repository(summary, Vec::new(), Vec::new()).await {
        tracing::error!(%error, "cannot mark the repository's crawl incomplete");
    }
}
