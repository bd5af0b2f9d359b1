//! Crawls one repository: every tag, every manifest they point at, and (recursively, bounded)
//! every child of an index — including the referrers listed by `sha256-<hex>` fallback indexes.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use chrono::Utc;
use ocicat_catalog::{ArtifactDoc, RepositoryDoc, is_fallback_tag, is_version_tag};
use ocicat_oci::{ArtifactKind, Client, Digest, ManifestBody, OciError, media_types};

use crate::mapping::artifact_doc;

/// Most manifests indexed per repository.
const MAX_MANIFESTS_PER_REPOSITORY: usize = 20_000;
/// Largest config blob fetched for display and platform detection.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// What crawling one repository produced: what changed against the catalog's previous state.
#[derive(Debug)]
pub struct RepositoryCrawl {
    /// The repository summary for the list page.
    pub summary: RepositoryDoc,
    /// Manifests that are new or whose document changed (tags, referrers, …): to upsert.
    pub changed: Vec<ArtifactDoc>,
    /// Digests indexed before that the registry no longer has: to remove.
    pub removed: Vec<String>,
    /// Manifests fetched.
    pub manifests_seen: u64,
    /// Manifests known from the previous crawl and reused without a GET.
    pub manifests_unchanged: u64,
    /// Errors for individual tags or manifests (the crawl went on without them).
    pub failures: Vec<String>,
    /// Every tag the registry listed and resolved, with the digest it points at.
    pub tags: HashMap<String, String>,
}

fn wants_config(media_type: &str, size: u64) -> bool {
    media_types::is_json_config(media_type) && size <= MAX_CONFIG_BYTES
}

/// Most reasons kept for an incomplete repository crawl (the count of the rest is added).
const MAX_INCOMPLETE_REASONS: usize = 20;

/// What one repository walk has found so far.
#[derive(Default)]
struct Walk<'a> {
    /// What the catalog held for this repository before the crawl, by digest: content is
    /// immutable, so a digest found here costs no request at all (empty in a reconcile).
    previous: HashMap<&'a str, &'a ArtifactDoc>,
    /// Every document the catalog held before the crawl, by digest and by tag, whatever the
    /// mode: the last verified state kept when a manifest cannot be read this time.
    verified: HashMap<&'a str, &'a ArtifactDoc>,
    verified_tags: HashMap<&'a str, &'a ArtifactDoc>,
    documents: BTreeMap<String, ArtifactDoc>,
    queue: VecDeque<(String, Option<String>)>,
    failures: Vec<String>,
    /// Why the walk did not see the whole graph (it goes on; deletes wait for a complete one).
    incomplete: Vec<String>,
    manifests_seen: u64,
    manifests_unchanged: u64,
    /// Known tags are trusted at their indexed digest ([`CrawlMode::Listed`]).
    trust_known_tags: bool,
    /// Every tag the catalog held, fallback tags of referrers indexes too, when trusted.
    trusted_tags: HashMap<&'a str, &'a str>,
}

