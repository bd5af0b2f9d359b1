//! The client against a registry that lies, loops, floods and stalls (SECURITY.md S1–S11, S15,
//! S17). Every test also runs the honest variant or counts requests, so it fails if its
//! defence is removed.

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use futures::StreamExt as _;
use ocicat_oci::{Algorithm, Client, ClientConfig, Credentials, Digest, OciError, media_types};
use ocicat_testkit::FaultServer;

const EMPTY_CONFIG: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

fn image_manifest() -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{EMPTY_CONFIG}","size":2}},"layers":[]}}"#,
        media_types::OCI_MANIFEST
    )
}

fn client_with(server: &FaultServer, adjust: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut config = ClientConfig::new(server.url().parse().unwrap(), Credentials::Anonymous);
    config.politeness.retry_base_delay = Duration::from_millis(20);
    adjust(&mut config);
    Client::new(config).unwrap()
}

fn client(server: &FaultServer) -> Client {
    client_with(server, |_| {})
}

fn manifest_response(body: impl Into<Bytes>, digest_header: Option<String>) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_types::OCI_MANIFEST));
    if let Some(digest) = digest_header {
        headers.insert("docker-content-digest", HeaderValue::from_str(&digest).unwrap());
    }
    (headers, body.into()).into_response()
}

// S1: wrong bytes for a manifest requested by digest are rejected; the right bytes pass.
#[tokio::test]
async fn a_manifest_whose_bytes_do_not_match_the_requested_digest_is_rejected() {
    let honest = Digest::sha256(image_manifest().as_bytes());
    let lie = image_manifest().replace("\"layers\":[]", "\"layers\":[] ");
    let routes = Router::new()
        .route("/v2/lying/manifests/{reference}", get(move || async move { manifest_response(lie, None) }))
        .route("/v2/honest/manifests/{reference}", get(|| async { manifest_response(image_manifest(), None) }));
    let server = FaultServer::start(routes).await.unwrap();
    let error = client(&server).get_manifest("lying", &honest.to_string()).await.unwrap_err();
    assert!(matches!(error, OciError::DigestMismatch { .. }), "{error}");
    assert_eq!(client(&server).get_manifest("honest", &honest.to_string()).await.unwrap().digest, honest);
}

// S1: a blob stream that lies ends with an error, never a clean end; get_blob refuses it too.
#[tokio::test]
async fn a_lying_blob_stream_fails_before_it_completes() {
    let promised = Digest::sha256(b"the real layer");
    let routes =
        Router::new().route("/v2/x/blobs/{digest}", get(|| async { Bytes::from_static(b"a different layer!") }));
    let server = FaultServer::start(routes).await.unwrap();
    let client = client(&server);
    let mut stream = client.blob_stream("x", &promised, 1 << 20).await.unwrap();
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    assert!(matches!(items.last(), Some(Err(OciError::DigestMismatch { .. }))), "{items:?}");
    assert!(matches!(client.get_blob("x", &promised).await, Err(OciError::DigestMismatch { .. })));
}

// S1/S5: an honest stream yields every byte; one past its cap stops with TooLarge.
#[tokio::test]
async fn blob_streams_deliver_verified_bytes_and_stop_at_the_cap() {
    let body = vec![7u8; 300_000];
    let digest = Digest::sha256(&body);
    let served = body.clone();
    let routes = Router::new().route("/v2/x/blobs/{digest}", get(move || async move { Bytes::from(served) }));
    let server = FaultServer::start(routes).await.unwrap();
    let client = client(&server);
    let chunks: Vec<_> = client.blob_stream("x", &digest, 1 << 20).await.unwrap().collect().await;
    let received: Vec<u8> = chunks.into_iter().flat_map(|chunk| chunk.unwrap().to_vec()).collect();
    assert_eq!(received, body);
    let error = client.blob_stream("x", &digest, 1000).await.unwrap_err();
    assert!(matches!(error, OciError::TooLarge { .. }), "{error}");
}

