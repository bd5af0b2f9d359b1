//! Executing plans against distribution 2.8.2: referrers before subjects, the fallback index
//! rewritten, the index updated, a moved tag left alone, an interrupted run resumed, a
//! registry with deletion disabled refused with nothing deleted, and the audit log written.

use chrono::Utc;
use ocicat_lifecycle::{ExecuteError, ExecutionState, Outcome, PlanRequest, TargetSpec};
use ocicat_testkit::{Distribution, DistributionOptions, Ferro};

use crate::support::{Repo, World, request};

const SBOM: &str = "application/spdx+json";
const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

/// Plans `request` as the operator, who may delete everywhere (the service decides that).
async fn plan_of(world: &World, request: &PlanRequest) -> ocicat_lifecycle::Plan {
    world.engine.plan(request, ocicat_catalog::Scope::all(), "ops", Utc::now()).await.unwrap()
}

async fn saved_plan(world: &World, request: &PlanRequest) -> String {
    let plan = plan_of(world, request).await;
    world.engine.save_plan(plan).await.unwrap().plan.id
}

#[tokio::test]
async fn a_referrer_goes_before_its_subject_stays_the_fallback_index_is_rewritten_and_the_index_follows() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("app", Some("1.0")).await;
    let signature = repo.referrer(&image, SIGNATURE, "image-sig").await;
    let sbom = repo.referrer(&image, SBOM, "sbom").await;
    let sbom_signature = repo.referrer(&sbom, SIGNATURE, "sbom-sig").await;
    let world = World::crawl(&registry.url()).await;
    let before = world.catalog.artifact("local", "team/app", &image).unwrap().unwrap();
    assert_eq!(before.referrers.counts.get("sbom"), Some(&1));

    let id = saved_plan(&world, &request(&sbom)).await;
    let execution = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Done, "{execution:#?}");
    assert_eq!(execution.results.len(), 3, "signature, fallback index of the SBOM, SBOM");
    assert!(execution.results.iter().all(|result| result.outcome == Outcome::Deleted));
    assert!(!repo.has(&sbom).await && !repo.has(&sbom_signature).await);
    assert!(repo.has(&image).await && repo.has(&signature).await, "the subject and its other referrer stay");
    let listed: Vec<String> =
        repo.fallback_list(&image).await.iter().map(|d| d["digest"].as_str().unwrap().to_owned()).collect();
    assert_eq!(listed, std::slice::from_ref(&signature), "the fallback index lists only what is left");
    assert_eq!(execution.rewrites.len(), 1);
    assert_eq!(execution.rewrites[0].outcome, Outcome::Deleted);

    assert!(world.catalog.artifact("local", "team/app", &sbom).unwrap().is_none());
    assert!(world.catalog.artifact("local", "team/app", &sbom_signature).unwrap().is_none());
    let after = world.catalog.artifact("local", "team/app", &image).unwrap().unwrap();
    assert_eq!(after.referrers.counts.get("sbom"), None, "the subject's counts were crawled again");

    // The audit log: plan, start, each delete in order (signature first), the rewrite, the end.
    let log = world.store.audit(None, 100).await.unwrap();
    let mut log: Vec<_> = log.into_iter().rev().collect();
    log.retain(|entry| entry.plan_id.as_deref() == Some(id.as_str()));
    let actions: Vec<(&str, &str)> = log.iter().map(|e| (e.action.as_str(), e.outcome.as_str())).collect();
    assert_eq!(
        actions,
        [
            ("plan", "planned"),
            ("execute", "started"),
            ("delete", "deleted"),
            ("delete", "deleted"),
            ("delete", "deleted"),
            ("rewrite-fallback", "deleted"),
            ("execute", "done")
        ]
    );
    assert_eq!(log[2].digest.as_deref(), Some(sbom_signature.as_str()), "the signature of the SBOM first");
    assert_eq!(log[3].tags, [sbom.replacen(':', "-", 1)], "then the SBOM's own fallback index");
    assert_eq!(log[4].digest.as_deref(), Some(sbom.as_str()));
    assert!(log.iter().all(|entry| entry.actor == "ops"));

    // Executing again is harmless: everything is done.
    let again = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(again.state, ExecutionState::Done);
}

#[tokio::test]
async fn a_tag_moved_after_the_plan_keeps_its_old_image_and_what_came_with_it() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let old = repo.image("old", Some("1.0")).await;
    let old_sbom = repo.referrer(&old, SBOM, "old-sbom").await;
    let world = World::crawl(&registry.url()).await;
    let id = saved_plan(&world, &request("1.0")).await;

    let new = repo.image("new", None).await;
    repo.tag(&new, "1.0").await;
    let execution = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Partial);
    let result = execution.results.iter().find(|result| result.digest == old).unwrap();
    assert_eq!(result.outcome, Outcome::TagMoved);
    assert!(result.message.as_deref().unwrap().contains(&new), "{result:?}");
    let sbom_result = execution.results.iter().find(|result| result.digest == old_sbom).unwrap();
    assert_eq!(sbom_result.outcome, Outcome::Skipped);
    assert!(repo.has(&old).await && repo.has(&old_sbom).await && repo.has(&new).await, "nothing deleted");
}

