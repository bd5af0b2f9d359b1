//! The documents the catalog stores, and their mapping to tantivy documents.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ocicat_oci::ArtifactKind;
use serde::{Deserialize, Serialize};
use tantivy::TantivyDocument;

use crate::schema::{DocType, Fields};

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
    /// The descriptor's annotations in the index (capped by the crawler).
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// One manifest in one repository of one registry: everything pages show about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArtifactDoc {
    /// The registry's configured name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The verified manifest digest.
    pub digest: String,
    /// Tags pointing at this digest, sorted.
    pub tags: Vec<String>,
    /// Coarse kind (image, index, Helm chart, SBOM, …).
    pub kind: ArtifactKind,
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
    /// Annotations on the descriptors of indexes that list this manifest (searchable like
    /// its own annotations, which win on a clash).
    #[serde(default)]
    pub descriptor_annotations: BTreeMap<String, String>,
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
    /// What is attached, counted by kind, and the latest scan's findings.
    #[serde(default)]
    pub referrers: ReferrerSummary,
    /// For a scan report or vulnerability attestation: what it found, when it could be read.
    #[serde(default)]
    pub scan_findings: Option<Vulnerabilities>,
    /// For a referrer: the digest it attaches to — its `subject`, the digest in its cosign tag,
    /// or the image a buildx attestation manifest attests.
    #[serde(default)]
    pub refers_to: Option<String>,
    /// For a referrer: how the crawler found it — `referrers API`, `fallback tag`,
    /// `cosign tag`, `attestation manifest`, or `subject field` (tagged, with a subject).
    #[serde(default)]
    pub referrer_sources: Vec<String>,
}

impl ArtifactDoc {
    /// The document of manifest `digest` in `repository` of `registry`, indexed now, with
    /// nothing else known yet (the crawler's mapping fills the rest in).
    pub fn new(registry: impl Into<String>, repository: impl Into<String>, digest: impl Into<String>) -> ArtifactDoc {
        ArtifactDoc {
            registry: registry.into(),
            repository: repository.into(),
            digest: digest.into(),
            indexed_at: Utc::now(),
            ..ArtifactDoc::default()
        }
    }
}

/// Counts of the artifacts attached to one artifact, and what its newest scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferrerSummary {
    /// Attached artifacts by kind (`signature` → 2), from every referrer source.
    pub counts: BTreeMap<String, u64>,
    /// Findings of the newest scan report attached, when one could be read.
    pub vulnerabilities: Option<Vulnerabilities>,
}

impl ReferrerSummary {
    /// True when at least one signature is attached.
    pub fn signed(&self) -> bool {
        self.counts.get("signature").is_some_and(|count| *count > 0)
    }

    /// True when at least one SBOM is attached.
    pub fn has_sbom(&self) -> bool {
        self.counts.get("sbom").is_some_and(|count| *count > 0)
    }
}

/// Vulnerability findings of one scan report, by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vulnerabilities {
    /// The scan report's manifest digest.
    pub scan: String,
    /// When the scan ran (the report's created date), if known.
    pub scanned: Option<DateTime<Utc>>,
    /// Findings rated critical.
    pub critical: u64,
    /// Findings rated high.
    pub high: u64,
    /// Findings rated medium.
    pub medium: u64,
    /// Findings rated low.
    pub low: u64,
    /// Findings without a usable rating.
    pub unknown: u64,
}

impl Vulnerabilities {
    /// Every finding.
    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }
}

/// Where a registry's crawl stands, committed with the documents it describes: a crawl killed
/// half-way resumes from here, skipping repositories crawled since `started`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlCheckpoint {
    /// The registry's configured name.
    pub registry: String,
    /// When the crawl this checkpoint belongs to started.
    pub started: DateTime<Utc>,
    /// When it completed; `None` while it runs (or after it was killed).
    pub finished: Option<DateTime<Utc>>,
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
    /// When the crawler last walked it (the crawl checkpoint compares against this).
    #[serde(default)]
    pub crawled_at: Option<DateTime<Utc>>,
}

pub(crate) fn artifact_key(registry: &str, repository: &str, digest: &str) -> String {
    format!("{registry}\u{0}{repository}\u{0}{digest}")
}

pub(crate) fn repository_key(registry: &str, repository: &str) -> String {
    format!("{registry}\u{0}{repository}")
}

/// The key of a registry's crawl checkpoint; the leading U+0001 keeps it apart from every
/// repository and artifact key (registry names are `[a-z0-9_-]`).
pub(crate) fn checkpoint_key(registry: &str) -> String {
    format!("\u{1}crawl\u{0}{registry}")
}

/// Dates tantivy can hold (nanoseconds in an i64: about 1678 to 2262); others are left out.
pub(crate) fn tantivy_date(date: DateTime<Utc>) -> Option<tantivy::DateTime> {
    const LIMIT_SECS: i64 = 9_000_000_000;
    let seconds = date.timestamp();
    (-LIMIT_SECS..LIMIT_SECS).contains(&seconds).then(|| tantivy::DateTime::from_timestamp_secs(seconds))
}

