//! Verdicts on cosign simple signing signatures made here exactly as `cosign sign --key` makes
//! them: the simple signing payload naming the image digest, signed with the key (ECDSA over
//! SHA-256 in ASN.1 DER, Ed25519, RSA PKCS#1 v1.5), base64 in the layer's
//! `dev.cosignproject.cosign/signature`; keys made in the test, policies loaded from PEM files.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ocicat_trust::{Evidence, Policies, Policy, SignatureLayer, Status, TrustPolicy, evidence_of, verify};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};

const IMAGE: &str = "sha256:4c1f1f2ad93e9f0c1d2e3f40516273849aabbccddeeff00112233445566778899";
const OTHER_IMAGE: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";

/// The payload `cosign sign` writes for `digest`.
fn payload(digest: &str) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"registry.example/team-a/app"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"cosign container image signature"}},"optional":null}}"#
    )
    .into_bytes()
}

/// The evidence the crawler keeps of a `.sig` layer holding `payload` signed as `signature`.
fn evidence(payload: &[u8], signature: &[u8], certificate: Option<String>) -> Evidence {
    let mut annotations =
        BTreeMap::from([("dev.cosignproject.cosign/signature".to_owned(), STANDARD.encode(signature))]);
    if let Some(pem) = certificate {
        annotations.insert("dev.sigstore.cosign/certificate".to_owned(), pem);
    }
    let layer = SignatureLayer {
        digest: "sha256:aa".into(),
        size: payload.len() as u64,
        media_type: "application/vnd.dev.cosign.simplesigning.v1+json".into(),
        annotations,
    };
    evidence_of(&layer, payload)
}

/// A policy named `name` trusting the PEM keys `pems`, written to files and loaded as the
/// configuration would be.
fn policy(name: &str, pems: &[String]) -> Policy {
    let folder = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (index, pem) in pems.iter().enumerate() {
        let path = folder.path().join(format!("key-{index}.pub"));
        std::fs::write(&path, pem).unwrap();
        paths.push(path);
    }
    let configured = TrustPolicy {
        name: name.into(),
        registry: "*".into(),
        repositories: "**".into(),
        cosign_public_keys: paths,
        keyless: Vec::new(),
        sigstore_trusted_root: None,
        notation_roots: Vec::new(),
        notation_identities: Vec::new(),
    };
    configured.load(folder.path()).unwrap()
}

fn p256_key() -> (p256::ecdsa::SigningKey, String) {
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let pem = key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    (key, pem)
}

fn p256_sign(key: &p256::ecdsa::SigningKey, message: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::Signer as _;
    let signature: p256::ecdsa::Signature = key.sign(message);
    signature.to_der().as_bytes().to_vec()
}

#[test]
fn a_signature_by_a_policy_key_over_this_image_is_verified_by_that_policy() {
    let (key, pem) = p256_key();
    let release = policy("release", &[pem]);
    let signed = payload(IMAGE);
    let verdict = verify(&evidence(&signed, &p256_sign(&key, &signed), None), IMAGE, &[&release]);
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    assert_eq!(verdict.policy.as_deref(), Some("release"));
    let identity = verdict.identity.unwrap();
    assert!(identity.starts_with("ecdsa p-256 key sha256:"), "{identity}");
    assert!(verdict.reason.contains("policy release"), "{}", verdict.reason);
}

#[test]
fn p384_ed25519_and_rsa_keys_verify_their_signatures() {
    use p256::ecdsa::signature::Signer as _;
    let signed = payload(IMAGE);

    let p384 = p384::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let p384_pem = p384.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    // cosign signs with SHA-256 whatever the curve.
    let p384_signature = {
        use p256::ecdsa::signature::hazmat::PrehashSigner as _;
        let digest = <sha2::Sha256 as sha2::Digest>::digest(&signed);
        let signature: p384::ecdsa::Signature = p384.sign_prehash(&digest).unwrap();
        signature.to_der().as_bytes().to_vec()
    };

    let ed25519 = ed25519_dalek::SigningKey::generate(&mut rand_core::OsRng);
    let ed25519_pem = ed25519.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    let ed25519_signature = ed25519.sign(&signed).to_bytes().to_vec();

    let rsa = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).unwrap();
    let rsa_pem = rsa.to_public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let rsa_signature = {
        use rsa::signature::SignatureEncoding as _;
        let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(rsa.clone());
        signer.sign(&signed).to_vec()
    };

    let release = policy("release", &[p384_pem, ed25519_pem, rsa_pem]);
    for (kind, signature) in
        [("ecdsa p-384", p384_signature), ("ed25519", ed25519_signature), ("rsa-2048", rsa_signature)]
    {
        let verdict = verify(&evidence(&signed, &signature, None), IMAGE, &[&release]);
        assert_eq!(verdict.status, Status::Verified, "{kind}: {verdict:?}");
        assert!(verdict.identity.as_deref().unwrap().starts_with(kind), "{kind}: {verdict:?}");
    }
}

