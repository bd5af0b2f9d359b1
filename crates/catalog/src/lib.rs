//! The catalog: an embedded tantivy index of every crawled artifact and repository.
//!
//! One writer task owns the `IndexWriter` ([`CatalogWriter`]); any number of readers answer
//! pages ([`Catalog`]). The registry is the source of truth and this index is a rebuildable cache.

mod by_created;
mod by_name;
mod change;
mod document;
mod error;
mod facets;
mod facts;
pub mod impact;
mod keys;
mod mapping;
mod newest;
pub mod pattern;
pub mod query;
pub mod raw;
mod reader;
mod referrers;
mod rfc3339;
mod schema;
mod scope;
mod search;
mod space;
mod tags;
mod writer;

pub use change::Change;
pub use document::{
    ArtifactDoc, AttachedAnnotation, ChildRef, CrawlCheckpoint, LayerRef, ReferrerSummary, RepositoryDoc, TrustSummary,
    Vulnerabilities,
};
pub use error::{CatalogError, Result};
pub use facets::Facets;
pub use keys::artifact_key;
pub use ocicat_oci::ArtifactKind;
pub use reader::{Catalog, MAX_REPOSITORY_ARTIFACTS, RegistryCounts, RepositoryPage, RepositorySort};
pub use referrers::{ReferrerNode, ReferrerQuery, ReferrerTree};
pub use schema::SCHEMA_VERSION;
pub use scope::{Scope, ScopePattern};
pub use search::{SearchError, SearchResults, SearchSort};
pub use tags::{TagEntry, TagPage, TagSort, cosign_tag_subject, is_fallback_tag, is_version_tag, referrer_tag_subject};
pub use writer::{CatalogWriter, ChangeSink, SinkFuture, WriterConfig};

use std::path::Path;
use std::sync::Arc;

/// Opens (or creates, or rebuilds after a schema change) the index under `data_dir`, and starts
/// the single writer. Returns the read side and the handle that feeds the writer.
pub fn open(data_dir: &Path, config: WriterConfig) -> Result<(Catalog, CatalogWriter)> {
    let (index, fields) = schema::open_or_create(data_dir)?;
    let fields = Arc::new(fields);
    let reader =
        index.reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into().map_err(|error| {
            CatalogError::Index { context: "cannot open index reader".into(), source: Arc::new(error) }
        })?;
    let catalog = Catalog::new(reader, fields.clone());
    let writer = CatalogWriter::start(&index, fields, catalog.clone(), config)?;
    Ok((catalog, writer))
}

/// Opens the index under `data_dir` for reading only (no writer, no lock): for the CLI next to
/// a running server.
pub fn open_reader(data_dir: &Path) -> Result<Catalog> {
    let directory = data_dir.join(format!("index-v{SCHEMA_VERSION}"));
    let index = tantivy::Index::open_in_dir(&directory).map_err(|error| CatalogError::Index {
        context: format!("cannot open index at {}", directory.display()),
        source: Arc::new(error),
    })?;
    let (_, fields) = schema::build_schema();
    let reader =
        index.reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into().map_err(|error| {
            CatalogError::Index { context: "cannot open index reader".into(), source: Arc::new(error) }
        })?;
    Ok(Catalog::new(reader, Arc::new(fields)))
}

/// Opens an index in memory (tests and benchmarks).
pub fn open_in_ram(config: WriterConfig) -> Result<(Catalog, CatalogWriter)> {
    let (index, fields) = schema::create_in_ram()?;
    let fields = Arc::new(fields);
    let reader =
        index.reader_builder().reload_policy(tantivy::ReloadPolicy::Manual).try_into().map_err(|error| {
            CatalogError::Index { context: "cannot open index reader".into(), source: Arc::new(error) }
        })?;
    let catalog = Catalog::new(reader, fields.clone());
    let writer = CatalogWriter::start(&index, fields, catalog.clone(), config)?;
    Ok((catalog, writer))
}
