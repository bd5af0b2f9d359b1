//! The plan, execution report, audit entry and retention report types: what the server stores,
//! the JSON API answers and the pages render (this module also builds for the browser).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most targets one plan takes (a bulk delete of a larger search is cut and says so).
pub const MAX_TARGETS: usize = 10_000;
/// Most manifests one plan deletes.
pub const MAX_ITEMS: usize = 200_000;

/// What to delete, as asked: references (a tag or a digest) or a search query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Artifacts chosen one by one.
    #[serde(default)]
    pub targets: Vec<TargetSpec>,
    /// A search in the query language; every artifact it finds (capped) becomes a target.
    #[serde(default)]
    pub query: Option<String>,
    /// Remove only the tags of tag targets, never a manifest (where the registry can).
    #[serde(default)]
    pub tag_only: bool,
}

/// One artifact to delete: a tag or a digest in a repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    /// The configured registry name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// A tag (`1.0`) or a digest (`sha256:…`).
    pub reference: String,
}

/// Why an item is in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum Reason {
    /// It was asked for.
    Target,
    /// It refers to `of` (subject, cosign tag or buildx attestation), which goes.
    Referrer {
        /// The digest it is attached to.
        of: String,
    },
    /// It is listed by the index `of`, which goes, and nothing else needs it.
    Child {
        /// The index digest.
        of: String,
    },
    /// It is the fallback referrers index (`<alg>-<hex>` tag) of `of`, which goes.
    FallbackIndex {
        /// The subject digest.
        of: String,
    },
}

impl Reason {
    /// The digest that brought this item in, if it was not asked for.
    pub fn parent(&self) -> Option<&str> {
        match self {
            Reason::Target => None,
            Reason::Referrer { of } | Reason::Child { of } | Reason::FallbackIndex { of } => Some(of),
        }
    }
}

/// One manifest the plan deletes (or, for a tag-only plan, one tag it removes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct PlanItem {
    /// The configured registry name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The manifest digest deleted (the one confirmed; a tag is re-checked against it).
    pub digest: String,
    /// Coarse kind (`image`, `index`, `signature`, …).
    pub kind: String,
    /// Every tag on the digest; distribution removes them all with the manifest.
    pub tags: Vec<String>,
    /// For a target chosen by tag: that tag, re-checked with HEAD before deleting.
    pub tag: Option<String>,
    /// Manifest, config and layers in bytes (blobs stay until the registry's garbage collection).
    pub size: u64,
    /// Why it goes.
    pub reason: Reason,
    /// How far from a target (0 for targets).
    pub depth: u32,
    /// Digests in the plan that must be gone before this one: what is attached to it, the
    /// indexes listing it, its fallback referrers index. If one of them stays, so does this.
    #[serde(default)]
    pub after: Vec<String>,
}

/// Something reachable from a target that stays, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct KeptItem {
    /// The configured registry name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The manifest digest.
    pub digest: String,
    /// Coarse kind.
    pub kind: String,
    /// What still needs it, in words.
    pub because: String,
}

/// An index that stays but lists a manifest the plan deletes: it will point at nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct BrokenParent {
    /// The configured registry name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The index digest.
    pub digest: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// The deleted child it lists.
    pub child: String,
}

/// A fallback referrers index (`sha256-<hex>` tag) pushed again without the deleted referrers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct FallbackRewrite {
    /// The configured registry name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The subject whose referrers it lists (it stays).
    pub subject: String,
    /// The fallback tag.
    pub tag: String,
    /// The referrers removed from it.
    pub remove: Vec<String>,
}

/// What a plan takes, in numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct Totals {
    /// Manifests deleted.
    pub manifests: u64,
    /// Version tags that disappear with them (fallback and cosign tags not counted).
    pub tags: u64,
    /// Their sizes summed (shared blobs counted once per manifest).
    pub bytes: u64,
    /// Manifests by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Repositories touched.
    pub repositories: u64,
}

