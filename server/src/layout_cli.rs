//! `ocicat export SRC DIR|FILE.tar` and `ocicat import DIR|FILE.tar DST`: OCI image layouts for
//! air-gapped moves. Export writes an artifact with its whole graph into a layout directory (or
//! a tar archive of one); import reads a layout (a directory or a tar archive, unpacked into a
//! temporary directory) through a loopback server, indexes it in memory and copies it with the
//! same copy plan as `ocicat copy` — printed, or with `--yes` carried out and audited.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use futures::StreamExt as _;
use ocicat_catalog::{Scope, WriterConfig};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials, Secret};
use ocicat_service::model::{CopyRequest, Endpoint, ExportRequest, StepOutcome};
use tokio::io::AsyncWriteExt as _;

use crate::auth::local_operator;
use crate::config::Config;
use crate::copy_cli::{named_source, parse_destination};
use crate::lifecycle_cli::service;
use crate::state::{layout_location, registry_sources};

/// Most bytes an imported archive may unpack to.
const MAX_IMPORT_BYTES: u64 = 256 << 30;
/// The name an imported layout is indexed under while it is copied.
const IMPORT_REGISTRY: &str = "layout";

/// What `ocicat export` was asked.
#[derive(Debug)]
pub struct ExportArgs {
    /// `registry/repository:tag`, `registry/repository@sha256:…` or `registry/repository`.
    pub source: String,
    /// A layout directory, or a file ending in `.tar`.
    pub destination: PathBuf,
    /// A search within the source repository.
    pub query: Option<String>,
    /// Referrers of these artifact types (prefixes) stay behind.
    pub exclude_artifact_types: Vec<String>,
    /// When set, only referrers of these artifact types (prefixes) go along.
    pub include_artifact_types: Vec<String>,
    /// When set, an index goes as its one image for this platform.
    pub platforms: Vec<String>,
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
        exclude_artifact_types: args.exclude_artifact_types,
        include_artifact_types: args.include_artifact_types,
        platforms: args.platforms,
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
    /// Carry it out.
    pub yes: bool,
    /// Move destination tags that name something else.
    pub move_tags: bool,
}

/// `ocicat import`: prints the copy plan; with `yes`, runs it and prints the report.
pub async fn import(config: &Config, args: ImportArgs) -> anyhow::Result<()> {
    let (destination, tags) = parse_destination(&args.destination)?;
    // An archive is unpacked (checked entry by entry) into a directory that goes when done.
    let unpacked = tempfile::tempdir().context("cannot make a temporary directory")?;
    let dir = if is_tar(&args.source) {
        let dir = unpacked.path().join("import");
        let file =
            std::fs::File::open(&args.source).with_context(|| format!("cannot open {}", args.source.display()))?;
        let target = dir.clone();
        tokio::task::spawn_blocking(move || ocicat_layout::archive::unpack(file, &target, MAX_IMPORT_BYTES))
            .await
            .context("unpacking stopped")?
            .with_context(|| format!("{} is not a layout archive", args.source.display()))?;
        dir
    } else {
        args.source.clone()
    };
    let found = ocicat_layout::discover(&dir).with_context(|| format!("{} is not a layout", dir.display()))?;
    let repository = match found.as_slice() {
        [(name, _)] => name.clone(),
        [] => bail!("{} holds no OCI image layout (no oci-layout file)", dir.display()),
        several => bail!(
            "{} holds several layouts ({}); name one of their directories",
            dir.display(),
            several.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    let server = ocicat_layout::serve(dir.clone()).await?;
    let credentials = Credentials::Basic {
        username: ocicat_layout::USERNAME.to_owned(),
        password: Secret::new(server.password().to_owned()),
    };
    let layout = Client::new(ClientConfig::new(server.url().clone(), credentials))?;
    let source = RegistrySource::new(IMPORT_REGISTRY, layout.clone()).trusting(config.trust_policies.clone());
    let (catalog, catalog_writer) = ocicat_catalog::open_in_ram(WriterConfig::default())?;
    let board = StatusBoard::default();
    board.register(IMPORT_REGISTRY, &layout_location(&dir));
    crawl_registry(&source, &catalog, &catalog_writer, &board, 4)
        .await
        .with_context(|| format!("cannot read the layout {}", dir.display()))?;
    catalog_writer.flush().await.context("cannot index the layout")?;
    let digest = if tags.is_empty() {
        None
    } else {
        let tagged: Vec<_> = catalog
            .artifacts_in_repository(IMPORT_REGISTRY, &repository)?
            .into_iter()
            .filter(|doc| !doc.referrers_index && doc.tags.iter().any(|tag| ocicat_oci::is_valid_tag(tag)))
            .filter(|doc| doc.tags.iter().any(|tag| ocicat_catalog::cosign_tag_subject(tag).is_none()))
            .collect();
        match tagged.as_slice() {
            [one] => Some(one.digest.clone()),
            _ => bail!("the layout names {} artifacts: a destination tag needs exactly one", tagged.len()),
        }
    };
    let destination_client = registry_sources(config)
        .await?
        .into_iter()
        .find(|source| source.name == destination.registry)
        .map(|source| source.client)
        .with_context(|| format!("registry {:?} is not configured", destination.registry))?;
    let request = CopyRequest {
        source: Endpoint { registry: IMPORT_REGISTRY.to_owned(), repository },
        digest,
        query: None,
        destination,
        tags,
        exclude_artifact_types: Vec::new(),
        include_artifact_types: Vec::new(),
        platforms: Vec::new(),
    };
    let plan = ocicat_copy::plan(&catalog, &Scope::all(), &destination_client, &request).await?;
    if !args.yes {
        println!("{}", serde_json::to_string_pretty(&plan)?);
        let totals = &plan.totals;
        eprintln!(
            "import plan: {} manifests and {} blobs ({} bytes) to copy, {} manifests and {} blobs present, {} tags moved; nothing written (add --yes to import)",
            totals.manifests,
            totals.blobs,
            totals.bytes,
            totals.manifests_present,
            totals.blobs_present,
            plan.moved_tags.len()
        );
        return Ok(());
    }
    let report = ocicat_copy::execute(&plan, &plan.fingerprint, args.move_tags, &layout, &destination_client).await?;
    let (service, writer) = service(config).await?;
    let audited = service.audit_copy(&local_operator(), &plan, &report).await;
    writer.close().await.context("cannot close the index")?;
    audited?;
    println!("{}", serde_json::to_string_pretty(&serde_json::json!({"plan": plan, "report": report}))?);
    if !report.complete {
        let failed = report.steps.iter().rev().find(|step| matches!(step.outcome, StepOutcome::Failed { .. }));
        bail!("the import stopped (run it again to resume): {failed:?}");
    }
    Ok(())
}
