//! The content proxy's side of the service: which part of which indexed artifact a download
//! names (only for callers who may read its repository), and the download itself, its failures
//! mapped to what the caller is told (never the registry's URLs or bodies).

use ocicat_access::Principal;
use ocicat_content::{ContentError, Download, Part, Target};

use crate::error::AppError;
use crate::state::Service;

impl Service {
    /// The manifest, config or layer `part` of the indexed artifact `digest`, if `who` may read
    /// its repository (else not found, as if it did not exist).
    pub async fn content_target(
        &self,
        who: &Principal,
        registry: &str,
        repository: &str,
        digest: &str,
        part: &Part,
    ) -> Result<Target, AppError> {
        let artifact = self.find_indexed(who, registry, repository, digest).await?;
        Target::resolve(&artifact, part).map_err(|error| match error {
            ContentError::NotPart(what) => AppError::NotFound(format!("{what} in artifact {digest}")),
            other => {
                tracing::error!(%other, "content target not resolved");
                AppError::Internal
            }
        })
    }

    /// Starts downloading `target` from its registry (a blob streams, verified as it passes).
    pub async fn download(&self, target: &Target) -> Result<Download, AppError> {
        self.content.download(target).await.map_err(|error| {
            tracing::warn!(registry = %target.registry, repository = %target.repository, digest = %target.digest,
                %error, "content download failed");
            if error.is_gone() {
                AppError::NotFound(format!("{} ({})", target.digest, error.public_message()))
            } else {
                AppError::Registry(error.public_message())
            }
        })
    }
}
