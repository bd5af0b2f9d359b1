//! Per-kind views of an artifact, read through the content layer (verified, capped, one turn
//! of the documents gate each): a Helm chart's Chart.yaml, values and README (rendered to
//! sanitized HTML), and a WebAssembly module's or component's imports, exports and world.

use ocicat_access::Principal;
use ocicat_catalog::{ArtifactDoc, ArtifactKind, LayerRef};
use ocicat_formats::{helm, markdown, wasm};

use crate::error::AppError;
use crate::model::{ChartDependencyView, ChartMaintainerView, ChartView, WasmItemView, WasmView, is_http_link};
use crate::state::Service;
use crate::viewer::registry_error;

/// Largest chart package read (charts are kilobytes; a big one carries vendored subcharts).
const MAX_CHART_BYTES: u64 = 16 << 20;
/// Largest WebAssembly module read.
const MAX_WASM_BYTES: u64 = 64 << 20;
/// The provenance layer `helm push` adds for a signed chart.
const PROVENANCE: &str = "application/vnd.cncf.helm.chart.provenance.v1.prov";
/// The annotation that marks a container image as WebAssembly for WASM-aware runtimes.
pub(crate) const WASM_VARIANT: &str = "module.wasm.image/variant";

/// `Some(value)` when it is an http(s) URL.
fn web(value: Option<String>) -> Option<String> {
    value.filter(|value| is_http_link(value))
}

/// Runs parsing work off the async threads.
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, "a parser task failed");
        AppError::Internal
    })
}

impl Service {
    /// The layer of `artifact` that `wanted` picks, read whole (at most `max` bytes).
    async fn read_layer(&self, artifact: &ArtifactDoc, layer: &LayerRef, max: u64) -> Result<bytes::Bytes, AppError> {
        let _turn = self.gates.documents().await?;
        self.content.layer_bytes(artifact, layer, max).await.map_err(registry_error)
    }

    /// The Helm chart `digest`: its metadata (from the config, which is Chart.yaml as JSON) and
    /// the packaged Chart.yaml, values.yaml and README.md.
    pub async fn helm_chart(
        &self,
        who: &Principal,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<ChartView, AppError> {
        let artifact = self.find_indexed(who, registry, repository, digest).await?;
        if artifact.kind != ArtifactKind::Helm {
            return Err(AppError::NotFound(format!("a Helm chart at {digest}")));
        }
        let metadata = artifact
            .config_summary
            .as_deref()
            .map(|config| helm::chart_metadata(config.as_bytes()))
            .transpose()
            .unwrap_or_else(|error| {
                tracing::info!(%error, digest, "chart config not read");
                None
            })
            .unwrap_or_default();
        let mut view = ChartView {
            name: metadata.name,
            version: metadata.version,
            app_version: metadata.app_version,
            description: metadata.description,
            chart_type: metadata.kind,
            api_version: metadata.api_version,
            kube_version: metadata.kube_version,
            home: web(metadata.home),
            sources: metadata.sources.into_iter().filter(|source| is_http_link(source)).collect(),
            keywords: metadata.keywords,
            deprecated: metadata.deprecated,
            dependencies: metadata
                .dependencies
                .into_iter()
                .map(|dependency| ChartDependencyView {
                    name: dependency.name.unwrap_or_default(),
                    version: dependency.version,
                    repository: dependency.repository,
                    condition: dependency.condition,
                    alias: dependency.alias,
                })
                .collect(),
            maintainers: metadata
                .maintainers
                .into_iter()
                .map(|maintainer| ChartMaintainerView {
                    name: maintainer.name,
                    email: maintainer.email,
                    url: web(maintainer.url),
                })
                .collect(),
            truncated: metadata.truncated,
            provenance: artifact
                .layers
                .iter()
                .find(|layer| layer.media_type == PROVENANCE)
                .map(|layer| layer.digest.clone()),
            ..ChartView::default()
        };
        let package = artifact.layers.iter().find(|layer| {
            layer.media_type == helm::CONTENT_MEDIA_TYPE
                || layer.media_type.starts_with("application/vnd.cncf.helm.chart.content")
        });
        let Some(package) = package else {
            view.files_error = Some("the chart has no content layer".into());
            return Ok(view);
        };
        let bytes = match self.read_layer(&artifact, package, MAX_CHART_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) => {
                view.files_error = Some(error.to_string());
                return Ok(view);
            }
        };
        let read = off_thread(move || {
            helm::chart_files(&bytes).map(|files| {
                let readme = files.readme.as_ref().map(|readme| markdown::safe_html(&readme.text));
                (files, readme)
            })
        })
        .await?;
        match read {
            Ok((files, readme)) => {
                let cut = |file: &Option<helm::TextFile>| file.as_ref().is_some_and(|file| file.truncated);
                view.truncated |=
                    files.truncated || cut(&files.values_yaml) || cut(&files.chart_yaml) || cut(&files.readme);
                view.values_yaml = files.values_yaml.map(|file| file.text);
                view.chart_yaml = files.chart_yaml.map(|file| file.text);
                view.readme_html = readme;
                view.templates = files.templates;
                view.subcharts = files.subcharts;
            }
            Err(error) => view.files_error = Some(format!("the chart package cannot be read: {error}")),
        }
        Ok(view)
    }

    /// The WebAssembly module or component `digest`: its module layer read and summarised; for
    /// an image marked `module.wasm.image/variant`, only that mark.
    pub async fn wasm_module(
        &self,
        who: &Principal,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<WasmView, AppError> {
        let artifact = self.find_indexed(who, registry, repository, digest).await?;
        let compat_image = artifact.annotations.contains_key(WASM_VARIANT);
        if artifact.kind != ArtifactKind::Wasm && !compat_image {
            return Err(AppError::NotFound(format!("a WebAssembly artifact at {digest}")));
        }
        let module = artifact.layers.iter().find(|layer| {
            let kind = layer.media_type.to_ascii_lowercase();
            kind == "application/wasm" || (kind.starts_with("application/vnd.wasm.") && kind.ends_with("wasm"))
        });
        let Some(module) = module else {
            let error = (!compat_image).then(|| "no layer holds a WebAssembly module".to_owned());
            return Ok(WasmView { compat_image, error, ..WasmView::default() });
        };
        let mut view =
            WasmView { media_type: module.media_type.clone(), size: module.size, compat_image, ..WasmView::default() };
        let bytes = match self.read_layer(&artifact, module, MAX_WASM_BYTES).await {
            Ok(bytes) => bytes,
            Err(error) => {
                view.error = Some(error.to_string());
                return Ok(view);
            }
        };
        match off_thread(move || wasm::wasm_summary(&bytes)).await? {
            Ok(summary) => {
                let item = |item: wasm::WasmItem| WasmItemView {
                    name: item.name,
                    kind: serde_json::to_value(item.kind)
                        .ok()
                        .and_then(|kind| kind.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                };
                view.kind = Some(match summary.kind {
                    wasm::WasmKind::Module => "module".into(),
                    wasm::WasmKind::Component => "component".into(),
                });
                view.size = summary.size;
                view.imports = summary.imports.into_iter().map(item).collect();
                view.exports = summary.exports.into_iter().map(item).collect();
                view.functions = summary.functions;
                view.world = summary.world;
                view.producers = summary
                    .producers
                    .into_iter()
                    .map(|producer| {
                        format!("{} {} {}", producer.field, producer.name, producer.version).trim().to_owned()
                    })
                    .collect();
                view.truncated = summary.truncated;
            }
            Err(error) => view.error = Some(format!("the module cannot be read: {error}")),
        }
        Ok(view)
    }
}
