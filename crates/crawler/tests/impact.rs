//! What the crawler reads for impact search from a real seeded registry: the packages of every
//! SBOM (SPDX and CycloneDX, bare and inside attestations) and the findings of every scan, kept
//! as terms of their facts documents and joined by `pkg:` and `cve:` to exactly the artifacts they describe.

use std::collections::BTreeSet;

use chrono::Utc;
use ocicat_catalog::{ArtifactDoc, Catalog, SearchSort, WriterConfig, artifact_key};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};

fn keys(catalog: &Catalog, query: &str) -> BTreeSet<String> {
    let results = catalog
        .search(query, SearchSort::Newest, 0, 200, Utc::now())
        .unwrap_or_else(|error| panic!("{query}: {error}"));
    assert_eq!(results.total as usize, results.items.len(), "{query}: all results fit one page");
    results.items.iter().map(|item| artifact_key(&item.registry, &item.repository, &item.digest)).collect()
}

#[tokio::test]
async fn sbom_packages_and_scan_findings_reach_the_artifacts_they_describe() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let client = Client::new(ClientConfig::new(registry.url().parse().unwrap(), Credentials::Anonymous)).unwrap();
    let source = RegistrySource::new("local", client);
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    crawl_registry(&source, &catalog, &writer, &StatusBoard::default(), 4).await.unwrap();
    let all: Vec<ArtifactDoc> = report
        .repositories()
        .iter()
        .flat_map(|repository| catalog.artifacts_in_repository("local", repository).unwrap())
        .collect();
    // The facts are terms of their own documents, read back with what they describe.
    let every_key: Vec<String> =
        all.iter().map(|doc| artifact_key(&doc.registry, &doc.repository, &doc.digest)).collect();
    let all = catalog.describing(&every_key, None).unwrap();

    // Every package of the real Debian SBOM (skopeo's image, by syft) was read.
    let fixture =
        ocicat_formats::sbom::parse(include_bytes!("../../seed/fixtures/sbom-debian-skopeo.spdx.json")).unwrap();
    let read: BTreeSet<&str> =
        all.iter().flat_map(|doc| doc.packages.iter().map(|package| package.name.as_str())).collect();
    let missing: Vec<&str> =
        fixture.packages.iter().map(|package| package.name.as_str()).filter(|name| !read.contains(name)).collect();
    assert!(missing.is_empty(), "packages not read: {missing:?}");
    let sboms: Vec<&ArtifactDoc> = all.iter().filter(|doc| !doc.packages.is_empty()).collect();
    assert!(sboms.len() >= 2, "several SBOMs carry packages");
    assert!(sboms.iter().all(|doc| doc.describes.contains(&artifact_key(
        "local",
        &doc.repository,
        doc.refers_to.as_deref().unwrap()
    ))));

    // pkg: finds exactly what the SBOMs listing the package describe.
    let name = fixture.packages.iter().find(|package| package.purl.is_some()).unwrap().name.to_lowercase();
    let expected: BTreeSet<String> = sboms
        .iter()
        .filter(|doc| doc.packages.iter().any(|package| package.name.to_lowercase() == name))
        .flat_map(|doc| doc.describes.iter().cloned())
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(keys(&catalog, &format!("pkg:{name}")), expected, "pkg:{name}");

    // cve: finds exactly what the scans reporting the advisory describe.
    let scans: Vec<&ArtifactDoc> = all.iter().filter(|doc| !doc.findings.is_empty()).collect();
    assert!(!scans.is_empty(), "the seed's scans were read");
    let id = scans[0].findings[0].id.clone();
    let expected: BTreeSet<String> = scans
        .iter()
        .filter(|doc| doc.findings.iter().any(|finding| finding.id.eq_ignore_ascii_case(&id)))
        .flat_map(|doc| doc.describes.iter().cloned())
        .collect();
    assert_eq!(keys(&catalog, &format!("cve:{id}")), expected, "cve:{id}");
}
