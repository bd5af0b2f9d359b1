//! An incomplete catalog never plans a wrong delete (SECURITY S1, B4): a manifest the latest
//! crawl could not read (an error, content that does not match its digest) keeps its last
//! verified document with an error mark instead of vanishing, and a plan over a repository whose
//! latest crawl did not see everything says so and refuses to run until a complete crawl.

use chrono::Utc;
use ocicat_crawler::{CrawlMode, StatusBoard, crawl_registry, crawl_registry_in};
use ocicat_lifecycle::{ExecuteError, ExecutionState};
use ocicat_testkit::{Distribution, DistributionOptions, FaultyRegistry, Reply, Script};

use crate::support::{Repo, World, request, source};

#[tokio::test]
async fn a_manifest_the_crawl_cannot_read_keeps_its_last_verified_document_and_deletes_wait_for_a_full_crawl() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let amd = repo.image("amd", None).await;
    let arm = repo.image("arm", None).await;
    let index = repo.index(&[&amd, &arm], Some("1.0")).await;
    let other = repo.image("other", Some("2.0")).await;
    let world = World::crawl(&registry.url()).await;

    // The registry now fails the index (500) and lies about `amd` (serves `arm`'s bytes).
    let faulty = FaultyRegistry::builder()
        .get("/v2/team/app/manifests/1.0", Reply::error(500, "UNKNOWN", "storage backend timed out"))
        .get(&format!("/v2/team/app/manifests/{index}"), Reply::error(500, "UNKNOWN", "storage backend timed out"))
        .get(&format!("/v2/team/app/manifests/{amd}"), Reply::manifest(repo.raw(&arm)))
        .any("/v2/*", Script::proxy(&registry.url(), str::to_owned))
        .start()
        .await
        .unwrap();
    let board = StatusBoard::default();
    crawl_registry_in(&source(&faulty.url()), &world.catalog, &world.writer, &board, 4, CrawlMode::Reconcile)
        .await
        .expect("the crawl goes on past single manifests");
    world.writer.flush().await.unwrap();

    let document = |digest: &str| world.catalog.artifact("local", "team/app", digest).unwrap();
    let kept_index = document(&index).expect("the index keeps its last verified document");
    assert_eq!(kept_index.tags, ["1.0"]);
    assert!(kept_index.crawl_error.as_deref().is_some_and(|error| error.contains("500")), "{kept_index:?}");
    let kept_amd = document(&amd).expect("a digest lie does not remove what was verified");
    assert!(kept_amd.crawl_error.as_deref().is_some_and(|error| error.contains("digest")), "{kept_amd:?}");
    assert_eq!(kept_amd.digest, amd);
    assert_eq!(document(&arm).expect("read again").crawl_error, None);
    assert_eq!(document(&other).expect("read again").crawl_error, None);
    let summary = world.catalog.repository("local", "team/app").unwrap().unwrap();
    assert_eq!(summary.incomplete.len(), 2, "{:?}", summary.incomplete);

    // A plan over the repository, even of an untouched image, says so and cannot run.
    let plan = world.engine.plan(&request("2.0"), ocicat_catalog::Scope::all(), "ops", Utc::now()).await.unwrap();
    assert_eq!(plan.incomplete.len(), 1, "{plan:#?}");
    assert!(plan.incomplete[0].starts_with("local/team/app ("), "{:?}", plan.incomplete);
    assert!(plan.warnings.iter().any(|warning| warning.contains("cannot be executed")), "{:?}", plan.warnings);
    let id = world.engine.save_plan(plan).await.unwrap().plan.id;
    match world.engine.execute(&id, "ops").await {
        Err(ExecuteError::Incomplete { repository, .. }) => assert!(repository.contains("team/app"), "{repository}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(repo.has(&other).await, "nothing was deleted");

    // A complete crawl reads the marked manifests again (not reused) and clears every mark.
    crawl_registry(&world.source, &world.catalog, &world.writer, &StatusBoard::default(), 4).await.unwrap();
    world.writer.flush().await.unwrap();
    assert_eq!(document(&index).unwrap().crawl_error, None);
    assert_eq!(document(&amd).unwrap().crawl_error, None);
    assert!(world.catalog.repository("local", "team/app").unwrap().unwrap().incomplete.is_empty());
    let plan = world.engine.plan(&request("2.0"), ocicat_catalog::Scope::all(), "ops", Utc::now()).await.unwrap();
    assert!(plan.incomplete.is_empty(), "{plan:#?}");
    let id = world.engine.save_plan(plan).await.unwrap().plan.id;
    assert_eq!(world.engine.execute(&id, "ops").await.unwrap().state, ExecutionState::Done);
    assert!(!repo.has(&other).await);
}

#[tokio::test]
async fn a_plan_made_before_a_crawl_found_gaps_is_refused_too() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("image", Some("1.0")).await;
    let world = World::crawl(&registry.url()).await;
    let plan = world.engine.plan(&request("1.0"), ocicat_catalog::Scope::all(), "ops", Utc::now()).await.unwrap();
    assert!(plan.incomplete.is_empty());
    let id = world.engine.save_plan(plan).await.unwrap().plan.id;

    // Between planning and confirming, a crawl cannot list the repository's tags.
    let faulty = FaultyRegistry::builder()
        .get("/v2/team/app/tags/list", Reply::error(503, "UNAVAILABLE", "try later"))
        .any("/v2/*", Script::proxy(&registry.url(), str::to_owned))
        .start()
        .await
        .unwrap();
    let _ = crawl_registry(&source(&faulty.url()), &world.catalog, &world.writer, &StatusBoard::default(), 4).await;
    world.writer.flush().await.unwrap();
    let summary = world.catalog.repository("local", "team/app").unwrap().unwrap();
    assert!(summary.incomplete.iter().any(|reason| reason.contains("503")), "{:?}", summary.incomplete);
    assert!(world.catalog.artifact("local", "team/app", &image).unwrap().is_some(), "documents stay as they were");
    assert!(matches!(world.engine.execute(&id, "ops").await, Err(ExecuteError::Incomplete { .. })));
    assert!(repo.has(&image).await);
}
