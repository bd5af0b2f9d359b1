//! The documents the catalog stores (their mapping to tantivy documents is in `mapping.rs`; the
//! keys they are stored under are in `keys.rs`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ocicat_oci::ArtifactKind;
use serde::{Deserialize, Serialize};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The descriptor's other annotations (cosign keeps a signature's certificate and bundle
    /// there), capped in count by the crawler; bounded in length by the manifest's own cap.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// For buildx attestation manifests: the digest of the image they attest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attests: Option<String>,
    /// The descriptor's annotations in the index (capped by the crawler).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// An annotation attached to an artifact by a referrer, with who attached it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachedAnnotation {
    /// The value.
    pub value: String,
    /// The referrer that carries it.
    pub referrer: String,
    /// Who attached it, when the referrer says (`vnd.ocicat.attached-by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// When, from the referrer's `org.opencontainers.image.created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Coarse kind (image, index, Helm chart, SBOM, …).
    pub kind: ArtifactKind,
    /// The manifest's media type.
    pub media_type: String,
    /// The resolved artifact type, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Platforms (`linux/amd64`), from the config or the index children.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Manifest plus config plus layers (or children manifests for an index), in bytes.
    pub size: u64,
    /// `org.opencontainers.image.created`, else the config's `created`.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "crate::rfc3339::serialize_option")]
    pub created: Option<DateTime<Utc>>,
    /// The digest of the manifest this one refers to (`subject`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Manifest annotations (capped in count and length by the crawler).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Image config labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations on the descriptors of indexes that list this manifest (searchable like
    /// its own annotations, which win on a clash).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub descriptor_annotations: BTreeMap<String, String>,
    /// Annotations attached later by referrers that carry nothing else (`oras attach
    /// --annotation`, ocicat's "Add annotations"): searchable like its own, the newest referrer
    /// naming a key deciding its value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attached_annotations: BTreeMap<String, AttachedAnnotation>,
    /// For an annotation-only referrer: its annotations are its subject's (above), so a search
    /// on them finds the subject, not this plumbing as well.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lends_annotations: bool,
    /// The config blob's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_media_type: Option<String>,
    /// The config blob's descriptor (an image manifest's; `None` for an index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<LayerRef>,
    /// Layers of an image or artifact.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerRef>,
    /// Manifests of an index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildRef>,
    /// The manifest's size in bytes, as served. The raw manifest and config are not kept:
    /// they are read from the registry, verified by digest, when someone asks to see them.
    #[serde(default)]
    pub manifest_size: u64,
    /// What pages read of the config, as JSON: an image config's run settings (`config`, without
    /// the labels kept above) and `history`, without the layer diff ids only a runtime needs;
    /// any other small JSON config (a Helm chart's `Chart.yaml`) whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_summary: Option<String>,
    /// When the crawler indexed this version.
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub indexed_at: DateTime<Utc>,
    /// The earliest end-of-life date: from lifecycle referrers or its own lifecycle annotation.
    #[serde(default, skip_serializing_if = "Option::is_none", serialize_with = "crate::rfc3339::serialize_option")]
    pub end_of_life: Option<DateTime<Utc>>,
    /// True for an `<alg>-<hex>` fallback index: plumbing that lists referrers, kept for
    /// incremental crawls but left out of search and counts.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub referrers_index: bool,
    /// Kinds of the artifacts attached to this one (signature, sbom, scan, attestation,
    /// lifecycle), from referrers, cosign tags and buildx attestation manifests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attached: Vec<String>,
    /// What is attached, counted by kind, and the latest scan's findings.
    #[serde(default, skip_serializing_if = "is_default")]
    pub referrers: ReferrerSummary,
    /// For a scan report or vulnerability attestation: what it found, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_findings: Option<Vulnerabilities>,
    /// For a referrer: the digest it attaches to — its `subject`, the digest in its cosign tag,
    /// or the image a buildx attestation manifest attests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refers_to: Option<String>,
    /// For a referrer: how the crawler found it — `referrers API`, `fallback tag`,
    /// `cosign tag`, `attestation manifest`, or `subject field` (tagged, with a subject).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub referrer_sources: Vec<String>,
    /// Why the latest crawl could not read this manifest again (a transient error, content that
    /// did not match its digest): the document is the last verified one, kept so that the
    /// catalog and the plans made from it do not lose what is there. `None` when it was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crawl_error: Option<String>,
    /// For an SBOM (or an attestation carrying one) just read: the packages it lists, for impact
    /// search. Not stored with the document: the writer indexes them as terms of the SBOM's
    /// facts document, which outlives rewrites of this one ([`crate::Catalog::describing`]
    /// reads them back).
    #[serde(skip)]
    pub packages: Vec<crate::impact::PackageFact>,
    /// For a scan report (or a vulnerability attestation) just read: its findings, kept as the
    /// packages are.
    #[serde(skip)]
    pub findings: Vec<crate::impact::FindingFact>,
    /// How many packages and findings were read from it when it was crawled (0 for anything
    /// that is not an SBOM or scan, or one that could not be read).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fact_count: u64,
    /// For an SBOM or scan read for impact search: the tool that made it (`syft 1.4.1`,
    /// `Trivy 0.50.1`), when it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer: Option<String>,
    /// For an SBOM or scan: the keys of the artifacts it describes (its subject, and the
    /// indexes that list the subject in this repository), set when the repository's walk is
    /// summarised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub describes: Vec<String>,
    /// For a signature artifact: what the crawler kept of each signature it holds (payload,
    /// signature, certificate, bundle), so verdicts are recomputed when the trust policies
    /// change without asking the registry again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signature_evidence: Vec<ocicat_trust::Evidence>,
    /// For a signature artifact: the verdict on each of its signatures, in the order of
    /// `signature_evidence`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<ocicat_trust::Verdict>,
}

