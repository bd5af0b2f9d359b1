//! The stored JSON documents of an artifact (its manifest and its config): which one, and the
//! JSON API address that serves it as stored, with or without JavaScript.

use serde::{Deserialize, Serialize};

/// One of the documents the catalog keeps for an artifact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum RawDocument {
    /// The manifest, as the registry served it.
    Manifest,
    /// The config blob (kept when it is JSON of at most 64 KiB).
    Config,
}

/// `GET /api/v1/registries/{registry}/repositories/{repository}/manifests/{digest}` for the
/// manifest, the same plus `/config` for its config: the stored bytes as `application/json`.
pub fn raw_json_href(registry: &str, repository: &str, digest: &str, document: RawDocument) -> String {
    let manifest = format!("/api/v1/registries/{registry}/repositories/{repository}/manifests/{digest}");
    match document {
        RawDocument::Manifest => manifest,
        RawDocument::Config => format!("{manifest}/config"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_addresses_follow_the_registry_api_shape() {
        let digest = "sha256:0123";
        assert_eq!(
            raw_json_href("local", "demo/app", digest, RawDocument::Manifest),
            "/api/v1/registries/local/repositories/demo/app/manifests/sha256:0123"
        );
        assert_eq!(
            raw_json_href("local", "demo/app", digest, RawDocument::Config),
            "/api/v1/registries/local/repositories/demo/app/manifests/sha256:0123/config"
        );
    }
}
