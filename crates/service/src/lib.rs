//! The application layer between the domain crates and every front door. Pages' server
//! functions, the JSON API, the content proxy, metrics and the CLI call one [`Service`] with the
//! principal of the request; it checks who may do what in one module ([`authz`]), reads the
//! catalog off the async runtime, runs lifecycle operations and maps everything to the wire
//! models.
//!
//! The wire models ([`model`]) and [`AppError`] build for the browser too; everything else needs
//! the `backend` feature.

pub mod error;
pub mod model;

pub use error::AppError;

#[cfg(feature = "backend")]
mod artifacts;
#[cfg(feature = "backend")]
mod attachments;
#[cfg(feature = "backend")]
pub mod authz;
#[cfg(feature = "backend")]
mod content;
#[cfg(feature = "backend")]
mod copies;
#[cfg(feature = "backend")]
mod diff;
#[cfg(feature = "backend")]
mod downloads;
#[cfg(feature = "backend")]
mod exports;
#[cfg(feature = "backend")]
mod gates;
#[cfg(feature = "backend")]
mod impact;
#[cfg(feature = "backend")]
mod imports;
#[cfg(feature = "backend")]
mod kinds;
#[cfg(feature = "backend")]
mod lifecycle;
#[cfg(feature = "backend")]
mod registries;
#[cfg(feature = "backend")]
pub mod replicas;
#[cfg(feature = "backend")]
mod retention;
#[cfg(feature = "backend")]
mod sbom;
#[cfg(feature = "backend")]
mod scan;
#[cfg(feature = "backend")]
mod search;
#[cfg(feature = "backend")]
pub mod shared_copies;
#[cfg(feature = "backend")]
mod state;
#[cfg(feature = "backend")]
mod tokens;
#[cfg(feature = "backend")]
mod trust;
#[cfg(feature = "backend")]
mod viewer;
#[cfg(feature = "backend")]
mod views;

#[cfg(feature = "backend")]
pub use authz::{Registries, RunMode};
#[cfg(feature = "backend")]
pub use gates::ExpensiveWork;
#[cfg(feature = "backend")]
pub use imports::{ImportSource, MAX_IMPORT_BYTES};
#[cfg(feature = "backend")]
pub use lifecycle::{AUDIT_PAGE, actor_of};
#[cfg(feature = "backend")]
pub use ocicat_catalog::ReferrerQuery;
#[cfg(feature = "backend")]
pub use registries::{REPOSITORIES_PER_PAGE, TAGS_PER_PAGE};
#[cfg(feature = "backend")]
pub use search::{RECENT_LIMIT, SEARCH_PER_PAGE};
#[cfg(feature = "backend")]
pub use state::Service;
