//! A scan report for its viewer: findings filtered (severity, "has a fix", text), sorted and
//! paged; the other scans of the same subject, newest first; and the comparison with one of
//! them (what is new here, what is gone).

use std::collections::BTreeSet;

use ocicat_access::Principal;
use ocicat_catalog::ArtifactDoc;
use ocicat_formats::Document;
use ocicat_formats::scan::{Finding, Report};

use crate::error::AppError;
use crate::model::{ContentQuery, FindingRow, ScanDiff, ScanRef, ScanView, VulnerabilityCounts, is_http_link};
use crate::state::{Service, blocking};
use crate::viewer::{page_of, registry_error};

fn finding_row(finding: &Finding) -> FindingRow {
    FindingRow {
        id: finding.id.clone(),
        link: finding.url.clone().filter(|link| is_http_link(link)),
        package: finding.package.clone(),
        installed: finding.installed.clone(),
        fixed: finding.fixed.clone(),
        severity: finding.severity.to_string(),
        title: finding.title.clone(),
    }
}

/// Filters, sorts and pages a report's findings.
pub(crate) fn scan_view(
    report: &Report,
    query: &ContentQuery,
    scans: Vec<ScanRef>,
    compare: Option<ScanDiff>,
) -> ScanView {
    let counts = report.counts();
    let needle = query.q.trim().to_lowercase();
    let mut matching: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|finding| query.severity.is_empty() || finding.severity.to_string() == query.severity)
        .filter(|finding| !query.fixed || finding.fixed.as_deref().is_some_and(|fixed| !fixed.is_empty()))
        .filter(|finding| {
            needle.is_empty()
                || [Some(&finding.id), Some(&finding.package), finding.title.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|field| field.to_lowercase().contains(&needle))
        })
        .collect();
    match query.sort.as_str() {
        "id" => matching.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.package.cmp(&b.package))),
        "package" => matching.sort_by(|a, b| a.package.cmp(&b.package).then_with(|| a.severity.cmp(&b.severity))),
        _ => matching.sort_by(|a, b| a.severity.cmp(&b.severity).then_with(|| a.id.cmp(&b.id))),
    }
    let (page, pages, rows) = page_of(&matching, query.page);
    ScanView {
        format: report.format.clone(),
        scanner: report.scanner.clone(),
        scanner_version: report.scanner_version.clone(),
        database: report.database.clone(),
        scanned_at: report.scanned_at.clone(),
        artifact: report.artifact.clone(),
        wrapped_in: report.wrapped_in.clone(),
        counts: VulnerabilityCounts {
            critical: counts.critical,
            high: counts.high,
            medium: counts.medium,
            low: counts.low,
            unknown: counts.unknown,
        },
        fixable: report
            .findings
            .iter()
            .filter(|finding| finding.fixed.as_deref().is_some_and(|f| !f.is_empty()))
            .count(),
        matching: matching.len(),
        findings: rows.into_iter().map(finding_row).collect(),
        page,
        pages,
        truncated: report.truncated,
        scans,
        compare,
    }
}

impl Service {
    /// Every scan attached to the same subject as `artifact`, newest first.
    pub(crate) async fn scans_of(&self, artifact: &ArtifactDoc) -> Result<Vec<ScanRef>, AppError> {
        let Some(subject) = artifact.refers_to.clone().or_else(|| artifact.subject.clone()) else {
            return Ok(vec![scan_ref(artifact)]);
        };
        let catalog = self.catalog.clone();
        let (name, repo) = (artifact.registry.clone(), artifact.repository.clone());
        let mut scans: Vec<ArtifactDoc> = blocking(move || catalog.referrers(&name, &repo, &subject))
            .await?
            .into_iter()
            .filter(|referrer| referrer.kind == ocicat_catalog::ArtifactKind::Scan || referrer.scan_findings.is_some())
            .collect();
        if !scans.iter().any(|scan| scan.digest == artifact.digest) {
            scans.push(artifact.clone());
        }
        scans.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.digest.cmp(&b.digest)));
        Ok(scans.iter().map(scan_ref).collect())
    }
}

fn scan_ref(scan: &ArtifactDoc) -> ScanRef {
    ScanRef {
        digest: scan.digest.clone(),
        created: scan.created.map(|date| date.to_rfc3339()),
        artifact_type: scan.artifact_type.clone(),
        counts: scan.scan_findings.as_ref().map(crate::views::vulnerability_counts),
    }
}

