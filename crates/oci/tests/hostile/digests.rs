//! S1–S3: bodies that do not hash to what was asked or announced, sha512 content, and digest
//! strings that must fail the grammar before any request leaves.

use ocicat_oci::{Algorithm, ManifestBody};
use ocicat_testkit::{Reply, ReplyBody};

use super::*;

// S1: the rust-oci-client #149 registry (same bytes for any digest) is caught; honest bytes pass.
#[tokio::test]
async fn a_manifest_fetched_by_digest_with_other_bytes_is_a_digest_mismatch() {
    let honest = image_manifest("honest");
    let digest = Digest::sha256(honest.as_bytes());
    let registry = FaultyRegistry::builder()
        .get("/v2/lying/manifests/*", Reply::manifest(image_manifest("forged")))
        .get("/v2/honest/manifests/*", Reply::manifest(honest))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let error = client.get_manifest("lying", &digest.to_string()).await.unwrap_err();
    assert!(matches!(&error, OciError::DigestMismatch { expected, .. } if *expected == digest), "{error}");
    assert_eq!(client.get_manifest("honest", &digest.to_string()).await.unwrap().digest, digest);
}

// S1: a whole blob read with other bytes is refused; the honest blob is returned.
#[tokio::test]
async fn a_blob_with_other_bytes_is_a_digest_mismatch() {
    let digest = Digest::sha256(b"the real layer");
    let registry = FaultyRegistry::builder()
        .get("/v2/lying/blobs/*", Reply::blob("a forged layer"))
        .get("/v2/honest/blobs/*", Reply::blob("the real layer"))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let error = client.get_blob("lying", &digest).await.unwrap_err();
    assert!(matches!(error, OciError::DigestMismatch { .. }), "{error}");
    assert_eq!(&client.get_blob("honest", &digest).await.unwrap()[..], b"the real layer");
}

// S1: a streamed download of other bytes ends with an error as its last item, never cleanly.
#[tokio::test]
async fn a_blob_stream_of_other_bytes_ends_with_a_digest_mismatch_instead_of_completing() {
    let real = vec![7u8; 200_000];
    let digest = Digest::sha256(&real);
    let mut forged = real.clone();
    forged[150_000] = 8;
    let registry = FaultyRegistry::builder()
        .get("/v2/lying/blobs/*", Reply::blob("").body(ReplyBody::Chunked(forged.into())))
        .get("/v2/honest/blobs/*", Reply::blob(real.clone()))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let items = drain(client.blob_stream("lying", &digest, 1 << 20).await.unwrap()).await;
    assert!(matches!(items.last(), Some(Err(OciError::DigestMismatch { .. }))), "last item: {:?}", items.last());
    assert_eq!(items.iter().filter(|item| item.is_err()).count(), 1, "exactly one error, at the end");
    let delivered: usize = items.iter().filter_map(|item| item.as_ref().ok()).map(|chunk| chunk.len()).sum();
    assert!(delivered < real.len(), "the last chunk of a lie is never passed on ({delivered} bytes were)");
    let items = drain(client.blob_stream("honest", &digest, 1 << 20).await.unwrap()).await;
    let received: Vec<u8> = items.into_iter().flat_map(|item| item.unwrap().to_vec()).collect();
    assert_eq!(received, real);
}

// S1/S5: a stream past its cap yields TooLarge as its last item even when the bytes are genuine.
#[tokio::test]
async fn a_blob_stream_past_its_cap_ends_with_too_large() {
    let real = vec![1u8; 300_000];
    let digest = Digest::sha256(&real);
    let registry = FaultyRegistry::builder()
        .get("/v2/chunked/blobs/*", Reply::blob("").body(ReplyBody::Chunked(real.clone().into())))
        .get("/v2/endless/blobs/*", Reply::blob("").body(ReplyBody::Endless))
        .get("/v2/announced/blobs/*", Reply::blob(real))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    for repository in ["chunked", "endless"] {
        let items = drain(client.blob_stream(repository, &digest, 100_000).await.unwrap()).await;
        assert!(
            matches!(items.last(), Some(Err(OciError::TooLarge { cap: 100_000, .. }))),
            "{repository}: {:?}",
            items.last()
        );
        let delivered: usize = items.iter().filter_map(|item| item.as_ref().ok()).map(|chunk| chunk.len()).sum();
        assert!(delivered <= 100_000, "{repository}: delivered {delivered} bytes past the cap");
    }
    let error = client.blob_stream("announced", &digest, 100_000).await.unwrap_err();
    assert!(matches!(error, OciError::TooLarge { .. }), "a Content-Length over the cap fails before reading: {error}");
}

