//! Impact clauses on a real index: packages of attached SBOMs and findings of attached scans,
//! joined to the artifacts they describe (and the index listing an image), with version ranges
//! in each ecosystem's order, purls, licences, advisories, fixes, the other clauses beside
//! them, and a scoped reader who sees nothing of what they may not read.

use chrono::{TimeZone, Utc};
use ocicat_catalog::impact::{FindingFact, PackageFact};
use ocicat_catalog::{
    ArtifactDoc, ArtifactKind, ChildRef, RepositoryDoc, Scope, ScopePattern, SearchSort, WriterConfig,
};

fn digest(seed: u8) -> String {
    format!("sha256:{}", format!("{seed:02x}").repeat(32))
}

fn image(repository: &str, seed: u8, tag: &str) -> ArtifactDoc {
    ArtifactDoc {
        tags: vec![tag.to_owned()],
        kind: ArtifactKind::Image,
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        created: Some(Utc.with_ymd_and_hms(2025, 1, seed as u32 % 28 + 1, 0, 0, 0).unwrap()),
        manifest_size: 2,
        ..ArtifactDoc::new("prod", repository, digest(seed))
    }
}

fn package(name: &str, version: &str, purl_type: &str, license: &str) -> PackageFact {
    PackageFact {
        name: name.into(),
        version: Some(version.into()),
        ecosystem: Some(purl_type.into()),
        purl: Some(format!("pkg:{purl_type}/{name}")),
        licenses: vec![license.into()],
    }
}

/// An SBOM of `subject` listing `packages`, describing `describes` (keys).
fn sbom(
    repository: &str,
    seed: u8,
    subject: &ArtifactDoc,
    packages: Vec<PackageFact>,
    also: &[&ArtifactDoc],
) -> ArtifactDoc {
    let mut describes = vec![ocicat_catalog::artifact_key("prod", repository, &subject.digest)];
    describes.extend(also.iter().map(|parent| ocicat_catalog::artifact_key("prod", repository, &parent.digest)));
    ArtifactDoc {
        kind: ArtifactKind::Sbom,
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        subject: Some(subject.digest.clone()),
        refers_to: Some(subject.digest.clone()),
        manifest_size: 2,
        packages,
        describes,
        ..ArtifactDoc::new("prod", repository, digest(seed))
    }
}

fn summary(repository: &str) -> RepositoryDoc {
    RepositoryDoc {
        registry: "prod".into(),
        repository: repository.into(),
        tag_count: 1,
        artifact_count: 1,
        size: 1,
        last_push: None,
        crawled_at: None,
        incomplete: Vec::new(),
    }
}

fn found(catalog: &ocicat_catalog::Catalog, scope: &Scope, query: &str) -> Vec<String> {
    let results = catalog
        .search_scoped(scope, query, SearchSort::Name, 0, 50, Utc::now())
        .unwrap_or_else(|error| panic!("{query}: {error:?}"));
    let mut tags: Vec<String> = results.items.iter().map(|item| item.tags.join(",")).collect();
    tags.sort();
    tags
}

