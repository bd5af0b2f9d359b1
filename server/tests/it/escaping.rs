//! Annotations and labels are attacker-controlled (SECURITY S11, S12): an image pushed with
//! script, markup and `javascript:`/`data:` URLs in them renders as escaped text, and only its
//! https URL becomes a link.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::json;

use crate::util::{LOCAL, TestApp};

const REPOSITORY: &str = "hostile/annotations";
const TAG: &str = "v1";

const SCRIPT: &str = "<script>alert('x')</script>";
const ATTRIBUTE_BREAKOUT: &str = "\"><img src=x onerror=alert(1)>";
const JAVASCRIPT_URL: &str = "javascript:alert(1)";
const DATA_URL: &str = "data:text/html,<b>hi</b>";
const SAFE_URL: &str = "https://example.com/src";
const TITLE_BREAKOUT: &str = "</title><script>alert(3)</script>";
/// A right-to-left override that would show "exe.png" as "gnp.exe" and flip what follows.
const BIDI: &str = "\u{202E}gnp.exe";
/// An annotation value of 1 MiB (S6).
const HUGE_LENGTH: usize = 1 << 20;
/// An `Env` value longer than the page shows, in a config small enough to be kept (64 KiB).
const LONG_ENV_LENGTH: usize = 10_000;

/// Pushes an OCI image whose annotations and config labels carry every hostile value; returns its digest.
async fn push_hostile_image(app: &TestApp) -> String {
    let client = app.client();
    let config = json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2025-01-01T00:00:00Z",
        "config": {
            "Labels": {
                "org.opencontainers.image.title": TITLE_BREAKOUT,
                "org.opencontainers.image.url": JAVASCRIPT_URL,
                "evil.markup": SCRIPT,
            },
            "Entrypoint": [TITLE_BREAKOUT],
            "Cmd": [SCRIPT, ATTRIBUTE_BREAKOUT],
            "Env": [format!("EVIL={SCRIPT}"), format!("FLIP={BIDI}"), format!("LONG={}", "B".repeat(LONG_ENV_LENGTH))],
            "User": BIDI,
            "WorkingDir": JAVASCRIPT_URL,
            "ExposedPorts": serde_json::Map::from_iter([(ATTRIBUTE_BREAKOUT.to_owned(), json!({}))]),
        },
        "rootfs": { "type": "layers", "diff_ids": [] },
    });
    let config_bytes = Bytes::from(serde_json::to_vec(&config).unwrap());
    let config_digest = client.push_blob(REPOSITORY, config_bytes.clone()).await.unwrap();
    // An empty tar archive: two zero blocks.
    let layer_bytes = Bytes::from(vec![0u8; 1024]);
    let layer_digest = client.push_blob(REPOSITORY, layer_bytes.clone()).await.unwrap();
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest.to_string(),
            "size": config_bytes.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest.to_string(),
            "size": layer_bytes.len(),
            "annotations": { "org.opencontainers.image.title": ATTRIBUTE_BREAKOUT },
        }],
        "annotations": {
            "org.opencontainers.image.description": SCRIPT,
            "org.opencontainers.image.title": ATTRIBUTE_BREAKOUT,
            "org.opencontainers.image.documentation": JAVASCRIPT_URL,
            "org.opencontainers.image.url": DATA_URL,
            "org.opencontainers.image.source": SAFE_URL,
            "org.opencontainers.image.vendor": "JaVaScRiPt:alert(2)",
            "org.example.bidi": BIDI,
            "org.example.huge": "A".repeat(HUGE_LENGTH),
        },
    });
    let raw = Bytes::from(serde_json::to_vec(&manifest).unwrap());
    client.push_manifest(REPOSITORY, TAG, media_type, raw).await.unwrap().to_string()
}

/// Asserts that no registry-supplied markup or unsafe link survived into `html`.
fn assert_nothing_hostile(path: &str, html: &str) {
    assert!(!html.contains("<script>alert"), "{path}: raw <script> from an annotation:\n{html}");
    assert!(!html.contains("<img src=x"), "{path}: raw <img> from an annotation:\n{html}");
    assert!(!html.contains("</title><script>"), "{path}: raw </title> from a label:\n{html}");
    assert!(!html.contains("<b>hi</b>"), "{path}: raw markup from a data: URL:\n{html}");
    let lowercase = html.to_ascii_lowercase();
    for scheme in ["javascript:", "data:", "vbscript:"] {
        for quote in ["\"", "'", ""] {
            assert!(!lowercase.contains(&format!("href={quote}{scheme}")), "{path}: a {scheme} link:\n{html}");
            assert!(!lowercase.contains(&format!("src={quote}{scheme}")), "{path}: a {scheme} source:\n{html}");
        }
    }
}

