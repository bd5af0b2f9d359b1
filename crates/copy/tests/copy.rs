//! Copies between real registries: distribution 2.8.2 (referrers through fallback tags) and
//! ferro-oci-server (the referrers API), each as source and destination. The artifacts are the
//! seeder's (an image with signatures, SBOMs, scans and attestations, a signature on an SBOM,
//! a multi-platform index with buildx attestations); the destination is crawled afterwards and
//! must hold the same graph with the same digests, and give every signature the same verdict.

mod support;

use std::collections::BTreeSet;

use ocicat_catalog::Scope;
use ocicat_copy::{CopyRequest, Endpoint, ExecuteError, StepOutcome, execute, plan};
use ocicat_oci::{Client, ClientConfig, Credentials, Secret};
use ocicat_seed::{SeedReport, Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, Ferro};
use support::{client, crawled, graph, subjects};

fn request(source: (&str, &str), digest: &str, destination: (&str, &str), tags: &[&str]) -> CopyRequest {
    CopyRequest {
        source: Endpoint { registry: source.0.into(), repository: source.1.into() },
        digest: Some(digest.into()),
        query: None,
        destination: Endpoint { registry: destination.0.into(), repository: destination.1.into() },
        tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
        filter: ocicat_copy::GraphFilter::default(),
    }
}

/// Copies the app image and the index from `from` to `to` and checks the destination's graph.
async fn copy_both_ways(from: &Client, from_report: &SeedReport, to: &Client, to_has_referrers_api: bool) {
    let source = crawled("source", from).await;
    let (repository, app, index) = subjects(from_report);
    let (index_repository, index_digest) = index.split_once('@').unwrap();
    for (repository, digest, tag, least) in
        [(repository.as_str(), app.as_str(), "app-promoted", 8), (index_repository, index_digest, "index-promoted", 3)]
    {
        let request = request(("source", repository), digest, ("destination", "prod/copied"), &[tag]);
        let planned = plan(&source, &Scope::all(), to, &request).await.unwrap();
        assert_eq!(planned.destination_referrers_api, to_has_referrers_api);
        let with_subject = planned.manifests.iter().filter(|item| item.subject.is_some()).count();
        let expected_fallback = if to_has_referrers_api { 0 } else { with_subject };
        assert_eq!(planned.fallback.len(), expected_fallback, "{:?}", planned.fallback);
        assert!(planned.manifests.iter().all(|item| !item.present) && planned.blobs.iter().any(|blob| !blob.present));
        let report = execute(&planned, &planned.fingerprint, false, from, to).await.unwrap();
        assert!(report.complete, "{report:?}");
        let destination = crawled("destination", to).await;
        // The same graph, digest for digest, with the same verdicts.
        let expected = graph(&source, "source", repository, digest);
        assert!(expected.len() >= least, "a graph worth copying: {expected:?}");
        assert_eq!(graph(&destination, "destination", "prod/copied", digest), expected, "{repository}@{digest}");
        assert_eq!(
            to.head_manifest("prod/copied", tag).await.unwrap().map(|found| found.to_string()),
            Some(digest.to_owned())
        );
        // A fallback index lists each referrer with its manifest's own size.
        for subject in planned.fallback.iter().map(|entry| &entry.subject).collect::<BTreeSet<_>>() {
            let index = to.get_manifest("prod/copied", &subject.replace(':', "-")).await.unwrap();
            let listed: serde_json::Value = serde_json::from_slice(&index.raw).unwrap();
            for entry in listed["manifests"].as_array().unwrap() {
                let referrer = to.get_manifest("prod/copied", entry["digest"].as_str().unwrap()).await.unwrap();
                assert_eq!(entry["size"].as_u64(), Some(referrer.raw.len() as u64), "{entry}");
            }
        }
        // Again: everything is there, nothing is sent.
        let again = plan(&source, &Scope::all(), to, &request).await.unwrap();
        assert_eq!((again.totals.manifests, again.totals.blobs, again.totals.bytes), (0, 0, 0), "{:?}", again.totals);
        let rerun = execute(&again, &again.fingerprint, false, from, to).await.unwrap();
        assert!(
            rerun.steps.iter().filter(|step| step.what != "tag").all(|step| step.outcome == StepOutcome::Present),
            "{rerun:?}"
        );
    }
}

