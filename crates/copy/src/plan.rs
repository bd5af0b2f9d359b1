//! Copy plans: the graph from the catalog, then a look at the destination — which manifests and
//! blobs it holds (HEAD), whether it answers the referrers API (if not, the fallback index
//! entries to add), and which tags would move — with totals and a fingerprint.

use chrono::Utc;
use futures::{StreamExt as _, TryStreamExt as _};
use ocicat_catalog::{ArtifactDoc, Catalog, Scope, SearchSort, cosign_tag_subject, is_fallback_tag};
use ocicat_oci::{Client, Digest, OciError};
use sha2::{Digest as _, Sha256};

use crate::graph::{Blob, Graph, Node, TypeFilter, walk};
use crate::model::{
    BlobItem, CopyPlan, CopyRequest, CopyTotals, Endpoint, Excluded, FallbackItem, GraphFilter, MAX_ROOTS,
    ManifestItem, MovedTag, TagItem,
};

/// How many HEAD requests a plan sends to the destination at once.
const LOOKUPS_AT_ONCE: usize = 8;

/// Why a plan cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The artifact is not in the index.
    #[error("{0} is not in the index (refresh the repository if it was pushed just now)")]
    NotFound(String),
    /// The graph cannot be copied as the index has it.
    #[error("{0}")]
    Refused(String),
    /// Too many manifests.
    #[error("the artifact's graph holds more than {0} manifests")]
    TooLarge(usize),
    /// The index failed.
    #[error("catalog: {0}")]
    Catalog(String),
    /// The destination answered with an error.
    #[error("destination: {0}")]
    Destination(#[from] OciError),
}

/// The plan for `request`: the artifacts it names (a search within `scope`, what the reader may
/// see), their graph from `catalog`, checked against `destination` (the client of the
/// destination registry).
pub async fn plan(
    catalog: &Catalog,
    scope: &Scope,
    destination: &Client,
    request: &CopyRequest,
) -> Result<CopyPlan, CopyError> {
    let source = &request.source;
    if source == &request.destination {
        return Err(CopyError::Refused("the destination is the source repository".into()));
    }
    let selection =
        Selection::of(source, request.digest.as_deref(), request.query.as_deref(), &request.tags, &request.filter);
    let (roots, digests, graph) = source_graph(catalog, scope, &selection)?;
    let repository = request.destination.repository.as_str();
    let manifests = manifest_items(&graph, destination, repository).await?;
    let blobs = blob_items(&graph, destination, repository).await?;
    let probe: Digest =
        digests[0].parse().map_err(|_| CopyError::Refused(format!("{} is not a digest", digests[0])))?;
    let destination_referrers_api = destination.referrers_api(repository, &probe, None).await?.is_some();
    let fallback = if destination_referrers_api {
        Vec::new()
    } else {
        manifests
            .iter()
            .filter_map(|item| Some(FallbackItem { subject: item.subject.clone()?, referrer: item.digest.clone() }))
            .collect()
    };
    let mut moved_tags = Vec::new();
    let mut wanted_tags: Vec<(String, String)> =
        roots.iter().filter(|root| !root.tag.is_empty()).map(|root| (root.tag.clone(), root.digest.clone())).collect();
    for item in &manifests {
        wanted_tags.extend(item.tags.iter().map(|tag| (tag.clone(), item.digest.clone())));
    }
    for (tag, wanted) in wanted_tags {
        match destination.head_manifest(repository, &tag).await {
            Ok(Some(current)) if current.to_string() != wanted => {
                moved_tags.push(MovedTag { tag, from: current.to_string(), to: wanted });
            }
            Ok(_) | Err(OciError::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
    }
    let totals = totals(&manifests, &blobs);
    let tags: Vec<TagItem> = roots
        .iter()
        .filter(|root| !root.tag.is_empty())
        .map(|root| TagItem { tag: root.tag.clone(), digest: root.digest.clone() })
        .collect();
    let mut plan = CopyPlan {
        request: request.clone(),
        roots: digests,
        tags,
        manifests,
        blobs,
        destination_referrers_api,
        fallback,
        moved_tags,
        excluded: graph.excluded,
        totals,
        fingerprint: String::new(),
    };
    plan.fingerprint = fingerprint(&plan);
    Ok(plan)
}

/// What a copy or an export starts from.
pub(crate) struct Selection<'a> {
    pub(crate) source: &'a Endpoint,
    pub(crate) digest: Option<&'a str>,
    pub(crate) query: Option<&'a str>,
    pub(crate) tags: &'a [String],
    pub(crate) filter: TypeFilter<'a>,
    pub(crate) platforms: &'a [String],
}

impl<'a> Selection<'a> {
    /// The artifacts of `source` a request names, and what goes along.
    pub(crate) fn of(
        source: &'a Endpoint,
        digest: Option<&'a str>,
        query: Option<&'a str>,
        tags: &'a [String],
        filter: &'a GraphFilter,
    ) -> Selection<'a> {
        let types = TypeFilter { include: &filter.include_artifact_types, exclude: &filter.exclude_artifact_types };
        Selection { source, digest, query, tags, filter: types, platforms: &filter.platforms }
    }
}

