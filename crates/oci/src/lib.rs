//! The OCI distribution client: protocol only — digests, auth, listing, manifests, blobs, pushes.
//!
//! It knows nothing of the catalog or the UI. One [`Client`] talks to one registry and is cheap
//! to clone; every body it reads is size-capped and every body fetched by digest is verified.

mod attach;
mod auth;
mod blob;
mod body;
mod classify;
mod client;
mod copy;
mod delete;
mod digest;
mod error;
mod fetch;
mod listing;
mod manifest;
mod names;
mod paging;
pub mod parse;
mod politeness;
mod push;
mod reference;
mod referrers;
mod ssrf;
mod status;

pub use attach::{ATTACHED_BY, Attached, AttachedFile, Attachment};
pub use auth::{Credentials, Secret};
pub use blob::BlobStream;
pub use classify::{ArtifactKind, SIGSTORE_PREDICATE_ANNOTATION, classify, is_sbom_predicate};
pub use client::{Client, ClientConfig, Limits};
pub use copy::{BlobCopy, COPY_CHUNK_BYTES, copy_blob};
pub use delete::DeleteOutcome;
pub use digest::{Algorithm, Digest, InvalidDigest};
pub use error::{OciError, Result};
pub use fetch::Conditional;
pub use listing::Listing;

/// True when `name` follows the distribution grammar for repository names.
pub fn is_valid_repository(name: &str) -> bool {
    names::validate_repository(name).is_ok()
}

/// True when `tag` follows the distribution grammar for tags (`[\w][\w.-]{0,127}`).
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.contains(':') && names::validate_reference(tag).is_ok()
}

pub use manifest::{Manifest, ManifestBody, media_types};
pub use politeness::{Politeness, RateLimitState};
pub use reference::{DOCKER_HUB, DOCKER_HUB_API, Reference};
pub use referrers::{Referrer, ReferrerSource, buildx_attestations, cosign_tags, merge_referrers};
