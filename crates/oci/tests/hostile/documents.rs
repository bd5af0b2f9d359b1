//! S4–S6: ambiguous and mislabelled documents, bodies over the cap however they are framed,
//! and JSON built to hurt the parser.

use std::time::Instant;

use ocicat_oci::ManifestBody;
use ocicat_testkit::{Reply, ReplyBody};

use super::*;

const FOUR_MIB: usize = 4 << 20;

fn index_document(extra: &str) -> String {
    format!(r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[]{extra}}}"#, media_types::OCI_INDEX)
}

// S4 (CVE-2021-41190): a document with both `manifests` and `config`/`layers` is rejected.
#[tokio::test]
async fn a_document_that_is_both_manifest_and_index_is_rejected() {
    let config = format!(
        r#","config":{{"mediaType":"{}","digest":"{EMPTY_CONFIG}","size":2}},"layers":[]"#,
        media_types::OCI_CONFIG
    );
    let registry = FaultyRegistry::builder()
        .get("/v2/ambiguous/manifests/*", Reply::index(index_document(&config)))
        .get("/v2/plain/manifests/*", Reply::index(index_document("")))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let error = client.get_manifest("ambiguous", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::InvalidDocument { .. }), "{error}");
    assert!(matches!(client.get_manifest("plain", "v1").await.unwrap().body, ManifestBody::Index(_)));
}

// S4: a body whose mediaType contradicts the Content-Type is rejected.
#[tokio::test]
async fn a_media_type_that_contradicts_the_content_type_is_rejected() {
    let registry = FaultyRegistry::builder()
        .get("/v2/mislabelled/manifests/*", Reply::index(image_manifest("m")))
        .get("/v2/labelled/manifests/*", Reply::manifest(image_manifest("m")))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let error = client.get_manifest("mislabelled", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::InvalidDocument { .. }), "{error}");
    assert!(matches!(client.get_manifest("labelled", "v1").await.unwrap().body, ManifestBody::Image(_)));
}

// S4: an index-shaped body (no mediaType) served as an image manifest is not silently read as an
// index labelled "image manifest".
#[tokio::test]
async fn an_index_shaped_body_served_as_an_image_manifest_is_rejected() {
    let index_without_media_type = r#"{"schemaVersion":2,"manifests":[]}"#;
    let registry = FaultyRegistry::builder()
        .get("/v2/x/manifests/*", Reply::manifest(index_without_media_type))
        .get("/v2/sniffed/manifests/*", Reply::new(200).bytes(index_without_media_type))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let sniffed = client.get_manifest("sniffed", "v1").await.unwrap();
    assert!(matches!(sniffed.body, ManifestBody::Index(_)), "no Content-Type: sniffed as an index");
    let answer = client.get_manifest("x", "v1").await;
    assert!(
        matches!(answer, Err(OciError::InvalidDocument { .. })),
        "{:?}",
        answer.map(|manifest| (manifest.media_type, matches!(manifest.body, ManifestBody::Index(_))))
    );
}

/// A valid image manifest padded with trailing spaces to exactly `size` bytes.
fn padded_manifest(size: usize) -> Vec<u8> {
    let mut body = image_manifest("padded").into_bytes();
    body.resize(size, b' ');
    body
}

// S5: the 4 MiB cap holds with and without Content-Length; a manifest of exactly 4 MiB passes.
#[tokio::test]
async fn a_manifest_over_four_mib_is_too_large_with_or_without_content_length() {
    let registry = FaultyRegistry::builder()
        .get("/v2/at-cap/manifests/*", Reply::manifest(padded_manifest(FOUR_MIB)))
        .get("/v2/sized/manifests/*", Reply::manifest(padded_manifest(FOUR_MIB + 1)))
        .get(
            "/v2/chunked/manifests/*",
            Reply::manifest("").body(ReplyBody::Chunked(padded_manifest(FOUR_MIB + 1).into())),
        )
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    assert_eq!(client.get_manifest("at-cap", "v1").await.unwrap().raw.len(), FOUR_MIB);
    for repository in ["sized", "chunked"] {
        let error = client.get_manifest(repository, "v1").await.unwrap_err();
        assert!(matches!(error, OciError::TooLarge { cap, .. } if cap == FOUR_MIB as u64), "{repository}: {error}");
    }
}