#[tokio::test]
async fn from_distribution_to_ferro_the_graph_arrives_whole_with_the_same_digests_and_verdicts() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(distribution.url().parse().unwrap()), Size::Test).await.unwrap();
    let ferro = Ferro::start().await.unwrap();
    copy_both_ways(&client(&distribution.url()), &report, &client(&ferro.url()), true).await;
}

#[tokio::test]
async fn from_ferro_to_distribution_referrers_arrive_through_merged_fallback_indexes() {
    let ferro = Ferro::start().await.unwrap();
    let target = Target { referrers_api: true, ..Target::anonymous(ferro.url().parse().unwrap()) };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    copy_both_ways(&client(&ferro.url()), &report, &client(&distribution.url()), false).await;
}

#[tokio::test]
async fn within_one_registry_blobs_are_mounted_and_a_moved_tag_needs_confirmation() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(distribution.url().parse().unwrap()), Size::Test).await.unwrap();
    let registry = client(&distribution.url());
    let catalog = crawled("local", &registry).await;
    let (repository, app, index) = subjects(&report);
    // The destination's `stable` already names another manifest (the index).
    let (index_repository, index_digest) = index.split_once('@').unwrap();
    let moved = request(("local", index_repository), index_digest, ("local", "prod/app"), &["stable"]);
    let first = plan(&catalog, &Scope::all(), &registry, &moved).await.unwrap();
    assert!(execute(&first, &first.fingerprint, false, &registry, &registry).await.unwrap().complete);

    let request = request(("local", &repository), &app, ("local", "prod/app"), &["stable"]);
    let planned = plan(&catalog, &Scope::all(), &registry, &request).await.unwrap();
    assert_eq!(planned.moved_tags.len(), 1, "{:?}", planned.moved_tags);
    assert_eq!((planned.moved_tags[0].from.as_str(), planned.moved_tags[0].to.as_str()), (index_digest, app.as_str()));
    let refused = execute(&planned, &planned.fingerprint, false, &registry, &registry).await;
    assert!(matches!(refused, Err(ExecuteError::MovesTags(1))), "{refused:?}");
    let stale = execute(&planned, &"0".repeat(64), true, &registry, &registry).await;
    assert!(matches!(stale, Err(ExecuteError::Stale)), "{stale:?}");
    let report = execute(&planned, &planned.fingerprint, true, &registry, &registry).await.unwrap();
    assert!(report.complete, "{report:?}");
    let mounted = report.steps.iter().filter(|step| step.outcome == StepOutcome::Mounted).count();
    let sent = report
        .steps
        .iter()
        .filter(|step| step.what == "blob" && matches!(step.outcome, StepOutcome::Copied { .. }))
        .count();
    assert!(mounted > 0 && sent == 0, "mounted {mounted}, sent {sent}: {report:?}");
    assert_eq!(registry.head_manifest("prod/app", "stable").await.unwrap().map(|d| d.to_string()), Some(app.clone()));
}