// S2: on a tag fetch, a Docker-Content-Digest that disagrees with the body is a mismatch.
#[tokio::test]
async fn a_lying_docker_content_digest_on_a_tag_fetch_is_a_digest_mismatch() {
    let body = image_manifest("tagged");
    let truth = Digest::sha256(body.as_bytes()).to_string();
    let lie = Digest::sha256(b"another manifest").to_string();
    let registry = FaultyRegistry::builder()
        .get("/v2/lying/manifests/*", Reply::manifest(body.clone()).header("docker-content-digest", lie))
        .get("/v2/honest/manifests/*", Reply::manifest(body).header("docker-content-digest", truth.clone()))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let error = client.get_manifest("lying", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::DigestMismatch { .. }), "{error}");
    assert_eq!(client.get_manifest("honest", "v1").await.unwrap().digest.to_string(), truth);
}

// S2: a sha512 header when sha256 was asked is verified with sha512; the artifact keeps the
// sha256 digest we computed; a false sha512 header is a mismatch.
#[tokio::test]
async fn a_sha512_header_for_a_sha256_request_is_verified_and_the_computed_digest_wins() {
    let body = image_manifest("sha512-header");
    let sha256 = Digest::sha256(body.as_bytes());
    let true_sha512 = Digest::compute(Algorithm::Sha512, body.as_bytes()).to_string();
    let false_sha512 = Digest::compute(Algorithm::Sha512, b"other").to_string();
    let registry = FaultyRegistry::builder()
        .get("/v2/honest/manifests/*", Reply::manifest(body.clone()).header("docker-content-digest", true_sha512))
        .get("/v2/lying/manifests/*", Reply::manifest(body).header("docker-content-digest", false_sha512))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    assert_eq!(client.get_manifest("honest", &sha256.to_string()).await.unwrap().digest, sha256);
    assert_eq!(client.get_manifest("honest", "v1").await.unwrap().digest, sha256, "by tag: our sha256");
    for reference in [sha256.to_string(), "v1".to_owned()] {
        let error = client.get_manifest("lying", &reference).await.unwrap_err();
        assert!(matches!(error, OciError::DigestMismatch { .. }), "{reference}: {error}");
    }
}

// S2/S3: a Docker-Content-Digest that is not a digest at all is rejected, never used.
#[tokio::test]
async fn a_malformed_docker_content_digest_is_an_invalid_digest() {
    let registry = FaultyRegistry::builder()
        .get(
            "/v2/x/manifests/*",
            Reply::manifest(image_manifest("x")).header("docker-content-digest", "sha256:../../x#"),
        )
        .start()
        .await
        .unwrap();
    let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::InvalidDigest(_)), "{error}");
}

// S2: HEAD by digest may not answer with another digest (the registry would swap the artifact).
#[tokio::test]
async fn a_head_by_digest_answered_with_another_digest_is_a_digest_mismatch() {
    let asked = Digest::sha256(image_manifest("asked").as_bytes());
    let other = Digest::sha256(image_manifest("other").as_bytes());
    let registry = FaultyRegistry::builder()
        .get("/v2/lying/manifests/*", Reply::new(200).header("docker-content-digest", other.to_string()))
        .get("/v2/honest/manifests/*", Reply::new(200).header("docker-content-digest", asked.to_string()))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    assert_eq!(client.head_manifest("honest", &asked.to_string()).await.unwrap(), Some(asked.clone()));
    let answer = client.head_manifest("lying", &asked.to_string()).await;
    assert!(matches!(answer, Err(OciError::DigestMismatch { .. })), "{answer:?}");
}

