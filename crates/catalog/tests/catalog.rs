//! The catalog end to end on a real on-disk index: replace, list, filter, sort, reopen.

use chrono::{TimeZone, Utc};
use ocicat_catalog::{ArtifactDoc, ArtifactKind, RepositoryDoc, RepositorySort, WriterConfig};

fn artifact(repository: &str, digest_seed: u8, tags: &[&str]) -> ArtifactDoc {
    let digest = format!("sha256:{}", format!("{digest_seed:02x}").repeat(32));
    ArtifactDoc {
        tags: tags.iter().map(|tag| tag.to_string()).collect(),
        kind: ArtifactKind::Image,
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        platforms: vec!["linux/amd64".into()],
        size: 1234,
        created: Some(Utc.with_ymd_and_hms(2024, 1, digest_seed as u32 % 28 + 1, 0, 0, 0).unwrap()),
        annotations: [("org.opencontainers.image.title".to_string(), "<script>x</script>".to_string())].into(),
        manifest_size: 2,
        ..ArtifactDoc::new("demo", repository, digest)
    }
}

fn summary(repository: &str, tag_count: u64, day: u32) -> RepositoryDoc {
    RepositoryDoc {
        registry: "demo".into(),
        repository: repository.into(),
        tag_count,
        artifact_count: tag_count,
        size: 1,
        last_push: Some(Utc.with_ymd_and_hms(2024, 2, day, 0, 0, 0).unwrap()),
        crawled_at: None,
        incomplete: Vec::new(),
    }
}

#[tokio::test]
async fn whole_registry_grants_hide_exactly_the_registries_not_granted() {
    use ocicat_catalog::{Scope, ScopePattern, SearchSort};
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    for (registry, repository, seed) in [("demo", "team/api", 1), ("demo", "base/os", 2), ("other", "team/api", 3)] {
        let mut summary = summary(repository, 1, 1);
        summary.registry = registry.into();
        let artifact = ArtifactDoc { registry: registry.into(), ..artifact(repository, seed, &["v1"]) };
        writer.upsert_repository(summary, vec![artifact], Vec::new()).await.unwrap();
    }
    writer.flush().await.unwrap();
    let grant =
        |registry: &str, repository: &str| ScopePattern { registry: registry.into(), repository: repository.into() };
    let found = |scope: &Scope| {
        let results = catalog.search_scoped(scope, "kind:image", SearchSort::Name, 0, 10, Utc::now()).unwrap();
        let mut keys: Vec<String> =
            results.items.iter().map(|item| format!("{}/{}", item.registry, item.repository)).collect();
        keys.sort();
        (results.total, keys)
    };
    let everything = (3, vec!["demo/base/os".to_string(), "demo/team/api".into(), "other/team/api".into()]);
    assert_eq!(found(&Scope::all()), everything);
    // Every indexed registry granted whole: the same as no restriction.
    assert_eq!(found(&Scope::only(vec![grant("demo", "**"), grant("other", "**")])), everything);
    // A configured registry with nothing indexed yet changes nothing either.
    assert_eq!(found(&Scope::only(vec![grant("demo", "**"), grant("other", "**"), grant("new", "**")])), everything);
    assert_eq!(
        found(&Scope::only(vec![grant("demo", "**")])),
        (2, vec!["demo/base/os".to_string(), "demo/team/api".into()])
    );
    assert_eq!(
        found(&Scope::only(vec![grant("other", "**"), grant("demo", "base/*")])),
        (2, vec!["demo/base/os".to_string(), "other/team/api".into()])
    );
    assert_eq!(found(&Scope::only(vec![grant("new", "**")])), (0, Vec::new()));
    let counts = catalog.registry_counts_in(&Scope::only(vec![grant("other", "**")]), "demo").unwrap();
    assert_eq!((counts.repositories, counts.artifacts), (0, 0));
}

#[tokio::test]
async fn long_names_are_filtered_by_any_part_of_them_short_or_long() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let long = format!("team/{}-{}", "a".repeat(70), "ü".repeat(30));
    for name in [long.as_str(), "team/short", "team/ü"] {
        writer.upsert_repository(summary(name, 1, 1), Vec::new(), Vec::new()).await.unwrap();
    }
    writer.flush().await.unwrap();
    let total = |filter: &str| catalog.repositories("demo", filter, RepositorySort::Name, 0, 10).unwrap().total;
    // A suffix keeps 64 bytes: the tail of the name, the cut around its two-byte `ü`s, and a
    // filter longer than a suffix (read by a pass over the names) all find it.
    assert_eq!(total(&"ü".repeat(30)), 1);
    assert_eq!(total(&format!("a-{}", "ü".repeat(29))), 1);
    assert_eq!(total(&format!("{}-{}", "a".repeat(70), "ü".repeat(30))), 1);
    assert_eq!(total(&format!("{}-üü", "a".repeat(69))), 1);
    assert_eq!(total("ü"), 2);
    assert_eq!(total("team/"), 3);
    assert_eq!(total(&format!("{}-üü", "a".repeat(71))), 0);
}

