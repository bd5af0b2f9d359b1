//! Exports to OCI image layouts: the graph a copy would write (index children, referrers
//! recursively, every blob), written into a directory or streamed as a tar archive. Blobs come
//! from the source through the client's verified streams; manifests with their original bytes.
//! `index.json` names each root by its tags (`org.opencontainers.image.ref.name`), lists untagged
//! roots and every referrer (with its artifact type, the way oras keeps referrers in a layout)
//! and cosign's tag-attached objects under their `sha256-<hex>.sig` names — so the layout reads
//! back whole with skopeo, umoci, oras, or ocicat itself.

use std::path::Path;

use bytes::Bytes;
use futures::channel::mpsc;
use futures::{SinkExt as _, StreamExt as _};
use ocicat_catalog::{Catalog, Scope};
use ocicat_layout::archive::{END, directory_header, file_header, padding};
use ocicat_layout::read::blob_path;
use ocicat_layout::write::{index_document, merge_index};
use ocicat_layout::{Descriptor, LayoutWriter, REF_NAME};
use ocicat_oci::{Client, Digest, OciError};

use crate::model::{BlobItem, CopyReport, ExportPlan, ExportRequest, ManifestItem, Role, Step, StepOutcome, TagItem};
use crate::plan::{CopyError, Selection, item_of, source_graph, totals};

/// How many blobs an export into a directory writes at once.
const BLOBS_AT_ONCE: usize = 4;
/// The marker file of a layout.
const MARKER: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

/// Why an export did not start.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The plan could not be made.
    #[error(transparent)]
    Plan(#[from] CopyError),
    /// The layout directory cannot be written.
    #[error("the layout: {0}")]
    Layout(String),
}

/// The export plan for `request`: its graph from `catalog` (what the reader sees through
/// `scope`), each item marked present when `directory` holds it already.
pub fn export_plan(
    catalog: &Catalog,
    scope: &Scope,
    request: &ExportRequest,
    directory: Option<&Path>,
) -> Result<ExportPlan, CopyError> {
    let selection = Selection::of(
        &request.source,
        request.digest.as_deref(),
        request.query.as_deref(),
        &request.tags,
        &request.filter,
    );
    let (roots, digests, graph) = source_graph(catalog, scope, &selection)?;
    let present = |digest: &str, size: u64| {
        directory
            .and_then(|dir| blob_path(dir, digest))
            .and_then(|path| std::fs::metadata(path).ok())
            .is_some_and(|metadata| metadata.is_file() && metadata.len() == size)
    };
    let manifests: Vec<ManifestItem> =
        graph.nodes.iter().map(|node| item_of(node, present(&node.doc.digest, node.doc.manifest_size))).collect();
    let blobs: Vec<BlobItem> = graph
        .blobs
        .iter()
        .map(|blob| BlobItem {
            digest: blob.digest.clone(),
            size: blob.size,
            present: present(&blob.digest, blob.size),
        })
        .collect();
    let tags = roots
        .iter()
        .filter(|root| !root.tag.is_empty())
        .map(|root| TagItem { tag: root.tag.clone(), digest: root.digest.clone() })
        .collect();
    let totals = totals(&manifests, &blobs);
    Ok(ExportPlan {
        request: request.clone(),
        roots: digests,
        tags,
        manifests,
        blobs,
        excluded: graph.excluded,
        totals,
    })
}

fn descriptor(item: &ManifestItem, name: Option<&str>, with_type: bool) -> Descriptor {
    Descriptor {
        media_type: item.media_type.clone(),
        digest: item.digest.clone(),
        size: item.size,
        artifact_type: item.artifact_type.clone().filter(|_| with_type),
        annotations: name.map(|name| [(REF_NAME.to_owned(), name.to_owned())].into()).unwrap_or_default(),
        platform: None,
    }
}