#[tokio::test]
async fn hostile_annotations_render_as_escaped_text_and_only_https_links() {
    let app = TestApp::start().await;
    let digest = push_hostile_image(&app).await;
    app.recrawl().await;

    let artifact_path = format!("/r/{LOCAL}/{REPOSITORY}/@{digest}");
    let page = app.get_page(&artifact_path).await;
    assert!(page.contains(&digest), "the hostile image was crawled: {page}");
    assert_nothing_hostile(&artifact_path, &page);
    assert!(page.contains("&lt;script&gt;alert('x')&lt;/script&gt;"), "escaped script text is shown: {page}");
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"), "escaped img text is shown: {page}");
    assert!(page.contains("&lt;/title&gt;&lt;script&gt;alert(3)"), "escaped label is shown: {page}");
    assert!(page.contains(JAVASCRIPT_URL), "the javascript: URL is shown as text: {page}");
    assert!(page.contains(&format!("href=\"{SAFE_URL}\"")), "the https URL is a link: {page}");
    assert!(page.contains(&format!("<bdi>{BIDI}</bdi>")), "a bidi override stays isolated in its cell");
    // The run configuration: the same values as escaped text, the override isolated in the
    // annotation, the `Env` row and the user, the long value cut with a note.
    assert!(page.contains("Run configuration"), "{page}");
    assert_eq!(page.matches(&format!("<bdi>{BIDI}</bdi>")).count(), 3, "{page}");
    assert!(page.contains("<bdi>EVIL</bdi>"), "{page}");
    let kept = "B".repeat(4096 - "LONG=".len());
    assert!(page.contains(&format!("<bdi>{kept}…</bdi>")), "the entry is cut at 4,096 characters: {page}");
    assert!(!page.contains(&format!("{kept}B")), "{page}");
    assert!(page.contains("cut here; the config JSON has them whole"), "{page}");
    // The 1 MiB value is cut in the catalog, and the raw manifest is not in the page at all.
    assert!(page.len() < 200 * 1024, "the page is {} bytes", page.len());
    assert!(!page.contains("schemaVersion"), "the raw manifest is loaded on demand only");

    // Opened on the page, the manifest comes from a server function, cut at 64 KiB with a note.
    let arguments =
        [("registry", LOCAL), ("repository", REPOSITORY), ("digest", digest.as_str()), ("document", "manifest")];
    let response = app.call_server_fn::<app::api::GetRawJson>(&arguments).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let shown: String = serde_json::from_str(&response.body).expect("a JSON string");
    assert!(shown.len() < 65 * 1024, "the shown manifest is {} bytes", shown.len());
    let head: String = shown.chars().take(200).collect();
    assert!(shown.starts_with("{\n  \"annotations\": {\n    \""), "pretty-printed: {head}");
    let tail: String = shown.chars().rev().take(100).collect::<Vec<_>>().into_iter().rev().collect();
    assert!(tail.contains("cut here: the document is") && tail.ends_with(" bytes"), "{tail}");
    // The JSON API serves it whole, with the 1 MiB annotation the catalog cut.
    let raw = app.get(&format!("/api/v1/registries/{LOCAL}/repositories/{REPOSITORY}/manifests/{digest}")).await;
    assert_eq!(raw.status, StatusCode::OK);
    assert_eq!(raw.content_type(), "application/json");
    assert_eq!(raw.json()["annotations"]["org.example.huge"].as_str().map(str::len), Some(HUGE_LENGTH));
    assert_eq!(raw.headers.get("x-content-type-options").map(|value| value.as_bytes()), Some(&b"nosniff"[..]));

    for path in [format!("/r/{LOCAL}/{REPOSITORY}"), format!("/r/{LOCAL}"), "/".to_owned()] {
        let html = app.get_page(&path).await;
        assert_nothing_hostile(&path, &html);
    }

    let json = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{REPOSITORY}/@{digest}")).await;
    let links: Vec<(&str, bool)> = json["annotations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|annotation| (annotation["value"].as_str().unwrap(), annotation["is_link"].as_bool().unwrap()))
        .collect();
    let huge = links.iter().find(|(value, _)| value.starts_with("AAAA")).expect("the huge annotation is listed");
    assert_eq!(huge.0.len(), 4096, "values are truncated in the catalog");
    for (value, is_link) in &links {
        assert_eq!(*is_link, *value == SAFE_URL, "{value:?} is_link={is_link}");
    }
    assert!(links.iter().any(|(value, _)| *value == SCRIPT), "the API returns the raw value: {links:?}");
}