#[tokio::test]
async fn a_whole_repository_or_what_a_search_finds_arrives_with_each_artifacts_own_tags() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(distribution.url().parse().unwrap()), Size::Test).await.unwrap();
    let (from, ferro) = (client(&distribution.url()), Ferro::start().await.unwrap());
    let to = client(&ferro.url());
    let source = crawled("source", &from).await;
    let (repository, _, _) = subjects(&report);
    // What the registry itself lists: every tag of the repository but cosign's and fallback ones.
    let tags: Vec<String> =
        from.tags(&repository).await.unwrap().items.into_iter().filter(|tag| !tag.starts_with("sha256-")).collect();
    assert!(tags.len() >= 2, "{tags:?}");
    let mut whole = request(("source", &repository), "", ("destination", "mirror/app"), &[]);
    whole.digest = None;
    let planned = plan(&source, &Scope::all(), &to, &whole).await.unwrap();
    let mut planned_tags: Vec<String> = planned.tags.iter().map(|wanted| wanted.tag.clone()).collect();
    planned_tags.sort();
    let mut expected = tags.clone();
    expected.sort();
    assert_eq!(planned_tags, expected);
    let report = execute(&planned, &planned.fingerprint, false, &from, &to).await.unwrap();
    assert!(report.complete, "{report:?}");
    for tag in &tags {
        assert_eq!(
            to.head_manifest("mirror/app", tag).await.unwrap(),
            from.head_manifest(&repository, tag).await.unwrap(),
            "{tag}"
        );
    }
    // A search picks some of them; tags name one artifact only.
    let mut searched = whole.clone();
    searched.query = Some(format!("tag:{}", tags[0]));
    searched.destination.repository = "picked/app".into();
    let picked = plan(&source, &Scope::all(), &to, &searched).await.unwrap();
    assert_eq!(picked.tags.iter().map(|wanted| wanted.tag.as_str()).collect::<Vec<_>>(), [tags[0].as_str()]);
    let mut tagged = searched.clone();
    tagged.tags = vec!["x".into()];
    assert!(plan(&source, &Scope::all(), &to, &tagged).await.is_err(), "tags with a search are refused");
}

#[tokio::test]
async fn filters_leave_out_what_they_name_and_a_platform_copies_one_image_of_an_index() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(distribution.url().parse().unwrap()), Size::Test).await.unwrap();
    let from = client(&distribution.url());
    let source = crawled("source", &from).await;
    let ferro = Ferro::start().await.unwrap();
    let to = client(&ferro.url());
    let (repository, app, _) = subjects(&report);

    // Only SPDX SBOMs go along: the rest is listed as left behind, with the reason.
    let mut only_spdx = request(("source", &repository), &app, ("destination", "filtered/app"), &["1"]);
    only_spdx.filter.include_artifact_types = vec!["application/spdx".into()];
    let planned = plan(&source, &Scope::all(), &to, &only_spdx).await.unwrap();
    let types: Vec<&str> = planned.manifests.iter().skip(1).filter_map(|item| item.artifact_type.as_deref()).collect();
    assert!(!types.is_empty() && types.iter().all(|kind| kind.starts_with("application/spdx")), "{types:?}");
    assert!(
        planned.excluded.iter().any(|left| left.reason.contains("not among those included")),
        "{:?}",
        planned.excluded
    );

    // One platform of the index: its image, tagged, the index left behind.
    let (index_repository, index_digest, arm) = report
        .of_kind("index")
        .filter_map(|item| {
            let doc = source.artifact("source", &item.repository, &item.digest).ok()??;
            let arm = doc.children.iter().find(|child| child.platform.as_deref() == Some("linux/arm64"))?.clone();
            Some((item.repository.clone(), item.digest.clone(), arm))
        })
        .next()
        .expect("a seeded index with an arm64 image");
    let (index_repository, index_digest) = (index_repository.as_str(), index_digest.as_str());
    let mut one_platform =
        request(("source", index_repository), index_digest, ("destination", "platform/app"), &["arm"]);
    one_platform.filter.platforms = vec!["linux/arm64".into()];
    let planned = plan(&source, &Scope::all(), &to, &one_platform).await.unwrap();
    assert_eq!(planned.roots, vec![arm.digest.clone()]);
    assert!(planned.manifests.iter().all(|item| item.digest != index_digest), "the index stays behind");
    assert!(
        planned.excluded.iter().any(|left| left.digest == index_digest && left.reason.contains("index stays behind"))
    );
    let done = execute(&planned, &planned.fingerprint, false, &from, &to).await.unwrap();
    assert!(done.complete, "{done:?}");
    assert_eq!(
        to.head_manifest("platform/app", "arm").await.unwrap().map(|digest| digest.to_string()),
        Some(arm.digest.clone())
    );
    assert_eq!(to.head_manifest("platform/app", index_digest).await.ok().flatten(), None, "the index is not there");
    // A platform the index lacks, or one matching several images, is refused.
    one_platform.filter.platforms = vec!["plan9/sparc".into()];
    assert!(plan(&source, &Scope::all(), &to, &one_platform).await.unwrap_err().to_string().contains("no image for"));
    one_platform.filter.platforms = vec!["linux/amd64".into(), "linux/arm64".into()];
    assert!(plan(&source, &Scope::all(), &to, &one_platform).await.unwrap_err().to_string().contains("name one"));
}

