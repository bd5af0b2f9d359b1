//! Registries and repositories as a principal sees them: the home page's cards, a registry's
//! repository list, a repository's header and its tags, the crawl status, "refresh now" and the
//! Prometheus metrics. Whole-registry facts go only to whole-registry administrators.

use std::fmt::Write as _;

use ocicat_access::Principal;
use ocicat_catalog::{RegistryCounts, RepositorySort, TagSort};
use ocicat_crawler::{CrawlState, RegistryStatus};

use crate::authz;
use crate::error::AppError;
use crate::model::{RegistryCard, RepositoryList, RepositoryRow, RepositoryView, TagList};
use crate::state::{Service, blocking, host_of};

/// Rows per page of the repository list.
pub const REPOSITORIES_PER_PAGE: usize = 50;
/// Tags listed per page.
pub const TAGS_PER_PAGE: usize = 50;

fn check_paging(filter: &str, page: usize) -> Result<(), AppError> {
    if filter.len() > 200 || page > 100_000 {
        return Err(AppError::BadRequest("filter too long or page too large".into()));
    }
    Ok(())
}

impl Service {
    /// Every registry `who` may read something in, with what `who` may see of its health.
    pub async fn list_registries(&self, who: &Principal) -> Result<Vec<RegistryCard>, AppError> {
        let registries = self.registries();
        let readable: Vec<RegistryStatus> =
            authz::readable_registries(who, &registries).into_iter().filter_map(|name| self.board.get(name)).collect();
        let scope = authz::read_scope(who, &registries);
        let (catalog, who) = (self.catalog.clone(), who.clone());
        blocking(move || {
            readable
                .iter()
                .map(|status| Ok(card_for(&who, status, catalog.registry_counts_in(&scope, &status.name)?)))
                .collect()
        })
        .await
    }

    /// One page of a registry's repositories, filtered by a substring and sorted (`name`,
    /// `pushed`, `tags`).
    pub async fn list_repositories(
        &self,
        who: &Principal,
        registry: String,
        filter: String,
        sort: String,
        page: usize,
    ) -> Result<RepositoryList, AppError> {
        let status = self.readable_registry(who, &registry)?;
        check_paging(&filter, page)?;
        let per_page = REPOSITORIES_PER_PAGE;
        let order = match sort.as_str() {
            "pushed" => RepositorySort::LastPush,
            "tags" => RepositorySort::TagCount,
            _ => RepositorySort::Name,
        };
        let (catalog, name) = (self.catalog.clone(), registry.clone());
        let scope = authz::read_scope(who, &self.registries());
        let (counts, found) = blocking(move || {
            let counts = catalog.registry_counts_in(&scope, &name)?;
            let found = catalog.repositories_in(&scope, &name, &filter, order, page * per_page, per_page)?;
            Ok((counts, found))
        })
        .await?;
        let rows = found
            .items
            .into_iter()
            .map(|repository| RepositoryRow {
                name: repository.repository,
                tag_count: repository.tag_count,
                artifact_count: repository.artifact_count,
                size: repository.size,
                last_push: repository.last_push.map(|date| date.to_rfc3339()),
            })
            .collect();
        Ok(RepositoryList { registry: card_for(who, &status, counts), total: found.total, rows, page, per_page })
    }

