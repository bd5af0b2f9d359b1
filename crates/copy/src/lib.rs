//! Promotion: copy an artifact with everything attached to it — index children, referrers
//! recursively (signatures on SBOMs included), every blob — to another repository or registry,
//! byte for byte so that every digest and every signature still holds there.
//!
//! A [`CopyPlan`] comes from the catalog's graph and a look at the destination (what it holds,
//! whether it answers the referrers API, which tags would move); [`execute`] writes blobs
//! first, then manifests children before parents and subjects before referrers, then the
//! fallback index entries, then tags — so a failure never leaves a tag on an incomplete copy,
//! and running it again resumes (what exists is skipped).
//!
//! An [`ExportPlan`] is the same graph bound for an OCI image layout: [`export_to_directory`]
//! writes it into a directory (what is there is skipped), [`export_tar`] streams it as a tar
//! archive of exactly the announced length.

pub mod model;

#[cfg(feature = "engine")]
mod execute;
#[cfg(feature = "engine")]
mod export;
#[cfg(feature = "engine")]
mod graph;
#[cfg(feature = "engine")]
mod plan;

#[cfg(feature = "engine")]
pub use execute::{ExecuteError, check, execute, execute_observed};
#[cfg(feature = "engine")]
pub use export::{ExportError, LayoutTar, export_plan, export_tar, export_to_directory, index_entries};
pub use model::*;
#[cfg(feature = "engine")]
pub use plan::{CopyError, plan};
