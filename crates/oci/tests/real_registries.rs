//! The client against real registries seeded by real tools: listing, every manifest kind,
//! referrers from the API and every fallback, blobs, deletes with deletion on and off.

use futures::StreamExt as _;
use ocicat_oci::{
    Client, ClientConfig, Credentials, DeleteOutcome, Digest, ManifestBody, OciError, ReferrerSource, Secret,
    buildx_attestations,
};
use ocicat_seed::{SeedReport, Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, Ferro};

fn client(url: &str, credentials: Credentials) -> Client {
    Client::new(ClientConfig::new(url.parse().unwrap(), credentials)).unwrap()
}

/// The seeded image with the most referrers, and the digests the report says refer to it.
fn richest_subject(report: &SeedReport) -> (String, Digest, Vec<String>) {
    let mut best: Option<(&ocicat_seed::Seeded, Vec<String>)> = None;
    for item in report.items.iter().filter(|item| item.reference.is_some()) {
        // Buildx attestations live in their index, not behind the subject: not referrers here.
        let is_buildx = |other: &ocicat_seed::Seeded| other.kind == "attestation" && other.reference.is_none();
        let referrers: Vec<String> = report
            .items
            .iter()
            .filter(|other| other.subject.as_deref() == Some(item.digest.as_str()) && !is_buildx(other))
            .map(|other| other.digest.clone())
            .collect();
        if best.as_ref().is_none_or(|(_, known)| referrers.len() > known.len()) {
            best = Some((item, referrers));
        }
    }
    let (item, mut referrers) = best.unwrap();
    referrers.sort();
    (item.repository.clone(), item.digest.parse().unwrap(), referrers)
}

#[tokio::test]
async fn distribution_serves_every_seeded_manifest_and_its_referrers_through_fallbacks() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let catalog = client.catalog().await.unwrap();
    assert_eq!(catalog.items, report.repositories());
    for item in &report.items {
        let manifest = client.get_manifest(&item.repository, &item.digest).await.unwrap();
        assert_eq!(manifest.digest.to_string(), item.digest);
        if let Some(tag) = &item.reference {
            assert!(client.tags(&item.repository).await.unwrap().items.contains(tag));
            assert_eq!(
                client.head_manifest(&item.repository, tag).await.unwrap().map(|d| d.to_string()),
                Some(item.digest.clone())
            );
        }
    }
    let (repository, subject, expected) = richest_subject(&report);
    let tags = client.tags(&repository).await.unwrap().items;
    let referrers = client.referrers(&repository, &subject, &tags).await.unwrap();
    let mut found: Vec<String> = referrers.iter().map(|r| r.digest.to_string()).collect();
    found.sort();
    assert!(expected.iter().all(|digest| found.contains(digest)), "expected {expected:?}, found {found:?}");
    assert!(
        referrers
            .iter()
            .all(|r| r.sources.iter().all(|s| matches!(s, ReferrerSource::FallbackTag | ReferrerSource::CosignTag)))
    );
    assert!(client.referrers_api(&repository, &subject, None).await.unwrap().is_none(), "2.8.2 has no referrers API");
}

#[tokio::test]
async fn ferro_lists_referrers_through_the_api_with_its_filter() {
    let registry = Ferro::start().await.unwrap();
    let target = Target { referrers_api: true, ..Target::anonymous(registry.url().parse().unwrap()) };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let sbom = report.items.iter().find(|item| item.kind == "sbom" && item.subject.is_some()).unwrap();
    let subject: Digest = sbom.subject.as_deref().unwrap().parse().unwrap();
    let all = client.referrers_api(&sbom.repository, &subject, None).await.unwrap().expect("ferro has the API");
    assert!(all.iter().any(|r| r.digest.to_string() == sbom.digest));
    let only_spdx =
        client.referrers_api(&sbom.repository, &subject, Some("application/spdx+json")).await.unwrap().unwrap();
    assert!(!only_spdx.is_empty() && only_spdx.len() <= all.len());
    assert!(only_spdx.iter().all(|r| r.artifact_type.as_deref() == Some("application/spdx+json")));
}

