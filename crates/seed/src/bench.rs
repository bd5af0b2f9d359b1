//! The scale data set: many small hand-built image repositories (`bench/repo-NNNNN`), pushed
//! concurrently without external tools.

use futures::{StreamExt as _, TryStreamExt as _};

use crate::document::{Platform, timestamp};
use crate::handmade::{HandImage, ImageFlavor, push_image};
use crate::push::Pusher;

/// How many repositories are pushed at once.
const CONCURRENCY: usize = 8;

/// Pushes `repositories` repositories; every fourth one gets a second version.
pub(crate) async fn seed_bench(pusher: &Pusher, repositories: usize) -> anyhow::Result<()> {
    futures::stream::iter(0..repositories)
        .map(|number| seed_repository(pusher, number))
        .buffer_unordered(CONCURRENCY)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

async fn seed_repository(pusher: &Pusher, number: usize) -> anyhow::Result<()> {
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
        push_image(pusher, &image).await?;
    }
    Ok(())
}