/// SECURITY S22: a digest target (every retention target is one) whose tags changed after the
/// plan — here `prod` put on it — is left with what came with it; the plan never showed `prod`.
#[tokio::test]
async fn a_tag_put_on_a_planned_digest_after_the_plan_keeps_it_and_what_came_with_it() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let build = repo.image("build", Some("build-7")).await;
    let sbom = repo.referrer(&build, SBOM, "build-sbom").await;
    let bystander = repo.image("bystander", Some("build-6")).await;
    let world = World::crawl(&registry.url()).await;
    let mut targets = request(&build);
    targets.targets.push(TargetSpec {
        registry: "local".into(),
        repository: "team/app".into(),
        reference: bystander.clone(),
    });
    let id = saved_plan(&world, &targets).await;

    repo.tag(&build, "prod").await;
    let execution = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Partial, "{execution:#?}");
    let outcome = |digest: &str| execution.results.iter().find(|result| result.digest == digest).unwrap().clone();
    let left = outcome(&build);
    assert_eq!(left.outcome, Outcome::TagMoved, "{left:?}");
    assert!(left.message.as_deref().unwrap().contains("prod"), "{left:?}");
    assert_eq!(outcome(&sbom).outcome, Outcome::Skipped, "its referrer stays with it");
    assert_eq!(outcome(&bystander).outcome, Outcome::Deleted, "the unchanged target still goes");
    assert!(repo.has(&build).await && repo.has(&sbom).await, "prod and its SBOM are still there");
    assert!(!repo.has(&bystander).await);
}

#[tokio::test]
async fn a_plan_older_than_the_maximum_age_must_be_made_again() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("old-plan", Some("1.0")).await;
    let world = World::crawl(&registry.url()).await;
    let id = saved_plan(&world, &request("1.0")).await;
    let strict = world.restarted().with_max_plan_age(chrono::TimeDelta::zero());
    match strict.execute(&id, "ops").await {
        Err(ExecuteError::Stale { id: stale, .. }) => assert_eq!(stale, id),
        other => panic!("expected a stale plan, got {other:?}"),
    }
    assert!(repo.has(&image).await, "nothing was deleted");
    let fresh = world.restarted().execute(&id, "ops").await.unwrap();
    assert_eq!(fresh.state, ExecutionState::Done, "within the default hour it runs");
}

/// The plan id covers everything the plan shows: the same targets planned over a catalog whose
/// tags changed get another id, so a page that showed the old plan cannot confirm the new one.
#[tokio::test]
async fn the_plan_id_changes_when_what_it_shows_changes() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("shown", Some("1.0")).await;
    let world = World::crawl(&registry.url()).await;
    let before = plan_of(&world, &request(&image)).await;
    assert_eq!(plan_of(&world, &request(&image)).await.id, before.id, "the same plan, the same id");
    repo.tag(&image, "prod").await;
    ocicat_crawler::crawl_registry(&world.source, &world.catalog, &world.writer, &Default::default(), 4).await.unwrap();
    world.writer.flush().await.unwrap();
    let after = plan_of(&world, &request(&image)).await;
    assert_eq!(after.items[0].tags, ["1.0", "prod"]);
    assert_ne!(after.id, before.id);
}