#[tokio::test]
async fn replaced_repositories_are_listed_filtered_sorted_and_survive_a_reopen() {
    let directory = tempfile::tempdir().unwrap();
    {
        let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).unwrap();
        writer
            .replace_repository(
                summary("team/api", 2, 3),
                vec![artifact("team/api", 1, &["v1"]), artifact("team/api", 2, &["v2"])],
            )
            .await
            .unwrap();
        writer.replace_repository(summary("team/web", 5, 1), vec![artifact("team/web", 3, &["latest"])]).await.unwrap();
        writer.replace_repository(summary("base/debian", 1, 9), vec![]).await.unwrap();
        writer.flush().await.unwrap();

        let counts = catalog.registry_counts("demo").unwrap();
        assert_eq!((counts.repositories, counts.artifacts), (3, 3));
        let names =
            |page: ocicat_catalog::RepositoryPage| page.items.into_iter().map(|r| r.repository).collect::<Vec<_>>();
        assert_eq!(
            names(catalog.repositories("demo", "", RepositorySort::Name, 0, 10).unwrap()),
            ["base/debian", "team/api", "team/web"]
        );
        assert_eq!(
            names(catalog.repositories("demo", "", RepositorySort::LastPush, 0, 10).unwrap()),
            ["base/debian", "team/api", "team/web"]
        );
        assert_eq!(
            names(catalog.repositories("demo", "", RepositorySort::TagCount, 0, 2).unwrap()),
            ["team/web", "team/api"]
        );
        let filtered = catalog.repositories("demo", "TEAM/", RepositorySort::Name, 1, 10).unwrap();
        assert_eq!(filtered.total, 2);
        assert_eq!(names(filtered), ["team/web"]);
        // Anywhere in the name, by the indexed suffixes.
        let containing =
            |filter: &str| names(catalog.repositories("demo", filter, RepositorySort::Name, 0, 10).unwrap());
        assert_eq!(containing("am/a"), ["team/api"]);
        assert_eq!(containing("b"), ["base/debian", "team/web"]);
        assert!(containing("team/apix").is_empty());

        // A scope narrows counts, totals and pages to what it grants.
        let team = ocicat_catalog::Scope::only(vec![ocicat_catalog::ScopePattern {
            registry: "demo".into(),
            repository: "team/*".into(),
        }]);
        let scoped = catalog.registry_counts_in(&team, "demo").unwrap();
        assert_eq!((scoped.repositories, scoped.artifacts), (2, 3));
        let page = catalog.repositories_in(&team, "demo", "", RepositorySort::TagCount, 0, 10).unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(names(page), ["team/web", "team/api"]);
        let elsewhere = ocicat_catalog::Scope::only(vec![ocicat_catalog::ScopePattern {
            registry: "other".into(),
            repository: "**".into(),
        }]);
        assert_eq!(catalog.registry_counts_in(&elsewhere, "demo").unwrap().repositories, 0);
        assert_eq!(catalog.repositories_in(&elsewhere, "demo", "", RepositorySort::Name, 0, 10).unwrap().total, 0);

        // Replacing a repository removes artifacts that disappeared.
        writer
            .replace_repository(summary("team/api", 1, 3), vec![artifact("team/api", 2, &["v2", "latest"])])
            .await
            .unwrap();
        writer.flush().await.unwrap();
        let api = catalog.artifacts_in_repository("demo", "team/api").unwrap();
        assert_eq!(api.len(), 1);
        assert_eq!(api[0].tags, ["v2", "latest"]);
        assert!(catalog.artifact("demo", "team/api", &artifact("team/api", 1, &[]).digest).unwrap().is_none());
        writer.close().await.unwrap();
        assert!(writer.flush().await.is_err(), "a closed writer refuses work");
    }
    let (catalog, _writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).unwrap();
    let reopened = catalog
        .artifact("demo", "team/api", &artifact("team/api", 2, &[]).digest)
        .unwrap()
        .expect("artifact after reopen");
    assert_eq!(reopened.annotations["org.opencontainers.image.title"], "<script>x</script>");
    assert_eq!(catalog.repository("demo", "team/web").unwrap().unwrap().tag_count, 5);
}

