//! The Sigstore conformance suite's bundle verification cases (sigstore/sigstore-conformance,
//! `test/assets/bundle-verify`, kept in `tests/data/sigstore-conformance`; see
//! `tests/data/README.md`): every case a sigstore client must accept is verified by ocicat under
//! a policy for the case's identity (or key) and root, and every case it must refuse is not.
//! The artifact's SHA-256 stands for the digest of the artifact a bundle hangs on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ocicat_trust::{Evidence, KeylessIdentity, Policy, PublicKey, Status, TrustedRoot, Verdict, verify};
use sha2::Digest as _;

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/sigstore-conformance");
const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Cases ocicat must accept but does not, with why (empty: none).
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// Cases ocicat must refuse but accepts, with why.
const NOT_REFUSED: &[(&str, &str)] = &[(
    "invalid-ct-key_fail",
    "signed certificate timestamps (the CT log's promise inside a Fulcio certificate) are not checked",
)];

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(CASES)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.join("bundle.sigstore.json").exists())
        .collect();
    cases.sort();
    cases
}

fn text(case: &Path, name: &str) -> Option<String> {
    std::fs::read_to_string(case.join(name)).ok().map(|text| text.trim().to_owned())
}

/// The verdict ocicat gives the case's bundle, or the error its trusted root or key fails with.
fn judge(case: &Path) -> Result<Verdict, String> {
    let root = match std::fs::read_to_string(case.join("trusted_root.json")) {
        Ok(json) => Arc::new(TrustedRoot::from_json(&json).map_err(|error| error.to_string())?),
        Err(_) => TrustedRoot::public_good(),
    };
    let artifact =
        std::fs::read(case.join("artifact")).unwrap_or_else(|_| std::fs::read(Path::new(CASES).join("a.txt")).unwrap());
    let subject = format!("sha256:{}", hex::encode(sha2::Sha256::digest(&artifact)));
    let keys = match std::fs::read_to_string(case.join("key.pub")) {
        Ok(pem) => vec![PublicKey::from_pem(&pem).map_err(|error| error.to_string())?],
        Err(_) => Vec::new(),
    };
    let keyless = if keys.is_empty() {
        vec![KeylessIdentity {
            identity: text(case, "identity").unwrap_or_else(|| IDENTITY.to_owned()),
            issuer: text(case, "issuer").unwrap_or_else(|| ISSUER.to_owned()),
        }]
    } else {
        Vec::new()
    };
    let policy = Policy { keyless, root, ..Policy::with_keys("conformance", "*", "**", keys) };
    let bundle = std::fs::read_to_string(case.join("bundle.sigstore.json")).unwrap();
    Ok(verify(&Evidence::SigstoreBundle { bundle }, &subject, &[&policy]))
}

#[test]
fn every_conformance_case_comes_out_as_the_suite_says() {
    let mut wrong = Vec::new();
    let mut counted = 0;
    for case in cases() {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let outcome = judge(&case);
        let accepted = outcome.as_ref().is_ok_and(|verdict| verdict.status == Status::Verified);
        let expected = if name.ends_with("_fail") {
            NOT_REFUSED.iter().any(|(known, _)| *known == name)
        } else {
            !KNOWN_GAPS.iter().any(|(known, _)| *known == name)
        };
        if accepted != expected {
            wrong.push(format!("{name}: {outcome:?}"));
        }
        counted += 1;
    }
    assert!(wrong.is_empty(), "{} cases came out otherwise than the suite says:\n{}", wrong.len(), wrong.join("\n"));
    // The suite's size when it was taken: a case lost from the data would pass unnoticed.
    assert_eq!(counted, 70);
}
