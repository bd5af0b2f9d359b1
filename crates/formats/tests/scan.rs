//! Scan reports: Trivy JSON and Trivy's SARIF as the seeder writes them (real advisories for real
//! package versions), another scanner's SARIF, CycloneDX vulnerabilities, and cosign
//! vulnerability attestations in DSSE envelopes.

use base64::Engine as _;
use ocicat_formats::scan::{self, COSIGN_VULN_PREDICATE, Finding, Findings, Report, Severity};
use ocicat_formats::{Document, Hint, read};
use serde_json::{Value, json};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn read_report(bytes: &[u8]) -> Report {
    match read(bytes, &Hint::default()).unwrap() {
        Document::Scan(report) => report,
        other => panic!("expected a scan report, got {other:?}"),
    }
}

fn finding<'a>(report: &'a Report, id: &str) -> &'a Finding {
    report.findings.iter().find(|finding| finding.id == id).unwrap_or_else(|| panic!("no finding {id}"))
}

fn vuln_attestation(result: Value) -> Vec<u8> {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": COSIGN_VULN_PREDICATE,
        "subject": [{"name": "127.0.0.1:5000/demo/app", "digest": {"sha256": "fc6345670cb1de8628b725ec57053b5e744d8ead99da312ca8712f25f8720e10"}}],
        "predicate": {
            "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
            "scanner": {"uri": "pkg:github/aquasecurity/trivy@0.57.1", "version": "0.57.1",
                "db": {"uri": "pkg:github/aquasecurity/trivy-db", "version": "2"}, "result": result},
            "metadata": {"scanStartedOn": "2024-02-01T09:59:00Z", "scanFinishedOn": "2024-02-01T10:00:00Z"}
        }
    });
    let envelope = json!({"payloadType": "application/vnd.in-toto+json",
        "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()),
        "signatures": [{"keyid": "", "sig": "MEUCIQ=="}]});
    envelope.to_string().into_bytes()
}

#[test]
fn trivy_json_lists_every_finding() {
    let report = read_report(&data("trivy-report.json"));
    assert_eq!(report.format, "Trivy JSON");
    assert_eq!(report.scanner.as_deref(), Some("Trivy"));
    assert_eq!(report.scanned_at.as_deref(), Some("2024-02-01T10:00:00Z"));
    assert_eq!(report.artifact.as_deref(), Some("127.0.0.1:5000/demo/app:1.0.0"));
    assert_eq!(report.findings.len(), 9);
    assert_eq!(report.counts(), Findings { critical: 1, high: 2, medium: 2, low: 4, unknown: 0 });
    let zlib = finding(&report, "CVE-2023-45853");
    assert_eq!(zlib.package, "zlib1g");
    assert_eq!(zlib.installed.as_deref(), Some("1:1.2.13.dfsg-1"));
    assert_eq!(zlib.fixed, None);
    assert_eq!(zlib.severity, Severity::Critical);
    assert_eq!(zlib.url.as_deref(), Some("https://avd.aquasec.com/nvd/cve-2023-45853"));
    assert_eq!(zlib.target.as_deref(), Some("127.0.0.1:5000/demo/app:1.0.0 (debian 12)"));
    let setuptools = finding(&report, "CVE-2024-6345");
    assert_eq!(setuptools.fixed.as_deref(), Some("70.0.0"));
    assert_eq!(setuptools.target.as_deref(), Some("Python"));
    assert_eq!(
        setuptools.title.as_deref(),
        Some("pypa/setuptools: Remote code execution via download functions in the package_index module")
    );
    assert_eq!(scan::findings(&data("trivy-report.json")).unwrap(), report.counts());
}

#[test]
fn trivy_sarif_reads_package_and_versions_from_the_message() {
    let report = read_report(&data("trivy-report.sarif.json"));
    assert_eq!(report.format, "SARIF 2.1.0");
    assert_eq!(report.scanner.as_deref(), Some("Trivy"));
    assert_eq!(report.scanner_version.as_deref(), Some("0.57.1"));
    assert_eq!(report.artifact.as_deref(), Some("127.0.0.1:5000/demo/app:1.0.0"));
    assert_eq!(report.findings.len(), 9);
    assert_eq!(report.counts(), Findings { critical: 1, high: 2, medium: 2, low: 4, unknown: 0 });
    let fixed = finding(&report, "CVE-2022-40897");
    assert_eq!(fixed.package, "setuptools");
    assert_eq!(fixed.installed.as_deref(), Some("65.5.0"));
    assert_eq!(fixed.fixed.as_deref(), Some("65.5.1"));
    assert_eq!(fixed.severity, Severity::Medium);
    assert_eq!(fixed.url.as_deref(), Some("https://avd.aquasec.com/nvd/cve-2022-40897"));
    assert_eq!(
        fixed.title.as_deref(),
        Some("pypa-setuptools: Regular Expression Denial of Service (ReDoS) in package_index.py")
    );
    let tar = finding(&report, "CVE-2005-2541");
    assert_eq!(tar.package, "tar");
    assert_eq!(tar.installed.as_deref(), Some("1.34+dfsg-1.2+deb12u1"));
    assert_eq!(tar.fixed, None, "an empty Fixed Version line is no fix");
    assert_eq!(tar.target.as_deref(), Some("127.0.0.1:5000/demo/app:1.0.0"));
}

