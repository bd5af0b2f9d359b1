//! Impact through the real router against distribution: an advisory of the seed's real Trivy
//! report finds the image it was attached to, with the scan as its source; a package listed by
//! an SPDX and a CycloneDX SBOM of one image is one match with both sources; a reader scoped to
//! `demo/**` counts only what they may read; CSV is a download whose cells never start a
//! formula; the latest-tag toggle keeps each repository's newest build; queries without an
//! impact clause are refused.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::access::{Credential, request, session_with_csrf};
use crate::util::{LOCAL, TestApp};

const PASSWORD: &str = "correct horse battery staple";

fn section() -> String {
    let hash = ocicat_access::hash_password(PASSWORD).expect("hash");
    let user = |name: &str, role: &str, repositories: &str| {
        format!(
            "[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"{role}\", registry = \"{LOCAL}\", repositories = \"{repositories}\" }}]\n\n"
        )
    };
    format!("anonymous = []\n\n{}{}", user("ada", "admin", "**"), user("bob", "viewer", "demo/**"))
}

async fn session(app: &TestApp, user: &str) -> (Credential, String) {
    session_with_csrf(app, user, PASSWORD).await
}

fn impact_path(query: &str, extra: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    format!("/api/v1/impact?q={encoded}{extra}")
}

async fn attach_sbom(
    app: &TestApp,
    who: &(Credential, String),
    repository: &str,
    digest: &str,
    media_type: &str,
    document: Value,
) {
    use base64::Engine as _;
    let path = format!("/api/v1/registries/{LOCAL}/repositories/{repository}/@{digest}/attachments");
    let body = json!({"document": {"media_type": media_type, "content_base64":
        base64::engine::general_purpose::STANDARD.encode(document.to_string())}});
    let mut built = request("POST", &path, &who.0, Some(("application/json", body.to_string())));
    built.headers_mut().insert("x-csrf-token", who.1.parse().unwrap());
    let answered = app.send(built).await;
    assert_eq!(answered.status, StatusCode::CREATED, "{}", answered.body);
}

fn spdx(package: &str, version: &str) -> Value {
    json!({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "t", "dataLicense": "CC0-1.0",
        "documentNamespace": format!("https://example.com/{package}"),
        "creationInfo": {"created": "2026-12-01T00:00:00Z", "creators": ["Tool: syft-1.18.0"]},
        "packages": [{"SPDXID": "SPDXRef-p", "name": package, "versionInfo": version, "licenseConcluded": "=cmd|' /C calc'!A0",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                "referenceLocator": format!("pkg:deb/debian/{package}@{version}")}]},
            {"SPDXID": "SPDXRef-q", "name": format!("-{package}-tools"), "versionInfo": "=SUM(1)"}],
    })
}

fn cyclonedx(package: &str, version: &str) -> Value {
    json!({
        "bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
        "metadata": {"timestamp": "2026-12-02T00:00:00Z", "tools": {"components": [{"name": "trivy", "version": "0.58.0"}]}},
        "components": [{"type": "library", "name": package, "version": version,
            "purl": format!("pkg:deb/debian/{package}@{version}")}],
    })
}

