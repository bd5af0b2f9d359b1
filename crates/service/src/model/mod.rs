//! The data that crosses the wire between server functions and the browser. No server-only
//! types here: the same structs compile for wasm.

use serde::{Deserialize, Serialize};

mod account;
mod annotations;
mod attach;
mod commands;
mod content;
mod copy;
mod diff;
mod impact;
mod kinds;
mod lifecycle;
mod links;
mod raw;
mod replicas;
mod run_config;
mod search;
mod trust;

pub use account::{NewToken, SessionView, TokenRow};
pub use annotations::{Annotation, AttachedAnnotationView};
pub use attach::{AttachRequest, AttachView, AttachedDocument, BulkAttachRequest, BulkAttachView, BulkTarget};
pub use commands::{LAYOUT_LOCATION, artifact_pull_command, discover_command, layout_location, pull_command};
pub use content::{
    AttestationView, ContentBody, ContentQuery, ContentsView, DOCUMENT_KINDS, FindingRow, LayerTab, LicenseShare,
    PackageRow, ROWS_PER_PAGE, SbomView, ScanDiff, ScanRef, ScanView, SignatureRow, SignatureView, SignerView,
    content_href, is_http_link,
};
pub use copy::{
    BlobItem, CopyExecution, CopyPlan, CopyPreview, CopyReport, CopyRequest, CopyTotals, CopyView, Endpoint, Excluded,
    ExportPlan, ExportRequest, FallbackItem, GraphFilter, ManifestItem, MovedTag, Role, Step, StepOutcome,
};
pub use diff::{DiffSide, DiffView, FindingChange, PackageChange};
pub use impact::{ImpactGroup, ImpactMatch, ImpactRow, ImpactSort, ImpactSource, ImpactView};
pub use kinds::{ChartDependencyView, ChartMaintainerView, ChartView, WasmItemView, WasmView};
pub use lifecycle::{
    AuditEntry, AuditPage, BrokenParent, Execution, ExecutionState, FallbackRewrite, ItemResult, KeptItem, Mode,
    Outcome, Plan, PlanItem, PlanPreview, PlanRequest, PolicyView, Reason, RetentionChoice, RetentionRun,
    RetentionView, TagDeletion, TargetSpec, Totals, parse_target,
};
pub use links::{
    attach_search_href, copy_href, encode, impact_href, impact_sorted_href, layout_download_href, plan_href,
    plan_search_href,
};
pub use raw::{RawDocument, raw_json_href};
pub use replicas::{ReplicaRow, ReplicasView};
pub use run_config::{EnvVar, RunConfig, json_array, shell_quote};
pub use search::{FacetGroup, SearchHit, SearchPage};
pub use trust::{KeylessSignerView, SignatureBadge, SignatureVerdicts, TrustPolicyView, Verification, VerifyReport};

/// One connected registry on the home page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct RegistryCard {
    /// Configured name, used in URLs.
    pub name: String,
    /// Host and port shown to users and used in pull commands.
    pub host: String,
    /// `pending`, `crawling`, `idle` or `unreachable`.
    pub state: String,
    /// Repositories in the catalog.
    pub repositories: u64,
    /// Manifests in the catalog.
    pub artifacts: u64,
    /// Progress of the current or last crawl.
    pub repositories_done: u64,
    /// Repositories found by the current or last crawl.
    pub repositories_total: u64,
    /// Manifests or tags that failed in the last crawl.
    pub failures: u64,
    /// The last error, if any.
    pub last_error: Option<String>,
    /// When the last crawl completed (RFC 3339).
    pub last_success: Option<String>,
    /// Manifests per second of the running crawl.
    pub manifests_per_second: Option<f64>,
    /// The registry's rate limit, when it announced one or is holding us back.
    pub rate_limit: Option<String>,
    /// Manifests fetched in the current or last crawl.
    pub manifests_seen: u64,
    /// Manifests reused without a GET (unchanged since the previous crawl).
    pub manifests_unchanged: u64,
    /// When the current or last crawl started (RFC 3339).
    pub last_started: Option<String>,
    /// When a full reconcile last completed (RFC 3339).
    pub last_reconcile: Option<String>,
    /// True while the running crawl is a full reconcile.
    pub reconciling: bool,
    /// When the registry's last push notification arrived (RFC 3339), since ocicat started.
    pub last_notification: Option<String>,
    /// True when the current or last crawl read tag lists only (notifications flowing).
    pub listed_only: bool,
    /// Crawls completed since ocicat started.
    pub crawls_completed: u64,
    /// True when the viewer may start a crawl of the whole registry ("refresh now").
    pub can_refresh: bool,
    /// True when the viewer may see crawl internals (errors, counters, rate limits); when
    /// false those fields are empty.
    pub internals: bool,
}

