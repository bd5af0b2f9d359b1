//! `read`: content decides what a layer is; attestations that are neither SBOMs nor scans are
//! shown as in-toto attestations; formats known but not read say so.

use std::io::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ocicat_formats::{Document, FormatError, Hint, read};
use serde_json::{Value, json};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn dsse(statement: &Value, signatures: usize) -> Vec<u8> {
    let signatures: Vec<Value> = (0..signatures).map(|_| json!({"keyid": "", "sig": "MEUCIQ=="})).collect();
    json!({"payloadType": "application/vnd.in-toto+json", "payload": STANDARD.encode(statement.to_string()), "signatures": signatures})
        .to_string()
        .into_bytes()
}

/// The SLSA provenance statement the seeder attests with `cosign attest --type slsaprovenance`.
fn provenance() -> Value {
    json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "127.0.0.1:5000/demo/app", "digest": {"sha256": "fc6345670cb1de8628b725ec57053b5e744d8ead99da312ca8712f25f8720e10"}}],
        "predicate": {
            "builder": {"id": "https://ci.ocicat.invalid/builders/release@v1"},
            "buildType": "https://ci.ocicat.invalid/build-types/container@v1",
            "invocation": {"configSource": {"uri": "git+https://git.ocicat.invalid/demo/app@refs/heads/main",
                "digest": {"sha1": "3f2a9c41d7b0e5a6c8d9e0f1a2b3c4d5e6f7a8b9"}, "entryPoint": ".ci/release.yml"}},
            "metadata": {"buildStartedOn": "2024-02-01T09:50:00Z", "buildFinishedOn": "2024-02-01T09:55:00Z",
                "completeness": {"parameters": false, "environment": false, "materials": false}, "reproducible": false},
            "materials": [{"uri": "git+https://git.ocicat.invalid/demo/app", "digest": {"sha1": "3f2a9c41d7b0e5a6c8d9e0f1a2b3c4d5e6f7a8b9"}}]
        }
    })
}

#[test]
fn slsa_provenance_in_dsse_is_an_attestation() {
    let Document::Attestation(attestation) = read(&dsse(&provenance(), 1), &Hint::default()).unwrap() else {
        panic!("expected an attestation")
    };
    assert_eq!(attestation.predicate_type, "https://slsa.dev/provenance/v0.2");
    assert_eq!(attestation.statement_type, "https://in-toto.io/Statement/v0.1");
    assert!(attestation.envelope);
    assert_eq!(attestation.signatures, 1);
    assert_eq!(attestation.subjects.len(), 1);
    assert_eq!(attestation.subjects[0].name, "127.0.0.1:5000/demo/app");
    assert_eq!(
        attestation.subjects[0].digest,
        "sha256:fc6345670cb1de8628b725ec57053b5e744d8ead99da312ca8712f25f8720e10"
    );
    assert!(attestation.predicate.contains("\"buildStartedOn\": \"2024-02-01T09:50:00Z\""));
}

#[test]
fn a_bare_openvex_statement_is_an_attestation() {
    let statement = json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://openvex.dev/ns/v0.2.0",
        "subject": [{"name": "demo/app", "digest": {"sha512": "ab", "sha256": "cd"}}],
        "predicate": {"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": {"name": "CVE-2023-45853"}, "status": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}]}});
    let Document::Attestation(attestation) = read(statement.to_string().as_bytes(), &Hint::default()).unwrap() else {
        panic!("expected an attestation")
    };
    assert!(!attestation.envelope);
    assert_eq!(attestation.signatures, 0);
    assert_eq!(attestation.subjects[0].digest, "sha256:cd", "sha256 is preferred");
}

#[test]
fn an_sbom_predicate_that_does_not_read_falls_back_to_the_attestation() {
    let statement = json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://spdx.dev/Document",
        "subject": [], "predicate": {"Data": "SPDXVersion: SPDX-2.3", "Timestamp": "2024-02-01T10:00:00Z"}});
    let document = read(&dsse(&statement, 0), &Hint::default()).unwrap();
    assert!(
        matches!(document, Document::Attestation(ref attestation) if attestation.predicate.contains("SPDXVersion"))
    );
}

#[test]
fn content_decides_over_the_media_type() {
    let hint = Hint::media_type("application/vnd.cyclonedx+json");
    assert!(
        matches!(read(&data("sbom-requests.spdx.json"), &hint).unwrap(), Document::Sbom(sbom) if sbom.format == "SPDX 2.3")
    );
    let hint = Hint::media_type("application/spdx+json");
    assert!(matches!(read(&data("trivy-report.json"), &hint).unwrap(), Document::Scan(_)));
}

