//! Impact on the wire: which artifacts an SBOM or scan says contain a package or carry an
//! advisory, grouped by registry and repository, with what each document says.

use serde::{Deserialize, Serialize};

use super::Badges;

/// A document that says so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ImpactSource {
    /// The SBOM's or scan's digest.
    pub digest: String,
    /// `sbom`, `attestation` or `scan`.
    pub kind: String,
    /// The tool that made it, when it says.
    pub producer: Option<String>,
    /// When it was made (RFC 3339), when known.
    pub created: Option<String>,
}

/// One fact about an artifact: a package it contains, or an advisory it carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ImpactMatch {
    /// The package.
    pub package: String,
    /// The version installed, when known.
    pub version: Option<String>,
    /// Its ecosystem (purl type), when known.
    pub ecosystem: Option<String>,
    /// The advisory, for a finding.
    pub advisory: Option<String>,
    /// Its severity, for a finding.
    pub severity: Option<String>,
    /// The version that fixes it, when the scan names one.
    pub fixed: Option<String>,
    /// Every document that says so (an SPDX and a CycloneDX SBOM of one image: one match,
    /// two sources).
    pub sources: Vec<ImpactSource>,
}

/// One affected artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ImpactRow {
    /// Its digest.
    pub digest: String,
    /// Its version tags.
    pub tags: Vec<String>,
    /// Its kind.
    pub kind: String,
    /// When it was built (RFC 3339), when known.
    pub created: Option<String>,
    /// What makes it match.
    pub matches: Vec<ImpactMatch>,
    /// True when every finding shown has a fix; `None` when no finding is shown.
    pub fixable: Option<bool>,
    /// Its badges: signature verdict, end of life, scans.
    pub badges: Badges,
    /// True when it is the newest tagged build of its repository.
    pub latest: bool,
}

/// The affected artifacts of one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ImpactGroup {
    /// Registry name.
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Its affected artifacts, newest first.
    pub rows: Vec<ImpactRow>,
}

/// The order of an impact answer's repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ImpactSort {
    /// By registry and repository, A to Z.
    #[default]
    Repository,
    /// The repository with the most recently built affected artifact first.
    Newest,
    /// The repository with the most affected artifacts first.
    Affected,
}

impl ImpactSort {
    /// Every order, as the page offers them.
    pub const ALL: [ImpactSort; 3] = [ImpactSort::Repository, ImpactSort::Newest, ImpactSort::Affected];

    /// Its name in URLs, the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ImpactSort::Repository => "repository",
            ImpactSort::Newest => "newest",
            ImpactSort::Affected => "affected",
        }
    }

    /// What the page calls it.
    pub fn label(self) -> &'static str {
        match self {
            ImpactSort::Repository => "Repository A–Z",
            ImpactSort::Newest => "Newest build",
            ImpactSort::Affected => "Most affected",
        }
    }

    /// The order named `name` (empty: the default).
    pub fn parse(name: &str) -> Option<ImpactSort> {
        match name.trim() {
            "" => Some(ImpactSort::default()),
            name => ImpactSort::ALL.into_iter().find(|sort| sort.as_str() == name),
        }
    }
}

/// The answer to an impact query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ImpactView {
    /// The query.
    pub query: String,
    /// Only the newest tagged build of each repository.
    pub latest_only: bool,
    /// The order of the repositories.
    #[serde(default)]
    pub sort: ImpactSort,
    /// Affected artifacts (after the latest-only cut).
    pub artifacts: u64,
    /// Repositories with one.
    pub repositories: u64,
    /// Registries with one.
    pub registries: u64,
    /// True when the search found more than the page can weigh (narrow the query).
    pub truncated: bool,
    /// This page's groups.
    pub groups: Vec<ImpactGroup>,
    /// Zero-based page of repositories.
    pub page: usize,
    /// Repositories a page.
    pub per_page: usize,
}
