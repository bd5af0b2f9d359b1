//! The whole path (seed, crawl, JSON API) works against distribution with htpasswd Basic auth
//! and with token auth, and tokens are cached rather than fetched per request.

use ocicat_testkit::DistributionOptions;

use crate::util::{LOCAL, TestApp, seeded_tags, tag_rows};

/// Asserts that the API lists every seeded repository and the tags of `demo/app`.
async fn assert_served(app: &TestApp) {
    let repositories = app.report.repositories();
    assert!(!repositories.is_empty());
    let list = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories")).await;
    assert_eq!(list["total"], repositories.len() as u64, "{list:#}");
    let card = &app.get_json("/api/v1/registries").await[0];
    assert_eq!(card["repositories"], repositories.len() as u64, "{card:#}");
    assert_eq!(card["failures"], 0, "{card:#}");
    let view = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/demo/app/-/tags")).await;
    let shown: std::collections::BTreeSet<String> = tag_rows(&view).into_keys().collect();
    assert_eq!(shown, seeded_tags(&app.report, "demo/app"));
}

#[tokio::test]
async fn basic_auth_registry_is_crawled_and_served() {
    let app = TestApp::builder().registry(DistributionOptions::basic("crawler", "basic-pass-1234")).build().await;
    assert_served(&app).await;
}

#[tokio::test]
async fn token_auth_registry_is_crawled_with_cached_tokens() {
    let app = TestApp::builder().registry(DistributionOptions::token("crawler", "token-pass-1234")).build().await;
    assert_served(&app).await;
    let token_server = app.registry.token_server().unwrap();
    let issued = token_server.tokens_issued() - app.tokens_before_crawl.unwrap();
    let fetched = app.board.get(LOCAL).unwrap().manifests_seen as usize;
    assert!(issued >= 1, "the crawl authenticated with a token");
    assert!(issued < fetched, "{issued} tokens for {fetched} manifests: tokens are not cached");
}
