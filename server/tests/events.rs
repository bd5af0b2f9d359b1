//! Registry notifications end to end: a real distribution 2.8.2 posts its push events to a real
//! ocicat listener, and the pushed tag becomes visible in the catalog without a full crawl.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ocicat::events::Events;
use ocicat::state::AppState;
use ocicat_catalog::WriterConfig;
use ocicat_crawler::{CrawlSettings, Crawler, RegistrySource, StatusBoard};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, FaultyRegistry, Reply, Script};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "events-secret-for-tests-0123456789";

/// Polls `condition` every 50 ms until it holds or `limit` passes.
async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition()
}

/// Posts `envelope` to the registry `local`'s notification endpoint with the secret, as
/// distribution 2.x does.
async fn notify(address: std::net::SocketAddr, envelope: &serde_json::Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{address}/events/local"))
        .bearer_auth(SECRET)
        .header("content-type", "application/vnd.docker.distribution.events.v1+json")
        .body(envelope.to_string())
        .send()
        .await
        .unwrap()
}

/// ocicat serving on `listener`, crawling `registry` once at start and then only on events.
struct Running {
    address: std::net::SocketAddr,
    catalog: ocicat_catalog::Catalog,
    board: StatusBoard,
    client: Client,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start_ocicat(listener: tokio::net::TcpListener, registry_url: &str) -> Running {
    start_ocicat_with(listener, registry_url, None).await
}

/// The same, with access control from the `[access]` section `access` when given.
async fn start_ocicat_with(listener: tokio::net::TcpListener, registry_url: &str, access: Option<&str>) -> Running {
    let address = listener.local_addr().unwrap();
    let client = Client::new(ClientConfig::new(registry_url.parse().unwrap(), Credentials::Anonymous)).unwrap();
    let source = RegistrySource::new("local", client.clone());
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    let shutdown = CancellationToken::new();
    // A full crawl only at start: anything later must come from the notification.
    // Notifications are configured for `local`, as `events_secret_env` makes `serve` set it.
    let settings = CrawlSettings {
        interval: Duration::from_secs(3600),
        notified_registries: ["local".to_owned()].into(),
        ..CrawlSettings::default()
    };
    let crawler = Crawler::start(vec![source], catalog.clone(), writer, board.clone(), settings, shutdown.clone());
    let state = AppState::open(
        catalog.clone(),
        board.clone(),
        crawler,
        Events::new(HashMap::from([("local".to_string(), SECRET.to_string())])),
        "target/site",
    );
    let mut state = state;
    let access_data = tempfile::tempdir().unwrap();
    if let Some(section) = access {
        let config: ocicat::auth::config::AccessConfig = toml::from_str(section).expect("[access] parses");
        config.validate(&["local"], std::path::Path::new("test.toml")).expect("[access] is valid");
        state.auth = ocicat::auth::Auth::from_config(&config, access_data.path()).await.expect("access opens");
    }
    let server = tokio::spawn(async move {
        let _access_data = access_data;
        axum::serve(listener, ocicat::router::build_router(state)).await
    });
    assert!(
        eventually(Duration::from_secs(30), || board.get("local").is_some_and(|s| s.crawls_completed >= 1)).await,
        "first crawl"
    );
    Running { address, catalog, board, client, shutdown, server }
}

#[tokio::test]
async fn a_v2_envelope_refreshes_exactly_the_repository_it_names() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let Running { address, catalog, board, shutdown, server, .. } = start_ocicat(listener, &registry.url()).await;
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let named = report.items.iter().find(|item| item.kind == "image" && item.reference.is_some()).unwrap();
    // What distribution 3.x sends: the v2 media type, an OCI descriptor in the target.
    let envelope = serde_json::json!({"events": [{
        "id": "6d5ea0a5-5bb4-4d5c-9d5f-4f4c0f0f0f0f",
        "timestamp": "2026-11-23T10:00:00Z",
        "action": "push",
        "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": named.digest, "size": 1234, "length": 1234,
            "repository": named.repository, "tag": "1.0.0",
        },
        "request": {"id": "r1", "method": "PUT", "useragent": "buildkit"},
        "source": {"addr": "registry:5000", "instanceID": "i1"},
    }]});
    let http = reqwest::Client::new();
    let send = |content_type: &'static str| {
        http.post(format!("http://{address}/events/local"))
            .bearer_auth(SECRET)
            .header("content-type", content_type)
            .body(envelope.to_string())
            .send()
    };
    assert_eq!(send("text/plain").await.unwrap().status().as_u16(), 415);
    let accepted = send("application/vnd.docker.distribution.events.v2+json").await.unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    let arrived = eventually(Duration::from_secs(20), || {
        catalog.artifact("local", &named.repository, &named.digest).ok().flatten().is_some()
    })
    .await;
    assert!(arrived, "the named repository was not refreshed");
    let counts = catalog.registry_counts("local").unwrap();
    assert_eq!(counts.repositories, 1, "only the repository the envelope names is refreshed");

    // "Refresh this repository now" through the JSON API takes the same path.
    let other = report.repositories().into_iter().find(|repository| *repository != named.repository).unwrap();
    let refresh = |query: String| http.post(format!("http://{address}/api/v1/registries/local/refresh?{query}")).send();
    assert_eq!(refresh("repository=..%2Fetc".into()).await.unwrap().status().as_u16(), 400);
    let scheduled = refresh(format!("repository={other}")).await.unwrap();
    assert_eq!(scheduled.status().as_u16(), 200);
    let refreshed = eventually(Duration::from_secs(20), || {
        catalog.registry_counts("local").is_ok_and(|counts| counts.repositories == 2)
    })
    .await;
    assert!(refreshed, "{other} was not refreshed");
    assert!(catalog.repository("local", &other).unwrap().is_some());
    let status: serde_json::Value = http
        .get(format!("http://{address}/api/v1/registries/local/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["name"], "local");
    assert_eq!(status["crawls_completed"], 1, "no full crawl happened: {status}");
    assert!(status["manifests_seen"].as_u64().unwrap() > 0, "refreshes count their fetches: {status}");
    assert_eq!(board.get("local").unwrap().crawls_completed, 1, "no full crawl happened");
    shutdown.cancel();
    server.abort();
}

#[tokio::test]
async fn a_push_reaches_the_catalog_through_a_registry_notification() {
    ocicat_testkit::init_tracing_for_tests();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let registry = Distribution::start(
        DistributionOptions::anonymous().with_notifications(format!("http://{address}/events/local"), SECRET),
    )
    .await
    .unwrap();

    let Running { catalog, board, client, shutdown, server, .. } = start_ocicat(listener, &registry.url()).await;
    // Seeded after the first (empty) crawl: every repository must arrive through notifications.
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let repositories = report.repositories();
    let all_arrived = eventually(Duration::from_secs(30), || {
        catalog.registry_counts("local").is_ok_and(|counts| counts.repositories == repositories.len() as u64)
    })
    .await;
    assert!(all_arrived, "seeded repositories did not all arrive through notifications");

    let image = report.items.iter().find(|item| item.kind == "wasm" && item.reference.is_some()).unwrap();
    let manifest = client.get_manifest(&image.repository, &image.digest).await.unwrap();
    client
        .push_manifest(&image.repository, "from-webhook", &manifest.media_type, Bytes::clone(&manifest.raw))
        .await
        .unwrap();
    let started = Instant::now();
    let tagged = eventually(Duration::from_secs(20), || {
        catalog
            .artifact("local", &image.repository, &image.digest)
            .ok()
            .flatten()
            .is_some_and(|artifact| artifact.tags.iter().any(|tag| tag == "from-webhook"))
    })
    .await;
    assert!(tagged, "the pushed tag never reached the catalog; registry log:\n{}", registry.log_tail(30));
    assert_eq!(board.get("local").unwrap().crawls_completed, 1, "no second full crawl happened");
    eprintln!("push visible in the catalog after {} ms", started.elapsed().as_millis());
    shutdown.cancel();
    server.abort();
}

/// With `[access]` on, the notification's secret (sent as a bearer token) is the registry's
/// proof, not an API token: the event is accepted and refreshes the repository, while the same
/// secret opens nothing else.
#[tokio::test]
async fn notifications_reach_the_catalog_when_access_control_is_on() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let hash = ocicat_access::hash_password("correct horse battery staple").unwrap();
    let access = format!(
        "anonymous = []\n\n[[user]]\nname = \"admin\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"admin\", registry = \"*\" }}]\n"
    );
    let Running { address, catalog, shutdown, server, .. } =
        start_ocicat_with(listener, &registry.url(), Some(&access)).await;
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let named = report.items.iter().find(|item| item.kind == "image" && item.reference.is_some()).unwrap();
    let envelope = serde_json::json!({"events": [{
        "action": "push",
        "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": named.digest, "repository": named.repository, "tag": named.reference,
        },
    }]});
    let http = reqwest::Client::new();
    let accepted = notify(address, &envelope).await;
    assert_eq!(accepted.status().as_u16(), 202, "{}", accepted.text().await.unwrap());
    let arrived = eventually(Duration::from_secs(20), || {
        catalog.artifact("local", &named.repository, &named.digest).ok().flatten().is_some()
    })
    .await;
    assert!(arrived, "the notification did not refresh the repository");
    let as_token = http.get(format!("http://{address}/api/v1/registries")).bearer_auth(SECRET).send().await.unwrap();
    assert_eq!(as_token.status().as_u16(), 401, "the events secret is not an API token");
    let anonymous = http.get(format!("http://{address}/api/v1/registries")).send().await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    shutdown.cancel();
    server.abort();
}

