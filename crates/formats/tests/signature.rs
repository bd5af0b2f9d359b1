//! Signatures: cosign simple signing payloads with the seeder's demo certificate in the layer
//! annotations, sigstore bundles with a Fulcio-like certificate made here with rcgen, and notation
//! JWS envelopes built the way `crates/seed/src/referrers/notation.rs` builds them, and COSE ones
//! built after the notation COSE envelope spec.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ciborium::value::Value as Cbor;
use ocicat_formats::signature::{self, SignatureKind, signer_from_der, signer_from_pem};
use ocicat_formats::{Document, FormatError, Hint, Signature, read};
use serde_json::{Value, json};

const DIGEST: &str = "sha256:fc6345670cb1de8628b725ec57053b5e744d8ead99da312ca8712f25f8720e10";

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

fn read_signature(bytes: &[u8], hint: &Hint) -> Signature {
    match read(bytes, hint).unwrap() {
        Document::Signature(signature) => signature,
        other => panic!("expected a signature, got {other:?}"),
    }
}

fn detail<'a>(signature: &'a Signature, label: &str) -> Option<&'a str> {
    signature.details.iter().find(|(key, _)| key == label).map(|(_, value)| value.as_str())
}

/// A DER UTF8String.
fn utf8_string(text: &str) -> Vec<u8> {
    let mut der = vec![0x0c, u8::try_from(text.len()).unwrap()];
    der.extend_from_slice(text.as_bytes());
    der
}

/// A short-lived certificate shaped like Fulcio's: empty subject, SAN email, OIDC issuer
/// extensions (v1 raw, v2 UTF8String).
fn fulcio_like_certificate() -> Vec<u8> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.subject_alt_names = vec![rcgen::SanType::Rfc822Name("release-bot@example.com".try_into().unwrap())];
    params.not_before = rcgen::date_time_ymd(2024, 2, 1);
    params.not_after = rcgen::date_time_ymd(2024, 2, 2);
    params.custom_extensions = vec![
        rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
            b"https://accounts.google.com".to_vec(),
        ),
        rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
            utf8_string("https://token.actions.githubusercontent.com"),
        ),
    ];
    let key = rcgen::KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

#[test]
fn the_demo_certificate_names_its_signer() {
    let der = data("demo-signer.crt.der");
    let signer = signer_from_der(&der).unwrap();
    assert_eq!(signer.subject.as_deref(), Some("CN=ocicat demo signer, O=ocicat demo"));
    assert_eq!(signer.issuer.as_deref(), Some("CN=ocicat demo signer, O=ocicat demo"));
    assert_eq!(signer.not_before.as_deref(), Some("2024-01-01T00:00:00Z"));
    assert_eq!(signer.not_after.as_deref(), Some("2034-01-01T00:00:00Z"));
    assert_eq!(signer.identity, None);
    let fingerprint = signer.fingerprint_sha256.clone().unwrap();
    assert_eq!(fingerprint.len(), 64);
    assert_eq!(signer_from_pem(&pem(&der)).unwrap(), signer);
}

#[test]
fn a_fulcio_like_certificate_gives_identity_and_oidc_issuer() {
    let signer = signer_from_der(&fulcio_like_certificate()).unwrap();
    assert_eq!(signer.subject, None);
    assert_eq!(signer.identity.as_deref(), Some("release-bot@example.com"));
    assert_eq!(signer.oidc_issuer.as_deref(), Some("https://token.actions.githubusercontent.com"), "v2 wins over v1");
    assert_eq!(signer.not_before.as_deref(), Some("2024-02-01T00:00:00Z"));
}

