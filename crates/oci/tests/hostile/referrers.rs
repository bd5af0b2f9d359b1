//! The referrers API as registries really (mis)behave: unsupported (plain 404, cached), a
//! missing repository, pages, filters ignored or applied, and hostile links or descriptors.

use ocicat_oci::{Referrer, ReferrerSource};
use ocicat_testkit::{Reply, Script};

use super::*;

const SPDX: &str = "application/spdx+json";
const SARIF: &str = "application/sarif+json";

fn descriptor(label: &str, artifact_type: &str) -> serde_json::Value {
    let raw = image_manifest(label);
    serde_json::json!({
        "mediaType": media_types::OCI_MANIFEST,
        "digest": Digest::sha256(raw.as_bytes()).to_string(),
        "size": raw.len(),
        "artifactType": artifact_type,
    })
}

fn referrers_page(descriptors: &[serde_json::Value]) -> Reply {
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": media_types::OCI_INDEX, "manifests": descriptors});
    Reply::index(index.to_string())
}

fn subject() -> Digest {
    Digest::sha256(image_manifest("subject").as_bytes())
}

fn digests(referrers: &[Referrer]) -> Vec<String> {
    let mut digests: Vec<String> = referrers.iter().map(|referrer| referrer.digest.to_string()).collect();
    digests.sort();
    digests
}

// Referrers: a plain-text 404 means "no API": Ok(None), remembered, so later calls send nothing.
#[tokio::test]
async fn a_plain_text_404_means_no_referrers_api_and_is_not_asked_again() {
    let registry = FaultyRegistry::builder().start().await.unwrap();
    let client = client_for(&registry);
    assert_eq!(client.referrers_api("x", &subject(), None).await.unwrap(), None);
    assert_eq!(client.referrers_api("y", &Digest::sha256(b"other"), Some(SPDX)).await.unwrap(), None);
    assert_eq!(registry.count(""), 1);
}

// Referrers: 404 NAME_UNKNOWN is a missing repository, an error, not "unsupported".
#[tokio::test]
async fn a_name_unknown_404_is_an_error_not_an_unsupported_api() {
    let registry = FaultyRegistry::builder()
        .get("/v2/missing/referrers/*", Reply::error(404, "NAME_UNKNOWN", "repository name not known to registry"))
        .get("/v2/present/referrers/*", referrers_page(&[descriptor("sbom", SPDX)]))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let error = client.referrers_api("missing", &subject(), None).await.unwrap_err();
    assert!(matches!(&error, OciError::NotFound { code: Some(code), .. } if code == "NAME_UNKNOWN"), "{error}");
    assert_eq!(client.referrers_api("present", &subject(), None).await.unwrap().map(|found| found.len()), Some(1));
}

// Referrers: every page of a paginated answer is read and labelled as coming from the API.
#[tokio::test]
async fn a_paginated_referrers_answer_is_read_to_the_end() {
    let first = referrers_page(&[descriptor("a", SPDX), descriptor("b", SARIF)]);
    let second = referrers_page(&[descriptor("c", SPDX)]);
    let path = format!("/v2/x/referrers/{}", subject());
    let pages = Script::dynamic(move |seen| match seen.query_param("page") {
        None => first.clone().next_link(&format!("{}?page=2", seen.path)),
        Some(_) => second.clone(),
    });
    let registry = FaultyRegistry::builder().get(&path, pages).start().await.unwrap();
    let found = client_for(&registry).referrers_api("x", &subject(), None).await.unwrap().unwrap();
    assert_eq!(found.len(), 3);
    assert!(found.iter().all(|referrer| referrer.sources == [ReferrerSource::Api]));
    assert_eq!(registry.count(""), 2);
}

