//! Hostile documents: markup kept as plain text, huge fields and lists cut at their caps, deep
//! nesting stopped, broken base64 and wrong types reported or skipped, and (proptest) no panic on
//! arbitrary bytes or on arbitrary mutations of valid documents.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ocicat_formats::{Document, FormatError, Hint, read, sbom, scan};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const SCRIPT: &str = "<script>alert('x')</script>&amp;\"quoted\"";

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn dsse(statement: &Value) -> Value {
    json!({"payloadType": "application/vnd.in-toto+json", "payload": STANDARD.encode(statement.to_string()), "signatures": []})
}

#[test]
fn markup_in_names_survives_as_plain_text() {
    let spdx = json!({"spdxVersion": "SPDX-2.3", "name": SCRIPT, "packages": [
        {"SPDXID": "SPDXRef-x", "name": SCRIPT, "versionInfo": SCRIPT, "licenseConcluded": SCRIPT}]});
    let sbom = sbom::from_value(&spdx).unwrap();
    assert_eq!(sbom.name.as_deref(), Some(SCRIPT));
    assert_eq!(sbom.packages[0].name, SCRIPT);
    assert_eq!(sbom.packages[0].version.as_deref(), Some(SCRIPT));
    assert_eq!(sbom.licenses[0].0, SCRIPT);

    let trivy = json!({"SchemaVersion": 2, "ArtifactName": SCRIPT, "Results": [{"Target": SCRIPT,
        "Vulnerabilities": [{"VulnerabilityID": SCRIPT, "PkgName": SCRIPT, "Title": SCRIPT, "Severity": "HIGH"}]}]});
    let report = scan::from_value(&trivy).unwrap();
    assert_eq!(report.findings[0].title.as_deref(), Some(SCRIPT));
    assert_eq!(report.findings[0].package, SCRIPT);

    let payload =
        json!({"critical": {"type": "cosign container image signature", "identity": {"docker-reference": SCRIPT}}});
    let Document::Signature(signature) = read(payload.to_string().as_bytes(), &Hint::default()).unwrap() else {
        panic!("expected a signature")
    };
    assert_eq!(signature.reference.as_deref(), Some(SCRIPT));
}

#[test]
fn a_ten_megabyte_field_is_cut_to_4096_chars() {
    let huge = "é".repeat(5 << 20);
    let spdx = json!({"spdxVersion": "SPDX-2.3", "name": huge, "packages": [{"SPDXID": huge, "name": huge, "versionInfo": "1"}],
        "creationInfo": {"creators": [format!("Tool: {huge}")], "created": huge}});
    let sbom = sbom::from_value(&spdx).unwrap();
    for text in [sbom.name.as_deref().unwrap(), &sbom.packages[0].name, &sbom.packages[0].id, &sbom.generators[0]] {
        assert_eq!(text.chars().count(), 4096);
    }
    assert_eq!(sbom.created.unwrap().chars().count(), 4096);

    let statement = json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": huge, "subject": [], "predicate": {"blob": huge}});
    let Document::Attestation(attestation) = read(dsse(&statement).to_string().as_bytes(), &Hint::default()).unwrap()
    else {
        panic!("expected an attestation")
    };
    assert_eq!(attestation.predicate_type.chars().count(), 4096);
    assert!(attestation.predicate.len() <= 64 * 1024);
    assert!(attestation.predicate.ends_with("… (truncated)"));
}

