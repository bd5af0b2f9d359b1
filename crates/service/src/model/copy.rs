//! Copies on the wire: a stored copy plan with its id and, once run, its report (the plan and
//! report types are `ocicat-copy`'s, shared with the browser build).

use serde::{Deserialize, Serialize};

pub use ocicat_copy::{
    BlobItem, CopyPlan, CopyReport, CopyRequest, CopyTotals, Endpoint, Excluded, ExportPlan, ExportRequest,
    FallbackItem, GraphFilter, ManifestItem, MovedTag, Role, Step, StepOutcome,
};

/// A copy plan as the API and pages show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct CopyView {
    /// The plan's id (`GET /api/v1/copies/{id}`).
    pub id: String,
    /// When it was made (RFC 3339).
    pub created: String,
    /// Who made it.
    pub actor: String,
    /// The plan.
    pub plan: CopyPlan,
    /// How its execution went, once run (while it runs, the steps so far).
    pub report: Option<CopyReport>,
    /// Whether it is running now.
    #[serde(default)]
    pub running: bool,
}

/// A copy plan for the copy page, with the session's anti-CSRF token its execution carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyPreview {
    /// The stored plan.
    pub copy: CopyView,
    /// The session's anti-CSRF token.
    pub csrf: String,
}

/// Running a copy plan: the fingerprint shown, and whether moving destination tags is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct CopyExecution {
    /// The plan's fingerprint as shown.
    pub fingerprint: String,
    /// Confirms moving the tags the plan lists as moved.
    #[serde(default)]
    pub move_tags: bool,
    /// Answer when it ended (otherwise at once, while it runs).
    #[serde(default)]
    pub wait: bool,
}
