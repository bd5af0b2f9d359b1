//! The content proxy (`/content/…`): what it serves (only indexed parts), how (a verified,
//! attachment-only download with an immutable ETag), and what happens when the registry lies
//! (the download breaks off instead of completing). SECURITY S13, S21; PRODUCT 14's download.

use axum::http::{StatusCode, header};
use ocicat_oci::Digest;

use crate::util::{LOCAL, TestApp, fully_attached_subject};

/// The SPDX SBOM attached to the fully attached image: (repository, manifest digest, layer digest).
fn sbom_layer(app: &TestApp) -> (String, String, String) {
    let subject = fully_attached_subject(&app.report);
    let sbom = app
        .report
        .of_kind("sbom")
        .find(|item| item.subject.as_deref() == Some(subject.digest.as_str()))
        .expect("an sbom on the subject");
    let artifact = app.catalog.artifact(LOCAL, &sbom.repository, &sbom.digest).unwrap().expect("indexed");
    let layer = artifact.layers.first().expect("the sbom has a layer").digest.clone();
    (sbom.repository.clone(), sbom.digest.clone(), layer)
}

#[tokio::test]
async fn blobs_and_manifests_come_verified_as_attachments_with_an_immutable_etag() {
    let app = TestApp::start().await;
    let (repository, manifest, layer) = sbom_layer(&app);
    let blob_path = format!("/content/{LOCAL}/{repository}/@{manifest}/blobs/{layer}");
    let (status, headers, body) = app.download(&blob_path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let body = body.expect("a complete download");
    assert!(layer.parse::<Digest>().unwrap().verifies(&body), "the bytes hash to the layer digest");
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default().to_owned();
    assert_eq!(header("content-type"), "application/octet-stream", "never the registry's type");
    assert!(header("content-disposition").starts_with("attachment; filename=\""), "{headers:?}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("content-security-policy"), "sandbox; default-src 'none'");
    assert_eq!(header("etag"), format!("\"{layer}\""));
    assert!(header("cache-control").contains("immutable"), "{headers:?}");
    assert_eq!(header("content-length"), body.len().to_string());

    let manifest_path = format!("/content/{LOCAL}/{repository}/@{manifest}");
    let (status, headers, body) = app.download(&manifest_path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(manifest.parse::<Digest>().unwrap().verifies(&body.unwrap()), "the manifest's exact bytes");
    assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");

    // The digest is the version: a client holding it is answered without the registry.
    let etag = format!("\"{layer}\"");
    let (status, headers, body) = app.download(&blob_path, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers[header::ETAG], etag.as_str());
    assert!(body.unwrap().is_empty());
}

#[tokio::test]
async fn only_parts_of_indexed_artifacts_are_served_never_an_address() {
    let app = TestApp::start().await;
    let (repository, manifest, layer) = sbom_layer(&app);
    let subject = fully_attached_subject(&app.report);
    let image = app.catalog.artifact(LOCAL, &subject.repository, &subject.digest).unwrap().unwrap();
    let image_layer = image.layers.first().unwrap().digest.clone();
    let unknown = Digest::sha256(b"never pushed").to_string();
    for (path, expected) in [
        // A real blob of the registry, but not a part of this artifact.
        (format!("/content/{LOCAL}/{repository}/@{manifest}/blobs/{image_layer}"), StatusCode::NOT_FOUND),
        // A digest the catalog does not know.
        (format!("/content/{LOCAL}/{repository}/@{unknown}"), StatusCode::NOT_FOUND),
        (format!("/content/{LOCAL}/{repository}/@{unknown}/blobs/{layer}"), StatusCode::NOT_FOUND),
        // Another repository's artifact, and a registry that is not configured.
        (format!("/content/{LOCAL}/nowhere/@{manifest}/blobs/{layer}"), StatusCode::NOT_FOUND),
        (format!("/content/elsewhere/{repository}/@{manifest}"), StatusCode::NOT_FOUND),
        // Addresses and malformed names.
        (format!("/content/{LOCAL}/https://evil.example/@{manifest}"), StatusCode::NOT_FOUND),
        (format!("/content/{LOCAL}/{repository}/@../../etc/passwd"), StatusCode::BAD_REQUEST),
        (format!("/content/{LOCAL}/{repository}"), StatusCode::BAD_REQUEST),
    ] {
        let (status, _, body) = app.download(&path, &[]).await;
        assert_eq!(
            status,
            expected,
            "GET {path}: {:?}",
            body.map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        );
    }
}

/// The `data` file distribution keeps for `digest` under its storage root.
fn stored_blob(root: &std::path::Path, digest: &str) -> std::path::PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    let mut pending = vec![root.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().and_then(|name| name.to_str()) == Some(hex) && path.join("data").is_file() {
                    return path.join("data");
                }
                pending.push(path);
            }
        }
    }
    panic!("blob {digest} not found under {}", root.display());
}

