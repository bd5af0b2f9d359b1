//! Copy plans and reports on the wire (the browser build will share them): what will be
//! written where, what the destination already holds, what a filter leaves out, and how each
//! step went.

use serde::{Deserialize, Serialize};

/// Most manifests one plan may hold (an artifact, its index children and its referrers).
pub const MAX_MANIFESTS: usize = 5_000;
/// Most artifacts a search or a repository copy starts from.
pub const MAX_ROOTS: usize = 500;

/// A repository of a connected registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct Endpoint {
    /// The registry's configured name.
    pub registry: String,
    /// The repository.
    pub repository: String,
}

/// What to copy and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct CopyRequest {
    /// Where the artifacts are.
    pub source: Endpoint,
    /// One artifact (its digest); without it, what `query` finds in the source repository, or
    /// without a query every tagged artifact of it.
    #[serde(default)]
    pub digest: Option<String>,
    /// A search within the source repository (`tag:1.4.*`, `created > now-7d`).
    #[serde(default)]
    pub query: Option<String>,
    /// Where it goes.
    pub destination: Endpoint,
    /// The tags to set on the one artifact there (none: by digest only); a search or a
    /// repository copy keeps each artifact's own tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// What goes along.
    #[serde(flatten)]
    pub filter: GraphFilter,
}

/// What goes along with the artifacts a copy or an export starts from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct GraphFilter {
    /// Referrers whose artifact type starts with one of these stay behind (with what hangs on
    /// them).
    #[serde(default)]
    pub exclude_artifact_types: Vec<String>,
    /// When set, only referrers whose artifact type starts with one of these go along.
    #[serde(default)]
    pub include_artifact_types: Vec<String>,
    /// When set, an index goes as its one image for this platform (`linux/amd64`,
    /// `linux/arm64/v8`; a prefix matches a variant), tags and all, and the index stays behind.
    #[serde(default)]
    pub platforms: Vec<String>,
}

/// How a manifest belongs to the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The artifact asked for.
    Root,
    /// A manifest an index lists.
    Child,
    /// Something attached to a manifest of the copy (by `subject`, a cosign tag, buildx).
    Referrer,
}

/// One manifest the plan writes (in this order: index children before their index, subjects
/// before their referrers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct ManifestItem {
    /// Its digest (the same at the destination: the bytes are copied as they are).
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// `image`, `signature`, `sbom`, …
    pub kind: String,
    /// Its artifact type, if any.
    pub artifact_type: Option<String>,
    /// How it belongs to the copy.
    pub role: Role,
    /// The manifest it is attached to (referrers) or listed by (children).
    pub parent: Option<String>,
    /// Its OCI `subject`, if it has one.
    pub subject: Option<String>,
    /// Tags it carries over (cosign's `sha256-<hex>.sig|.att|.sbom`, which name the subject).
    pub tags: Vec<String>,
    /// Whether the destination already holds it (skipped).
    pub present: bool,
}

/// One blob the plan copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct BlobItem {
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// Whether the destination already holds it (skipped).
    pub present: bool,
}

/// A referrer added to the destination's `sha256-<hex>` fallback index (a destination
/// without the referrers API lists referrers so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct FallbackItem {
    /// The subject whose fallback index gains an entry.
    pub subject: String,
    /// The referrer.
    pub referrer: String,
}

/// A tag the copy sets at the destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct TagItem {
    /// The tag.
    pub tag: String,
    /// The manifest it will name.
    pub digest: String,
}

/// A destination tag that already names another manifest: moving it needs confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct MovedTag {
    /// The tag.
    pub tag: String,
    /// What it names now.
    pub from: String,
    /// What it would name.
    pub to: String,
}

/// Something the filter left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct Excluded {
    /// Its digest.
    pub digest: String,
    /// Why.
    pub reason: String,
}

