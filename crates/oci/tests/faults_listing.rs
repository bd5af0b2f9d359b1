//! Paging, redirects, auth challenges, rate limits, stalls and referrers against a misbehaving
//! registry (SECURITY.md S7–S10, S15, S17). Each test counts requests or runs the honest case.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, RawQuery};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use ocicat_oci::{Client, ClientConfig, Credentials, Digest, OciError, ReferrerSource, media_types};
use ocicat_testkit::FaultServer;

fn client_with(server: &FaultServer, adjust: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut config = ClientConfig::new(server.url().parse().unwrap(), Credentials::Anonymous);
    config.politeness.retry_base_delay = Duration::from_millis(20);
    adjust(&mut config);
    Client::new(config).unwrap()
}

fn client(server: &FaultServer) -> Client {
    client_with(server, |_| {})
}

fn tags_page(tags: &[&str], next: Option<String>) -> axum::response::Response {
    let body = serde_json::json!({ "name": "x", "tags": tags }).to_string();
    match next {
        Some(link) => ([(header::LINK, format!("<{link}>; rel=\"next\""))], body).into_response(),
        None => body.into_response(),
    }
}

// S7: a page linking to itself, and A→B→A, end with a truncated listing instead of looping.
#[tokio::test]
async fn link_loops_end_in_a_truncated_listing() {
    let routes = Router::new().route(
        "/v2/x/tags/list",
        get(|RawQuery(query): RawQuery| async move {
            match query.as_deref() {
                Some("page=b") => tags_page(&["b"], Some("/v2/x/tags/list?page=a".into())),
                Some("page=a") => tags_page(&["a"], Some("/v2/x/tags/list?page=b".into())),
                _ => tags_page(&["start"], Some("/v2/x/tags/list?page=a".into())),
            }
        }),
    );
    let server = FaultServer::start(routes).await.unwrap();
    let listing = client(&server).tags("x").await.unwrap();
    assert!(listing.truncated);
    assert_eq!(listing.items, ["a", "b", "start"]);
    assert_eq!(server.requests().len(), 3, "{:?}", server.requests());
}

// S7: a million pages stop at the page cap.
#[tokio::test]
async fn endless_paging_stops_at_the_page_cap() {
    #[derive(serde::Deserialize)]
    struct Page {
        page: Option<u64>,
    }
    let routes = Router::new().route(
        "/v2/x/tags/list",
        get(|Query(query): Query<Page>| async move {
            let page = query.page.unwrap_or(0);
            tags_page(&[&format!("t{page}")], Some(format!("/v2/x/tags/list?page={}", page + 1)))
        }),
    );
    let server = FaultServer::start(routes).await.unwrap();
    let client = client_with(&server, |config| config.limits.list_pages = 25);
    let listing = client.tags("x").await.unwrap();
    assert!(listing.truncated);
    assert_eq!(listing.items.len(), 25);
    assert_eq!(server.count("tags/list"), 25);
}

// S7/S8: a Link to another host is refused, and nothing is sent there.
#[tokio::test]
async fn cross_origin_links_are_refused() {
    let routes = Router::new().route(
        "/v2/x/tags/list",
        get(|| async { tags_page(&["a"], Some("http://evil.invalid/v2/x/tags/list".into())) }),
    );
    let server = FaultServer::start(routes).await.unwrap();
    let error = client(&server).tags("x").await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(server.requests().len(), 1);
}

// S10: a redirect chain longer than ten hops is not followed to its end.
#[tokio::test]
async fn redirect_chains_are_cut_at_ten_hops() {
    let routes = Router::new().route(
        "/v2/x/blobs/{hop}",
        get(|axum::extract::Path(hop): axum::extract::Path<String>| async move {
            let next: u32 = hop.trim_start_matches("hop").parse().unwrap_or(0) + 1;
            Redirect::temporary(&format!("/v2/x/blobs/hop{next}")).into_response()
        }),
    );
    let server = FaultServer::start(routes).await.unwrap();
    let digest = Digest::sha256(b"x");
    let error = client(&server).get_blob("x", &digest).await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert!(server.count("/blobs/") <= 11, "{} requests", server.count("/blobs/"));
}

// S9: hostile WWW-Authenticate headers give a clear error, never a panic or a request elsewhere.
#[tokio::test]
async fn hostile_auth_challenges_are_refused_cleanly() {
    let routes = Router::new()
        .route(
            "/v2/ftp/tags/list",
            get(|| async {
                (
                    StatusCode::UNAUTHORIZED,
                    [(header::WWW_AUTHENTICATE, "Bearer realm=\"ftp://127.0.0.1/token\",service=\"x\"")],
                )
                    .into_response()
            }),
        )
        .route(
            "/v2/huge/tags/list",
            get(|| async {
                let header_value = format!("Bearer realm=\"{}", "a".repeat(64 * 1024));
                (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, header_value)]).into_response()
            }),
        )
        .route(
            "/v2/quotes/tags/list",
            get(|| async {
                (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer realm=\"unterminated")]).into_response()
            }),
        );
    let server = FaultServer::start(routes).await.unwrap();
    let error = client(&server).tags("ftp").await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    for repository in ["huge", "quotes"] {
        let error = client(&server).tags(repository).await.unwrap_err();
        assert!(matches!(error, OciError::Refused { .. } | OciError::Unauthorized { .. }), "{repository}: {error}");
    }
    assert_eq!(server.count("token"), 0);
}

