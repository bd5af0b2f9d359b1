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

/// The same attachment for every artifact a search finds (referrers left out: they follow
/// their subject). With `dry_run`, only the artifacts it would go to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct BulkAttachRequest {
    /// The search (the query language), e.g. `repo:ci/* created < now-180d`.
    pub query: String,
    /// What to attach: an end of life, its revocation, or annotations (no documents).
    #[serde(flatten)]
    pub attach: AttachRequest,
    /// List the artifacts, attach nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// One artifact of a bulk attachment and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct BulkTarget {
    /// Registry name.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Digest.
    pub digest: String,
    /// Its version tags.
    pub tags: Vec<String>,
    /// The referrer it got (not in a dry run).
    #[serde(default)]
    pub attached: Option<AttachView>,
    /// Why it did not get one.
    #[serde(default)]
    pub error: Option<String>,
}

/// What a bulk attachment did, or would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct BulkAttachView {
    /// The search.
    pub query: String,
    /// True when nothing was pushed.
    pub dry_run: bool,
    /// The artifacts, in the order they were found.
    pub targets: Vec<BulkTarget>,
    /// Referrers the search found and left out.
    pub skipped_referrers: u64,
    /// How many got their referrer.
    pub attached: usize,
    /// How many failed (each says why).
    pub failed: usize,
}