/// What a plan moves, in bytes and counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct CopyTotals {
    /// Manifests written.
    pub manifests: usize,
    /// Manifests the destination holds already.
    pub manifests_present: usize,
    /// Blobs copied.
    pub blobs: usize,
    /// Blobs the destination holds already.
    pub blobs_present: usize,
    /// Bytes of the blobs and manifests copied.
    pub bytes: u64,
    /// Bytes skipped because the destination holds them.
    pub bytes_present: u64,
}

/// A copy plan: everything that will be written, for a person to read before it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct CopyPlan {
    /// What was asked.
    pub request: CopyRequest,
    /// The artifacts the copy starts from.
    pub roots: Vec<String>,
    /// The tags set at the destination, last (cosign's tags of referrers are in `manifests`).
    pub tags: Vec<TagItem>,
    /// The manifests, in the order they are written.
    pub manifests: Vec<ManifestItem>,
    /// The blobs, each once.
    pub blobs: Vec<BlobItem>,
    /// Whether the destination repository answers the referrers API.
    pub destination_referrers_api: bool,
    /// Fallback index entries to add (only without the referrers API).
    pub fallback: Vec<FallbackItem>,
    /// Tags that would be moved at the destination.
    pub moved_tags: Vec<MovedTag>,
    /// What the filter leaves behind.
    pub excluded: Vec<Excluded>,
    /// Counts and bytes.
    pub totals: CopyTotals,
    /// SHA-256 over everything above: executing needs it back, so what runs is what was shown.
    pub fingerprint: String,
}

impl CopyPlan {
    /// How many steps running it takes: each blob, each manifest, each subject whose fallback
    /// index is updated, each tag (cosign's and the requested ones).
    pub fn step_count(&self) -> usize {
        let mut subjects: Vec<&str> = self.fallback.iter().map(|entry| entry.subject.as_str()).collect();
        subjects.sort_unstable();
        subjects.dedup();
        let cosign_tags: usize = self.manifests.iter().map(|item| item.tags.len()).sum();
        self.blobs.len() + self.manifests.len() + subjects.len() + cosign_tags + self.tags.len()
    }
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StepOutcome {
    /// Written (bytes sent, for blobs).
    Copied { bytes: u64 },
    /// Mounted from another repository of the same registry.
    Mounted,
    /// The destination held it already.
    Present,
    /// Failed; nothing after it ran.
    Failed { reason: String },
}

/// One step of an execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct Step {
    /// `blob`, `manifest`, `fallback` or `tag`.
    pub what: String,
    /// The digest or tag.
    pub target: String,
    /// How it went.
    pub outcome: StepOutcome,
}

/// What an execution did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct CopyReport {
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// Whether every step succeeded.
    pub complete: bool,
}

/// What to export to an OCI image layout (a directory on the server or a `.tar` download).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct ExportRequest {
    /// Where the artifacts are.
    pub source: Endpoint,
    /// One artifact (its digest); without it, what `query` finds in the source repository, or
    /// without a query every tagged artifact of it.
    #[serde(default)]
    pub digest: Option<String>,
    /// A search within the source repository.
    #[serde(default)]
    pub query: Option<String>,
    /// The names (`org.opencontainers.image.ref.name`) the one artifact gets in the layout; a
    /// search or repository export keeps each artifact's own tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// What goes along.
    #[serde(flatten)]
    pub filter: GraphFilter,
}

/// An export plan: the graph that goes into the layout, in the order it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct ExportPlan {
    /// What was asked.
    pub request: ExportRequest,
    /// The artifacts the export starts from.
    pub roots: Vec<String>,
    /// The names `index.json` gives them.
    pub tags: Vec<TagItem>,
    /// The manifests (`present`: the directory holds it already).
    pub manifests: Vec<ManifestItem>,
    /// The blobs, each once.
    pub blobs: Vec<BlobItem>,
    /// What the filter leaves behind.
    pub excluded: Vec<Excluded>,
    /// Counts and bytes.
    pub totals: CopyTotals,
}
