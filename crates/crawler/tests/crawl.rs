//! The crawler against real registries seeded by real tools: everything the seeder pushed is
//! indexed with the right kind, deletions disappear on the next crawl, a dead registry is an error.

use ocicat_catalog::{Catalog, CatalogWriter, WriterConfig};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials, Secret};
use ocicat_seed::{SeedReport, Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, Ferro};

fn source(url: &str, credentials: Credentials) -> RegistrySource {
    let client = Client::new(ClientConfig::new(url.parse().unwrap(), credentials)).unwrap();
    RegistrySource::new("local", client)
}

async fn crawl(source: &RegistrySource) -> (Catalog, CatalogWriter, StatusBoard) {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    board.register(&source.name, source.client.base_url().as_str());
    crawl_registry(source, &catalog, &writer, &board, 4).await.expect("crawl succeeds");
    (catalog, writer, board)
}

fn assert_every_item_indexed(catalog: &Catalog, report: &SeedReport) {
    let mut checked = 0;
    for item in &report.items {
        let artifact = catalog
            .artifact("local", &item.repository, &item.digest)
            .unwrap()
            .unwrap_or_else(|| panic!("{}@{} ({}) not indexed", item.repository, item.digest, item.kind));
        assert_eq!(artifact.kind.as_str(), item.kind, "kind of {}@{}", item.repository, item.digest);
        if let Some(tag) = &item.reference {
            assert!(artifact.tags.contains(tag), "{tag} missing on {}: {:?}", item.digest, artifact.tags);
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} items checked");
}

#[tokio::test]
async fn every_seeded_artifact_of_distribution_is_indexed_with_its_kind() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let source = source(&registry.url(), Credentials::Anonymous);
    let (catalog, _writer, board) = crawl(&source).await;
    assert_every_item_indexed(&catalog, &report);
    let status = board.get("local").unwrap();
    assert_eq!(status.repositories_total, report.repositories().len() as u64);
    assert_eq!(status.manifests_failed, 0, "{:?}", status.last_error);
    // Referrers reached through the fallback index keep their subject, and say how they were
    // found: distribution 2.8 has no referrers API.
    for item in report.items.iter().filter(|item| item.reference.is_none() && item.kind == "sbom") {
        let artifact = catalog.artifact("local", &item.repository, &item.digest).unwrap().unwrap();
        assert_eq!(artifact.subject, item.subject);
        assert_eq!(artifact.referrer_sources, ["fallback tag"], "{}", item.digest);
    }
    let sources_of = |kind: &str| -> Vec<Vec<String>> {
        let items = report.items.iter().filter(|item| item.kind == kind && item.subject.is_some());
        items
            .map(|item| catalog.artifact("local", &item.repository, &item.digest).unwrap().unwrap().referrer_sources)
            .collect()
    };
    let cosign = sources_of("signature").into_iter().filter(|sources| sources.contains(&"cosign tag".to_string()));
    assert!(cosign.count() >= 1, "cosign signatures are found by their tag");
    let attestations = sources_of("attestation");
    assert!(attestations.iter().any(|sources| sources == &["attestation manifest"]), "{attestations:?}");
    assert!(sources_of("scan").iter().all(|sources| !sources.is_empty()));
}

