//! `/metrics` speaks the Prometheus text format and reflects the index and the crawl board.

use std::collections::HashMap;

use ocicat::events::Events;
use ocicat::state::AppState;
use ocicat_catalog::{RepositoryDoc, WriterConfig};
use ocicat_crawler::{CrawlSettings, CrawlState, Crawler, StatusBoard};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn metrics_report_index_sizes_and_registry_health() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let summary = RepositoryDoc {
        registry: "up".into(),
        repository: "a/b".into(),
        tag_count: 1,
        artifact_count: 0,
        size: 0,
        last_push: None,
        crawled_at: None,
        incomplete: Vec::new(),
    };
    writer.replace_repository(summary, vec![]).await.unwrap();
    writer.flush().await.unwrap();
    let board = StatusBoard::default();
    board.register("up", "http://127.0.0.1:1");
    board.update("up", |status| {
        status.state = CrawlState::Idle;
        status.crawls_completed = 3;
    });
    board.register("down", "http://127.0.0.1:2");
    board.update("down", |status| status.state = CrawlState::Unreachable);
    let state = AppState::open(
        catalog.clone(),
        board.clone(),
        Crawler::start(vec![], catalog, writer, board, CrawlSettings::default(), CancellationToken::new()),
        Events::new(HashMap::new()),
        "target/site",
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, ocicat::router::build_router(state)).await });
    let response = reqwest::get(format!("http://{address}/metrics")).await.unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for expected in [
        "# TYPE ocicat_registry_up gauge",
        "ocicat_registry_up{registry=\"up\"} 1",
        "ocicat_registry_up{registry=\"down\"} 0",
        "ocicat_repositories{registry=\"up\"} 1",
        "ocicat_repositories{registry=\"down\"} 0",
        "ocicat_crawls_completed_total{registry=\"up\"} 3",
        "# TYPE ocicat_searches_running gauge",
        "ocicat_searches_running 0",
        "ocicat_document_reads_running 0",
    ] {
        assert!(text.lines().any(|line| line == expected), "missing {expected:?} in\n{text}");
    }
    server.abort();
}