/// One artifact a copy starts from, with one tag to set (one root per tag; empty: none).
pub(crate) struct Root {
    pub(crate) digest: String,
    pub(crate) tag: String,
}

/// The roots `selection` names, their digests (each once) and their graph from the catalog.
pub(crate) fn source_graph(
    catalog: &Catalog,
    scope: &Scope,
    selection: &Selection<'_>,
) -> Result<(Vec<Root>, Vec<String>, Graph), CopyError> {
    let mut roots = roots(catalog, scope, selection)?;
    let source = selection.source;
    let mut left = Vec::new();
    if !selection.platforms.is_empty() {
        let mut kept = Vec::new();
        for mut root in roots {
            let doc = catalog
                .artifact(&source.registry, &source.repository, &root.digest)
                .map_err(|error| CopyError::Catalog(error.to_string()))?
                .ok_or_else(|| {
                    CopyError::NotFound(format!("{}/{}@{}", source.registry, source.repository, root.digest))
                })?;
            let wanted = selection.platforms.join(", ");
            let mut leave = |reason: String| {
                if !left.iter().any(|left: &Excluded| left.digest == doc.digest) {
                    left.push(Excluded { digest: doc.digest.clone(), reason });
                }
            };
            match platform_image(&doc, selection.platforms)? {
                Some(chosen) => {
                    leave(format!(
                        "the index stays behind: its {wanted} image {chosen} goes in its place (an index with fewer platforms would be another digest)"
                    ));
                    root.digest = chosen;
                }
                None if !doc.platforms.is_empty()
                    && !doc.platforms.iter().any(|platform| platform_matches(selection.platforms, platform)) =>
                {
                    leave(format!("an image for {}, not {wanted}", doc.platforms.join(", ")));
                    continue;
                }
                None => {}
            }
            kept.push(root);
        }
        roots = kept;
        if roots.is_empty() {
            return Err(CopyError::Refused(format!("nothing to copy for {}", selection.platforms.join(", "))));
        }
    }
    let mut digests: Vec<String> = Vec::new();
    for root in &roots {
        if !digests.contains(&root.digest) {
            digests.push(root.digest.clone());
        }
    }
    let mut graph = walk(catalog, &source.registry, &source.repository, &digests, selection.filter)?;
    graph.excluded.extend(left);
    Ok((roots, digests, graph))
}

/// True when `platform` (`os/arch[/variant]`) is one of `wanted` or a variant of one.
fn platform_matches(wanted: &[String], platform: &str) -> bool {
    wanted
        .iter()
        .any(|want| platform == want || platform.strip_prefix(want.as_str()).is_some_and(|rest| rest.starts_with('/')))
}

/// For an index and a platform filter: its one image for those platforms (`None` for an image,
/// which goes as it is); refused when none or several match.
fn platform_image(doc: &ArtifactDoc, wanted: &[String]) -> Result<Option<String>, CopyError> {
    if doc.children.is_empty() {
        return Ok(None);
    }
    let chosen: Vec<&str> = doc
        .children
        .iter()
        .filter(|child| {
            child.attests.is_none()
                && child.platform.as_deref().is_some_and(|platform| platform_matches(wanted, platform))
        })
        .map(|child| child.digest.as_str())
        .collect();
    match chosen.as_slice() {
        [one] => Ok(Some((*one).to_owned())),
        [] => Err(CopyError::Refused(format!("{} has no image for {}", doc.digest, wanted.join(", ")))),
        _ => Err(CopyError::Refused(format!(
            "{} platforms of {} match {}; name one (a copy with some of an index's platforms would be a new index, another digest)",
            chosen.len(),
            doc.digest,
            wanted.join(", ")
        ))),
    }
}

/// The tags of `doc` a repository or search copy carries (not cosign's or fallback tags,
/// which come with the referrers that carry them).
fn own_tags(doc: &ArtifactDoc) -> Vec<String> {
    doc.tags.iter().filter(|tag| cosign_tag_subject(tag).is_none() && !is_fallback_tag(tag)).cloned().collect()
}

fn roots_of(docs: impl IntoIterator<Item = ArtifactDoc>) -> Vec<Root> {
    let mut roots = Vec::new();
    for doc in docs {
        let tags = own_tags(&doc);
        if tags.is_empty() {
            roots.push(Root { digest: doc.digest.clone(), tag: String::new() });
        }
        roots.extend(tags.into_iter().map(|tag| Root { digest: doc.digest.clone(), tag }));
    }
    roots
}

