//! Reads the report a scan artifact (or a cosign vulnerability attestation) carries, counts its
//! findings and keeps each (advisory, package, installed, fixed, severity), so an artifact's page,
//! `vulns.critical > 0` and `cve:…` need no registry call.

use ocicat_catalog::impact::{FindingFact, MAX_FACTS};
use ocicat_catalog::{ArtifactDoc, Vulnerabilities};
use ocicat_formats::scan::{COSIGN_VULN_PREDICATE, parse};
use ocicat_oci::{Client, Digest, Manifest, ManifestBody};

/// Largest report read; bigger ones are left unread (the page offers the download).
const MAX_REPORT_BYTES: u64 = 8 << 20;

/// The layer holding the report, if `document` is a scan or a vulnerability attestation.
fn report_layer(document: &ArtifactDoc, manifest: &Manifest) -> Option<(Digest, u64)> {
    let ManifestBody::Image(image) = &manifest.body else { return None };
    let is_vuln_attestation = |layer: &oci_spec::image::Descriptor| {
        layer.annotations().as_ref().is_some_and(|annotations| {
            ["predicateType", "in-toto.io/predicate-type"]
                .iter()
                .any(|key| annotations.get(*key).map(String::as_str) == Some(COSIGN_VULN_PREDICATE))
        })
    };
    let layer = image.layers().iter().find(|layer| {
        let media_type = layer.media_type().to_string();
        let json = media_type.ends_with("json");
        (document.kind == ocicat_oci::ArtifactKind::Scan && json) || is_vuln_attestation(layer)
    })?;
    let digest = layer.digest().to_string().parse::<Digest>().ok()?;
    Some((digest, layer.size()))
}

/// What a scan report said: its counts and its findings.
pub(crate) struct ReadReport {
    pub(crate) counts: Vulnerabilities,
    pub(crate) findings: Vec<FindingFact>,
    /// The scanner and its version, when the report says.
    pub(crate) producer: Option<String>,
}

/// Fetches `document`'s report, counts its findings and keeps them. `Ok(None)`: not a report,
/// too big, or a format nothing here reads; `Err`: the registry failed or lied (the crawl counts
/// it).
pub(crate) async fn read_findings(
    client: &Client,
    repository: &str,
    document: &ArtifactDoc,
    manifest: &Manifest,
) -> Result<Option<ReadReport>, String> {
    let Some((digest, size)) = report_layer(document, manifest) else { return Ok(None) };
    if size > MAX_REPORT_BYTES {
        tracing::debug!(artifact.digest = %document.digest, size, "scan report too large to summarise");
        return Ok(None);
    }
    let bytes = client
        .get_blob(repository, &digest)
        .await
        .map_err(|error| format!("{repository}@{} report: {error}", document.digest))?;
    match parse(&bytes) {
        Ok(report) => {
            let found = report.counts();
            let producer = report.scanner.clone().map(|scanner| {
                format!("{scanner} {}", report.scanner_version.clone().unwrap_or_default()).trim().to_owned()
            });
            let findings = report
                .findings
                .into_iter()
                .take(MAX_FACTS)
                .map(|finding| FindingFact {
                    id: finding.id,
                    package: finding.package,
                    installed: finding.installed.filter(|version| !version.is_empty()),
                    fixed: finding.fixed.filter(|version| !version.is_empty()),
                    severity: finding.severity.as_str().to_owned(),
                    aliases: finding.aliases,
                })
                .collect();
            let counts = Vulnerabilities {
                scan: document.digest.clone(),
                scanned: document.created,
                critical: found.critical,
                high: found.high,
                medium: found.medium,
                low: found.low,
                unknown: found.unknown,
            };
            Ok(Some(ReadReport { counts, findings, producer }))
        }
        Err(error) => {
            tracing::debug!(artifact.digest = %document.digest, %error, "scan report not summarised");
            Ok(None)
        }
    }
}
