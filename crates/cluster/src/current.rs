//! The current documents: how each catalog change edits them (in the append's transaction),
//! and how an index is rebuilt from them once the log before it is pruned.

use std::collections::BTreeMap;

use ocicat_catalog::impact::{FindingFact, PackageFact};
use ocicat_catalog::{ArtifactDoc, CatalogError, Change, CrawlCheckpoint, RepositoryDoc};
use serde::{Deserialize, Serialize};

use crate::error::replication_error;
use crate::{ClusterError, Doc, DocEdit};

/// An SBOM's or scan's facts in the current documents.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Facts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    packages: Vec<PackageFact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<FindingFact>,
}

const REPOSITORY: &str = "repository";
const ARTIFACT: &str = "artifact";
const CHECKPOINT: &str = "checkpoint";

/// Keys of the current documents are JSON arrays: unique, and free of the NUL bytes that the
/// catalog's own keys hold and PostgreSQL's TEXT refuses.
fn repo_key(registry: &str, repository: &str) -> String {
    serde_json::json!([registry, repository]).to_string()
}

fn artifact_doc_key(registry: &str, repository: &str, digest: &str) -> String {
    serde_json::json!([ARTIFACT, registry, repository, digest]).to_string()
}

fn json(value: &impl Serialize) -> Result<String, CatalogError> {
    serde_json::to_string(value).map_err(replication_error)
}

fn summary_edit(repository: &RepositoryDoc) -> Result<DocEdit, CatalogError> {
    let repo = repo_key(&repository.registry, &repository.repository);
    Ok(DocEdit::Put {
        key: serde_json::json!([REPOSITORY, repository.registry, repository.repository]).to_string(),
        repo,
        kind: REPOSITORY.into(),
        body: json(repository)?,
        facts: String::new(),
    })
}

fn artifact_edit(artifact: &ArtifactDoc) -> Result<DocEdit, CatalogError> {
    let facts = if artifact.packages.is_empty() && artifact.findings.is_empty() {
        String::new()
    } else {
        json(&Facts { packages: artifact.packages.clone(), findings: artifact.findings.clone() })?
    };
    Ok(DocEdit::Put {
        key: artifact_doc_key(&artifact.registry, &artifact.repository, &artifact.digest),
        repo: repo_key(&artifact.registry, &artifact.repository),
        kind: ARTIFACT.into(),
        body: json(artifact)?,
        facts,
    })
}

/// How `change` changes the current documents.
pub(crate) fn doc_edits(change: &Change) -> Result<Vec<DocEdit>, CatalogError> {
    let artifact_gone = |registry: &str, repository: &str, digest: &str| DocEdit::Delete {
        key: artifact_doc_key(registry, repository, digest),
    };
    Ok(match change {
        Change::ReplaceRepository { repository, artifacts } => {
            let mut edits =
                vec![DocEdit::DeleteRepository { repo: repo_key(&repository.registry, &repository.repository) }];
            edits.push(summary_edit(repository)?);
            for artifact in artifacts {
                edits.push(artifact_edit(artifact)?);
            }
            edits
        }
        Change::UpsertRepository { repository, changed, removed } => {
            // Removed first, then changed, as the writer applies them.
            let mut edits: Vec<DocEdit> = removed
                .iter()
                .map(|digest| artifact_gone(&repository.registry, &repository.repository, digest))
                .collect();
            for artifact in changed {
                edits.push(artifact_edit(artifact)?);
            }
            edits.push(summary_edit(repository)?);
            edits
        }
        Change::Checkpoint { checkpoint } => vec![DocEdit::Put {
            key: serde_json::json!([CHECKPOINT, checkpoint.registry]).to_string(),
            repo: String::new(),
            kind: CHECKPOINT.into(),
            body: json(checkpoint)?,
            facts: String::new(),
        }],
        Change::RemoveRepository { registry, repository } => {
            vec![DocEdit::DeleteRepository { repo: repo_key(registry, repository) }]
        }
        Change::RemoveArtifacts { registry, repository, digests } => {
            digests.iter().map(|digest| artifact_gone(registry, repository, digest)).collect()
        }
        Change::Reset | Change::Applied { .. } => {
            return Err(replication_error("a reset or a position is a replica's own, never replicated"));
        }
    })
}

/// The changes that rebuild an index from the current documents: everything goes, then each
/// repository is replaced whole and each registry's checkpoint written.
pub(crate) fn rebuild_changes(docs: Vec<Doc>) -> Result<Vec<Change>, ClusterError> {
    let parse = |error: serde_json::Error| ClusterError::Catalog(replication_error(error));
    let mut repositories: BTreeMap<String, (Option<RepositoryDoc>, Vec<ArtifactDoc>)> = BTreeMap::new();
    let mut checkpoints = Vec::new();
    for doc in docs {
        match doc.kind.as_str() {
            REPOSITORY => {
                repositories.entry(doc.repo).or_default().0 = Some(serde_json::from_str(&doc.body).map_err(parse)?)
            }
            ARTIFACT => {
                let mut artifact: ArtifactDoc = serde_json::from_str(&doc.body).map_err(parse)?;
                if !doc.facts.is_empty() {
                    let facts: Facts = serde_json::from_str(&doc.facts).map_err(parse)?;
                    (artifact.packages, artifact.findings) = (facts.packages, facts.findings);
                }
                repositories.entry(doc.repo).or_default().1.push(artifact);
            }
            CHECKPOINT => checkpoints.push(serde_json::from_str::<CrawlCheckpoint>(&doc.body).map_err(parse)?),
            other => tracing::warn!(doc.kind = other, "skipping a current document of an unknown kind"),
        }
    }
    let mut changes = vec![Change::Reset];
    for (repo, (summary, artifacts)) in repositories {
        match summary {
            Some(repository) => changes.push(Change::ReplaceRepository { repository, artifacts }),
            None => tracing::warn!(repo.key = %repo, "artifacts without their repository's summary: skipped"),
        }
    }
    changes.extend(checkpoints.into_iter().map(|checkpoint| Change::Checkpoint { checkpoint }));
    Ok(changes)
}
