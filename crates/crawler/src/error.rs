//! Why a crawl or a refresh failed as a whole (one bad manifest only counts as a failure and the
//! crawl goes on; see `RepositoryCrawl::failures`).

use ocicat_catalog::CatalogError;
use ocicat_oci::OciError;

/// A failed crawl of a registry or refresh of a repository.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// The registry failed, refused or lied (listing its repositories or a repository's tags).
    #[error(transparent)]
    Registry(#[from] OciError),
    /// The index could not be read or written.
    #[error("index: {0}")]
    Catalog(#[from] CatalogError),
    /// A blocking catalog read was cancelled or panicked.
    #[error("index read task failed: {0}")]
    Task(String),
}