/// The entries `index.json` gets for `plan`: each tag, each untagged root, each referrer (by
/// its cosign tags when it has them).
pub fn index_entries(plan: &ExportPlan) -> Vec<Descriptor> {
    let mut entries = Vec::new();
    for tag in &plan.tags {
        if let Some(item) = plan.manifests.iter().find(|item| item.digest == tag.digest) {
            entries.push(descriptor(item, Some(&tag.tag), false));
        }
    }
    for item in &plan.manifests {
        let tagged = plan.tags.iter().any(|tag| tag.digest == item.digest);
        match item.role {
            Role::Root if !tagged => entries.push(descriptor(item, None, false)),
            Role::Referrer if item.tags.is_empty() => entries.push(descriptor(item, None, true)),
            Role::Referrer => entries.extend(item.tags.iter().map(|tag| descriptor(item, Some(tag), true))),
            Role::Root | Role::Child => {}
        }
    }
    entries
}

fn failed(error: impl std::fmt::Display) -> StepOutcome {
    StepOutcome::Failed { reason: error.to_string() }
}

/// Writes `plan` from `source` into the layout directory `dir` (created if needed; what it
/// holds is skipped); `index.json` is updated last, only when everything arrived.
pub async fn export_to_directory(plan: &ExportPlan, source: &Client, dir: &Path) -> Result<CopyReport, ExportError> {
    let writer = LayoutWriter::create(dir).map_err(|error| ExportError::Layout(error.to_string()))?;
    let repository = plan.request.source.repository.as_str();
    let mut report = CopyReport::default();
    let record = |report: &mut CopyReport, what: &str, target: &str, outcome: StepOutcome| {
        let ok = !matches!(outcome, StepOutcome::Failed { .. });
        if !ok {
            tracing::warn!(export.step = what, export.target = target, ?outcome, "export step failed");
        }
        report.steps.push(Step { what: what.to_owned(), target: target.to_owned(), outcome });
        ok
    };
    let writer_ref = &writer;
    let writes = plan.blobs.iter().map(|blob| async move {
        if writer_ref.has_blob(&blob.digest, blob.size) {
            return StepOutcome::Present;
        }
        let Ok(digest) = blob.digest.parse::<Digest>() else {
            return failed(format!("{} is not a digest", blob.digest));
        };
        match source.blob_stream(repository, &digest, blob.size).await {
            Ok(stream) => match writer_ref.write_stream(&blob.digest, blob.size, stream).await {
                Ok(bytes) => StepOutcome::Copied { bytes },
                Err(error) => failed(error),
            },
            Err(error) => failed(error),
        }
    });
    let mut outcomes = futures::stream::iter(writes).buffered(BLOBS_AT_ONCE);
    let mut position = 0;
    while let Some(outcome) = outcomes.next().await {
        let digest = &plan.blobs[position].digest;
        position += 1;
        if !record(&mut report, "blob", digest, outcome) {
            return Ok(report);
        }
    }
    drop(outcomes);
    for item in &plan.manifests {
        let outcome = if writer.has_blob(&item.digest, item.size) {
            StepOutcome::Present
        } else {
            match source.get_manifest(repository, &item.digest).await {
                Ok(manifest) => match writer.write_bytes(&item.digest, manifest.raw).await {
                    Ok(bytes) => StepOutcome::Copied { bytes },
                    Err(error) => failed(error),
                },
                Err(error) => failed(error),
            }
        };
        if !record(&mut report, "manifest", &item.digest, outcome) {
            return Ok(report);
        }
    }
    let entries = index_entries(plan);
    let outcome = match writer.finish(&entries) {
        Ok(()) => StepOutcome::Copied { bytes: 0 },
        Err(error) => failed(error),
    };
    report.complete = record(&mut report, "index", "index.json", outcome);
    Ok(report)
}

