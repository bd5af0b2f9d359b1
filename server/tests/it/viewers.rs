//! The document viewers on the seeded referrers (PRODUCT 14–16): SPDX and CycloneDX packages
//! filtered, sorted and paged; Trivy, SARIF and the cosign vulnerability attestation with the
//! same findings and a comparison; notation, cosign and sigstore-bundle signers; in-toto
//! attestations. Then hostile documents (SECURITY S12–S14): markup and `javascript:` links in
//! an SBOM, a 10 MB single-line field, a gzip bomb, and an SBOM the registry calls `text/html`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::util::{LOCAL, TestApp, fully_attached_subject};

/// The contents JSON of the referrer `digest` of `repository`, with `query` (`a=b&c=d`).
async fn contents(app: &TestApp, repository: &str, digest: &str, query: &str) -> Value {
    app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{repository}/@{digest}/contents?{query}")).await
}

/// The seeded referrers of the fully attached image whose artifact type is `artifact_type`.
fn referrers_typed(app: &TestApp, artifact_type: &str) -> Vec<(String, String)> {
    let subject = fully_attached_subject(&app.report);
    app.report
        .items
        .iter()
        .filter(|item| item.subject.as_deref() == Some(subject.digest.as_str()))
        .filter(|item| {
            let artifact = app.catalog.artifact(LOCAL, &item.repository, &item.digest).unwrap().expect("indexed");
            artifact.artifact_type.as_deref() == Some(artifact_type)
        })
        .map(|item| (item.repository.clone(), item.digest.clone()))
        .collect()
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/../crates/seed/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

fn names(rows: &Value) -> Vec<String> {
    rows.as_array().unwrap().iter().map(|row| row["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn an_spdx_sbom_is_a_package_table_filtered_sorted_and_paged() {
    let app = TestApp::start().await;
    let (repository, digest) = referrers_typed(&app, "application/spdx+json").remove(0);
    let document = fixture("sbom-debian-skopeo.spdx.json");
    let total = document["packages"].as_array().unwrap().len() as u64;
    assert!(total > 50, "the fixture needs two pages: {total}");

    let first = contents(&app, &repository, &digest, "").await;
    let sbom = &first["body"]["Sbom"];
    assert_eq!(sbom["format"], "SPDX 2.3", "{first:#}");
    assert_eq!(sbom["package_total"], total);
    assert_eq!(sbom["generators"], json!(["distro2sbom-0.6.0"]), "the SPDX `Tool: ` prefix is dropped");
    assert_eq!(sbom["packages"].as_array().unwrap().len(), 50);
    assert_eq!(sbom["pages"], 2);
    let listed = names(&sbom["packages"]);
    let mut sorted = listed.clone();
    sorted.sort_by_key(|name| name.to_lowercase());
    assert_eq!(listed, sorted, "name order by default");
    let licensed: u64 = sbom["licenses"].as_array().unwrap().iter().map(|share| share["count"].as_u64().unwrap()).sum();
    assert_eq!(licensed, total, "every package is in the license breakdown");
    assert!(first["layers"][0]["download"].as_str().unwrap().starts_with("/content/"));

    let second = contents(&app, &repository, &digest, "page=1").await;
    assert_eq!(second["body"]["Sbom"]["packages"].as_array().unwrap().len() as u64, total - 50);

    let zlib = contents(&app, &repository, &digest, "q=zlib1g").await;
    let rows = &zlib["body"]["Sbom"]["packages"];
    let row = rows.as_array().unwrap().iter().find(|row| row["name"] == "zlib1g").expect("zlib1g is listed");
    assert_eq!(row["version"], "1:1.2.13.dfsg-1");
    assert_eq!(row["license"], "Zlib");
    assert_eq!(row["purl"], "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64");
    assert_eq!(row["supplier"], "Mark Brown (broonie@debian.org)", "the SPDX prefix is dropped");
    assert_eq!(row["homepage"], "http://zlib.net/");
    assert!(zlib["body"]["Sbom"]["matching"].as_u64().unwrap() < total);

    let by_license = contents(&app, &repository, &digest, "sort=license").await;
    let licenses: Vec<String> = by_license["body"]["Sbom"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["license"].as_str().map(str::to_lowercase))
        .collect();
    assert!(licenses.windows(2).all(|pair| pair[0] <= pair[1]), "{licenses:?}");

    let page = app.get_page(&format!("/r/{LOCAL}/{repository}/@{digest}?q=zlib1g")).await;
    assert!(page.contains("zlib1g") && page.contains("Download the original"), "{page}");
    assert!(page.contains(&format!("href=\"/content/{LOCAL}/{repository}/@{digest}/blobs/")), "{page}");
}

/// Components of a CycloneDX document, nested ones included.
fn component_count(components: &Value) -> u64 {
    components
        .as_array()
        .map_or(0, |list| list.iter().map(|component| 1 + component_count(&component["components"])).sum())
}

#[tokio::test]
async fn a_cyclonedx_sbom_lists_every_component_with_licenses_and_dependencies() {
    let app = TestApp::start().await;
    let (repository, digest) = referrers_typed(&app, "application/vnd.cyclonedx+json").remove(0);
    let document = fixture("sbom-python.cdx.json");
    let viewed = contents(&app, &repository, &digest, "q=cyclonedx-python-lib").await;
    let sbom = &viewed["body"]["Sbom"];
    assert_eq!(sbom["format"], "CycloneDX 1.6", "{viewed:#}");
    assert_eq!(sbom["package_total"], component_count(&document["components"]));
    let row = sbom["packages"].as_array().unwrap().iter().find(|row| row["name"] == "cyclonedx-python-lib");
    let row = row.unwrap_or_else(|| panic!("{viewed:#}"));
    let expected =
        document["components"].as_array().unwrap().iter().find(|c| c["name"] == "cyclonedx-python-lib").unwrap();
    assert_eq!(row["version"], expected["version"]);
    assert_eq!(row["purl"], expected["purl"]);
    assert!(sbom["relation_total"].as_u64().unwrap() > 0, "the fixture has dependencies");
    assert!(!row["depends_on"].as_array().unwrap().is_empty(), "the library depends on others: {row:#}");
}

#[tokio::test]
async fn trivy_sarif_and_the_vulnerability_attestation_report_the_same_findings() {
    let app = TestApp::start().await;
    let trivy = referrers_typed(&app, "application/vnd.aquasec.trivy.report+json");
    let sarif = referrers_typed(&app, "application/sarif+json");
    let (repository, trivy) = trivy.first().cloned().expect("a trivy report");
    let (_, sarif) = sarif.first().cloned().expect("a sarif log");
    let viewed = contents(&app, &repository, &trivy, "").await;
    let scan = &viewed["body"]["Scan"];
    assert_eq!(scan["format"], "Trivy JSON", "{viewed:#}");
    let counts = &scan["counts"];
    let total: u64 =
        ["critical", "high", "medium", "low", "unknown"].iter().map(|key| counts[key].as_u64().unwrap()).sum();
    assert!(counts["critical"].as_u64().unwrap() >= 1 && total >= 5, "{counts:#}");
    let first = &scan["findings"][0];
    assert_eq!(first["severity"], "critical", "severity order: {scan:#}");
    assert!(first["link"].as_str().unwrap().starts_with("https://"), "{first:#}");
    assert!(first["installed"].is_string(), "{first:#}");

    let critical = contents(&app, &repository, &trivy, "severity=critical").await;
    let rows = critical["body"]["Scan"]["findings"].as_array().unwrap().clone();
    assert_eq!(rows.len() as u64, counts["critical"].as_u64().unwrap());
    assert!(rows.iter().all(|row| row["severity"] == "critical"));
    let fixable = contents(&app, &repository, &trivy, "fixed=1").await;
    let rows = fixable["body"]["Scan"]["findings"].as_array().unwrap().clone();
    assert_eq!(rows.len() as u64, scan["fixable"].as_u64().unwrap());
    assert!(rows.iter().all(|row| row["fixed"].as_str().is_some_and(|fixed| !fixed.is_empty())));

    // Every scan of the image is listed newest first, the attestation included.
    let scans = scan["scans"].as_array().unwrap();
    assert!(scans.len() >= 3, "trivy, sarif and the vulnerability attestation: {scans:?}");
    let dates: Vec<&str> = scans.iter().filter_map(|scan| scan["created"].as_str()).collect();
    assert!(dates.windows(2).all(|pair| pair[0] >= pair[1]), "{dates:?}");

    // SARIF keeps package and versions only in its message text; they are read from there.
    let compared = contents(&app, &repository, &trivy, &format!("compare={sarif}")).await;
    let diff = &compared["body"]["Scan"]["compare"];
    assert_eq!(diff["unchanged"].as_u64().unwrap(), total, "{diff:#}");
    assert_eq!(diff["only_here"], json!([]));
    assert_eq!(diff["only_there"], json!([]));
    let sarif_view = contents(&app, &repository, &sarif, "").await;
    assert_eq!(sarif_view["body"]["Scan"]["format"], "SARIF 2.1.0");
    assert_eq!(sarif_view["body"]["Scan"]["counts"], *counts);
    let newest = &scans[0]["digest"];
    let attested = contents(&app, &repository, newest.as_str().unwrap(), "").await;
    assert_eq!(attested["body"]["Scan"]["counts"], *counts, "{attested:#}");
    assert!(attested["body"]["Scan"]["wrapped_in"].as_str().unwrap_or_default().contains("DSSE"), "{attested:#}");

    let bad = app
        .get(&format!(
            "/api/v1/registries/{LOCAL}/repositories/{repository}/@{trivy}/contents?compare={}",
            fully_attached_subject(&app.report).digest
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "only scans of the same image compare: {}", bad.body);

    let page = app.get_page(&format!("/r/{LOCAL}/{repository}/@{trivy}?compare={sarif}")).await;
    assert!(page.contains("Compared with the scan of") && page.contains("Critical"), "{page}");
}

#[tokio::test]
async fn signatures_show_their_kind_signer_and_time() {
    let app = TestApp::start().await;
    let subject = fully_attached_subject(&app.report);
    let rows = app
        .get_json(&format!(
            "/api/v1/registries/{LOCAL}/repositories/{}/@{}/signatures",
            subject.repository, subject.digest
        ))
        .await;
    let rows = rows.as_array().unwrap();
    let formats: Vec<&str> = rows.iter().map(|row| row["format"].as_str().unwrap()).collect();
    for wanted in ["notation", "cosign", "sigstore bundle", "in-toto attestation"] {
        assert!(formats.iter().any(|format| format.contains(wanted)), "{wanted} in {formats:?}");
    }
    for row in rows.iter().filter(|row| row["kind"] == "signature") {
        assert_eq!(row["problem"], Value::Null, "{row:#}");
        // A legacy cosign tag carries no time (no Rekor entry in the demo); the others do.
        assert!(row["format"] == "cosign" || row["signed_at"].is_string(), "{row:#}");
    }
    let notation = rows.iter().find(|row| row["format"] == "notation").unwrap();
    assert!(notation["signer"].as_str().unwrap().contains("ocicat"), "the demo certificate's subject: {notation:#}");
    let bundle = rows.iter().find(|row| row["format"] == "sigstore bundle").unwrap();
    assert_eq!(bundle["predicate_type"], "https://sigstore.dev/cosign/sign/v1");

    let cosign = rows.iter().find(|row| row["format"] == "cosign").unwrap();
    let viewed = contents(&app, &subject.repository, cosign["digest"].as_str().unwrap(), "").await;
    let signature = &viewed["body"]["Signature"];
    assert_eq!(signature["signed_digest"], subject.digest.as_str(), "{viewed:#}");
    assert!(signature["payload"].as_str().unwrap().contains("cosign container image signature"));

    let page =
        app.get_page(&format!("/r/{LOCAL}/{}/@{}", subject.repository, notation["digest"].as_str().unwrap())).await;
    assert!(page.contains("Signer") && page.contains("Signed payload"), "{page}");
}
