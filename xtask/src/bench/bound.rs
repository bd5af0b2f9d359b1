//! The crawl's same-run references, walked by a bare `reqwest` client (no politeness limit,
//! retries, circuit breaker or token cache, nothing parsed, mapped or indexed):
//! - the bound of P1: the very requests the cold crawl issued (read from the registry's access
//!   log), replayed repository by repository at the same concurrency, so the census of both is
//!   the same by construction and the crawl's own cost is what the ratio shows;
//! - the listing of P2's floor: `_catalog` and every tag list, which gives the tags a no-change
//!   re-crawl must ask after;
//! - the floor walk of P2: the list pages and one HEAD per tag.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures::{StreamExt as _, TryStreamExt as _};
use ocicat_oci::media_types;
use reqwest::header;
use serde_json::Value;

use super::census::Logged;

/// The page size the crawler asks for, so both list in as many pages.
const PAGE: usize = 1000;

/// What the registry lists.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Listing {
    /// Repositories listed.
    pub(crate) repositories: u64,
    /// Tags listed (over every repository): a no-change re-crawl's floor is one HEAD each.
    pub(crate) tags: u64,
    /// Pages of `_catalog` and of `tags/list` read.
    pub(crate) list_pages: u64,
}

fn bare_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder().build().context("failed to build the bare client")
}

/// Every item of a paginated list (`repositories` or `tags`) at `path`, and the pages read.
async fn list(http: &reqwest::Client, base: &url::Url, path: &str, field: &str) -> anyhow::Result<(Vec<String>, u64)> {
    let mut next = Some(base.join(&format!("{path}?n={PAGE}")).context("list url")?);
    let (mut items, mut pages) = (Vec::new(), 0);
    while let Some(url) = next.take() {
        let response = http.get(url.clone()).send().await.with_context(|| format!("GET {url}"))?;
        if !response.status().is_success() {
            bail!("GET {url} answered {}", response.status());
        }
        let link = response
            .headers()
            .get(header::LINK)
            .and_then(|value| value.to_str().ok())
            .and_then(next_link)
            .map(|link| url.join(&link))
            .transpose()
            .with_context(|| format!("GET {url}: a bad Link header"))?;
        let page: Value = response.json().await.with_context(|| format!("GET {url}: not JSON"))?;
        pages += 1;
        let names = page.get(field).and_then(Value::as_array).into_iter().flatten();
        items.extend(names.filter_map(Value::as_str).map(str::to_owned));
        next = link;
    }
    Ok((items, pages))
}

/// The `rel="next"` target of a Link header value.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once(';')?;
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        params.contains("rel=\"next\"").then(|| target.to_owned())
    })
}

/// Lists every repository and its tags.
pub(crate) async fn list_registry(base: &url::Url) -> anyhow::Result<Listing> {
    let http = bare_client()?;
    let (repositories, mut list_pages) = list(&http, base, "/v2/_catalog", "repositories").await?;
    let mut tags = 0;
    for repository in &repositories {
        let (listed, pages) = list(&http, base, &format!("/v2/{repository}/tags/list"), "tags").await?;
        tags += listed.len() as u64;
        list_pages += pages;
    }
    Ok(Listing { repositories: repositories.len() as u64, tags, list_pages })
}

/// The floor of a no-change re-crawl without notifications, walked: the list pages and one
/// HEAD per tag, `concurrency` repositories at once. Returns its wall time.
pub(crate) async fn walk_heads(base: &url::Url, concurrency: usize) -> anyhow::Result<Duration> {
    let http = &bare_client()?;
    let started = Instant::now();
    let (repositories, _) = list(http, base, "/v2/_catalog", "repositories").await?;
    futures::stream::iter(repositories)
        .map(|repository| async move {
            let (tags, _) = list(http, base, &format!("/v2/{repository}/tags/list"), "tags").await?;
            for tag in tags {
                let url = base.join(&format!("/v2/{repository}/manifests/{tag}")).context("manifest url")?;
                let response = http.head(url.clone()).header(header::ACCEPT, media_types::ACCEPT).send().await?;
                if !response.status().is_success() {
                    bail!("HEAD {url} answered {}", response.status());
                }
            }
            anyhow::Ok(())
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(started.elapsed())
}

/// The repository a `/v2/<name>/{manifests,blobs,tags,referrers}/…` path names (`None` for
/// `_catalog` and the ping).
fn repository_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v2/")?;
    ["/manifests/", "/blobs/", "/tags/", "/referrers/"]
        .iter()
        .filter_map(|marker| rest.rfind(marker).map(|at| &rest[..at]))
        .max_by_key(|name| name.len())
}

/// Issues `requests` again (what a crawl sent, in its order): the registry-wide ones first,
/// then each repository's in order, `concurrency` repositories at once, reading every body to
/// the end. Returns the wall time.
pub(crate) async fn replay(base: &url::Url, requests: &[Logged], concurrency: usize) -> anyhow::Result<Duration> {
    let http = &bare_client()?;
    let mut global = Vec::new();
    let mut by_repository: BTreeMap<&str, Vec<&Logged>> = BTreeMap::new();
    for request in requests {
        match repository_of(&request.path) {
            Some(repository) => by_repository.entry(repository).or_default().push(request),
            None => global.push(request),
        }
    }
    let started = Instant::now();
    for request in global {
        send(http, base, request).await?;
    }
    futures::stream::iter(by_repository.into_values())
        .map(|requests| async move {
            for request in requests {
                send(http, base, request).await?;
            }
            anyhow::Ok(())
        })
        .buffer_unordered(concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(started.elapsed())
}

/// One request as the crawler sent it (manifests and referrers with their Accept lists).
async fn send(http: &reqwest::Client, base: &url::Url, request: &Logged) -> anyhow::Result<()> {
    let url = base.join(&request.path).with_context(|| format!("bad logged path {}", request.path))?;
    let method = reqwest::Method::from_bytes(request.method.as_bytes()).context("bad logged method")?;
    let mut builder = http.request(method, url.clone());
    if request.path.contains("/manifests/") {
        builder = builder.header(header::ACCEPT, media_types::ACCEPT);
    } else if request.path.contains("/referrers/") {
        builder = builder.header(header::ACCEPT, "application/vnd.oci.image.index.v1+json");
    }
    let response = builder.send().await.with_context(|| format!("{} {url}", request.method))?;
    let status = response.status();
    response.bytes().await.with_context(|| format!("{} {url}: body", request.method))?;
    // The referrers probe of a registry without the API answers 404 to the crawler too.
    if !status.is_success() && !request.path.contains("/referrers/") {
        bail!("{} {url} answered {status}", request.method);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_paths_name_their_repository() {
        assert_eq!(repository_of("/v2/a/b/manifests/1.0"), Some("a/b"));
        assert_eq!(repository_of("/v2/team/blobs/x/blobs/sha256:00"), Some("team/blobs/x"));
        assert_eq!(repository_of("/v2/a/tags/list?n=1000"), Some("a"));
        assert_eq!(repository_of("/v2/_catalog?n=1000"), None);
        assert_eq!(repository_of("/v2/"), None);
    }
}