#[tokio::test]
async fn basic_auth_registry_is_crawled_with_configured_credentials() {
    let registry = Distribution::start(DistributionOptions::basic("crawler", "s3cret-basic")).await.unwrap();
    let target = Target {
        url: registry.url().parse().unwrap(),
        username: Some("crawler".into()),
        password: Some("s3cret-basic".into()),
        referrers_api: false,
    };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let credentials = Credentials::Basic { username: "crawler".into(), password: Secret::new("s3cret-basic") };
    let (catalog, _writer, _board) = crawl(&source(&registry.url(), credentials)).await;
    assert_every_item_indexed(&catalog, &report);
    let wrong = Credentials::Basic { username: "crawler".into(), password: Secret::new("wrong") };
    let (bad_catalog, bad_writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    let error =
        crawl_registry(&source(&registry.url(), wrong), &bad_catalog, &bad_writer, &board, 2).await.unwrap_err();
    assert!(
        matches!(error, ocicat_crawler::CrawlError::Registry(ocicat_oci::OciError::Unauthorized { .. })),
        "{error:?}"
    );
    assert!(error.to_string().contains("authentication failed"), "{error}");
}

#[tokio::test]
async fn token_auth_registry_is_crawled_and_tokens_are_cached() {
    let registry = Distribution::start(DistributionOptions::token("crawler", "s3cret-token")).await.unwrap();
    let target = Target {
        url: registry.url().parse().unwrap(),
        username: Some("crawler".into()),
        password: Some("s3cret-token".into()),
        referrers_api: false,
    };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let issued_by_seeding = registry.token_server().unwrap().tokens_issued();
    let credentials = Credentials::Basic { username: "crawler".into(), password: Secret::new("s3cret-token") };
    let (catalog, _writer, board) = crawl(&source(&registry.url(), credentials)).await;
    assert_every_item_indexed(&catalog, &report);
    let issued = registry.token_server().unwrap().tokens_issued() - issued_by_seeding;
    let fetched = board.get("local").unwrap().manifests_seen;
    // One token per scope (catalog + one per repository), not one per request.
    assert!(issued >= 1 && issued <= report.repositories().len() + 1, "{issued} tokens for {fetched} manifests");
}

#[tokio::test]
async fn every_seeded_artifact_of_ferro_is_indexed_through_the_referrers_api() {
    let registry = Ferro::start().await.unwrap();
    let target = Target { referrers_api: true, ..Target::anonymous(registry.url().parse().unwrap()) };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let (catalog, _writer, _board) = crawl(&source(&registry.url(), Credentials::Anonymous)).await;
    assert_every_item_indexed(&catalog, &report);
    // Pushed by digest with a subject and listed by the API, never by a fallback tag.
    for item in report.items.iter().filter(|item| item.reference.is_none() && item.kind == "sbom") {
        let artifact = catalog.artifact("local", &item.repository, &item.digest).unwrap().unwrap();
        assert_eq!(artifact.referrer_sources, ["referrers API"], "{}", item.digest);
    }
}

#[tokio::test]
async fn a_deleted_manifest_disappears_on_the_next_crawl() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let victim =
        report.items.iter().find(|item| item.kind == "wasm" && item.reference.is_some()).expect("a wasm artifact");
    let source = source(&registry.url(), Credentials::Anonymous);
    let (catalog, writer, board) = crawl(&source).await;
    assert!(catalog.artifact("local", &victim.repository, &victim.digest).unwrap().is_some());
    let deleted = reqwest::Client::new()
        .delete(format!("{}/v2/{}/manifests/{}", registry.url(), victim.repository, victim.digest))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 202);
    crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
    assert!(catalog.artifact("local", &victim.repository, &victim.digest).unwrap().is_none());
    let summary = catalog.repository("local", &victim.repository).unwrap().expect("repository still listed");
    assert_eq!(summary.tag_count, 0);
}

#[tokio::test]
async fn an_unreachable_registry_is_an_error_not_a_crash() {
    let port = ocicat_testkit::free_port().unwrap();
    let source = source(&format!("http://127.0.0.1:{port}"), Credentials::Anonymous);
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    board.register("local", "http://127.0.0.1");
    let error = crawl_registry(&source, &catalog, &writer, &board, 2).await.unwrap_err();
    assert!(error.to_string().contains("unreachable"), "{error}");
    assert_eq!(catalog.registry_counts("local").unwrap().repositories, 0);
}

#[tokio::test]
async fn a_second_crawl_costs_heads_not_gets_and_keeps_every_document() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let source = source(&registry.url(), Credentials::Anonymous);
    let (catalog, writer, board) = crawl(&source).await;
    let first = board.get("local").unwrap();
    assert!(first.manifests_seen as usize >= report.items.len());
    assert_eq!(first.manifests_unchanged, 0);

    crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
    let second = board.get("local").unwrap();
    assert_eq!(second.manifests_seen, 0, "an unchanged registry needs no manifest GET");
    let documents: usize = report
        .repositories()
        .iter()
        .map(|repository| catalog.artifacts_in_repository("local", repository).unwrap().len())
        .sum();
    assert_eq!(second.manifests_unchanged as usize, documents, "fallback indexes included");
    assert_every_item_indexed(&catalog, &report);
    for repository in report.repositories() {
        let previous = catalog.artifacts_in_repository("local", &repository).unwrap();
        let again = ocicat_crawler::crawl_repository("local", &source.client, &repository, &previous).await.unwrap();
        assert!(again.changed.is_empty(), "{repository}: nothing to upsert when nothing changed");
        assert!(again.removed.is_empty(), "{repository}: nothing to remove");
    }

    // A new tag on known content is picked up by its HEAD alone.
    let image = report.items.iter().find(|item| item.kind == "wasm" && item.reference.is_some()).unwrap();
    let manifest = source.client.get_manifest(&image.repository, &image.digest).await.unwrap();
    source
        .client
        .push_manifest(&image.repository, "retagged", &manifest.media_type, manifest.raw.clone())
        .await
        .unwrap();
    crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
    assert_eq!(board.get("local").unwrap().manifests_seen, 0);
    let artifact = catalog.artifact("local", &image.repository, &image.digest).unwrap().unwrap();
    assert!(artifact.tags.contains(&"retagged".to_string()), "{:?}", artifact.tags);
}

