//! The crawler: walks each connected registry (discover → tags → manifests → index children)
//! into the catalog, keeps per-registry progress and health, and re-crawls on a schedule.
//!
//! One bad artifact never stops a crawl: it is counted, logged with context and shown.

mod error;
mod handle;
mod into_catalog;
mod mapping;
mod refresh;
mod repository;
mod sboms;
mod scans;
mod schedule;
mod signatures;
mod source;
mod status;
mod summary;

pub use error::CrawlError;
pub use handle::{CrawlRequest, Crawler, Forward};
pub use into_catalog::{Walked, crawl_into_catalog};
pub use refresh::{ExpectedTag, MAX_ATTEMPTS, RefreshRequest};
pub use repository::{CrawlMode, crawl_repository, crawl_repository_in};
pub use schedule::{CrawlSettings, crawl_registry, crawl_registry_in};
pub use source::RegistrySource;
pub use status::{CrawlState, RateLimitStatus, RegistryStatus, StatusBoard};
