//! Sigstore bundles written by real tools, beyond the conformance suite (sources in
//! `tests/data/README.md`): cosign's OCI attestation bundle, sigstore-js's npm provenance
//! (SHA-512 subject, `intoto` entry, promise only), an npm publish attestation made with a key,
//! CPython's release signature (v0.1, a proof without checkpoint), sigstore-python's production
//! and staging bundles (Rekor v2 with an RFC 3161 timestamp), and the ones their clients refuse.

use std::sync::Arc;

use ocicat_trust::{Evidence, KeylessIdentity, Policy, PublicKey, Status, TrustedRoot, Verdict, verify};
use sha2::Digest as _;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const GITHUB_ACTIONS: &str = "https://token.actions.githubusercontent.com";
const GITHUB: &str = "https://github.com/login/oauth";
const GOOGLE: &str = "https://accounts.google.com";

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/bundles/{name}")).unwrap()
}

fn sha256_of(name: &str) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(std::fs::read(format!("{DATA}/bundles/{name}")).unwrap())))
}

fn staging() -> Arc<TrustedRoot> {
    Arc::new(
        TrustedRoot::from_json(&std::fs::read_to_string(format!("{DATA}/sigstore-trusted-root.staging.json")).unwrap())
            .unwrap(),
    )
}

fn keyless(identity: &str, issuer: &str, root: Arc<TrustedRoot>) -> Policy {
    Policy {
        keyless: vec![KeylessIdentity { identity: identity.into(), issuer: issuer.into() }],
        root,
        ..Policy::with_keys("release", "*", "**", Vec::new())
    }
}

fn judge(bundle: &str, subject: &str, policy: &Policy) -> Verdict {
    verify(&Evidence::SigstoreBundle { bundle: read(bundle) }, subject, &[policy])
}

const OCI_SUBJECT: &str = "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4";

#[test]
fn cosigns_oci_attestation_bundle_is_verified_for_the_image_it_names() {
    let policy = keyless("cody@soyland.com", GITHUB, TrustedRoot::public_good());
    let verdict = judge("oci-attestation.sigstore.json", OCI_SUBJECT, &policy);
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    assert_eq!(verdict.identity.as_deref(), Some("cody@soyland.com"));
    assert!(verdict.reason.contains("logged in Rekor at"), "{}", verdict.reason);
    // Hung on another image, the statement does not name it.
    let other = format!("sha256:{}", "0".repeat(64));
    let verdict = judge("oci-attestation.sigstore.json", &other, &policy);
    assert_eq!(verdict.status, Status::Invalid);
    assert!(
        verdict.reason.starts_with("the in-toto statement's subjects do not include this artifact"),
        "{}",
        verdict.reason
    );
    // Another signer is named but not trusted; without a keyless policy it is untrusted too.
    let stranger = keyless("release@acme.example", GITHUB, TrustedRoot::public_good());
    assert_eq!(judge("oci-attestation.sigstore.json", OCI_SUBJECT, &stranger).status, Status::Untrusted);
    let keys_only = Policy::with_keys("keys", "*", "**", Vec::new());
    assert_eq!(judge("oci-attestation.sigstore.json", OCI_SUBJECT, &keys_only).status, Status::Untrusted);
    // Under the staging root the production log and authorities are unknown.
    let wrong_root = keyless("cody@soyland.com", GITHUB, staging());
    assert_eq!(judge("oci-attestation.sigstore.json", OCI_SUBJECT, &wrong_root).status, Status::Invalid);
}

#[test]
fn npm_provenance_with_a_sha512_subject_and_an_intoto_entry_is_verified() {
    let subject = "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c";
    let workflow = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main";
    let verdict = judge(
        "sigstore.js@2.0.0-provenance.sigstore.json",
        subject,
        &keyless(workflow, GITHUB_ACTIONS, TrustedRoot::public_good()),
    );
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    // Two signatures in one envelope is not a sigstore bundle.
    let verdict = judge("dsse-2sigs.sigstore.json", subject, &keyless("*", "*", TrustedRoot::public_good()));
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
    assert!(verdict.reason.contains("carries 2 signatures"), "{}", verdict.reason);
}

#[test]
fn an_npm_publish_attestation_made_with_a_key_is_verified_by_the_policy_holding_it() {
    let subject = "sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751";
    let key = PublicKey::from_pem(&read("publish_key.pub")).unwrap();
    let npm = Policy::with_keys("npm", "*", "**", vec![key]);
    let verdict = judge("bundle-publish.json", subject, &npm);
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    assert_eq!(verdict.policy.as_deref(), Some("npm"));
    // A policy holding another key refuses it; no key at all leaves it untrusted.
    let other = PublicKey::from_pem(
        &std::fs::read_to_string(format!("{DATA}/sigstore-conformance/managed-key-happy-path/key.pub")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        judge("bundle-publish.json", subject, &Policy::with_keys("npm", "*", "**", vec![other])).status,
        Status::Invalid
    );
    assert_eq!(
        judge("bundle-publish.json", subject, &keyless("*", "*", TrustedRoot::public_good())).status,
        Status::Untrusted
    );
}

#[test]
fn cpythons_release_signature_and_a_github_release_are_verified() {
    let cpython = "sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405";
    let verdict =
        judge("Python-3.12.5.tgz.sigstore", cpython, &keyless("thomas@python.org", GOOGLE, TrustedRoot::public_good()));
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    let workflow = "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    let verdict = judge(
        "bundle_v3_github.whl.sigstore",
        &sha256_of("bundle_v3_github.whl"),
        &keyless(workflow, GITHUB_ACTIONS, TrustedRoot::public_good()),
    );
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
}

#[test]
fn staging_bundles_with_rfc3161_timestamps_verify_under_the_staging_root() {
    let beacon = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let a_txt = "sha256:a0cfc71271d6e278e57cd332ff957c3f7043fdda354c4cbb190a30d56efa01bf";
    let verdict =
        judge("a.dsse.staging-rekor-v2.txt.sigstore.json", a_txt, &keyless(beacon, GITHUB_ACTIONS, staging()));
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    assert!(verdict.reason.contains("timestamped at"), "{}", verdict.reason);
    // The same bundle under the production root: its log and timestamp authority are unknown.
    let verdict = judge(
        "a.dsse.staging-rekor-v2.txt.sigstore.json",
        a_txt,
        &keyless(beacon, GITHUB_ACTIONS, TrustedRoot::public_good()),
    );
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
}

#[test]
fn bundles_sigstore_clients_refuse_are_not_verified() {
    let anyone = keyless("*", "*", TrustedRoot::public_good());
    // Neither a signed log time nor a timestamp says when it was signed.
    let verdict =
        judge("bundle_v3_no_signed_time.txt.sigstore.json", &sha256_of("bundle_v3_no_signed_time.txt"), &anyone);
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
    // CVE-2022-36056: a log entry for other materials than the bundle's.
    let verdict = judge(
        "bundle_cve_2022_36056.txt.sigstore",
        &sha256_of("bundle_cve_2022_36056.txt"),
        &keyless("*", "*", staging()),
    );
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
}