impl Service {
    /// Compares `report` with the scan `other` (one of `scans`): what is new here, what is gone.
    pub(crate) async fn compare_with(
        &self,
        who: &Principal,
        artifact: &ArtifactDoc,
        report: &Report,
        other: &str,
        scans: &[ScanRef],
    ) -> Result<Option<ScanDiff>, AppError> {
        if other.is_empty() || other == artifact.digest {
            return Ok(None);
        }
        let Some(listed) = scans.iter().find(|scan| scan.digest == other) else {
            return Err(AppError::BadRequest(format!("{other:?} is not a scan of the same artifact")));
        };
        let other_artifact = self.find_indexed(who, &artifact.registry, &artifact.repository, other).await?;
        let documents = {
            let _turn = self.gates.documents().await?;
            self.content.documents(&other_artifact).await.map_err(registry_error)?
        };
        let Some(other_report) = documents.iter().find_map(|layer| match &layer.document {
            Ok(Document::Scan(report)) => Some(report),
            _ => None,
        }) else {
            return Err(AppError::BadRequest(format!("scan {other} cannot be read for a comparison")));
        };
        let (only_here, only_there, unchanged) = diff_findings(&report.findings, &other_report.findings);
        Ok(Some(ScanDiff {
            other: other.to_owned(),
            other_created: listed.created.clone(),
            only_here,
            only_there,
            unchanged,
        }))
    }
}

/// What `here` found that `there` did not, what `there` found that is gone here, and how many
/// (advisory, package) pairs both found.
fn diff_findings(here: &[Finding], there: &[Finding]) -> (Vec<FindingRow>, Vec<FindingRow>, usize) {
    let key = |finding: &Finding| (finding.id.clone(), finding.package.clone());
    let here_keys: BTreeSet<_> = here.iter().map(key).collect();
    let there_keys: BTreeSet<_> = there.iter().map(key).collect();
    let only_here = here.iter().filter(|finding| !there_keys.contains(&key(finding))).map(finding_row).collect();
    let only_there = there.iter().filter(|finding| !here_keys.contains(&key(finding))).map(finding_row).collect();
    (only_here, only_there, here_keys.intersection(&there_keys).count())
}

#[cfg(test)]
mod tests {
    use ocicat_formats::scan::Severity;

    use super::*;

    fn finding(id: &str, package: &str) -> Finding {
        Finding {
            id: id.to_owned(),
            package: package.to_owned(),
            installed: Some("1.0".to_owned()),
            fixed: None,
            severity: Severity::High,
            title: None,
            url: Some(format!("https://avd.aquasec.com/nvd/{}", id.to_ascii_lowercase())),
            target: None,
            aliases: Vec::new(),
        }
    }

    fn ids(rows: &[FindingRow]) -> Vec<(&str, &str)> {
        rows.iter().map(|row| (row.id.as_str(), row.package.as_str())).collect()
    }

    #[test]
    fn a_comparison_names_exactly_what_is_new_what_is_gone_and_what_stayed() {
        let older = [
            finding("CVE-2023-45853", "zlib1g"),
            finding("CVE-2023-4911", "libc6"),
            finding("CVE-2022-40897", "setuptools"),
            // The same advisory in another package is another finding.
            finding("CVE-2023-50495", "ncurses-base"),
        ];
        let newer = [
            finding("CVE-2023-45853", "zlib1g"),
            finding("CVE-2022-40897", "setuptools"),
            finding("CVE-2023-50495", "libtinfo6"),
            finding("CVE-2025-47273", "setuptools"),
        ];
        let (new, gone, shared) = diff_findings(&newer, &older);
        assert_eq!(ids(&new), [("CVE-2023-50495", "libtinfo6"), ("CVE-2025-47273", "setuptools")]);
        assert_eq!(ids(&gone), [("CVE-2023-4911", "libc6"), ("CVE-2023-50495", "ncurses-base")]);
        assert_eq!(shared, 2);
        let (new, gone, shared) = diff_findings(&older, &older);
        assert!(new.is_empty() && gone.is_empty());
        assert_eq!(shared, older.len());
        let (new, gone, shared) = diff_findings(&newer, &[]);
        assert_eq!((new.len(), gone.len(), shared), (newer.len(), 0, 0));
    }
}
