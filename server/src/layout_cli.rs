//! `ocicat export SRC DIR|FILE.tar` and `ocicat import DIR|FILE.tar DST`: OCI image layouts for
//! air-gapped moves. Export writes an artifact with its whole graph into a layout directory (or
//! a tar archive of one); import hands a layout (a directory or a tar archive) to the service,
//! which copies it with the same copy plan as `ocicat copy` — printed, or with `--yes` carried
//! out and audited.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use ocicat_service::ImportSource;
use ocicat_service::model::{Endpoint, ExportRequest, GraphFilter, StepOutcome};
use tokio::io::AsyncWriteExt as _;

use crate::auth::local_operator;
use crate::config::Config;
use crate::copy_cli::{RunArgs, named_source, parse_destination, show_or_run};
use crate::lifecycle_cli::service;

/// What `ocicat export` was asked.
#[derive(Debug)]
pub struct ExportArgs {
    /// `registry/repository:tag`, `registry/repository@sha256:…` or `registry/repository`.
    pub source: String,
    /// A layout directory, or a file ending in `.tar`.
    pub destination: PathBuf,
    /// A search within the source repository.
    pub query: Option<String>,
    /// What goes along.
    pub filter: GraphFilter,
}

fn is_tar(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "tar")
}

/// `ocicat export`: writes the layout and prints the plan and report.
pub async fn export(config: &Config, args: ExportArgs) -> anyhow::Result<()> {
    let (service, writer) = service(config).await?;
    let result = export_with(&service, args).await;
    writer.close().await.context("cannot close the index")?;
    result
}

async fn export_with(service: &ocicat_service::Service, args: ExportArgs) -> anyhow::Result<()> {
    let operator = local_operator();
    let named = named_source(service, &operator, &args.source).await?;
    if args.query.is_some() && named.digest.is_some() {
        bail!("--query searches a repository: name the source as registry/repository");
    }
    let request = ExportRequest {
        source: named.endpoint,
        digest: named.digest,
        query: args.query,
        tags: named.tag.into_iter().collect(),
        filter: args.filter,
    };
    if !is_tar(&args.destination) {
        let (plan, report) = service.export_to_directory(&operator, &request, &args.destination).await?;
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"plan": plan, "report": report}))?);
        if !report.complete {
            let failed = report.steps.iter().rev().find(|step| matches!(step.outcome, StepOutcome::Failed { .. }));
            bail!("the export stopped (run it again to resume): {failed:?}");
        }
        eprintln!(
            "exported {} manifests and {} blobs to the layout {}",
            plan.manifests.len(),
            plan.blobs.len(),
            args.destination.display()
        );
        return Ok(());
    }
    let (plan, mut archive) = service.export_tar(&operator, &request).await?;
    let partial = args.destination.with_extension("tar.partial");
    let mut file =
        tokio::fs::File::create(&partial).await.with_context(|| format!("cannot create {}", partial.display()))?;
    let mut written = 0u64;
    while let Some(chunk) = archive.body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                drop(file);
                let _ = std::fs::remove_file(&partial);
                bail!("the export stopped: {error}");
            }
        };
        written += chunk.len() as u64;
        file.write_all(&chunk).await.with_context(|| format!("cannot write {}", partial.display()))?;
    }
    file.sync_all().await.with_context(|| format!("cannot write {}", partial.display()))?;
    if written != archive.length {
        bail!("the archive has {written} bytes, {} were announced", archive.length);
    }
    std::fs::rename(&partial, &args.destination)
        .with_context(|| format!("cannot move the archive to {}", args.destination.display()))?;
    println!("{}", serde_json::to_string_pretty(&plan)?);
    eprintln!(
        "exported {} manifests and {} blobs ({written} bytes) to {}",
        plan.manifests.len(),
        plan.blobs.len(),
        args.destination.display()
    );
    Ok(())
}

/// What `ocicat import` was asked.
#[derive(Debug)]
pub struct ImportArgs {
    /// A layout directory (or a directory of layouts, one of them named by path) or a `.tar`.
    pub source: PathBuf,
    /// `registry/repository` or `registry/repository:tag`.
    pub destination: String,
    /// Whether to carry it out.
    pub run: RunArgs,
}

/// `ocicat import`: prints the copy plan; with `yes`, runs it and prints the report.
pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let (destination, tags) = parse_destination(&args.destination)?;
    let source = if is_tar(&args.source) {
        ImportSource::Archive { path: args.source.clone(), owned: false }
    } else {
        ImportSource::Directory(args.source.clone())
    };
    let (service, writer) = service(config).await?;
    let result = import_with(&service, source, destination, tags, &args).await;
    writer.close().await.context("cannot close the index")?;
    result
}

async fn import_with(
    service: &ocicat_service::Service,
    source: ImportSource,
    destination: Endpoint,
    tags: Vec<String>,
    args: &ImportArgs,
) -> anyhow::Result<()> {
    let planned = service
        .plan_import(&local_operator(), source, destination, tags)
        .await
        .with_context(|| format!("cannot import {}", args.source.display()))?;
    show_or_run(service, planned, args.run, "import").await
}