#[tokio::test]
async fn packages_and_findings_find_what_they_describe() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    // web: an index over an amd64 image whose SBOM lists Debian's openssl with an epoch and a
    // tilde; api: Alpine's openssl and log4j; old: a scan that reports CVE-2024-3094 with a fix.
    let web_image = image("web", 1, "amd64-1.0");
    let mut web_index = image("web", 2, "1.0");
    web_index.kind = ArtifactKind::Index;
    web_index.children = vec![ChildRef {
        media_type: web_image.media_type.clone(),
        digest: web_image.digest.clone(),
        size: 1,
        platform: Some("linux/amd64".into()),
        attests: None,
        annotations: Default::default(),
    }];
    let web_sbom = sbom(
        "web",
        3,
        &web_image,
        vec![package("openssl", "1:3.0.11-1~deb12u2", "deb", "Apache-2.0"), package("zlib", "1.2.13", "deb", "Zlib")],
        &[&web_index],
    );
    let api = image("api", 4, "2.0");
    let api_sbom = sbom(
        "api",
        5,
        &api,
        vec![
            package("openssl", "3.0.13-r0", "apk", "Apache-2.0"),
            package("log4j-core", "2.16.0", "maven", "Apache-2.0"),
            package("readline", "8.2", "apk", "GPL-3.0-or-later"),
        ],
        &[],
    );
    let old = image("old", 6, "0.9");
    let mut scan = sbom("old", 7, &old, Vec::new(), &[]);
    scan.kind = ArtifactKind::Scan;
    scan.findings = vec![FindingFact {
        id: "CVE-2024-3094".into(),
        package: "xz-utils".into(),
        installed: Some("5.6.0".into()),
        fixed: Some("5.6.1".into()),
        severity: "critical".into(),
        aliases: vec!["GHSA-rxwq-x6h5-x525".into()],
    }];
    writer.upsert_repository(summary("web"), vec![web_image, web_index, web_sbom], vec![]).await.unwrap();
    writer.upsert_repository(summary("api"), vec![api, api_sbom], vec![]).await.unwrap();
    writer.upsert_repository(summary("old"), vec![old, scan], vec![]).await.unwrap();
    writer.flush().await.unwrap();
    let everyone = Scope::all();

    assert_eq!(found(&catalog, &everyone, "pkg:openssl"), ["1.0", "2.0", "amd64-1.0"], "the image and its index");
    assert_eq!(found(&catalog, &everyone, "pkg:OpenSSL kind:image"), ["2.0", "amd64-1.0"]);
    // Debian orders the epoch first: 1:3.0.11 is newer than 3.0.13; Alpine's 3.0.13-r0 is not older.
    assert_eq!(found(&catalog, &everyone, "pkg:openssl version < 3.0.13"), Vec::<String>::new());
    assert_eq!(found(&catalog, &everyone, "pkg:openssl version >= 3.0.13 repo:api"), ["2.0"]);
    assert_eq!(found(&catalog, &everyone, "pkg:openssl version > \"1:3.0.11-1~deb12u2\""), ["2.0"]);
    assert_eq!(found(&catalog, &everyone, "pkg:log4j-core version < 2.17.1"), ["2.0"]);
    assert_eq!(found(&catalog, &everyone, "pkg:log4j-core version < 2.16.0"), Vec::<String>::new());
    assert_eq!(found(&catalog, &everyone, "pkg:\"pkg:deb/openssl\""), ["1.0", "amd64-1.0"]);
    assert_eq!(found(&catalog, &everyone, "license:GPL-3.0*"), ["2.0"]);
    assert_eq!(found(&catalog, &everyone, "pkg:zlib OR cve:CVE-2024-3094"), ["0.9", "1.0", "amd64-1.0"]);
    assert_eq!(found(&catalog, &everyone, "cve:cve-2024-3094 fixable:true"), ["0.9"]);
    assert_eq!(found(&catalog, &everyone, "cve:GHSA-rxwq-x6h5-x525"), ["0.9"], "an alias finds it");
    assert_eq!(found(&catalog, &everyone, "fixable:false"), Vec::<String>::new());
    assert_eq!(found(&catalog, &everyone, "pkg:openssl NOT repo:web"), ["2.0"]);
    assert_eq!(found(&catalog, &everyone, "NOT pkg:openssl kind:image"), ["0.9"]);

    // A reader of web alone sees web's artifacts, and what api's SBOM says stays unsaid.
    let web_only = Scope::only(vec![ScopePattern { registry: "prod".into(), repository: "web".into() }]);
    assert_eq!(found(&catalog, &web_only, "pkg:openssl"), ["1.0", "amd64-1.0"]);
    assert_eq!(found(&catalog, &web_only, "pkg:log4j-core"), Vec::<String>::new());

    for (query, expected) in [
        ("version < 1.0", "a version compares the package beside it"),
        ("pkg:open* version < 1.0", "a version compares the package beside it"),
        ("pkg > openssl", "matched with ':'"),
        ("fixable:maybe", "not true or false"),
    ] {
        let error = catalog.search(query, SearchSort::Name, 0, 10, Utc::now()).err().expect(query);
        assert!(format!("{error:?}").contains(expected), "{query}: {error:?}");
    }
}

