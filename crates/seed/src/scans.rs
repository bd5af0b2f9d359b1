//! Vulnerability scan reports in Trivy's JSON format (SchemaVersion 2) and in SARIF 2.1.0 as
//! Trivy emits it. Every finding is a real, public advisory for a package version that really
//! appears in the SBOMs attached next to it (Debian packages from the distro2sbom SPDX document,
//! setuptools 65.5.0 from the cyclonedx-py document).

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::document::{Annotations, Descriptor, keys, types};
use crate::push::Pusher;
use crate::referrers::{Payload, Subject, attach};

/// Where a finding lives: the image's OS packages or its Python packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Debian,
    Python,
}

/// One real advisory for one installed package.
#[derive(Debug, Clone, Copy)]
struct Advisory {
    id: &'static str,
    class: Class,
    package: &'static str,
    installed: &'static str,
    purl: &'static str,
    fixed: Option<&'static str>,
    status: &'static str,
    severity: &'static str,
    title: &'static str,
}

/// The findings, all checked against the package versions in the attached SBOMs.
const ADVISORIES: &[Advisory] = &[
    Advisory {
        id: "CVE-2023-45853",
        class: Class::Debian,
        package: "zlib1g",
        installed: "1:1.2.13.dfsg-1",
        purl: "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64",
        fixed: None,
        status: "will_not_fix",
        severity: "CRITICAL",
        title: "zlib: integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_6",
    },
    Advisory {
        id: "CVE-2023-50495",
        class: Class::Debian,
        package: "libtinfo6",
        installed: "6.4-4",
        purl: "pkg:deb/debian/libtinfo6@6.4-4?arch=amd64",
        fixed: None,
        status: "affected",
        severity: "MEDIUM",
        title: "ncurses: segmentation fault via _nc_wrap_entry()",
    },
    Advisory {
        id: "CVE-2022-3219",
        class: Class::Debian,
        package: "gpgv",
        installed: "2.2.40-1.1+deb12u2",
        purl: "pkg:deb/debian/gpgv@2.2.40-1.1+deb12u2?arch=amd64",
        fixed: None,
        status: "affected",
        severity: "LOW",
        title: "gnupg: denial of service issue (resource consumption) using compressed packets",
    },
    Advisory {
        id: "CVE-2018-6829",
        class: Class::Debian,
        package: "libgcrypt20",
        installed: "1.10.1-3",
        purl: "pkg:deb/debian/libgcrypt20@1.10.1-3?arch=amd64",
        fixed: None,
        status: "affected",
        severity: "LOW",
        title: "libgcrypt: ElGamal implementation doesn't have semantic security due to incorrectly encoded plaintexts",
    },
    Advisory {
        id: "CVE-2010-4756",
        class: Class::Debian,
        package: "libc6",
        installed: "2.36-9+deb12u14",
        purl: "pkg:deb/debian/libc6@2.36-9+deb12u14?arch=amd64",
        fixed: None,
        status: "affected",
        severity: "LOW",
        title: "glibc: glob implementation can cause excessive CPU and memory consumption due to crafted glob expressions",
    },
    Advisory {
        id: "CVE-2005-2541",
        class: Class::Debian,
        package: "tar",
        installed: "1.34+dfsg-1.2+deb12u1",
        purl: "pkg:deb/debian/tar@1.34+dfsg-1.2+deb12u1?arch=amd64",
        fixed: None,
        status: "affected",
        severity: "LOW",
        title: "tar: does not properly warn the user when extracting setuid or setgid files",
    },
    Advisory {
        id: "CVE-2024-6345",
        class: Class::Python,
        package: "setuptools",
        installed: "65.5.0",
        purl: "pkg:pypi/setuptools@65.5.0",
        fixed: Some("70.0.0"),
        status: "fixed",
        severity: "HIGH",
        title: "pypa/setuptools: Remote code execution via download functions in the package_index module",
    },
    Advisory {
        id: "CVE-2025-47273",
        class: Class::Python,
        package: "setuptools",
        installed: "65.5.0",
        purl: "pkg:pypi/setuptools@65.5.0",
        fixed: Some("78.1.1"),
        status: "fixed",
        severity: "HIGH",
        title: "setuptools: Path Traversal Vulnerability in setuptools PackageIndex",
    },
    Advisory {
        id: "CVE-2022-40897",
        class: Class::Python,
        package: "setuptools",
        installed: "65.5.0",
        purl: "pkg:pypi/setuptools@65.5.0",
        fixed: Some("65.5.1"),
        status: "fixed",
        severity: "MEDIUM",
        title: "pypa-setuptools: Regular Expression Denial of Service (ReDoS) in package_index.py",
    },
];

