//! Server-rendered pages: HTML with the registry, repositories, tags and artifacts in it, and
//! friendly pages for addresses that lead nowhere.

use axum::http::StatusCode;

use crate::util::{LOCAL, TestApp, is_version_tag, seeded_tags};

#[tokio::test]
async fn home_page_is_html_naming_the_registry() {
    let app = TestApp::start().await;
    let page = app.get_page("/").await;
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..page.len().min(200)]);
    assert!(page.contains(&format!("href=\"/r/{LOCAL}\"")), "{page}");
    assert!(page.contains(&app.registry.host()), "{page}");
}

#[tokio::test]
async fn registry_page_links_every_repository() {
    let app = TestApp::start().await;
    let page = app.get_page(&format!("/r/{LOCAL}")).await;
    for repository in app.report.repositories() {
        assert!(page.contains(&format!("href=\"/r/{LOCAL}/{repository}\"")), "no link to {repository}: {page}");
    }
    let filtered = app.get_page(&format!("/r/{LOCAL}?q=wasm")).await;
    assert!(filtered.contains(&format!("href=\"/r/{LOCAL}/wasm/hello\"")), "{filtered}");
    assert!(!filtered.contains(&format!("href=\"/r/{LOCAL}/demo/app\"")), "{filtered}");
}

#[tokio::test]
async fn repository_page_shows_the_tag_names() {
    let app = TestApp::start().await;
    let tags = seeded_tags(&app.report, "demo/app");
    assert!(tags.len() >= 2, "{tags:?}");
    let page = app.get_page(&format!("/r/{LOCAL}/demo/app")).await;
    for tag in &tags {
        let digest = &app.report.tagged("demo/app", tag).unwrap().digest;
        assert!(page.contains(tag.as_str()), "no tag {tag}: {page}");
        assert!(page.contains(&format!("href=\"/r/{LOCAL}/demo/app/@{digest}\"")), "no link to {tag}: {page}");
    }
}

#[tokio::test]
async fn artifact_page_shows_the_digest_and_the_manifest_json() {
    let app = TestApp::start().await;
    let tagged = app.report.items.iter().filter(|item| item.reference.as_deref().is_some_and(is_version_tag));
    for item in tagged {
        let page = app.get_page(&format!("/r/{LOCAL}/{}/@{}", item.repository, item.digest)).await;
        assert!(page.contains(&item.digest), "{}@{}: {page}", item.repository, item.digest);
        assert!(page.contains("Manifest JSON"), "{page}");
        assert!(page.contains("schemaVersion"), "the manifest itself is shown: {page}");
    }
}

#[tokio::test]
async fn unknown_pages_are_html_with_a_not_found_message() {
    let app = TestApp::start().await;
    let unknown = app.get("/no/such/page").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.body);
    assert!(unknown.content_type().starts_with("text/html"), "{}", unknown.content_type());
    assert!(unknown.body.contains("Page not found"), "{}", unknown.body);
    let missing_repository = app.get(&format!("/r/{LOCAL}/no/such/repo")).await;
    assert!(missing_repository.content_type().starts_with("text/html"));
    assert!(missing_repository.body.contains("Not found"), "{}", missing_repository.body);
    assert_eq!(missing_repository.status, StatusCode::NOT_FOUND, "error pages are not soft 404s");
    let bad_digest = app.get(&format!("/r/{LOCAL}/demo/app/@sha256:nothex")).await;
    assert!(bad_digest.body.contains("This address is not valid"), "{}", bad_digest.body);
    assert_eq!(bad_digest.status, StatusCode::BAD_REQUEST);
    let missing_registry = app.get("/r/nope").await;
    assert!(missing_registry.body.contains("Not found: registry"), "{}", missing_registry.body);
    assert_eq!(missing_registry.status, StatusCode::NOT_FOUND);
    let bad_query = app.get("/search?q=vulnz.critical%20%3E%200").await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert!(bad_query.body.contains("unknown field"), "{}", bad_query.body);
}
