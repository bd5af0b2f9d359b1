//! Notation signatures written by `notation sign` (notaryproject/notation's end-to-end layouts
//! and notation-go's fixtures, see `tests/data/README.md`): verified under a policy whose trust
//! store holds the signer's root and whose identities name it; untrusted under another root or
//! identity; invalid when expired, tampered or hung on another artifact. JWS and COSE.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ocicat_trust::{Evidence, Policies, Policy, SignatureLayer, Status, TrustPolicy, Verdict, evidence_of, verify};

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/notation");
/// The image the end-to-end signatures sign (its manifest's digest, as the payloads name it).
const E2E_IMAGE: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
/// The manifest notation-go's fixtures sign.
const GO_IMAGE: &str = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";

fn read(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DATA}/{name}")).unwrap()
}

/// The evidence the crawler keeps of a notation signature layer holding `bytes`.
fn evidence(media_type: &str, bytes: &[u8]) -> Evidence {
    let layer = SignatureLayer {
        digest: "sha256:aa".into(),
        size: bytes.len() as u64,
        media_type: media_type.into(),
        annotations: BTreeMap::new(),
    };
    evidence_of(&layer, bytes)
}

fn jws(name: &str) -> Evidence {
    evidence("application/jose+json", &read(name))
}

/// A policy as configured: `roots` (files in the data folder) as its trust store, `identities`
/// as its trusted identities.
fn configured(roots: &[&str], identities: &[&str]) -> TrustPolicy {
    TrustPolicy {
        name: "release".into(),
        registry: "*".into(),
        repositories: "**".into(),
        cosign_public_keys: Vec::new(),
        keyless: Vec::new(),
        sigstore_trusted_root: None,
        notation_roots: roots.iter().map(PathBuf::from).collect(),
        notation_identities: identities.iter().map(|identity| (*identity).to_owned()).collect(),
    }
}

/// The policy loaded as the configuration would load it.
fn policy(roots: &[&str], identities: &[&str]) -> Policy {
    configured(roots, identities).load(std::path::Path::new(DATA)).unwrap()
}

fn judge(evidence: &Evidence, subject: &str, policy: &Policy) -> Verdict {
    verify(evidence, subject, &[policy])
}

#[test]
fn a_signature_chained_to_a_trusted_root_by_a_named_signer_is_verified() {
    let anyone = policy(&["e2e.crt"], &["*"]);
    let verdict = judge(&jws("e2e-valid.jws"), E2E_IMAGE, &anyone);
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    assert_eq!(verdict.policy.as_deref(), Some("release"));
    assert_eq!(verdict.identity.as_deref(), Some("C=US, ST=WA, L=Seattle, O=Notary, CN=e2e"));
    // An identity naming a subset of the subject's attributes, in any order.
    let named = policy(&["e2e.crt"], &["x509.subject: CN=e2e, O=Notary, C=US"]);
    assert_eq!(judge(&jws("e2e-valid.jws"), E2E_IMAGE, &named).status, Status::Verified);
}

#[test]
fn another_root_or_identity_leaves_it_untrusted_and_no_notation_policy_too() {
    let other_root = judge(&jws("e2e-valid.jws"), E2E_IMAGE, &policy(&["new_e2e.crt"], &["*"]));
    assert_eq!(other_root.status, Status::Untrusted, "{other_root:?}");
    assert!(other_root.reason.contains("leads to no root of policy release"), "{}", other_root.reason);
    let other_signer =
        judge(&jws("e2e-valid.jws"), E2E_IMAGE, &policy(&["e2e.crt"], &["x509.subject: C=US, O=Acme, CN=release"]));
    assert_eq!(other_signer.status, Status::Untrusted);
    assert!(other_signer.reason.contains("is not among the identities of policy release"), "{}", other_signer.reason);
    let keys_only = Policy::with_keys("keys", "*", "**", Vec::new());
    assert_eq!(judge(&jws("e2e-valid.jws"), E2E_IMAGE, &keys_only).status, Status::Untrusted);
}

