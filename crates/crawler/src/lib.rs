//! The crawler: walks each connected registry (discover → tags → manifests → index children)
//! into the catalog, keeps per-registry progress and health, and re-crawls on a schedule.
//!
//! One bad artifact never stops a crawl: it is counted, logged with context and shown.

mod mapping;
mod refresh;
mod repository;
mod schedule;
mod status;

pub use refresh::refresh_repository;
pub use repository::crawl_repository;
pub use schedule::{CrawlSettings, Crawler, RegistrySource, crawl_registry};
pub use status::{CrawlState, RegistryStatus, StatusBoard};
