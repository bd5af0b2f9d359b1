//! Listing repositories (`_catalog`) and tags, following `Link` pages with loop detection and a
//! page cap, plus the name and tag grammar checks that run before any name reaches a URL.

use std::collections::HashSet;

use reqwest::{Method, StatusCode, header};

use crate::body::read_capped;
use crate::client::{Client, pull_scope};
use crate::error::{OciError, Result};
use crate::names::validate_repository;
use crate::paging::{next_link, resolve_same_origin};
use crate::status::check_status;

/// A listing and whether it was cut short by the page cap or a loop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The names, de-duplicated and sorted.
    pub items: Vec<String>,
    /// True when pages were left unread.
    pub truncated: bool,
}

#[derive(serde::Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct TagsPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl Client {
    /// Lists every repository via `_catalog`. Registries without it (Docker Hub, GHCR) or that
    /// deny it give [`OciError::Unsupported`]: configure the repositories to crawl instead.
    pub async fn catalog(&self) -> Result<Listing> {
        let first = self.url("/v2/_catalog?n=1000")?;
        let listing = self
            .paginate(first.clone(), "registry:catalog:*".into(), |body| {
                serde_json::from_slice::<CatalogPage>(body).map(|page| page.repositories.unwrap_or_default())
            })
            .await;
        match listing {
            Err(OciError::NotFound { .. } | OciError::Denied { .. } | OciError::Unsupported { .. }) => {
                Err(OciError::Unsupported {
                    url: first.to_string(),
                    what: "listing repositories (_catalog); configure the repositories to crawl".into(),
                })
            }
            other => other,
        }
    }

    /// Lists every tag of `repository` (`"tags": null` counts as none).
    pub async fn tags(&self, repository: &str) -> Result<Listing> {
        validate_repository(repository)?;
        let first = self.url(&format!("/v2/{repository}/tags/list?n=1000"))?;
        self.paginate(first, pull_scope(repository), |body| {
            serde_json::from_slice::<TagsPage>(body).map(|page| page.tags.unwrap_or_default())
        })
        .await
    }

    async fn paginate<F>(&self, first: url::Url, scope: String, parse: F) -> Result<Listing>
    where
        F: Fn(&[u8]) -> serde_json::Result<Vec<String>>,
    {
        let mut items = HashSet::new();
        let mut visited = HashSet::new();
        let mut next = Some(first.clone());
        let mut truncated = false;
        let scopes = [scope];
        while let Some(url) = next.take() {
            if visited.len() >= self.limits().list_pages || !visited.insert(url.to_string()) {
                truncated = true;
                tracing::warn!(registry.url = %self.base_url(), page.url = %url, "listing stopped at a loop or the page cap");
                break;
            }
            let mut response = self.execute(Method::GET, url.clone(), &scopes, |request| request).await?;
            if response.status() == StatusCode::BAD_REQUEST && url == first {
                // Registries with a smaller page maximum reject n=1000; ask for their default page.
                let mut without_n = url.clone();
                without_n.set_query(None);
                response = self.execute(Method::GET, without_n, &scopes, |request| request).await?;
            }
            let response = check_status(response).await?;
            let link = response
                .headers()
                .get(header::LINK)
                .and_then(|value| value.to_str().ok())
                .and_then(next_link)
                .map(str::to_owned);
            let body = read_capped(response, self.limits().list_page_bytes).await?;
            let page = parse(&body)
                .map_err(|error| OciError::InvalidDocument { url: url.to_string(), reason: error.to_string() })?;
            let page_was_empty = page.is_empty();
            let room = self.limits().list_items.saturating_sub(items.len());
            if page.len() > room {
                truncated = true;
                tracing::warn!(registry.url = %self.base_url(), listing.cap = self.limits().list_items, "listing stopped at the item cap");
            }
            items.extend(page.into_iter().take(room));
            if truncated {
                break;
            }
            if let Some(link) = link {
                if !page_was_empty {
                    next = Some(resolve_same_origin(&url, &link)?);
                }
            }
        }
        let mut items: Vec<String> = items.into_iter().collect();
        items.sort();
        Ok(Listing { items, truncated })
    }
}