/// The scanned image as the reports name it.
#[derive(Debug, Clone)]
pub(crate) struct Scanned {
    /// `host:port/repository:tag`.
    pub(crate) artifact_name: String,
    /// `host:port/repository@sha256:…`.
    pub(crate) repo_digest: String,
    /// The image config's digest (Trivy's `ImageID`), when the subject is an image.
    pub(crate) image_id: Option<String>,
    /// When the scan ran.
    pub(crate) created: String,
}

impl Advisory {
    fn primary_url(&self) -> String {
        format!("https://avd.aquasec.com/nvd/{}", self.id.to_ascii_lowercase())
    }

    fn trivy_json(&self) -> Value {
        let (source_id, source_name, source_url, severity_source) = match self.class {
            Class::Debian => (
                "debian",
                "Debian Security Tracker",
                "https://salsa.debian.org/security-tracker-team/security-tracker",
                "debian",
            ),
            Class::Python => (
                "ghsa",
                "GitHub Security Advisory pip",
                "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Apip",
                "ghsa",
            ),
        };
        let mut finding = json!({
            "VulnerabilityID": self.id,
            "PkgID": format!("{}@{}", self.package, self.installed),
            "PkgName": self.package,
            "PkgIdentifier": {"PURL": self.purl},
            "InstalledVersion": self.installed,
            "Status": self.status,
            "SeveritySource": severity_source,
            "PrimaryURL": self.primary_url(),
            "DataSource": {"ID": source_id, "Name": source_name, "URL": source_url},
            "Title": self.title,
            "Severity": self.severity,
            "References": [format!("https://nvd.nist.gov/vuln/detail/{}", self.id), format!("https://www.cve.org/CVERecord?id={}", self.id)],
        });
        if let Some(fixed) = self.fixed {
            finding["FixedVersion"] = json!(fixed);
        }
        finding
    }

    /// SARIF's `level` for the severity, as Trivy maps it.
    fn sarif_level(&self) -> &'static str {
        match self.severity {
            "CRITICAL" | "HIGH" => "error",
            "MEDIUM" => "warning",
            _ => "note",
        }
    }

    /// The `security-severity` Trivy writes when it has no CVSS score to copy.
    fn security_severity(&self) -> &'static str {
        match self.severity {
            "CRITICAL" => "9.5",
            "HIGH" => "8.0",
            "MEDIUM" => "5.5",
            "LOW" => "2.0",
            _ => "0.0",
        }
    }
}

/// A Trivy JSON report (SchemaVersion 2) of `scanned`.
pub(crate) fn trivy_report(scanned: &Scanned) -> Value {
    let findings = |class: Class| -> Vec<Value> {
        ADVISORIES.iter().filter(|advisory| advisory.class == class).map(Advisory::trivy_json).collect()
    };
    json!({
        "SchemaVersion": 2,
        "CreatedAt": scanned.created,
        "ArtifactName": scanned.artifact_name,
        "ArtifactType": "container_image",
        "Metadata": {
            "OS": {"Family": "debian", "Name": "12"},
            "ImageID": scanned.image_id,
            "RepoTags": [scanned.artifact_name],
            "RepoDigests": [scanned.repo_digest],
        },
        "Results": [
            {"Target": format!("{} (debian 12)", scanned.artifact_name), "Class": "os-pkgs", "Type": "debian", "Vulnerabilities": findings(Class::Debian)},
            {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg", "Vulnerabilities": findings(Class::Python)},
        ],
    })
}

/// A SARIF 2.1.0 log of `scanned`, shaped like Trivy's `--format sarif`.
pub(crate) fn sarif_report(scanned: &Scanned) -> Value {
    let rules: Vec<Value> = ADVISORIES
        .iter()
        .map(|advisory| {
            let rule_name = if advisory.class == Class::Debian { "OsPackageVulnerability" } else { "LanguageSpecificPackageVulnerability" };
            json!({
                "id": advisory.id,
                "name": rule_name,
                "shortDescription": {"text": advisory.title},
                "fullDescription": {"text": advisory.title},
                "defaultConfiguration": {"level": advisory.sarif_level()},
                "helpUri": advisory.primary_url(),
                "help": {"text": format!("Vulnerability {}\nSeverity: {}\nPackage: {}\nFixed Version: {}\nLink: [{}]({})",
                    advisory.id, advisory.severity, advisory.package, advisory.fixed.unwrap_or(""), advisory.id, advisory.primary_url())},
                "properties": {"precision": "very-high", "security-severity": advisory.security_severity(), "tags": ["vulnerability", "security", advisory.severity]},
            })
        })
        .collect();
    let results: Vec<Value> = ADVISORIES
        .iter()
        .enumerate()
        .map(|(rule_index, advisory)| {
            json!({
                "ruleId": advisory.id,
                "ruleIndex": rule_index,
                "level": advisory.sarif_level(),
                "message": {"text": format!("Package: {}\nInstalled Version: {}\nVulnerability {}\nSeverity: {}\nFixed Version: {}\nLink: [{}]({})",
                    advisory.package, advisory.installed, advisory.id, advisory.severity, advisory.fixed.unwrap_or(""), advisory.id, advisory.primary_url())},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": scanned.artifact_name, "uriBaseId": "ROOTPATH"},
                        "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
                    },
                    "message": {"text": format!("{}: {}@{}", scanned.artifact_name, advisory.package, advisory.installed)},
                }],
            })
        })
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json",
        "runs": [{
            "tool": {"driver": {"fullName": "Trivy Vulnerability Scanner", "informationUri": "https://github.com/aquasecurity/trivy",
                "name": "Trivy", "rules": rules, "version": "0.57.1"}},
            "results": results,
            "columnKind": "utf16CodeUnits",
            "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
            "properties": {"imageName": scanned.artifact_name, "repoDigests": [scanned.repo_digest], "repoTags": [scanned.artifact_name]},
        }],
    })
}