/// Whether a tag target can lose just its tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TagDeletion {
    /// The registry removed a tag alone before (`DELETE …/manifests/<tag>`).
    Supported,
    /// The registry cannot (distribution 2.8 and ferro): ocicat points the tag at a throwaway
    /// manifest and deletes that; the image and its other tags stay.
    Throwaway,
    /// Neither worked before (the registry refuses deletes altogether).
    Unsupported,
    /// Not tried on this registry yet.
    Unknown,
}

/// How a plan deletes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Manifests by digest, with their referrers (and every tag on them).
    #[default]
    Manifests,
    /// Tags only; manifests and referrers stay.
    TagOnly,
}

/// Everything one delete would take and touch, in execution order, computed from the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct Plan {
    /// A fingerprint of the targets and items: the same plan computed again has the same id.
    pub id: String,
    /// When it was computed.
    pub created: DateTime<Utc>,
    /// Who asked (a user, `retention:<policy>`, or `operator` for the local CLI).
    pub created_by: String,
    /// The search it came from, if any.
    pub query: Option<String>,
    /// Manifests, or tags only.
    pub mode: Mode,
    /// What was asked for, resolved.
    pub targets: Vec<PlanItem>,
    /// Everything deleted, referrers before subjects and indexes before their children.
    pub items: Vec<PlanItem>,
    /// Reachable from a target but kept.
    pub kept: Vec<KeptItem>,
    /// Indexes that stay but will list a deleted manifest.
    pub broken_parents: Vec<BrokenParent>,
    /// Fallback referrers indexes pushed again without the deleted referrers.
    pub fallback_rewrites: Vec<FallbackRewrite>,
    /// Per registry, whether removing a tag alone works there (for tag targets).
    pub tag_deletion: BTreeMap<String, TagDeletion>,
    /// Things the user should read before confirming.
    pub warnings: Vec<String>,
    /// Counts and sizes.
    pub totals: Totals,
    /// True when a cap (targets, nodes) cut the plan: it deletes less than was asked.
    pub truncated: bool,
    /// Repositories whose latest crawl did not see everything (`registry/repository (why)`):
    /// the plan may miss what holds an item, so it cannot run until they are crawled in full.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Not reached yet.
    Pending,
    /// The registry accepted the delete.
    Deleted,
    /// It was gone already (404): counts as done.
    AlreadyGone,
    /// Its tag points elsewhere since the plan: not deleted.
    TagMoved,
    /// Not attempted because an item it depends on failed or moved.
    Skipped,
    /// The registry refused or failed.
    Failed,
}

impl Outcome {
    /// A stable key: the audit log's outcome, `data-outcome`, CSS classes.
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Pending => "pending",
            Outcome::Deleted => "deleted",
            Outcome::AlreadyGone => "already_gone",
            Outcome::TagMoved => "tag_moved",
            Outcome::Skipped => "skipped",
            Outcome::Failed => "failed",
        }
    }

    /// The words a page shows.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::AlreadyGone => "already gone",
            Outcome::TagMoved => "tag moved",
            other => other.key(),
        }
    }

    /// True for the outcomes that need no more work.
    pub fn is_done(self) -> bool {
        matches!(self, Outcome::Deleted | Outcome::AlreadyGone)
    }
}

/// One item's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct ItemResult {
    /// The configured registry name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The digest (or, for tag-only plans, the digest the tag pointed at).
    pub digest: String,
    /// For a tag-only item or a re-checked target: the tag.
    pub tag: Option<String>,
    /// What happened.
    pub outcome: Outcome,
    /// Why, for anything but a plain success.
    pub message: Option<String>,
    /// True when the registry refuses deletes altogether (deletion disabled), so the rest of
    /// the plan there is not tried.
    #[serde(default)]
    pub refused: bool,
}