#[tokio::test]
async fn event_requests_need_the_secret_a_known_registry_and_a_sane_rate() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    let state = AppState::open(
        catalog.clone(),
        board.clone(),
        Crawler::start(vec![], catalog, writer, board, CrawlSettings::default(), CancellationToken::new()),
        Events::new(HashMap::from([("local".to_string(), SECRET.to_string())])),
        "target/site",
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, ocicat::router::build_router(state)).await });
    let http = reqwest::Client::new();
    let envelope = r#"{"events":[{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"demo/app","tag":"v1"}},{"action":"push","target":{"mediaType":"application/vnd.oci.image.manifest.v1+json","repository":"../../etc"}}]}"#;
    let post = |registry: &str, secret: Option<&str>| {
        let mut request = http.post(format!("http://{address}/events/{registry}")).body(envelope);
        if let Some(secret) = secret {
            request = request.bearer_auth(secret);
        }
        request.send()
    };
    assert_eq!(post("local", None).await.unwrap().status().as_u16(), 401);
    assert_eq!(post("local", Some("wrong-secret-wrong-secret")).await.unwrap().status().as_u16(), 401);
    assert_eq!(post("other", Some(SECRET)).await.unwrap().status().as_u16(), 404);
    let accepted = post("local", Some(SECRET)).await.unwrap();
    assert_eq!(accepted.status().as_u16(), 202);
    // Only the valid repository name is queued; the traversal attempt is dropped.
    assert_eq!(
        accepted.json::<serde_json::Value>().await.unwrap()["queued"],
        0,
        "no registry task named local runs here"
    );
    let mut statuses = Vec::new();
    for _ in 0..250 {
        statuses.push(post("local", Some(SECRET)).await.unwrap().status().as_u16());
    }
    assert!(statuses.contains(&429), "a flood of events is rate limited: {statuses:?}");
    let bad =
        http.post(format!("http://{address}/events/local")).bearer_auth(SECRET).body("{not json").send().await.unwrap();
    assert!(bad.status().as_u16() == 400 || bad.status().as_u16() == 429);
    server.abort();
}