#[test]
fn two_hundred_thousand_packages_keep_one_hundred_thousand() {
    let packages: Vec<Value> = (0..200_000).map(|index| json!({"SPDXID": format!("p{index}"), "name": "n"})).collect();
    let relationships: Vec<Value> = (0..200_000)
        .map(|index| json!({"spdxElementId": "p0", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": format!("p{index}")}))
        .collect();
    let spdx = json!({"spdxVersion": "SPDX-2.3", "packages": packages, "relationships": relationships});
    let sbom = read_sbom(&spdx);
    assert_eq!(sbom.packages.len(), 100_000);
    assert_eq!(sbom.dependencies.len(), 100_000);
    assert!(sbom.truncated);
    assert_eq!(sbom.licenses, [("unknown".to_owned(), 100_000)]);

    let components: Vec<Value> =
        (0..200_000).map(|index| json!({"bom-ref": format!("c{index}"), "name": "c"})).collect();
    let cyclonedx = json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": components});
    let sbom = read_sbom(&cyclonedx);
    assert_eq!(sbom.packages.len(), 100_000);
    assert!(sbom.truncated);

    let vulnerabilities: Vec<Value> =
        (0..150_000).map(|_| json!({"VulnerabilityID": "CVE-2023-45853", "Severity": "LOW"})).collect();
    let trivy = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Vulnerabilities": vulnerabilities}]});
    let report = scan::from_value(&trivy).unwrap();
    assert_eq!(report.findings.len(), 100_000);
    assert!(report.truncated);
}

fn read_sbom(document: &Value) -> ocicat_formats::Sbom {
    match read(&serde_json::to_vec(document).unwrap(), &Hint::default()).unwrap() {
        Document::Sbom(sbom) => sbom,
        other => panic!("expected an sbom, got {other:?}"),
    }
}

#[test]
fn deeply_nested_components_stop_at_the_cap() {
    let mut component = json!({"bom-ref": "leaf", "name": "level-40"});
    for level in (1..40).rev() {
        component =
            json!({"bom-ref": format!("c{level}"), "name": format!("level-{level}"), "components": [component]});
    }
    let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [component]});
    let sbom = read_sbom(&bom);
    assert_eq!(sbom.packages.len(), 32);
    assert_eq!(sbom.packages[31].name, "level-32");
    assert!(sbom.truncated);

    let too_deep_for_json = format!("{}{}", "{\"components\":[".repeat(200), "]}".repeat(200));
    assert!(matches!(read(too_deep_for_json.as_bytes(), &Hint::default()), Err(FormatError::NotJson(_))));
}

#[test]
fn invalid_base64_is_an_error_everywhere() {
    let dsse = json!({"payloadType": "application/vnd.in-toto+json", "payload": "not*base64"});
    assert!(matches!(read(dsse.to_string().as_bytes(), &Hint::default()), Err(FormatError::Malformed(_))));
    let jws = json!({"payload": "***", "protected": URL_SAFE_NO_PAD.encode("{}"), "signature": "AA"});
    assert!(matches!(read(jws.to_string().as_bytes(), &Hint::default()), Err(FormatError::Malformed(_))));
    let bundle = json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"certificate": {"rawBytes": "***"}},
        "dsseEnvelope": {"payloadType": "application/vnd.in-toto+json", "payload": "***"}});
    assert!(matches!(read(bundle.to_string().as_bytes(), &Hint::default()), Err(FormatError::Malformed(_))));
}

#[test]
fn wrong_types_are_skipped_or_reported() {
    let documents = [
        json!({"spdxVersion": "SPDX-2.3", "name": 1, "creationInfo": "x", "packages": {"a": 1}, "relationships": [1, [], {}]}),
        json!({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": 1, "name": ["x"], "externalRefs": "x", "supplier": {}}]}),
        json!({"bomFormat": "CycloneDX", "specVersion": 1.4, "metadata": {"tools": "x", "component": 3}, "components": [{"components": "x", "licenses": [1, {"license": 2}, {"expression": []}]}], "dependencies": [{"ref": 1}, {"ref": "a", "dependsOn": "b"}]}),
        json!({"SchemaVersion": "2", "ArtifactName": [], "Results": [1, {"Vulnerabilities": [1, {"Severity": 5}]}]}),
        json!({"runs": [1, {"tool": 1, "results": [{"ruleIndex": -1, "message": 5, "locations": "x"}]}]}),
        json!({"critical": {"type": "cosign container image signature", "identity": 1, "image": []}, "optional": [1]}),
        json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"tlogEntries": [{"logIndex": {}, "integratedTime": "9".repeat(40)}]}, "messageSignature": {"messageDigest": 1}}),
        json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1", "subject": "x", "predicate": {"scanner": {"result": {"runs": [{"results": [{}]}]}, "db": 5}, "metadata": 1}}),
        json!({"bomFormat": "CycloneDX", "vulnerabilities": [1, {"ratings": [{"score": "high"}], "affects": [1, {"ref": 2, "versions": "x"}]}]}),
    ];
    for document in documents {
        let _ = read(document.to_string().as_bytes(), &Hint::default());
    }
    let Document::Sbom(sbom) = read(
        json!({"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": 1, "name": "kept"}, 7]}).to_string().as_bytes(),
        &Hint::default(),
    )
    .unwrap() else {
        panic!("expected an sbom")
    };
    assert_eq!(sbom.packages.len(), 1);
    assert_eq!(sbom.packages[0].name, "kept");
}