// S3: sha512-addressed manifests and blobs are fetched and verified with sha512.
#[tokio::test]
async fn sha512_content_is_accepted_and_verified_with_sha512() {
    let body = image_manifest("sha512");
    let digest = Digest::compute(Algorithm::Sha512, body.as_bytes());
    let blob_digest = Digest::compute(Algorithm::Sha512, b"sha512 layer");
    let registry = FaultyRegistry::builder()
        .get("/v2/honest/manifests/*", Reply::manifest(body))
        .get("/v2/honest/blobs/*", Reply::blob("sha512 layer"))
        .get("/v2/lying/manifests/*", Reply::manifest(image_manifest("forged")))
        .get("/v2/lying/blobs/*", Reply::blob("forged layer"))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    assert_eq!(client.get_manifest("honest", &digest.to_string()).await.unwrap().digest, digest);
    assert_eq!(&client.get_blob("honest", &blob_digest).await.unwrap()[..], b"sha512 layer");
    let error = client.get_manifest("lying", &digest.to_string()).await.unwrap_err();
    assert!(
        matches!(&error, OciError::DigestMismatch { actual, .. } if actual.algorithm() == Algorithm::Sha512),
        "{error}"
    );
    assert!(matches!(client.get_blob("lying", &blob_digest).await, Err(OciError::DigestMismatch { .. })));
}

// S3: md5, uppercase, short, traversal digests and bad names fail before any request is sent.
#[tokio::test]
async fn malformed_digests_and_names_never_reach_the_network() {
    let registry = FaultyRegistry::builder().get("/*", Reply::manifest(image_manifest("any"))).start().await.unwrap();
    let client = client_for(&registry);
    let upper = format!("sha256:{}", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
    for bad in ["md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:e3b0", "sha256:../../x#", upper.as_str()] {
        let error = client.get_manifest("x", bad).await.unwrap_err();
        assert!(matches!(error, OciError::InvalidDigest(_)), "{bad}: {error}");
        assert!(matches!(client.head_manifest("x", bad).await, Err(OciError::InvalidDigest(_))), "{bad}");
        assert!(bad.parse::<Digest>().is_err(), "{bad}");
    }
    for bad_name in ["../etc", "x/../../v2", "X", "a//b"] {
        let error = client.get_manifest(bad_name, "latest").await.unwrap_err();
        assert!(matches!(error, OciError::InvalidReference(_)), "{bad_name}: {error}");
    }
    assert!(matches!(client.get_manifest("x", "../../latest").await, Err(OciError::InvalidReference(_))));
    assert_eq!(registry.count(""), 0, "nothing was sent: {:?}", registry.requests());
}

// S1: a schema 1 body is no way around verification: fetched by digest, its bytes must match.
#[tokio::test]
async fn a_schema1_document_served_for_a_digest_it_does_not_have_is_a_digest_mismatch() {
    let schema1 = r#"{"schemaVersion":1,"name":"x","tag":"v1","architecture":"amd64","fsLayers":[],"history":[]}"#;
    let own = Digest::sha256(schema1.as_bytes());
    let asked = Digest::sha256(image_manifest("the real one").as_bytes());
    let reply = Reply::new(200).header("content-type", media_types::DOCKER_SCHEMA1_SIGNED).bytes(schema1);
    let registry = FaultyRegistry::builder().get("/v2/x/manifests/*", reply).start().await.unwrap();
    let client = client_for(&registry);
    let manifest = client.get_manifest("x", &own.to_string()).await.unwrap();
    assert!(matches!(manifest.body, ManifestBody::Schema1), "its own digest is fine");
    let answer = client.get_manifest("x", &asked.to_string()).await;
    assert!(matches!(answer, Err(OciError::DigestMismatch { .. })), "{:?}", answer.map(|m| m.digest));
}