#[test]
fn a_cosign_simple_signing_payload_reads_annotations() {
    let payload = format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"127.0.0.1:5000/demo/app\"}},\"image\":{{\"docker-manifest-digest\":\"{DIGEST}\"}},\
\"type\":\"cosign container image signature\"}},\"optional\":{{\"creator\":\"ci\",\"run\":17}}}}"
    );
    let rekor = json!({"SignedEntryTimestamp": "MEUCIQ==", "Payload": {"body": "e30=", "integratedTime": 1_706_781_600,
        "logIndex": 66_012_345, "logID": "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"}});
    let annotations = BTreeMap::from([
        ("dev.cosignproject.cosign/signature".to_owned(), "MEUCIQ==".to_owned()),
        ("dev.sigstore.cosign/certificate".to_owned(), pem(&data("demo-signer.crt.der"))),
        ("dev.sigstore.cosign/bundle".to_owned(), rekor.to_string()),
    ]);
    let hint =
        Hint { media_type: signature::COSIGN_SIMPLESIGNING_MEDIA_TYPE, annotations: &annotations, artifact_type: None };
    let signature = read_signature(payload.as_bytes(), &hint);
    assert_eq!(signature.kind, SignatureKind::CosignSimpleSigning);
    assert_eq!(signature.kind.to_string(), "cosign");
    assert_eq!(signature.signed_digest.as_deref(), Some(DIGEST));
    assert_eq!(signature.reference.as_deref(), Some("127.0.0.1:5000/demo/app"));
    assert_eq!(signature.signed_at.as_deref(), Some("2024-02-01T10:00:00Z"));
    assert_eq!(
        signature.signer.as_ref().and_then(|signer| signer.subject.as_deref()),
        Some("CN=ocicat demo signer, O=ocicat demo")
    );
    assert_eq!(detail(&signature, "signature type"), Some("cosign container image signature"));
    assert_eq!(detail(&signature, "transparency log"), Some("rekor index 66012345 at 2024-02-01T10:00:00Z"));
    assert_eq!(detail(&signature, "optional creator"), Some("ci"));
    assert_eq!(detail(&signature, "optional run"), Some("17"));
    assert!(signature.payload.contains("\"docker-manifest-digest\""));
    assert_eq!(signature.predicate_type, None);
}

#[test]
fn a_simple_signing_payload_without_annotations_says_what_is_missing() {
    let payload = format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"r\"}},\"image\":{{\"docker-manifest-digest\":\"{DIGEST}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}"
    );
    let signature = read_signature(payload.as_bytes(), &Hint::default());
    assert_eq!(signature.signer, None);
    assert_eq!(detail(&signature, "key"), Some("signed with a key; no certificate attached"));
    assert_eq!(detail(&signature, "signature"), Some("missing from the layer annotations"));

    let broken = BTreeMap::from([(
        "dev.cosignproject.cosign/certificate".to_owned(),
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----".to_owned(),
    )]);
    let hint = Hint { annotations: &broken, ..Hint::media_type(signature::COSIGN_SIMPLESIGNING_MEDIA_TYPE) };
    let signature = read_signature(b"{}", &hint);
    assert!(detail(&signature, "certificate").is_some_and(|text| text.starts_with("unreadable: ")));
}

fn bundle_with_dsse(certificate: &[u8]) -> Value {
    let statement = json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://sigstore.dev/cosign/sign/v1",
        "subject": [{"name": "127.0.0.1:5000/demo/app", "digest": {"sha256": DIGEST.trim_start_matches("sha256:")}}], "predicate": {}});
    json!({
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": STANDARD.encode(certificate)},
            "tlogEntries": [{"logIndex": "66012345", "logId": {"keyId": "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"}, "integratedTime": "1706781600"}]
        },
        "dsseEnvelope": {"payload": STANDARD.encode(statement.to_string()), "payloadType": "application/vnd.in-toto+json",
            "signatures": [{"sig": "MEUCIQ==", "keyid": ""}]}
    })
}

#[test]
fn a_sigstore_bundle_with_a_certificate_and_dsse_is_read() {
    let bundle = bundle_with_dsse(&fulcio_like_certificate());
    let signature = read_signature(bundle.to_string().as_bytes(), &Hint::default());
    assert_eq!(signature.kind, SignatureKind::SigstoreBundle);
    assert_eq!(signature.kind.to_string(), "sigstore bundle");
    let signer = signature.signer.as_ref().unwrap();
    assert_eq!(signer.identity.as_deref(), Some("release-bot@example.com"));
    assert_eq!(signer.oidc_issuer.as_deref(), Some("https://token.actions.githubusercontent.com"));
    assert_eq!(signature.signed_at.as_deref(), Some("2024-02-01T10:00:00Z"));
    assert_eq!(signature.signed_digest.as_deref(), Some(DIGEST));
    assert_eq!(signature.reference.as_deref(), Some("127.0.0.1:5000/demo/app"));
    assert_eq!(signature.predicate_type.as_deref(), Some("https://sigstore.dev/cosign/sign/v1"));
    assert!(signature.payload.contains("\"predicateType\""));
    assert_eq!(detail(&signature, "transparency log"), Some("rekor index 66012345 at 2024-02-01T10:00:00Z"));
    assert_eq!(detail(&signature, "log entry kind"), Some("dsse 0.0.1"));
    assert_eq!(detail(&signature, "bundle"), Some("application/vnd.dev.sigstore.bundle.v0.3+json"));
}