#[tokio::test]
async fn impact_answers_from_every_sbom_and_scan_within_what_the_reader_may_read() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let (ada, bob) = (session(&app, "ada").await, session(&app, "bob").await);
    let tagged = |item: &&ocicat_seed::Seeded| {
        item.reference.as_deref().is_some_and(|tag| !tag.starts_with("sha256-"))
            && ["image", "index", "wasm", "helm"].iter().any(|kind| *kind == item.kind)
    };
    let demo = app.report.items.iter().filter(tagged).find(|item| item.repository.starts_with("demo/")).unwrap();
    let other = app.report.items.iter().filter(tagged).find(|item| !item.repository.starts_with("demo/")).unwrap();
    // One image gets an SPDX and a CycloneDX SBOM naming the same package; another one SBOM.
    attach_sbom(&app, &ada, &demo.repository, &demo.digest, "application/spdx+json", spdx("libimpact", "1.2.3-1"))
        .await;
    attach_sbom(
        &app,
        &ada,
        &demo.repository,
        &demo.digest,
        "application/vnd.cyclonedx+json",
        cyclonedx("libimpact", "1.2.3-1"),
    )
    .await;
    attach_sbom(&app, &ada, &other.repository, &other.digest, "application/spdx+json", spdx("libimpact", "1.2.4-1"))
        .await;
    app.recrawl().await;

    let seen = app.send(request("GET", &impact_path("pkg:libimpact", ""), &ada.0, None)).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    let seen = seen.json();
    assert_eq!((seen["artifacts"].as_u64(), seen["repositories"].as_u64()), (Some(2), Some(2)), "{seen:#}");
    let rows: Vec<&Value> =
        seen["groups"].as_array().unwrap().iter().flat_map(|group| group["rows"].as_array().unwrap()).collect();
    let demo_row = rows.iter().find(|row| row["digest"] == json!(demo.digest)).expect("the demo image");
    let matches = demo_row["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "one package, however many SBOMs say so: {matches:#?}");
    assert_eq!((&matches[0]["version"], &matches[0]["ecosystem"]), (&json!("1.2.3-1"), &json!("deb")));
    let producers: Vec<&str> =
        matches[0]["sources"].as_array().unwrap().iter().filter_map(|source| source["producer"].as_str()).collect();
    assert_eq!(matches[0]["sources"].as_array().unwrap().len(), 2, "{matches:#?}");
    assert!(
        producers.iter().any(|p| p.contains("syft")) && producers.iter().any(|p| p.contains("trivy")),
        "{producers:?}"
    );

    // Version ranges in Debian's order, and a scoped reader's counts.
    let older = app.send(request("GET", &impact_path("pkg:libimpact version < 1.2.4", ""), &ada.0, None)).await.json();
    assert_eq!(older["artifacts"], 1, "{older:#}");
    let scoped = app.send(request("GET", &impact_path("pkg:libimpact", ""), &bob.0, None)).await.json();
    assert_eq!((scoped["artifacts"].as_u64(), scoped["registries"].as_u64()), (Some(1), Some(1)), "{scoped:#}");
    assert_eq!(scoped["groups"][0]["repository"], json!(demo.repository));

    // The seed's real Trivy report: its first advisory finds the image it is attached to.
    let scan =
        app.report.items.iter().find(|item| item.kind == "scan" && item.subject.is_some()).expect("a seeded scan");
    let report = app
        .send(request(
            "GET",
            &format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/contents", scan.repository, scan.digest),
            &ada.0,
            None,
        ))
        .await
        .json();
    let advisory =
        report["body"]["Scan"]["findings"][0]["id"].as_str().unwrap_or_else(|| panic!("{report:#}")).to_owned();
    let found = app.send(request("GET", &impact_path(&format!("cve:{advisory}"), ""), &ada.0, None)).await.json();
    let rows: Vec<&Value> =
        found["groups"].as_array().unwrap().iter().flat_map(|group| group["rows"].as_array().unwrap()).collect();
    let subject = rows
        .iter()
        .find(|row| Some(row["digest"].as_str().unwrap()) == scan.subject.as_deref())
        .expect("the scanned image");
    let first = &subject["matches"][0];
    assert_eq!(first["advisory"].as_str().map(str::to_uppercase), Some(advisory.to_uppercase()));
    assert!(
        first["sources"].as_array().unwrap().iter().any(|source| source["digest"] == json!(scan.digest)),
        "{first:#}"
    );

    // CSV: a download, a header, one line per artifact and match, no cell a formula.
    let csv = app.send(request("GET", &impact_path("pkg:*impact*", "&format=csv"), &ada.0, None)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].starts_with("registry,repository,digest,tags,created,package"), "{}", csv.body);
    assert_eq!(lines.len(), 5, "two packages on each of two artifacts: {}", csv.body);
    assert!(csv.body.contains(",'-libimpact-tools,'=SUM(1),"), "{}", csv.body);
    assert!(lines.iter().all(|line| !line.contains(",=") && !line.contains(",-")), "{}", csv.body);

    // Latest only: each repository's newest tagged build, or nothing from it.
    let latest = app.send(request("GET", &impact_path("pkg:libimpact", "&latest=true"), &ada.0, None)).await.json();
    let rows: Vec<&Value> =
        latest["groups"].as_array().unwrap().iter().flat_map(|group| group["rows"].as_array().unwrap()).collect();
    assert!(rows.iter().all(|row| row["latest"] == true), "{latest:#}");

    // Orders: newest affected build first (each group's first row is its newest), or refused.
    let newest = app.send(request("GET", &impact_path("pkg:*impact*", "&sort=newest"), &ada.0, None)).await.json();
    assert_eq!(newest["sort"], "newest", "{newest:#}");
    let firsts: Vec<String> = newest["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["rows"][0]["created"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(firsts.len() == 2 && firsts.windows(2).all(|pair| pair[0] >= pair[1]), "{firsts:?}");
    let bogus = app.send(request("GET", &impact_path("pkg:libimpact", "&sort=size"), &ada.0, None)).await;
    assert_eq!(bogus.status, StatusCode::BAD_REQUEST, "{}", bogus.body);
    assert!(bogus.body.contains("repository, newest or affected"), "{}", bogus.body);

    let refused = app.send(request("GET", &impact_path("kind:image", ""), &ada.0, None)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    let page = app.send(request("GET", &format!("/impact?q={}", "pkg%3Alibimpact"), &bob.0, None)).await;
    assert!(
        page.body.contains("libimpact") && page.body.contains("id=\"impact-counts\""),
        "the page renders on the server"
    );
}

fn trivy(findings: &[(&str, &str, &str)]) -> Value {
    let vulnerabilities: Vec<Value> = findings
        .iter()
        .map(|(id, package, installed)| {
            json!({"VulnerabilityID": id, "PkgName": package, "InstalledVersion": installed,
                "FixedVersion": "9.9", "Severity": "HIGH"})
        })
        .collect();
    json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Target": "t", "Vulnerabilities": vulnerabilities}]})
}

async fn attach_scan(app: &TestApp, who: &(Credential, String), repository: &str, digest: &str, report: Value) {
    use base64::Engine as _;
    let path = format!("/api/v1/registries/{LOCAL}/repositories/{repository}/@{digest}/attachments");
    let body = json!({"artifact_type": "application/vnd.aquasec.trivy.report+json", "document": {"media_type": "application/json",
        "content_base64": base64::engine::general_purpose::STANDARD.encode(report.to_string())}});
    let mut built = request("POST", &path, &who.0, Some(("application/json", body.to_string())));
    built.headers_mut().insert("x-csrf-token", who.1.parse().unwrap());
    let answered = app.send(built).await;
    assert_eq!(answered.status, StatusCode::CREATED, "{}", answered.body);
}

#[tokio::test]
async fn a_diff_shows_packages_and_findings_that_changed_since_the_previous_build() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let ada = session(&app, "ada").await;
    let repository = "demo/app";
    let tags = app
        .send(request(
            "GET",
            &format!("/api/v1/registries/{LOCAL}/repositories/{repository}/-/tags?sort=newest"),
            &ada.0,
            None,
        ))
        .await
        .json();
    let rows = tags["rows"].as_array().unwrap_or_else(|| panic!("{tags:#}"));
    let newest = rows[0]["digest"].as_str().unwrap().to_owned();
    let previous =
        rows.iter().map(|row| row["digest"].as_str().unwrap()).find(|digest| *digest != newest).unwrap().to_owned();
    let sbom = |packages: &[(&str, &str, &str)]| {
        let listed: Vec<Value> = packages
            .iter()
            .enumerate()
            .map(|(n, (name, version, license))| json!({"SPDXID": format!("SPDXRef-{n}"), "name": name, "versionInfo": version,
                "licenseConcluded": license, "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                "referenceLocator": format!("pkg:deb/debian/{name}@{version}")}]}))
            .collect();
        json!({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "d", "dataLicense": "CC0-1.0",
            "documentNamespace": format!("https://example.com/{}", packages.len()),
            "creationInfo": {"created": "2026-12-01T00:00:00Z", "creators": ["Tool: syft-1.18.0"]}, "packages": listed})
    };
    let old_sbom = sbom(&[
        ("libdiff", "1.2.3-1", "Apache-2.0"),
        ("gone", "1.0", "MIT"),
        ("same", "1:2.0", "MIT"),
        ("relicensed", "3.0", "GPL-2.0-only"),
    ]);
    let new_sbom = sbom(&[
        ("libdiff", "1.2.10-1", "Apache-2.0"),
        ("fresh", "2.0", "MIT"),
        ("same", "1:2.0", "MIT"),
        ("relicensed", "3.0", "MIT"),
    ]);
    attach_sbom(&app, &ada, repository, &previous, "application/spdx+json", old_sbom).await;
    attach_sbom(&app, &ada, repository, &newest, "application/spdx+json", new_sbom).await;
    attach_scan(
        &app,
        &ada,
        repository,
        &previous,
        trivy(&[("CVE-2020-0001", "gone", "1.0"), ("CVE-2020-0002", "libdiff", "1.2.3-1")]),
    )
    .await;
    attach_scan(
        &app,
        &ada,
        repository,
        &newest,
        trivy(&[("CVE-2020-0002", "libdiff", "1.2.10-1"), ("CVE-2020-0003", "fresh", "2.0")]),
    )
    .await;
    app.recrawl().await;

    // Without `a`, the tagged build before the newest one stands in.
    let b: String = url::form_urlencoded::byte_serialize(format!("{LOCAL}/{repository}@{newest}").as_bytes()).collect();
    let diff = app.send(request("GET", &format!("/api/v1/diff?b={b}"), &ada.0, None)).await;
    assert_eq!(diff.status, StatusCode::OK, "{}", diff.body);
    let diff = diff.json();
    assert_eq!(diff["a"]["digest"], json!(previous), "{diff:#}");
    let names = |list: &str| -> Vec<String> {
        diff[list].as_array().unwrap().iter().map(|change| change["name"].as_str().unwrap().to_owned()).collect()
    };
    assert!(names("added").contains(&"fresh".to_owned()), "{diff:#}");
    assert!(names("removed").contains(&"gone".to_owned()));
    assert!(names("upgraded").contains(&"libdiff".to_owned()), "1.2.10-1 is newer than 1.2.3-1 in Debian's order");
    assert_eq!(names("relicensed"), ["relicensed"]);
    assert!(names("downgraded").is_empty());
    let advisories = |list: &str| -> Vec<String> {
        diff[list].as_array().unwrap().iter().map(|change| change["advisory"].as_str().unwrap().to_owned()).collect()
    };
    // The seed's own scans of the newest build add their findings; ours are told apart.
    let (fixed, introduced) = (advisories("fixed"), advisories("introduced"));
    assert!(
        fixed.contains(&"CVE-2020-0001".to_owned()) && introduced.contains(&"CVE-2020-0003".to_owned()),
        "{diff:#}"
    );
    assert!(
        !fixed.contains(&"CVE-2020-0002".to_owned()) && !introduced.contains(&"CVE-2020-0002".to_owned()),
        "in both"
    );
    let page = app.send(request("GET", &format!("/diff?b={b}"), &ada.0, None)).await;
    assert!(
        page.body.contains("id=\"diff-summary\"") && page.body.contains("CVE-2020-0003"),
        "the page renders on the server"
    );
    let refused = app.send(request("GET", "/api/v1/diff?b=nonsense", &ada.0, None)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
}