/// True for a value that is its type's default: left out of the stored JSON, which reads it
/// back as the default.
fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

impl ArtifactDoc {
    /// True for an SBOM or scan whose packages or findings were read for impact search.
    pub fn has_facts(&self) -> bool {
        self.fact_count > 0 || !self.packages.is_empty() || !self.findings.is_empty()
    }

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
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, u64>,
    /// Findings of the newest scan report attached, when one could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<Vulnerabilities>,
    /// What the verdicts on the attached signatures say together.
    #[serde(default, skip_serializing_if = "is_default")]
    pub trust: TrustSummary,
}

/// The verdicts on an artifact's signatures, together: what badges, search and the API show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustSummary {
    /// The verdict that speaks for the artifact: verified when any signature is, else invalid
    /// when any is, else untrusted, else unverifiable; `None` without signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ocicat_trust::Status>,
    /// Every verdict status among its signatures, sorted (`signature:invalid` finds an image
    /// with a forged signature even when another one is verified).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<ocicat_trust::Status>,
    /// The policies that verified a signature, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
    /// The signer identities ocicat could tell (verified or not), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
    /// The reason of the verdict that speaks for the artifact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl TrustSummary {
    /// Adds one signature's verdict.
    pub fn add(&mut self, verdict: &ocicat_trust::Verdict) {
        use ocicat_trust::Status;
        let rank = |status: Status| match status {
            Status::Verified => 0,
            Status::Invalid => 1,
            Status::Untrusted => 2,
            Status::Unverifiable => 3,
        };
        if self.status.is_none_or(|known| rank(verdict.status) < rank(known)) {
            self.status = Some(verdict.status);
            self.reason = Some(verdict.reason.clone());
        }
        if !self.statuses.contains(&verdict.status) {
            self.statuses.push(verdict.status);
            self.statuses.sort();
        }
        if let Some(policy) = &verdict.policy
            && !self.policies.contains(policy)
        {
            self.policies.push(policy.clone());
            self.policies.sort();
        }
        if let Some(identity) = &verdict.identity
            && !self.signers.contains(identity)
        {
            self.signers.push(identity.clone());
            self.signers.sort();
        }
    }
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
    /// Why the latest crawl of it did not see everything (manifests it could not read, a
    /// listing cut short, a cap); empty when it did. Deletes in it wait for a complete crawl.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

impl RepositoryDoc {
    /// The summary of `repository` in `registry` with nothing counted yet (the crawler fills
    /// the counts in).
    pub fn new(registry: impl Into<String>, repository: impl Into<String>) -> RepositoryDoc {
        RepositoryDoc {
            registry: registry.into(),
            repository: repository.into(),
            tag_count: 0,
            artifact_count: 0,
            size: 0,
            last_push: None,
            crawled_at: None,
            incomplete: Vec::new(),
        }
    }
}