#[tokio::test]
async fn a_different_schema_version_directory_is_removed() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(directory.path().join("index-v0")).unwrap();
    let _opened = ocicat_catalog::open(directory.path(), WriterConfig::default()).unwrap();
    assert!(!directory.path().join("index-v0").exists());
    assert!(directory.path().join(format!("index-v{}", ocicat_catalog::SCHEMA_VERSION)).exists());
}

#[tokio::test]
async fn dates_outside_what_the_index_can_hold_are_left_out_not_fatal() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let mut ancient = artifact("old/image", 9, &["v0"]);
    ancient.created = Some(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap());
    let mut summary = summary("old/image", 1, 1);
    summary.last_push = ancient.created;
    writer.replace_repository(summary, vec![ancient.clone()]).await.unwrap();
    writer.flush().await.unwrap();
    let stored = catalog.artifact("demo", "old/image", &ancient.digest).unwrap().expect("indexed");
    assert_eq!(stored.created, ancient.created);
}

fn tag_names(page: &ocicat_catalog::TagPage) -> Vec<&str> {
    page.items.iter().map(|entry| entry.tag.as_str()).collect()
}

#[tokio::test]
async fn tags_are_paged_sorted_filtered_and_follow_upserts() {
    use ocicat_catalog::TagSort;
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let hex = "0a".repeat(32);
    let cosign = format!("sha256-{hex}.sig");
    let versions = [
        artifact("app", 1, &["1.0.0"]),
        artifact("app", 2, &["1.2.0", "stable"]),
        artifact("app", 3, &["v1.10.0"]),
        artifact("app", 4, &["2.0.0-rc.1", "latest"]),
        artifact("app", 5, &[&cosign]),
    ];
    writer.upsert_repository(summary("app", 6, 1), versions.to_vec(), vec![]).await.unwrap();
    writer.flush().await.unwrap();

    let all = catalog.tags("demo", "app", "", TagSort::Semver, 0, 50).unwrap();
    assert_eq!(tag_names(&all), ["2.0.0-rc.1", "v1.10.0", "1.2.0", "1.0.0", "stable", "latest"]);
    assert_eq!(all.total, 6, "the cosign tag is not a version");
    let newest = catalog.tags("demo", "app", "", TagSort::Newest, 0, 2).unwrap();
    assert_eq!((newest.total, newest.items.len()), (6, 2));
    assert!(newest.items[0].created >= newest.items[1].created);
    assert_eq!(newest.items[0].digest, versions[4 - 1].digest, "day 5 is the newest version");
    let page_two = catalog.tags("demo", "app", "", TagSort::Name, 2, 2).unwrap();
    assert_eq!(tag_names(&page_two), ["2.0.0-rc.1", "latest"]);
    assert_eq!(
        tag_names(&catalog.tags("demo", "app", "1.", TagSort::Name, 0, 50).unwrap()),
        ["1.0.0", "1.2.0", "v1.10.0"]
    );

    // "latest" moves to the first artifact; the fourth loses it; the third disappears.
    let mut first = versions[0].clone();
    first.tags.push("latest".into());
    let mut fourth = versions[3].clone();
    fourth.tags.retain(|tag| tag != "latest");
    writer
        .upsert_repository(summary("app", 5, 1), vec![first.clone(), fourth], vec![versions[2].digest.clone()])
        .await
        .unwrap();
    writer.flush().await.unwrap();
    let latest = catalog.tags("demo", "app", "latest", TagSort::Name, 0, 50).unwrap();
    assert_eq!(latest.items.len(), 1);
    assert_eq!(latest.items[0].digest, first.digest);
    let names = catalog.tags("demo", "app", "", TagSort::Name, 0, 50).unwrap();
    assert_eq!(tag_names(&names), ["1.0.0", "1.2.0", "2.0.0-rc.1", "latest", "stable"]);
    assert!(catalog.artifact("demo", "app", &versions[2].digest).unwrap().is_none());
    assert_eq!(catalog.registry_counts("demo").unwrap().artifacts, 4);
}

