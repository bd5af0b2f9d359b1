//! Hand-built content pushed with `ocicat-oci` where no real tool exists here: small images with
//! real gzip tar layers (OCI and Docker v2), Helm charts, WASM modules and buildx-style indexes
//! with attestation manifests.

mod buildx;
mod helm;
mod image;
mod wasm;

pub(crate) use buildx::{BuildxImage, push_buildx_index};
pub(crate) use helm::{HelmChart, push_helm_chart};
pub(crate) use image::{HandImage, ImageFlavor, push_image};
pub(crate) use wasm::{WasmModule, push_wasm_module};