/// One row of a registry's repository list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct RepositoryRow {
    /// Repository path.
    pub name: String,
    /// Version tags.
    pub tag_count: u64,
    /// Manifests, including untagged ones and referrers.
    pub artifact_count: u64,
    /// Total size of the tagged artifacts, bytes.
    pub size: u64,
    /// Newest push (RFC 3339).
    pub last_push: Option<String>,
}

/// A page of repositories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct RepositoryList {
    /// The registry.
    pub registry: RegistryCard,
    /// Repositories matching the filter.
    pub total: u64,
    /// The page shown.
    pub rows: Vec<RepositoryRow>,
    /// Zero-based page number.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
}

/// Badges shown next to a tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct Badges {
    /// What the verdicts on its signatures say together; `None` when nothing signs it.
    pub signature: Option<SignatureBadge>,
    /// An SBOM refers to it.
    pub sbom: bool,
    /// Scan reports refer to it.
    pub scans: u32,
    /// Attestations refer to it (including buildx attestation manifests).
    pub attestations: u32,
    /// The end-of-life date (yyyy-mm-dd), if any: the newest lifecycle referrer's, else the
    /// earliest its own annotations name.
    pub end_of_life: Option<String>,
    /// True when the end-of-life date has passed.
    pub expired: bool,
    /// Findings of the newest scan, when one was read.
    pub vulnerabilities: Option<VulnerabilityCounts>,
}

/// Findings of a scan by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct VulnerabilityCounts {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
    /// Unrated.
    pub unknown: u64,
}

/// One tagged (or untagged) manifest of a repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct TagRow {
    /// The tag, or `None` for an untagged manifest.
    pub tag: Option<String>,
    /// Manifest digest.
    pub digest: String,
    /// Coarse kind.
    pub kind: String,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Size in bytes.
    pub size: u64,
    /// Created (RFC 3339), if known.
    pub created: Option<String>,
    /// Badges from referrers.
    pub badges: Badges,
}

/// One page of a repository's tags, sorted and filtered in the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct TagList {
    /// Tags matching the filter.
    pub total: u64,
    /// This page.
    pub rows: Vec<TagRow>,
    /// `newest`, `name` or `semver`.
    pub sort: String,
    /// Zero-based page number.
    pub page: usize,
    /// Rows per page.
    pub per_page: usize,
}

/// A node of an artifact's referrers tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ReferrerNodeView {
    /// The referrer.
    pub artifact: Related,
    /// Its annotations (shown on demand).
    pub annotations: Vec<Annotation>,
    /// What refers to it in turn.
    #[cfg_attr(feature = "backend", schema(no_recursion))]
    pub referrers: Vec<ReferrerNodeView>,
}

/// The referrers tree of an artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ReferrerTreeView {
    /// Top-level referrers matching the filter, before the top-N cut.
    pub total: usize,
    /// True when a depth or size cap left some out.
    pub truncated: bool,
    /// The tree.
    pub nodes: Vec<ReferrerNodeView>,
}

/// A repository page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct RepositoryView {
    /// Registry name.
    pub registry: String,
    /// Registry host for pull commands.
    pub host: String,
    /// Repository path.
    pub repository: String,
    /// Version tags (fallback and cosign tags left out).
    pub tag_count: u64,
    /// Manifests in the repository, including referrers and index children.
    pub artifact_count: u64,
    /// Total size of the tagged artifacts.
    pub size: u64,
    /// Newest creation date among its artifacts (RFC 3339).
    pub last_push: Option<String>,
    /// When the crawler last walked it (RFC 3339).
    pub crawled_at: Option<String>,
    /// Why that walk did not see everything; empty when it did (deletes wait for a full one).
    #[serde(default)]
    pub incomplete: Vec<String>,
}

/// A layer, blob or index child.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct Part {
    /// Media type.
    pub media_type: String,
    /// Digest.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
    /// Title, platform, or what it attests.
    pub label: Option<String>,
    /// True when the part is a manifest indexed in the catalog (it gets a link).
    pub linked: bool,
    /// For an index child: the annotations on its descriptor in the index.
    #[serde(default)]
    pub annotations: Vec<Annotation>,
}

/// A related artifact (referrer, parent, subject).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct Related {
    /// Digest.
    pub digest: String,
    /// Coarse kind.
    pub kind: String,
    /// Artifact type or media type.
    pub artifact_type: String,
    /// Created (RFC 3339), if known.
    pub created: Option<String>,
    /// For a referrer: how the crawler found it (referrers API, fallback tag, cosign tag…).
    #[serde(default)]
    pub sources: Vec<String>,
    /// For a signature: what its verdicts say together (`verified` by a policy, `invalid`, …),
    /// with the policies that verified it.
    #[serde(default)]
    pub signature: Option<SignatureBadge>,
}

