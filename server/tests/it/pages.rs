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
async fn artifact_page_links_the_raw_manifest_instead_of_carrying_it() {
    let app = TestApp::start().await;
    let tagged = app.report.items.iter().filter(|item| item.reference.as_deref().is_some_and(is_version_tag));
    for item in tagged {
        let page = app.get_page(&format!("/r/{LOCAL}/{}/@{}", item.repository, item.digest)).await;
        assert!(page.contains(&item.digest), "{}@{}: {page}", item.repository, item.digest);
        assert!(page.contains("Manifest JSON"), "{page}");
        let raw = format!("/api/v1/registries/{LOCAL}/repositories/{}/manifests/{}", item.repository, item.digest);
        assert!(page.contains(&format!("href=\"{raw}\"")), "a plain link to the raw manifest: {page}");
        // Every manifest has `schemaVersion`: neither the HTML nor the hydration data holds one.
        assert!(!page.contains("schemaVersion"), "the manifest body is loaded on demand only: {page}");
        assert_eq!(app.get(&raw).await.status, StatusCode::OK, "{raw}");
    }
}

/// What the run-configuration panel must show for an image config: the command line and the
/// other settings, each as the text of a `<bdi>`.
fn expected_run_settings(config: &serde_json::Value) -> Vec<String> {
    let settings = &config["config"];
    let strings = |key: &str| -> Vec<String> {
        settings[key].as_array().into_iter().flatten().filter_map(|value| value.as_str().map(str::to_owned)).collect()
    };
    let mut expected = Vec::new();
    let command: Vec<String> =
        strings("Entrypoint").iter().chain(&strings("Cmd")).map(|a| ocicat_service::model::shell_quote(a)).collect();
    if !command.is_empty() {
        expected.push(command.join(" "));
    }
    for key in ["User", "WorkingDir", "StopSignal"] {
        expected.extend(settings[key].as_str().filter(|text| !text.is_empty()).map(str::to_owned));
    }
    for entry in strings("Env") {
        let (name, value) = entry.split_once('=').unwrap_or((&entry, ""));
        expected.extend([name.to_owned(), value.to_owned()]);
    }
    expected
}

#[tokio::test]
async fn artifact_page_shows_the_run_configuration_of_each_seeded_image() {
    let app = TestApp::start().await;
    let mut with_run_config = 0;
    for item in app.report.items.iter().filter(|item| item.kind == "image") {
        let path = format!("/r/{LOCAL}/{}/@{}", item.repository, item.digest);
        let page = app.get_page(&path).await;
        let config_path =
            format!("/api/v1/registries/{LOCAL}/repositories/{}/manifests/{}/config", item.repository, item.digest);
        let expected = expected_run_settings(&app.get_json(&config_path).await);
        assert_eq!(page.contains("Run configuration"), !expected.is_empty(), "{path}: {page}");
        for text in &expected {
            assert!(page.contains(&format!("<bdi>{text}</bdi>")), "{path} lacks {text:?}: {page}");
        }
        with_run_config += usize::from(!expected.is_empty());
    }
    // umoci builds demo/app with `--config.cmd /app/run.sh`, a user, a working directory and PATH.
    let app_image = app.report.items.iter().find(|item| item.repository == "demo/app" && item.kind == "image").unwrap();
    let page = app.get_page(&format!("/r/{LOCAL}/demo/app/@{}", app_image.digest)).await;
    for text in
        ["/app/run.sh", "65532:65532", "/app", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    {
        assert!(page.contains(&format!("<bdi>{text}</bdi>")), "demo/app lacks {text:?}: {page}");
    }
    assert!(with_run_config >= 3, "several seeded images have a run configuration: {with_run_config}");
    // Artifacts that are not images say nothing about running.
    for kind in ["index", "helm", "sbom", "signature"] {
        let item = app.report.of_kind(kind).next().unwrap_or_else(|| panic!("a seeded {kind}"));
        let page = app.get_page(&format!("/r/{LOCAL}/{}/@{}", item.repository, item.digest)).await;
        assert!(!page.contains("Run configuration"), "{kind} {}: {page}", item.digest);
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
    let boxes = missing_repository.body.matches("class=\"error-box\"").count();
    assert_eq!(boxes, 1, "the repository is said to be missing once: {}", missing_repository.body);
    assert!(!missing_repository.body.contains("id=\"tag-filter\""), "no tag filter for a missing repository");
    let bad_digest = app.get(&format!("/r/{LOCAL}/demo/app/@sha256:nothex")).await;
    assert!(bad_digest.body.contains("This address is not valid"), "{}", bad_digest.body);
    assert_eq!(bad_digest.status, StatusCode::BAD_REQUEST);
    let missing_registry = app.get("/r/nope").await;
    assert!(missing_registry.body.contains("Not found: registry"), "{}", missing_registry.body);
    assert!(!missing_registry.body.contains("id=\"repo-filter\""), "no filter for a missing registry");
    assert_eq!(missing_registry.body.matches("class=\"error-box\"").count(), 1, "{}", missing_registry.body);
    assert_eq!(missing_registry.status, StatusCode::NOT_FOUND);
    let bad_query = app.get("/search?q=vulnz.critical%20%3E%200").await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert!(bad_query.body.contains("unknown field"), "{}", bad_query.body);
}

#[tokio::test]
async fn a_docker_style_tag_address_opens_the_artifact_it_points_at() {
    let app = TestApp::start().await;
    let item = app
        .report
        .items
        .iter()
        .find(|item| item.kind == "image" && item.reference.as_deref().is_some_and(is_version_tag))
        .expect("a tagged image");
    let tag = item.reference.as_deref().unwrap();
    let page = app.get(&format!("/r/{LOCAL}/{}:{tag}", item.repository)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&item.digest), "the page shows the digest {tag} points at");
    let unknown = app.get(&format!("/r/{LOCAL}/{}:no-such-tag", item.repository)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let hostile = app.get(&format!("/r/{LOCAL}/{}:%22%20OR%20x", item.repository)).await;
    assert_eq!(hostile.status, StatusCode::BAD_REQUEST, "a tag that is not a tag is refused, not searched");
}
