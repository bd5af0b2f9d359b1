//! Agreement with a peer: sigstore-python 4.5.1 (installed by `scripts/setup.sh` in its own
//! virtualenv, run offline with the same trusted root and identity policy) accepts exactly the
//! sigstore bundles ocicat calls verified and refuses the others — every conformance case that
//! names a signer (the key-based ones are outside its command line) and every real-world bundle
//! of `tests/data/bundles`, but for the divergences listed with their reasons.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use ocicat_trust::{Evidence, KeylessIdentity, Policy, Status, TrustedRoot, verify};
use sha2::Digest as _;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const BEACON: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const GITHUB_ACTIONS: &str = "https://token.actions.githubusercontent.com";

/// Where they disagree, and why. Each one is checked to still disagree.
const DIVERGENCES: &[(&str, &str)] = &[
    (
        "invalid-ct-key_fail",
        "sigstore-python checks the certificate transparency timestamp (SCT) in the Fulcio certificate; ocicat does not",
    ),
    (
        "intoto-with-custom-trust-root",
        "sigstore-python 4.5.1 takes integrated times only from dsse and hashedrekord 0.0.1 entries; the suite (and ocicat) verify intoto entries",
    ),
    (
        "Python-3.12.5.tgz.sigstore",
        "sigstore-python 4.5.1 refuses to load a v0.1 bundle whose inclusion proof has no checkpoint; ocicat stands on its promise, as v0.1 does",
    ),
    (
        "oci-attestation.sigstore.json",
        "sigstore-python 4.5.1 reads only in-toto Statement v1; cosign wrote this one as v0.1, whose subject ocicat still checks",
    ),
    (
        "trust-root-tsa-validity-end-inclusive",
        "sigstore-python 4.5.1 ends a timestamp authority's validity before its end time; the suite (and ocicat) include it",
    ),
];

/// One bundle to judge: the bundle, the artifact (a file, or a digest), the policy's signer and
/// root (`None`: the public-good root).
struct Case {
    name: String,
    bundle: PathBuf,
    artifact: Artifact,
    identity: String,
    issuer: String,
    root: Option<PathBuf>,
}

enum Artifact {
    File(PathBuf),
    Digest(String),
}

impl Artifact {
    /// The digest ocicat sees as the subject.
    fn digest(&self) -> String {
        match self {
            Artifact::File(path) => {
                format!("sha256:{}", hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap())))
            }
            Artifact::Digest(digest) => digest.clone(),
        }
    }
}

fn conformance_cases() -> Vec<Case> {
    let root = Path::new(DATA).join("sigstore-conformance");
    let mut cases = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let case = entry.unwrap().path();
        if !case.join("bundle.sigstore.json").exists() || case.join("key.pub").exists() {
            continue;
        }
        let text = |name: &str| std::fs::read_to_string(case.join(name)).ok().map(|text| text.trim().to_owned());
        let artifact = if case.join("artifact").exists() { case.join("artifact") } else { root.join("a.txt") };
        cases.push(Case {
            name: case.file_name().unwrap().to_string_lossy().into_owned(),
            bundle: case.join("bundle.sigstore.json"),
            artifact: Artifact::File(artifact),
            identity: text("identity").unwrap_or_else(|| BEACON.to_owned()),
            issuer: text("issuer").unwrap_or_else(|| GITHUB_ACTIONS.to_owned()),
            root: case.join("trusted_root.json").exists().then(|| case.join("trusted_root.json")),
        });
    }
    cases
}

fn bundle_cases() -> Vec<Case> {
    let bundles = Path::new(DATA).join("bundles");
    let staging = Some(Path::new(DATA).join("sigstore-trusted-root.staging.json"));
    let case = |name: &str, artifact: Artifact, identity: &str, issuer: &str, root: Option<PathBuf>| Case {
        name: name.to_owned(),
        bundle: bundles.join(name),
        artifact,
        identity: identity.to_owned(),
        issuer: issuer.to_owned(),
        root,
    };
    let file = |name: &str| Artifact::File(bundles.join(name));
    vec![
        case(
            "bundle_v3_github.whl.sigstore",
            file("bundle_v3_github.whl"),
            "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2",
            GITHUB_ACTIONS,
            None,
        ),
        case(
            "bundle_v3_no_signed_time.txt.sigstore.json",
            file("bundle_v3_no_signed_time.txt"),
            "william@yossarian.net",
            "https://github.com/login/oauth",
            None,
        ),
        case(
            "bundle_cve_2022_36056.txt.sigstore",
            file("bundle_cve_2022_36056.txt"),
            "william@yossarian.net",
            "https://github.com/login/oauth",
            staging.clone(),
        ),
        case(
            "Python-3.12.5.tgz.sigstore",
            Artifact::Digest("sha256:38dc4e2c261d49c661196066edbfb70fdb16be4a79cc8220c224dfeb5636d405".into()),
            "thomas@python.org",
            "https://accounts.google.com",
            None,
        ),
        case(
            "oci-attestation.sigstore.json",
            Artifact::Digest("sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4".into()),
            "cody@soyland.com",
            "https://github.com/login/oauth",
            None,
        ),
        case(
            "a.dsse.staging-rekor-v2.txt.sigstore.json",
            Artifact::File(Path::new(DATA).join("sigstore-conformance/a.txt")),
            BEACON,
            GITHUB_ACTIONS,
            staging,
        ),
    ]
}