#[tokio::test]
async fn an_interrupted_delete_resumes_and_counts_what_is_gone_as_done() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("app", Some("2.0")).await;
    let referrers = [
        repo.referrer(&image, SBOM, "a").await,
        repo.referrer(&image, SIGNATURE, "b").await,
        repo.referrer(&image, SIGNATURE, "c").await,
    ];
    let world = World::crawl(&registry.url()).await;
    let id = saved_plan(&world, &request("2.0")).await;
    // The process died after marking the plan running and deleting the first two items.
    let mut stored = world.store.execution(&id).await.unwrap().unwrap();
    stored.state = ExecutionState::Running;
    world.store.save_execution(&stored).await.unwrap();
    for item in &stored.plan.items[..2] {
        repo.client.delete_manifest("team/app", &item.digest.parse().unwrap()).await.unwrap();
    }

    let restarted = world.restarted();
    let waiting = world.store.executions_in_state(ExecutionState::Running).await.unwrap();
    assert_eq!(waiting.iter().map(|e| e.plan.id.as_str()).collect::<Vec<_>>(), [id.as_str()]);
    let execution = restarted.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Done);
    let outcomes: Vec<Outcome> = execution.results.iter().map(|result| result.outcome).collect();
    assert_eq!(&outcomes[..2], [Outcome::AlreadyGone, Outcome::AlreadyGone]);
    assert!(outcomes[2..].iter().all(|outcome| *outcome == Outcome::Deleted), "{outcomes:?}");
    for digest in referrers.iter().chain([&image]) {
        assert!(!repo.has(digest).await, "{digest} is gone");
    }
    assert!(world.store.executions_in_state(ExecutionState::Running).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_registry_with_deletion_disabled_is_refused_clearly_and_nothing_is_deleted() {
    let registry = Distribution::start(DistributionOptions::anonymous().with_delete_disabled()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("app", Some("1.0")).await;
    let sbom = repo.referrer(&image, SBOM, "sbom").await;
    let world = World::crawl(&registry.url()).await;
    let id = saved_plan(&world, &request("1.0")).await;
    let execution = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Refused);
    let message = execution.message.as_deref().unwrap();
    assert!(message.contains("deletion is disabled") && message.contains("nothing was deleted"), "{message}");
    assert!(execution.results.iter().all(|result| result.outcome == Outcome::Failed));
    assert!(repo.has(&image).await && repo.has(&sbom).await);
    assert!(world.catalog.artifact("local", "team/app", &image).unwrap().is_some(), "the index keeps it");
    assert!(repo.fallback_list(&image).await.len() == 1, "the fallback index is untouched");
    let log = world.store.audit(None, 100).await.unwrap();
    assert!(log.iter().any(|entry| entry.action == "execute" && entry.outcome == "refused"));
}

/// Distribution 2.8 cannot delete a tag; the tag is pointed at a throwaway manifest that is then
/// deleted by digest (regclient's way): the tag goes, the image, its other tag and its referrer
/// stay, no throwaway is left, and the registry is remembered as needing the throwaway.
#[tokio::test]
async fn removing_only_a_tag_on_distribution_goes_through_a_throwaway_manifest() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    remove_only_a_tag(&registry.url(), true).await;
}

/// The same on ferro-oci-server (the referrers API, no tag deletes either).
#[tokio::test]
async fn removing_only_a_tag_on_ferro_goes_through_a_throwaway_manifest() {
    let registry = Ferro::start().await.unwrap();
    remove_only_a_tag(&registry.url(), false).await;
}

async fn remove_only_a_tag(url: &str, fallback: bool) {
    let registry_url = url.to_owned();
    let repo = Repo::new(&registry_url, "team/app", fallback).await;
    let image = repo.image("app", Some("1.0")).await;
    let sbom = repo.referrer(&image, SBOM, "sbom").await;
    repo.tag(&image, "stable").await;
    let world = World::crawl(&registry_url).await;
    let tag_only = PlanRequest { tag_only: true, ..request("stable") };
    let plan = plan_of(&world, &tag_only).await;
    assert_eq!((plan.totals.manifests, plan.totals.tags), (0, 1));
    assert!(plan.warnings.iter().any(|w| w.contains("has not been asked")), "{:?}", plan.warnings);
    let id = world.engine.save_plan(plan).await.unwrap().plan.id;
    let execution = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Done, "{execution:#?}");
    assert_eq!(execution.results[0].outcome, Outcome::Deleted);
    assert!(execution.results[0].message.as_deref().unwrap().contains("throwaway manifest"));
    assert!(!repo.has("stable").await, "the tag is gone");
    assert!(repo.has("1.0").await && repo.has(&image).await && repo.has(&sbom).await, "the rest stays");
    let tags = repo.client.tags("team/app").await.unwrap().items;
    assert!(!tags.contains(&"stable".to_owned()), "{tags:?}");
    let again = plan_of(&world, &PlanRequest { tag_only: true, ..request("1.0") }).await;
    assert_eq!(again.tag_deletion.get("local"), Some(&ocicat_lifecycle::TagDeletion::Throwaway));
    assert!(again.warnings.iter().any(|w| w.contains("throwaway manifest")), "{:?}", again.warnings);
}