/// The facts of an SBOM are written once when it is read: a rewrite of its document (a new
/// tag, a summary) keeps them, its removal takes them, and they read back whole or as the
/// evidence a query is about.
#[tokio::test]
async fn facts_outlive_rewrites_and_go_with_their_artifact() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let app = image("app", 1, "1.0");
    let mut babel = package("@babel/core", "7.24.0", "npm", "MIT");
    babel.purl = Some("pkg:npm/%40babel/core".into());
    let listed =
        vec![babel.clone(), package("Jinja2", "3.1.4", "pypi", "BSD-3-Clause"), package("zlib", "1.3", "deb", "Zlib")];
    let read = sbom("app", 2, &app, listed.clone(), &[]);
    let mut scan = sbom("app", 3, &app, Vec::new(), &[]);
    scan.kind = ArtifactKind::Scan;
    let finding = FindingFact {
        id: "CVE-2024-3094".into(),
        package: "xz-utils".into(),
        installed: Some("5.6.0".into()),
        fixed: None,
        severity: "critical".into(),
        aliases: vec!["GHSA-rxwq-x6h5-x525".into()],
    };
    scan.findings = vec![finding.clone()];
    writer.upsert_repository(summary("app"), vec![app.clone(), read.clone(), scan.clone()], vec![]).await.unwrap();
    writer.flush().await.unwrap();
    let key = ocicat_catalog::artifact_key("prod", "app", &app.digest);
    assert_eq!(found(&catalog, &Scope::all(), "pkg:\"pkg:npm/%40babel/core@7.24.0\""), ["1.0"], "a scoped npm purl");
    assert_eq!(found(&catalog, &Scope::all(), "pkg:jinja2"), ["1.0"]);

    // Read back whole, in the SBOM's own case and order of the index (by name).
    let whole = catalog.describing(std::slice::from_ref(&key), None).unwrap();
    let sbom_doc = whole.iter().find(|doc| doc.kind == ArtifactKind::Sbom).unwrap();
    let mut expected = listed.clone();
    expected.sort_by_key(|package| package.name.to_lowercase());
    assert_eq!(sbom_doc.packages, expected);
    let scan_doc = whole.iter().find(|doc| doc.kind == ArtifactKind::Scan).unwrap();
    assert_eq!(scan_doc.findings, vec![finding.clone()], "the alias term folds into its finding");

    // Only the evidence a query is about.
    let about = ocicat_catalog::impact::Predicate::of("license:bsd*");
    let evidence = catalog.describing(std::slice::from_ref(&key), Some(&about)).unwrap();
    let names: Vec<&str> = evidence.iter().flat_map(|doc| doc.packages.iter().map(|p| p.name.as_str())).collect();
    assert_eq!(names, ["Jinja2"]);
    assert!(evidence.iter().all(|doc| doc.findings.is_empty()));
    let about = ocicat_catalog::impact::Predicate::of("cve:GHSA-rxwq-*");
    let evidence = catalog.describing(std::slice::from_ref(&key), Some(&about)).unwrap();
    let ids: Vec<&str> = evidence.iter().flat_map(|doc| doc.findings.iter().map(|f| f.id.as_str())).collect();
    assert_eq!(ids, ["CVE-2024-3094"], "found by its alias, named by its id");

    // A rewrite without the facts (the crawler's carried document, newly tagged) keeps them.
    let mut carried = catalog.artifacts_in_repository("prod", "app").unwrap();
    for document in &mut carried {
        assert!(document.packages.is_empty() && document.findings.is_empty(), "facts are not stored");
        document.tags.push("retagged".into());
    }
    writer.upsert_repository(summary("app"), carried, vec![]).await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(found(&catalog, &Scope::all(), "pkg:zlib"), ["1.0,retagged"]);
    assert_eq!(found(&catalog, &Scope::all(), "cve:CVE-2024-3094"), ["1.0,retagged"]);

    // Read again with fewer packages: the new list replaces the old one.
    let mut reread = read.clone();
    reread.packages = vec![package("zlib", "1.3.1", "deb", "Zlib")];
    writer.upsert_repository(summary("app"), vec![reread], vec![]).await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(found(&catalog, &Scope::all(), "pkg:jinja2"), Vec::<String>::new());
    assert_eq!(found(&catalog, &Scope::all(), "pkg:zlib version > 1.3"), ["1.0,retagged"]);

    // The SBOM removed: its facts go with it; the scan's stay.
    writer.remove_artifacts("prod", "app", vec![read.digest.clone()]).await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(found(&catalog, &Scope::all(), "pkg:zlib"), Vec::<String>::new());
    assert_eq!(found(&catalog, &Scope::all(), "cve:CVE-2024-3094"), ["1.0,retagged"]);
    assert_eq!(catalog.registry_counts("prod").unwrap().artifacts, 2, "facts documents are not artifacts");
}

/// A change carries the facts a stored document leaves out: applied from its JSON to another
/// index (as a replica applies the change log), it answers the same impact queries.
#[tokio::test]
async fn changes_carry_facts_to_another_index() {
    let app = image("app", 1, "1.0");
    let read = sbom("app", 2, &app, vec![package("zlib", "1.3", "deb", "Zlib")], &[]);
    let mut scan = sbom("app", 3, &app, Vec::new(), &[]);
    scan.kind = ArtifactKind::Scan;
    scan.findings = vec![FindingFact {
        id: "CVE-2023-45853".into(),
        package: "zlib".into(),
        installed: Some("1.3".into()),
        fixed: None,
        severity: "critical".into(),
        aliases: vec![],
    }];
    let changes = vec![
        ocicat_catalog::Change::UpsertRepository {
            repository: summary("app"),
            changed: vec![app.clone(), read.clone(), scan],
            removed: vec![],
        },
        ocicat_catalog::Change::RemoveArtifacts {
            registry: "prod".into(),
            repository: "app".into(),
            digests: vec!["sha256:gone".into()],
        },
    ];
    let text: Vec<String> = changes.iter().map(|change| serde_json::to_string(change).unwrap()).collect();
    assert!(text[0].contains("\"op\":\"upsert_repository\"") && text[0].contains("\"packages\""), "{}", text[0]);
    let (replica, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    for line in &text {
        let change: ocicat_catalog::Change = serde_json::from_str(line).unwrap();
        writer.apply(change).await.unwrap();
    }
    writer.flush().await.unwrap();
    assert_eq!(found(&replica, &Scope::all(), "pkg:zlib version < 1.3.1"), ["1.0"]);
    assert_eq!(found(&replica, &Scope::all(), "cve:CVE-2023-45853 fixable:false"), ["1.0"]);
    let key = ocicat_catalog::artifact_key("prod", "app", &app.digest);
    let facts = replica.describing(&[key], None).unwrap();
    assert_eq!(facts.iter().map(|doc| doc.packages.len() + doc.findings.len()).sum::<usize>(), 2);
    let back: ocicat_catalog::Change = serde_json::from_str(&text[0]).unwrap();
    assert_eq!(back, changes[0], "a change reads back as it was written, facts and all");
}