#[test]
fn other_sarif_producers_use_the_location_and_the_score() {
    let log = json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "Grype", "semanticVersion": "0.74.0", "rules": [
            {"id": "CVE-2023-45853-zlib1g", "shortDescription": {"text": "CVE-2023-45853 critical vulnerability for zlib1g package"},
             "helpUri": "https://github.com/anchore/grype", "properties": {"security-severity": "9.8"}},
            {"id": "CVE-2022-3219-gpgv", "properties": {"security-severity": 3.3}}
        ]}},
        "invocations": [{"executionSuccessful": true, "startTimeUtc": "2024-02-01T09:00:00Z", "endTimeUtc": "2024-02-01T09:01:00Z"}],
        "results": [
            {"ruleId": "CVE-2023-45853-zlib1g", "message": {"text": "A critical vulnerability in deb package: zlib1g, version 1:1.2.13.dfsg-1 was found at: /var/lib/dpkg/status"},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "/var/lib/dpkg/status"}}}]},
            {"ruleId": "CVE-2022-3219-gpgv", "message": {"text": "gpgv"}},
            {"ruleId": "no-rule", "level": "error", "message": {"text": "first line\nsecond"}},
            "not a result"
        ]
    }]});
    let report = scan::from_value(&log).unwrap();
    assert_eq!(report.scanner.as_deref(), Some("Grype"));
    assert_eq!(report.scanner_version.as_deref(), Some("0.74.0"));
    assert_eq!(report.scanned_at.as_deref(), Some("2024-02-01T09:01:00Z"));
    assert_eq!(report.findings.len(), 3);
    let zlib = &report.findings[0];
    assert_eq!(zlib.package, "/var/lib/dpkg/status");
    assert_eq!(zlib.severity, Severity::Critical);
    assert_eq!(zlib.installed, None);
    assert_eq!(zlib.title.as_deref(), Some("CVE-2023-45853 critical vulnerability for zlib1g package"));
    assert_eq!(zlib.url.as_deref(), Some("https://github.com/anchore/grype"));
    assert_eq!(report.findings[1].package, "—");
    assert_eq!(report.findings[1].severity, Severity::Low);
    assert_eq!(report.findings[2].severity, Severity::High);
    assert_eq!(report.findings[2].title.as_deref(), Some("first line"));
}

#[test]
fn a_cosign_vulnerability_attestation_carries_scanner_database_and_times() {
    let trivy: Value = serde_json::from_slice(&data("trivy-report.json")).unwrap();
    let report = read_report(&vuln_attestation(trivy));
    assert_eq!(report.format, "cosign vulnerability attestation (Trivy JSON)");
    assert_eq!(report.wrapped_in.as_deref(), Some("in-toto statement in a DSSE envelope"));
    assert_eq!(report.scanner.as_deref(), Some("Trivy"));
    assert_eq!(report.scanner_version.as_deref(), Some("0.57.1"));
    assert_eq!(report.database.as_deref(), Some("pkg:github/aquasecurity/trivy-db 2"));
    assert_eq!(report.scanned_at.as_deref(), Some("2024-02-01T10:00:00Z"));
    assert_eq!(report.findings.len(), 9);
    assert_eq!(
        scan::findings(&vuln_attestation(serde_json::from_slice(&data("trivy-report.json")).unwrap()))
            .unwrap()
            .critical,
        1
    );

    let sarif: Value = serde_json::from_slice(&data("trivy-report.sarif.json")).unwrap();
    let report = read_report(&vuln_attestation(sarif));
    assert_eq!(report.format, "cosign vulnerability attestation (SARIF 2.1.0)");
    assert_eq!(report.counts().total(), 9);
}

#[test]
fn a_vulnerability_attestation_with_an_unknown_result_is_shown_as_an_attestation() {
    let bytes = vuln_attestation(json!({"matches": []}));
    match read(&bytes, &Hint::default()).unwrap() {
        Document::Attestation(attestation) => {
            assert_eq!(attestation.predicate_type, COSIGN_VULN_PREDICATE);
            assert!(attestation.predicate.contains("\"matches\": []"));
        }
        other => panic!("expected an attestation, got {other:?}"),
    }
    assert!(scan::findings(&bytes).is_err(), "nothing to count is not zero findings");
}