impl<'a> Walk<'a> {
    fn new(previous: &'a [ArtifactDoc], mode: CrawlMode) -> Walk<'a> {
        let verified: HashMap<&str, &ArtifactDoc> = previous.iter().map(|doc| (doc.digest.as_str(), doc)).collect();
        let verified_tags = previous
            .iter()
            .filter(|doc| !doc.referrers_index)
            .flat_map(|doc| doc.tags.iter().map(move |tag| (tag.as_str(), doc)))
            .collect();
        Walk {
            previous: if mode == CrawlMode::Reconcile { HashMap::new() } else { verified.clone() },
            verified,
            verified_tags,
            trust_known_tags: mode == CrawlMode::Listed,
            trusted_tags: if mode == CrawlMode::Listed {
                previous
                    .iter()
                    .filter(|doc| doc.crawl_error.is_none())
                    .flat_map(|doc| doc.tags.iter().map(move |tag| (tag.as_str(), doc.digest.as_str())))
                    .collect()
            } else {
                HashMap::new()
            },
            ..Walk::default()
        }
    }

    /// Reuses the previous document for `digest`, if any; queues its children too. A document
    /// the last crawl could not read again is fetched again instead.
    fn reuse(&mut self, digest: &str, tag: Option<String>) -> bool {
        let Some(previous) = self.previous.get(digest).filter(|doc| doc.crawl_error.is_none()) else {
            return false;
        };
        let mut document = (*previous).clone();
        document.tags = tag.into_iter().collect();
        self.queue.extend(document.children.iter().map(|child| (child.digest.clone(), None)));
        self.documents.insert(digest.to_owned(), document);
        self.manifests_unchanged += 1;
        true
    }

    /// `reference` could not be read: keeps what the catalog last verified for it (by digest,
    /// or for a tag the manifest it pointed at), marked with `error`, and walks on from it.
    fn keep_last_verified(&mut self, reference: &str, tag: Option<String>, error: &OciError) {
        let known =
            if reference.contains(':') { self.verified.get(reference) } else { self.verified_tags.get(reference) };
        let Some(previous) = known.copied() else { return };
        if let Some(existing) = self.documents.get_mut(&previous.digest) {
            existing.tags.extend(tag);
            return;
        }
        let mut document = previous.clone();
        document.tags = tag.into_iter().collect();
        document.crawl_error = Some(format!("the latest crawl could not read it: {error}"));
        self.queue.extend(document.children.iter().map(|child| (child.digest.clone(), None)));
        self.documents.insert(previous.digest.clone(), document);
    }

    fn note_incomplete(&mut self, reason: String) {
        self.incomplete.push(reason);
    }
}

/// The reasons of an incomplete walk, at most [`MAX_INCOMPLETE_REASONS`] of them.
fn capped_reasons(mut reasons: Vec<String>) -> Vec<String> {
    if reasons.len() > MAX_INCOMPLETE_REASONS {
        let rest = reasons.len() - MAX_INCOMPLETE_REASONS + 1;
        reasons.truncate(MAX_INCOMPLETE_REASONS - 1);
        reasons.push(format!("and {rest} more"));
    }
    reasons
}

/// Fetches one reference into the walk (or adds its tag to a known digest), queueing the
/// children of an index.
async fn fetch_into(
    client: &Client,
    registry: &str,
    repository: &str,
    reference: String,
    tag: Option<String>,
    walk: &mut Walk<'_>,
) {
    if let Some(existing) = walk.documents.get_mut(&reference) {
        if let Some(tag) = tag {
            existing.tags.push(tag);
        }
        return;
    }
    if reference.contains(':') && walk.reuse(&reference, tag.clone()) {
        return;
    }
    if tag.is_some() && walk.trust_known_tags {
        // Notifications announce every push, a moved tag too: a known tag costs no request.
        let known = walk.trusted_tags.get(reference.as_str()).map(|digest| (*digest).to_owned());
        if let Some(digest) = known {
            if let Some(existing) = walk.documents.get_mut(&digest) {
                existing.tags.extend(tag);
                return;
            }
            if walk.reuse(&digest, tag.clone()) {
                return;
            }
        }
    }
    if tag.is_some() && !walk.previous.is_empty() {
        // An unchanged tag costs a HEAD, not a GET.
        if let Ok(Some(digest)) = client.head_manifest(repository, &reference).await {
            let digest = digest.to_string();
            if let Some(existing) = walk.documents.get_mut(&digest) {
                existing.tags.extend(tag);
                return;
            }
            if walk.reuse(&digest, tag.clone()) {
                return;
            }
        }
    }
    let manifest = match client.get_manifest(repository, &reference).await {
        Ok(manifest) => manifest,
        Err(error) => {
            tracing::warn!(manifest.reference = %reference, %error, "failed to fetch manifest");
            walk.failures.push(format!("{repository}@{reference}: {error}"));
            // Gone is an answer (the graph is known without it); anything else is not.
            if !matches!(error, OciError::NotFound { .. }) {
                walk.note_incomplete(format!("{reference} could not be read: {error}"));
                walk.keep_last_verified(&reference, tag, &error);
            }
            return;
        }
    };
    let Walk { documents, queue, failures, manifests_seen, .. } = walk;
    *manifests_seen += 1;
    let digest = manifest.digest.to_string();
    if let Some(existing) = documents.get_mut(&digest) {
        if let Some(tag) = tag {
            existing.tags.push(tag);
        }
        return;
    }
    let config = match &manifest.body {
        ManifestBody::Image(image) if wants_config(&image.config().media_type().to_string(), image.config().size()) => {
            let fetched = match image.config().digest().to_string().parse::<Digest>() {
                Ok(config_digest) => client.get_blob(repository, &config_digest).await,
                Err(error) => Err(error.into()),
            };
            match fetched {
                Ok(bytes) => Some(bytes),
                Err(error) => {
                    tracing::warn!(artifact.digest = %digest, %error, "failed to fetch config");
                    failures.push(format!("{repository}@{digest} config: {error}"));
                    None
                }
            }
        }
        _ => None,
    };
    let mut document = artifact_doc(registry, repository, &manifest, config.as_deref());
    match crate::scans::read_findings(client, repository, &document, &manifest).await {
        Ok(Some(report)) => {
            document.scan_findings = Some(report.counts);
            document.findings = report.findings;
            document.producer = report.producer;
        }
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(artifact.digest = %digest, %error, "failed to read scan report");
            failures.push(error);
        }
    }
    match crate::sboms::read_packages(client, repository, &document, &manifest).await {
        Ok(read) => {
            if !read.packages.is_empty() {
                document.producer = read.producer;
            }
            document.packages = read.packages;
        }
        Err(error) => {
            tracing::warn!(artifact.digest = %digest, %error, "failed to read SBOM");
            failures.push(error);
        }
    }
    document.fact_count = (document.packages.len() + document.findings.len()) as u64;
    let (evidence, unread) = crate::signatures::read_evidence(client, repository, &document, &manifest).await;
    document.signature_evidence = evidence;
    failures.extend(unread);
    if let Some(tag) = tag {
        document.tags.push(tag);
    }
    for child in &document.children {
        queue.push_back((child.digest.clone(), None));
    }
    documents.insert(digest, document);
}