// S17: a 429 window is waited out before the next request; a 429 storm ends in RateLimited.
#[tokio::test]
async fn rate_limits_are_waited_out_and_storms_give_up() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let routes = Router::new()
        .route(
            "/v2/once/tags/list",
            get(move || {
                let counter = counter.clone();
                async move {
                    if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                        (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "1")]).into_response()
                    } else {
                        tags_page(&["v1"], None)
                    }
                }
            }),
        )
        .route(
            "/v2/storm/tags/list",
            get(|| async { (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, "0")]).into_response() }),
        );
    let server = FaultServer::start(routes).await.unwrap();
    let client = client(&server);
    let listing = client.tags("once").await.unwrap();
    assert_eq!(listing.items, ["v1"]);
    let times = server.request_times();
    assert!(
        times[1].duration_since(times[0]) >= Duration::from_millis(950),
        "retried after {:?}",
        times[1].duration_since(times[0])
    );
    let error = client.tags("storm").await.unwrap_err();
    assert!(matches!(error, OciError::RateLimited { .. }), "{error}");
    assert_eq!(server.count("storm"), 3, "one try and two retries");
}

// S15/S17: a failing registry trips the circuit breaker; then calls fail fast without a request.
#[tokio::test]
async fn repeated_server_errors_open_the_circuit() {
    let routes = Router::new().route("/v2/x/tags/list", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }));
    let server = FaultServer::start(routes).await.unwrap();
    let client = client_with(&server, |config| config.politeness.breaker_threshold = 3);
    assert!(matches!(client.tags("x").await, Err(OciError::Status { status: 500, .. })));
    assert_eq!(server.requests().len(), 3, "one try and two retries");
    let started = Instant::now();
    let error = client.tags("x").await.unwrap_err();
    assert!(matches!(error, OciError::CircuitOpen { .. }), "{error}");
    assert_eq!(server.requests().len(), 3, "an open circuit sends nothing");
    assert!(started.elapsed() < Duration::from_millis(200));
}

// S15: a body that trickles in is cut by the request timeout.
#[tokio::test]
async fn a_stalled_body_times_out() {
    let routes = Router::new().route(
        "/v2/x/tags/list",
        get(|| async {
            let trickle = futures::stream::unfold(0u32, |sent| async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from_static(b" ")), sent + 1))
            });
            axum::body::Body::from_stream(trickle).into_response()
        }),
    );
    let server = FaultServer::start(routes).await.unwrap();
    let client = client_with(&server, |config| {
        config.request_timeout = Duration::from_millis(700);
        config.politeness.max_retries = 0;
    });
    let started = Instant::now();
    let error = client.tags("x").await.unwrap_err();
    assert!(matches!(error, OciError::Unreachable { .. }), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

// Referrers: a plain-text 404 means "no API" (cached: asked once); NAME_UNKNOWN is an error;
// the client filters by artifactType when the registry did not.
#[tokio::test]
async fn referrers_capability_is_detected_cached_and_filtered_client_side() {
    let subject = Digest::sha256(b"subject");
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": media_types::OCI_INDEX, "manifests": [
        {"mediaType": media_types::OCI_MANIFEST, "digest": Digest::sha256(b"sbom").to_string(), "size": 10, "artifactType": "application/spdx+json"},
        {"mediaType": media_types::OCI_MANIFEST, "digest": Digest::sha256(b"sig").to_string(), "size": 10, "artifactType": "application/vnd.cncf.notary.signature"}
    ]})
    .to_string();
    let routes = Router::new()
        .route(
            "/v2/api/referrers/{digest}",
            get(move || {
                let index = index.clone();
                async move { ([(header::CONTENT_TYPE, media_types::OCI_INDEX)], index).into_response() }
            }),
        )
        .route(
            "/v2/gone/referrers/{digest}",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}"#,
                )
                    .into_response()
            }),
        );
    let api_server = FaultServer::start(routes).await.unwrap();
    let client = client(&api_server);
    let filtered = client.referrers_api("api", &subject, Some("application/spdx+json")).await.unwrap().unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(filtered[0].sources, [ReferrerSource::Api]);
    assert!(matches!(client.referrers_api("gone", &subject, None).await, Err(OciError::NotFound { .. })));

    let plain = FaultServer::start(Router::new()).await.unwrap();
    let client = client_with(&plain, |_| {});
    assert!(client.referrers_api("x", &subject, None).await.unwrap().is_none());
    assert!(client.referrers_api("y", &subject, None).await.unwrap().is_none());
    assert_eq!(plain.count("referrers"), 1, "unsupported is remembered");
}
