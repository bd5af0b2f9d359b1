//! The lifecycle engine built from the configuration: its store in the access database, or
//! SQLite in the data directory, with the configured retention policies. (`serve` resumes
//! interrupted plans and schedules retention; the API is in `crate::api`.)

use anyhow::Context as _;
use ocicat_catalog::{Catalog, CatalogWriter};
use ocicat_crawler::{Crawler, RegistrySource, StatusBoard};
use ocicat_lifecycle::Engine;
use ocicat_lifecycle::store::Store;
use ocicat_sql::Database;

use crate::config::Config;

/// Opens the store of plans, runs and the audit log: in `database` (the access database when
/// the server has one open), else where `[access]` keeps it, else `<data_dir>/lifecycle.db`.
pub async fn open_store(config: &Config, database: Option<Database>) -> anyhow::Result<Store> {
    let database = match (database, &config.access) {
        (Some(database), _) => database,
        (None, access) => {
            let url = match access {
                Some(access) => crate::auth::database_url(access, &config.server.data_dir)?,
                None => {
                    std::fs::create_dir_all(&config.server.data_dir).with_context(|| {
                        format!("cannot create data directory {}", config.server.data_dir.display())
                    })?;
                    format!("sqlite://{}?mode=rwc", config.server.data_dir.join("lifecycle.db").display())
                }
            };
            crate::auth::open_database(&url, "lifecycle").await?
        }
    };
    Store::open(database).await.context("cannot open the delete plans and audit log")
}

/// Builds the engine over `sources` with the configured retention policies; with `crawler`,
/// the walks after a delete go to the registries' crawl tasks.
pub async fn open_engine(
    config: &Config,
    database: Option<Database>,
    sources: Vec<RegistrySource>,
    catalog: Catalog,
    writer: CatalogWriter,
    board: StatusBoard,
    crawler: Option<Crawler>,
) -> anyhow::Result<Engine> {
    let store = open_store(config, database).await?;
    let max_age = chrono::TimeDelta::minutes(config.delete.plan_max_age_minutes as i64);
    let engine = Engine::new(sources, catalog, writer, board, store)
        .with_policies(config.retention.clone())
        .with_max_plan_age(max_age);
    Ok(match crawler {
        Some(crawler) => engine.with_crawler(crawler),
        None => engine,
    })
}
