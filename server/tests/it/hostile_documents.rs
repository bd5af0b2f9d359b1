//! Attached documents are attacker-controlled (SECURITY S12–S14): markup, `javascript:` links
//! and a 10 MB single-line value in an SBOM render as escaped, cut text; a gzip bomb is refused
//! at the unpacking cap; an "SBOM" the registry labels `text/html` is only ever a download.

use std::io::Write as _;

use axum::http::{StatusCode, header};
use bytes::Bytes;
use ocicat_oci::Client;
use serde_json::{Value, json};

use crate::util::{LOCAL, TestApp};

const REPOSITORY: &str = "hostile/documents";
const SCRIPT: &str = "<script>alert(1)</script>";
const BREAKOUT: &str = "\"><img src=x onerror=alert(2)>";
/// One line of 10 MB (S12's "very long names").
const LONG: usize = 10_000_000;

/// Pushes an artifact (empty config, `artifact_type`, one layer of `layer_type`) tagged `tag`;
/// returns the manifest digest.
async fn push_document(client: &Client, tag: &str, artifact_type: &str, layer_type: &str, bytes: Vec<u8>) -> String {
    let empty = Bytes::from_static(b"{}");
    let empty_digest = client.push_blob(REPOSITORY, empty.clone()).await.unwrap();
    let size = bytes.len();
    let layer = client.push_blob(REPOSITORY, Bytes::from(bytes)).await.unwrap();
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest.to_string(), "size": 2},
        "layers": [{"mediaType": layer_type, "digest": layer.to_string(), "size": size,
            "annotations": {"org.opencontainers.image.title": format!("{BREAKOUT}.json")}}],
        "annotations": {"org.opencontainers.image.created": "2025-02-01T00:00:00Z"},
    });
    let raw = Bytes::from(serde_json::to_vec(&manifest).unwrap());
    client.push_manifest(REPOSITORY, tag, media_type, raw).await.unwrap().to_string()
}

fn hostile_spdx() -> Vec<u8> {
    let packages = json!([
        {"SPDXID": "SPDXRef-script", "name": SCRIPT, "versionInfo": "1.0", "supplier": format!("Organization: {BREAKOUT}"),
         "homepage": "javascript:alert(3)", "licenseConcluded": SCRIPT,
         "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "javascript:alert(4)"}]},
        {"SPDXID": "SPDXRef-long", "name": "long-version", "versionInfo": "9".repeat(LONG)},
        {"SPDXID": "SPDXRef-safe", "name": "safe", "versionInfo": "2.0", "homepage": "https://example.com/safe"},
    ]);
    serde_json::to_vec(&json!({
        "spdxVersion": "SPDX-2.3",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": SCRIPT,
        "dataLicense": "CC0-1.0",
        "documentNamespace": "https://example.com/hostile",
        "creationInfo": {"created": "2025-02-01T00:00:00Z", "creators": [format!("Tool: {BREAKOUT}")]},
        "packages": packages,
    }))
    .unwrap()
}

/// 100 MiB of zeros, gzip-compressed to about 100 KiB: a 1000:1 bomb.
fn gzip_bomb() -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..100 {
        encoder.write_all(&zeros).unwrap();
    }
    encoder.finish().unwrap()
}

async fn contents(app: &TestApp, digest: &str) -> Value {
    app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{REPOSITORY}/@{digest}/contents")).await
}

#[tokio::test]
async fn hostile_sboms_are_escaped_cut_refused_or_downloaded_never_run() {
    let app = TestApp::start().await;
    let client = app.client();
    let sbom = push_document(&client, "markup", "application/spdx+json", "application/spdx+json", hostile_spdx()).await;
    let bomb = gzip_bomb();
    let bomb_size = bomb.len();
    let bomb = push_document(&client, "bomb", "application/spdx+json", "application/spdx+json", bomb).await;
    let html = b"<html><script>alert(document.cookie)</script></html>".to_vec();
    let html = push_document(&client, "html", "application/spdx+json", "text/html", html).await;
    app.recrawl().await;

    // Markup stays text, the 10 MB value is cut, only the https home page is a link.
    let viewed = contents(&app, &sbom).await;
    let rows = viewed["body"]["Sbom"]["packages"].as_array().unwrap_or_else(|| panic!("{viewed:#}")).clone();
    let script = rows.iter().find(|row| row["name"] == SCRIPT).expect("the name is kept as text");
    assert_eq!(script["homepage"], Value::Null, "a javascript: home page is no link");
    let long = rows.iter().find(|row| row["name"] == "long-version").unwrap();
    let version = long["version"].as_str().unwrap();
    assert!(
        version.chars().count() <= 4097 && version.starts_with("9999"),
        "cut to 4,096 characters: {}",
        version.len()
    );
    let safe = rows.iter().find(|row| row["name"] == "safe").unwrap();
    assert_eq!(safe["homepage"], "https://example.com/safe");

    let path = format!("/r/{LOCAL}/{REPOSITORY}/@{sbom}");
    let page = app.get_page(&path).await;
    assert!(page.len() < 300 * 1024, "the page is {} bytes", page.len());
    assert!(!page.contains(SCRIPT) && !page.contains("<img src=x"), "raw markup on {path}");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name shows as text");
    let lowercase = page.to_ascii_lowercase();
    assert!(!lowercase.contains("href=\"javascript:"), "a javascript: link on {path}");
    assert!(page.contains("href=\"https://example.com/safe\""), "the https home page is a link");

    // The bomb is refused while unpacking; the page says so and offers the download.
    let refused = contents(&app, &bomb).await;
    let reason = refused["body"]["Unreadable"].as_str().unwrap_or_else(|| panic!("{refused:#}"));
    assert!(reason.contains("100:1") || reason.contains("MiB"), "refused at a cap: {reason}");
    let download = refused["layers"][0]["download"].as_str().unwrap().to_owned();
    let (status, _, body) = app.download(&download, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.unwrap().len(), bomb_size, "the download is the compressed original, never inflated");
    let page = app.get_page(&format!("/r/{LOCAL}/{REPOSITORY}/@{bomb}")).await;
    assert!(page.contains("Cannot display this document"), "{page}");

    // An "SBOM" served as HTML is a download with a sandbox, never a page of ours.
    let shown = contents(&app, &html).await;
    assert!(shown["body"]["Unreadable"].is_string(), "{shown:#}");
    let download = shown["layers"][0]["download"].as_str().unwrap().to_owned();
    let (status, headers, body) = app.download(&download, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
    assert!(headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment"));
    assert_eq!(headers[header::CONTENT_SECURITY_POLICY], "sandbox; default-src 'none'");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(!disposition[22..disposition.len() - 1].contains('"'), "the title cannot break out: {disposition}");
    assert!(body.unwrap().starts_with(b"<html>"));
}
