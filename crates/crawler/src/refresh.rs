//! Targeted refresh of one repository, for registry notifications and "refresh now": the same
//! walk as a full crawl (HEADs for known tags), replacing that repository in the catalog.
//!
//! A notification can arrive before the registry shows what it announces: distribution 2.8
//! sends the push event from inside the manifest PUT, before it writes the tag link, so the
//! first refresh may list the tags without the new one (or, for a new repository, find no
//! repository at all). A refresh therefore carries what the event said ([`ExpectedTag`]) and is
//! asked again, with growing delays, until the registry lists it or [`MAX_ATTEMPTS`] pass.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ocicat_catalog::{Catalog, CatalogWriter};

use crate::error::CrawlError;
use crate::into_catalog::{Walked, crawl_into_catalog};
use crate::repository::CrawlMode;
use crate::source::RegistrySource;
use crate::status::StatusBoard;

/// Refreshes of one request before an unmet expectation is given up (about 13 s in all).
pub const MAX_ATTEMPTS: u32 = 7;
/// Delay before the second attempt; it doubles for each one after.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(200);

/// What a registry notification said a push produced: `tag` now points at `digest`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct ExpectedTag {
    /// The pushed tag.
    pub tag: String,
    /// The pushed manifest's digest.
    pub digest: String,
}

/// One queued refresh of a repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RefreshRequest {
    /// The repository to walk again.
    pub repository: String,
    /// Tags the registry must list (at these digests) before the refresh counts as done.
    pub expect: Vec<ExpectedTag>,
    /// How many refreshes of this request ran before (0 for a new request).
    pub attempt: u32,
}

impl RefreshRequest {
    /// A refresh with nothing to wait for ("refresh now").
    pub fn now(repository: impl Into<String>) -> RefreshRequest {
        RefreshRequest { repository: repository.into(), expect: Vec::new(), attempt: 0 }
    }

    /// The delay before attempt `self.attempt + 1`, or `None` when attempts are used up.
    pub fn retry_delay(&self) -> Option<Duration> {
        (self.attempt + 1 < MAX_ATTEMPTS).then(|| FIRST_RETRY_DELAY * 2u32.pow(self.attempt))
    }
}

/// Merges requests for the same repository (their expectations joined, the most attempts kept).
pub(crate) fn merge(requests: impl IntoIterator<Item = RefreshRequest>) -> Vec<RefreshRequest> {
    let mut merged: BTreeMap<String, RefreshRequest> = BTreeMap::new();
    for request in requests {
        match merged.get_mut(&request.repository) {
            Some(existing) => {
                existing.expect.extend(request.expect);
                existing.expect.sort();
                existing.expect.dedup();
                existing.attempt = existing.attempt.max(request.attempt);
            }
            None => {
                merged.insert(request.repository.clone(), request);
            }
        }
    }
    merged.into_values().collect()
}

/// Announcements remembered before they are all forgotten (a bound, not a cache policy).
const MAX_ANNOUNCED: usize = 10_000;

/// The digest each (repository, tag) was last announced at. A fallback index tag moves with
/// every referrer pushed, so an older announcement for it is never met: only the newest is
/// waited for.
#[derive(Debug, Default)]
pub(crate) struct Announcements(HashMap<(String, String), String>);

impl Announcements {
    /// Remembers the announcements of new requests (retries announce nothing new).
    pub(crate) fn record(&mut self, requests: &[RefreshRequest]) {
        if self.0.len() > MAX_ANNOUNCED {
            self.0.clear();
        }
        for request in requests.iter().filter(|request| request.attempt == 0) {
            for expected in &request.expect {
                self.0.insert((request.repository.clone(), expected.tag.clone()), expected.digest.clone());
            }
        }
    }

    /// `unmet` without the expectations a newer announcement replaced.
    pub(crate) fn still_awaited(&self, repository: &str, unmet: Vec<ExpectedTag>) -> Vec<ExpectedTag> {
        unmet
            .into_iter()
            .filter(|expected| {
                let latest = self.0.get(&(repository.to_owned(), expected.tag.clone()));
                latest.is_none_or(|latest| *latest == expected.digest)
            })
            .collect()
    }
}