#[tokio::test]
async fn buildx_attestations_and_real_layers_are_read() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let buildx = report
        .items
        .iter()
        .find(|item| item.kind == "attestation" && item.reference.is_none() && item.subject.is_some())
        .unwrap();
    let parent = report.items.iter().find(|item| item.kind == "index" && item.repository == buildx.repository).unwrap();
    let ManifestBody::Index(index) = client.get_manifest(&parent.repository, &parent.digest).await.unwrap().body else {
        panic!("index")
    };
    let attested: Digest = buildx.subject.as_deref().unwrap().parse().unwrap();
    let found = buildx_attestations(&index);
    assert_eq!(found[&attested][0].digest.to_string(), buildx.digest);

    let image = report.items.iter().find(|item| item.kind == "image" && item.reference.is_some()).unwrap();
    let ManifestBody::Image(manifest) = client.get_manifest(&image.repository, &image.digest).await.unwrap().body
    else {
        panic!("image")
    };
    let layer = manifest.layers().first().expect("a real layer");
    let digest: Digest = layer.digest().to_string().parse().unwrap();
    let chunks: Vec<_> = client.blob_stream(&image.repository, &digest, 64 << 20).await.unwrap().collect().await;
    let bytes: Vec<u8> = chunks.into_iter().flat_map(|chunk| chunk.unwrap().to_vec()).collect();
    assert_eq!(bytes.len() as u64, layer.size());
    assert!(digest.verifies(&bytes));
}

#[tokio::test]
async fn deletes_are_idempotent_tags_alone_are_unsupported_and_fallback_indexes_are_kept_in_step() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let wasm = report.items.iter().find(|item| item.kind == "wasm").unwrap();
    let error = client.delete_tag(&wasm.repository, wasm.reference.as_deref().unwrap()).await.unwrap_err();
    assert!(matches!(&error, OciError::Unsupported { what, .. } if what.contains("delete its digest")), "{error}");
    let digest: Digest = wasm.digest.parse().unwrap();
    assert_eq!(client.delete_manifest(&wasm.repository, &digest).await.unwrap(), DeleteOutcome::Deleted);
    assert_eq!(client.delete_manifest(&wasm.repository, &digest).await.unwrap(), DeleteOutcome::AlreadyGone);

    let sbom = report.items.iter().find(|item| item.kind == "sbom" && item.reference.is_none()).unwrap();
    let subject: Digest = sbom.subject.as_deref().unwrap().parse().unwrap();
    let before = client.referrers_fallback(&sbom.repository, &subject).await.unwrap();
    let referrer: Digest = sbom.digest.parse().unwrap();
    assert!(client.remove_from_fallback_index(&sbom.repository, &subject, &referrer).await.unwrap());
    let after = client.referrers_fallback(&sbom.repository, &subject).await.unwrap();
    assert_eq!(after.len(), before.len() - 1);
    assert!(after.iter().all(|r| r.digest != referrer));
    assert!(
        !client.remove_from_fallback_index(&sbom.repository, &subject, &referrer).await.unwrap(),
        "second removal changes nothing"
    );
}

