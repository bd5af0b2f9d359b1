//! Referrers from every source, merged and de-duplicated: the OCI 1.1 referrers API (paged,
//! filtered by the registry or here), the `<alg>-<hex>` fallback index, cosign
//! `sha256-<hex>.sig|.att|.sbom` tags, and buildx attestation manifests inside an index.

use std::collections::{BTreeMap, HashMap, HashSet};

use oci_spec::image::{Descriptor, ImageIndex};
use reqwest::{Method, StatusCode, header};

use crate::body::read_capped;
use crate::client::{Client, pull_scope};
use crate::digest::Digest;
use crate::error::{OciError, Result};
use crate::manifest::{ManifestBody, media_types};
use crate::names::validate_repository;
use crate::paging::{next_link, resolve_same_origin};
use crate::status::check_status;

/// Where a referrer was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferrerSource {
    /// The registry's referrers API.
    Api,
    /// The `<alg>-<hex>` fallback index tag.
    FallbackTag,
    /// A cosign `sha256-<hex>.sig|.att|.sbom` tag.
    CosignTag,
    /// A buildx attestation manifest listed in an index.
    BuildxIndex,
}

/// One artifact that refers to a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    /// The referrer's manifest digest.
    pub digest: Digest,
    /// Its media type.
    pub media_type: String,
    /// Its artifact type, as the listing gave it.
    pub artifact_type: Option<String>,
    /// Its manifest size.
    pub size: u64,
    /// Annotations copied into the listing.
    pub annotations: BTreeMap<String, String>,
    /// Every source that listed it.
    pub sources: Vec<ReferrerSource>,
}

/// Most referrers pages followed for one subject.
const MAX_REFERRER_PAGES: usize = 100;

fn referrer_from(descriptor: &Descriptor, source: ReferrerSource) -> Option<Referrer> {
    Some(Referrer {
        digest: descriptor.digest().to_string().parse().ok()?,
        media_type: descriptor.media_type().to_string(),
        artifact_type: descriptor.artifact_type().as_ref().map(ToString::to_string),
        size: descriptor.size(),
        annotations: descriptor.annotations().clone().unwrap_or_default().into_iter().collect(),
        sources: vec![source],
    })
}

/// Merges referrer lists, keeping one entry per digest with all of its sources.
pub fn merge_referrers(lists: impl IntoIterator<Item = Referrer>) -> Vec<Referrer> {
    let mut merged: BTreeMap<Digest, Referrer> = BTreeMap::new();
    for referrer in lists {
        match merged.get_mut(&referrer.digest) {
            Some(existing) => {
                for source in referrer.sources {
                    if !existing.sources.contains(&source) {
                        existing.sources.push(source);
                    }
                }
                existing.sources.sort();
                if existing.artifact_type.is_none() {
                    existing.artifact_type = referrer.artifact_type;
                }
            }
            None => {
                merged.insert(referrer.digest.clone(), referrer);
            }
        }
    }
    merged.into_values().collect()
}

/// The attestation manifests buildx put in `index`, keyed by the digest they attest.
pub fn buildx_attestations(index: &ImageIndex) -> HashMap<Digest, Vec<Referrer>> {
    let mut found: HashMap<Digest, Vec<Referrer>> = HashMap::new();
    for descriptor in index.manifests() {
        let annotations = descriptor.annotations().clone().unwrap_or_default();
        if annotations.get("vnd.docker.reference.type").map(String::as_str) != Some("attestation-manifest") {
            continue;
        }
        let Some(subject) = annotations.get("vnd.docker.reference.digest").and_then(|text| text.parse::<Digest>().ok())
        else {
            continue;
        };
        if let Some(mut referrer) = referrer_from(descriptor, ReferrerSource::BuildxIndex) {
            referrer.artifact_type.get_or_insert_with(|| "application/vnd.docker.attestation.manifest.v1+json".into());
            found.entry(subject).or_default().push(referrer);
        }
    }
    found
}

/// The cosign tags among `tags` that refer to `subject` (`sha256-<hex>.sig|.att|.sbom`).
pub fn cosign_tags<'a>(subject: &Digest, tags: &'a [String]) -> Vec<&'a str> {
    let prefix = subject.fallback_tag();
    tags.iter()
        .map(String::as_str)
        .filter(|tag| {
            tag.strip_prefix(prefix.as_str()).is_some_and(|suffix| matches!(suffix, ".sig" | ".att" | ".sbom"))
        })
        .collect()
}

