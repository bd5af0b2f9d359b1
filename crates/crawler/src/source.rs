//! One registry to crawl: its configured name, the client that reads it and the trust policies
//! its signatures are verified against.

use std::sync::Arc;

use ocicat_oci::Client;
use ocicat_trust::{Policies, Policy};

/// One registry to crawl.
#[derive(Debug, Clone)]
pub struct RegistrySource {
    /// The configured name (used in URLs and the index).
    pub name: String,
    /// The client for it.
    pub client: Client,
    /// Repositories to crawl when the registry has no `_catalog` (Docker Hub, GHCR).
    pub repositories: Option<Vec<String>>,
    /// The configured trust policies (all of them; [`RegistrySource::policies_for`] picks).
    pub trust: Arc<Policies>,
    /// Where it is, as users are shown it: the registry's URL, or `oci-layout:<directory>` for a
    /// layout read through a loopback server.
    pub location: String,
}

impl RegistrySource {
    /// The registry `name` read through `client`, every repository its `_catalog` lists, and no
    /// trust policy.
    pub fn new(name: impl Into<String>, client: Client) -> RegistrySource {
        let location = client.base_url().to_string();
        RegistrySource { name: name.into(), client, repositories: None, trust: Arc::default(), location }
    }

    /// Shows it to users as `location` instead of the client's URL.
    pub fn located_at(mut self, location: impl Into<String>) -> RegistrySource {
        self.location = location.into();
        self
    }

    /// Crawls only `repositories` (for registries without `_catalog`).
    pub fn with_repositories(mut self, repositories: Option<Vec<String>>) -> RegistrySource {
        self.repositories = repositories;
        self
    }

    /// Verifies signatures against `policies`.
    pub fn trusting(mut self, policies: Arc<Policies>) -> RegistrySource {
        self.trust = policies;
        self
    }

    /// The policies that cover `repository` of this registry.
    pub fn policies_for(&self, repository: &str) -> Vec<&Policy> {
        self.trust.covering(&self.name, repository, ocicat_catalog::pattern::matches)
    }
}
