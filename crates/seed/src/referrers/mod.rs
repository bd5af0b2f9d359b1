//! Artifacts that describe another manifest: OCI 1.1 referrers (SBOMs, scans, notation
//! signatures, sigstore bundles, cosign attestations, lifecycle metadata) pushed by digest with a
//! `subject`, and cosign's legacy `sha256-<hex>.sig|.att` tags.

mod bundle;
mod cosign;
mod notation;
mod statements;

pub(crate) use bundle::{push_attestation_referrer, push_bundle_signature};
pub(crate) use cosign::{
    provenance_statement, push_copied_cosign_signature, push_cosign_attestations, push_cosign_signature,
    push_upstream_keyless_signature,
};
pub(crate) use notation::push_notation_signature;
pub(crate) use statements::{VulnScan, cyclonedx_statement, vuln_statement};

use crate::document::{Annotations, Descriptor, EMPTY_JSON, ImageManifest, empty_descriptor, keys, types};
use crate::fixtures;
use crate::push::Pusher;

/// The manifest an artifact describes.
#[derive(Debug, Clone)]
pub(crate) struct Subject {
    /// The repository both live in.
    pub(crate) repository: String,
    /// `host:port/repository`, as signatures name the image.
    pub(crate) name: String,
    /// The subject's descriptor (media type, digest, size).
    pub(crate) descriptor: Descriptor,
}

impl Subject {
    /// The bare descriptor written into a referrer's `subject` field.
    fn field(&self) -> Descriptor {
        Descriptor::of_parts(&self.descriptor.media_type, &self.descriptor.digest, self.descriptor.size)
    }
}

/// One payload to attach: its artifact type, its layer's media type and bytes, and annotations.
#[derive(Debug, Clone)]
pub(crate) struct Payload {
    pub(crate) artifact_type: &'static str,
    pub(crate) layer_media_type: &'static str,
    pub(crate) bytes: Vec<u8>,
    /// Annotations of the layer (`org.opencontainers.image.title` is the file name).
    pub(crate) layer_annotations: Annotations,
    /// Annotations of the manifest (always include `org.opencontainers.image.created`).
    pub(crate) annotations: Annotations,
}

/// Pushes `payload` as an OCI 1.1 artifact (empty config, `artifactType`, `subject`) and records
/// it as `kind`; returns its descriptor.
pub(crate) async fn attach(
    pusher: &Pusher,
    subject: &Subject,
    payload: Payload,
    kind: &'static str,
) -> anyhow::Result<Descriptor> {
    let repository = subject.repository.as_str();
    let config = pusher.blob(repository, ocicat_oci::media_types::OCI_EMPTY, EMPTY_JSON).await?;
    let layers = if payload.bytes.is_empty() {
        vec![empty_descriptor()]
    } else {
        let layer = pusher.blob(repository, payload.layer_media_type, payload.bytes).await?;
        vec![layer.with_annotations(payload.layer_annotations)]
    };
    let mut manifest = ImageManifest::oci(config, layers);
    manifest.artifact_type = Some(payload.artifact_type.to_owned());
    manifest.subject = Some(subject.field());
    manifest.annotations = payload.annotations;
    pusher.manifest(repository, None, &manifest, kind).await
}

fn created(created: &str) -> Annotations {
    Annotations::from([(keys::CREATED.to_owned(), created.to_owned())])
}

fn titled(file_name: &str) -> Annotations {
    Annotations::from([(keys::TITLE.to_owned(), file_name.to_owned())])
}

/// Attaches the Debian SPDX SBOM (distro2sbom) to `subject`.
pub(crate) async fn attach_spdx(pusher: &Pusher, subject: &Subject, when: &str) -> anyhow::Result<Descriptor> {
    let payload = Payload {
        artifact_type: types::SPDX,
        layer_media_type: types::SPDX,
        bytes: fixtures::SPDX_DEBIAN.to_vec(),
        layer_annotations: titled("sbom.spdx.json"),
        annotations: created(when),
    };
    attach(pusher, subject, payload, "sbom").await
}

/// Attaches the Python CycloneDX SBOM (cyclonedx-py) to `subject`.
pub(crate) async fn attach_cyclonedx(pusher: &Pusher, subject: &Subject, when: &str) -> anyhow::Result<Descriptor> {
    let payload = Payload {
        artifact_type: types::CYCLONEDX,
        layer_media_type: types::CYCLONEDX,
        bytes: fixtures::CYCLONEDX_PYTHON.to_vec(),
        layer_annotations: titled("sbom.cdx.json"),
        annotations: created(when),
    };
    attach(pusher, subject, payload, "sbom").await
}

/// Attaches a Microsoft lifecycle artifact declaring `end_of_life` (`yyyy-MM-dd`) to `subject`.
pub(crate) async fn attach_lifecycle(
    pusher: &Pusher,
    subject: &Subject,
    end_of_life: &str,
    when: &str,
) -> anyhow::Result<Descriptor> {
    let mut annotations = created(when);
    annotations.insert(keys::END_OF_LIFE.to_owned(), end_of_life.to_owned());
    let payload = Payload {
        artifact_type: types::LIFECYCLE,
        layer_media_type: ocicat_oci::media_types::OCI_EMPTY,
        bytes: Vec::new(),
        layer_annotations: Annotations::new(),
        annotations,
    };
    attach(pusher, subject, payload, "lifecycle").await
}