pub(crate) fn artifact_document(fields: &Fields, artifact: &ArtifactDoc) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    let doc_type = if artifact.referrers_index { DocType::ReferrersIndex } else { DocType::Artifact };
    document.add_text(fields.doc_type, doc_type.as_str());
    document.add_text(fields.key, artifact_key(&artifact.registry, &artifact.repository, &artifact.digest));
    document.add_text(fields.repo_key, repository_key(&artifact.registry, &artifact.repository));
    document.add_text(fields.registry, &artifact.registry);
    document.add_text(fields.repository, &artifact.repository);
    document.add_text(fields.digest, &artifact.digest);
    for tag in &artifact.tags {
        document.add_text(fields.tags, tag);
    }
    document.add_text(fields.kind, artifact.kind.as_str());
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
    for child in &artifact.children {
        document.add_text(fields.children, &child.digest);
    }
    if let Some(target) = &artifact.refers_to {
        document.add_text(fields.refers_to, target);
    }
    if let Some(found) = &artifact.referrers.vulnerabilities {
        document.add_u64(fields.vulns_critical, found.critical);
        document.add_u64(fields.vulns_high, found.high);
        document.add_u64(fields.vulns_medium, found.medium);
        document.add_u64(fields.vulns_low, found.low);
        document.add_u64(fields.vulns_unknown, found.unknown);
        document.add_u64(fields.vulns_total, found.total());
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
    let own = artifact.labels.iter().chain(artifact.annotations.iter());
    let from_indexes = artifact
        .descriptor_annotations
        .iter()
        .filter(|(key, _)| !artifact.annotations.contains_key(*key) && !artifact.labels.contains_key(*key));
    let mut dates = BTreeMap::new();
    for (key, value) in from_indexes.chain(own) {
        text.push(' ');
        text.push_str(value);
        document.add_text(fields.annotations, format!("{key}\u{0}{value}"));
        if let Some(date) = crate::query::date_value(value).and_then(tantivy_date) {
            // Later entries win, as for the annotations themselves.
            dates.insert(crate::schema::annotation_date_path(key), tantivy::schema::OwnedValue::Date(date));
        }
    }
    if !dates.is_empty() {
        document.add_object(fields.annotation_dates, dates);
    }
    document.add_text(fields.text, text);
}

pub(crate) fn repository_document(fields: &Fields, repository: &RepositoryDoc) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, DocType::Repository.as_str());
    // A two-part key: never equal to an artifact's three-part one.
    document.add_text(fields.key, repository_key(&repository.registry, &repository.repository));
    document.add_text(fields.repo_key, repository_key(&repository.registry, &repository.repository));
    document.add_text(fields.registry, &repository.registry);
    document.add_text(fields.repository, &repository.repository);
    document.add_u64(fields.tag_count, repository.tag_count);
    document.add_u64(fields.artifact_count, repository.artifact_count);
    // Every repository gets a sort date, so none drops out of the "last push" order; one with
    // no known push sorts last (its stored summary still says "unknown").
    let last_push = repository.last_push.and_then(tantivy_date).unwrap_or(tantivy::DateTime::from_timestamp_secs(0));
    document.add_date(fields.last_push, last_push);
    document.add_text(fields.body, serde_json::to_string(repository).unwrap_or_default());
    document
}

pub(crate) fn checkpoint_document(fields: &Fields, checkpoint: &CrawlCheckpoint) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, DocType::Crawl.as_str());
    document.add_text(fields.key, checkpoint_key(&checkpoint.registry));
    document.add_text(fields.registry, &checkpoint.registry);
    document.add_text(fields.body, serde_json::to_string(checkpoint).unwrap_or_default());
    document
}

/// One small document per version tag of `artifact`, replaced whenever the artifact is.
pub(crate) fn tag_documents(fields: &Fields, artifact: &ArtifactDoc) -> Vec<TantivyDocument> {
    let artifact_key = artifact_key(&artifact.registry, &artifact.repository, &artifact.digest);
    crate::tags::TagEntry::of(artifact)
        .into_iter()
        .map(|entry| {
            let mut document = TantivyDocument::default();
            document.add_text(fields.doc_type, DocType::Tag.as_str());
            document.add_text(fields.artifact_key, &artifact_key);
            document.add_text(fields.repo_key, repository_key(&artifact.registry, &artifact.repository));
            document.add_text(fields.registry, &artifact.registry);
            document.add_text(fields.repository, &artifact.repository);
            document.add_text(fields.tag_name, &entry.tag);
            document.add_text(fields.tag_order, crate::tags::semver_key(&entry.tag));
            if let Some(created) = entry.created.and_then(tantivy_date) {
                document.add_date(fields.tag_created, created);
            }
            document.add_text(fields.body, serde_json::to_string(&entry).unwrap_or_default());
            document
        })
        .collect()
}