fn scan_annotations(scanned: &Scanned, description: &str) -> Annotations {
    Annotations::from([
        (keys::CREATED.to_owned(), scanned.created.clone()),
        (keys::DESCRIPTION.to_owned(), description.to_owned()),
        ("created-by".to_owned(), "trivy".to_owned()),
    ])
}

/// Attaches the Trivy JSON report to `subject`.
pub(crate) async fn attach_trivy_report(
    pusher: &Pusher,
    subject: &Subject,
    scanned: &Scanned,
) -> anyhow::Result<Descriptor> {
    let payload = Payload {
        artifact_type: types::TRIVY_REPORT,
        layer_media_type: types::TRIVY_REPORT,
        bytes: serde_json::to_vec_pretty(&trivy_report(scanned)).context("failed to serialize trivy report")?,
        layer_annotations: Annotations::from([(keys::TITLE.to_owned(), "trivy-report.json".to_owned())]),
        annotations: scan_annotations(scanned, "Trivy vulnerability report"),
    };
    attach(pusher, subject, payload, "scan").await
}

/// Attaches the SARIF log to `subject`.
pub(crate) async fn attach_sarif_report(
    pusher: &Pusher,
    subject: &Subject,
    scanned: &Scanned,
) -> anyhow::Result<Descriptor> {
    let payload = Payload {
        artifact_type: types::SARIF,
        layer_media_type: types::SARIF,
        bytes: serde_json::to_vec_pretty(&sarif_report(scanned)).context("failed to serialize sarif log")?,
        layer_annotations: Annotations::from([(keys::TITLE.to_owned(), "trivy-report.sarif".to_owned())]),
        annotations: scan_annotations(scanned, "Trivy vulnerability report (SARIF)"),
    };
    attach(pusher, subject, payload, "scan").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// Every finding must name a package version that the attached SBOMs really list.
    #[test]
    fn every_advisory_matches_a_package_in_the_attached_sboms() {
        let spdx: Value = serde_json::from_slice(fixtures::SPDX_DEBIAN).unwrap();
        let cyclonedx: Value = serde_json::from_slice(fixtures::CYCLONEDX_PYTHON).unwrap();
        for advisory in ADVISORIES {
            let found =
                match advisory.class {
                    Class::Debian => spdx["packages"].as_array().unwrap().iter().any(|package| {
                        package["name"] == advisory.package
                            && package["versionInfo"] == advisory.installed
                            && package["externalRefs"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .any(|reference| reference["referenceLocator"] == advisory.purl)
                    }),
                    Class::Python => cyclonedx["components"].as_array().unwrap().iter().any(|component| {
                        component["purl"] == advisory.purl && component["version"] == advisory.installed
                    }),
                };
            assert!(
                found,
                "{} names {}@{} which no attached sbom lists",
                advisory.id, advisory.package, advisory.installed
            );
        }
    }

    #[test]
    fn reports_list_the_same_findings() {
        let scanned = Scanned {
            artifact_name: "127.0.0.1:5000/demo/app:1.0.0".into(),
            repo_digest: "127.0.0.1:5000/demo/app@sha256:00".into(),
            image_id: Some("sha256:11".into()),
            created: "2024-02-01T10:00:00Z".into(),
        };
        let trivy = trivy_report(&scanned);
        assert_eq!(trivy["SchemaVersion"], 2);
        let trivy_ids: Vec<&str> = trivy["Results"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|result| result["Vulnerabilities"].as_array().unwrap())
            .map(|finding| finding["VulnerabilityID"].as_str().unwrap())
            .collect();
        let sarif = sarif_report(&scanned);
        assert_eq!(sarif["version"], "2.1.0");
        let mut sarif_ids: Vec<&str> = sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|result| result["ruleId"].as_str().unwrap())
            .collect();
        let mut sorted_trivy = trivy_ids.clone();
        sorted_trivy.sort_unstable();
        sarif_ids.sort_unstable();
        assert_eq!(sorted_trivy, sarif_ids);
        assert!(trivy_ids.contains(&"CVE-2023-45853") && trivy_ids.contains(&"CVE-2022-40897"));
    }
}
