//! Targeted refresh of one repository, for registry notifications and "refresh now": the same
//! walk as a full crawl (HEADs for known tags), replacing that repository in the catalog.

use ocicat_catalog::{Catalog, CatalogWriter};
use ocicat_oci::OciError;

use crate::repository::crawl_repository;
use crate::schedule::RegistrySource;
use crate::status::StatusBoard;

/// Re-crawls `repository` of `source`; a repository that no longer exists is removed.
#[tracing::instrument(skip_all, fields(registry.name = %source.name, repo.name = %repository))]
pub async fn refresh_repository(
    source: &RegistrySource,
    catalog: &Catalog,
    writer: &CatalogWriter,
    board: &StatusBoard,
    repository: &str,
) -> Result<(), String> {
    let (reader, registry, name) = (catalog.clone(), source.name.clone(), repository.to_owned());
    let previous = tokio::task::spawn_blocking(move || reader.artifacts_in_repository(&registry, &name))
        .await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())?;
    match crawl_repository(&source.name, &source.client, repository, &previous).await {
        Ok(crawl) => {
            let (seen, unchanged, failed) =
                (crawl.manifests_seen, crawl.manifests_unchanged, crawl.failures.len() as u64);
            writer
                .upsert_repository(crawl.summary, crawl.changed, crawl.removed)
                .await
                .map_err(|error| error.to_string())?;
            board.update(&source.name, |status| {
                status.manifests_seen += seen;
                status.manifests_unchanged += unchanged;
                status.manifests_failed += failed;
            });
            tracing::info!(manifests.fetched = seen, "repository refreshed");
            Ok(())
        }
        Err(OciError::NotFound { .. }) => {
            writer.remove_repository(&source.name, repository).await.map_err(|error| error.to_string())?;
            tracing::info!("repository is gone, removed from the catalog");
            Ok(())
        }
        Err(error) => Err(error.to_string()),
    }
}
