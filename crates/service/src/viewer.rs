//! What the document viewers share: one page of rows, and the one mapping of a failure to read
//! attached documents to what the caller is told.

use ocicat_content::ContentError;

use crate::error::AppError;
use crate::model::ROWS_PER_PAGE;

/// One page of `rows` (page clamped to the last one).
pub(crate) fn page_of<T: Clone>(rows: &[T], page: usize) -> (usize, usize, Vec<T>) {
    let pages = rows.len().div_ceil(ROWS_PER_PAGE).max(1);
    let page = page.min(pages - 1);
    (page, pages, rows.iter().skip(page * ROWS_PER_PAGE).take(ROWS_PER_PAGE).cloned().collect())
}

/// A failure to read attached documents: gone is not found, anything else the registry's fault.
pub(crate) fn registry_error(error: ContentError) -> AppError {
    tracing::warn!(%error, "content not read from the registry");
    if error.is_gone() {
        AppError::NotFound(format!("the document ({})", error.public_message()))
    } else {
        AppError::Registry(error.public_message())
    }
}