#[test]
fn older_bundles_with_a_chain_or_a_key_and_a_message_signature_are_read() {
    let demo = data("demo-signer.crt.der");
    let bundle = json!({
        "mediaType": "application/vnd.dev.sigstore.bundle+json;version=0.1",
        "verificationMaterial": {"x509CertificateChain": {"certificates": [{"rawBytes": STANDARD.encode(&demo)}, {"rawBytes": STANDARD.encode(&demo)}]}},
        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256", "digest": "/GNFZwyx3oYotyXsVwU7XnRNjq2Z2jEsqHEvJfhyDhA="}, "signature": "MEUCIQ=="}
    });
    let signature = signature::from_value(&bundle, &Hint::default()).unwrap();
    assert_eq!(signature.signed_digest.as_deref(), Some(DIGEST));
    assert_eq!(
        signature.signer.as_ref().and_then(|signer| signer.subject.as_deref()),
        Some("CN=ocicat demo signer, O=ocicat demo")
    );
    assert_eq!(detail(&signature, "certificate chain"), Some("2 certificates"));

    let keyed = json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {"publicKey": {"hint": "cosign.pub"}}, "messageSignature": {"signature": "AA=="}});
    let signature = signature::from_value(&keyed, &Hint::default()).unwrap();
    assert_eq!(signature.signer, None);
    assert_eq!(detail(&signature, "key id"), Some("cosign.pub"));

    let empty = json!({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}});
    assert!(matches!(signature::from_value(&empty, &Hint::default()), Err(FormatError::Malformed(_))));
}

/// A notation JWS envelope as the seeder's `jws_envelope` writes it (the signature bytes are not
/// checked here).
fn jws_envelope(certificate: &[u8], protected_extra: Value) -> Value {
    let payload = json!({"targetArtifact": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 1234}});
    let mut protected = json!({"alg": "ES256", "crit": ["io.cncf.notary.signingScheme"],
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509", "io.cncf.notary.signingTime": "2024-02-01T10:00:00Z"});
    if let (Some(target), Some(extra)) = (protected.as_object_mut(), protected_extra.as_object()) {
        target.extend(extra.clone());
    }
    json!({
        "payload": URL_SAFE_NO_PAD.encode(payload.to_string()),
        "protected": URL_SAFE_NO_PAD.encode(protected.to_string()),
        "header": {"x5c": [STANDARD.encode(certificate)], "io.cncf.notary.signingAgent": "notation-go/1.2.1"},
        "signature": URL_SAFE_NO_PAD.encode([7u8; 64]),
    })
}

#[test]
fn a_notation_jws_envelope_is_read() {
    let envelope = jws_envelope(&data("demo-signer.crt.der"), json!({"io.cncf.notary.expiry": "2025-02-01T10:00:00Z"}));
    let hint = Hint {
        artifact_type: Some("application/vnd.cncf.notary.signature"),
        ..Hint::media_type(signature::JWS_MEDIA_TYPE)
    };
    let signature = read_signature(envelope.to_string().as_bytes(), &hint);
    assert_eq!(signature.kind, SignatureKind::Notation);
    assert_eq!(signature.kind.to_string(), "notation");
    assert_eq!(signature.signed_at.as_deref(), Some("2024-02-01T10:00:00Z"));
    assert_eq!(signature.signed_digest.as_deref(), Some(DIGEST));
    assert_eq!(
        signature.signer.as_ref().and_then(|signer| signer.subject.as_deref()),
        Some("CN=ocicat demo signer, O=ocicat demo")
    );
    assert_eq!(detail(&signature, "signing scheme"), Some("notary.x509"));
    assert_eq!(detail(&signature, "expiry"), Some("2025-02-01T10:00:00Z"));
    assert_eq!(detail(&signature, "signing agent"), Some("notation-go/1.2.1"));
    assert_eq!(detail(&signature, "target size"), Some("1234"));
    assert!(signature.payload.contains("\"targetArtifact\""));
}

#[test]
fn broken_notation_envelopes_are_errors_or_say_so() {
    let mut envelope = jws_envelope(&data("demo-signer.crt.der"), json!({}));
    envelope["protected"] = json!("@@not base64@@");
    let error = read(envelope.to_string().as_bytes(), &Hint::default()).unwrap_err();
    assert!(error.to_string().contains("jws protected header is not base64"), "{error}");

    let mut envelope = jws_envelope(b"not a certificate", json!({}));
    envelope["header"]["x5c"] = json!([STANDARD.encode(b"not a certificate")]);
    let signature = read_signature(envelope.to_string().as_bytes(), &Hint::default());
    assert_eq!(signature.signer, None);
    assert!(detail(&signature, "certificate").is_some_and(|text| text.contains("certificate is not x.509 der")));
}

fn cbor(value: &Cbor) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::ser::into_writer(value, &mut bytes).unwrap();
    bytes
}

