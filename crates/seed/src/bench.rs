//! The scale data set: many small hand-built image repositories (`bench/repo-NNNNN`), pushed
//! concurrently without external tools. A share of the images carry what real ones do: an SPDX
//! SBOM referrer (every third repository; listed by the fallback tag on registries without the
//! referrers API) and a cosign signature (every fourth, in its `sha256-<hex>.sig` tag).

use futures::{StreamExt as _, TryStreamExt as _};

use crate::catalog::subject;
use crate::document::{Annotations, Platform, keys, timestamp, types};
use crate::handmade::{HandImage, ImageFlavor, push_image};
use crate::push::Pusher;
use crate::referrers::{Payload, attach, push_cosign_signature};
use crate::signing::Signer;

/// How many repositories are pushed at once.
const CONCURRENCY: usize = 8;

/// Pushes `repositories` repositories; every fourth one gets a second version. `host` is the
/// registry as signatures name it (`host:port`).
pub(crate) async fn seed_bench(pusher: &Pusher, host: &str, repositories: usize) -> anyhow::Result<()> {
    futures::stream::iter(0..repositories)
        .map(|number| seed_repository(pusher, host, number))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn seed_repository(pusher: &Pusher, host: &str, number: usize) -> anyhow::Result<()> {
    let repository = format!("bench/repo-{number:05}");
    let versions: &[&str] = if number.is_multiple_of(4) { &["1.0.0", "1.1.0"] } else { &["1.0.0"] };
    for (position, version) in versions.iter().enumerate() {
        let image = HandImage {
            repository: repository.clone(),
            tag: Some((*version).to_owned()),
            flavor: if number.is_multiple_of(5) { ImageFlavor::DockerV2 } else { ImageFlavor::Oci },
            platform: Platform::new("linux", if number.is_multiple_of(3) { "arm64" } else { "amd64" }),
            created: timestamp((number % 300) as u32, position as u32 * 60),
            metadata: vec![
                ("title", repository.clone()),
                ("version", (*version).to_owned()),
                ("description", format!("Benchmark repository number {number}")),
                ("source", format!("https://git.ocicat.invalid/bench/repo-{number:05}")),
            ],
            files: vec![
                ("/app/VERSION".to_owned(), format!("{repository} {version}\n").into_bytes()),
                ("/app/run.sh".to_owned(), b"#!/bin/sh\necho bench\n".to_vec()),
            ],
        };
        let descriptor = push_image(pusher, &image).await?;
        if position > 0 {
            continue;
        }
        let described = subject(host, &repository, descriptor);
        if number.is_multiple_of(3) {
            attach(pusher, &described, small_sbom(&repository, version, &image.created), "sbom").await?;
        }
        if number % 4 == 1 {
            push_cosign_signature(pusher, &Signer::demo(), &described).await?;
        }
    }
    Ok(())
}

/// A minimal SPDX 2.3 document for one bench image (the demo's real SBOMs are 100 KB each,
/// too much to upload thousands of times).
fn small_sbom(repository: &str, version: &str, created: &str) -> Payload {
    let document = serde_json::json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("{repository}:{version}"),
        "documentNamespace": format!("https://sbom.ocicat.invalid/{repository}/{version}"),
        "creationInfo": {"created": created, "creators": ["Tool: ocicat-seed"]},
        "packages": [{
            "SPDXID": "SPDXRef-Package-app",
            "name": repository,
            "versionInfo": version,
            "downloadLocation": "NOASSERTION",
        }],
    });
    Payload {
        artifact_type: types::SPDX,
        layer_media_type: types::SPDX,
        bytes: document.to_string().into_bytes(),
        layer_annotations: Annotations::from([(keys::TITLE.to_owned(), "sbom.spdx.json".to_owned())]),
        annotations: Annotations::from([(keys::CREATED.to_owned(), created.to_owned())]),
    }
}
