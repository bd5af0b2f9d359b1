//! The OCI documents the seeder writes by hand: descriptors, image manifests and indexes, with a
//! fixed field order so that the same input always hashes to the same digest.

use std::collections::BTreeMap;

use bytes::Bytes;
use ocicat_oci::Digest;
use serde::{Deserialize, Serialize};

/// Media types the seeder writes that `ocicat_oci::media_types` does not name.
pub(crate) mod types {
    pub(crate) const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
    pub(crate) const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    pub(crate) const HELM_CONFIG: &str = "application/vnd.cncf.helm.config.v1+json";
    pub(crate) const HELM_CHART: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
    pub(crate) const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
    pub(crate) const WASM_LAYER: &str = "application/wasm";
    pub(crate) const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
    pub(crate) const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
    pub(crate) const IN_TOTO: &str = "application/vnd.in-toto+json";
    pub(crate) const NOTATION_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
    pub(crate) const JOSE: &str = "application/jose+json";
    pub(crate) const SPDX: &str = "application/spdx+json";
    pub(crate) const CYCLONEDX: &str = "application/vnd.cyclonedx+json";
    /// Trivy has no registered media type for its JSON report; this is the one the seeder uses
    /// (vendor tree of Aqua Security, like Trivy's database types `application/vnd.aquasec.trivy.*`).
    pub(crate) const TRIVY_REPORT: &str = "application/vnd.aquasec.trivy.report+json";
    pub(crate) const SARIF: &str = "application/sarif+json";
    pub(crate) const LIFECYCLE: &str = "application/vnd.microsoft.artifact.lifecycle";
}

/// Well-known annotation keys.
pub(crate) mod keys {
    pub(crate) const CREATED: &str = "org.opencontainers.image.created";
    pub(crate) const TITLE: &str = "org.opencontainers.image.title";
    pub(crate) const DESCRIPTION: &str = "org.opencontainers.image.description";
    pub(crate) const VERSION: &str = "org.opencontainers.image.version";
    pub(crate) const SOURCE: &str = "org.opencontainers.image.source";
    pub(crate) const URL: &str = "org.opencontainers.image.url";
    pub(crate) const LICENSES: &str = "org.opencontainers.image.licenses";
    pub(crate) const AUTHORS: &str = "org.opencontainers.image.authors";
    pub(crate) const END_OF_LIFE: &str = "vnd.microsoft.artifact.lifecycle.end-of-life.date";
}

/// Annotations in a stable (sorted) order.
pub(crate) type Annotations = BTreeMap<String, String>;

/// Builds annotations from `(key, value)` pairs.
pub(crate) fn annotations<const N: usize>(pairs: [(&str, &str); N]) -> Annotations {
    pairs.into_iter().map(|(key, value)| (key.to_owned(), value.to_owned())).collect()
}

/// A platform of an index entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Platform {
    pub(crate) architecture: String,
    pub(crate) os: String,
}

impl Platform {
    pub(crate) fn new(os: &str, architecture: &str) -> Platform {
        Platform { architecture: architecture.to_owned(), os: os.to_owned() }
    }
}

/// An OCI content descriptor.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    pub(crate) media_type: String,
    pub(crate) digest: String,
    pub(crate) size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) artifact_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: Annotations,
}

impl Descriptor {
    /// Describes `bytes` stored as `media_type`.
    pub(crate) fn of(media_type: &str, bytes: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: Digest::sha256(bytes).to_string(),
            size: bytes.len() as u64,
            artifact_type: None,
            platform: None,
            annotations: Annotations::new(),
        }
    }

    /// A descriptor from its three required fields.
    pub(crate) fn of_parts(media_type: &str, digest: &str, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.to_owned(),
            digest: digest.to_owned(),
            size,
            artifact_type: None,
            platform: None,
            annotations: Annotations::new(),
        }
    }

    /// The same descriptor with annotations.
    pub(crate) fn with_annotations(mut self, annotations: Annotations) -> Descriptor {
        self.annotations = annotations;
        self
    }

    /// The same descriptor with a platform.
    pub(crate) fn with_platform(mut self, platform: Platform) -> Descriptor {
        self.platform = Some(platform);
        self
    }
}

