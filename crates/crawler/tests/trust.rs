//! Signatures verified at crawl time against trust policies, on a real seeded distribution: the
//! seeder's cosign signatures (`.sig` tags, made with its committed key exactly as `cosign sign
//! --key` makes them) and its forgery (one image's payload and signature copied onto another
//! image's `.sig` tag). Expectations come from the registry's own bytes (each signature's
//! payload names the digest it signs), never from the verdicts under test.

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine as _;
use chrono::Utc;
use ocicat_catalog::{ArtifactDoc, Catalog, SearchSort, WriterConfig};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};
use ocicat_trust::{Evidence, Policies, Policy, PublicKey, Status};

fn digests(catalog: &Catalog, query: &str) -> BTreeSet<String> {
    let results = catalog
        .search(query, SearchSort::Newest, 0, 200, Utc::now())
        .unwrap_or_else(|error| panic!("{query}: {error}"));
    results.items.into_iter().map(|item| item.digest).collect()
}

/// The digest the cosign payload of `signature` names, read from the stored payload bytes.
fn signed_digest(signature: &ArtifactDoc) -> String {
    let Some(Evidence::CosignSimpleSigning { payload, .. }) = signature.signature_evidence.first() else {
        panic!("{} keeps its cosign payload: {:?}", signature.digest, signature.signature_evidence);
    };
    let payload = base64::engine::general_purpose::STANDARD.decode(payload).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    payload.pointer("/critical/image/docker-manifest-digest").unwrap().as_str().unwrap().to_owned()
}

#[tokio::test]
async fn cosign_signatures_are_verified_by_the_policy_key_a_copied_one_is_invalid_and_a_policy_change_needs_no_refetch()
{
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = Client::new(ClientConfig::new(registry.url().parse().unwrap(), Credentials::Anonymous)).unwrap();
    let untrusting = RegistrySource::new("local", client);
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    board.register("local", &registry.url());
    crawl_registry(&untrusting, &catalog, &writer, &board, 4).await.unwrap();

    let cosign_signatures: Vec<_> = report
        .items
        .iter()
        .filter(|item| item.kind == "signature" && item.reference.as_deref().is_some_and(|tag| tag.ends_with(".sig")))
        .collect();
    let document = |repository: &str, digest: &str| catalog.artifact("local", repository, digest).unwrap().unwrap();
    let (mut genuine, mut copied) = (BTreeSet::new(), BTreeSet::new());
    for item in &cosign_signatures {
        let subject = item.subject.clone().unwrap();
        if signed_digest(&document(&item.repository, &item.digest)) == subject {
            genuine.insert(subject);
        } else {
            copied.insert(subject);
        }
    }
    assert!(!genuine.is_empty() && copied.len() == 1, "genuine {genuine:?}, copied {copied:?}");

    // No policy: nothing is verified; the genuine signatures match the certificate they carry
    // (untrusted), the copied one signs another digest whoever made it (invalid).
    assert!(digests(&catalog, "signature:verified").is_empty());
    for item in &cosign_signatures {
        let verdicts = document(&item.repository, &item.digest).verdicts;
        assert_eq!(verdicts.len(), 1, "{verdicts:?}");
        let expected =
            if genuine.contains(item.subject.as_deref().unwrap()) { Status::Untrusted } else { Status::Invalid };
        assert_eq!(verdicts[0].status, expected, "{verdicts:?}");
    }
    assert_eq!(digests(&catalog, "signature:invalid"), copied);

    // The demo key becomes trusted: the next (incremental) crawl gives new verdicts from what
    // the catalog kept, fetching no manifest again.
    let demo = Policy::with_keys(
        "demo",
        "local",
        "**",
        vec![PublicKey::from_pem(ocicat_seed::DEMO_SIGNER_PUBLIC_KEY).unwrap()],
    );
    let trusting = untrusting.clone().trusting(Arc::new(Policies::new(vec![demo])));
    crawl_registry(&trusting, &catalog, &writer, &board, 4).await.unwrap();
    assert_eq!(board.get("local").unwrap().manifests_seen, 0, "no manifest fetched again");

    for item in &cosign_signatures {
        let verdict = document(&item.repository, &item.digest).verdicts.remove(0);
        let subject = item.subject.as_deref().unwrap();
        if genuine.contains(subject) {
            assert_eq!((verdict.status, verdict.policy.as_deref()), (Status::Verified, Some("demo")), "{verdict:?}");
        } else {
            assert_eq!(verdict.status, Status::Invalid, "{verdict:?}");
            assert!(
                verdict.reason.starts_with("signs sha256:") && verdict.reason.contains("not this artifact"),
                "{verdict:?}"
            );
        }
    }
    assert_eq!(digests(&catalog, "signature:verified"), genuine);
    assert_eq!(digests(&catalog, "trust:demo"), genuine);
    assert_eq!(digests(&catalog, "signature:invalid"), copied);
    assert!(digests(&catalog, "signature:none").is_disjoint(&genuine.union(&copied).cloned().collect()));
    // The verdicts are a facet of every search.
    let facets = catalog.search("kind:image", SearchSort::Newest, 0, 1, Utc::now()).unwrap().facets.signature;
    let count = |verdict: &str| facets.iter().find(|(key, _)| key == verdict).map(|(_, count)| *count);
    assert_eq!(count("invalid"), Some(copied.len() as u64), "{facets:?}");
    assert_eq!(count("verified"), Some(genuine.len() as u64), "{facets:?}");
    assert!(count("none").is_some_and(|unsigned| unsigned > 0), "{facets:?}");
    let forged = copied.iter().next().unwrap();
    let victim = report.items.iter().find(|item| &item.digest == forged).unwrap();
    let summary = document(&victim.repository, forged).referrers.trust;
    assert_eq!(summary.status, Some(Status::Invalid), "{summary:?}");
    assert!(summary.policies.is_empty(), "no policy vouches for the forged one");
}

