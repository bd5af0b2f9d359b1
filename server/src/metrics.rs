//! `GET /metrics`: Prometheus text exposition of crawl health and index size per registry.
//! Registry names are validated at config load (`[a-z0-9_-]`), so they are safe as label values.

use std::fmt::Write as _;

use app::error::AppError;
use app::ssr::UiState;
use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::IntoResponse;
use ocicat_access::{Principal, Right};
use ocicat_crawler::CrawlState;

use crate::error::ApiError;

/// Renders every metric.
/// Needs the admin role on some registry, and covers the registries it administers (Prometheus
/// sends an admin's API token as a bearer token).
pub async fn render_metrics(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
) -> Result<impl IntoResponse, ApiError> {
    if !who.can_anywhere(Right::Administer) {
        return Err(AppError::NotFound("metrics".into()).into());
    }
    let statuses: Vec<_> =
        ui.board.snapshot().into_iter().filter(|status| who.can_somewhere(Right::Administer, &status.name)).collect();
    let catalog = ui.catalog.clone();
    let counts = app::ssr::blocking(move || {
        statuses
            .into_iter()
            .map(|status| Ok((catalog.registry_counts(&status.name)?, status)))
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let mut text = String::new();
    let mut family =
        |name: &str,
         kind: &str,
         help: &str,
         value: &dyn Fn(&(ocicat_catalog::RegistryCounts, ocicat_crawler::RegistryStatus)) -> u64| {
            let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for entry in &counts {
                let _ = writeln!(text, "{name}{{registry=\"{}\"}} {}", entry.1.name, value(entry));
            }
        };
    family("ocicat_registry_up", "gauge", "1 when the last crawl reached the registry", &|(_, s)| {
        u64::from(s.state != CrawlState::Unreachable)
    });
    family("ocicat_registry_crawling", "gauge", "1 while a crawl runs", &|(_, s)| {
        u64::from(s.state == CrawlState::Crawling)
    });
    family("ocicat_repositories", "gauge", "Repositories in the index", &|(c, _)| c.repositories);
    family("ocicat_artifacts", "gauge", "Manifests in the index", &|(c, _)| c.artifacts);
    family("ocicat_crawls_completed_total", "counter", "Full crawls completed since start", &|(_, s)| {
        s.crawls_completed
    });
    family("ocicat_crawl_manifests_fetched", "gauge", "Manifests fetched by the current or last crawl", &|(_, s)| {
        s.manifests_seen
    });
    family(
        "ocicat_crawl_manifests_unchanged",
        "gauge",
        "Manifests reused without a GET by the current or last crawl",
        &|(_, s)| s.manifests_unchanged,
    );
    family(
        "ocicat_crawl_failures",
        "gauge",
        "Manifests or repositories that failed in the current or last crawl",
        &|(_, s)| s.manifests_failed,
    );
    family("ocicat_crawl_last_success_timestamp_seconds", "gauge", "When a crawl last completed", &|(_, s)| {
        s.last_success.map_or(0, |date| date.timestamp().max(0) as u64)
    });
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text))
}