fn with_password(url: &str, user: &str, password: &str) -> Client {
    let credentials = Credentials::Basic { username: user.into(), password: Secret::new(password.to_owned()) };
    Client::new(ClientConfig::new(url.parse().unwrap(), credentials)).unwrap()
}

#[tokio::test]
async fn across_auth_modes_and_a_refusing_destination_nothing_is_half_tagged_and_a_rerun_resumes() {
    // Basic auth at the source, token auth at the destination: the whole graph arrives.
    let basic = Distribution::start(DistributionOptions::basic("alice", "alice-secret")).await.unwrap();
    let target = Target {
        username: Some("alice".into()),
        password: Some("alice-secret".into()),
        ..Target::anonymous(basic.url().parse().unwrap())
    };
    let report = ocicat_seed::seed(&target, Size::Test).await.unwrap();
    let from = with_password(&basic.url(), "alice", "alice-secret");
    let source = crawled("source", &from).await;
    let (repository, app, _) = subjects(&report);
    let token = Distribution::start(DistributionOptions::token("bob", "bob-secret")).await.unwrap();
    let to = with_password(&token.url(), "bob", "bob-secret");
    let request = request(("source", &repository), &app, ("destination", "promoted/app"), &["1.0"]);
    let planned = plan(&source, &Scope::all(), &to, &request).await.unwrap();
    let done = execute(&planned, &planned.fingerprint, false, &from, &to).await.unwrap();
    assert!(done.complete, "{done:?}");
    assert_eq!(
        to.head_manifest("promoted/app", "1.0").await.unwrap().map(|digest| digest.to_string()),
        Some(app.clone())
    );

    // A destination that refuses manifest pushes: a clear error, blobs sent, no manifest and no tag.
    let real = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let refusing = ocicat_testkit::FaultyRegistry::builder()
        .route(
            "PUT",
            "/v2/promoted/app/manifests/*",
            ocicat_testkit::Reply::error(403, "DENIED", "pushes are refused here"),
        )
        .any("/v2/*", ocicat_testkit::Script::proxy(&real.url(), |query| query.to_owned()))
        .start()
        .await
        .unwrap();
    let through = client(&refusing.url());
    let planned = plan(&source, &Scope::all(), &through, &request).await.unwrap();
    let stopped = execute(&planned, &planned.fingerprint, false, &from, &through).await.unwrap();
    assert!(!stopped.complete);
    let failed = stopped.steps.last().unwrap();
    assert_eq!(failed.what, "manifest", "{stopped:?}");
    assert!(
        matches!(&failed.outcome, StepOutcome::Failed { reason } if reason.contains("denied") || reason.contains("refused") || reason.contains("403")),
        "{failed:?}"
    );
    assert!(stopped.steps.iter().all(|step| step.what != "tag"), "no tag on an incomplete copy");
    let direct = client(&real.url());
    assert_eq!(direct.head_manifest("promoted/app", "1.0").await.ok().flatten(), None);
    assert_eq!(direct.head_manifest("promoted/app", &app).await.ok().flatten(), None);

    // Run again where pushes are allowed: the blobs sent are skipped, the rest arrives.
    let again = plan(&source, &Scope::all(), &direct, &request).await.unwrap();
    assert_eq!(again.totals.blobs, 0, "every blob was sent before the refusal: {:?}", again.totals);
    assert_eq!(again.totals.blobs_present, planned.blobs.len());
    let resumed = execute(&again, &again.fingerprint, false, &from, &direct).await.unwrap();
    assert!(resumed.complete, "{resumed:?}");
    assert_eq!(direct.head_manifest("promoted/app", "1.0").await.unwrap().map(|digest| digest.to_string()), Some(app));
}