/// distribution 2.8 sends a push event before it writes the tag link, so the refresh the event
/// triggers can find the repository missing, then the tag missing; it must ask again until the
/// registry lists the announced tag, not give up after the first look.
#[tokio::test]
async fn a_refresh_waits_for_the_tag_a_push_announced() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let image = report.items.iter().find(|item| item.kind == "image" && item.reference.is_some()).unwrap();
    // ocicat sees the registry through a proxy that hides every repository from the first crawl
    // and plays the race for the pushed one: the first tags/list after the push says the
    // repository is unknown, the second lists no tags, the third lists the pushed tag.
    let tags_path = format!("/v2/{}/tags/list", image.repository);
    let proxy = FaultyRegistry::builder()
        .get("/v2/_catalog", Reply::json(serde_json::json!({"repositories": []})))
        .get(
            &tags_path,
            Script::sequence([
                Reply::error(404, "NAME_UNKNOWN", "repository name not known to registry"),
                Reply::json(serde_json::json!({"name": image.repository, "tags": []})),
                Reply::json(serde_json::json!({"name": image.repository, "tags": ["pushed"]})),
            ]),
        )
        .any("/v2/*", Script::proxy(&registry.url(), str::to_owned))
        .start()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let Running { address, catalog, shutdown, server, .. } = start_ocicat(listener, &proxy.url()).await;
    let client = Client::new(ClientConfig::new(registry.url().parse().unwrap(), Credentials::Anonymous)).unwrap();
    let manifest = client.get_manifest(&image.repository, &image.digest).await.unwrap();
    client.push_manifest(&image.repository, "pushed", &manifest.media_type, Bytes::clone(&manifest.raw)).await.unwrap();
    let envelope = serde_json::json!({"events": [{
        "action": "push",
        "target": {"mediaType": manifest.media_type, "digest": image.digest, "repository": image.repository, "tag": "pushed"},
    }]});
    let accepted = notify(address, &envelope).await;
    assert_eq!(accepted.status().as_u16(), 202);
    let arrived = eventually(Duration::from_secs(20), || {
        catalog
            .artifact("local", &image.repository, &image.digest)
            .ok()
            .flatten()
            .is_some_and(|artifact| artifact.tags == ["pushed"])
    })
    .await;
    assert!(arrived, "the announced tag never reached the catalog; tags/list asked {} times", proxy.count(&tags_path));
    assert_eq!(proxy.count(&tags_path), 3, "one refresh per look until the tag is listed, then no more");
    shutdown.cancel();
    server.abort();
}