#[test]
fn an_expired_tampered_or_moved_signature_is_invalid() {
    let anyone = policy(&["e2e.crt"], &["*"]);
    let expired = judge(&jws("e2e-expired.jws"), E2E_IMAGE, &anyone);
    assert_eq!(expired.status, Status::Invalid);
    assert!(expired.reason.starts_with("the signature expired at 2023-06-27T05:21:21"), "{}", expired.reason);
    // The second signature of the multi-signature layout: its certificate has expired since
    // (notation checks the chain now, there being no timestamp).
    let lapsed = judge(&jws("e2e-testcert11.jws"), E2E_IMAGE, &anyone);
    assert_eq!(lapsed.status, Status::Invalid, "{lapsed:?}");
    assert!(lapsed.reason.ends_with("CN=testcert11 has expired"), "{}", lapsed.reason);
    let moved = judge(&jws("e2e-valid.jws"), GO_IMAGE, &anyone);
    assert_eq!(moved.status, Status::Invalid);
    assert!(moved.reason.starts_with("signs sha256:b8479de3f88f…, not this artifact"), "{}", moved.reason);
    // One bit of the signature flipped.
    let mut envelope: serde_json::Value = serde_json::from_slice(&read("e2e-valid.jws")).unwrap();
    let signature = envelope["signature"].as_str().unwrap().to_owned();
    let flipped = format!("{}{}", if signature.starts_with('A') { "B" } else { "A" }, &signature[1..]);
    envelope["signature"] = flipped.into();
    let tampered = judge(&evidence("application/jose+json", envelope.to_string().as_bytes()), E2E_IMAGE, &anyone);
    assert_eq!(tampered.status, Status::Invalid);
    assert_eq!(tampered.reason, "the signature does not match its certificate");
    // The layer of the invalid-signature layout: not an envelope at all.
    let garbage = judge(&evidence("application/jose+json", b"invalid signature\n"), E2E_IMAGE, &anyone);
    assert_eq!(garbage.status, Status::Invalid);
}

#[test]
fn jws_and_cose_envelopes_of_notation_go_verify_alike() {
    let alpine = policy(&["alpine-selfsigned-root.pem"], &["x509.subject: C=US, ST=WA, O=Notary, CN=alpine"]);
    let jws = judge(&jws("jws_signature.sig"), GO_IMAGE, &alpine);
    assert_eq!(jws.status, Status::Verified, "{jws:?}");
    let cose = judge(&evidence("application/cose", &read("cose_signature.sig")), GO_IMAGE, &alpine);
    assert_eq!(cose.status, Status::Verified, "{cose:?}");
    let moved = judge(&evidence("application/cose", &read("cose_signature.sig")), E2E_IMAGE, &alpine);
    assert_eq!(moved.status, Status::Invalid);
}

#[test]
fn notation_policies_need_roots_and_identities_that_read() {
    let base = configured(&["e2e.crt"], &[]);
    let error = base.validate().unwrap_err().to_string();
    assert!(error.contains("needs both notation_roots and notation_identities"), "{error}");
    let bad_identity = TrustPolicy { notation_identities: vec!["CN=release".into()], ..base.clone() };
    assert!(bad_identity.validate().unwrap_err().to_string().contains("must be \"*\" or start with"));
    let unknown_attribute = TrustPolicy { notation_identities: vec!["x509.subject: XX=1".into()], ..base.clone() };
    assert!(unknown_attribute.validate().is_err());
    let not_a_certificate = TrustPolicy {
        notation_identities: vec!["*".into()],
        notation_roots: vec!["e2e-valid.jws".into()],
        ..base.clone()
    };
    let error = not_a_certificate.load(std::path::Path::new(DATA)).unwrap_err().to_string();
    assert!(error.contains("holds no PEM certificate"), "{error}");
    // The roots and identities are part of the fingerprint: changing them re-judges.
    let one = Policies::new(vec![policy(&["e2e.crt"], &["*"])]);
    let other = Policies::new(vec![policy(&["new_e2e.crt"], &["*"])]);
    let third = Policies::new(vec![policy(&["e2e.crt"], &["x509.subject: CN=e2e"])]);
    assert_ne!(one.fingerprint(), other.fingerprint());
    assert_ne!(one.fingerprint(), third.fingerprint());
}

/// A test CA as the notation spec's trust model has it: a root that issues the signing
/// certificate (made here with rcgen; the envelope signed with the leaf's P-256 key, ES256).
struct TestCa {
    certificate: rcgen::Certificate,
    key: rcgen::KeyPair,
}

fn test_ca(name: &str) -> TestCa {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Acme");
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    TestCa { certificate: params.self_signed(&key).unwrap(), key }
}

/// A signing certificate `CN=release, O=Acme, C=US` issued by `ca`, valid `from` to `until`
/// (years), with its P-256 signing key.
fn signing_certificate(ca: &TestCa, from: i32, until: i32) -> (p256::ecdsa::SigningKey, rcgen::Certificate) {
    use p256::pkcs8::EncodePrivateKey as _;
    let signing = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let key = rcgen::KeyPair::try_from(signing.to_pkcs8_der().unwrap().as_bytes()).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CountryName, "US");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "Acme");
    params.distinguished_name.push(rcgen::DnType::CommonName, "release");
    params.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(until, 1, 1);
    (signing, params.signed_by(&key, &ca.certificate, &ca.key).unwrap())
}

