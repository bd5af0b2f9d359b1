//! The documents the catalog stores, and their mapping to tantivy documents.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;

use crate::schema::Fields;

/// A layer (or blob) of a manifest, as listed on the artifact page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    /// The layer's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// `org.opencontainers.image.title`, when set (file name of an artifact blob).
    pub title: Option<String>,
}

/// A manifest listed by an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildRef {
    /// The child's media type.
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// `os/arch[/variant]` when the descriptor names a platform.
    pub platform: Option<String>,
    /// For buildx attestation manifests: the digest of the image they attest.
    pub attests: Option<String>,
}

/// One manifest in one repository of one registry: everything pages show about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArtifactDoc {
    /// The registry's configured name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The verified manifest digest.
    pub digest: String,
    /// Tags pointing at this digest, sorted.
    pub tags: Vec<String>,
    /// Coarse kind (`image`, `index`, `helm`, `sbom`, …).
    pub kind: String,
    /// The manifest's media type.
    pub media_type: String,
    /// The resolved artifact type, if any.
    pub artifact_type: Option<String>,
    /// Platforms (`linux/amd64`), from the config or the index children.
    pub platforms: Vec<String>,
    /// Manifest plus config plus layers (or children manifests for an index), in bytes.
    pub size: u64,
    /// `org.opencontainers.image.created`, else the config's `created`.
    pub created: Option<DateTime<Utc>>,
    /// The digest of the manifest this one refers to (`subject`).
    pub subject: Option<String>,
    /// Manifest annotations (capped in count and length by the crawler).
    pub annotations: BTreeMap<String, String>,
    /// Image config labels.
    pub labels: BTreeMap<String, String>,
    /// The config blob's media type.
    pub config_media_type: Option<String>,
    /// Layers of an image or artifact.
    pub layers: Vec<LayerRef>,
    /// Manifests of an index.
    pub children: Vec<ChildRef>,
    /// The raw manifest, as served (shown as JSON).
    pub manifest_json: String,
    /// The raw config, when it is small JSON.
    pub config_json: Option<String>,
    /// When the crawler indexed this version.
    pub indexed_at: DateTime<Utc>,
    /// The earliest end-of-life date: from lifecycle referrers or its own lifecycle annotation.
    #[serde(default)]
    pub end_of_life: Option<DateTime<Utc>>,
    /// True for an `<alg>-<hex>` fallback index: plumbing that lists referrers, kept for
    /// incremental crawls but left out of search and counts.
    #[serde(default)]
    pub referrers_index: bool,
    /// Kinds of the artifacts attached to this one (signature, sbom, scan, attestation,
    /// lifecycle), from referrers, cosign tags and buildx attestation manifests.
    #[serde(default)]
    pub attached: Vec<String>,
}

/// A repository of one registry, summarised for the repository list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepositoryDoc {
    /// The registry's configured name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// Number of tags that are versions (not referrer fallback or cosign tags).
    pub tag_count: u64,
    /// Number of manifests indexed.
    pub artifact_count: u64,
    /// Total size of the tagged artifacts.
    pub size: u64,
    /// Newest creation date among its artifacts.
    pub last_push: Option<DateTime<Utc>>,
}

pub(crate) fn artifact_key(registry: &str, repository: &str, digest: &str) -> String {
    format!("{registry}\u{0}{repository}\u{0}{digest}")
}

pub(crate) fn repository_key(registry: &str, repository: &str) -> String {
    format!("{registry}\u{0}{repository}")
}

/// Dates tantivy can hold (nanoseconds in an i64: about 1678 to 2262); others are left out.
pub(crate) fn tantivy_date(date: DateTime<Utc>) -> Option<tantivy::DateTime> {
    const LIMIT_SECS: i64 = 9_000_000_000;
    let seconds = date.timestamp();
    (-LIMIT_SECS..LIMIT_SECS).contains(&seconds).then(|| tantivy::DateTime::from_timestamp_secs(seconds))
}

pub(crate) fn artifact_document(fields: &Fields, artifact: &ArtifactDoc) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, if artifact.referrers_index { "referrers_index" } else { "artifact" });
    document.add_text(fields.key, artifact_key(&artifact.registry, &artifact.repository, &artifact.digest));
    document.add_text(fields.repo_key, repository_key(&artifact.registry, &artifact.repository));
    document.add_text(fields.registry, &artifact.registry);
    document.add_text(fields.repository, &artifact.repository);
    document.add_text(fields.digest, &artifact.digest);
    for tag in &artifact.tags {
        document.add_text(fields.tags, tag);
    }
    document.add_text(fields.kind, &artifact.kind);
    document.add_text(fields.media_type, &artifact.media_type);
    if let Some(artifact_type) = &artifact.artifact_type {
        document.add_text(fields.artifact_type, artifact_type);
    }
    for platform in &artifact.platforms {
        document.add_text(fields.platforms, platform);
    }
    if let Some(subject) = &artifact.subject {
        document.add_text(fields.subject, subject);
    }
    document.add_u64(fields.size, artifact.size);
    if let Some(created) = artifact.created.and_then(tantivy_date) {
        document.add_date(fields.created, created);
    }
    if let Some(end_of_life) = artifact.end_of_life.and_then(tantivy_date) {
        document.add_date(fields.end_of_life, end_of_life);
    }
    for kind in &artifact.attached {
        document.add_text(fields.attached, kind);
    }
    add_search_fields(fields, artifact, &mut document);
    document.add_text(fields.body, serde_json::to_string(artifact).unwrap_or_default());
    document
}

/// Free text, annotations (labels first, so a manifest annotation wins) and date-valued ones.
fn add_search_fields(fields: &Fields, artifact: &ArtifactDoc, document: &mut TantivyDocument) {
    let mut text =
        format!("{} {} {} {}", artifact.repository, artifact.tags.join(" "), artifact.kind, artifact.media_type);
    if let Some(artifact_type) = &artifact.artifact_type {
        text.push(' ');
        text.push_str(artifact_type);
    }
    for (key, value) in artifact.labels.iter().chain(artifact.annotations.iter()) {
        text.push(' ');
        text.push_str(value);
        document.add_text(fields.annotations, format!("{key}\u{0}{value}"));
        if let Some(date) = crate::query::date_value(value) {
            document.add_text(fields.annotation_dates, crate::query::date_term_text(key, date));
        }
    }
    document.add_text(fields.text, text);
}

pub(crate) fn repository_document(fields: &Fields, repository: &RepositoryDoc) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, "repository");
    document.add_text(fields.repo_key, repository_key(&repository.registry, &repository.repository));
    document.add_text(fields.registry, &repository.registry);
    document.add_text(fields.repository, &repository.repository);
    document.add_u64(fields.tag_count, repository.tag_count);
    document.add_u64(fields.artifact_count, repository.artifact_count);
    document.add_u64(fields.size, repository.size);
    if let Some(last_push) = repository.last_push.and_then(tantivy_date) {
        document.add_date(fields.last_push, last_push);
    }
    document.add_text(fields.body, serde_json::to_string(repository).unwrap_or_default());
    document
}