#[test]
fn cyclonedx_vulnerabilities_are_a_report_when_the_bom_lists_no_components() {
    let vex = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"timestamp": "2024-02-01T10:00:00Z",
            "tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": "0.57.1"}]},
            "component": {"bom-ref": "app", "type": "container", "name": "127.0.0.1:5000/demo/app:1.0.0"}},
        "vulnerabilities": [
            {"id": "CVE-2024-6345", "source": {"name": "ghsa", "url": "https://github.com/advisories/GHSA-cx63-2mw6-8hw5"},
             "ratings": [{"source": {"name": "ghsa"}, "score": 8.8, "severity": "high", "method": "CVSSv31"},
                         {"source": {"name": "nvd"}, "severity": "unknown"}],
             "description": "A vulnerability in the package_index module of pypa/setuptools versions up to 69.1.1 allows for remote code execution.",
             "affects": [{"ref": "pkg:pypi/setuptools@65.5.0", "versions": [{"version": "65.5.0", "status": "affected"}, {"version": "70.0.0", "status": "unaffected"}]}]},
            {"id": "CVE-2022-40897", "ratings": [{"score": 5.9}], "advisories": [{"url": "https://nvd.nist.gov/vuln/detail/CVE-2022-40897"}],
             "affects": [{"ref": "pkg:pypi/setuptools@65.5.0"}, {"ref": "unresolvable"}]},
            {"id": "CVE-2023-45853"}
        ]
    });
    let report = read_report(vex.to_string().as_bytes());
    assert_eq!(report.format, "CycloneDX 1.5 vulnerabilities");
    assert_eq!(report.scanner.as_deref(), Some("aquasecurity/trivy"));
    assert_eq!(report.scanner_version.as_deref(), Some("0.57.1"));
    assert_eq!(report.artifact.as_deref(), Some("127.0.0.1:5000/demo/app:1.0.0"));
    assert_eq!(report.findings.len(), 4);
    let first = &report.findings[0];
    assert_eq!(first.package, "setuptools");
    assert_eq!(first.installed.as_deref(), Some("65.5.0"));
    assert_eq!(first.fixed.as_deref(), Some("70.0.0"));
    assert_eq!(first.severity, Severity::High);
    assert_eq!(first.url.as_deref(), Some("https://github.com/advisories/GHSA-cx63-2mw6-8hw5"));
    assert_eq!(report.findings[1].severity, Severity::Medium);
    assert_eq!(report.findings[1].url.as_deref(), Some("https://nvd.nist.gov/vuln/detail/CVE-2022-40897"));
    assert_eq!(report.findings[2].package, "unresolvable");
    assert_eq!(report.findings[3].package, "—");
    assert_eq!(report.findings[3].severity, Severity::Unknown);

    let mut with_components = vex.clone();
    with_components["components"] =
        json!([{"bom-ref": "pkg:pypi/setuptools@65.5.0", "name": "setuptools", "version": "65.5.0"}]);
    assert!(matches!(read(with_components.to_string().as_bytes(), &Hint::default()).unwrap(), Document::Sbom(_)));
    let report = scan::from_cyclonedx(&with_components).unwrap();
    assert_eq!(report.findings[0].package, "setuptools");
    assert!(scan::from_cyclonedx(&json!({"bomFormat": "CycloneDX"})).is_none());
}

#[test]
fn a_report_serializes_with_lowercase_severities() {
    let report = read_report(&data("trivy-report.json"));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["findings"][0]["severity"], "critical");
    assert_eq!(json["truncated"], false);
}

#[test]
fn other_ids_of_an_advisory_are_kept_as_aliases() {
    let trivy = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-2024-3094", "VendorIDs": ["DSA-5649-1", "", "GHSA-rxwq-x6h5-x525"], "PkgName": "xz-utils",
         "InstalledVersion": "5.6.0-0.2", "Severity": "CRITICAL"}]}]});
    let report = read_report(trivy.to_string().as_bytes());
    assert_eq!(finding(&report, "CVE-2024-3094").aliases, ["DSA-5649-1", "GHSA-rxwq-x6h5-x525"]);
    let cyclonedx = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "components": [{"bom-ref": "pkg:deb/debian/xz-utils@5.6.0", "type": "library", "name": "xz-utils", "version": "5.6.0"}],
        "vulnerabilities": [{"id": "CVE-2024-3094", "references": [{"id": "GHSA-rxwq-x6h5-x525", "source": {"name": "GitHub"}}],
            "ratings": [{"severity": "critical"}], "affects": [{"ref": "pkg:deb/debian/xz-utils@5.6.0"}]}]});
    let report = scan::parse(cyclonedx.to_string().as_bytes()).unwrap();
    assert_eq!(finding(&report, "CVE-2024-3094").aliases, ["GHSA-rxwq-x6h5-x525"]);
}