/// A JWS envelope as `notation sign` writes it (ES256, `notary.x509`), over `digest`, signed at
/// `signing_time` with `key`, carrying `chain` (DER) as `x5c`.
fn envelope(key: &p256::ecdsa::SigningKey, chain: &[&[u8]], digest: &str, signing_time: &str) -> Evidence {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use p256::ecdsa::signature::Signer as _;
    let payload = serde_json::json!({"targetArtifact": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": 517}});
    let protected = serde_json::json!({
        "alg": "ES256",
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": signing_time,
    });
    let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
    let protected = URL_SAFE_NO_PAD.encode(protected.to_string());
    let signature: p256::ecdsa::Signature = key.sign(format!("{protected}.{payload}").as_bytes());
    let jws = serde_json::json!({
        "payload": payload,
        "protected": protected,
        "header": {"x5c": chain.iter().map(|der| STANDARD.encode(der)).collect::<Vec<_>>()},
        "signature": URL_SAFE_NO_PAD.encode(signature.to_bytes()),
    });
    evidence("application/jose+json", jws.to_string().as_bytes())
}

/// A policy trusting `roots` (PEM) for `identities`, loaded from files as configured.
fn ca_policy(roots: &[&TestCa], identities: &[&str]) -> Policy {
    let folder = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..roots.len()).map(|index| format!("root-{index}.pem")).collect();
    for (name, root) in names.iter().zip(roots) {
        std::fs::write(folder.path().join(name), root.certificate.pem()).unwrap();
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    configured(&names, identities).load(folder.path()).unwrap()
}

#[test]
fn a_signature_by_a_certificate_of_a_trusted_test_ca_is_verified_and_broken_or_lapsed_chains_are_not() {
    let acme = test_ca("Acme Root");
    let other = test_ca("Other Root");
    let release = ca_policy(&[&acme], &["x509.subject: C=US, O=Acme, CN=release"]);
    let (key, leaf) = signing_certificate(&acme, 2024, 2099);
    let (leaf, root) = (leaf.der().to_vec(), acme.certificate.der().to_vec());

    // The chain up to the root, or the leaf alone: the root is in the trust store either way.
    for chain in [vec![leaf.as_slice(), root.as_slice()], vec![leaf.as_slice()]] {
        let verdict = judge(&envelope(&key, &chain, E2E_IMAGE, "2025-03-01T10:00:00Z"), E2E_IMAGE, &release);
        assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
        // rcgen orders the attributes its own way; the identity matches them in any order.
        let identity = verdict.identity.unwrap();
        assert!(["CN=release", "C=US", "O=Acme"].iter().all(|part| identity.contains(part)), "{identity}");
    }
    let chain = [leaf.as_slice(), root.as_slice()];
    // Another CA in the trust store; another identity.
    let elsewhere =
        judge(&envelope(&key, &chain, E2E_IMAGE, "2025-03-01T10:00:00Z"), E2E_IMAGE, &ca_policy(&[&other], &["*"]));
    assert_eq!(elsewhere.status, Status::Untrusted, "{elsewhere:?}");
    let stranger = ca_policy(&[&acme], &["x509.subject: CN=ci, O=Acme"]);
    assert_eq!(
        judge(&envelope(&key, &chain, E2E_IMAGE, "2025-03-01T10:00:00Z"), E2E_IMAGE, &stranger).status,
        Status::Untrusted
    );
    // Signed before the certificate was valid.
    let early = judge(&envelope(&key, &chain, E2E_IMAGE, "2023-06-01T10:00:00Z"), E2E_IMAGE, &release);
    assert_eq!(early.status, Status::Invalid);
    assert!(early.reason.contains("was not valid when it signed"), "{}", early.reason);
    // A certificate that has lapsed since (no timestamp says the signing time is true).
    let (lapsed_key, lapsed) = signing_certificate(&acme, 2021, 2022);
    let lapsed =
        judge(&envelope(&lapsed_key, &[lapsed.der(), &root], E2E_IMAGE, "2021-06-01T10:00:00Z"), E2E_IMAGE, &release);
    assert_eq!(lapsed.status, Status::Invalid);
    assert!(lapsed.reason.ends_with("has expired"), "{}", lapsed.reason);
    // A chain whose second certificate did not issue the first.
    let broken = judge(
        &envelope(&key, &[&leaf, other.certificate.der()], E2E_IMAGE, "2025-03-01T10:00:00Z"),
        E2E_IMAGE,
        &release,
    );
    assert_eq!(broken.status, Status::Invalid);
    assert_eq!(broken.reason, "the signature's certificate chain is broken");
}