#[tokio::test]
async fn a_registry_with_deletion_disabled_says_so() {
    let registry = Distribution::start(DistributionOptions::anonymous().with_delete_disabled()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let item = report.items.iter().find(|item| item.reference.is_some()).unwrap();
    let error = client.delete_manifest(&item.repository, &item.digest.parse().unwrap()).await.unwrap_err();
    assert!(matches!(&error, OciError::Unsupported { what, .. } if what.contains("disabled")), "{error}");
}

#[tokio::test]
async fn wrong_passwords_are_clear_errors_and_tokens_are_cached() {
    let basic = Distribution::start(DistributionOptions::basic("reader", "right-password")).await.unwrap();
    let wrong =
        client(&basic.url(), Credentials::Basic { username: "reader".into(), password: Secret::new("wrong-password") });
    assert!(matches!(wrong.catalog().await, Err(OciError::Unauthorized { .. })));
    let right =
        client(&basic.url(), Credentials::Basic { username: "reader".into(), password: Secret::new("right-password") });
    right.ping().await.unwrap();

    let token = Distribution::start(DistributionOptions::token("reader", "token-password")).await.unwrap();
    let target = Target {
        url: token.url().parse().unwrap(),
        username: Some("reader".into()),
        password: Some("token-password".into()),
        referrers_api: false,
    };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let issued_before = token.token_server().unwrap().tokens_issued();
    let client =
        client(&token.url(), Credentials::Basic { username: "reader".into(), password: Secret::new("token-password") });
    for item in report.items.iter().filter(|item| item.repository == report.items[0].repository) {
        client.get_manifest(&item.repository, &item.digest).await.unwrap();
    }
    assert_eq!(
        token.token_server().unwrap().tokens_issued() - issued_before,
        1,
        "one token for one repository's scope"
    );
    let bad = ocicat_oci::Client::new(ClientConfig::new(
        token.url().parse().unwrap(),
        Credentials::Basic { username: "reader".into(), password: Secret::new("nope") },
    ))
    .unwrap();
    assert!(matches!(bad.tags(&report.items[0].repository).await, Err(OciError::Unauthorized { .. })));
}

#[tokio::test]
async fn an_unchanged_manifest_costs_a_304_not_a_body() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let item = report.items.iter().find(|item| item.reference.is_some()).unwrap();
    let tag = item.reference.as_deref().unwrap();
    let ocicat_oci::Conditional::Modified { manifest, etag } =
        client.get_manifest_if_changed(&item.repository, tag, None).await.unwrap()
    else {
        panic!("first fetch has a body")
    };
    assert_eq!(manifest.digest.to_string(), item.digest);
    let etag = etag.expect("distribution sends an ETag");
    let again = client.get_manifest_if_changed(&item.repository, tag, Some(&etag)).await.unwrap();
    assert!(matches!(again, ocicat_oci::Conditional::NotModified));
    let stale = client.get_manifest_if_changed(&item.repository, tag, Some("\"sha256:stale\"")).await.unwrap();
    assert!(matches!(stale, ocicat_oci::Conditional::Modified { .. }));
}

// --- Exact expectations from the seed report (listing through small pages, every tag, the
// --- referrers of the richest subject as a set with their sources, on distribution and ferro).

/// The fallback tag shape `sha256-<64 hex>` (the seeder keeps these but does not report them).
fn is_fallback_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-").is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The report's tags of `repository`, sorted.
fn reported_tags(report: &SeedReport, repository: &str) -> Vec<String> {
    let mut tags: Vec<String> = report
        .items
        .iter()
        .filter(|item| item.repository == repository)
        .filter_map(|item| item.reference.clone())
        .collect();
    tags.sort();
    tags.dedup();
    tags
}

/// Every report item whose subject is `subject`, as (digest, expected source).
fn reported_referrers(report: &SeedReport, subject: &Digest) -> Vec<(String, ReferrerSource)> {
    let subject = subject.to_string();
    let mut expected: Vec<(String, ReferrerSource)> = report
        .items
        .iter()
        .filter(|item| item.subject.as_deref() == Some(subject.as_str()))
        .map(|item| {
            let source = if item.reference.is_some() { ReferrerSource::CosignTag } else { ReferrerSource::FallbackTag };
            (item.digest.clone(), source)
        })
        .collect();
    expected.sort();
    expected
}

/// The seeded `demo/app` image that carries SBOMs, scans, signatures and lifecycle metadata.
fn app_subject(report: &SeedReport) -> Digest {
    report.tagged("demo/app", "1.0.0").expect("demo/app:1.0.0 is seeded").digest.parse().unwrap()
}