/// A layout as a tar archive: its exact length, and the bytes as they are fetched.
#[derive(Debug)]
pub struct LayoutTar {
    /// The archive's length in bytes (for `Content-Length`).
    pub length: u64,
    /// The archive; an error item ends it early (the source failed or lied).
    pub body: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

/// The path of `digest`'s blob inside a layout.
fn entry_path(digest: &str) -> Option<String> {
    let (algorithm, hex) = digest.split_once(':')?;
    Some(format!("blobs/{algorithm}/{hex}"))
}

fn entry_length(size: u64) -> u64 {
    512 + size + padding(size) as u64
}

/// Streams `plan` from `source` as a tar archive of a layout (nothing is kept on disk; memory
/// holds one chunk at a time). The archive is produced while the receiver reads it.
pub fn export_tar(plan: ExportPlan, source: Client) -> Result<LayoutTar, ExportError> {
    let index = serde_json::to_vec_pretty(&index_document(merge_index(&[], &index_entries(&plan))))
        .map_err(|error| ExportError::Layout(error.to_string()))?;
    let mut algorithms: Vec<String> = Vec::new();
    let mut names = std::collections::HashSet::new();
    let mut files: Vec<(String, u64, bool)> = Vec::new(); // (digest, size, is a blob)
    let digests = plan
        .blobs
        .iter()
        .map(|blob| (blob.digest.clone(), blob.size, true))
        .chain(plan.manifests.iter().map(|item| (item.digest.clone(), item.size, false)));
    for (digest, size, blob) in digests {
        let algorithm = digest.split_once(':').map(|(algorithm, _)| algorithm.to_owned()).unwrap_or_default();
        if entry_path(&digest).is_none() {
            return Err(ExportError::Layout(format!("{digest} is not a digest")));
        }
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
        if names.insert(digest.clone()) {
            files.push((digest, size, blob));
        }
    }
    let length = 512 * (1 + algorithms.len() as u64)
        + entry_length(MARKER.len() as u64)
        + files.iter().map(|(_, size, _)| entry_length(*size)).sum::<u64>()
        + entry_length(index.len() as u64)
        + END.len() as u64;
    let (mut sender, body) = mpsc::channel(4);
    let repository = plan.request.source.repository.clone();
    tokio::spawn(async move {
        let result = write_tar(&mut sender, &source, &repository, &algorithms, &files, index).await;
        if let Err(error) = result {
            tracing::warn!(%error, "a layout download stopped");
            let _ = sender.send(Err(error)).await;
        }
    });
    Ok(LayoutTar { length, body })
}

type Sender = mpsc::Sender<Result<Bytes, std::io::Error>>;

async fn send(sender: &mut Sender, bytes: impl Into<Bytes>) -> std::io::Result<()> {
    sender.send(Ok(bytes.into())).await.map_err(|_| std::io::Error::other("the download was closed"))
}

async fn send_file(sender: &mut Sender, path: &str, content: Bytes) -> std::io::Result<()> {
    let size = content.len() as u64;
    send(sender, file_header(path, size).map_err(std::io::Error::other)?.to_vec()).await?;
    send(sender, content).await?;
    send(sender, vec![0u8; padding(size)]).await
}

async fn write_tar(
    sender: &mut Sender,
    source: &Client,
    repository: &str,
    algorithms: &[String],
    files: &[(String, u64, bool)],
    index: Vec<u8>,
) -> std::io::Result<()> {
    let io = |error: OciError| std::io::Error::other(error.to_string());
    send(sender, directory_header("blobs/").map_err(std::io::Error::other)?.to_vec()).await?;
    for algorithm in algorithms {
        send(sender, directory_header(&format!("blobs/{algorithm}/")).map_err(std::io::Error::other)?.to_vec()).await?;
    }
    send_file(sender, "oci-layout", Bytes::from_static(MARKER)).await?;
    for (digest, size, blob) in files {
        let path = entry_path(digest).unwrap_or_default();
        let parsed: Digest = digest.parse().map_err(|_| std::io::Error::other(format!("{digest} is not a digest")))?;
        if !blob {
            let manifest = source.get_manifest(repository, digest).await.map_err(io)?;
            if manifest.raw.len() as u64 != *size {
                return Err(std::io::Error::other(format!("{digest} is not the {size} bytes the plan names")));
            }
            send_file(sender, &path, manifest.raw).await?;
            continue;
        }
        send(sender, file_header(&path, *size).map_err(std::io::Error::other)?.to_vec()).await?;
        let mut stream = source.blob_stream(repository, &parsed, *size).await.map_err(io)?;
        let mut sent = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(io)?;
            sent += chunk.len() as u64;
            send(sender, chunk).await?;
        }
        if sent != *size {
            return Err(std::io::Error::other(format!("{digest}: {sent} bytes arrived, the plan names {size}")));
        }
        send(sender, vec![0u8; padding(*size)]).await?;
    }
    send_file(sender, "index.json", Bytes::from(index)).await?;
    send(sender, END.to_vec()).await
}