// S2: a Docker-Content-Digest that disagrees with the body is a mismatch; sha512 headers are checked with sha512.
#[tokio::test]
async fn a_lying_docker_content_digest_is_rejected_and_a_true_sha512_one_accepted() {
    let wrong = Digest::sha256(b"something else").to_string();
    let sha512 = Digest::compute(Algorithm::Sha512, image_manifest().as_bytes()).to_string();
    let routes = Router::new()
        .route(
            "/v2/lying/manifests/{reference}",
            get(move || async move { manifest_response(image_manifest(), Some(wrong)) }),
        )
        .route(
            "/v2/sha512/manifests/{reference}",
            get(move || async move { manifest_response(image_manifest(), Some(sha512)) }),
        );
    let server = FaultServer::start(routes).await.unwrap();
    let error = client(&server).get_manifest("lying", "latest").await.unwrap_err();
    assert!(matches!(error, OciError::DigestMismatch { .. }), "{error}");
    let manifest = client(&server).get_manifest("sha512", "latest").await.unwrap();
    assert_eq!(manifest.digest, Digest::sha256(image_manifest().as_bytes()), "identified by the sha256 we computed");
}

// S3: sha512 content is verified; malformed digests fail before any request is sent.
#[tokio::test]
async fn sha512_is_verified_and_bad_digests_never_reach_the_network() {
    let digest = Digest::compute(Algorithm::Sha512, image_manifest().as_bytes());
    let routes =
        Router::new().route("/v2/x/manifests/{reference}", get(|| async { manifest_response(image_manifest(), None) }));
    let server = FaultServer::start(routes).await.unwrap();
    let client = client(&server);
    assert_eq!(client.get_manifest("x", &digest.to_string()).await.unwrap().digest, digest);
    let before = server.requests().len();
    for bad in ["md5:d41d8cd98f00b204e9800998ecf8427e", "sha256:../../x#", "sha256:ABC"] {
        assert!(client.get_manifest("x", bad).await.is_err(), "{bad}");
    }
    assert!(client.get_manifest("../etc", "latest").await.is_err());
    assert_eq!(server.requests().len(), before, "no request for invalid input");
}

// S4: ambiguous documents and a media type that contradicts Content-Type are rejected.
#[tokio::test]
async fn ambiguous_and_mislabelled_manifests_are_rejected() {
    let routes = Router::new()
        .route(
            "/v2/ambiguous/manifests/{reference}",
            get(|| async { manifest_response(r#"{"schemaVersion":2,"manifests":[],"layers":[],"config":{}}"#, None) }),
        )
        .route(
            "/v2/mislabelled/manifests/{reference}",
            get(|| async { ([(header::CONTENT_TYPE, media_types::OCI_INDEX)], image_manifest()).into_response() }),
        );
    let server = FaultServer::start(routes).await.unwrap();
    for repository in ["ambiguous", "mislabelled"] {
        let error = client(&server).get_manifest(repository, "latest").await.unwrap_err();
        assert!(matches!(error, OciError::InvalidDocument { .. }), "{repository}: {error}");
    }
}

// S5: oversized, endless and falsely sized bodies stop at the cap.
#[tokio::test]
async fn oversized_and_endless_manifests_stop_at_the_cap() {
    let endless = || async {
        let chunks = futures::stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from(vec![b' '; 64 * 1024])));
        ([(header::CONTENT_TYPE, media_types::OCI_MANIFEST)], axum::body::Body::from_stream(chunks)).into_response()
    };
    let routes = Router::new()
        .route("/v2/big/manifests/{reference}", get(|| async { manifest_response(vec![b' '; 5 << 20], None) }))
        .route("/v2/endless/manifests/{reference}", get(endless));
    let server = FaultServer::start(routes).await.unwrap();
    for repository in ["big", "endless"] {
        let error = client(&server).get_manifest(repository, "latest").await.unwrap_err();
        assert!(matches!(error, OciError::TooLarge { cap, .. } if cap == 4 << 20), "{repository}: {error}");
    }
}

// S6: JSON nested 10k deep is a parse error, not a stack overflow.
#[tokio::test]
async fn deeply_nested_json_is_an_error() {
    let routes = Router::new()
        .route("/v2/deep/manifests/{reference}", get(|| async { manifest_response("[".repeat(10_000), None) }));
    let server = FaultServer::start(routes).await.unwrap();
    assert!(matches!(client(&server).get_manifest("deep", "latest").await, Err(OciError::InvalidDocument { .. })));
}