// S5: an endless chunked body stops at the cap, quickly.
#[tokio::test]
async fn an_endless_manifest_body_stops_at_the_cap() {
    let registry = FaultyRegistry::builder()
        .get("/v2/endless/manifests/*", Reply::manifest("").body(ReplyBody::Endless))
        .start()
        .await
        .unwrap();
    let started = Instant::now();
    let error = client_for(&registry).get_manifest("endless", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::TooLarge { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
}

// S5: a Content-Length over the cap is refused before the body is read, whatever follows it.
#[tokio::test]
async fn a_false_content_length_over_the_cap_is_refused_before_reading() {
    let lying = ReplyBody::LyingLength { declared: 1 << 30, bytes: image_manifest("small").into() };
    let registry =
        FaultyRegistry::builder().get("/v2/x/manifests/*", Reply::manifest("").body(lying)).start().await.unwrap();
    let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::TooLarge { .. }), "{error}");
}

// S5: a listing page over `Limits::list_page_bytes` is too large.
#[tokio::test]
async fn a_tag_list_page_over_its_cap_is_too_large() {
    let tags: Vec<String> = (0..1000).map(|n| format!("tag-{n:05}")).collect();
    let registry = FaultyRegistry::builder()
        .get("/v2/x/tags/list", Reply::json(serde_json::json!({"name": "x", "tags": tags})))
        .start()
        .await
        .unwrap();
    let small = client_with(&registry.url(), |config| config.limits.list_page_bytes = 4096);
    assert!(matches!(small.tags("x").await, Err(OciError::TooLarge { cap: 4096, .. })));
    assert_eq!(client_for(&registry).tags("x").await.unwrap().items.len(), 1000);
}

// S6: JSON nested 10,000 deep is a clean InvalidDocument wherever it appears, never a stack
// overflow (the manifest's shape check reads `manifests` and `config` as free JSON values, the
// one place where the parser's depth limit is all that stands between us and the stack).
#[tokio::test]
async fn json_nested_ten_thousand_deep_is_an_invalid_document() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000));
    let deep_error = format!(r#"{{"errors":[{{"code":"NAME_UNKNOWN","detail":{deep}}}]}}"#);
    let registry = FaultyRegistry::builder()
        .get("/v2/list/manifests/*", Reply::index(format!(r#"{{"schemaVersion":2,"manifests":{deep}}}"#)))
        .get("/v2/object/manifests/*", Reply::manifest(format!(r#"{{"schemaVersion":2,"config":{deep_object}}}"#)))
        .get("/v2/x/tags/list", Reply::json(serde_json::Value::Null).bytes(format!(r#"{{"tags":{deep}}}"#)))
        .get("/v2/_catalog", Reply::json(serde_json::Value::Null).bytes(format!(r#"{{"repositories":{deep}}}"#)))
        .get("/v2/gone/manifests/*", Reply::new(404).header("content-type", "application/json").bytes(deep_error))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    for repository in ["list", "object"] {
        let error = client.get_manifest(repository, "v1").await.unwrap_err();
        assert!(matches!(&error, OciError::InvalidDocument { reason, .. } if reason.contains("recursion")), "{error}");
    }
    assert!(matches!(client.tags("x").await, Err(OciError::InvalidDocument { .. })));
    assert!(matches!(client.catalog().await, Err(OciError::InvalidDocument { .. })));
    let error = client.get_manifest("gone", "v1").await.unwrap_err();
    assert!(matches!(&error, OciError::NotFound { code: Some(code), .. } if code == "NAME_UNKNOWN"), "{error}");
}

// S6: a manifest that is not UTF-8 is an invalid document.
#[tokio::test]
async fn a_manifest_that_is_not_utf8_is_an_invalid_document() {
    let mut body = image_manifest("\u{e9}").into_bytes();
    let accent = body.iter().position(|byte| *byte == 0xc3).expect("the label has a two-byte character");
    body[accent] = 0xff;
    let registry = FaultyRegistry::builder().get("/v2/x/manifests/*", Reply::manifest(body)).start().await.unwrap();
    let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::InvalidDocument { .. }), "{error}");
}