fn text(text: &str) -> Cbor {
    Cbor::Text(text.to_owned())
}

/// A notation COSE_Sign1 envelope as notation-go writes it (the signature bytes are not checked).
fn cose_envelope(certificate: &[u8], signing_time: Cbor) -> Vec<u8> {
    let payload = json!({"targetArtifact": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": DIGEST, "size": 1234}});
    let protected = Cbor::Map(vec![
        (Cbor::from(1), Cbor::from(-7)),
        (Cbor::from(2), Cbor::Array(vec![text("io.cncf.notary.signingScheme")])),
        (Cbor::from(3), text("application/vnd.cncf.notary.payload.v1+json")),
        (text("io.cncf.notary.signingScheme"), text("notary.x509")),
        (text("io.cncf.notary.signingTime"), signing_time),
        (text("io.cncf.notary.expiry"), Cbor::Tag(1, Box::new(Cbor::from(1_738_404_000)))),
    ]);
    let unprotected = Cbor::Map(vec![
        (Cbor::from(33), Cbor::Array(vec![Cbor::Bytes(certificate.to_vec()), Cbor::Bytes(certificate.to_vec())])),
        (text("io.cncf.notary.signingAgent"), text("notation-go/1.2.1")),
    ]);
    let sign1 = Cbor::Array(vec![
        Cbor::Bytes(cbor(&protected)),
        unprotected,
        Cbor::Bytes(payload.to_string().into_bytes()),
        Cbor::Bytes(vec![7; 64]),
    ]);
    cbor(&Cbor::Tag(18, Box::new(sign1)))
}

#[test]
fn a_notation_cose_envelope_is_read() {
    let envelope = cose_envelope(&data("demo-signer.crt.der"), Cbor::Tag(1, Box::new(Cbor::from(1_706_781_600))));
    let signature = read_signature(&envelope, &Hint::media_type(signature::COSE_MEDIA_TYPE));
    assert_eq!(signature.kind, SignatureKind::Notation);
    assert_eq!(signature.signed_at.as_deref(), Some("2024-02-01T10:00:00Z"));
    assert_eq!(signature.signed_digest.as_deref(), Some(DIGEST));
    assert_eq!(
        signature.signer.as_ref().and_then(|signer| signer.subject.as_deref()),
        Some("CN=ocicat demo signer, O=ocicat demo")
    );
    assert_eq!(detail(&signature, "signing scheme"), Some("notary.x509"));
    assert_eq!(detail(&signature, "expiry"), Some("2025-02-01T10:00:00Z"));
    assert_eq!(detail(&signature, "algorithm"), Some("ES256"));
    assert_eq!(detail(&signature, "signing agent"), Some("notation-go/1.2.1"));
    assert_eq!(detail(&signature, "certificate chain"), Some("2 certificates"));
    assert!(signature.payload.contains("\"targetArtifact\""));
    let by_content = read_signature(&envelope, &Hint::default());
    assert_eq!(by_content, signature, "the COSE_Sign1 tag is enough");
}

#[test]
fn broken_cose_envelopes_are_malformed() {
    let cases: [&[u8]; 4] = [
        &[0xd2],
        &[0xd2, 0x84, 0x40, 0xa0, 0x40, 0x40],
        &[0xd2, 0x83, 0x40, 0xa0, 0x40],
        &[0xd2, 0x84, 0x41, 0x00, 0xa0, 0x40, 0x40],
    ];
    for bytes in cases {
        let error = read(bytes, &Hint::media_type(signature::COSE_MEDIA_TYPE)).unwrap_err();
        assert!(matches!(error, FormatError::Malformed(_) | FormatError::NotJson(_)), "{error:?}");
    }
    let no_certificate = cose_envelope(b"not a certificate", text("2024-02-01T10:00:00Z"));
    let signature = read_signature(&no_certificate, &Hint::default());
    assert_eq!(signature.signed_at.as_deref(), Some("2024-02-01T10:00:00Z"));
    assert!(detail(&signature, "certificate").is_some_and(|text| text.starts_with("unreadable: ")));
}