    /// A repository's header: its counts and when it was crawled; its tags come a page at a
    /// time from [`Service::list_tags`].
    pub async fn find_repository(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
    ) -> Result<RepositoryView, AppError> {
        let status = self.readable_repository(who, &registry, &repository)?;
        let (catalog, name, repo) = (self.catalog.clone(), registry.clone(), repository.clone());
        let found = blocking(move || catalog.repository(&name, &repo))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("repository {repository:?}")))?;
        Ok(RepositoryView {
            registry,
            host: host_of(&status.url),
            repository,
            tag_count: found.tag_count,
            artifact_count: found.artifact_count,
            size: found.size,
            last_push: found.last_push.map(|date| date.to_rfc3339()),
            crawled_at: found.crawled_at.map(|date| date.to_rfc3339()),
            incomplete: found.incomplete,
        })
    }

    /// One page of a repository's version tags, sorted (`newest`, `name`, `semver`) and
    /// filtered in the catalog: the cost is one page, whatever the repository holds.
    pub async fn list_tags(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        filter: String,
        sort: String,
        page: usize,
    ) -> Result<TagList, AppError> {
        self.readable_repository(who, &registry, &repository)?;
        check_paging(&filter, page)?;
        let (order, sort) = match sort.as_str() {
            "name" => (TagSort::Name, "name"),
            "semver" => (TagSort::Semver, "semver"),
            _ => (TagSort::Newest, "newest"),
        };
        let (catalog, name, repo) = (self.catalog.clone(), registry.clone(), repository.clone());
        let found = blocking(move || {
            if catalog.repository(&name, &repo)?.is_none() {
                return Ok(None);
            }
            catalog.tags(&name, &repo, &filter, order, page * TAGS_PER_PAGE, TAGS_PER_PAGE).map(Some)
        })
        .await?
        .ok_or_else(|| AppError::NotFound(format!("repository {repository:?}")))?;
        Ok(TagList {
            total: found.total,
            rows: found.items.into_iter().map(crate::views::tag_row).collect(),
            sort: sort.to_owned(),
            page,
            per_page: TAGS_PER_PAGE,
        })
    }

    /// Whether `registry` is configured and readable (what the registry page asks first).
    pub fn check_registry(&self, who: &Principal, registry: &str) -> Result<(), AppError> {
        self.readable_registry(who, registry).map(|_| ())
    }

    /// The crawl status of `registry` (counters, rates, last error, rate limit).
    pub fn crawl_status(&self, who: &Principal, registry: &str) -> Result<RegistryStatus, AppError> {
        authz::see_crawl_status(who, &self.registries(), registry)?;
        self.board.get(registry).ok_or_else(|| AppError::NotFound(format!("registry {registry:?}")))
    }

    /// Starts a crawl of the whole registry now; it runs in the background.
    pub fn refresh_registry(&self, who: &Principal, registry: &str) -> Result<(), AppError> {
        authz::refresh_registry(who, &self.registries(), registry)?;
        let crawler = self.crawler()?;
        if crawler.trigger(registry) { Ok(()) } else { Err(AppError::NotFound(format!("registry {registry:?}"))) }
    }

    /// Queues a re-walk of one repository (what registry notifications trigger).
    pub fn refresh_repository(&self, who: &Principal, registry: &str, repository: &str) -> Result<(), AppError> {
        if !ocicat_oci::is_valid_repository(repository) {
            return Err(AppError::BadRequest(format!("{repository:?} is not a repository name")));
        }
        authz::refresh_repository(who, &self.registries(), registry, repository)?;
        if self.crawler()?.refresh_repository(registry, repository) {
            Ok(())
        } else {
            Err(AppError::Busy("too many refreshes are queued; try again shortly".into()))
        }
    }

    fn crawler(&self) -> Result<&ocicat_crawler::Crawler, AppError> {
        self.crawler.as_ref().ok_or_else(|| {
            tracing::error!("no crawler in the service: refreshes cannot run here");
            AppError::Internal
        })
    }

    /// The Prometheus text exposition of crawl health and index size, for the registries `who`
    /// administers whole. Registry names are validated at config load (`[a-z0-9_-]`), so they
    /// are safe as label values.
    pub async fn metrics(&self, who: &Principal) -> Result<String, AppError> {
        let registries = self.registries();
        let covered: Vec<RegistryStatus> =
            authz::metrics_registries(who, &registries)?.into_iter().filter_map(|name| self.board.get(name)).collect();
        let catalog = self.catalog.clone();
        let rows = blocking(move || {
            covered
                .into_iter()
                .map(|status| Ok((catalog.registry_counts(&status.name)?, status)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
        let mut text = metrics_text(&rows);
        let work = self.expensive_work();
        let _ = write!(
            text,
            "# HELP ocicat_searches_running Searches running now (at most {})\n# TYPE ocicat_searches_running gauge\n\
             ocicat_searches_running {}\n# HELP ocicat_document_reads_running Attached-document reads running now \
             (at most {})\n# TYPE ocicat_document_reads_running gauge\nocicat_document_reads_running {}\n",
            work.search_limit, work.searches, work.document_limit, work.document_reads
        );
        text.push_str(&self.replica_metrics().await);
        Ok(text)
    }
}

type MetricRow = (RegistryCounts, RegistryStatus);

fn metrics_text(rows: &[MetricRow]) -> String {
    let mut text = String::new();
    let mut family = |name: &str, kind: &str, help: &str, value: &dyn Fn(&MetricRow) -> u64| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for row in rows {
            let _ = writeln!(text, "{name}{{registry=\"{}\"}} {}", row.1.name, value(row));
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
    text
}

/// A registry card as `who` may see it: counts of what `who` may read; crawl progress and
/// internals (errors, counters, rate limits) only for administrators of the whole registry.
pub(crate) fn card_for(who: &Principal, status: &RegistryStatus, counts: RegistryCounts) -> RegistryCard {
    let internals = authz::see_crawl_internals(who, &status.name);
    let mut card = RegistryCard {
        name: status.name.clone(),
        host: host_of(&status.url),
        state: status.state.key().to_owned(),
        repositories: counts.repositories,
        artifacts: counts.artifacts,
        repositories_done: status.repositories_done,
        repositories_total: status.repositories_total,
        failures: status.manifests_failed,
        last_error: status.last_error.clone(),
        last_success: status.last_success.map(|date| date.to_rfc3339()),
        manifests_per_second: (status.state == CrawlState::Crawling)
            .then_some((status.manifests_per_second * 10.0).round() / 10.0),
        rate_limit: rate_limit_text(&status.rate_limit),
        manifests_seen: status.manifests_seen,
        manifests_unchanged: status.manifests_unchanged,
        last_started: status.last_started.map(|date| date.to_rfc3339()),
        last_reconcile: status.last_reconcile.map(|date| date.to_rfc3339()),
        reconciling: status.reconciling,
        last_notification: status.last_notification.map(|date| date.to_rfc3339()),
        listed_only: status.listed_only,
        crawls_completed: status.crawls_completed,
        can_refresh: who.can_whole_registry(ocicat_access::Right::Administer, &status.name),
        internals,
    };
    if !internals {
        card.repositories_done = 0;
        card.repositories_total = 0;
        card.failures = 0;
        card.last_error = None;
        card.manifests_per_second = None;
        card.rate_limit = None;
        card.manifests_seen = 0;
        card.manifests_unchanged = 0;
        card.last_started = None;
        card.last_reconcile = None;
        card.reconciling = false;
        card.last_notification = None;
        card.listed_only = false;
        card.crawls_completed = 0;
    }
    card
}

/// The rate-limit state in words: a 429 window first, else what is left of the quota.
fn rate_limit_text(limit: &ocicat_crawler::RateLimitStatus) -> Option<String> {
    if let Some(seconds) = limit.blocked_for_secs.filter(|seconds| *seconds > 0) {
        return Some(format!("rate limited: resumes in {seconds} s"));
    }
    match (limit.remaining, limit.limit) {
        (Some(remaining), Some(total)) => Some(format!("{remaining} of {total} requests left")),
        (Some(remaining), None) => Some(format!("{remaining} requests left")),
        _ => None,
    }
}
