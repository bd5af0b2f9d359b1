//! SBOM and scan diffs on the wire: what changed between two artifacts' packages (added,
//! removed, up- and downgraded, relicensed) and findings (fixed, introduced).

use serde::{Deserialize, Serialize};

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct DiffSide {
    /// Registry name.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Digest.
    pub digest: String,
    /// Its version tags.
    pub tags: Vec<String>,
    /// When it was built (RFC 3339).
    pub created: Option<String>,
    /// SBOMs read for it.
    pub sboms: usize,
    /// Scans read for it.
    pub scans: usize,
}

/// A package on one side, the other, or both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct PackageChange {
    /// Its name.
    pub name: String,
    /// Its ecosystem (purl type), when known.
    pub ecosystem: Option<String>,
    /// Its version(s) on the first side.
    pub before: Vec<String>,
    /// Its version(s) on the second side.
    pub after: Vec<String>,
    /// Its licences on the first side.
    pub licenses_before: Vec<String>,
    /// Its licences on the second side.
    pub licenses_after: Vec<String>,
    /// False when the versions were compared as text (no ecosystem order applied).
    pub exact: bool,
}

/// A finding fixed or introduced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct FindingChange {
    /// The advisory.
    pub advisory: String,
    /// The package.
    pub package: String,
    /// Its severity.
    pub severity: String,
    /// The version installed on the side that has it.
    pub installed: Option<String>,
    /// The fixed version, when known.
    pub fixed: Option<String>,
}

/// What changed from `a` to `b`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct DiffView {
    /// The first artifact.
    pub a: DiffSide,
    /// The second artifact.
    pub b: DiffSide,
    /// Packages only in `b`.
    pub added: Vec<PackageChange>,
    /// Packages only in `a`.
    pub removed: Vec<PackageChange>,
    /// Packages newer in `b`.
    pub upgraded: Vec<PackageChange>,
    /// Packages older in `b`.
    pub downgraded: Vec<PackageChange>,
    /// Packages at the same version whose licences changed.
    pub relicensed: Vec<PackageChange>,
    /// Packages the same on both sides.
    pub unchanged: usize,
    /// Findings of `a`'s scans that `b`'s scans no longer report.
    pub fixed: Vec<FindingChange>,
    /// Findings `b`'s scans report that `a`'s did not.
    pub introduced: Vec<FindingChange>,
}
