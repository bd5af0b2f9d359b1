//! Attachments on the wire: what to attach to an artifact (an end of life, annotations, a
//! document) and the referrer it became.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What to attach to an artifact — exactly one of an end of life (or taking it back),
/// annotations, or a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct AttachRequest {
    /// An end of life (`YYYY-MM-DD`), pushed as a Microsoft lifecycle referrer.
    #[serde(default)]
    pub end_of_life: Option<String>,
    /// Takes the end of life back: a newer lifecycle referrer without a date.
    #[serde(default)]
    pub revoke_end_of_life: bool,
    /// Annotations, as a referrer of `artifact_type` with no content.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The referrer's artifact type (annotations: `application/vnd.ocicat.annotations.v1+json`
    /// when unset; a document: its media type when unset).
    #[serde(default)]
    pub artifact_type: Option<String>,
    /// A document (an SBOM, a scan report, VEX, notes), as the referrer's one layer.
    #[serde(default)]
    pub document: Option<AttachedDocument>,
}

/// A document to attach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct AttachedDocument {
    /// Its media type (`application/spdx+json`, `application/vnd.cyclonedx+json`, `text/markdown`).
    pub media_type: String,
    /// Its file name.
    #[serde(default)]
    pub name: Option<String>,
    /// Its bytes, base64 (at most 4 MiB decoded).
    pub content_base64: String,
}

/// The referrer an attachment became.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct AttachView {
    /// Its digest.
    pub digest: String,
    /// Its artifact type.
    pub artifact_type: String,
    /// Whether the subject's `sha256-<hex>` fallback index lists it (no referrers API).
    pub fallback: bool,
}
