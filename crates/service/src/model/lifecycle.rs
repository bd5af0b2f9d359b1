//! What the delete, audit and retention pages receive: plans, executions, audit pages and
//! retention reports (the types themselves come from `ocicat-lifecycle`, which builds for the
//! browser without its engine).

use serde::{Deserialize, Serialize};

pub use ocicat_lifecycle::{
    AuditEntry, BrokenParent, Execution, ExecutionState, FallbackRewrite, ItemResult, KeptItem, Mode, Outcome, Plan,
    PlanItem, PlanRequest, Reason, RetentionChoice, RetentionRun, TagDeletion, TargetSpec, Totals,
};

/// A plan as the page shows it, with the token its confirmation must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct PlanPreview {
    /// The plan (not stored until confirmed).
    pub plan: Plan,
    /// The anti-CSRF token of this session.
    pub csrf: String,
}

/// One page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct AuditPage {
    /// The entries.
    pub entries: Vec<AuditEntry>,
    /// `before` for the next (older) page, when there is one.
    pub older: Option<i64>,
}

/// A retention policy as configured, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct PolicyView {
    /// Its name.
    pub name: String,
    /// `registry/repositories`.
    pub covers: String,
    /// Its rules, one sentence each.
    pub rules: Vec<String>,
    /// "every 24 h" or "on demand".
    pub schedule: String,
    /// True when runs only report.
    pub dry_run: bool,
    /// True when the viewer may run it now.
    pub can_run: bool,
}

/// The retention page: policies and their recent runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct RetentionView {
    /// Configured policies.
    pub policies: Vec<PolicyView>,
    /// Recent runs, newest first.
    pub runs: Vec<RetentionRun>,
    /// The anti-CSRF token of this session.
    pub csrf: String,
}