/// The trust configuration sigstore-python takes for a custom root (its signing part unused), as
/// the conformance suite's adapter writes it.
fn trust_config(root: &Path, folder: &Path, name: &str) -> PathBuf {
    let root: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root).unwrap()).unwrap();
    let service = serde_json::json!([{"url": "https://example.invalid", "majorApiVersion": 1, "operator": "", "validFor": {"start": "1970-01-01T01:01:01Z"}}]);
    let config = serde_json::json!({
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": root,
        "signingConfig": {
            "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
            "caUrls": service, "oidcUrls": [], "rekorTlogUrls": service, "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"},
        },
    });
    let path = folder.join(format!("{name}.trust.json"));
    std::fs::write(&path, config.to_string()).unwrap();
    path
}

fn python() -> PathBuf {
    let path = std::env::var_os("OCICAT_SIGSTORE_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/ocicat/sigstore-python-4.5.1/bin/python")
    });
    assert!(path.exists(), "sigstore-python is not installed at {}: run scripts/setup.sh", path.display());
    path
}

/// Whether sigstore-python accepts the case (`sigstore verify identity --offline`).
fn peer_accepts(cases: &[Case]) -> Vec<bool> {
    let python = python();
    let folder = tempfile::tempdir().unwrap();
    let mut verdicts = Vec::new();
    for batch in cases.chunks(8) {
        let children: Vec<_> = batch
            .iter()
            .map(|case| {
                let mut command = Command::new(&python);
                command.args(["-m", "sigstore"]);
                if let Some(root) = &case.root {
                    command.arg("--trust-config").arg(trust_config(root, folder.path(), &case.name));
                }
                command.args(["verify", "identity", "--offline", "--bundle"]).arg(&case.bundle);
                command.args(["--cert-identity", &case.identity, "--cert-oidc-issuer", &case.issuer]);
                match &case.artifact {
                    Artifact::File(path) => command.arg(path),
                    Artifact::Digest(digest) => command.arg(digest),
                };
                command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("sigstore-python runs")
            })
            .collect();
        verdicts.extend(children.into_iter().map(|mut child| child.wait().unwrap().success()));
    }
    verdicts
}

/// Whether ocicat verifies the case under a policy for its signer and root.
fn ocicat_verifies(case: &Case) -> bool {
    let root = match &case.root {
        Some(path) => match TrustedRoot::from_json(&std::fs::read_to_string(path).unwrap()) {
            Ok(root) => Arc::new(root),
            Err(_) => return false,
        },
        None => TrustedRoot::public_good(),
    };
    let policy = Policy {
        keyless: vec![KeylessIdentity { identity: case.identity.clone(), issuer: case.issuer.clone() }],
        root,
        ..Policy::with_keys("peer", "*", "**", Vec::new())
    };
    let bundle = std::fs::read_to_string(&case.bundle).unwrap();
    verify(&Evidence::SigstoreBundle { bundle }, &case.artifact.digest(), &[&policy]).status == Status::Verified
}

#[test]
fn sigstore_python_accepts_exactly_the_bundles_ocicat_verifies() {
    let mut cases = conformance_cases();
    cases.extend(bundle_cases());
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    let peer = peer_accepts(&cases);
    let mut disagreements = Vec::new();
    let mut agreed = 0;
    for (case, peer) in cases.iter().zip(peer) {
        let ours = ocicat_verifies(case);
        let expected_divergence = DIVERGENCES.iter().any(|(name, _)| *name == case.name);
        if (ours != peer) != expected_divergence {
            disagreements.push(format!("{}: ocicat {ours}, sigstore-python {peer}", case.name));
        } else if !expected_divergence {
            agreed += 1;
        }
    }
    assert!(disagreements.is_empty(), "unexpected (dis)agreements:\n{}", disagreements.join("\n"));
    assert!(agreed >= 60, "only {agreed} cases compared");
}
