//! A registry that is down (nothing listens on its port) fails its own crawl with an
//! "unreachable" error, while the other registries of the same board are crawled and served.

use std::time::{Duration, Instant};

use ocicat_catalog::WriterConfig;
use ocicat_crawler::{CrawlSettings, CrawlState, Crawler, StatusBoard};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, free_port};
use tokio_util::sync::CancellationToken;

use crate::util::{LOCAL, TestApp, app_state, get, registry_source};

const DOWN: &str = "down";

/// A registry URL on a loopback port nothing listens on.
fn dead_registry_url() -> url::Url {
    format!("http://127.0.0.1:{}", free_port().unwrap()).parse().unwrap()
}

#[tokio::test]
async fn an_unreachable_registry_fails_its_crawl_while_the_other_is_served() {
    let down = registry_source(DOWN, dead_registry_url(), None);
    let app = TestApp::builder().extra_source(down).build().await;
    let error = &app.crawl_errors[DOWN];
    assert!(error.contains("unreachable"), "{error}");

    let cards = app.get_json("/api/v1/registries").await;
    let card = |name: &str| cards.as_array().unwrap().iter().find(|card| card["name"] == name).unwrap().clone();
    assert_eq!(card(DOWN)["state"], "unreachable", "{cards:#}");
    assert_eq!(card(DOWN)["repositories"], 0, "{cards:#}");
    assert!(card(DOWN)["last_error"].as_str().unwrap().contains("unreachable"), "{cards:#}");
    assert_eq!(card(LOCAL)["repositories"], app.report.repositories().len() as u64, "{cards:#}");

    let down_list = app.get_json(&format!("/api/v1/registries/{DOWN}/repositories")).await;
    assert_eq!(down_list["total"], 0);
    let home = app.get_page("/").await;
    assert!(home.contains(&format!("href=\"/r/{DOWN}\"")) && home.contains(&format!("href=\"/r/{LOCAL}\"")), "{home}");
    let local_page = app.get_page(&format!("/r/{LOCAL}")).await;
    assert!(local_page.contains(&format!("href=\"/r/{LOCAL}/demo/app\"")), "{local_page}");
}

#[tokio::test]
async fn the_crawler_marks_a_dead_registry_unreachable_and_completes_the_live_one() {
    ocicat_testkit::init_tracing_for_tests();
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let url: url::Url = registry.url().parse().unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(url.clone()), Size::Test).await.unwrap();
    let sources = vec![registry_source(DOWN, dead_registry_url(), None), registry_source(LOCAL, url, None)];
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    let shutdown = CancellationToken::new();
    let settings = CrawlSettings {
        interval: Duration::from_secs(3600),
        initial_backoff: Duration::from_millis(200),
        ..CrawlSettings::default()
    };
    let crawler = Crawler::start(sources, catalog.clone(), writer, board.clone(), settings, shutdown.clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    let settled = || {
        let local = board.get(LOCAL).unwrap();
        let down = board.get(DOWN).unwrap();
        local.state == CrawlState::Idle && local.crawls_completed >= 1 && down.state == CrawlState::Unreachable
    };
    while !settled() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(settled(), "board after 60 s: {:#?}", board.snapshot());
    let router = ocicat::router::build_router(app_state(catalog, board, crawler));
    let response = get(&router, "/api/v1/registries").await;
    let cards = response.json();
    let card = |name: &str| cards.as_array().unwrap().iter().find(|card| card["name"] == name).unwrap().clone();
    assert_eq!(card(LOCAL)["state"], "idle", "{cards:#}");
    assert_eq!(card(LOCAL)["repositories"], report.repositories().len() as u64, "{cards:#}");
    assert_eq!(card(DOWN)["state"], "unreachable", "{cards:#}");
    assert!(card(DOWN)["last_error"].is_string(), "{cards:#}");
    shutdown.cancel();
}
