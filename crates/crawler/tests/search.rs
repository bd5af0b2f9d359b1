//! Searching what the crawler indexed from a real seeded registry: fields, globs, dates,
//! end-of-life from lifecycle referrers, annotations, free text, and errors with positions.

use std::collections::BTreeSet;

use chrono::Utc;
use ocicat_catalog::{ArtifactDoc, Catalog, Scope, ScopePattern, SearchError, SearchSort, WriterConfig};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};

fn digests(catalog: &Catalog, query: &str) -> BTreeSet<String> {
    let results = catalog
        .search(query, SearchSort::Newest, 0, 200, Utc::now())
        .unwrap_or_else(|error| panic!("{query}: {error}"));
    assert_eq!(results.total as usize, results.items.len(), "{query}: all results fit one page");
    results.items.into_iter().map(|item| item.digest).collect()
}

fn expected(all: &[ArtifactDoc], keep: impl Fn(&ArtifactDoc) -> bool) -> BTreeSet<String> {
    all.iter()
        .filter(|artifact| !artifact.referrers_index && keep(artifact))
        .map(|artifact| artifact.digest.clone())
        .collect()
}

#[tokio::test]
async fn the_query_language_finds_exactly_what_it_describes() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = Client::new(ClientConfig::new(registry.url().parse().unwrap(), Credentials::Anonymous)).unwrap();
    let source = RegistrySource::new("local", client);
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
    let all: Vec<ArtifactDoc> = report
        .repositories()
        .iter()
        .flat_map(|repository| catalog.artifacts_in_repository("local", repository).unwrap())
        .collect();
    let today = Utc::now();

    assert_eq!(digests(&catalog, "kind:sbom"), expected(&all, |a| a.kind.as_str() == "sbom"));
    assert_eq!(digests(&catalog, "kind:sbom").len(), report.of_kind("sbom").count());
    assert_eq!(
        digests(&catalog, "repo:demo/* kind:image"),
        expected(&all, |a| a.repository.starts_with("demo/") && a.kind.as_str() == "image")
    );
    assert_eq!(
        digests(&catalog, "type:application/spdx+json"),
        expected(&all, |a| a.artifact_type.as_deref() == Some("application/spdx+json"))
    );
    assert_eq!(
        digests(&catalog, "kind:signature OR kind:attestation"),
        expected(&all, |a| a.kind.as_str() == "signature" || a.kind.as_str() == "attestation")
    );
    assert_eq!(
        digests(&catalog, "NOT kind:image -kind:index"),
        expected(&all, |a| a.kind.as_str() != "image" && a.kind.as_str() != "index")
    );
    assert_eq!(
        digests(&catalog, "platform:linux/arm64"),
        expected(&all, |a| a.platforms.iter().any(|p| p == "linux/arm64"))
    );

    // What is attached, from referrers, cosign tags and buildx attestations.
    assert_eq!(digests(&catalog, "has:sbom"), expected(&all, |a| a.attached.iter().any(|k| k == "sbom")));
    assert!(!digests(&catalog, "has:signature").is_empty());
    assert_eq!(
        digests(&catalog, "kind:image NOT has:signature"),
        expected(&all, |a| a.kind.as_str() == "image" && !a.attached.iter().any(|k| k == "signature"))
    );
    let sbom_subjects: BTreeSet<String> = report.of_kind("sbom").filter_map(|item| item.subject.clone()).collect();
    assert_eq!(digests(&catalog, "has:sbom"), sbom_subjects);

    // End of life: the seeder attached one lifecycle referrer in the past and one in the future.
    let expired = digests(&catalog, "eol < today");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired, expected(&all, |a| a.end_of_life.is_some_and(|date| date < today)));
    assert_eq!(digests(&catalog, "eol > today"), expected(&all, |a| a.end_of_life.is_some_and(|date| date > today)));
    assert_eq!(digests(&catalog, "eol > today").len(), 1);

    // Date-valued annotations compare as dates; other annotations match exactly.
    let created_key = "org.opencontainers.image.created";
    let cutoff = "2024-02-01";
    let before_cutoff = expected(&all, |a| a.annotations.get(created_key).is_some_and(|value| value.as_str() < cutoff));
    assert!(!before_cutoff.is_empty());
    assert_eq!(digests(&catalog, &format!(r#"annotation."{created_key}" < {cutoff}"#)), before_cutoff);
    // Untagged manifests (the repository page links to this).
    assert_eq!(digests(&catalog, "NOT tag:*"), expected(&all, |a| a.tags.is_empty()));
    // An open-ended comparison still only matches artifacts that carry the key.
    let with_key = expected(&all, |a| {
        [&a.annotations, &a.labels, &a.descriptor_annotations].iter().any(|map| map.contains_key(created_key))
    });
    assert!(with_key.len() < all.len(), "some seeded artifacts have no {created_key}");
    assert_eq!(digests(&catalog, &format!(r#"annotation."{created_key}" > 1990-01-01"#)), with_key);
    assert!(digests(&catalog, r#"annotation."no.such.key" < 2100-01-01"#).is_empty());
    let (key, value) = all
        .iter()
        .flat_map(|a| a.annotations.iter())
        .find(|(key, _)| key.ends_with(".title"))
        .expect("a title annotation");
    assert_eq!(
        digests(&catalog, &format!(r#"annotation."{key}" = "{value}""#)),
        expected(&all, |a| a.annotations.get(key) == Some(value))
    );
    assert_eq!(digests(&catalog, "created > 2000-01-01").len(), expected(&all, |a| a.created.is_some()).len());
    // Annotations an index puts on a descriptor are searchable on the manifest it lists.
    let attestations = expected(&all, |a| {
        a.descriptor_annotations.get("vnd.docker.reference.type").is_some_and(|v| v == "attestation-manifest")
    });
    assert!(!attestations.is_empty(), "the seeded buildx index annotates its attestation manifests");
    assert_eq!(digests(&catalog, r#"annotation."vnd.docker.reference.type" = attestation-manifest"#), attestations);

    // Free text finds names and annotation values.
    assert_eq!(
        digests(&catalog, "debian"),
        expected(&all, |a| {
            let text = format!(
                "{} {} {:?} {:?}",
                a.repository,
                a.tags.join(" "),
                a.annotations.values().collect::<Vec<_>>(),
                a.labels.values().collect::<Vec<_>>()
            );
            text.to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|word| word == "debian")
        })
    );

    // Facets count by kind over the whole result set; paging and sorting respect the total.
    let page = catalog.search("", SearchSort::Name, 0, 5, today).unwrap();
    let searchable = all.iter().filter(|artifact| !artifact.referrers_index).count();
    assert!(searchable < all.len(), "the seeded fallback indexes are indexed but not searchable");
    assert_eq!(page.total as usize, searchable);
    assert_eq!(page.items.len(), 5);
    assert_eq!(page.facets.kind.iter().map(|(_, count)| count).sum::<u64>() as usize, searchable);
    assert_eq!(page.facets.registry, vec![("local".to_string(), searchable as u64)]);
    for (repository, count) in &page.facets.repository {
        assert_eq!(*count as usize, expected(&all, |a| &a.repository == repository).len(), "{repository}");
    }
    assert_eq!(page.facets.repository.len(), report.repositories().len());
    let arm = page.facets.platform.iter().find(|(platform, _)| platform == "linux/arm64").unwrap();
    assert_eq!(arm.1 as usize, expected(&all, |a| a.platforms.iter().any(|p| p == "linux/arm64")).len());
    let spdx = page.facets.artifact_type.iter().find(|(value, _)| value == "application/spdx+json").unwrap();
    assert_eq!(spdx.1 as usize, digests(&catalog, "type:application/spdx+json").len());
    let sboms = catalog.search("kind:sbom", SearchSort::Size, 0, 50, today).unwrap();
    assert_eq!(sboms.facets.kind, vec![("sbom".to_string(), sboms.total)], "facets count the matches only");
    assert!(sboms.items.windows(2).all(|pair| pair[0].size >= pair[1].size), "largest first");

    // Scans: each subject carries its newest report's findings by severity.
    let scan_subjects: BTreeSet<String> = report.of_kind("scan").filter_map(|item| item.subject.clone()).collect();
    assert!(!scan_subjects.is_empty());
    assert_eq!(digests(&catalog, "vulns >= 0"), scan_subjects, "every seeded scan was read");
    let critical = expected(&all, |a| a.referrers.vulnerabilities.as_ref().is_some_and(|v| v.critical > 0));
    assert_eq!(critical, scan_subjects, "the seeded reports all list a critical finding");
    assert_eq!(digests(&catalog, "vulns.critical > 0"), critical);
    assert!(digests(&catalog, "vulns.critical > 1000").is_empty());
    assert!(digests(&catalog, "vulns.critical != 0 kind:sbom").is_empty(), "unscanned artifacts never match");
    for subject in &scan_subjects {
        let doc = all.iter().find(|a| &a.digest == subject).unwrap();
        let found = doc.referrers.vulnerabilities.as_ref().unwrap();
        assert!(found.critical > 0 && found.high > 0 && found.total() >= found.critical + found.high, "{found:?}");
        assert!(doc.referrers.counts.get("scan").is_some_and(|n| *n >= 1));
    }

    // Scopes restrict results, totals and facets.
    let grant = |repository: &str| ScopePattern { registry: "local".into(), repository: repository.into() };
    let demo_only = Scope::only(vec![grant("demo/*")]);
    let scoped = catalog.search_scoped(&demo_only, "", SearchSort::Newest, 0, 200, today).unwrap();
    let in_demo = expected(&all, |a| a.repository.starts_with("demo/") && !a.repository[5..].contains('/'));
    assert_eq!(scoped.items.iter().map(|a| a.digest.clone()).collect::<BTreeSet<_>>(), in_demo);
    assert_eq!(scoped.total as usize, in_demo.len());
    assert!(scoped.facets.repository.iter().all(|(repository, _)| repository.starts_with("demo/")));
    let elsewhere = Scope::only(vec![ScopePattern { registry: "other".into(), repository: "**".into() }]);
    let nothing = catalog.search_scoped(&elsewhere, "", SearchSort::Newest, 0, 200, today).unwrap();
    assert_eq!((nothing.total, nothing.facets.kind.len()), (0, 0));

    match catalog.search("kind:sbom vulnz.critical > 0", SearchSort::Newest, 0, 10, today) {
        Err(SearchError::Query(error)) => {
            assert_eq!(error.position, 10);
            assert!(error.message.contains("unknown field"), "{}", error.message);
        }
        other => panic!("expected a query error, got {other:?}"),
    }
    assert!(matches!(catalog.search("eol < someday", SearchSort::Newest, 0, 10, today), Err(SearchError::Query(_))));
}

/// Every query the README's table shows runs on a crawled registry, digests and references
/// filled in with real ones; the pasted forms find exactly the artifact they name.
#[tokio::test]
async fn every_query_in_the_readme_runs_and_pasted_references_find_their_artifact() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = Client::new(ClientConfig::new(registry.url().parse().unwrap(), Credentials::Anonymous)).unwrap();
    let source = RegistrySource::new("local", client);
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    crawl_registry(&source, &catalog, &writer, &StatusBoard::default(), 4).await.unwrap();
    let image = report
        .items
        .iter()
        .find(|item| item.repository == "demo/app" && item.kind == "image" && item.reference.is_some())
        .expect("a tagged demo/app image");
    let tag = image.reference.clone().unwrap();
    let subject_of = report.items.iter().find(|item| item.subject.is_some()).expect("a referrer");
    let subject = subject_of.subject.clone().unwrap();
    let fill = |example: &str| {
        example
            .replace("subject:sha256:…", &format!("subject:{subject}"))
            .replace("sha256:…", &image.digest)
            .replace("demo/app:1.0", &format!("demo/app:{tag}"))
    };
    let readme = include_str!("../../../README.md");
    let table = readme.split("| write | finds |").nth(1).expect("the README's query table");
    let mut examples = Vec::new();
    for line in table.lines().skip(2).map(str::trim).take_while(|line| line.starts_with('|')) {
        let cell = line.trim_start_matches('|').split(" | ").next().unwrap_or_default();
        examples.extend(cell.split('`').skip(1).step_by(2).map(fill));
    }
    assert!(examples.len() >= 25, "{examples:?}");
    for example in &examples {
        if let Err(error) = catalog.search(example, SearchSort::Newest, 0, 10, Utc::now()) {
            panic!("the README's example {example:?} fails: {error}");
        }
    }
    for pasted in [
        image.digest.clone(),
        format!("digest:{}", image.digest),
        format!("demo/app:{tag}"),
        format!("local/demo/app:{tag}"),
        format!("demo/app@{}", image.digest),
        format!("local/demo/app@{}", image.digest),
    ] {
        assert_eq!(digests(&catalog, &pasted), BTreeSet::from([image.digest.clone()]), "{pasted}");
    }
    // `subject:` finds whatever is attached, however it is attached (subject field, cosign
    // tag, buildx attestation manifest): exactly what the seed attached to each subject.
    let mut attached: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for item in report.items.iter().filter(|item| item.subject.is_some()) {
        attached.entry(item.subject.clone().unwrap()).or_default().insert(item.digest.clone());
    }
    assert!(attached.contains_key(&subject), "{subject_of:?}");
    for (subject, referrers) in &attached {
        assert_eq!(&digests(&catalog, &format!("subject:{subject}")), referrers, "subject:{subject}");
    }
}
