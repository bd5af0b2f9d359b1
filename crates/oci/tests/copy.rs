//! Copying blobs against real registries (distribution 2.8.2 with and without token auth, and
//! ferro-oci-server, each as source and destination): a large blob crosses in chunks and
//! arrives with its digest, a blob already there is skipped, within one registry it is
//! mounted, a lying source never completes an upload; the fallback index is merged, never
//! truncated.

use bytes::Bytes;
use ocicat_oci::{BlobCopy, COPY_CHUNK_BYTES, Client, ClientConfig, Credentials, Digest, OciError, Secret, copy_blob};
use ocicat_testkit::{Distribution, DistributionOptions, FaultyRegistry, Ferro, Reply};

fn client(url: &str, credentials: Credentials) -> Client {
    Client::new(ClientConfig::new(url.parse().unwrap(), credentials)).unwrap()
}

fn anonymous(url: &str) -> Client {
    client(url, Credentials::Anonymous)
}

/// Deterministic bytes that do not compress into one repeated chunk.
fn bytes(length: usize, seed: u8) -> Bytes {
    let mut state = u32::from(seed) + 1;
    (0..length)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as u8
        })
        .collect::<Vec<u8>>()
        .into()
}

/// The blob as the registry serves it, verified against its digest.
async fn read_back(registry: &Client, repository: &str, digest: &Digest, length: usize) -> Vec<u8> {
    use futures::StreamExt as _;
    let mut stream = registry.blob_stream(repository, digest, length as u64).await.unwrap();
    let mut read = Vec::with_capacity(length);
    while let Some(chunk) = stream.next().await {
        read.extend_from_slice(&chunk.unwrap());
    }
    read
}

#[tokio::test]
async fn a_large_blob_crosses_between_registries_in_chunks_then_is_skipped() {
    let source = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let (user, password) = ("pusher", "s3cret-pusher");
    let destination = Distribution::start(DistributionOptions::token(user, password)).await.unwrap();
    let from = anonymous(&source.url());
    let to = client(
        &destination.url(),
        Credentials::Basic { username: user.into(), password: Secret::new(password.to_owned()) },
    );
    let blob = bytes(2 * COPY_CHUNK_BYTES + 12_345, 1);
    let digest = from.push_blob("team/app", blob.clone()).await.unwrap();
    let copied = copy_blob(&from, "team/app", &to, "prod/app", &digest, blob.len() as u64).await.unwrap();
    assert_eq!(copied, BlobCopy::Uploaded(blob.len() as u64));
    assert_eq!(read_back(&to, "prod/app", &digest, blob.len()).await, blob, "verified on the way back");
    let again = copy_blob(&from, "team/app", &to, "prod/app", &digest, blob.len() as u64).await.unwrap();
    assert_eq!(again, BlobCopy::Present);
}

#[tokio::test]
async fn within_one_registry_the_blob_is_mounted_not_sent_again() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let registry = anonymous(&distribution.url());
    let blob = bytes(300_000, 2);
    let digest = registry.push_blob("ci/app", blob.clone()).await.unwrap();
    let copied = copy_blob(&registry, "ci/app", &registry, "prod/app", &digest, blob.len() as u64).await.unwrap();
    assert_eq!(copied, BlobCopy::Mounted);
    assert_eq!(registry.get_blob("prod/app", &digest).await.unwrap(), blob);
    // The registry's own log shows the mount request, and no upload of the bytes.
    let log = distribution.log_tail(200);
    assert!(log.contains("mount="), "{log}");
    assert!(!log.contains("\"PATCH /v2/prod/app/blobs/uploads"), "{log}");
}

#[tokio::test]
async fn ferro_and_distribution_take_each_others_blobs() {
    let ferro = Ferro::start().await.unwrap();
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let (ferro, distribution) = (anonymous(&ferro.url()), anonymous(&distribution.url()));
    for (index, (from, to)) in [(&ferro, &distribution), (&distribution, &ferro)].into_iter().enumerate() {
        let blob = bytes(COPY_CHUNK_BYTES + 1, 3 + index as u8);
        let digest = from.push_blob("src/app", blob.clone()).await.unwrap();
        let copied = copy_blob(from, "src/app", to, "dst/app", &digest, blob.len() as u64).await.unwrap();
        assert_eq!(copied, BlobCopy::Uploaded(blob.len() as u64));
        assert_eq!(read_back(to, "dst/app", &digest, blob.len()).await, blob);
        // Within one registry it reaches a third repository without crossing again (ferro keeps
        // blobs per registry, so it is already there).
        let mounted = copy_blob(to, "dst/app", to, "other/app", &digest, blob.len() as u64).await.unwrap();
        assert!(matches!(mounted, BlobCopy::Mounted | BlobCopy::Present), "{mounted:?}");
        assert!(to.has_blob("other/app", &digest).await.unwrap());
    }
}

#[tokio::test]
async fn a_lying_or_oversized_source_never_completes_an_upload() {
    let destination = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let to = anonymous(&destination.url());
    let claimed = Digest::sha256(b"the real bytes");
    let liar = FaultyRegistry::builder()
        .get("/v2/src/app/blobs/*", Reply::blob(bytes(COPY_CHUNK_BYTES + 10, 9)))
        .start()
        .await
        .unwrap();
    let from = anonymous(&liar.url());
    let lie = copy_blob(&from, "src/app", &to, "dst/app", &claimed, (COPY_CHUNK_BYTES + 10) as u64).await;
    assert!(matches!(lie, Err(OciError::DigestMismatch { .. })), "{lie:?}");
    assert!(!to.has_blob("dst/app", &claimed).await.unwrap(), "nothing under the claimed digest");
    let oversized = copy_blob(&from, "src/app", &to, "dst/app", &claimed, 100).await;
    assert!(matches!(oversized, Err(OciError::TooLarge { .. })), "{oversized:?}");
}