#[tokio::test]
async fn the_referrers_tree_nests_filters_orders_and_survives_loops() {
    use ocicat_catalog::ReferrerQuery;
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let image = artifact("app", 1, &["1.0.0"]);
    let referrer = |seed: u8, kind: ArtifactKind, artifact_type: &str, target: &ArtifactDoc| {
        let mut doc = artifact("app", seed, &[]);
        doc.kind = kind;
        doc.artifact_type = Some(artifact_type.into());
        doc.refers_to = Some(target.digest.clone());
        doc
    };
    let sbom = referrer(2, ArtifactKind::Sbom, "application/spdx+json", &image);
    let scan = referrer(3, ArtifactKind::Scan, "application/sarif+json", &image);
    let signature = referrer(4, ArtifactKind::Signature, "application/vnd.cncf.notary.signature", &sbom);
    // A lie: the image claims to refer to its own scan, closing a loop.
    let mut looping_image = image.clone();
    looping_image.refers_to = Some(scan.digest.clone());
    let mut index = artifact("app", 7, &["multi"]);
    index.kind = ArtifactKind::Index;
    index.children.push(ocicat_catalog::ChildRef {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: image.digest.clone(),
        size: 1,
        platform: Some("linux/amd64".into()),
        attests: None,
        annotations: Default::default(),
    });
    let all = vec![looping_image, sbom.clone(), scan.clone(), signature.clone(), index.clone()];
    writer.upsert_repository(summary("app", 2, 1), all, vec![]).await.unwrap();
    writer.flush().await.unwrap();

    let tree = catalog.referrer_tree("demo", "app", &image.digest, &ReferrerQuery::default()).unwrap();
    let top: Vec<&str> = tree.nodes.iter().map(|node| node.artifact.kind.as_str()).collect();
    assert_eq!(top, ["scan", "sbom"], "newest first");
    assert_eq!(tree.total, 2);
    let sbom_node = &tree.nodes[1];
    assert_eq!(sbom_node.referrers.len(), 1);
    assert_eq!(sbom_node.referrers[0].artifact.digest, signature.digest, "a signature on the SBOM");
    assert!(tree.nodes[0].referrers.is_empty(), "the loop back to the image is cut");
    assert!(!tree.truncated);
    let oldest = ReferrerQuery { oldest_first: true, limit: 1, ..ReferrerQuery::default() };
    let first = catalog.referrer_tree("demo", "app", &image.digest, &oldest).unwrap();
    assert_eq!((first.total, first.nodes.len(), first.nodes[0].artifact.kind.as_str()), (2, 1, "sbom"));
    let only_spdx = ReferrerQuery { artifact_type: Some("application/spdx+json".into()), ..ReferrerQuery::default() };
    let filtered = catalog.referrer_tree("demo", "app", &image.digest, &only_spdx).unwrap();
    assert_eq!(filtered.nodes.iter().map(|n| n.artifact.digest.clone()).collect::<Vec<_>>(), [sbom.digest]);
    let parents = catalog.parents("demo", "app", &image.digest).unwrap();
    assert_eq!(parents.iter().map(|p| p.digest.clone()).collect::<Vec<_>>(), [index.digest]);
}

#[tokio::test]
async fn facets_are_cached_per_commit_and_never_stale_after_one() {
    use ocicat_catalog::SearchSort;
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    writer.upsert_repository(summary("app", 1, 1), vec![artifact("app", 1, &["1.0.0"])], vec![]).await.unwrap();
    writer.flush().await.unwrap();
    let now = Utc::now();
    let first = catalog.search("kind:image", SearchSort::Newest, 0, 10, now).unwrap();
    assert_eq!(first.facets.kind, vec![("image".to_string(), 1)]);
    let again = catalog.search("kind:image", SearchSort::Newest, 0, 10, now).unwrap();
    assert_eq!(again.facets, first.facets, "the same snapshot answers the same");
    writer.upsert_repository(summary("app", 2, 1), vec![artifact("app", 2, &["2.0.0"])], vec![]).await.unwrap();
    writer.flush().await.unwrap();
    let after = catalog.search("kind:image", SearchSort::Newest, 0, 10, now).unwrap();
    assert_eq!(after.facets.kind, vec![("image".to_string(), 2)], "a commit invalidates the cache");
    assert_eq!(after.total, 2);
}