/// No registry here removes a tag alone (distribution answers 400, ferro 405); one that does
/// (Harbor, zot, registry 3) is played by a proxy that accepts `DELETE …/manifests/<tag>`:
/// the tag goes, the manifest and its other tag stay, and the registry is remembered as able.
#[tokio::test]
async fn removing_only_a_tag_where_the_registry_supports_it_deletes_just_that_tag() {
    use ocicat_testkit::{FaultyRegistry, Reply, Script};
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("app", Some("1.0")).await;
    repo.tag(&image, "stable").await;
    let able = FaultyRegistry::builder()
        .route("DELETE", "/v2/team/app/manifests/stable", Reply::new(202))
        .any("/v2/*", Script::proxy(&registry.url(), str::to_owned))
        .start()
        .await
        .unwrap();
    let world = World::crawl(&able.url()).await;
    let tag_only = PlanRequest { tag_only: true, ..request("stable") };
    let id = world.engine.save_plan(plan_of(&world, &tag_only).await).await.unwrap().plan.id;
    let execution = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Done, "{execution:#?}");
    assert_eq!(execution.results.len(), 1);
    assert_eq!(execution.results[0].outcome, Outcome::Deleted);
    assert_eq!(execution.results[0].tag.as_deref(), Some("stable"));
    let deletes: Vec<String> =
        able.requests().into_iter().filter(|seen| seen.method == "DELETE").map(|seen| seen.path).collect();
    assert_eq!(deletes, ["/v2/team/app/manifests/stable"], "only the tag, never the digest");
    assert!(repo.has(&image).await, "the manifest stays");
    let again = plan_of(&world, &tag_only).await;
    assert_eq!(again.tag_deletion.get("local"), Some(&ocicat_lifecycle::TagDeletion::Supported));
    assert!(again.warnings.is_empty(), "a registry known to remove tags needs no warning: {:?}", again.warnings);
}

#[tokio::test]
async fn ferro_with_the_referrers_api_deletes_the_tree_with_no_fallback_index() {
    let registry = Ferro::start().await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", false).await;
    let image = repo.image("app", Some("1.0")).await;
    let sbom = repo.referrer(&image, SBOM, "sbom").await;
    let sbom_signature = repo.referrer(&sbom, SIGNATURE, "sbom-sig").await;
    let keep = repo.image("keep", Some("2.0")).await;
    let world = World::crawl(&registry.url()).await;
    let id = saved_plan(&world, &request("1.0")).await;
    let stored = world.store.execution(&id).await.unwrap().unwrap();
    let planned: Vec<&str> = stored.plan.items.iter().map(|item| item.digest.as_str()).collect();
    assert_eq!(planned, [sbom_signature.as_str(), sbom.as_str(), image.as_str()]);
    assert!(stored.plan.fallback_rewrites.is_empty());
    let execution = world.engine.execute(&id, "ops").await.unwrap();
    assert_eq!(execution.state, ExecutionState::Done, "{execution:#?}");
    for digest in [&image, &sbom, &sbom_signature] {
        assert!(!repo.has(digest).await, "{digest} is gone from ferro");
        assert!(world.catalog.artifact("local", "team/app", digest).unwrap().is_none());
    }
    assert!(repo.has(&keep).await && world.catalog.artifact("local", "team/app", &keep).unwrap().is_some());
}

#[tokio::test]
async fn a_retention_dry_run_deletes_nothing_and_a_real_run_keeps_the_newest_and_their_referrers() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let old = repo.image("old", Some("0.9")).await;
    let old_sbom = repo.referrer(&old, SBOM, "old-sbom").await;
    let release = repo.image("release", Some("release-1")).await;
    let world = World::crawl(&registry.url()).await;
    // Both images were built at the same time; keep_newest 0 makes every untagged-by-rule one stale.
    let policy: ocicat_lifecycle::retention::RetentionPolicy = toml::from_str(
        r#"name = "ci"
registry = "local"
repositories = "team/*"
keep_newest = 0
keep_tags = ["release-*"]"#,
    )
    .unwrap();
    policy.validate().unwrap();
    let run = world.engine.run_policy(&policy, policy.dry_run, "ops", Utc::now()).await;
    assert!(run.dry_run && run.error.is_none(), "{run:?}");
    let chosen: Vec<&str> = run.choices.iter().filter(|c| c.delete).map(|c| c.digest.as_str()).collect();
    assert_eq!(chosen, [old.as_str()]);
    assert_eq!(run.manifests, 3, "the image, its SBOM and its fallback index");
    assert_eq!(run.deleted, 0);
    assert!(repo.has(&old).await && repo.has(&old_sbom).await, "a dry run deletes nothing");
    let stored = world.store.runs(Some("ci"), 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].choices, run.choices);

    let run = world.engine.run_policy(&policy, false, "ops", Utc::now()).await;
    assert_eq!((run.deleted, run.failed), (3, 0), "{run:?}");
    assert!(!repo.has(&old).await && !repo.has(&old_sbom).await);
    assert!(repo.has(&release).await, "the kept tag stays");
    let log = world.store.audit(None, 100).await.unwrap();
    let runs: Vec<&str> =
        log.iter().filter(|entry| entry.action == "retention-run").map(|entry| entry.outcome.as_str()).collect();
    assert_eq!(runs, ["done", "dry_run"]);
    assert!(log.iter().any(|entry| entry.actor == "retention:ci" && entry.action == "delete"));
}
