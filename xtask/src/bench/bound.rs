//! The crawl's same-run reference: a bare `ocicat_oci::Client` issuing the requests a cold crawl
//! issues (catalog, tags per repository, one manifest GET per tag and per index child, config
//! blobs, the referrers probe) at the same concurrency, without mapping or indexing anything.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::{StreamExt as _, TryStreamExt as _};
use ocicat_oci::{Client, Digest, ManifestBody};

/// Largest config the crawler fetches (mirrors its `MAX_CONFIG_BYTES`).
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// The empty config of artifacts, which the crawler never fetches.
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";

/// What the bare walk fetched and how long it took.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BoundWalk {
    /// From the catalog request to the last response.
    pub(crate) wall: Duration,
    /// Repositories listed.
    pub(crate) repositories: u64,
    /// Manifests fetched (tags and index children).
    pub(crate) manifests: u64,
    /// Config blobs fetched.
    pub(crate) configs: u64,
}

impl BoundWalk {
    fn add(mut self, other: BoundWalk) -> BoundWalk {
        self.repositories += other.repositories;
        self.manifests += other.manifests;
        self.configs += other.configs;
        self
    }
}

/// Walks every repository of the registry behind `client`, `concurrency` repositories at once.
pub(crate) async fn walk_registry(client: &Client, concurrency: usize) -> anyhow::Result<BoundWalk> {
    let started = Instant::now();
    let listing = client.catalog().await.context("failed to list repositories for the bound")?;
    let totals = futures::stream::iter(listing.items)
        .map(|repository| async move { walk_repository(client, &repository).await })
        .buffer_unordered(concurrency.max(1))
        .try_fold(BoundWalk::default(), |totals, walked| async move { Ok(totals.add(walked)) })
        .await?;
    Ok(BoundWalk { wall: started.elapsed(), ..totals })
}

/// One repository, requests one after the other as the crawler issues them.
async fn walk_repository(client: &Client, repository: &str) -> anyhow::Result<BoundWalk> {
    let tags = client.tags(repository).await.with_context(|| format!("failed to list tags of {repository}"))?;
    let mut walked = BoundWalk { repositories: 1, ..BoundWalk::default() };
    let mut queue: VecDeque<String> = tags.items.into_iter().collect();
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(reference) = queue.pop_front() {
        let manifest = client
            .get_manifest(repository, &reference)
            .await
            .with_context(|| format!("failed to fetch manifest {repository}:{reference}"))?;
        walked.manifests += 1;
        if !seen.insert(manifest.digest.to_string()) {
            continue;
        }
        match &manifest.body {
            ManifestBody::Image(image) => {
                let config = image.config();
                let media_type = config.media_type().to_string();
                let wanted =
                    media_type != EMPTY_CONFIG && config.size() <= MAX_CONFIG_BYTES && media_type.ends_with("json");
                if wanted {
                    let digest: Digest =
                        config.digest().to_string().parse().context("failed to parse config digest")?;
                    client
                        .get_blob(repository, &digest)
                        .await
                        .with_context(|| format!("failed to fetch config {digest} of {repository}"))?;
                    walked.configs += 1;
                }
            }
            ManifestBody::Index(index) => {
                let children = index.manifests().iter().map(|child| child.digest().to_string());
                queue.extend(children.filter(|child| !seen.contains(child)));
            }
            ManifestBody::Schema1 => {}
        }
    }
    // The crawler asks the referrers API once the tags are walked; on a registry without it
    // the client remembers the answer, so only the first repository costs a request.
    if let Some(first) = seen.iter().next() {
        let subject: Digest = first.parse().context("failed to parse manifest digest")?;
        client
            .referrers_api(repository, &subject, None)
            .await
            .with_context(|| format!("failed to probe the referrers api on {repository}"))?;
    }
    Ok(walked)
}