#[test]
fn a_valid_signature_copied_onto_another_images_sig_tag_is_invalid() {
    let (key, pem) = p256_key();
    let release = policy("release", &[pem]);
    let signed = payload(OTHER_IMAGE);
    let verdict = verify(&evidence(&signed, &p256_sign(&key, &signed), None), IMAGE, &[&release]);
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
    assert_eq!(verdict.reason, "signs sha256:000000000000…, not this artifact (sha256:4c1f1f2ad93e…)");
    assert_eq!(verdict.policy, None);
}

#[test]
fn a_tampered_payload_is_invalid_under_a_policy_with_keys() {
    let (key, pem) = p256_key();
    let release = policy("release", &[pem]);
    let signed = payload(IMAGE);
    let signature = p256_sign(&key, &signed);
    let tampered =
        String::from_utf8(signed).unwrap().replace(r#""optional":null"#, r#""optional":{"creator":"someone else"}"#);
    let tampered = tampered.into_bytes();
    let verdict = verify(&evidence(&tampered, &signature, None), IMAGE, &[&release]);
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
    assert!(verdict.reason.contains("policy release"), "{}", verdict.reason);
}

#[test]
fn a_signature_by_another_key_is_refused_by_the_policy_and_untrusted_without_one() {
    let (_, trusted) = p256_key();
    let (stranger, _) = p256_key();
    let signed = payload(IMAGE);
    let found = evidence(&signed, &p256_sign(&stranger, &signed), None);
    let release = policy("release", &[trusted]);
    assert_eq!(verify(&found, IMAGE, &[&release]).status, Status::Invalid);
    let verdict = verify(&found, IMAGE, &[]);
    assert_eq!(verdict.status, Status::Untrusted, "{verdict:?}");
    assert_eq!(verdict.reason, "no trust policy covers this repository");
}

#[test]
fn the_first_policy_whose_key_verifies_names_the_verdict() {
    let (key, pem) = p256_key();
    let (_, other) = p256_key();
    let signed = payload(IMAGE);
    let found = evidence(&signed, &p256_sign(&key, &signed), None);
    let (staging, release) = (policy("staging", &[other]), policy("release", &[pem]));
    let verdict = verify(&found, IMAGE, &[&staging, &release]);
    assert_eq!((verdict.status, verdict.policy.as_deref()), (Status::Verified, Some("release")));
}

#[test]
fn a_certificate_signature_names_its_signer_and_a_mismatch_is_invalid() {
    let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.subject_alt_names = vec![rcgen::SanType::Rfc822Name("release@acme.example".try_into().unwrap())];
    let certificate = params.self_signed(&key_pair).unwrap().pem();
    let signing =
        <p256::ecdsa::SigningKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_der(&key_pair.serialize_der()).unwrap();
    let signed = payload(IMAGE);

    let verdict = verify(&evidence(&signed, &p256_sign(&signing, &signed), Some(certificate.clone())), IMAGE, &[]);
    assert_eq!(verdict.status, Status::Untrusted, "{verdict:?}");
    assert_eq!(verdict.identity.as_deref(), Some("release@acme.example"));

    let (stranger, _) = p256_key();
    let verdict = verify(&evidence(&signed, &p256_sign(&stranger, &signed), Some(certificate)), IMAGE, &[]);
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
    assert_eq!(verdict.reason, "the signature does not match its certificate");
}

#[test]
fn a_layer_without_a_signature_or_with_a_payload_of_another_type_is_invalid() {
    let signed = payload(IMAGE);
    let layer = SignatureLayer {
        digest: "sha256:aa".into(),
        size: signed.len() as u64,
        media_type: "application/vnd.dev.cosign.simplesigning.v1+json".into(),
        annotations: BTreeMap::new(),
    };
    let verdict = verify(&evidence_of(&layer, &signed), IMAGE, &[]);
    assert_eq!(
        (verdict.status, verdict.reason.as_str()),
        (Status::Invalid, "the layer carries no signature (dev.cosignproject.cosign/signature)")
    );

    let (key, _) = p256_key();
    let other_type = String::from_utf8(signed)
        .unwrap()
        .replace("cosign container image signature", r"atomic container signature\nforged");
    let verdict = verify(&evidence(other_type.as_bytes(), &p256_sign(&key, other_type.as_bytes()), None), IMAGE, &[]);
    assert_eq!(verdict.status, Status::Invalid);
    assert!(verdict.reason.contains(r#""atomic container signature\nforged""#), "escaped: {}", verdict.reason);
}

#[test]
fn empty_bundles_and_envelopes_are_never_verified() {
    // A bundle without a media type is of no version ocicat knows; empty envelopes are broken.
    for (media_type, status) in [
        ("application/vnd.dev.sigstore.bundle.v0.3+json", Status::Unverifiable),
        ("application/jose+json", Status::Invalid),
        ("application/cose", Status::Invalid),
        ("application/vnd.dsse.envelope.v1+json", Status::Invalid),
    ] {
        let layer = SignatureLayer {
            digest: "sha256:aa".into(),
            size: 2,
            media_type: media_type.into(),
            annotations: BTreeMap::new(),
        };
        assert_eq!(verify(&evidence_of(&layer, b"{}"), IMAGE, &[]).status, status, "{media_type}");
    }
}

#[test]
fn the_manifest_names_which_layers_to_read_and_huge_ones_are_not_kept() {
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "layers": (0..40).map(|index| serde_json::json!({
            "mediaType": if index == 0 { "application/vnd.oci.image.layer.v1.tar" } else { "application/vnd.dev.cosign.simplesigning.v1+json" },
            "digest": format!("sha256:{index:064x}"), "size": 10 * index,
            "annotations": { "dev.cosignproject.cosign/signature": "MEU=" },
        })).collect::<Vec<_>>(),
    });
    let layers = SignatureLayer::of_manifest(&manifest);
    assert_eq!(layers.len(), ocicat_trust::MAX_SIGNATURES_PER_MANIFEST, "capped");
    assert_eq!(layers[0].digest, format!("sha256:{:064x}", 1), "only signature layers");
    assert_eq!(layers[0].annotations["dev.cosignproject.cosign/signature"], "MEU=");
    let huge = vec![b' '; ocicat_trust::MAX_EVIDENCE_BYTES as usize + 1];
    assert!(matches!(evidence_of(&layers[0], &huge), Evidence::Unreadable { .. }));
}

#[test]
fn policies_refuse_what_cannot_be_checked_and_keys_that_cannot_be_used() {
    let folder = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = folder.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let configured = |keys: Vec<std::path::PathBuf>| TrustPolicy {
        name: "release".into(),
        registry: "*".into(),
        repositories: "**".into(),
        cosign_public_keys: keys,
        keyless: Vec::new(),
        sigstore_trusted_root: None,
        notation_roots: Vec::new(),
        notation_identities: Vec::new(),
    };
    let error = |policy: TrustPolicy| Policies::load(&[policy], folder.path()).unwrap_err().to_string();
    assert_eq!(
        error(configured(Vec::new())),
        "release: trusts nothing; list cosign_public_keys, keyless signers or notation_roots"
    );
    let missing = error(configured(vec!["nowhere.pub".into()]));
    assert!(missing.starts_with("release: cannot read key ") && missing.contains("nowhere.pub"), "{missing}");
    let garbage = error(configured(vec![write("garbage.pub", "not a key")]));
    assert!(garbage.ends_with("not a PEM public key (-----BEGIN PUBLIC KEY-----)"), "{garbage}");
    let keyless = |identity: &str| TrustPolicy {
        keyless: vec![ocicat_trust::KeylessIdentity {
            issuer: "https://token.actions.githubusercontent.com".into(),
            identity: identity.into(),
        }],
        ..configured(Vec::new())
    };
    assert_eq!(error(keyless(" ")), "release: a keyless signer needs an issuer and an identity");
    let notation = TrustPolicy { notation_roots: vec!["root.pem".into()], ..configured(Vec::new()) };
    assert!(error(notation).contains("notation needs both notation_roots and notation_identities"));
    let foreign_root = TrustPolicy { sigstore_trusted_root: Some(write("root.json", "{}")), ..keyless("*") };
    let unreadable = error(foreign_root);
    assert!(
        unreadable.starts_with("release: ")
            && unreadable.contains("root.json: trusted root names no certificate authority"),
        "{unreadable}"
    );
    assert_eq!(Policies::load(&[keyless("*")], folder.path()).unwrap().all()[0].keyless.len(), 1);
    let named = TrustPolicy { name: "Release!".into(), ..configured(Vec::new()) };
    assert!(error(named).starts_with("name \"Release!\" must be"));

    let (_, pem) = p256_key();
    let key = write("release.pub", &pem);
    let twice =
        Policies::load(&[configured(vec![key.clone()]), configured(vec![key.clone()])], folder.path()).unwrap_err();
    assert_eq!(twice.to_string(), "name \"release\" is used twice");
    // Relative paths are read from the configuration's folder.
    let loaded = Policies::load(&[configured(vec!["release.pub".into()])], folder.path()).unwrap();
    assert_eq!(loaded.all()[0].keys.len(), 1);
}

#[test]
fn the_fingerprint_changes_with_what_the_policies_trust_and_covering_follows_the_patterns() {
    let (_, first) = p256_key();
    let (_, second) = p256_key();
    let one = Policies::new(vec![policy("release", std::slice::from_ref(&first))]);
    let same = Policies::new(vec![policy("release", std::slice::from_ref(&first))]);
    let other = Policies::new(vec![policy("release", &[second])]);
    assert_eq!(one.fingerprint(), same.fingerprint());
    assert_ne!(one.fingerprint(), other.fingerprint());

    let mut scoped = policy("team-a", &[first]);
    scoped.registry = "prod".into();
    scoped.repositories = "team-a/**".into();
    let policies = Policies::new(vec![scoped]);
    let prefix = |pattern: &str, repository: &str| repository.starts_with(pattern.trim_end_matches("**"));
    assert_eq!(policies.covering("prod", "team-a/app", prefix).len(), 1);
    assert!(policies.covering("prod", "team-b/app", prefix).is_empty());
    assert!(policies.covering("staging", "team-a/app", prefix).is_empty());
}
