//! The catalog's one error type; `io` and tantivy errors are wrapped in `Arc` so it stays `Clone`.

use std::sync::Arc;

/// A result whose error is a [`CatalogError`].
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// Everything that can go wrong in the catalog.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CatalogError {
    /// tantivy failed while doing `context`.
    #[error("{context}: {source}")]
    Index { context: String, source: Arc<tantivy::TantivyError> },
    /// The index directory could not be prepared.
    #[error("{context}: {source}")]
    Io { context: String, source: Arc<std::io::Error> },
    /// The writer task is gone (shutdown or a crash); nothing was written.
    #[error("catalog writer is not running")]
    WriterGone,
    /// A stored document could not be read back.
    #[error("corrupt stored document: {0}")]
    Corrupt(String),
    /// A change could not be handed to the replicas' change log (the database is down, or this
    /// replica no longer leads).
    #[error("cannot replicate a catalog change: {0}")]
    Replication(String),
}

pub(crate) fn index_error(context: impl Into<String>) -> impl FnOnce(tantivy::TantivyError) -> CatalogError {
    let context = context.into();
    move |source| CatalogError::Index { context, source: Arc::new(source) }
}

/// The same for an I/O error (term dictionary streams answer with those).
pub(crate) fn io_error(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> CatalogError {
    let context = context.into();
    move |source| CatalogError::Io { context, source: Arc::new(source) }
}