/// An image manifest (OCI or Docker v2 schema 2; the latter leaves out the OCI-only fields).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageManifest {
    pub(crate) schema_version: u32,
    /// Left out by Helm, present everywhere else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) artifact_type: Option<String>,
    pub(crate) config: Descriptor,
    pub(crate) layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) subject: Option<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: Annotations,
}

impl ImageManifest {
    /// An OCI image manifest with `config` and `layers`.
    pub(crate) fn oci(config: Descriptor, layers: Vec<Descriptor>) -> ImageManifest {
        ImageManifest {
            schema_version: 2,
            media_type: Some(ocicat_oci::media_types::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: Annotations::new(),
        }
    }

    /// The media type it is pushed as (OCI unless it says otherwise).
    pub(crate) fn push_media_type(&self) -> &str {
        self.media_type.as_deref().unwrap_or(ocicat_oci::media_types::OCI_MANIFEST)
    }

    /// The exact bytes pushed.
    pub(crate) fn to_bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("manifest serializes"))
    }
}

/// An OCI image index.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ImageIndex {
    pub(crate) schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) media_type: Option<String>,
    #[serde(default)]
    pub(crate) manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) annotations: Annotations,
}

impl ImageIndex {
    /// An empty OCI index.
    pub(crate) fn new() -> ImageIndex {
        ImageIndex {
            schema_version: 2,
            media_type: Some(ocicat_oci::media_types::OCI_INDEX.to_owned()),
            manifests: Vec::new(),
            annotations: Annotations::new(),
        }
    }

    /// The exact bytes pushed.
    pub(crate) fn to_bytes(&self) -> Bytes {
        Bytes::from(serde_json::to_vec(self).expect("index serializes"))
    }
}

/// The empty JSON blob `{}` used as config of artifacts without one.
pub(crate) const EMPTY_JSON: &[u8] = b"{}";

/// The descriptor of [`EMPTY_JSON`].
pub(crate) fn empty_descriptor() -> Descriptor {
    Descriptor::of(ocicat_oci::media_types::OCI_EMPTY, EMPTY_JSON)
}

/// A timestamp `days` days and `minutes` minutes after the data set's fixed epoch, 2024-01-15T09:00:00Z.
pub(crate) fn timestamp(days: u32, minutes: u32) -> String {
    // 2024-01-15 is day 19737 of the Unix epoch.
    let minutes_after_midnight = 9 * 60 + minutes;
    let (year, month, day) = civil_from_days(19_737 + i64::from(days) + i64::from(minutes_after_midnight / 1440));
    let minute_of_day = minutes_after_midnight % 1440;
    let (hour, minute) = (minute_of_day / 60, minute_of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z")
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days_since_epoch: i64) -> (i64, u32, u32) {
    let shifted = days_since_epoch + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 { month_index + 3 } else { month_index - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_descriptor_has_the_well_known_digest() {
        let descriptor = empty_descriptor();
        assert_eq!(descriptor.digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        assert_eq!(descriptor.size, 2);
    }

    #[test]
    fn timestamps_count_days_and_minutes_from_the_epoch() {
        assert_eq!(timestamp(0, 0), "2024-01-15T09:00:00Z");
        assert_eq!(timestamp(17, 90), "2024-02-01T10:30:00Z");
        assert_eq!(timestamp(45, 0), "2024-02-29T09:00:00Z");
        assert_eq!(timestamp(351, 0), "2024-12-31T09:00:00Z");
        assert_eq!(timestamp(352, 15 * 60), "2025-01-02T00:00:00Z");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }

    #[test]
    fn helm_style_manifest_omits_media_type_and_empty_fields() {
        let mut manifest = ImageManifest::oci(empty_descriptor(), vec![]);
        manifest.media_type = None;
        let text = String::from_utf8(manifest.to_bytes().to_vec()).unwrap();
        assert!(!text.contains("mediaType\":\"application/vnd.oci.image.manifest"), "{text}");
        assert!(!text.contains("subject") && !text.contains("annotations"), "{text}");
        assert_eq!(manifest.push_media_type(), ocicat_oci::media_types::OCI_MANIFEST);
    }
}
