//! A catalog write as data: what the single writer applies, serialisable whole — the packages
//! and findings that stored documents leave out included — so that a change log can carry it
//! to other replicas, which apply it to their own index exactly as the writer here does
//! ([`crate::CatalogWriter::apply`]).

use serde::{Deserialize, Serialize};

use crate::document::{ArtifactDoc, CrawlCheckpoint, RepositoryDoc};

/// One write to the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    /// Everything indexed for one repository becomes `artifacts` and its summary.
    ReplaceRepository {
        /// The summary.
        repository: RepositoryDoc,
        /// Every artifact.
        #[serde(with = "with_facts")]
        artifacts: Vec<ArtifactDoc>,
    },
    /// The artifacts of one repository that changed, those that disappeared, and its summary.
    UpsertRepository {
        /// The summary.
        repository: RepositoryDoc,
        /// Artifacts written again (by key).
        #[serde(with = "with_facts")]
        changed: Vec<ArtifactDoc>,
        /// Digests removed.
        removed: Vec<String>,
    },
    /// Where a registry's crawl stands.
    Checkpoint {
        /// The checkpoint.
        checkpoint: CrawlCheckpoint,
    },
    /// A repository that disappeared from its registry.
    RemoveRepository {
        /// Its registry.
        registry: String,
        /// Its path.
        repository: String,
    },
    /// Everything goes: the first change of a replica rebuilt from a snapshot of the catalog.
    Reset,
    /// How far this replica has applied the shared change log, committed with the changes it
    /// applied ([`crate::Catalog::applied_position`]). A replica's own, never replicated.
    Applied {
        /// The last change-log sequence number applied.
        seq: i64,
    },
    /// Artifacts the registry confirmed deleted.
    RemoveArtifacts {
        /// Their registry.
        registry: String,
        /// Their repository.
        repository: String,
        /// Their digests.
        digests: Vec<String>,
    },
}

/// Artifact documents with their just-read facts, which their own serialisation (the stored
/// body) skips.
mod with_facts {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::document::ArtifactDoc;
    use crate::impact::{FindingFact, PackageFact};

    #[derive(Serialize, Deserialize)]
    struct WithFacts {
        #[serde(flatten)]
        document: ArtifactDoc,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        packages: Vec<PackageFact>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        findings: Vec<FindingFact>,
    }

    pub(super) fn serialize<S: Serializer>(documents: &[ArtifactDoc], serializer: S) -> Result<S::Ok, S::Error> {
        let whole: Vec<WithFacts> = documents
            .iter()
            .map(|document| WithFacts {
                packages: document.packages.clone(),
                findings: document.findings.clone(),
                document: document.clone(),
            })
            .collect();
        whole.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<ArtifactDoc>, D::Error> {
        let whole = Vec::<WithFacts>::deserialize(deserializer)?;
        Ok(whole
            .into_iter()
            .map(|WithFacts { mut document, packages, findings }| {
                document.packages = packages;
                document.findings = findings;
                document
            })
            .collect())
    }
}
