//! Deleting stale builds safely. A [`Plan`] lists everything a delete takes with it (other tags
//! on the digest, index children nothing else needs, referrers recursively, fallback referrers
//! indexes) and what it breaks or keeps, computed from the catalog's graph; execution re-checks
//! every target with HEAD, deletes referrers before subjects, treats 404 as done and records
//! every step in the append-only audit log. Retention policies choose targets on a schedule.
//!
//! The `model` types build for the browser too; everything else needs the `engine` feature.

pub mod model;

pub use model::*;

#[cfg(feature = "engine")]
pub mod claims;
#[cfg(feature = "engine")]
mod engine;
#[cfg(feature = "engine")]
pub mod execute;
#[cfg(feature = "engine")]
pub mod expiry;
#[cfg(feature = "engine")]
mod item;
#[cfg(feature = "engine")]
pub mod plan;
#[cfg(feature = "engine")]
mod recheck;
#[cfg(feature = "engine")]
pub mod retention;
#[cfg(feature = "engine")]
pub mod runs;
#[cfg(feature = "engine")]
pub mod service;
#[cfg(feature = "engine")]
pub mod store;
#[cfg(feature = "engine")]
mod totals;

#[cfg(feature = "engine")]
pub use engine::{DEFAULT_MAX_PLAN_AGE, Engine};
#[cfg(feature = "engine")]
pub use execute::ExecuteError;
#[cfg(feature = "engine")]
pub use plan::PlanError;
#[cfg(feature = "engine")]
pub use service::LifecycleError;