#[tokio::test]
async fn name_order_holds_across_segments_and_deep_pages() {
    let directory = tempfile::tempdir().unwrap();
    let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).unwrap();
    // Three commits, so three segments, each holding names from all over the alphabet; enough
    // names that the last pages take the deep path (past the first 1,000).
    let mut expected = Vec::new();
    for batch in 0..3u32 {
        for number in 0..400u32 {
            let name = format!("ns-{}/repo-{:04}", (number * 7 + batch) % 5, number * 3 + batch);
            writer.upsert_repository(summary(&name, 1, 1), Vec::new(), Vec::new()).await.unwrap();
            expected.push(name);
        }
        writer.flush().await.unwrap();
    }
    expected.sort();
    let mut paged = Vec::new();
    for page in 0..13 {
        let found = catalog.repositories("demo", "", RepositorySort::Name, page * 100, 100).unwrap();
        assert_eq!(found.total, 1200);
        paged.extend(found.items.into_iter().map(|repository| repository.repository));
    }
    assert_eq!(paged, expected, "every page in name order, none repeated or skipped");
    let deep = catalog.repositories("demo", "", RepositorySort::Name, 1195, 10).unwrap();
    let names: Vec<String> = deep.items.into_iter().map(|repository| repository.repository).collect();
    assert_eq!(names, expected[1195..], "the last page holds what is left");
}

/// Deep pages by name walk every match with their own pass: a summary rewritten since the last
/// merge (its old version deleted, not yet gone) is listed once.
#[tokio::test]
async fn deep_name_pages_skip_rewritten_documents() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    for round in 0..2 {
        // The second round rewrites every other one, so the first segment keeps live documents.
        for number in (0..1_010).filter(|number| round == 0 || number % 2 == 0) {
            let name = format!("team/app-{number:04}");
            writer.upsert_repository(summary(&name, 1 + round, 1), vec![], vec![]).await.unwrap();
        }
        writer.flush().await.unwrap();
    }
    let page = catalog.repositories("demo", "", RepositorySort::Name, 1_000, 50).unwrap();
    let names: Vec<&str> = page.items.iter().map(|item| item.repository.as_str()).collect();
    assert_eq!(page.total, 1_010);
    assert_eq!(names, (1_000..1_010).map(|n| format!("team/app-{n:04}")).collect::<Vec<_>>());
    let rewritten: Vec<u64> = page.items.iter().map(|item| item.tag_count).collect();
    assert_eq!(rewritten, [2, 1, 2, 1, 2, 1, 2, 1, 2, 1], "the newest summaries");
}