// Referrers: a registry that ignores the artifactType filter is filtered by the client.
#[tokio::test]
async fn an_ignored_artifact_type_filter_is_applied_by_the_client() {
    let registry = FaultyRegistry::builder()
        .get("/v2/x/referrers/*", referrers_page(&[descriptor("a", SPDX), descriptor("b", SARIF)]))
        .start()
        .await
        .unwrap();
    let found = client_for(&registry).referrers_api("x", &subject(), Some(SPDX)).await.unwrap().unwrap();
    assert_eq!(found.iter().map(|r| r.artifact_type.as_deref()).collect::<Vec<_>>(), [Some(SPDX)]);
    assert_eq!(registry.requests()[0].query_param("artifactType"), Some("application%2Fspdx%2Bjson"));
}

// Referrers: a registry that says it applied the filter (OCI-Filters-Applied) is taken at its word.
#[tokio::test]
async fn a_registry_that_applied_the_filter_is_not_filtered_again() {
    let mut untyped = descriptor("untyped", SPDX);
    untyped.as_object_mut().unwrap().remove("artifactType");
    let page = referrers_page(&[descriptor("a", SPDX), untyped]).header("oci-filters-applied", "artifactType");
    let registry = FaultyRegistry::builder().get("/v2/x/referrers/*", page).start().await.unwrap();
    let found = client_for(&registry).referrers_api("x", &subject(), Some(SPDX)).await.unwrap().unwrap();
    assert_eq!(found.len(), 2);
}

// S8: a referrers next link to another host is refused.
#[tokio::test]
async fn a_referrers_link_to_another_host_is_refused() {
    let page = referrers_page(&[descriptor("a", SPDX)]).next_link("http://evil.invalid/v2/x/referrers/next");
    let registry = FaultyRegistry::builder().get("/v2/x/referrers/*", page).start().await.unwrap();
    let error = client_for(&registry).referrers_api("x", &subject(), None).await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(registry.count(""), 1);
}

// S7/S22: endless referrers pages stop at the referrers page cap (100).
#[tokio::test]
async fn endless_referrers_pages_stop_at_the_page_cap() {
    let pages = Script::dynamic(|seen| {
        let page: u64 = seen.query_param("page").and_then(|page| page.parse().ok()).unwrap_or(0);
        referrers_page(&[descriptor(&format!("r{page}"), SPDX)]).next_link(&format!("{}?page={}", seen.path, page + 1))
    });
    let registry = FaultyRegistry::builder().get("/v2/x/referrers/*", pages).start().await.unwrap();
    let found = client_for(&registry).referrers_api("x", &subject(), None).await.unwrap().unwrap();
    assert_eq!(found.len(), 100);
    assert_eq!(registry.count(""), 100);
}

// S3: a descriptor whose digest breaks the grammar makes the page an invalid document; it never
// becomes a referrer (whose digest would later be put in a URL).
#[tokio::test]
async fn a_referrers_page_with_a_malformed_digest_is_an_invalid_document() {
    let mut hostile = descriptor("hostile", SPDX);
    hostile["digest"] = "sha256:../../../v2/x/blobs/y#".into();
    let registry = FaultyRegistry::builder()
        .get("/v2/x/referrers/*", referrers_page(&[descriptor("fine", SPDX), hostile]))
        .get("/v2/y/referrers/*", referrers_page(&[descriptor("fine", SPDX)]))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let error = client.referrers_api("x", &subject(), None).await.unwrap_err();
    assert!(matches!(error, OciError::InvalidDocument { .. }), "{error}");
    let fine = client.referrers_api("y", &subject(), None).await.unwrap().unwrap();
    assert_eq!(digests(&fine), [descriptor("fine", SPDX)["digest"].as_str().unwrap()]);
}

// Referrers: a 200 that is not an index means no referrers API (like ORAS's capability check).
#[tokio::test]
async fn a_referrers_answer_that_is_not_an_index_means_unsupported() {
    let registry = FaultyRegistry::builder()
        .get("/v2/x/referrers/*", Reply::new(200).header("content-type", "text/html").bytes("<html>login</html>"))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    assert_eq!(client.referrers_api("x", &subject(), None).await.unwrap(), None);
    assert_eq!(client.referrers_api("x", &subject(), None).await.unwrap(), None);
    assert_eq!(registry.count(""), 1);
}
