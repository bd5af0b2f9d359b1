//! Indexes laid out as `docker buildx build --provenance --sbom` pushes them: the image for
//! linux/amd64 plus an attestation manifest under platform `unknown/unknown`, annotated with
//! `vnd.docker.reference.type=attestation-manifest` and `vnd.docker.reference.digest`, whose
//! layers are unsigned in-toto statements (SLSA provenance v0.2 and an SPDX document).

use anyhow::Context as _;
use ocicat_oci::{Digest, media_types};
use serde_json::json;

use super::image::{HandImage, ImageFlavor, push_image};
use crate::document::{Annotations, Descriptor, ImageIndex, ImageManifest, Platform, annotations, keys, types};
use crate::fixtures;
use crate::push::Pusher;

/// One CI build: its repository, tag and what it was built from.
#[derive(Debug, Clone)]
pub(crate) struct BuildxImage {
    pub(crate) repository: String,
    pub(crate) tag: String,
    pub(crate) created: String,
    pub(crate) finished: String,
    pub(crate) revision: String,
    /// `host:port` of the registry, for statement subject names.
    pub(crate) host: String,
    /// The base image it was built `FROM`: (purl, digest).
    pub(crate) base: Option<(String, String)>,
}

/// Pushes the image, its attestation manifest and the index tagged `build.tag`; returns the
/// index's descriptor.
pub(crate) async fn push_buildx_index(pusher: &Pusher, build: &BuildxImage) -> anyhow::Result<Descriptor> {
    let repository = build.repository.as_str();
    let image = HandImage {
        repository: build.repository.clone(),
        tag: None,
        flavor: ImageFlavor::Oci,
        platform: Platform::new("linux", "amd64"),
        created: build.created.clone(),
        metadata: vec![
            ("title", repository.to_owned()),
            ("revision", build.revision.clone()),
            ("source", "https://git.ocicat.invalid/demo/app".to_owned()),
            ("description", format!("CI build of {} at {}", repository, build.revision)),
        ],
        files: vec![
            ("/app/run.sh".to_owned(), b"#!/bin/sh\nexec python3 -m app\n".to_vec()),
            ("/app/BUILD".to_owned(), format!("revision={}\nbuilt={}\n", build.revision, build.created).into_bytes()),
        ],
    };
    let image_descriptor = push_image(pusher, &image).await?;
    let image_digest: Digest = image_descriptor.digest.parse().context("pushed image has an invalid digest")?;
    let subject_name = format!("pkg:docker/{}/{repository}@{}?platform=linux%2Famd64", build.host, build.tag);
    let statements = [
        ("https://slsa.dev/provenance/v0.2", provenance(build)),
        (
            "https://spdx.dev/Document",
            serde_json::from_slice(fixtures::SPDX_REQUESTS).context("spdx fixture is not json")?,
        ),
    ];
    let mut layers = Vec::new();
    let mut diff_ids = Vec::new();
    for (predicate_type, predicate) in statements {
        let statement = json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": predicate_type,
            "subject": [{"name": subject_name, "digest": {"sha256": image_digest.hex()}}],
            "predicate": predicate,
        });
        let bytes = serde_json::to_vec(&statement).context("failed to serialize in-toto statement")?;
        diff_ids.push(Digest::sha256(&bytes).to_string());
        let layer = pusher.blob(repository, types::IN_TOTO, bytes).await?;
        layers.push(layer.with_annotations(annotations([("in-toto.io/predicate-type", predicate_type)])));
    }
    let config = json!({
        "architecture": "unknown",
        "os": "unknown",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config_bytes = serde_json::to_vec(&config).context("failed to serialize attestation config")?;
    let config = pusher.blob(repository, media_types::OCI_CONFIG, config_bytes).await?;
    let attestation = ImageManifest::oci(config, layers);
    let attestation_descriptor = pusher
        .manifest_describing(repository, None, &attestation, "attestation", Some(&image_descriptor.digest))
        .await?
        .with_platform(Platform::new("unknown", "unknown"))
        .with_annotations(annotations([
            ("vnd.docker.reference.digest", image_descriptor.digest.as_str()),
            ("vnd.docker.reference.type", "attestation-manifest"),
        ]));
    let mut index = ImageIndex::new();
    index.manifests = vec![image_descriptor, attestation_descriptor];
    index.annotations = Annotations::from([(keys::CREATED.to_owned(), build.created.clone())]);
    pusher.index(repository, Some(&build.tag), &index, "index").await
}

/// A SLSA provenance v0.2 predicate in BuildKit's shape.
fn provenance(build: &BuildxImage) -> serde_json::Value {
    let materials: Vec<serde_json::Value> = build
        .base
        .iter()
        .map(|(uri, digest)| json!({"uri": uri, "digest": {"sha256": digest.trim_start_matches("sha256:")}}))
        .collect();
    json!({
        "builder": {"id": format!("https://ci.ocicat.invalid/{}/runs/{}", build.repository, build.tag)},
        "buildType": "https://mobyproject.org/buildkit@v1",
        "materials": materials,
        "invocation": {
            "configSource": {"entryPoint": "Dockerfile"},
            "parameters": {"frontend": "dockerfile.v0", "args": {"build-arg:REVISION": build.revision}},
            "environment": {"platform": "linux/amd64"},
        },
        "metadata": {
            "buildInvocationID": format!("{}-{}", build.tag, build.revision),
            "buildStartedOn": build.created,
            "buildFinishedOn": build.finished,
            "completeness": {"parameters": true, "environment": true, "materials": false},
            "reproducible": false,
            "https://mobyproject.org/buildkit@v1#metadata": {
                "vcs": {"source": "https://git.ocicat.invalid/demo/app", "revision": build.revision},
            },
        },
    })
}
