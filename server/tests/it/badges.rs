//! Badges come from the referrers the seeder attached: the image with an SBOM, scans,
//! signatures and a lifecycle referrer shows all of them; the image past its end of life is expired.

use crate::util::{LOCAL, TestApp, fully_attached_subject, referrer_kinds, tag_rows};

/// The row of `digest` in the repository JSON of `repository`.
async fn badges_of(app: &TestApp, repository: &str, digest: &str) -> serde_json::Value {
    let view = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{repository}/-/tags")).await;
    let rows = tag_rows(&view);
    let row = rows.values().find(|row| row["digest"] == digest).unwrap_or_else(|| panic!("{digest} in {view:#}"));
    row["badges"].clone()
}

#[tokio::test]
async fn the_image_with_every_referrer_shows_every_badge() {
    let app = TestApp::start().await;
    let subject = fully_attached_subject(&app.report);
    let kinds = referrer_kinds(&app.report, &subject.digest);
    let scans = kinds.iter().filter(|kind| **kind == "scan").count() as u64;
    assert!(scans >= 2, "the seeder attaches Trivy and SARIF reports: {kinds:?}");
    let badges = badges_of(&app, &subject.repository, &subject.digest).await;
    // No trust policy here: its signatures are at best untrusted, never "verified".
    assert_eq!(badges["signature"]["status"], "untrusted", "{badges:#}");
    assert_eq!(badges["signature"]["policies"], serde_json::json!([]), "{badges:#}");
    assert_eq!(badges["sbom"], true, "{badges:#}");
    assert!(badges["scans"].as_u64().unwrap() >= 2, "{badges:#}");
    assert_eq!(badges["scans"], scans, "{badges:#}");
    if kinds.contains(&"attestation") {
        assert!(badges["attestations"].as_u64().unwrap() >= 1, "{badges:#}");
    }
    assert_eq!(badges["end_of_life"], ocicat_seed::future_end_of_life(), "{badges:#}");
    assert_eq!(badges["expired"], false, "{badges:#}");
    // The newest scan's findings, read from the report the seeder attached.
    let found = &badges["vulnerabilities"];
    assert!(found["critical"].as_u64().unwrap() >= 1, "{badges:#}");
    assert!(found["high"].as_u64().unwrap() >= 1, "{badges:#}");
    let page = app.get_page(&format!("/r/{LOCAL}/{}", subject.repository)).await;
    let critical = format!("{} critical · {} high", found["critical"], found["high"]);
    assert!(page.contains(&critical), "{critical} not on the page");
    // The artifact JSON computes the same badges.
    let artifact = app
        .get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}", subject.repository, subject.digest))
        .await;
    assert_eq!(artifact["badges"], badges);
}

#[tokio::test]
async fn the_image_past_its_end_of_life_is_expired() {
    let app = TestApp::start().await;
    let newest = fully_attached_subject(&app.report);
    let lifecycle_subjects: Vec<&str> = app
        .report
        .of_kind("lifecycle")
        .filter_map(|item| item.subject.as_deref())
        .filter(|digest| *digest != newest.digest)
        .collect();
    assert_eq!(lifecycle_subjects.len(), 1, "one other image has lifecycle metadata");
    let old = app.report.items.iter().find(|item| item.digest == lifecycle_subjects[0]).unwrap();
    let badges = badges_of(&app, &old.repository, &old.digest).await;
    assert_eq!(badges["end_of_life"], "2024-06-30", "{badges:#}");
    assert_eq!(badges["expired"], true, "{badges:#}");
    // Its only signature is the newest image's, copied onto its .sig tag.
    assert_eq!(badges["signature"]["status"], "invalid", "{badges:#}");
    assert!(badges["signature"]["reason"].as_str().unwrap().starts_with("signs sha256:"), "{badges:#}");
    assert!(badges["vulnerabilities"].is_null(), "nothing scanned the old image: {badges:#}");
    // And the page shows it.
    let page = app.get_page(&format!("/r/{LOCAL}/{}", old.repository)).await;
    assert!(page.contains("EOL 2024-06-30 · expired"), "{page}");
}

#[tokio::test]
async fn search_results_carry_the_badges_and_referrers_name_their_subject() {
    let app = TestApp::start().await;
    let subject = fully_attached_subject(&app.report);
    let expected = badges_of(&app, &subject.repository, &subject.digest).await;
    let query = format!("digest%3A%22{}%22", subject.digest.replace(':', "%3A"));
    let found = app.get_json(&format!("/api/v1/search?q={query}")).await;
    let hits = found["hits"].as_array().unwrap_or_else(|| panic!("{found:#}"));
    let hit = hits.iter().find(|hit| hit["digest"] == subject.digest.as_str()).unwrap_or_else(|| panic!("{found:#}"));
    assert_eq!(hit["badges"], expected, "a search hit shows what its tag row shows");
    let sboms = app.get_json("/api/v1/search?q=kind:sbom").await;
    let sbom_hits = sboms["hits"].as_array().expect("hits");
    assert!(!sbom_hits.is_empty(), "{sboms:#}");
    for hit in sbom_hits {
        assert!(hit["subject"].as_str().is_some_and(|digest| digest.starts_with("sha256:")), "{hit:#}");
    }
    let page = app.get_page("/search?q=kind%3Asbom").await;
    assert!(page.contains("class=\"hit-subject small\""), "the result card says what the SBOM is for");
}
