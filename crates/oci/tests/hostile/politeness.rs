//! S15, S17: rate limits honoured to the end of their window, bounded retries, the circuit
//! breaker, and slow or stalled registries cut off by the request timeout.

use std::time::Instant;

use ocicat_testkit::{Reply, ReplyBody, Script};

use super::*;

fn too_many(retry_after: &str) -> Reply {
    Reply::error(429, "TOOMANYREQUESTS", "slow down").header("retry-after", retry_after)
}

// S17: after `429 Retry-After: 1` the retry waits out the window, then succeeds.
#[tokio::test]
async fn a_429_with_retry_after_is_retried_only_after_the_window() {
    let registry = FaultyRegistry::builder()
        .get("/v2/x/manifests/*", Script::sequence([too_many("1"), Reply::manifest(image_manifest("x"))]))
        .start()
        .await
        .unwrap();
    client_for(&registry).get_manifest("x", "v1").await.unwrap();
    let times: Vec<Instant> = registry.requests().iter().map(|seen| seen.at).collect();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_secs(1), "retried after {:?}", times[1] - times[0]);
}

// S17: the window holds for every request to that registry, not just the one that got the 429.
#[tokio::test]
async fn after_a_429_no_request_to_the_registry_is_sent_before_the_window_ends() {
    let registry = FaultyRegistry::builder()
        .get("/v2/limited/manifests/*", too_many("1"))
        .get("/v2/other/manifests/*", Reply::manifest(image_manifest("other")))
        .start()
        .await
        .unwrap();
    let client = client_with(&registry.url(), |config| config.politeness.max_retries = 0);
    let error = client.get_manifest("limited", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::RateLimited { retry_after_secs: Some(1), .. }), "{error}");
    client.get_manifest("other", "v1").await.unwrap();
    let times: Vec<Instant> = registry.requests().iter().map(|seen| seen.at).collect();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_secs(1), "sent after {:?}", times[1] - times[0]);
}

// S17: 429 for ever gives RateLimited after exactly max_retries retries: no retry storm.
#[tokio::test]
async fn a_registry_that_always_answers_429_gets_max_retries_then_rate_limited() {
    let registry = FaultyRegistry::builder().get("/v2/x/tags/list", too_many("0")).start().await.unwrap();
    let client = client_with(&registry.url(), |config| config.politeness.max_retries = 3);
    let error = client.tags("x").await.unwrap_err();
    assert!(matches!(error, OciError::RateLimited { .. }), "{error}");
    assert_eq!(registry.count(""), 4);
}

// S15: a transient 500 is retried and the call succeeds.
#[tokio::test]
async fn a_single_500_is_retried_and_the_call_succeeds() {
    let registry = FaultyRegistry::builder()
        .get("/v2/x/manifests/*", Script::sequence([Reply::new(500), Reply::manifest(image_manifest("x"))]))
        .start()
        .await
        .unwrap();
    client_for(&registry).get_manifest("x", "v1").await.unwrap();
    assert_eq!(registry.count(""), 2);
}

// S15: a registry failing for ever opens the circuit: the next call fails fast without a
// request, and other registries carry on.
#[tokio::test]
async fn a_registry_failing_for_ever_opens_the_circuit_and_later_calls_fail_fast() {
    let failing = FaultyRegistry::builder().get("/*", Reply::new(500)).start().await.unwrap();
    let healthy =
        FaultyRegistry::builder().get("/v2/x/manifests/*", Reply::manifest(image_manifest("x"))).start().await.unwrap();
    let client = client_with(&failing.url(), |config| {
        config.politeness.breaker_threshold = 3;
        config.politeness.max_retries = 2;
    });
    let error = client.get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::Status { status: 500, .. }), "{error}");
    assert_eq!(failing.count(""), 3);
    // Failing fast means failing without a request (how fast is a benchmark's business).
    let error = client.tags("x").await.unwrap_err();
    assert!(matches!(error, OciError::CircuitOpen { .. }), "{error}");
    assert_eq!(failing.count(""), 3, "no request while the circuit is open");
    client_for(&healthy).get_manifest("x", "v1").await.unwrap();
}

// S17: a 500 on a DELETE is not retried (not idempotent).
#[tokio::test]
async fn a_failed_delete_is_not_retried() {
    let registry = FaultyRegistry::builder().any("/v2/x/manifests/*", Reply::new(500)).start().await.unwrap();
    let error = client_for(&registry).delete_manifest("x", &Digest::sha256(b"x")).await.unwrap_err();
    assert!(matches!(error, OciError::Status { status: 500, .. }), "{error}");
    assert_eq!(registry.count(""), 1);
}

// S15: a body trickling one byte per 100 ms is cut off by the request timeout.
#[tokio::test]
async fn a_slow_body_is_cut_off_by_the_request_timeout() {
    let slow = ReplyBody::Slow { bytes: image_manifest("slow").into(), interval: Duration::from_millis(100) };
    let registry =
        FaultyRegistry::builder().get("/v2/x/manifests/*", Reply::manifest("").body(slow)).start().await.unwrap();
    let client = client_with(&registry.url(), |config| config.request_timeout = Duration::from_millis(500));
    // Without the timeout the whole body would arrive (after ~30 s) and the call succeed.
    let error = client.get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::Unreachable { .. }), "{error}");
    assert_eq!(registry.count(""), 1, "one request, cut off");
}

// S15: a registry that never answers is cut off by the request timeout, with bounded retries.
#[tokio::test]
async fn a_registry_that_never_answers_is_cut_off_by_the_request_timeout() {
    let registry = FaultyRegistry::builder().get("/v2/x/manifests/*", Reply::stall()).start().await.unwrap();
    let client = client_with(&registry.url(), |config| config.request_timeout = Duration::from_millis(300));
    // Without the timeout this call would never end (nextest's slow-test limit would say so).
    let error = client.get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::Unreachable { .. }), "{error}");
    assert_eq!(registry.count(""), 3, "one try and max_retries (2) retries");
}

// A blob stream longer than the request timeout completes while it keeps moving (a large layer
// over a slow link), and one that stops moving is cut off by the same timeout per read.
#[tokio::test]
async fn a_blob_stream_may_outlast_the_request_timeout_but_not_stall() {
    let blob = vec![5u8; 16];
    let digest = Digest::sha256(&blob);
    let moving = ReplyBody::Slow { bytes: blob.clone().into(), interval: Duration::from_millis(50) };
    let stalled = ReplyBody::Slow { bytes: blob.clone().into(), interval: Duration::from_millis(1500) };
    let registry = FaultyRegistry::builder()
        .get("/v2/moving/blobs/*", Reply::blob("").body(moving))
        .get("/v2/stalled/blobs/*", Reply::blob("").body(stalled))
        .start()
        .await
        .unwrap();
    let client = client_with(&registry.url(), |config| config.request_timeout = Duration::from_millis(400));
    let started = Instant::now();
    let items = drain(client.blob_stream("moving", &digest, 1 << 20).await.unwrap()).await;
    assert!(started.elapsed() > Duration::from_millis(400), "the stream took longer than the request timeout");
    let received: Vec<u8> = items.into_iter().flat_map(|item| item.unwrap().to_vec()).collect();
    assert_eq!(received, blob);
    let items = drain(client.blob_stream("stalled", &digest, 1 << 20).await.unwrap()).await;
    assert!(items.last().is_some_and(Result::is_err), "a stalled stream ends with an error: {:?}", items.last());
}
