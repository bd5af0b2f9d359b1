//! Pushing hand-built content through `ocicat-oci`: blobs, manifests by tag or by digest, the
//! referrers fallback index, and the record of everything pushed.

use std::sync::Mutex;

use anyhow::Context as _;
use bytes::Bytes;
use ocicat_oci::{Client, Digest, ManifestBody, OciError, media_types};

use crate::document::{Descriptor, ImageIndex, ImageManifest};
use crate::{SeedReport, Seeded};

/// A registry client plus the seeding report and the lock that serialises fallback-index updates.
#[derive(Debug)]
pub(crate) struct Pusher {
    client: Client,
    referrers_api: bool,
    fallback_lock: tokio::sync::Mutex<()>,
    items: Mutex<Vec<Seeded>>,
}

impl Pusher {
    pub(crate) fn new(client: Client, referrers_api: bool) -> Pusher {
        Pusher { client, referrers_api, fallback_lock: tokio::sync::Mutex::new(()), items: Mutex::new(Vec::new()) }
    }

    /// Everything recorded so far.
    pub(crate) fn into_report(self) -> SeedReport {
        SeedReport { items: self.items.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner()) }
    }

    /// Records a manifest pushed by someone else (a real tool) or by this pusher.
    pub(crate) fn record(
        &self,
        repository: &str,
        reference: Option<&str>,
        digest: &str,
        kind: &'static str,
        subject: Option<&str>,
    ) {
        let item = Seeded {
            repository: repository.to_owned(),
            reference: reference.map(str::to_owned),
            digest: digest.to_owned(),
            kind,
            subject: subject.map(str::to_owned),
        };
        self.items.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(item);
    }

    /// Uploads `bytes` as a blob and returns its descriptor.
    pub(crate) async fn blob(
        &self,
        repository: &str,
        media_type: &str,
        bytes: impl Into<Bytes>,
    ) -> anyhow::Result<Descriptor> {
        let bytes: Bytes = bytes.into();
        let descriptor = Descriptor::of(media_type, &bytes);
        self.client
            .push_blob(repository, bytes)
            .await
            .with_context(|| format!("failed to push blob {} ({media_type}) to {repository}", descriptor.digest))?;
        Ok(descriptor)
    }

    /// Uploads raw manifest bytes under `reference` (a tag or their digest).
    pub(crate) async fn raw_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        raw: Bytes,
    ) -> anyhow::Result<Descriptor> {
        let descriptor = Descriptor::of(media_type, &raw);
        self.client
            .push_manifest(repository, reference, media_type, raw)
            .await
            .with_context(|| format!("failed to push manifest {repository}:{reference} ({media_type})"))?;
        Ok(descriptor)
    }

    /// Pushes an image manifest under `tag` (or by digest when `None`) and records it as `kind`.
    ///
    /// A manifest with a `subject` is a referrer: it is always pushed by digest, and on registries
    /// without the referrers API it is added to the subject's fallback index tag.
    pub(crate) async fn manifest(
        &self,
        repository: &str,
        tag: Option<&str>,
        manifest: &ImageManifest,
        kind: &'static str,
    ) -> anyhow::Result<Descriptor> {
        let subject = manifest.subject.as_ref().map(|subject| subject.digest.clone());
        let tag = if subject.is_some() { None } else { tag };
        let descriptor = self.manifest_describing(repository, tag, manifest, kind, subject.as_deref()).await?;
        if let Some(subject) = subject
            && !self.referrers_api
        {
            let mut entry = descriptor.clone().with_annotations(manifest.annotations.clone());
            entry.artifact_type = manifest.artifact_type.clone().or_else(|| Some(manifest.config.media_type.clone()));
            self.add_to_fallback_index(repository, &subject, entry).await?;
        }
        Ok(descriptor)
    }

    /// Pushes an image manifest without touching any fallback index and records it as `kind`
    /// describing `described` (a cosign tag's target or a buildx attestation's image).
    pub(crate) async fn manifest_describing(
        &self,
        repository: &str,
        tag: Option<&str>,
        manifest: &ImageManifest,
        kind: &'static str,
        described: Option<&str>,
    ) -> anyhow::Result<Descriptor> {
        let raw = manifest.to_bytes();
        let digest = Digest::sha256(&raw).to_string();
        let descriptor = self.raw_manifest(repository, tag.unwrap_or(&digest), manifest.push_media_type(), raw).await?;
        self.record(repository, tag, &digest, kind, described);
        Ok(descriptor)
    }

    /// Pushes an index under `tag` (or by digest when `None`) and records it as `kind`.
    pub(crate) async fn index(
        &self,
        repository: &str,
        tag: Option<&str>,
        index: &ImageIndex,
        kind: &'static str,
    ) -> anyhow::Result<Descriptor> {
        let raw = index.to_bytes();
        let digest = Digest::sha256(&raw).to_string();
        let descriptor = self.raw_manifest(repository, tag.unwrap_or(&digest), media_types::OCI_INDEX, raw).await?;
        self.record(repository, tag, &digest, kind, None);
        Ok(descriptor)
    }

    /// Puts the manifest tagged `existing` under `new_tag` too (byte for byte) and records it.
    pub(crate) async fn retag(
        &self,
        repository: &str,
        existing: &str,
        new_tag: &str,
        kind: &'static str,
    ) -> anyhow::Result<Descriptor> {
        let manifest = self
            .client
            .get_manifest(repository, existing)
            .await
            .with_context(|| format!("failed to fetch {repository}:{existing} to tag it {new_tag}"))?;
        let descriptor = self.raw_manifest(repository, new_tag, &manifest.media_type, manifest.raw.clone()).await?;
        self.record(repository, Some(new_tag), &descriptor.digest, kind, None);
        Ok(descriptor)
    }

    /// The descriptor of the manifest at `repository:reference`, with its media type as served.
    pub(crate) async fn describe(
        &self,
        repository: &str,
        reference: &str,
    ) -> anyhow::Result<(Descriptor, ManifestBody)> {
        let manifest = self
            .client
            .get_manifest(repository, reference)
            .await
            .with_context(|| format!("failed to fetch manifest {repository}:{reference}"))?;
        Ok((Descriptor::of(&manifest.media_type, &manifest.raw), manifest.body))
    }

    /// Adds `entry` to the referrers fallback index tag `<alg>-<hex>` of `subject` (creating it on
    /// 404), as the distribution spec's referrers tag schema asks of clients.
    async fn add_to_fallback_index(&self, repository: &str, subject: &str, entry: Descriptor) -> anyhow::Result<()> {
        let subject_digest: Digest = subject.parse().with_context(|| format!("invalid subject digest {subject}"))?;
        let tag = subject_digest.fallback_tag();
        let _serialised = self.fallback_lock.lock().await;
        let mut index = match self.client.get_manifest(repository, &tag).await {
            Ok(existing) if matches!(existing.body, ManifestBody::Index(_)) => {
                serde_json::from_slice::<ImageIndex>(&existing.raw)
                    .with_context(|| format!("fallback index {repository}:{tag} is not a valid index"))?
            }
            Ok(_) | Err(OciError::NotFound { .. }) => ImageIndex::new(),
            Err(error) => {
                return Err(error).with_context(|| format!("failed to fetch fallback index {repository}:{tag}"));
            }
        };
        if index.manifests.iter().any(|existing| existing.digest == entry.digest) {
            return Ok(());
        }
        index.manifests.push(entry);
        index.media_type = Some(media_types::OCI_INDEX.to_owned());
        self.raw_manifest(repository, &tag, media_types::OCI_INDEX, index.to_bytes())
            .await
            .with_context(|| format!("failed to update fallback index {repository}:{tag}"))?;
        Ok(())
    }
}