#[tokio::test]
async fn the_fallback_index_is_merged_never_truncated() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let registry = anonymous(&distribution.url());
    let subject = Digest::sha256(b"subject manifest");
    let empty = registry.push_blob("app", Bytes::from_static(b"{}")).await.unwrap();
    // Referrers exist before an index lists them (distribution checks), as a copy pushes them.
    let referrer = |seed: u8| {
        let raw = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/spdx+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.to_string(), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.to_string(), "size": 2}],
            "annotations": {"seed": seed.to_string()},
        }))
        .unwrap();
        let digest = Digest::sha256(&raw);
        let descriptor = serde_json::from_value::<oci_spec::image::Descriptor>(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest.to_string(),
            "size": raw.len(),
            "artifactType": "application/spdx+json",
        }))
        .unwrap();
        (raw, digest, descriptor)
    };
    let (first, second) = (referrer(1), referrer(2));
    for (raw, digest, _) in [&first, &second] {
        registry
            .push_manifest(
                "app",
                &digest.to_string(),
                "application/vnd.oci.image.manifest.v1+json",
                Bytes::from(raw.clone()),
            )
            .await
            .unwrap();
    }
    assert_eq!(registry.add_to_fallback_index("app", &subject, vec![first.2.clone()]).await.unwrap(), 1);
    assert_eq!(registry.add_to_fallback_index("app", &subject, vec![first.2.clone()]).await.unwrap(), 0, "listed");
    assert_eq!(
        registry.add_to_fallback_index("app", &subject, vec![first.2.clone(), second.2.clone()]).await.unwrap(),
        1
    );
    let listed = registry.referrers_fallback("app", &subject).await.unwrap();
    let mut digests: Vec<String> = listed.iter().map(|referrer| referrer.digest.to_string()).collect();
    digests.sort();
    let mut expected = vec![first.1.to_string(), second.1.to_string()];
    expected.sort();
    assert_eq!(digests, expected, "both kept, in one index");
}

/// A small image of `seed` pushed to `repository`: its digest.
async fn image(registry: &Client, repository: &str, seed: u8) -> Digest {
    let layer = registry.push_blob(repository, bytes(1024, seed)).await.unwrap();
    let config =
        registry.push_blob(repository, Bytes::from_static(br#"{"architecture":"amd64","os":"linux"}"#)).await.unwrap();
    let raw = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.to_string(), "size": 37},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.to_string(), "size": 1024}],
    }))
    .unwrap();
    registry
        .push_manifest(repository, "1.0", "application/vnd.oci.image.manifest.v1+json", Bytes::from(raw))
        .await
        .unwrap()
}

/// Attaching as `oras attach` does: the subject keeps its digest; ferro lists the referrer
/// through its API, distribution through the merged fallback index; a document arrives whole.
#[tokio::test]
async fn attachments_reach_the_referrers_api_or_the_fallback_index_and_the_subject_stays() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let ferro = ocicat_testkit::Ferro::start().await.unwrap();
    for (registry, api) in [(anonymous(&distribution.url()), false), (anonymous(&ferro.url()), true)] {
        let subject = image(&registry, "app", 7).await;
        let eol = ocicat_oci::Attachment {
            artifact_type: "application/vnd.microsoft.artifact.lifecycle".into(),
            annotations: [("vnd.microsoft.artifact.lifecycle.end-of-life.date".to_owned(), "2027-01-31".to_owned())]
                .into(),
            files: Vec::new(),
        };
        let notes = ocicat_oci::Attachment {
            artifact_type: "text/markdown".into(),
            annotations: Default::default(),
            files: vec![ocicat_oci::AttachedFile {
                media_type: "text/markdown".into(),
                name: Some("NOTES.md".into()),
                bytes: Bytes::from_static(b"# released\n"),
            }],
        };
        let first = registry.attach("app", &subject, &eol, "2026-12-06T10:00:00Z").await.unwrap();
        let second = registry.attach("app", &subject, &notes, "2026-12-06T10:01:00Z").await.unwrap();
        assert_eq!(first.fallback, !api);
        assert_eq!(registry.head_manifest("app", "1.0").await.unwrap(), Some(subject.clone()), "the subject stays");
        let listed: Vec<String> = match registry.referrers_api("app", &subject, None).await.unwrap() {
            Some(found) => found.into_iter().map(|referrer| referrer.digest.to_string()).collect(),
            None => {
                let index = registry.get_manifest("app", &subject.fallback_tag()).await.unwrap();
                let value: serde_json::Value = serde_json::from_slice(&index.raw).unwrap();
                value["manifests"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|entry| entry["digest"].as_str().unwrap().to_owned())
                    .collect()
            }
        };
        for attached in [&first, &second] {
            assert!(listed.contains(&attached.digest.to_string()), "{listed:?}");
        }
        let manifest = registry.get_manifest("app", &second.digest.to_string()).await.unwrap();
        let value: serde_json::Value = serde_json::from_slice(&manifest.raw).unwrap();
        assert_eq!(value["subject"]["digest"], subject.to_string());
        assert_eq!(value["annotations"]["org.opencontainers.image.created"], "2026-12-06T10:01:00Z");
        let layer: Digest = value["layers"][0]["digest"].as_str().unwrap().parse().unwrap();
        assert_eq!(read_back(&registry, "app", &layer, 11).await, b"# released\n");
    }
}