impl Client {
    /// Asks the referrers API; `Ok(None)` when the registry does not implement it (cached).
    pub async fn referrers_api(
        &self,
        repository: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Referrer>>> {
        validate_repository(repository)?;
        if *self.referrers_capability().known.lock().unwrap_or_else(|p| p.into_inner()) == Some(false) {
            return Ok(None);
        }
        let mut next = Some(self.url(&format!("/v2/{repository}/referrers/{subject}"))?);
        if let (Some(url), Some(filter)) = (next.as_mut(), artifact_type) {
            url.query_pairs_mut().append_pair("artifactType", filter);
        }
        let mut found = Vec::new();
        let mut visited = HashSet::new();
        while let Some(url) = next.take() {
            if visited.len() >= MAX_REFERRER_PAGES || !visited.insert(url.to_string()) {
                tracing::warn!(registry.url = %self.base_url(), artifact.digest = %subject, "referrers listing stopped at a loop or the page cap");
                break;
            }
            let response = self.execute(Method::GET, url.clone(), &[pull_scope(repository)], |request| request).await?;
            if response.status() == StatusCode::NOT_FOUND {
                let error = check_status(response).await.expect_err("404 is an error");
                if let OciError::NotFound { code: Some(code), .. } = &error {
                    if code == "NAME_UNKNOWN" || code == "MANIFEST_UNKNOWN" {
                        return Err(error);
                    }
                }
                self.set_referrers_supported(false);
                return Ok(None);
            }
            let response = check_status(response).await?;
            let content_type =
                response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
            if !content_type.starts_with(media_types::OCI_INDEX) {
                self.set_referrers_supported(false);
                return Ok(None);
            }
            let filtered_by_registry = response
                .headers()
                .get("oci-filters-applied")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|applied| applied.split(',').any(|f| f.trim() == "artifactType"));
            let link = response
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .map(str::to_owned);
            let body = read_capped(response, self.limits().manifest_bytes).await?;
            let index: ImageIndex = serde_json::from_slice(&body).map_err(|error| OciError::InvalidDocument {
                url: url.to_string(),
                reason: format!("bad referrers index: {error}"),
            })?;
            self.set_referrers_supported(true);
            for descriptor in index.manifests() {
                let Some(referrer) = referrer_from(descriptor, ReferrerSource::Api) else { continue };
                let wanted = filtered_by_registry
                    || artifact_type.is_none_or(|filter| referrer.artifact_type.as_deref() == Some(filter));
                if wanted {
                    found.push(referrer);
                }
            }
            if found.len() >= self.limits().list_items {
                found.truncate(self.limits().list_items);
                tracing::warn!(registry.url = %self.base_url(), artifact.digest = %subject, "referrers listing stopped at the item cap");
                break;
            }
            if let Some(link) = link.filter(|_| !index.manifests().is_empty()) {
                next = Some(resolve_same_origin(&url, &link)?);
            }
        }
        Ok(Some(found))
    }

    /// Reads the `<alg>-<hex>` fallback index of `subject`; empty when there is none.
    pub async fn referrers_fallback(&self, repository: &str, subject: &Digest) -> Result<Vec<Referrer>> {
        let manifest = match self.get_manifest(repository, &subject.fallback_tag()).await {
            Ok(manifest) => manifest,
            Err(OciError::NotFound { .. }) => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let ManifestBody::Index(index) = manifest.body else { return Ok(Vec::new()) };
        Ok(index.manifests().iter().filter_map(|d| referrer_from(d, ReferrerSource::FallbackTag)).collect())
    }

    /// Referrers of `subject` from the API (when supported), the fallback tag, and the cosign
    /// tags among `tags` (pass the repository's tag list; buildx attestations come from the
    /// parent index via [`buildx_attestations`]). Merged, one entry per digest.
    pub async fn referrers(&self, repository: &str, subject: &Digest, tags: &[String]) -> Result<Vec<Referrer>> {
        let mut all = self.referrers_api(repository, subject, None).await?.unwrap_or_default();
        if tags.iter().any(|tag| *tag == subject.fallback_tag()) {
            all.extend(self.referrers_fallback(repository, subject).await?);
        }
        for tag in cosign_tags(subject, tags) {
            match self.get_manifest(repository, tag).await {
                Ok(manifest) => all.push(Referrer {
                    digest: manifest.digest.clone(),
                    media_type: manifest.media_type.clone(),
                    artifact_type: crate::classify(&manifest).1,
                    size: manifest.raw.len() as u64,
                    annotations: BTreeMap::new(),
                    sources: vec![ReferrerSource::CosignTag],
                }),
                Err(OciError::NotFound { .. }) => {}
                Err(error) => return Err(error),
            }
        }
        Ok(merge_referrers(all))
    }

    fn set_referrers_supported(&self, supported: bool) {
        *self.referrers_capability().known.lock().unwrap_or_else(|p| p.into_inner()) = Some(supported);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn referrer(seed: &[u8], source: ReferrerSource, artifact_type: Option<&str>) -> Referrer {
        Referrer {
            digest: Digest::sha256(seed),
            media_type: media_types::OCI_MANIFEST.into(),
            artifact_type: artifact_type.map(str::to_owned),
            size: 1,
            annotations: BTreeMap::new(),
            sources: vec![source],
        }
    }

    #[test]
    fn merging_keeps_one_entry_per_digest_with_every_source() {
        let merged = merge_referrers([
            referrer(b"a", ReferrerSource::FallbackTag, None),
            referrer(b"a", ReferrerSource::Api, Some("application/spdx+json")),
            referrer(b"b", ReferrerSource::CosignTag, None),
            referrer(b"a", ReferrerSource::Api, None),
        ]);
        assert_eq!(merged.len(), 2);
        let a = merged.iter().find(|r| r.digest == Digest::sha256(b"a")).unwrap();
        assert_eq!(a.sources, [ReferrerSource::Api, ReferrerSource::FallbackTag]);
        assert_eq!(a.artifact_type.as_deref(), Some("application/spdx+json"));
    }

    #[test]
    fn cosign_tags_match_only_their_subject_and_suffixes() {
        let subject = Digest::sha256(b"s");
        let hex = subject.hex().to_owned();
        let tags: Vec<String> = [
            format!("sha256-{hex}.sig"),
            format!("sha256-{hex}.att"),
            format!("sha256-{hex}"),
            format!("sha256-{hex}.txt"),
            "v1".into(),
        ]
        .into();
        assert_eq!(cosign_tags(&subject, &tags), [format!("sha256-{hex}.sig"), format!("sha256-{hex}.att")]);
    }
}
