//! Catalog documents mapped to the pages' models: tag rows with badges, the artifact view with
//! referrers, parents and children, annotations with links only for http(s).

use std::collections::BTreeMap;

use ocicat_catalog::ArtifactDoc;

use crate::model::{Annotation, ArtifactView, Badges, Part, Related, TagRow};

pub(crate) use ocicat_catalog::is_version_tag;

/// The digest an artifact refers to: its `subject`, its cosign tag's digest, or the image its
/// buildx attestation manifest attests (the crawler resolved it).
fn effective_subject(artifact: &ArtifactDoc) -> Option<String> {
    artifact.refers_to.clone()
}

fn related(artifact: &ArtifactDoc) -> Related {
    Related {
        digest: artifact.digest.clone(),
        kind: artifact.kind.clone(),
        artifact_type: artifact.artifact_type.clone().unwrap_or_else(|| artifact.media_type.clone()),
        created: artifact.created.map(|date| date.to_rfc3339()),
    }
}

/// Referrers of every digest in a repository, from `subject`, cosign tags and buildx attestations.
struct Graph<'a> {
    referrers: BTreeMap<&'a str, Vec<&'a ArtifactDoc>>,
    parents: BTreeMap<&'a str, Vec<&'a ArtifactDoc>>,
}

impl<'a> Graph<'a> {
    fn new(artifacts: &'a [ArtifactDoc], subjects: &'a [Option<String>]) -> Graph<'a> {
        let mut graph = Graph { referrers: BTreeMap::new(), parents: BTreeMap::new() };
        for (artifact, subject) in artifacts.iter().zip(subjects) {
            if let Some(subject) = subject {
                graph.referrers.entry(subject.as_str()).or_default().push(artifact);
            }
            for child in &artifact.children {
                if artifact.referrers_index {
                    continue;
                }
                graph.parents.entry(child.digest.as_str()).or_default().push(artifact);
            }
        }
        graph
    }
}

/// The badges of one artifact, from the referrer summary the crawler stored on it.
fn badges(artifact: &ArtifactDoc, today: &str) -> Badges {
    summary_badges(&artifact.referrers, artifact.end_of_life, today)
}

/// Badges from a referrer summary and an end-of-life date.
fn summary_badges(
    summary: &ocicat_catalog::ReferrerSummary,
    end_of_life: Option<chrono::DateTime<chrono::Utc>>,
    today: &str,
) -> Badges {
    let count = |kind: &str| summary.counts.get(kind).copied().unwrap_or(0).min(u64::from(u32::MAX)) as u32;
    let end_of_life = end_of_life.map(|date| date.format("%Y-%m-%d").to_string());
    Badges {
        signed: summary.signed(),
        sbom: summary.has_sbom(),
        scans: count("scan"),
        attestations: count("attestation"),
        expired: end_of_life.as_deref().is_some_and(|date| date < today),
        end_of_life,
        vulnerabilities: summary.vulnerabilities.as_ref().map(|found| crate::model::VulnerabilityCounts {
            critical: found.critical,
            high: found.high,
            medium: found.medium,
            low: found.low,
            unknown: found.unknown,
        }),
    }
}

/// A row of the paged tag list.
pub(crate) fn tag_row(entry: ocicat_catalog::TagEntry) -> TagRow {
    TagRow {
        badges: summary_badges(&entry.referrers, entry.end_of_life, &today()),
        created: entry.created.map(|date| date.to_rfc3339()),
        tag: Some(entry.tag),
        digest: entry.digest,
        kind: entry.kind,
        platforms: entry.platforms,
        size: entry.size,
    }
}

/// A referrers tree node for the page and the API.
pub(crate) fn referrer_node(node: ocicat_catalog::ReferrerNode) -> crate::model::ReferrerNodeView {
    crate::model::ReferrerNodeView {
        artifact: related(&node.artifact),
        annotations: annotation_list(&node.artifact.annotations),
        referrers: node.referrers.into_iter().map(referrer_node).collect(),
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn annotation_list(map: &BTreeMap<String, String>) -> Vec<Annotation> {
    map.iter()
        .map(|(key, value)| {
            let lower = value.to_ascii_lowercase();
            let is_link = (lower.starts_with("https://") || lower.starts_with("http://"))
                && !value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
            Annotation { key: key.clone(), value: value.clone(), is_link }
        })
        .collect()
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| json.to_owned())
}

/// Builds the artifact page for `digest` from every artifact of its repository.
pub fn artifact_view(host: &str, artifact: &ArtifactDoc, artifacts: &[ArtifactDoc]) -> ArtifactView {
    let subjects: Vec<Option<String>> = artifacts.iter().map(effective_subject).collect();
    let graph = Graph::new(artifacts, &subjects);
    let known = |digest: &str| artifacts.iter().any(|other| other.digest == digest);
    let subject = effective_subject(artifact).map(|digest| {
        artifacts.iter().find(|other| other.digest == digest).map(related).unwrap_or(Related {
            digest,
            kind: "unknown".into(),
            artifact_type: "not in this repository".into(),
            created: None,
        })
    });
    let mut referrers: Vec<Related> =
        graph.referrers.get(artifact.digest.as_str()).into_iter().flatten().map(|r| related(r)).collect();
    referrers.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.digest.cmp(&b.digest)));
    ArtifactView {
        registry: artifact.registry.clone(),
        host: host.to_owned(),
        repository: artifact.repository.clone(),
        digest: artifact.digest.clone(),
        tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
        kind: artifact.kind.clone(),
        media_type: artifact.media_type.clone(),
        artifact_type: artifact.artifact_type.clone(),
        config_media_type: artifact.config_media_type.clone(),
        platforms: artifact.platforms.clone(),
        size: artifact.size,
        created: artifact.created.map(|date| date.to_rfc3339()),
        annotations: annotation_list(&artifact.annotations),
        labels: annotation_list(&artifact.labels),
        layers: artifact
            .layers
            .iter()
            .map(|layer| Part {
                media_type: layer.media_type.clone(),
                digest: layer.digest.clone(),
                size: layer.size,
                label: layer.title.clone(),
                linked: false,
            })
            .collect(),
        children: artifact
            .children
            .iter()
            .map(|child| Part {
                media_type: child.media_type.clone(),
                digest: child.digest.clone(),
                size: child.size,
                label: child
                    .attests
                    .as_ref()
                    .map(|d| format!("attestation for {}", crate::model::short_digest(d)))
                    .or_else(|| child.platform.clone()),
                linked: known(&child.digest),
            })
            .collect(),
        subject,
        referrers,
        parents: graph.parents.get(artifact.digest.as_str()).into_iter().flatten().map(|p| related(p)).collect(),
        badges: badges(artifact, &today()),
        manifest_json: pretty(&artifact.manifest_json),
        config_json: artifact.config_json.as_deref().map(pretty),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_links_are_links() {
        let map: BTreeMap<String, String> = [
            ("a".to_string(), "https://example.com/x".to_string()),
            ("b".to_string(), "javascript:alert(1)".to_string()),
            ("c".to_string(), "data:text/html,<b>".to_string()),
            ("d".to_string(), "https://x\" onmouseover=\"y".to_string()),
        ]
        .into();
        let links: Vec<bool> = annotation_list(&map).iter().map(|a| a.is_link).collect();
        assert_eq!(links, [true, false, false, false]);
    }
}
