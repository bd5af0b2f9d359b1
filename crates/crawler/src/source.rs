//! One registry to crawl: its configured name and the client that reads it.

use ocicat_oci::Client;

/// One registry to crawl.
#[derive(Debug, Clone)]
pub struct RegistrySource {
    /// The configured name (used in URLs and the index).
    pub name: String,
    /// The client for it.
    pub client: Client,
    /// Repositories to crawl when the registry has no `_catalog` (Docker Hub, GHCR).
    pub repositories: Option<Vec<String>>,
}