#[tokio::test]
async fn a_production_keyless_signature_in_a_real_registry_is_verified_for_its_signer_only() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed_keyless_sample(&Target::anonymous(registry.url().parse().unwrap())).await.unwrap();
    let [signature] = report.items.as_slice() else { panic!("one signature: {report:?}") };
    let client = Client::new(ClientConfig::new(registry.url().parse().unwrap(), Credentials::Anonymous)).unwrap();
    let keyless = |identity: &str| Policy {
        keyless: vec![ocicat_trust::KeylessIdentity {
            issuer: ocicat_seed::KEYLESS_SAMPLE_ISSUER.into(),
            identity: identity.into(),
        }],
        ..Policy::with_keys("upstream", "local", "upstream/**", Vec::new())
    };
    for (identity, expected) in
        [(ocicat_seed::KEYLESS_SAMPLE_IDENTITY, Status::Verified), ("release@acme.example", Status::Untrusted)]
    {
        let source =
            RegistrySource::new("local", client.clone()).trusting(Arc::new(Policies::new(vec![keyless(identity)])));
        let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
        let board = StatusBoard::default();
        board.register("local", &registry.url());
        crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
        let document = catalog.artifact("local", &signature.repository, &signature.digest).unwrap().unwrap();
        // What the registry holds: the payload names the image the `.sig` tag is for.
        assert_eq!(Some(signed_digest(&document)), signature.subject, "{document:?}");
        let verdict = &document.verdicts[0];
        assert_eq!(verdict.status, expected, "{verdict:?}");
        assert_eq!(verdict.identity.as_deref(), Some(ocicat_seed::KEYLESS_SAMPLE_IDENTITY));
        if expected == Status::Verified {
            assert_eq!(verdict.policy.as_deref(), Some("upstream"));
            assert!(
                verdict.reason.contains("logged in Rekor at 2023-01-20T20:51:33+00:00 (index 11605770)"),
                "{verdict:?}"
            );
        }
    }
}

#[tokio::test]
async fn on_ferro_signatures_found_through_the_referrers_api_are_verified_by_key_and_by_notation_root() {
    let registry = ocicat_testkit::Ferro::start().await.unwrap();
    let target = Target { referrers_api: true, ..Target::anonymous(registry.url().parse().unwrap()) };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let client = Client::new(ClientConfig::new(registry.url().parse().unwrap(), Credentials::Anonymous)).unwrap();
    let demo = Policy {
        notation_roots: vec![ocicat_seed::demo_signer_certificate_der().to_vec()],
        notation_identities: vec![ocicat_seed::DEMO_SIGNER_NOTATION_IDENTITY.to_owned()],
        ..Policy::with_keys(
            "demo",
            "local",
            "**",
            vec![PublicKey::from_pem(ocicat_seed::DEMO_SIGNER_PUBLIC_KEY).unwrap()],
        )
    };
    let source = RegistrySource::new("local", client).trusting(Arc::new(Policies::new(vec![demo])));
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    board.register("local", &registry.url());
    crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
    // Every signature and signed attestation pushed by digest (a referrer, listed by the API):
    // notation envelopes, sigstore bundles and cosign attestations, all made by the demo signer.
    let referrers: Vec<_> = report
        .items
        .iter()
        .filter(|item| item.reference.is_none() && matches!(item.kind, "signature" | "attestation"))
        .collect();
    assert!(referrers.len() >= 3, "{referrers:?}");
    let mut verified = 0;
    for item in referrers {
        let document = catalog.artifact("local", &item.repository, &item.digest).unwrap().unwrap();
        if document.subject.is_none() {
            assert!(document.verdicts.is_empty(), "buildx's unsigned attestation manifests get no verdict");
            continue;
        }
        assert_eq!(document.referrer_sources, ["referrers API"], "{}", item.digest);
        assert!(
            document
                .verdicts
                .iter()
                .all(|verdict| verdict.status == Status::Verified && verdict.policy.as_deref() == Some("demo")),
            "{}: {:?}",
            item.digest,
            document.verdicts
        );
        verified += usize::from(!document.verdicts.is_empty());
    }
    assert!(verified >= 3, "notation, bundle and attestation referrers verified: {verified}");
}