#[tokio::test]
async fn the_rate_limit_a_registry_announces_and_the_crawl_rates_are_on_the_board() {
    use ocicat_testkit::{FaultyRegistry, Reply, Script};
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    // Docker Hub's headers on every answer of an otherwise real registry.
    let announcing = FaultyRegistry::builder()
        .get(
            "/v2/_catalog",
            Reply::json(serde_json::json!({"repositories": report.repositories()}))
                .header("ratelimit-limit", "100;w=21600")
                .header("ratelimit-remaining", "42;w=21600"),
        )
        .any("/v2/*", Script::proxy(&registry.url(), str::to_owned))
        .start()
        .await
        .unwrap();
    let source = source(&announcing.url(), Credentials::Anonymous);
    let (_catalog, _writer, board) = crawl(&source).await;
    let status = board.get("local").unwrap();
    assert_eq!((status.rate_limit.limit, status.rate_limit.remaining), (Some(100), Some(42)));
    assert_eq!(status.rate_limit.blocked_for_secs, None);
    assert!(status.manifests_per_second > 0.0 && status.repositories_per_second > 0.0, "{status:?}");
}

#[tokio::test]
async fn a_reconcile_fetches_every_manifest_again_and_repairs_a_wrong_document() {
    use ocicat_crawler::{CrawlMode, crawl_registry_in};
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let source = source(&registry.url(), Credentials::Anonymous);
    let (catalog, writer, board) = crawl(&source).await;
    // A document gone wrong (say, written by an older crawler): an incremental crawl trusts it.
    let item = report.items.iter().find(|item| item.kind == "sbom").unwrap();
    let mut wrong = catalog.artifact("local", &item.repository, &item.digest).unwrap().unwrap();
    wrong.kind = ocicat_oci::ArtifactKind::Other;
    let summary = catalog.repository("local", &item.repository).unwrap().unwrap();
    writer.upsert_repository(summary, vec![wrong], vec![]).await.unwrap();
    writer.flush().await.unwrap();
    crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
    assert_eq!(board.get("local").unwrap().manifests_seen, 0);
    assert_eq!(catalog.artifact("local", &item.repository, &item.digest).unwrap().unwrap().kind.as_str(), "other");

    crawl_registry_in(&source, &catalog, &writer, &board, 4, CrawlMode::Reconcile).await.unwrap();
    let status = board.get("local").unwrap();
    let documents: usize = report
        .repositories()
        .iter()
        .map(|repository| catalog.artifacts_in_repository("local", repository).unwrap().len())
        .sum();
    assert!(status.manifests_seen as usize >= documents, "every manifest fetched again: {status:?}");
    assert_eq!(status.manifests_unchanged, 0);
    assert!(status.reconciling);
    assert_eq!(
        catalog.artifact("local", &item.repository, &item.digest).unwrap().unwrap().kind.as_str(),
        "sbom",
        "repaired"
    );
    assert_every_item_indexed(&catalog, &report);
}