/// The expectations `tags` (tag → digest, as the registry listed them) does not meet yet.
fn unmet(expect: &[ExpectedTag], tags: &HashMap<String, String>) -> Vec<ExpectedTag> {
    expect.iter().filter(|expected| tags.get(&expected.tag) != Some(&expected.digest)).cloned().collect()
}

/// Re-crawls the repository of `request`; a repository that no longer exists is removed.
/// Returns the expectations the registry does not meet yet.
pub(crate) async fn refresh_repository(
    source: &RegistrySource,
    catalog: &Catalog,
    writer: &CatalogWriter,
    board: &StatusBoard,
    request: &RefreshRequest,
) -> Result<Vec<ExpectedTag>, CrawlError> {
    let walked =
        crawl_into_catalog(source, catalog, writer, board, &request.repository, CrawlMode::Incremental).await?;
    match walked {
        Walked::Crawled { tags, fetched, .. } => {
            let unmet = unmet(&request.expect, &tags);
            tracing::info!(registry.name = %source.name, repo.name = %request.repository, refresh.attempt = request.attempt,
                manifests.fetched = fetched, refresh.unmet = unmet.len(), "repository refreshed");
            Ok(unmet)
        }
        Walked::Gone => Ok(request.expect.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected(tag: &str, digest: &str) -> ExpectedTag {
        ExpectedTag { tag: tag.into(), digest: digest.into() }
    }

    #[test]
    fn a_tag_counts_only_at_the_announced_digest() {
        let expect = [expected("1.0", "sha256:aa"), expected("latest", "sha256:aa")];
        let tags =
            HashMap::from([("1.0".to_string(), "sha256:aa".to_string()), ("latest".into(), "sha256:old".into())]);
        assert_eq!(unmet(&expect, &tags), vec![expected("latest", "sha256:aa")]);
        assert!(unmet(&expect[..1], &tags).is_empty());
        assert_eq!(unmet(&expect, &HashMap::new()).len(), 2);
    }

    #[test]
    fn requests_for_one_repository_merge_and_keep_the_most_attempts() {
        let first = RefreshRequest { repository: "a".into(), expect: vec![expected("1", "sha256:1")], attempt: 2 };
        let second = RefreshRequest { repository: "a".into(), expect: vec![expected("2", "sha256:2")], attempt: 0 };
        let merged = merge([first, second, RefreshRequest::now("b"), RefreshRequest::now("a")]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].expect, vec![expected("1", "sha256:1"), expected("2", "sha256:2")]);
        assert_eq!(merged[0].attempt, 2);
        assert!(merged[1].expect.is_empty());
    }

    #[test]
    fn only_the_newest_announcement_of_a_tag_is_awaited() {
        let mut announced = Announcements::default();
        let push = |digest: &str, attempt| RefreshRequest {
            repository: "a".into(),
            expect: vec![expected("sha256-subject", digest)],
            attempt,
        };
        announced.record(&[push("sha256:first", 0)]);
        announced.record(&[push("sha256:second", 0), push("sha256:stale-retry", 3)]);
        let unmet = vec![expected("sha256-subject", "sha256:first"), expected("sha256-subject", "sha256:second")];
        assert_eq!(announced.still_awaited("a", unmet.clone()), vec![expected("sha256-subject", "sha256:second")]);
        assert_eq!(announced.still_awaited("b", unmet.clone()), unmet, "other repositories are apart");
    }

    #[test]
    fn retries_double_and_stop() {
        let mut request = RefreshRequest::now("a");
        let delays: Vec<Duration> = std::iter::from_fn(|| {
            let delay = request.retry_delay();
            request.attempt += 1;
            delay
        })
        .collect();
        assert_eq!(delays.len() as u32, MAX_ATTEMPTS - 1);
        assert_eq!(delays[0], FIRST_RETRY_DELAY);
        assert_eq!(delays[1], FIRST_RETRY_DELAY * 2);
        assert!(delays.iter().sum::<Duration>() < Duration::from_secs(15));
    }
}