// S1 through the proxy: a registry whose stored blob changed under it (disk corruption, a
// compromised mirror) serves other bytes for the digest; the download breaks off before its
// end instead of completing, and the viewer says the registry lied.
#[tokio::test]
async fn a_registry_serving_other_bytes_makes_the_download_fail_not_complete() {
    let app = TestApp::start().await;
    let (repository, manifest, layer) = sbom_layer(&app);
    let file = stored_blob(app.registry.directory(), &layer);
    let mut bytes = std::fs::read(&file).unwrap();
    let length = bytes.len();
    bytes[length / 2] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();

    let path = format!("/content/{LOCAL}/{repository}/@{manifest}/blobs/{layer}");
    let (status, _, body) = app.download(&path, &[]).await;
    assert_eq!(status, StatusCode::OK, "the status went out before the lie was known");
    let error = body.expect_err("the body must break off");
    assert!(!error.is_empty());

    let contents = app.get(&format!("/api/v1/registries/{LOCAL}/repositories/{repository}/@{manifest}/contents")).await;
    assert_eq!(contents.status, StatusCode::BAD_GATEWAY, "{}", contents.body);
    assert!(contents.body.contains("do not match the digest"), "{}", contents.body);
}

/// Upper-cases the first letter of the first key of the stored JSON document at `file`: still a
/// document the registry serves (Go reads keys case-insensitively), but no longer the bytes its
/// digest names.
fn alter_first_key(file: &std::path::Path) {
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.iter().position(u8::is_ascii_lowercase).expect("a key in the document");
    bytes[at] = bytes[at].to_ascii_uppercase();
    std::fs::write(file, &bytes).unwrap();
}

/// Changes one hex digit of the first digest the stored manifest at `file` names: still a
/// manifest, but no longer the bytes its own digest names.
fn alter_a_digest(file: &std::path::Path) {
    let mut bytes = std::fs::read(file).unwrap();
    let at = bytes.windows(7).position(|window| window == b"sha256:").expect("a digest in the manifest") + 7;
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    std::fs::write(file, &bytes).unwrap();
}

// The catalog keeps no raw manifests or configs: the raw views read them from the registry and
// verify them, so a registry that serves other bytes under the digest gets a 502 that says so.
#[tokio::test]
async fn raw_manifests_and_configs_come_from_the_registry_verified() {
    let app = TestApp::start().await;
    let client = app.client();
    let image = app.report.of_kind("image").next().expect("a seeded image");
    let path = format!("/api/v1/registries/{LOCAL}/repositories/{}/manifests/{}", image.repository, image.digest);
    let served = client.get_manifest(&image.repository, &image.digest).await.unwrap();
    let manifest: serde_json::Value = serde_json::from_slice(&served.raw).unwrap();
    let config = manifest["config"]["digest"].as_str().unwrap().to_owned();
    let good = app.get(&path).await;
    assert_eq!((good.status, good.body.as_bytes()), (StatusCode::OK, &served.raw[..]), "{path}");

    alter_first_key(&stored_blob(app.registry.directory(), &config));
    let lied = app.get(&format!("{path}/config")).await;
    assert_eq!(lied.status, StatusCode::BAD_GATEWAY, "{}", lied.body);
    assert!(lied.body.contains("do not match the digest"), "{}", lied.body);

    alter_a_digest(&stored_blob(app.registry.directory(), &image.digest));
    let lied = app.get(&path).await;
    assert_eq!(lied.status, StatusCode::BAD_GATEWAY, "{}", lied.body);
    assert!(lied.body.contains("do not match the digest"), "{}", lied.body);
    let page =
        app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}", image.repository, image.digest)).await;
    assert_eq!(page["manifest_size"], served.raw.len(), "the page still comes from the index: {page:#}");
}