/// Date ranges read whole days from postings and the edge days from the column (catalog v15,
/// annotations v16): bounds inside a day, on its first second and as whole days all find
/// exactly the artifacts on their side, for `created`, `end-of-life` and a date-valued
/// annotation, negated too.
#[tokio::test]
async fn date_ranges_split_days_at_the_second_they_name() {
    use ocicat_catalog::SearchSort;
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let at = |day: u32, hour: u32, minute: u32| Utc.with_ymd_and_hms(2024, 3, day, hour, minute, 0).unwrap();
    let moments = [at(1, 0, 0), at(1, 23, 59), at(2, 11, 59), at(2, 12, 0), at(2, 12, 1), at(3, 0, 0), at(9, 8, 0)];
    let artifacts: Vec<ArtifactDoc> = moments
        .iter()
        .enumerate()
        .map(|(seed, moment)| {
            let mut artifact = ArtifactDoc {
                created: Some(*moment),
                end_of_life: Some(*moment + chrono::Duration::days(365)),
                ..artifact("team/api", seed as u8 + 1, &[])
            };
            // The build date a year before, and a date under another key that no query names.
            let built = *moment - chrono::Duration::days(366);
            artifact.annotations.insert("org.opencontainers.image.created".into(), built.to_rfc3339());
            artifact.annotations.insert("vendor.reviewed".into(), (*moment + chrono::Duration::days(9)).to_rfc3339());
            artifact
        })
        .collect();
    // One artifact without dates, which no comparison matches and every negation does.
    let undated = ArtifactDoc { created: None, end_of_life: None, ..artifact("team/api", 99, &[]) };
    let mut all = artifacts;
    all.push(undated);
    writer.upsert_repository(summary("team/api", 0, 1), all, Vec::new()).await.unwrap();
    writer.flush().await.unwrap();
    let now = Utc.with_ymd_and_hms(2024, 3, 10, 0, 0, 0).unwrap();
    let count = |query: &str| catalog.search(query, SearchSort::Newest, 0, 50, now).unwrap().total;
    assert_eq!(count("created > 2024-03-02T12:00:00Z"), 3);
    assert_eq!(count("created >= 2024-03-02T12:00:00Z"), 4);
    assert_eq!(count("created < 2024-03-02T12:00:00Z"), 3);
    assert_eq!(count("created <= 2024-03-02T12:00:00Z"), 4);
    assert_eq!(count("created:2024-03-02T12:00:00Z"), 1);
    assert_eq!(count("created != 2024-03-02T12:00:00Z"), 7);
    // A day names the whole day.
    assert_eq!(count("created:2024-03-02"), 3);
    assert_eq!(count("created > 2024-03-02"), 2);
    assert_eq!(count("created >= 2024-03-02"), 5);
    assert_eq!(count("created < 2024-03-02"), 2);
    assert_eq!(count("created > now-7d"), 1);
    assert_eq!(count("created > now-8d"), 5);
    assert_eq!(count("end-of-life < 2025-03-02T12:00:01Z"), 4);
    assert_eq!(count("end-of-life > 2025-03-01T23:59:00Z"), 5);
    assert_eq!(count("NOT (end-of-life > 2025-03-01T23:59:00Z)"), 3);
    let built = |query: &str| count(&format!(r#"annotation."org.opencontainers.image.created" {query}"#));
    assert_eq!(built("> 2023-03-02T12:00:00Z"), 3);
    assert_eq!(built(">= 2023-03-02T12:00:00Z"), 4);
    assert_eq!(built("< 2023-03-02T12:00:00Z"), 3);
    assert_eq!(built("<= 2023-03-02"), 5);
    assert_eq!(built("> 2023-03-02"), 2);
    assert_eq!(built("> 2022-01-01"), 7, "every artifact with the annotation, not the undated one");
    assert_eq!(count(r#"NOT annotation."org.opencontainers.image.created" > 2023-03-02"#), 6);
    // Newest first, through the day windows: the created order, whatever the annotation.
    let page = catalog
        .search(r#"annotation."org.opencontainers.image.created" > 2023-03-01"#, SearchSort::Newest, 0, 2, now)
        .unwrap();
    let created: Vec<_> = page.items.iter().map(|item| item.created).collect();
    assert_eq!(created, vec![Some(moments[6]), Some(moments[5])]);
}

/// The facets of every artifact are summed from per-segment counts kept across commits; after
/// commits that add segments and delete from older ones they still equal the facets counted
/// over the matches of a query that matches every artifact too.
#[tokio::test]
async fn facets_of_everything_follow_commits_and_deletes_across_segments() {
    use ocicat_catalog::{Scope, SearchSort};
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let now = Utc::now();
    let both = |expected_images: u64| {
        let everything = catalog.search_facets(&Scope::all(), "", now).unwrap();
        let matched = catalog.search_facets(&Scope::all(), "size >= 0", now).unwrap();
        assert_eq!(everything, matched);
        assert_eq!(everything.kind, vec![("image".to_string(), expected_images)]);
        assert_eq!(catalog.search("", SearchSort::Newest, 0, 1, now).unwrap().facets, everything);
        everything
    };
    // One commit, one segment, per repository.
    for (number, repository) in ["team/api", "team/web", "base/os"].iter().enumerate() {
        let artifacts = (0..=number as u8).map(|seed| artifact(repository, seed + 10 * number as u8, &[])).collect();
        writer.upsert_repository(summary(repository, 0, 1), artifacts, Vec::new()).await.unwrap();
        writer.flush().await.unwrap();
    }
    let first = both(6);
    assert_eq!(
        first.repository,
        vec![("base/os".to_string(), 3), ("team/web".to_string(), 2), ("team/api".to_string(), 1)]
    );
    // One commit deletes one of an older segment's artifacts (the segment stays, with a
    // delete) and writes a new segment.
    let added = ArtifactDoc { platforms: vec!["linux/arm64".into()], ..artifact("base/os", 41, &[]) };
    writer.upsert_repository(summary("base/os", 0, 2), vec![added], Vec::new()).await.unwrap();
    let removed = artifact("base/os", 22, &[]).digest;
    writer.remove_artifacts("demo", "base/os", vec![removed]).await.unwrap();
    writer.flush().await.unwrap();
    let second = both(6);
    assert_eq!(
        second.repository,
        vec![("base/os".to_string(), 3), ("team/web".to_string(), 2), ("team/api".to_string(), 1)]
    );
    assert_eq!(second.platform, vec![("linux/amd64".to_string(), 5), ("linux/arm64".to_string(), 1)]);
    // A segment whose every artifact is deleted is dropped.
    writer.remove_repository("demo", "team/web").await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(both(4).repository, vec![("base/os".to_string(), 3), ("team/api".to_string(), 1)]);
}