/// Small valid documents of every kind, for mutation.
fn seeds() -> &'static [Value] {
    static SEEDS: OnceLock<Vec<Value>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let parse = |name: &str| -> Value { serde_json::from_slice(&data(name)).unwrap() };
        let trivy = parse("trivy-report.json");
        let provenance = json!({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "x", "digest": {"sha256": "00"}}], "predicate": {"builder": {"id": "b"}}});
        let vuln = json!({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://cosign.sigstore.dev/attestation/vuln/v1",
            "subject": [], "predicate": {"scanner": {"uri": "u", "result": trivy.clone()}, "metadata": {"scanFinishedOn": "t"}}});
        let certificate = STANDARD.encode(data("demo-signer.crt.der"));
        vec![
            parse("sbom-npm.cdx.json"),
            parse("sbom-npm.spdx.json"),
            parse("sbom-requests.spdx.json"),
            trivy,
            parse("trivy-report.sarif.json"),
            provenance,
            vuln,
            json!({"critical": {"identity": {"docker-reference": "r"}, "image": {"docker-manifest-digest": "sha256:00"},
                "type": "cosign container image signature"}, "optional": {"a": "b"}}),
            json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
                "verificationMaterial": {"certificate": {"rawBytes": certificate}, "tlogEntries": [{"logIndex": "1", "integratedTime": "2"}]},
                "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": "AAAA"}, "signature": "AA=="}}),
            json!({"payload": URL_SAFE_NO_PAD.encode(r#"{"targetArtifact":{"digest":"sha256:00","size":1}}"#),
                "protected": URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","io.cncf.notary.signingTime":"t"}"#),
                "header": {"x5c": [certificate]}, "signature": "AA"}),
        ]
    })
}

/// JSON pointers to every node of `value`.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            items.iter().enumerate().for_each(|(index, item)| pointers(item, format!("{at}/{index}"), out))
        }
        Value::Object(map) => {
            for (key, item) in map {
                pointers(item, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("components".to_owned()),
        Just("licenses".to_owned()),
        Just("payload".to_owned()),
        Just("Vulnerabilities".to_owned()),
        Just("name".to_owned()),
        Just("critical".to_owned()),
        "[a-zA-Z_-]{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        Just(Value::String("NOASSERTION".into())),
    ];
    leaf.prop_recursive(4, 24, 5, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

const MEDIA_TYPES: [&str; 6] = [
    "",
    "application/vnd.dev.cosign.simplesigning.v1+json",
    "application/cose",
    "application/vnd.in-toto+json",
    "text/spdx",
    "application/vnd.cyclonedx+xml",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn read_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048), kind in 0..MEDIA_TYPES.len()) {
        let _ = read(&bytes, &Hint::media_type(MEDIA_TYPES[kind]));
        let _ = scan::findings(&bytes);
    }

    #[test]
    fn read_never_panics_on_mutated_documents(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((any::<prop::sample::Index>(), any_json()), 1..4),
        wrap in any::<bool>(),
        kind in 0..MEDIA_TYPES.len(),
    ) {
        let mut document = seed.get(seeds()).clone();
        for (target, replacement) in mutations {
            let mut paths = Vec::new();
            pointers(&document, String::new(), &mut paths);
            let path = target.get(&paths).clone();
            if let Some(node) = document.pointer_mut(&path) {
                *node = replacement;
            }
        }
        let document = if wrap { dsse(&document) } else { document };
        let bytes = document.to_string().into_bytes();
        let _ = read(&bytes, &Hint::media_type(MEDIA_TYPES[kind]));
        let _ = scan::findings(&bytes);
    }

    #[test]
    fn read_never_panics_on_byte_mutations(
        seed in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..8),
    ) {
        let mut bytes = seed.get(seeds()).to_string().into_bytes();
        for (at, byte, edit) in edits {
            let index = at.index(bytes.len().max(1)).min(bytes.len());
            match edit {
                0 if index < bytes.len() => bytes[index] = byte,
                1 => bytes.insert(index, byte),
                _ if index < bytes.len() => { bytes.remove(index); }
                _ => {}
            }
        }
        let _ = read(&bytes, &Hint::default());
    }
}