#[tokio::test]
async fn once_a_notification_arrived_whole_registry_crawls_read_tag_lists_only() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let Running { address, board, shutdown, server, .. } = start_ocicat(listener, &registry.url()).await;
    let first = board.get("local").unwrap();
    assert!(!first.listed_only && first.last_notification.is_none(), "no notification yet: a HEAD per tag");

    let named = report.items.iter().find(|item| item.kind == "image" && item.reference.is_some()).unwrap();
    let envelope = serde_json::json!({"events": [{
        "id": "0b7c1f7e-1111-4c4c-9d9d-000000000001",
        "timestamp": "2026-12-07T10:00:00Z",
        "action": "push",
        "target": {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": named.digest, "size": 1234, "length": 1234,
            "repository": named.repository, "tag": named.reference.clone().unwrap(),
        },
        "request": {"id": "r1", "method": "PUT", "useragent": "buildkit"},
        "source": {"addr": "registry:5000", "instanceID": "i1"},
    }]});
    assert_eq!(notify(address, &envelope).await.status().as_u16(), 202);
    let noted = eventually(Duration::from_secs(20), || {
        board.get("local").is_some_and(|status| status.last_notification.is_some())
    })
    .await;
    assert!(noted, "the notification's refresh marks the registry's notifications as flowing");

    // The next whole-registry crawl trusts known tags: tag lists only.
    let refresh = reqwest::Client::new().post(format!("http://{address}/api/v1/registries/local/refresh")).send();
    assert_eq!(refresh.await.unwrap().status().as_u16(), 200);
    let listed = eventually(Duration::from_secs(30), || {
        board.get("local").is_some_and(|status| status.crawls_completed >= 2 && status.listed_only)
    })
    .await;
    assert!(listed, "{:?}", board.get("local"));
    assert_eq!(board.get("local").unwrap().manifests_seen, 0, "no manifest fetched");
    let cards: serde_json::Value =
        reqwest::get(format!("http://{address}/api/v1/registries")).await.unwrap().json().await.unwrap();
    assert_eq!(cards[0]["listed_only"], true, "{cards}");
    assert!(cards[0]["last_notification"].is_string(), "{cards}");
    shutdown.cancel();
    server.abort();
}
