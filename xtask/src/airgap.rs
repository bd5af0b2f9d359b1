//! The demo's air-gapped registry: a directory of OCI image layouts, configured as the
//! read-only registry `airgap`. `app` is the seeded app image with everything attached to it
//! (signatures, SBOMs, scans, attestations), exported by ocicat's own engine; `mirror` is the
//! seeded multi-platform index as `skopeo copy --all` writes a layout — so both writers are
//! browsed, searched and verified the way the registries are.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ocicat_catalog::{Scope, WriterConfig};
use ocicat_copy::{Endpoint, ExportRequest, export_plan, export_to_directory};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::SeedReport;

/// The seeded image with the most referrers, and the seeded tagged index.
fn subjects(report: &SeedReport) -> anyhow::Result<(&ocicat_seed::Seeded, &ocicat_seed::Seeded)> {
    let app = report
        .items
        .iter()
        .filter(|item| item.reference.is_some() && item.kind == "image")
        // The first of equals, as the end-to-end suite picks it.
        .rev()
        .max_by_key(|item| {
            report.items.iter().filter(|other| other.subject.as_deref() == Some(item.digest.as_str())).count()
        })
        .context("the seed has no tagged image")?;
    let index = report
        .items
        .iter()
        .find(|item| item.kind == "index" && item.reference.is_some())
        .context("the seed has no tagged index")?;
    Ok((app, index))
}

/// Writes the layouts under `directory/airgap`; answers that directory.
pub(crate) async fn write_layouts(
    directory: &Path,
    registry_url: &str,
    report: &SeedReport,
) -> anyhow::Result<PathBuf> {
    let root = directory.join("airgap");
    let client = Client::new(ClientConfig::new(registry_url.parse()?, Credentials::Anonymous))?;
    let source = RegistrySource::new("local", client.clone());
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default())?;
    crawl_registry(&source, &catalog, &writer, &StatusBoard::default(), 4).await?;
    writer.flush().await?;
    let (app, index) = subjects(report)?;
    let request = ExportRequest {
        source: Endpoint { registry: "local".into(), repository: app.repository.clone() },
        digest: Some(app.digest.clone()),
        query: None,
        tags: vec![app.reference.clone().unwrap_or_else(|| "latest".into())],
        filter: ocicat_copy::GraphFilter::default(),
    };
    let plan = export_plan(&catalog, &Scope::all(), &request, None)?;
    let written = export_to_directory(&plan, &client, &root.join("app")).await?;
    if !written.complete {
        bail!("the demo layout export stopped: {:?}", written.steps.last());
    }
    let host = registry_url.trim_start_matches("http://").trim_end_matches('/');
    let status = std::process::Command::new("skopeo")
        .args(["copy", "--quiet", "--all", "--preserve-digests", "--src-tls-verify=false"])
        .arg(format!("docker://{host}/{}@{}", index.repository, index.digest))
        .arg(format!("oci:{}:{}", root.join("mirror").display(), index.reference.as_deref().unwrap_or("latest")))
        .status()
        .context("cannot run skopeo (scripts/setup.sh installs it)")?;
    if !status.success() {
        bail!("skopeo could not write the demo layout: {status}");
    }
    Ok(root)
}