#[tokio::test]
async fn distribution_catalog_pages_through_relative_links_and_tags_match_the_report() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    assert!(report.repositories().len() >= 6);
    // The client asks n=1000; this proxy asks distribution for pages of 2, so its relative Link
    // (`</v2/_catalog?last=…&n=2>`) must be followed through the proxy to list every repository.
    let proxy = ocicat_testkit::FaultyRegistry::builder()
        .any("/v2/*", ocicat_testkit::Script::proxy(&registry.url(), |query| query.replace("n=1000", "n=2")))
        .start()
        .await
        .unwrap();
    let paged = client(&proxy.url(), Credentials::Anonymous).catalog().await.unwrap();
    assert_eq!(paged.items, report.repositories());
    assert!(!paged.truncated);
    let pages = proxy.requests_to("/v2/_catalog");
    assert!(pages.len() >= 3, "{} pages for {} repositories", pages.len(), paged.items.len());
    assert!(pages[1..].iter().all(|page| page.query_param("last").is_some()), "later pages follow the Link");

    let client = client(&registry.url(), Credentials::Anonymous);
    for repository in report.repositories() {
        let listed = client.tags(&repository).await.unwrap().items;
        let (fallback, tags): (Vec<String>, Vec<String>) = listed.into_iter().partition(|tag| is_fallback_tag(tag));
        assert_eq!(tags, reported_tags(&report, &repository), "{repository}");
        for tag in fallback {
            let indexed = client.referrers_fallback(&repository, &tag.replacen('-', ":", 1).parse().unwrap()).await;
            assert!(!indexed.unwrap().is_empty(), "{repository}:{tag} is a non-empty fallback index");
        }
    }
}

#[tokio::test]
async fn distribution_referrers_of_the_app_are_exactly_the_reported_ones_with_their_sources() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let subject = app_subject(&report);
    let tags = client.tags("demo/app").await.unwrap().items;
    let referrers = client.referrers("demo/app", &subject, &tags).await.unwrap();
    let mut found: Vec<(String, ReferrerSource)> = referrers
        .iter()
        .map(|referrer| {
            assert_eq!(referrer.sources.len(), 1, "{referrer:?}");
            (referrer.digest.to_string(), referrer.sources[0])
        })
        .collect();
    found.sort();
    let expected = reported_referrers(&report, &subject);
    assert!(expected.iter().any(|(_, source)| *source == ReferrerSource::CosignTag));
    assert!(expected.iter().filter(|(_, source)| *source == ReferrerSource::FallbackTag).count() >= 5);
    assert_eq!(found, expected);
}

#[tokio::test]
async fn ferro_referrers_of_the_app_are_exactly_the_reported_ones_from_the_api_and_cosign_tags() {
    let registry = Ferro::start().await.unwrap();
    let target = Target { referrers_api: true, ..Target::anonymous(registry.url().parse().unwrap()) };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let client = client(&registry.url(), Credentials::Anonymous);
    let subject = app_subject(&report);
    let tags = client.tags("demo/app").await.unwrap().items;
    assert!(!tags.iter().any(|tag| is_fallback_tag(tag)), "no fallback tag on a registry with the API");
    let referrers = client.referrers("demo/app", &subject, &tags).await.unwrap();
    let mut found: Vec<(String, ReferrerSource)> =
        referrers.iter().map(|referrer| (referrer.digest.to_string(), referrer.sources[0])).collect();
    found.sort();
    let api_or_cosign = |source| if source == ReferrerSource::FallbackTag { ReferrerSource::Api } else { source };
    let mut expected: Vec<(String, ReferrerSource)> = reported_referrers(&report, &subject)
        .into_iter()
        .map(|(digest, source)| (digest, api_or_cosign(source)))
        .collect();
    expected.sort();
    assert_eq!(found, expected);

    let spdx = client.referrers_api("demo/app", &subject, Some("application/spdx+json")).await.unwrap().unwrap();
    let sboms: Vec<String> = report
        .of_kind("sbom")
        .filter(|item| item.subject.as_deref() == Some(subject.to_string().as_str()))
        .map(|item| item.digest.clone())
        .collect();
    assert_eq!(spdx.len(), 1, "one SPDX SBOM among {} SBOMs: {spdx:?}", sboms.len());
    assert!(sboms.len() > 1 && sboms.contains(&spdx[0].digest.to_string()));
    assert_eq!(spdx[0].artifact_type.as_deref(), Some("application/spdx+json"));
}
