//! For benchmarks only: the catalog's own tantivy schema, index settings and document mapping,
//! so that a benchmark can index the very documents the writer adds, with nothing around them
//! (the engine's own rate on this machine, P4's limit). Nothing in the application uses it.

use std::path::Path;

pub use tantivy;
use tantivy::{Index, TantivyDocument};

use crate::document::{ArtifactDoc, RepositoryDoc};
use crate::error::{Result, index_error};
use crate::mapping::{artifact_documents, repository_document};
use crate::schema::{Fields, build_schema, settings};

/// The catalog's mapping of its documents to tantivy documents, and the index they fit.
#[derive(Debug, Clone)]
pub struct RawMapping {
    fields: Fields,
}

impl Default for RawMapping {
    fn default() -> Self {
        RawMapping { fields: build_schema().1 }
    }
}

impl RawMapping {
    /// Creates an empty index in `directory` with the catalog's schema and index settings.
    pub fn create_index(&self, directory: &Path) -> Result<Index> {
        Index::builder()
            .schema(build_schema().0)
            .settings(settings())
            .create_in_dir(directory)
            .map_err(index_error(format!("cannot create index in {}", directory.display())))
    }

    /// Every document the writer adds for one upsert of `repository` with `artifacts`: each
    /// artifact's own, its tag and facts documents, then the repository summary.
    pub fn repository_documents(&self, repository: &RepositoryDoc, artifacts: &[ArtifactDoc]) -> Vec<TantivyDocument> {
        let mut documents: Vec<TantivyDocument> =
            artifacts.iter().flat_map(|artifact| artifact_documents(&self.fields, artifact)).collect();
        documents.push(repository_document(&self.fields, repository));
        documents
    }
}
