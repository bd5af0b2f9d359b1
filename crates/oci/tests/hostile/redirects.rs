//! S8, S10, S11: blob redirects (credentials stay home, at most 10 hops, no downgrade, no
//! loopback or names resolving to it for a public registry) and descriptor `urls` never fetched.

use ocicat_testkit::{Reply, Script};

use super::*;

// S10: a 307 to a storage host on another port is followed without the Authorization header.
#[tokio::test]
async fn a_blob_redirect_to_another_port_is_followed_without_credentials() {
    let storage = FaultyRegistry::builder().get("/storage/*", Reply::blob("layer bytes")).start().await.unwrap();
    let location = format!("{}/storage/layer", storage.url());
    let needs_basic = Script::dynamic(move |seen| match seen.header("authorization") {
        None => Reply::new(401).header("www-authenticate", r#"Basic realm="faulty""#),
        Some(_) => Reply::redirect(307, &location),
    });
    let registry = FaultyRegistry::builder().get("/v2/x/blobs/*", needs_basic).start().await.unwrap();
    let client = client_with(&registry.url(), |config| config.credentials = basic("ci", "canary-pass"));
    let digest = Digest::sha256(b"layer bytes");
    assert_eq!(&client.get_blob("x", &digest).await.unwrap()[..], b"layer bytes");
    let sent = registry.requests();
    assert!(sent.last().and_then(|seen| seen.header("authorization")).is_some(), "the registry got credentials");
    let fetched = storage.requests();
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].header("authorization"), None, "credentials leaked to the storage host");
}

// S10: a redirect chain longer than 10 hops is refused, once, without retry storms; 3 hops are fine.
#[tokio::test]
async fn a_redirect_chain_of_twenty_hops_is_refused_after_ten() {
    let registry = FaultyRegistry::builder()
        .get("/v2/long/blobs/*", Reply::redirect(307, "/long/1"))
        .get("/long/*", Script::redirect_chain("/long/", 20, Reply::blob("layer")))
        .get("/v2/short/blobs/*", Reply::redirect(307, "/short/1"))
        .get("/short/*", Script::redirect_chain("/short/", 3, Reply::blob("layer")))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    let digest = Digest::sha256(b"layer");
    assert_eq!(&client.get_blob("short", &digest).await.unwrap()[..], b"layer");
    let error = client.get_blob("long", &digest).await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(registry.count("/v2/long/"), 1, "a refused redirect is not retried");
    assert!(registry.count("/long/") <= 10, "followed {} hops", registry.count("/long/"));
}

// S10: even a registry on loopback may not send the client over plain http to another host.
#[tokio::test]
async fn a_blob_redirect_to_a_foreign_http_host_is_refused() {
    let registry = FaultyRegistry::builder()
        .get("/v2/x/blobs/*", Reply::redirect(307, "http://evil.invalid/layer"))
        .start()
        .await
        .unwrap();
    let error = client_for(&registry).get_blob("x", &Digest::sha256(b"layer")).await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(registry.count(""), 1, "a refused redirect is not retried");
}

/// A storage server on loopback, and a registry reached through a loopback alias (so the client
/// treats it as public) whose blobs redirect to `location(storage port)`.
async fn public_registry_redirecting(location: impl Fn(u16) -> String) -> (FaultyRegistry, FaultyRegistry, Client) {
    let storage = FaultyRegistry::builder().get("/*", Reply::blob("layer")).start().await.unwrap();
    let registry = FaultyRegistry::builder()
        .get("/v2/x/blobs/*", Reply::redirect(307, &location(storage.port())))
        .start()
        .await
        .unwrap();
    let client = client_with(&registry.url_via(&aliases(1)[0]), |_| {});
    (storage, registry, client)
}

// S8/S10: a public registry's redirect over http to another host (loopback here) is refused.
#[tokio::test]
async fn a_public_registry_redirecting_over_http_elsewhere_is_refused() {
    let (storage, registry, client) =
        public_registry_redirecting(|port| format!("http://127.0.0.1:{port}/layer")).await;
    let error = client.get_blob("x", &Digest::sha256(b"layer")).await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(storage.connections(), 0);
    assert_eq!(registry.count(""), 1, "a refused redirect is not retried");
}

// S8: a public registry's redirect to a loopback address is refused, even over https.
#[tokio::test]
async fn a_public_registry_redirecting_to_loopback_is_refused() {
    let (storage, _registry, client) =
        public_registry_redirecting(|port| format!("https://127.0.0.1:{port}/layer")).await;
    let error = client.get_blob("x", &Digest::sha256(b"layer")).await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(storage.connections(), 0);
}

// S8 (DNS rebinding): a redirect to a name that resolves to loopback is never connected to.
#[tokio::test]
async fn a_public_registry_redirecting_to_a_name_that_resolves_to_loopback_never_connects() {
    let other_alias = aliases(2)[1].clone();
    let (storage, _registry, client) =
        public_registry_redirecting(move |port| format!("https://{other_alias}:{port}/layer")).await;
    let error = client.get_blob("x", &Digest::sha256(b"layer")).await.unwrap_err();
    assert!(matches!(&error, OciError::Unreachable { reason, .. } if reason.contains("internal")), "{error}");
    assert_eq!(storage.connections(), 0);
}

// S11: descriptor `urls` (foreign layers) are never fetched, even when the blob is requested.
#[tokio::test]
async fn foreign_layer_urls_in_a_manifest_are_never_fetched() {
    let foreign = FaultyRegistry::builder().get("/*", Reply::blob("foreign")).start().await.unwrap();
    let layer = Digest::sha256(b"foreign");
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{EMPTY_CONFIG}","size":2}},"layers":[{{"mediaType":"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip","digest":"{layer}","size":7,"urls":["{}/layer","javascript:alert(1)"]}}]}}"#,
        media_types::OCI_MANIFEST,
        media_types::OCI_CONFIG,
        foreign.url(),
    );
    let registry = FaultyRegistry::builder().get("/v2/x/manifests/*", Reply::manifest(manifest)).start().await.unwrap();
    let client = client_for(&registry);
    client.get_manifest("x", "v1").await.unwrap();
    assert!(matches!(client.get_blob("x", &layer).await, Err(OciError::NotFound { .. })));
    assert_eq!(foreign.connections(), 0);
}

// S20: a presigned storage URL (its credentials in the query) never reaches an error message,
// so never `last_error`, a page or a log.
#[tokio::test]
async fn a_presigned_redirect_target_never_reaches_an_error_message() {
    let storage = FaultyRegistry::builder().get("/storage/*", Reply::new(403)).start().await.unwrap();
    let location =
        format!("{}/storage/layer?X-Amz-Credential=AKIA-canary&X-Amz-Signature=canary-signature", storage.url());
    let registry =
        FaultyRegistry::builder().get("/v2/x/blobs/*", Reply::redirect(307, &location)).start().await.unwrap();
    let error = client_for(&registry).get_blob("x", &Digest::sha256(b"layer bytes")).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("canary"), "{shown}");
    assert!(shown.contains("/storage/layer"), "the error still says where it failed: {shown}");
}
