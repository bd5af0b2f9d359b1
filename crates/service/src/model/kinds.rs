//! Artifacts shown the way their own tools show them: a Helm chart (what `helm show chart`,
//! `helm show values` and `helm show readme` print, the README as sanitized HTML) and a
//! WebAssembly module or component (its size, imports and exports, its WIT world).

use serde::{Deserialize, Serialize};

/// A chart's dependency (`dependencies` in Chart.yaml).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ChartDependencyView {
    /// Its name.
    pub name: String,
    /// Its version range.
    pub version: Option<String>,
    /// Where it comes from (`oci://…`, `https://…`, `file://…`), as text.
    pub repository: Option<String>,
    /// The values condition that enables it.
    pub condition: Option<String>,
    /// Its alias.
    pub alias: Option<String>,
}

/// A chart's maintainer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ChartMaintainerView {
    /// The name.
    pub name: Option<String>,
    /// The e-mail address, as text.
    pub email: Option<String>,
    /// A web page: only http(s), else left out.
    pub url: Option<String>,
}

/// A Helm chart.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ChartView {
    /// `name`.
    pub name: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `appVersion`.
    pub app_version: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `type`: application or library.
    pub chart_type: Option<String>,
    /// `apiVersion` (v1 or v2).
    pub api_version: Option<String>,
    /// `kubeVersion`.
    pub kube_version: Option<String>,
    /// `home`: only http(s).
    pub home: Option<String>,
    /// `sources`: only http(s).
    pub sources: Vec<String>,
    /// `keywords`.
    pub keywords: Vec<String>,
    /// `deprecated`.
    pub deprecated: bool,
    /// `dependencies`.
    pub dependencies: Vec<ChartDependencyView>,
    /// `maintainers`.
    pub maintainers: Vec<ChartMaintainerView>,
    /// `values.yaml`, as text (cut at 256 KiB).
    pub values_yaml: Option<String>,
    /// `Chart.yaml` as packaged, as text.
    pub chart_yaml: Option<String>,
    /// `README.md` rendered to sanitized HTML (no raw HTML, links only http(s), no images).
    pub readme_html: Option<String>,
    /// True when a file above was cut.
    pub truncated: bool,
    /// Templates, relative to `templates/`.
    pub templates: Vec<String>,
    /// Subcharts packaged under `charts/`.
    pub subcharts: Vec<String>,
    /// The provenance layer's digest (`helm package --sign`), when the chart has one.
    pub provenance: Option<String>,
    /// Why the packaged files could not be read (the metadata above comes from the config).
    pub files_error: Option<String>,
}

/// An import or export of a WebAssembly module or component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct WasmItemView {
    /// `module::name` for a core import, the name otherwise (`wasi:cli/environment@0.2.0`).
    pub name: String,
    /// func, table, memory, global, tag, instance, type, module, component or value.
    pub kind: String,
}

/// A WebAssembly module or component.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct WasmView {
    /// `module` or `component`; `None` when the layer could not be read.
    pub kind: Option<String>,
    /// The module's size in bytes.
    pub size: u64,
    /// The layer's media type.
    pub media_type: String,
    /// Its imports.
    pub imports: Vec<WasmItemView>,
    /// Its exports.
    pub exports: Vec<WasmItemView>,
    /// Functions defined (a core module).
    pub functions: u64,
    /// The WIT world, when a `component-type` section names it.
    pub world: Option<String>,
    /// The toolchain (`producers` section): `language rust`, `processed-by rustc 1.80`…
    pub producers: Vec<String>,
    /// True when a list above was cut.
    pub truncated: bool,
    /// True for a container image marked `module.wasm.image/variant: compat` (run by a
    /// WASM-aware runtime; its layers are a filesystem, not a module).
    pub compat_image: bool,
    /// Why the module could not be read.
    pub error: Option<String>,
}