/// The artifacts `request` starts from: one digest (with the tags asked for), what a search
/// finds in the source repository, or every tagged artifact of it (each with its own tags).
fn roots(catalog: &Catalog, scope: &Scope, request: &Selection<'_>) -> Result<Vec<Root>, CopyError> {
    let (registry, repository) = (&request.source.registry, &request.source.repository);
    if let Some(digest) = request.digest {
        if request.tags.is_empty() {
            return Ok(vec![Root { digest: digest.to_owned(), tag: String::new() }]);
        }
        return Ok(request.tags.iter().map(|tag| Root { digest: digest.to_owned(), tag: tag.clone() }).collect());
    }
    if !request.tags.is_empty() {
        return Err(CopyError::Refused(
            "tags name one artifact; a search or repository copy keeps each artifact's own tags".into(),
        ));
    }
    let docs: Vec<ArtifactDoc> = match request.query.map(str::trim).filter(|query| !query.is_empty()) {
        Some(query) => {
            // The search within the source repository only, so its first hits are all there.
            let within = format!("({query}) registry:\"{registry}\" repo:\"{repository}\"");
            let (_, hits) = catalog
                .search_hits(scope, &within, SearchSort::Newest, 0, MAX_ROOTS + 1, Utc::now())
                .map_err(|error| CopyError::Refused(format!("the search: {error}")))?;
            hits.into_iter().filter(|doc| &doc.registry == registry && &doc.repository == repository).collect()
        }
        None => catalog
            .artifacts_in_repository(registry, repository)
            .map_err(|error| CopyError::Catalog(error.to_string()))?
            .into_iter()
            .filter(|doc| !doc.referrers_index && !own_tags(doc).is_empty())
            .collect(),
    };
    if docs.len() > MAX_ROOTS {
        return Err(CopyError::Refused(format!("more than {MAX_ROOTS} artifacts to copy at once; narrow the search")));
    }
    if docs.is_empty() {
        return Err(CopyError::Refused(format!("nothing to copy: no artifact of {registry}/{repository} matches")));
    }
    Ok(roots_of(docs))
}

async fn manifest_items(graph: &Graph, destination: &Client, repository: &str) -> Result<Vec<ManifestItem>, CopyError> {
    let lookups: Vec<_> = graph.nodes.iter().map(|node| manifest_item(node, destination, repository)).collect();
    futures::stream::iter(lookups).buffered(LOOKUPS_AT_ONCE).try_collect().await
}

async fn manifest_item(node: &Node, destination: &Client, repository: &str) -> Result<ManifestItem, CopyError> {
    let present = match destination.head_manifest(repository, &node.doc.digest).await {
        Ok(found) => found.is_some(),
        Err(OciError::NotFound { .. }) => false,
        Err(error) => return Err(CopyError::from(error)),
    };
    Ok(item_of(node, present))
}

/// The plan's line for `node`.
pub(crate) fn item_of(node: &Node, present: bool) -> ManifestItem {
    ManifestItem {
        digest: node.doc.digest.clone(),
        media_type: node.doc.media_type.clone(),
        size: node.doc.manifest_size,
        kind: node.doc.kind.as_str().to_owned(),
        artifact_type: node.doc.artifact_type.clone(),
        role: node.role,
        parent: node.parent.clone(),
        subject: node.doc.subject.clone(),
        tags: node.cosign_tags.clone(),
        present,
    }
}

async fn blob_items(graph: &Graph, destination: &Client, repository: &str) -> Result<Vec<BlobItem>, CopyError> {
    let lookups: Vec<_> = graph.blobs.iter().map(|blob| blob_item(blob, destination, repository)).collect();
    futures::stream::iter(lookups).buffered(LOOKUPS_AT_ONCE).try_collect().await
}

async fn blob_item(blob: &Blob, destination: &Client, repository: &str) -> Result<BlobItem, CopyError> {
    let digest: Digest =
        blob.digest.parse().map_err(|_| CopyError::Refused(format!("{} is not a digest", blob.digest)))?;
    let present = destination.has_blob(repository, &digest).await?;
    Ok(BlobItem { digest: blob.digest.clone(), size: blob.size, present })
}

pub(crate) fn totals(manifests: &[ManifestItem], blobs: &[BlobItem]) -> CopyTotals {
    // (count to copy, count present, bytes to copy, bytes present) of (present, size) pairs.
    let count = |items: &mut dyn Iterator<Item = (bool, u64)>| {
        items.fold((0, 0, 0, 0), |(copy, present, bytes, kept), (there, size)| {
            if there { (copy, present + 1, bytes, kept + size) } else { (copy + 1, present, bytes + size, kept) }
        })
    };
    let (manifests, manifests_present, manifest_bytes, manifest_bytes_present) =
        count(&mut manifests.iter().map(|item| (item.present, item.size)));
    let (blobs, blobs_present, blob_bytes, blob_bytes_present) =
        count(&mut blobs.iter().map(|blob| (blob.present, blob.size)));
    CopyTotals {
        manifests,
        manifests_present,
        blobs,
        blobs_present,
        bytes: manifest_bytes + blob_bytes,
        bytes_present: manifest_bytes_present + blob_bytes_present,
    }
}

/// SHA-256 over the plan as shown (its JSON without the fingerprint).
pub(crate) fn fingerprint(plan: &CopyPlan) -> String {
    let mut shown = plan.clone();
    shown.fingerprint = String::new();
    hex::encode(Sha256::digest(serde_json::to_vec(&shown).unwrap_or_default()))
}