#[test]
fn the_media_type_breaks_ties_for_simple_signing_payloads() {
    let payload = br#"{"critical":{"image":{"docker-manifest-digest":"sha256:00"}},"optional":null}"#;
    assert!(matches!(read(payload, &Hint::default()), Err(FormatError::Unrecognised(_))));
    let hint = Hint::media_type("application/vnd.dev.cosign.simplesigning.v1+json");
    assert!(
        matches!(read(payload, &hint).unwrap(), Document::Signature(signature) if signature.signed_digest.as_deref() == Some("sha256:00"))
    );
}

#[test]
fn compressed_documents_are_unpacked_by_their_magic() {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&data("sbom-npm.cdx.json")).unwrap();
    let gzipped = encoder.finish().unwrap();
    assert!(matches!(read(&gzipped, &Hint::media_type("application/vnd.cyclonedx+json")).unwrap(), Document::Sbom(_)));
    let zstd =
        ruzstd::encoding::compress_to_vec(&data("trivy-report.json")[..], ruzstd::encoding::CompressionLevel::Fastest);
    assert!(matches!(read(&zstd, &Hint::default()).unwrap(), Document::Scan(_)));
}

#[test]
fn known_formats_that_are_not_read_say_so() {
    let tag_value = b"SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\n";
    let error = read(tag_value, &Hint::media_type("text/spdx")).unwrap_err();
    assert_eq!(error.to_string(), "spdx tag-value documents are not read yet");
    let xml = b"<?xml version=\"1.0\"?><bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\"/>";
    let error = read(xml, &Hint::media_type("application/vnd.cyclonedx+xml")).unwrap_err();
    assert_eq!(error.to_string(), "xml documents are not read yet");
}

#[test]
fn other_inputs_are_clear_lowercase_errors() {
    let cases: [(&[u8], &str); 6] = [
        (b" \n", "not a json document: the document is empty"),
        (b"<html><script>alert(1)</script>", "not a json document: expected value at line 1 column 1"),
        (b"[1, 2]", "unrecognised document: the document is not a json object"),
        (
            b"{\"hello\": \"world\"}",
            "unrecognised document: not an sbom, scan report, signature or attestation this viewer knows (spdx, cyclonedx, trivy, sarif, cosign, sigstore, notation, in-toto)",
        ),
        (
            br#"{"payloadType": "application/vnd.in-toto+json", "payload": "%%%"}"#,
            "malformed document: dsse payload is not base64: invalid symbol 37, offset 0",
        ),
        (
            br#"{"spdxVersion": 2.3}"#,
            "unrecognised document: not an sbom, scan report, signature or attestation this viewer knows (spdx, cyclonedx, trivy, sarif, cosign, sigstore, notation, in-toto)",
        ),
    ];
    for (bytes, message) in cases {
        let error = read(bytes, &Hint::default()).unwrap_err();
        assert_eq!(error.to_string(), message, "for {:?}", String::from_utf8_lossy(bytes));
        let first = error.to_string().chars().next().unwrap();
        assert!(first.is_lowercase(), "{error}");
    }
}

#[test]
fn documents_over_the_cap_are_refused_before_parsing() {
    let huge = vec![b' '; ocicat_formats::MAX_DOCUMENT_BYTES + 1];
    assert!(matches!(read(&huge, &Hint::default()), Err(FormatError::TooLarge(_))));
}

#[test]
fn a_document_serializes_for_the_ui() {
    let document = read(&data("sbom-npm.cdx.json"), &Hint::default()).unwrap();
    let json = serde_json::to_value(&document).unwrap();
    assert_eq!(json["sbom"]["format"], "CycloneDX 1.5");
    assert_eq!(json["sbom"]["licenses"], json!([["ISC", 3], ["MIT", 3]]));
}

#[test]
fn the_fuzz_seed_corpus_reads() {
    let corpus = format!("{}/fuzz/corpus/read_document", env!("CARGO_MANIFEST_DIR"));
    let mut read_count = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let document = read(&bytes[1..], &Hint::default());
        assert!(document.is_ok(), "{}: {document:?}", path.display());
        read_count += 1;
    }
    assert!(read_count >= 10);
}
