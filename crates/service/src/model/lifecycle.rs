//! What the delete, audit and retention pages receive: plans, executions, audit pages and
//! retention reports (the types themselves come from `ocicat-lifecycle`, which builds for the
//! browser without its engine).

use serde::{Deserialize, Serialize};

pub use ocicat_lifecycle::{
    AuditEntry, BrokenParent, Execution, ExecutionState, FallbackRewrite, ItemResult, KeptItem, Mode, Outcome, Plan,
    PlanItem, PlanRequest, Reason, RetentionChoice, RetentionRun, TagDeletion, TargetSpec, Totals,
};

/// Reads `registry/repository:tag` or `registry/repository@sha256:…` (what the CLI and the diff
/// page name artifacts by); the error says what is missing.
pub fn parse_target(text: &str) -> Result<TargetSpec, String> {
    let text = text.trim();
    let (registry, rest) = text
        .split_once('/')
        .ok_or_else(|| format!("{text:?}: name registry/repository:tag or registry/repository@digest"))?;
    let (repository, reference) = match rest.split_once('@') {
        Some((repository, digest)) => (repository, digest),
        // The tag follows the last path segment's colon.
        None => rest
            .rsplit_once(':')
            .filter(|(_, tag)| !tag.contains('/'))
            .ok_or_else(|| format!("{text:?}: name a tag (:tag) or a digest (@sha256:…)"))?,
    };
    if registry.is_empty() || repository.is_empty() || reference.is_empty() {
        return Err(format!("{text:?}: registry, repository and tag or digest must not be empty"));
    }
    Ok(TargetSpec { registry: registry.into(), repository: repository.into(), reference: reference.into() })
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_registry_repository_and_reference() {
        let tag = parse_target("local/demo/app:1.0").unwrap();
        assert_eq!(
            (tag.registry.as_str(), tag.repository.as_str(), tag.reference.as_str()),
            ("local", "demo/app", "1.0")
        );
        let digest = format!("sha256:{}", "a".repeat(64));
        let pinned = parse_target(&format!("local/demo/app@{digest}")).unwrap();
        assert_eq!((pinned.repository.as_str(), pinned.reference), ("demo/app", digest));
        assert!(parse_target("local/demo/app").is_err());
        assert!(parse_target("nothing").is_err());
        assert!(parse_target("localhost:5000/app").is_err(), "a port is not a tag");
    }
}