/// An artifact page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ArtifactView {
    /// Registry name.
    pub registry: String,
    /// Registry host for pull commands.
    pub host: String,
    /// The command its own tool fetches it with ([`artifact_pull_command`]).
    pub pull_command: String,
    /// `oras discover` for its tree of referrers, when it has any.
    pub discover_command: Option<String>,
    /// Repository path.
    pub repository: String,
    /// Digest.
    pub digest: String,
    /// Tags on this digest (versions only).
    pub tags: Vec<String>,
    /// Coarse kind.
    pub kind: String,
    /// Media type.
    pub media_type: String,
    /// Artifact type.
    pub artifact_type: Option<String>,
    /// Config media type.
    pub config_media_type: Option<String>,
    /// Platforms.
    pub platforms: Vec<String>,
    /// Size in bytes.
    pub size: u64,
    /// Created (RFC 3339).
    pub created: Option<String>,
    /// Manifest annotations.
    pub annotations: Vec<Annotation>,
    /// Config labels.
    pub labels: Vec<Annotation>,
    /// Annotations attached later by referrers, with who and when.
    #[serde(default)]
    pub attached_annotations: Vec<AttachedAnnotationView>,
    /// Annotations the indexes that list it put on its descriptor.
    #[serde(default)]
    pub descriptor_annotations: Vec<Annotation>,
    /// Layers or blobs.
    pub layers: Vec<Part>,
    /// Index children.
    pub children: Vec<Part>,
    /// The subject this artifact refers to.
    pub subject: Option<Related>,
    /// Artifacts that refer to this one directly (the tree comes from the referrers lookup).
    pub referrer_count: usize,
    /// Their distinct artifact types, for the tree's filter.
    pub referrer_types: Vec<String>,
    /// Indexes that list this manifest.
    pub parents: Vec<Related>,
    /// Badges from referrers.
    pub badges: Badges,
    /// The image's build history from its config, oldest step first.
    pub history: Vec<HistoryStep>,
    /// How the image runs, from its config; `None` when the config sets none of it.
    pub run_config: Option<RunConfig>,
    /// Bytes of the manifest (the page loads it from the registry on demand, see [`RawDocument`]).
    pub manifest_size: u64,
    /// Bytes of the config, when it is JSON the page can show.
    pub config_size: Option<u64>,
    /// Why the latest crawl could not read this manifest again; the page shows the last
    /// verified state. `None` when it was read.
    #[serde(default)]
    pub crawl_error: Option<String>,
    /// For a signature: the verdict on each signature it holds.
    #[serde(default)]
    pub verifications: Vec<Verification>,
}

/// One step of an image's build history (`history` in the image config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct HistoryStep {
    /// The command that made the step (`created_by`), as the config says it.
    pub created_by: String,
    /// When (RFC 3339), if the config says.
    pub created: Option<String>,
    /// True when the step added no layer (ENV, CMD, LABEL…).
    pub empty_layer: bool,
    /// The step's comment, if any.
    pub comment: Option<String>,
}

/// Formats a byte count for people (`1.2 MB`).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// The date part of an RFC 3339 timestamp (`2024-01-05`).
pub fn short_date(timestamp: &str) -> String {
    timestamp.chars().take(10).collect()
}

/// `yyyy-mm-dd hh:mm UTC` from an RFC 3339 UTC timestamp (what the server sends).
pub fn short_time(timestamp: &str) -> String {
    match (timestamp.get(..10), timestamp.get(11..16)) {
        (Some(date), Some(time)) if timestamp.ends_with("+00:00") || timestamp.ends_with('Z') => {
            format!("{date} {time} UTC")
        }
        _ => short_date(timestamp),
    }
}

/// The first 12 hex characters of a digest.
pub fn short_digest(digest: &str) -> String {
    let hex = digest.split_once(':').map_or(digest, |(_, hex)| hex);
    hex.chars().take(12).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_digests_format_for_people() {
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_234_567), "1.2 MB");
        assert_eq!(short_digest("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_date("2024-01-05T10:00:00Z"), "2024-01-05");
        assert_eq!(short_time("2026-11-23T16:33:36.888419281+00:00"), "2026-11-23 16:33 UTC");
        assert_eq!(short_time("2024-01-05T10:00:00+02:00"), "2024-01-05", "other offsets keep the date only");
        assert_eq!(short_time("2024"), "2024");
    }
}
