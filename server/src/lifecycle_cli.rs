//! `ocicat delete`, `ocicat retention` and `ocicat audit`: the same service, plans, runs and log
//! as the API, for the operator on the server's machine (who may delete everything). Deleting
//! needs the index writer, so it refuses while a server holds the index (use the API then).

use anyhow::{Context as _, bail};
use clap::Subcommand;
use ocicat_lifecycle::{ExecutionState, PlanRequest, TargetSpec};
use ocicat_service::{RunMode, Service};

use crate::auth::local_operator;
use crate::config::Config;
use crate::state::{open_catalog, registry_sources, status_board};

/// What to do with retention policies.
#[derive(Debug, Subcommand)]
pub enum RetentionAction {
    /// List the configured policies as JSON.
    List,
    /// Run one policy now and print its report (as configured: a dry run unless the policy
    /// says `dry_run = false`).
    Run {
        /// The policy's name.
        name: String,
        /// Delete what the policy chooses.
        #[arg(long, conflicts_with = "report")]
        execute: bool,
        /// With --execute on a policy configured as a dry run: override its `dry_run = true`.
        #[arg(long, requires = "execute")]
        override_dry_run: bool,
        /// Only report, whatever the policy says.
        #[arg(long)]
        report: bool,
    },
}

/// Parses `registry/repository:tag` or `registry/repository@sha256:…`.
pub fn parse_target(text: &str) -> anyhow::Result<TargetSpec> {
    ocicat_service::model::parse_target(text).map_err(anyhow::Error::msg)
}

/// The service over the configured registries, with the lifecycle engine holding the index
/// writer (the CLI closes it before exiting).
pub(crate) async fn service(config: &Config) -> anyhow::Result<(Service, ocicat_catalog::CatalogWriter)> {
    let sources = registry_sources(config).await?;
    let board = status_board(&sources);
    let (catalog, writer) = open_catalog(config)
        .context("cannot open the index for deleting (a running `ocicat serve` holds it: use its API instead)")?;
    let engine =
        crate::lifecycle::open_engine(config, None, sources, catalog.clone(), writer.clone(), board.clone(), None)
            .await?;
    Ok((Service::new(catalog, board).with_lifecycle(engine), writer))
}

/// `ocicat delete`: prints the plan; with `yes`, executes it and prints the outcome.
pub async fn delete(
    config: &Config,
    targets: Vec<String>,
    query: Option<String>,
    tag_only: bool,
    yes: bool,
) -> anyhow::Result<()> {
    let targets = targets.iter().map(|target| parse_target(target)).collect::<anyhow::Result<Vec<_>>>()?;
    if targets.is_empty() && query.is_none() {
        bail!("name targets (registry/repository:tag) or a --query");
    }
    let (service, writer) = service(config).await?;
    let request = PlanRequest { targets, query, tag_only };
    let operator = local_operator();
    if !yes {
        let plan = service.preview_plan(&operator, &request).await?;
        println!("{}", serde_json::to_string_pretty(&plan)?);
        eprintln!(
            "plan {}: {} manifests, {} tags, {} bytes; nothing deleted (add --yes to delete)",
            plan.id, plan.totals.manifests, plan.totals.tags, plan.totals.bytes
        );
        return Ok(());
    }
    let stored = service.store_plan(&operator, &request).await?;
    let execution = service.execute_plan(&operator, &stored.plan.id, true).await?;
    println!("{}", serde_json::to_string_pretty(&execution)?);
    writer.close().await.context("cannot commit the index")?;
    match execution.state {
        ExecutionState::Done => Ok(()),
        state => bail!("plan {} ended {state:?}: {}", execution.plan.id, execution.message.unwrap_or_default()),
    }
}

/// `ocicat retention …`.
pub async fn retention(config: &Config, action: RetentionAction) -> anyhow::Result<()> {
    match action {
        RetentionAction::List => {
            println!("{}", serde_json::to_string_pretty(&config.retention)?);
            Ok(())
        }
        RetentionAction::Run { name, execute, override_dry_run, report } => {
            let (service, writer) = service(config).await?;
            let mode = match (execute, report) {
                (true, _) => RunMode::Execute { override_dry_run },
                (false, true) => RunMode::DryRun,
                (false, false) => RunMode::AsConfigured,
            };
            let run = service.run_policy(&local_operator(), &name, mode).await?;
            println!("{}", serde_json::to_string_pretty(&run)?);
            writer.close().await.context("cannot commit the index")?;
            match run.error {
                Some(error) => bail!("retention policy {name} failed: {error}"),
                None => Ok(()),
            }
        }
    }
}

/// `ocicat audit`: the whole log, oldest first, as JSON lines.
pub async fn audit(config: &Config) -> anyhow::Result<()> {
    let store = crate::lifecycle::open_store(config, None).await?;
    let mut after = 0;
    loop {
        let page = store.audit_since(after, 1_000).await?;
        let Some(last) = page.last().map(|entry| entry.seq) else { return Ok(()) };
        for entry in &page {
            println!("{}", serde_json::to_string(entry)?);
        }
        after = last;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_name_a_tag_or_a_digest() {
        let tag = parse_target("local/team/app:1.0").unwrap();
        assert_eq!(
            (tag.registry.as_str(), tag.repository.as_str(), tag.reference.as_str()),
            ("local", "team/app", "1.0")
        );
        let digest = parse_target(&format!("local/app@sha256:{}", "a".repeat(64))).unwrap();
        assert_eq!(digest.repository, "app");
        assert!(digest.reference.starts_with("sha256:"));
        assert!(parse_target("local/app").is_err());
        assert!(parse_target("app:1.0").is_err());
        assert!(parse_target("local/:1.0").is_err());
    }
}
