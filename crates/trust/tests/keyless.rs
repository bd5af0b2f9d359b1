//! Keyless cosign signatures, on a real production signature (containers/image's fixture, see
//! `tests/data/README.md`): the Fulcio certificate chains to the shipped public-good root at
//! the time Rekor logged it, the log's signed entry timestamp verifies, the entry records this
//! payload, signature and certificate, and the identity and issuer are the policy's.

use std::collections::BTreeMap;
use std::sync::Arc;

use ocicat_trust::{Evidence, KeylessIdentity, Policy, SignatureLayer, Status, TrustedRoot, evidence_of, verify};
use sha2::Digest as _;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cosign-keyless");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DATA}/{name}")).unwrap()
}

/// The signed image's digest, computed from its manifest.
fn image() -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(read("image-manifest.json").as_bytes())))
}

/// The evidence the crawler keeps of the signature layer, `change` applied to its annotations.
fn evidence(payload: &str, change: impl FnOnce(&mut BTreeMap<String, String>)) -> Evidence {
    let mut annotations = BTreeMap::from([
        ("dev.cosignproject.cosign/signature".to_owned(), read("signature.b64")),
        ("dev.sigstore.cosign/certificate".to_owned(), read("cert.pem")),
        ("dev.sigstore.cosign/chain".to_owned(), read("chain.pem")),
        ("dev.sigstore.cosign/bundle".to_owned(), read("bundle.json")),
    ]);
    change(&mut annotations);
    let layer = SignatureLayer {
        digest: "sha256:aa".into(),
        size: payload.len() as u64,
        media_type: "application/vnd.dev.cosign.simplesigning.v1+json".into(),
        annotations,
    };
    evidence_of(&layer, payload.as_bytes())
}

fn policy(identity: &str, issuer: &str, root: Arc<TrustedRoot>) -> Policy {
    Policy {
        keyless: vec![KeylessIdentity { issuer: issuer.into(), identity: identity.into() }],
        root,
        ..Policy::with_keys("release", "*", "**", Vec::new())
    }
}

const GITHUB: &str = "https://github.com/login/oauth";

#[test]
fn a_production_keyless_signature_is_verified_for_its_identity_and_issuer() {
    let release = policy("mitr@redhat.com", GITHUB, TrustedRoot::public_good());
    let verdict = verify(&evidence(&read("payload.json"), |_| {}), &image(), &[&release]);
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    assert_eq!(verdict.policy.as_deref(), Some("release"));
    assert_eq!(verdict.identity.as_deref(), Some("mitr@redhat.com"));
    assert_eq!(verdict.issuer.as_deref(), Some(GITHUB));
    assert_eq!(
        verdict.reason,
        "keyless: mitr@redhat.com (issuer https://github.com/login/oauth), logged in Rekor at 2023-01-20T20:51:33+00:00 (index 11605770), allowed by policy release"
    );
    // Globs in the identity.
    let anyone_at_redhat = policy("*@redhat.com", GITHUB, TrustedRoot::public_good());
    assert_eq!(
        verify(&evidence(&read("payload.json"), |_| {}), &image(), &[&anyone_at_redhat]).status,
        Status::Verified
    );
}

#[test]
fn another_identity_or_issuer_is_untrusted_and_names_what_it_saw() {
    for (identity, issuer) in [("release@acme.example", GITHUB), ("mitr@redhat.com", "https://accounts.google.com")] {
        let release = policy(identity, issuer, TrustedRoot::public_good());
        let verdict = verify(&evidence(&read("payload.json"), |_| {}), &image(), &[&release]);
        assert_eq!(verdict.status, Status::Untrusted, "{verdict:?}");
        assert_eq!(
            verdict.reason,
            "identity mitr@redhat.com (issuer https://github.com/login/oauth) is not allowed by policy release"
        );
    }
}

#[test]
fn the_signature_on_another_image_is_invalid() {
    let release = policy("mitr@redhat.com", GITHUB, TrustedRoot::public_good());
    let other = format!("sha256:{}", "0".repeat(64));
    let verdict = verify(&evidence(&read("payload.json"), |_| {}), &other, &[&release]);
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
    assert!(verdict.reason.starts_with("signs sha256:0489474da8ea…, not this artifact"), "{}", verdict.reason);
}

