//! In-toto statements (v0.1, as `cosign attest` generates them) beyond SLSA provenance: the
//! CycloneDX SBOM (`--type cyclonedx`, the document itself is the predicate) and the vulnerability
//! scan record (`--type vuln`, cosign's COSIGN_VULN_ATTESTATION_SPEC) whose scanner result is the
//! seeded Trivy JSON report.

use anyhow::Context as _;
use serde_json::{Value, json};

use super::Subject;
use super::cosign::{Statement, statement_v01};
use crate::fixtures;
use crate::scans::{Scanned, trivy_report};

/// The predicate type of `cosign attest --type cyclonedx`.
pub(crate) const CYCLONEDX_PREDICATE: &str = "https://cyclonedx.org/bom";
/// The predicate type of `cosign attest --type vuln`.
pub(crate) const VULN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

/// The Trivy release that "ran" the attested scan, as a purl and a version.
const TRIVY_URI: &str = "pkg:github/aquasecurity/trivy@v0.45.1";
const TRIVY_VERSION: &str = "0.45.1";
/// Trivy's vulnerability database: the OCI artifact it pulls and its schema version.
const TRIVY_DB_URI: &str = "pkg:oci/trivy-db?repository_url=ghcr.io/aquasecurity/trivy-db";
const TRIVY_DB_VERSION: &str = "2";

/// The CycloneDX SBOM of `subject` (the cyclonedx-py fixture) as an attestation statement.
pub(crate) fn cyclonedx_statement(subject: &Subject) -> anyhow::Result<Statement> {
    let bom: Value =
        serde_json::from_slice(fixtures::CYCLONEDX_PYTHON).context("cyclonedx fixture is not valid json")?;
    statement_v01(subject, CYCLONEDX_PREDICATE, bom)
}

/// When and where the attested scan ran.
#[derive(Debug, Clone)]
pub(crate) struct VulnScan {
    /// The scanned image as the Trivy report names it (`created` is when the report was written).
    pub(crate) scanned: Scanned,
    /// `metadata.scanStartedOn`.
    pub(crate) started: String,
    /// `metadata.scanFinishedOn`.
    pub(crate) finished: String,
}

/// The vulnerability scan record of `subject`: a Trivy scan in a CI pipeline, its JSON report as
/// the scanner result.
pub(crate) fn vuln_statement(subject: &Subject, scan: &VulnScan) -> anyhow::Result<Statement> {
    let predicate = json!({
        "invocation": {
            "parameters": ["image", "--format", "json", "--scanners", "vuln", scan.scanned.artifact_name],
            "uri": "https://ci.ocicat.invalid/demo/app/pipelines/4812",
            "event_id": "4812",
            "builder.id": "https://ci.ocicat.invalid/builders/scan@v1",
        },
        "scanner": {
            "uri": TRIVY_URI,
            "version": TRIVY_VERSION,
            "db": {"uri": TRIVY_DB_URI, "version": TRIVY_DB_VERSION},
            "result": trivy_report(&scan.scanned),
        },
        "metadata": {"scanStartedOn": scan.started, "scanFinishedOn": scan.finished},
    });
    statement_v01(subject, VULN_PREDICATE, predicate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Descriptor, types};
    use crate::referrers::cosign::{dsse_envelope, dsse_pae};
    use crate::signing::Signer;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use ocicat_oci::media_types;
    use p256::ecdsa::Signature;
    use p256::ecdsa::signature::Verifier as _;

    fn app() -> Subject {
        Subject {
            repository: "demo/app".into(),
            name: "127.0.0.1:5000/demo/app".into(),
            descriptor: Descriptor::of(media_types::OCI_MANIFEST, b"{\"schemaVersion\":2}"),
        }
    }

    fn scan() -> VulnScan {
        VulnScan {
            scanned: Scanned {
                artifact_name: "127.0.0.1:5000/demo/app:1.0.0".into(),
                repo_digest: "127.0.0.1:5000/demo/app@sha256:00".into(),
                image_id: Some("sha256:11".into()),
                created: "2024-03-15T09:24:00Z".into(),
            },
            started: "2024-03-15T09:22:00Z".into(),
            finished: "2024-03-15T09:24:00Z".into(),
        }
    }

    /// Opens a signed envelope: checks the signature with the demo key and returns the statement.
    fn open(envelope: &[u8]) -> Value {
        let envelope: Value = serde_json::from_slice(envelope).unwrap();
        assert_eq!(envelope["payloadType"], types::IN_TOTO);
        let payload = STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
        let signature = STANDARD.decode(envelope["signatures"][0]["sig"].as_str().unwrap()).unwrap();
        let signature = Signature::from_der(&signature).unwrap();
        Signer::demo()
            .verifying_key()
            .verify(&dsse_pae(types::IN_TOTO, &payload), &signature)
            .expect("signature verifies");
        serde_json::from_slice(&payload).unwrap()
    }

    fn subject_digest(statement: &Value) -> String {
        format!("sha256:{}", statement["subject"][0]["digest"]["sha256"].as_str().unwrap())
    }

    #[test]
    fn vuln_statement_follows_the_cosign_spec_and_carries_the_trivy_report() {
        let subject = app();
        let statement = vuln_statement(&subject, &scan()).unwrap();
        assert_eq!(statement.predicate_type, VULN_PREDICATE);
        let statement = open(&dsse_envelope(&Signer::demo(), &statement.bytes).unwrap());
        assert_eq!(statement["_type"], "https://in-toto.io/Statement/v0.1");
        assert_eq!(statement["predicateType"], VULN_PREDICATE);
        assert_eq!(subject_digest(&statement), subject.descriptor.digest);
        let predicate = &statement["predicate"];
        assert_eq!(predicate["scanner"]["uri"], "pkg:github/aquasecurity/trivy@v0.45.1");
        assert_eq!(predicate["scanner"]["version"], "0.45.1");
        assert!(predicate["scanner"]["db"]["uri"].is_string() && predicate["scanner"]["db"]["version"].is_string());
        assert_eq!(predicate["scanner"]["result"], trivy_report(&scan().scanned));
        assert_eq!(predicate["metadata"]["scanStartedOn"], "2024-03-15T09:22:00Z");
        assert_eq!(predicate["metadata"]["scanFinishedOn"], "2024-03-15T09:24:00Z");
        for key in ["parameters", "uri", "event_id", "builder.id"] {
            assert!(!predicate["invocation"][key].is_null(), "invocation.{key}");
        }
    }

    #[test]
    fn cyclonedx_statement_wraps_the_fixture() {
        let subject = app();
        let statement = cyclonedx_statement(&subject).unwrap();
        assert_eq!(statement.predicate_type, CYCLONEDX_PREDICATE);
        let statement = open(&dsse_envelope(&Signer::demo(), &statement.bytes).unwrap());
        assert_eq!(statement["predicateType"], CYCLONEDX_PREDICATE);
        assert_eq!(subject_digest(&statement), subject.descriptor.digest);
        assert_eq!(statement["predicate"], serde_json::from_slice::<Value>(fixtures::CYCLONEDX_PYTHON).unwrap());
    }
}
