//! Plan contents, exactly: shared digests, indexes with shared children, referrers of
//! referrers, a referrer loop and 10⁴ referrers.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use ocicat_catalog::ArtifactDoc;
use ocicat_lifecycle::plan::plan;
use ocicat_lifecycle::{Mode, Plan, Reason, TargetSpec};
use ocicat_testkit::{Distribution, DistributionOptions, Ferro};

use crate::support::{Repo, World};

const SBOM: &str = "application/spdx+json";
const SIGNATURE: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";

fn target(repository: &str, reference: &str) -> TargetSpec {
    TargetSpec { registry: "local".into(), repository: repository.into(), reference: reference.into() }
}

fn plan_of(world: &World, targets: &[TargetSpec]) -> Plan {
    plan(&world.catalog, targets, Mode::Manifests, None, "tester", &BTreeMap::new(), Utc::now()).unwrap()
}

fn digests(plan: &Plan) -> Vec<&str> {
    plan.items.iter().map(|item| item.digest.as_str()).collect()
}

fn position(plan: &Plan, digest: &str) -> usize {
    digests(plan).iter().position(|d| *d == digest).unwrap_or_else(|| panic!("{digest} not in the plan"))
}

#[tokio::test]
async fn a_plan_takes_other_tags_referrers_of_referrers_and_unshared_children_and_keeps_the_rest() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("app-1", Some("1.0")).await;
    repo.tag(&image, "latest").await;
    let sbom = repo.referrer(&image, SBOM, "sbom").await;
    let sbom_signature = repo.referrer(&sbom, SIGNATURE, "sig-of-sbom").await;
    let amd = repo.image("amd", None).await;
    let shared = repo.image("shared", None).await;
    let multi = repo.index(&[&amd, &shared], Some("multi")).await;
    let other = repo.index(&[&shared], Some("other")).await;
    let index_signature = repo.referrer(&multi, SIGNATURE, "sig-of-index").await;
    let tagged_child = repo.image("tagged-child", Some("child-1")).await;
    let with_tagged = repo.index(&[&tagged_child], Some("with-tagged")).await;
    let world = World::crawl(&registry.url()).await;

    // A tag: the digest with both tags, its SBOM, the SBOM's signature and both fallback indexes.
    let plan = plan_of(&world, &[target("team/app", "1.0")]);
    let fallback_of =
        |digest: &str| world.catalog.artifact("local", "team/app", &fallback_digest(&world, digest)).unwrap().unwrap();
    let image_fallback = fallback_of(&image).digest;
    let sbom_fallback = fallback_of(&sbom).digest;
    let expected: BTreeSet<&str> =
        [&image, &sbom, &sbom_signature, &image_fallback, &sbom_fallback].iter().map(|d| d.as_str()).collect();
    assert_eq!(digests(&plan).into_iter().collect::<BTreeSet<_>>(), expected);
    assert!(position(&plan, &sbom_signature) < position(&plan, &sbom), "referrers before subjects");
    assert!(position(&plan, &sbom) < position(&plan, &image));
    assert!(position(&plan, &sbom_fallback) < position(&plan, &sbom), "a fallback index before its subject");
    assert!(position(&plan, &sbom_signature) < position(&plan, &sbom_fallback), "and after what it lists");
    let item = |digest: &str| plan.items.iter().find(|item| item.digest == digest).unwrap();
    assert_eq!(item(&sbom).reason, Reason::Referrer { of: image.clone() });
    assert_eq!(item(&sbom_signature).reason, Reason::Referrer { of: sbom.clone() });
    assert_eq!(item(&sbom_signature).depth, 2);
    assert_eq!(item(&image).tags, ["1.0", "latest"]);
    assert_eq!(plan.totals.manifests, 5);
    assert_eq!(plan.totals.tags, 2, "version tags only");
    assert!(plan.warnings.iter().any(|w| w.contains("also tagged latest")), "{:?}", plan.warnings);
    assert!(plan.fallback_rewrites.is_empty() && plan.kept.is_empty() && plan.broken_parents.is_empty());

    // An index: its signature, its own child; the child another index lists stays.
    let plan = plan_of(&world, &[target("team/app", "multi")]);
    let multi_fallback = fallback_of(&multi).digest;
    let expected: BTreeSet<&str> =
        [&multi, &amd, &index_signature, &multi_fallback].iter().map(|d| d.as_str()).collect();
    assert_eq!(digests(&plan).into_iter().collect::<BTreeSet<_>>(), expected);
    assert!(position(&plan, &multi) < position(&plan, &amd), "an index before its children");
    assert_eq!(plan.kept.len(), 1);
    assert_eq!(plan.kept[0].digest, shared);
    assert!(
        plan.kept[0].because.contains(&other) && plan.kept[0].because.contains("(other)"),
        "{}",
        plan.kept[0].because
    );

    // A child with its own tag stays with its index gone.
    let plan = plan_of(&world, &[target("team/app", "with-tagged")]);
    assert_eq!(digests(&plan), [with_tagged.as_str()]);
    assert_eq!(plan.kept[0].digest, tagged_child);
    assert!(plan.kept[0].because.contains("child-1"));

    // A shared child asked for by digest breaks both indexes listing it.
    let plan = plan_of(&world, &[target("team/app", &shared)]);
    assert_eq!(digests(&plan), [shared.as_str()]);
    let broken: BTreeSet<&str> = plan.broken_parents.iter().map(|parent| parent.digest.as_str()).collect();
    assert_eq!(broken, [multi.as_str(), other.as_str()].into_iter().collect());
    assert_eq!(plan.warnings.len(), 2, "{:?}", plan.warnings);

    // The SBOM alone: the image stays and its fallback index is rewritten without it.
    let plan = plan_of(&world, &[target("team/app", &sbom)]);
    let expected: BTreeSet<&str> = [&sbom, &sbom_signature, &sbom_fallback].iter().map(|d| d.as_str()).collect();
    assert_eq!(digests(&plan).into_iter().collect::<BTreeSet<_>>(), expected);
    assert_eq!(plan.fallback_rewrites.len(), 1);
    assert_eq!(plan.fallback_rewrites[0].subject, image);
    assert_eq!(plan.fallback_rewrites[0].remove, std::slice::from_ref(&sbom));

    // The same request gives the same id; another gives another.
    assert_eq!(plan.id, plan_of(&world, &[target("team/app", &sbom)]).id);
    assert_ne!(plan.id, plan_of(&world, &[target("team/app", "1.0")]).id);
    let missing = ocicat_lifecycle::plan::plan(
        &world.catalog,
        &[target("team/app", "nope")],
        Mode::Manifests,
        None,
        "tester",
        &BTreeMap::new(),
        Utc::now(),
    )
    .unwrap_err();
    assert!(missing.to_string().contains("local/team/app:nope is not in the index"), "{missing}");
}