/// Where an execution stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExecutionState {
    /// Computed, not executed.
    Planned,
    /// Deleting now (or interrupted: it resumes on the next start).
    Running,
    /// Every item done.
    Done,
    /// Finished with items failed, moved or skipped.
    Partial,
    /// Stopped before deleting anything (deletion disabled, no rights).
    Refused,
}

impl ExecutionState {
    /// A stable key: the JSON value, the store's `state` column, the audit log, CSS classes.
    pub fn key(self) -> &'static str {
        match self {
            ExecutionState::Planned => "planned",
            ExecutionState::Running => "running",
            ExecutionState::Done => "done",
            ExecutionState::Partial => "partial",
            ExecutionState::Refused => "refused",
        }
    }
}

/// A stored plan with its execution so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct Execution {
    /// The plan.
    pub plan: Plan,
    /// Where it stands.
    pub state: ExecutionState,
    /// Who confirmed it.
    pub executed_by: Option<String>,
    /// When execution started.
    pub started: Option<DateTime<Utc>>,
    /// When it finished.
    pub finished: Option<DateTime<Utc>>,
    /// One result per plan item, in plan order.
    pub results: Vec<ItemResult>,
    /// Fallback index rewrites: tag and what happened.
    pub rewrites: Vec<ItemResult>,
    /// Why it was refused or stopped, for the whole plan.
    pub message: Option<String>,
}

impl Execution {
    /// Counts of results by outcome.
    pub fn counts(&self) -> BTreeMap<Outcome, u64> {
        let mut counts = BTreeMap::new();
        for result in &self.results {
            *counts.entry(result.outcome).or_insert(0) += 1;
        }
        counts
    }
}

/// One line of the audit log: who did what, when, to what, with what outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    /// Position in the log (increasing, never reused).
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: a user name, `retention:<policy>`, `operator` or `anonymous`.
    pub actor: String,
    /// `plan`, `execute`, `delete`, `delete-tag`, `rewrite-fallback`, `retention-run`.
    pub action: String,
    /// The configured registry name, if one item.
    pub registry: Option<String>,
    /// The repository, if one item.
    pub repository: Option<String>,
    /// The digest, if one item.
    pub digest: Option<String>,
    /// Tags on it at the time.
    pub tags: Vec<String>,
    /// The plan this belongs to.
    pub plan_id: Option<String>,
    /// `deleted`, `already_gone`, `tag_moved`, `failed`, `planned`, `dry_run`, …
    pub outcome: String,
    /// More words (an error message, counts).
    pub detail: Option<String>,
}

/// Why retention chose an artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct RetentionChoice {
    /// The configured registry name.
    pub registry: String,
    /// The repository path.
    pub repository: String,
    /// The digest.
    pub digest: String,
    /// Its version tags.
    pub tags: Vec<String>,
    /// Delete or keep, and the rule that decided.
    pub verdict: String,
    /// True when it goes.
    pub delete: bool,
}

/// One run of a retention policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "engine", derive(utoipa::ToSchema))]
pub struct RetentionRun {
    /// A random id.
    pub id: String,
    /// The policy's name.
    pub policy: String,
    /// When it ran.
    pub started: DateTime<Utc>,
    /// When it finished.
    pub finished: Option<DateTime<Utc>>,
    /// True when nothing was deleted on purpose.
    pub dry_run: bool,
    /// Every top-level artifact considered, with its verdict.
    pub choices: Vec<RetentionChoice>,
    /// The plan of what goes (with referrers), if anything goes.
    pub plan_id: Option<String>,
    /// Manifests the plan deletes (including referrers).
    pub manifests: u64,
    /// Their size.
    pub bytes: u64,
    /// Deleted, when not a dry run.
    pub deleted: u64,
    /// Failed, when not a dry run.
    pub failed: u64,
    /// Why the run failed as a whole, if it did.
    pub error: Option<String>,
    /// Choices left out of this copy of the report because the reader may not read their
    /// repositories; when any are, the totals and the plan (which count them) are left out too.
    #[serde(default)]
    pub hidden: u64,
}