/// How much a walk may trust what the catalog already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CrawlMode {
    /// Known digests cost nothing and unchanged tags a HEAD (content is immutable by digest).
    #[default]
    Incremental,
    /// Every manifest is fetched again and every document rebuilt: the periodic full
    /// reconcile, which also repairs documents an older crawler version or a bug got wrong.
    Reconcile,
    /// Only the tag lists are read: a tag the catalog already holds is trusted at its indexed
    /// digest, new tags are fetched and vanished ones removed. For registries whose
    /// notifications are configured and arriving, which announce every push (a moved tag
    /// among them); the periodic reconcile checks every digest again.
    Listed,
}

/// Crawls `repository` of `registry` through `client`, reusing what `previous` (the catalog's
/// documents of this repository) already knows.
pub async fn crawl_repository(
    registry: &str,
    client: &Client,
    repository: &str,
    previous: &[ArtifactDoc],
) -> Result<RepositoryCrawl, OciError> {
    crawl_repository_in(registry, client, repository, previous, CrawlMode::Incremental, &[]).await
}

/// Crawls `repository` in `mode`, verifying its signatures against `policies` (those covering
/// it); the result is always the difference against `previous`.
#[tracing::instrument(skip_all, fields(registry.name = %registry, repo.name = %repository, crawl.mode = ?mode))]
pub async fn crawl_repository_in(
    registry: &str,
    client: &Client,
    repository: &str,
    previous: &[ArtifactDoc],
    mode: CrawlMode,
    policies: &[&ocicat_trust::Policy],
) -> Result<RepositoryCrawl, OciError> {
    let listing = client.tags(repository).await?;
    let mut walk = Walk::new(previous, mode);
    if listing.truncated {
        walk.failures.push(format!("tag list of {repository} was truncated"));
        walk.note_incomplete("its tag list was cut short".to_owned());
    }
    walk.queue.extend(listing.items.iter().map(|tag| (tag.clone(), Some(tag.clone()))));
    let mut asked_for_referrers: HashSet<String> = HashSet::new();
    // Digests the referrers API listed (the tree shows how each referrer was found).
    let mut from_api: HashSet<String> = HashSet::new();
    loop {
        while let Some((reference, tag)) = walk.queue.pop_front() {
            if walk.documents.len() >= MAX_MANIFESTS_PER_REPOSITORY {
                walk.failures.push(format!(
                    "{repository} has more than {MAX_MANIFESTS_PER_REPOSITORY} manifests; the rest were skipped"
                ));
                walk.note_incomplete(format!(
                    "it has more than {MAX_MANIFESTS_PER_REPOSITORY} manifests; the rest were not indexed"
                ));
                walk.queue.clear();
                break;
            }
            fetch_into(client, registry, repository, reference, tag, &mut walk).await;
        }
        // Referrers API (OCI 1.1): recursive, so a signature on an SBOM is found too. Registries
        // without the API answer once and are remembered by the client; fallback tags and index
        // children were already followed above.
        // Listed, a known manifest's referrers are known too: pushing one is a notification.
        let pending: Vec<String> = walk
            .documents
            .keys()
            .filter(|digest| !asked_for_referrers.contains(*digest))
            .filter(|digest| !(walk.trust_known_tags && walk.previous.contains_key(digest.as_str())))
            .cloned()
            .collect();
        if pending.is_empty() || walk.documents.len() >= MAX_MANIFESTS_PER_REPOSITORY {
            break;
        }
        for digest in pending {
            asked_for_referrers.insert(digest.clone());
            let Ok(subject) = digest.parse::<Digest>() else { continue };
            match client.referrers_api(repository, &subject, None).await {
                Ok(Some(referrers)) => {
                    let listed: Vec<String> =
                        referrers.into_iter().map(|referrer| referrer.digest.to_string()).collect();
                    let unknown = listed.iter().filter(|d| !walk.documents.contains_key(*d)).cloned();
                    walk.queue.extend(unknown.map(|d| (d, None)));
                    from_api.extend(listed);
                }
                Ok(None) => break,
                Err(error) => {
                    walk.failures.push(format!("{repository}@{digest} referrers: {error}"));
                    walk.note_incomplete(format!("the referrers of {digest} could not be listed: {error}"));
                }
            }
        }
        if walk.queue.is_empty() {
            break;
        }
    }
    let mut artifacts: Vec<ArtifactDoc> = walk
        .documents
        .into_values()
        .map(|mut document| {
            document.tags.sort();
            document.tags.dedup();
            document.referrers_index = document.kind == ArtifactKind::Index
                && !document.tags.is_empty()
                && document.tags.iter().all(|tag| is_fallback_tag(tag));
            document
        })
        .collect();
    crate::summary::summarise(&mut artifacts, &from_api, policies);
    let version_tags = listing.items.iter().filter(|tag| is_version_tag(tag)).count() as u64;
    let tagged = artifacts.iter().filter(|artifact| artifact.tags.iter().any(|tag| is_version_tag(tag)));
    let summary = RepositoryDoc {
        registry: registry.to_owned(),
        repository: repository.to_owned(),
        tag_count: version_tags,
        artifact_count: artifacts.len() as u64,
        size: tagged.clone().map(|artifact| artifact.size).sum(),
        // The newest build of a tagged artifact; else the newest date of anything in it (an
        // index carries none itself); else unknown (a registry API has no push time).
        last_push: tagged
            .filter_map(|artifact| artifact.created)
            .max()
            .or_else(|| artifacts.iter().filter_map(|artifact| artifact.created).max()),
        crawled_at: Some(Utc::now()),
        incomplete: capped_reasons(walk.incomplete),
    };
    let tags = artifacts
        .iter()
        .flat_map(|artifact| artifact.tags.iter().map(|tag| (tag.clone(), artifact.digest.clone())))
        .collect();
    let before: HashMap<&str, &ArtifactDoc> = previous.iter().map(|doc| (doc.digest.as_str(), doc)).collect();
    let now: HashSet<&str> = artifacts.iter().map(|doc| doc.digest.as_str()).collect();
    let removed = before.keys().filter(|digest| !now.contains(*digest)).map(|digest| (*digest).to_owned()).collect();
    let changed =
        artifacts.into_iter().filter(|artifact| before.get(artifact.digest.as_str()) != Some(&artifact)).collect();
    Ok(RepositoryCrawl {
        summary,
        changed,
        removed,
        manifests_seen: walk.manifests_seen,
        manifests_unchanged: walk.manifests_unchanged,
        failures: walk.failures,
        tags,
    })
}
