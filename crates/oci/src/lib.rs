//! The OCI distribution client: protocol only — digests, auth, listing, manifests, blobs, pushes.
//!
//! It knows nothing of the catalog or the UI. One [`Client`] talks to one registry and is cheap
//! to clone; every body it reads is size-capped and every body fetched by digest is verified.

mod auth;
mod body;
mod classify;
mod client;
mod digest;
mod error;
mod listing;
mod manifest;
mod paging;

pub use auth::{Credentials, Secret};
pub use classify::{ArtifactKind, classify};
pub use client::{Client, ClientConfig, Limits};
pub use digest::{Algorithm, Digest};
pub use error::{OciError, Result};
pub use listing::Listing;
pub use manifest::{Manifest, ManifestBody, media_types};