fn fallback_digest(world: &World, subject: &str) -> String {
    let tag = subject.replacen(':', "-", 1);
    let artifacts = world.catalog.artifacts_in_repository("local", "team/app").unwrap();
    artifacts.into_iter().find(|artifact| artifact.tags.contains(&tag)).map(|artifact| artifact.digest).unwrap()
}

#[tokio::test]
async fn a_referrer_loop_ends_and_both_sides_go_once() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let repo = Repo::new(&registry.url(), "team/app", true).await;
    let image = repo.image("loop", Some("1.0")).await;
    let signature = repo.referrer(&image, SIGNATURE, "loop-sig").await;
    // The image is also tagged as the cosign signature of its own signature: A ⇄ B.
    repo.tag(&image, &format!("{}.sig", signature.replacen(':', "-", 1))).await;
    let world = World::crawl(&registry.url()).await;
    let stored = world.catalog.artifact("local", "team/app", &image).unwrap().unwrap();
    assert_eq!(stored.refers_to.as_deref(), Some(signature.as_str()), "the loop is in the index");
    let plan = plan_of(&world, &[target("team/app", "1.0")]);
    let mut found = digests(&plan);
    found.sort();
    found.dedup();
    assert_eq!(found.len(), plan.items.len(), "each item once");
    assert!(found.contains(&image.as_str()) && found.contains(&signature.as_str()));
    assert!(position(&plan, &signature) < position(&plan, &image), "the deeper side of the loop first");
}

/// An indexed referrer of `subject`, as the crawler writes it.
fn referrer_doc(subject: &str, n: usize) -> ArtifactDoc {
    ArtifactDoc {
        kind: ocicat_catalog::ArtifactKind::Sbom,
        media_type: ocicat_oci::media_types::OCI_MANIFEST.into(),
        artifact_type: Some(SBOM.into()),
        size: 500,
        subject: Some(subject.into()),
        manifest_size: 2,
        refers_to: Some(subject.into()),
        referrer_sources: vec!["referrers API".into()],
        ..ArtifactDoc::new("local", "team/flood", format!("sha256:{n:064x}"))
    }
}

/// 10⁴ referrers of one image: the image and one real referrer are pushed to ferro and crawled;
/// the flood is written to the index the way the crawler writes it (pushing and crawling
/// 10⁴ manifests takes minutes here and tests the crawler, not the plan).
#[tokio::test]
async fn ten_thousand_referrers_are_all_in_the_plan_before_their_subject() {
    let registry = Ferro::start().await.unwrap();
    let repo = Repo::new(&registry.url(), "team/flood", false).await;
    let image = repo.image("flood", Some("1.0")).await;
    let real = repo.referrer(&image, SBOM, "real").await;
    let world = World::crawl(&registry.url()).await;
    let summary = world.catalog.repository("local", "team/flood").unwrap().unwrap();
    let flood: Vec<ArtifactDoc> = (1..10_000).map(|n| referrer_doc(&image, n)).collect();
    let mut referrers: BTreeSet<String> = flood.iter().map(|doc| doc.digest.clone()).collect();
    referrers.insert(real);
    world.writer.upsert_repository(summary, flood, vec![]).await.unwrap();
    world.writer.flush().await.unwrap();

    let started = std::time::Instant::now();
    let plan = plan_of(&world, &[target("team/flood", "1.0")]);
    eprintln!("plan of 10,001 manifests in {:?}", started.elapsed());
    assert!(!plan.truncated);
    assert_eq!(plan.items.len(), 10_001);
    assert_eq!(plan.items.last().unwrap().digest, image, "the subject last");
    let planned: BTreeSet<String> = plan.items[..10_000].iter().map(|item| item.digest.clone()).collect();
    assert_eq!(planned, referrers);
    assert!(plan.items[..10_000].iter().all(|item| item.reason == Reason::Referrer { of: image.clone() }));
    assert_eq!(plan.totals.by_kind.get("sbom"), Some(&10_000));
}