#[test]
fn a_changed_log_entry_a_foreign_root_or_a_swapped_certificate_is_invalid() {
    let release = policy("mitr@redhat.com", GITHUB, TrustedRoot::public_good());
    let check = |change: &dyn Fn(&mut BTreeMap<String, String>)| {
        verify(&evidence(&read("payload.json"), |annotations| change(annotations)), &image(), &[&release])
    };
    // The log time moved: the log's signature no longer covers the entry.
    let moved = check(&|annotations| {
        let bundle = annotations.get_mut("dev.sigstore.cosign/bundle").unwrap();
        *bundle = bundle.replace("1674247893", "1674247894");
    });
    assert_eq!(
        (moved.status, moved.reason.as_str()),
        (Status::Invalid, "the transparency log's signature over the entry does not verify")
    );
    // A signed entry timestamp of another entry.
    let forged = check(&|annotations| {
        let bundle: serde_json::Value = serde_json::from_str(&annotations["dev.sigstore.cosign/bundle"]).unwrap();
        let mut bundle = bundle;
        bundle["SignedEntryTimestamp"] =
            "MEUCIQCyXhl6r7bg0IreJ91cZbEp7mzAwYdTUhU+irzlQs/pDQIgCA/VPgbTLtDcnSh2P/Ci+HnmVJ1ouwGhLLzBeGyz4vo="
                .replace('C', "D")
                .into();
        annotations.insert("dev.sigstore.cosign/bundle".into(), bundle.to_string());
    });
    assert_eq!(forged.status, Status::Invalid, "{forged:?}");

    // Under the staging root, the production certificate and log are strangers.
    let staging = TrustedRoot::from_json(include_str!("data/sigstore-trusted-root.staging.json")).unwrap();
    let elsewhere = policy("mitr@redhat.com", GITHUB, Arc::new(staging));
    let verdict = verify(&evidence(&read("payload.json"), |_| {}), &image(), &[&elsewhere]);
    assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
    assert_eq!(verdict.reason, "the signature was logged in a transparency log the trusted root does not name");
}

#[test]
fn without_its_log_entry_a_keyless_signature_is_unverifiable_and_without_a_keyless_policy_untrusted() {
    let release = policy("mitr@redhat.com", GITHUB, TrustedRoot::public_good());
    let verdict = verify(
        &evidence(&read("payload.json"), |annotations| {
            annotations.remove("dev.sigstore.cosign/bundle");
        }),
        &image(),
        &[&release],
    );
    assert_eq!(verdict.status, Status::Unverifiable, "{verdict:?}");
    assert!(verdict.reason.contains("no transparency log entry"), "{}", verdict.reason);

    let keys_only = Policy::with_keys("release", "*", "**", Vec::new());
    let verdict = verify(&evidence(&read("payload.json"), |_| {}), &image(), &[&keys_only]);
    assert_eq!(verdict.status, Status::Untrusted, "{verdict:?}");
    assert_eq!(verdict.identity.as_deref(), Some("mitr@redhat.com"));
}

#[test]
fn a_payload_changed_after_signing_is_invalid() {
    let release = policy("mitr@redhat.com", GITHUB, TrustedRoot::public_good());
    let changed = read("payload.json").replace("\"optional\":null", "\"optional\":{\"by\":\"someone else\"}");
    let verdict = verify(&evidence(&changed, |_| {}), &image(), &[&release]);
    assert_eq!(
        (verdict.status, verdict.reason.as_str()),
        (Status::Invalid, "the signature does not match its certificate")
    );
}

#[test]
fn a_certificate_that_does_not_chain_to_the_roots_fulcio_authorities_is_invalid() {
    // The production log, but the staging certificate authorities.
    let mut root: serde_json::Value = serde_json::from_str(include_str!("../data/sigstore-trusted-root.json")).unwrap();
    let staging: serde_json::Value =
        serde_json::from_str(include_str!("data/sigstore-trusted-root.staging.json")).unwrap();
    root["certificateAuthorities"] = staging["certificateAuthorities"].clone();
    let mixed = TrustedRoot::from_json(&root.to_string()).unwrap();
    let release = policy("mitr@redhat.com", GITHUB, Arc::new(mixed));
    let verdict = verify(&evidence(&read("payload.json"), |_| {}), &image(), &[&release]);
    assert_eq!(
        (verdict.status, verdict.reason.as_str()),
        (Status::Invalid, "the signing certificate does not chain to a Fulcio authority of the trusted root")
    );
}