/// A burst of refreshes of one repository (webhook pushes, "refresh now", the post-delete walk)
/// racing a full crawl leaves one summary per repository and one document per manifest: the
/// demo once showed a repository twice in a retention run after webhook refreshes.
#[tokio::test]
async fn refreshes_racing_a_crawl_leave_one_document_per_repository_and_manifest() {
    use ocicat_catalog::RepositorySort;
    use ocicat_crawler::{CrawlMode, crawl_into_catalog};
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let source = source(&registry.url(), Credentials::Anonymous);
    let (catalog, writer, board) = crawl(&source).await;
    let repositories = report.repositories();
    let busiest = repositories
        .iter()
        .max_by_key(|repository| report.items.iter().filter(|item| &item.repository == *repository).count())
        .unwrap()
        .clone();
    let refresh = || crawl_into_catalog(&source, &catalog, &writer, &board, &busiest, CrawlMode::Incremental);
    let reconcile = || crawl_into_catalog(&source, &catalog, &writer, &board, &busiest, CrawlMode::Reconcile);
    let (a, b, c, d, full) = tokio::join!(
        refresh(),
        reconcile(),
        refresh(),
        reconcile(),
        crawl_registry(&source, &catalog, &writer, &board, 4)
    );
    for walked in [a, b, c, d] {
        walked.expect("each refresh succeeds");
    }
    full.expect("the full crawl succeeds");
    writer.flush().await.unwrap();

    let page = catalog.repositories("local", "", RepositorySort::Name, 0, 1000).unwrap();
    let names: Vec<&str> = page.items.iter().map(|summary| summary.repository.as_str()).collect();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names, unique, "a repository listed twice");
    assert_eq!(page.total as usize, repositories.len());
    assert_eq!(catalog.registry_counts("local").unwrap().repositories as usize, repositories.len());
    let documents = catalog.artifacts_in_repository("local", &busiest).unwrap();
    let mut digests: Vec<&str> = documents.iter().map(|doc| doc.digest.as_str()).collect();
    digests.sort();
    let before = digests.len();
    digests.dedup();
    assert_eq!(before, digests.len(), "a manifest indexed twice in {busiest}");
    assert_every_item_indexed(&catalog, &report);
}

/// Requests of `method` to manifests the registry logged since `offset` of its log.
fn manifest_requests(registry: &Distribution, offset: usize, method: &str) -> usize {
    let log = std::fs::read(registry.log_path()).unwrap();
    let needle = format!("\"{method} /v2/");
    String::from_utf8_lossy(&log[offset.min(log.len())..])
        .lines()
        .filter(|line| line.contains(&needle) && line.contains("/manifests/"))
        .count()
}

#[tokio::test]
async fn a_listed_crawl_reads_tag_lists_only_and_trusts_known_tags() {
    use ocicat_crawler::{CrawlMode, crawl_registry_in};
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let source = source(&registry.url(), Credentials::Anonymous);
    let (catalog, writer, board) = crawl(&source).await;
    let image = report.items.iter().find(|item| item.kind == "wasm" && item.reference.is_some()).unwrap();
    let tag = image.reference.clone().unwrap();
    let manifest = source.client.get_manifest(&image.repository, &image.digest).await.unwrap();
    // The tag moves to other content (as a push would, whose notification got lost), and a
    // new tag appears.
    let mut moved: serde_json::Value = serde_json::from_slice(&manifest.raw).unwrap();
    moved["annotations"] = serde_json::json!({"org.example.moved": "yes"});
    let moved_raw = bytes::Bytes::from(serde_json::to_vec(&moved).unwrap());
    let moved_digest =
        source.client.push_manifest(&image.repository, &tag, &manifest.media_type, moved_raw).await.unwrap();
    source
        .client
        .push_manifest(&image.repository, "listed-new", &manifest.media_type, manifest.raw.clone())
        .await
        .unwrap();

    let offset = std::fs::metadata(registry.log_path()).unwrap().len() as usize;
    crawl_registry_in(&source, &catalog, &writer, &board, 4, CrawlMode::Listed).await.unwrap();
    let status = board.get("local").unwrap();
    assert!(status.listed_only, "{status:?}");
    // Every tag but the new one was trusted: one HEAD for it, no GET (its content is known).
    assert_eq!(manifest_requests(&registry, offset, "HEAD"), 1, "only the new tag is asked after");
    assert_eq!(manifest_requests(&registry, offset, "GET"), 0);
    let known = catalog.artifact("local", &image.repository, &image.digest).unwrap().unwrap();
    assert!(known.tags.contains(&"listed-new".to_owned()), "{:?}", known.tags);
    assert!(known.tags.contains(&tag), "a listed crawl trusts the tag it knows: {:?}", known.tags);
    assert_every_item_indexed(&catalog, &report);

    // A HEAD per tag finds the move the listed crawl trusted away.
    crawl_registry_in(&source, &catalog, &writer, &board, 4, CrawlMode::Incremental).await.unwrap();
    let moved = catalog.artifact("local", &image.repository, &moved_digest.to_string()).unwrap().unwrap();
    assert!(moved.tags.contains(&tag), "{:?}", moved.tags);
    assert!(!board.get("local").unwrap().listed_only);
}
