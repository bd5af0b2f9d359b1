//! What a repository's artifacts say about each other, computed once its walk is complete:
//! referrer counts by kind, the newest scan's findings, end of life, and which kinds are attached
//! (for `has:`). Referrers are matched by `subject`, by cosign `sha256-<hex>.sig|.att|.sbom` tags,
//! and by buildx attestation manifests inside an index.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use ocicat_catalog::{
    ArtifactDoc, AttachedAnnotation, ReferrerSummary, TrustSummary, Vulnerabilities, cosign_tag_subject,
};
use ocicat_trust::Policy;

/// The annotation Microsoft's lifecycle referrers carry (`yyyy-MM-dd` or RFC 3339).
const END_OF_LIFE_ANNOTATION: &str = "vnd.microsoft.artifact.lifecycle.end-of-life.date";

/// Applies every summary to `artifacts` (one repository, complete); `from_api` holds the
/// digests the OCI referrers API listed during the walk, `policies` the trust policies that
/// cover the repository.
pub(crate) fn summarise(artifacts: &mut [ArtifactDoc], from_api: &HashSet<String>, policies: &[&Policy]) {
    apply_descriptor_annotations(artifacts);
    apply_attached_annotations(artifacts);
    apply_end_of_life(artifacts);
    apply_referrers(artifacts, policies);
    apply_referrer_sources(artifacts, from_api);
    apply_describes(artifacts);
}

/// Names, on each SBOM and scan, the artifacts whose impact it tells: what it refers to, and the
/// indexes of this repository that list that (an image's packages are its index's too).
fn apply_describes(artifacts: &mut [ArtifactDoc]) {
    let mut parents: HashMap<String, Vec<String>> = HashMap::new();
    for artifact in artifacts.iter().filter(|artifact| !artifact.referrers_index) {
        for child in &artifact.children {
            parents.entry(child.digest.clone()).or_default().push(artifact.digest.clone());
        }
    }
    for artifact in artifacts.iter_mut() {
        artifact.describes.clear();
        let Some(subject) = artifact.refers_to.clone() else { continue };
        if !artifact.has_facts() {
            continue;
        }
        let key = |digest: &str| ocicat_catalog::artifact_key(&artifact.registry, &artifact.repository, digest);
        let mut described = vec![key(&subject)];
        described.extend(parents.get(&subject).into_iter().flatten().map(|parent| key(parent)));
        described.sort();
        described.dedup();
        artifact.describes = described;
    }
}

/// Records how each referrer was found, for the referrers tree (several ways may apply).
fn apply_referrer_sources(artifacts: &mut [ArtifactDoc], from_api: &HashSet<String>) {
    let in_fallback: HashSet<String> = artifacts
        .iter()
        .filter(|artifact| artifact.referrers_index)
        .flat_map(|artifact| artifact.children.iter().map(|child| child.digest.clone()))
        .collect();
    let attestations: HashSet<String> = artifacts
        .iter()
        .flat_map(|artifact| &artifact.children)
        .filter(|child| child.attests.is_some())
        .map(|child| child.digest.clone())
        .collect();
    for artifact in artifacts.iter_mut() {
        let mut sources = Vec::new();
        if artifact.refers_to.is_some() {
            let digest = artifact.digest.as_str();
            if from_api.contains(digest) {
                sources.push("referrers API");
            }
            if in_fallback.contains(digest) {
                sources.push("fallback tag");
            }
            if artifact.tags.iter().any(|tag| cosign_tag_subject(tag).is_some()) {
                sources.push("cosign tag");
            }
            if attestations.contains(digest) {
                sources.push("attestation manifest");
            }
            if sources.is_empty() {
                sources.push("subject field");
            }
        }
        artifact.referrer_sources = sources.into_iter().map(str::to_owned).collect();
    }
}

/// Copies the annotations an index puts on a child's descriptor onto the child's document (the
/// first index to name a key wins; the child's own annotations win at search time).
fn apply_descriptor_annotations(artifacts: &mut [ArtifactDoc]) {
    let mut from_indexes: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    for artifact in artifacts.iter().filter(|artifact| !artifact.referrers_index) {
        for child in artifact.children.iter().filter(|child| !child.annotations.is_empty()) {
            let known = from_indexes.entry(child.digest.clone()).or_default();
            for (key, value) in &child.annotations {
                known.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    for artifact in artifacts.iter_mut() {
        artifact.descriptor_annotations = from_indexes.remove(&artifact.digest).unwrap_or_default();
    }
}

/// Annotations a referrer carries about itself, not about its subject.
const ABOUT_THE_REFERRER: [&str; 2] = [CREATED_ANNOTATION, ocicat_oci::ATTACHED_BY];
const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// True for a referrer that carries annotations and nothing else: no layer but the empty
/// descriptor, and a kind that means nothing more (a lifecycle referrer is read on its own).
fn carries_only_annotations(artifact: &ArtifactDoc) -> bool {
    artifact.subject.is_some()
        && artifact.kind == ocicat_oci::ArtifactKind::Other
        && artifact.layers.iter().all(|layer| layer.media_type == ocicat_oci::media_types::OCI_EMPTY)
        && artifact.annotations.keys().any(|key| !ABOUT_THE_REFERRER.contains(&key.as_str()))
}

/// Gives each artifact the annotations its annotation-only referrers carry; for a key several
/// name, the newest referrer (by creation time, then digest) decides.
fn apply_attached_annotations(artifacts: &mut [ArtifactDoc]) {
    let mut attached: HashMap<String, BTreeMap<String, AttachedAnnotation>> = HashMap::new();
    for referrer in artifacts.iter().filter(|artifact| carries_only_annotations(artifact)) {
        let Some(subject) = referrer.subject.clone() else { continue };
        let by = referrer.annotations.get(ocicat_oci::ATTACHED_BY).cloned();
        let known = attached.entry(subject).or_default();
        for (key, value) in &referrer.annotations {
            if ABOUT_THE_REFERRER.contains(&key.as_str()) {
                continue;
            }
            let candidate = AttachedAnnotation {
                value: value.clone(),
                referrer: referrer.digest.clone(),
                by: by.clone(),
                at: referrer.created,
            };
            let newer = known.get(key).is_none_or(|old| (candidate.at, &candidate.referrer) > (old.at, &old.referrer));
            if newer {
                known.insert(key.clone(), candidate);
            }
        }
    }
    for artifact in artifacts.iter_mut() {
        artifact.lends_annotations = carries_only_annotations(artifact);
        artifact.attached_annotations = attached.remove(&artifact.digest).unwrap_or_default();
    }
}

#[derive(Default)]
struct Attached {
    counts: BTreeMap<String, u64>,
    /// The verdicts on the attached signatures.
    trust: TrustSummary,
    /// The newest readable scan: (its date, its digest) orders them.
    newest_scan: Option<(Option<DateTime<Utc>>, Vulnerabilities)>,
}

fn apply_referrers(artifacts: &mut [ArtifactDoc], policies: &[&Policy]) {
    // Buildx attestation manifests attest the image their index entry names.
    let attests: HashMap<String, String> = artifacts
        .iter()
        .flat_map(|artifact| &artifact.children)
        .filter_map(|child| Some((child.digest.clone(), child.attests.clone()?)))
        .collect();
    for artifact in artifacts.iter_mut() {
        artifact.refers_to = artifact
            .subject
            .clone()
            .or_else(|| artifact.tags.iter().find_map(|tag| cosign_tag_subject(tag)))
            .or_else(|| attests.get(&artifact.digest).cloned());
        // A signature's verdicts: over the artifact it is attached to, from what it holds; a
        // signed attestation's too (an unsigned one, like buildx's, gets none).
        artifact.verdicts = match &artifact.refers_to {
            Some(subject) if artifact.kind == ocicat_oci::ArtifactKind::Signature => {
                ocicat_trust::verify_all(&artifact.signature_evidence, subject, policies)
            }
            Some(subject)
                if artifact.kind == ocicat_oci::ArtifactKind::Attestation
                    && !artifact.signature_evidence.is_empty() =>
            {
                ocicat_trust::verify_all(&artifact.signature_evidence, subject, policies)
            }
            _ => Vec::new(),
        };
    }
    let mut attached: HashMap<String, Attached> = HashMap::new();
    for artifact in artifacts.iter() {
        if let Some(subject) = artifact.refers_to.clone() {
            let entry = attached.entry(subject).or_default();
            *entry.counts.entry(artifact.kind.as_str().to_owned()).or_default() += 1;
            for verdict in &artifact.verdicts {
                entry.trust.add(verdict);
            }
            // An attestation whose statement is an SBOM also counts as one (`has:sbom`).
            let carries_sbom = artifact.kind == ocicat_oci::ArtifactKind::Attestation
                && artifact
                    .annotations
                    .get(ocicat_oci::SIGSTORE_PREDICATE_ANNOTATION)
                    .is_some_and(|predicate| ocicat_oci::is_sbom_predicate(predicate));
            if carries_sbom {
                *entry.counts.entry(ocicat_oci::ArtifactKind::Sbom.as_str().to_owned()).or_default() += 1;
            }
            if let Some(found) = &artifact.scan_findings {
                let date = found.scanned.or(artifact.created);
                let newer = entry
                    .newest_scan
                    .as_ref()
                    .is_none_or(|(known_date, known)| (date, &found.scan) > (*known_date, &known.scan));
                if newer {
                    entry.newest_scan = Some((date, found.clone()));
                }
            }
        }
    }
    for artifact in artifacts.iter_mut() {
        let found = attached.remove(&artifact.digest).unwrap_or_default();
        artifact.attached = found.counts.keys().cloned().collect();
        artifact.referrers = ReferrerSummary {
            counts: found.counts,
            vulnerabilities: found.newest_scan.map(|(_, vulnerabilities)| vulnerabilities),
            trust: found.trust,
        };
    }
}

/// Sets each artifact's end of life: what the newest lifecycle referrer whose subject it is says
/// (a newer one revokes or moves an older one), else the earliest date its own annotations name.
fn apply_end_of_life(artifacts: &mut [ArtifactDoc]) {
    // An artifact's own annotation: the earliest date it names.
    let mut own: HashMap<String, DateTime<Utc>> = HashMap::new();
    // Lifecycle referrers: the newest one (by its creation time, then digest) decides, as
    // Microsoft's tooling reads them; one without a readable date takes the end of life back.
    let mut newest: HashMap<String, (Option<DateTime<Utc>>, String, Option<DateTime<Utc>>)> = HashMap::new();
    for artifact in artifacts.iter() {
        let date = artifact.annotations.get(END_OF_LIFE_ANNOTATION).and_then(|value| crate::mapping::parse_date(value));
        if artifact.kind == ocicat_oci::ArtifactKind::Lifecycle {
            let Some(subject) = artifact.subject.clone() else { continue };
            let key = (artifact.created, artifact.digest.clone());
            let newer = newest.get(&subject).is_none_or(|(created, digest, _)| key > (*created, digest.clone()));
            if newer {
                newest.insert(subject, (key.0, key.1, date));
            }
        } else if let Some(date) = date {
            own.entry(artifact.digest.clone()).and_modify(|known| *known = (*known).min(date)).or_insert(date);
        }
    }
    for artifact in artifacts.iter_mut() {
        artifact.end_of_life = match newest.get(&artifact.digest) {
            Some((_, _, date)) => *date,
            None => own.get(&artifact.digest).copied(),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotation_referrers_lend_their_annotations_to_the_subject_the_newest_deciding() {
        let note = |digest: &str, created: &str, pairs: &[(&str, &str)]| {
            let mut referrer = doc(digest, "other");
            referrer.subject = Some("sha256:app".into());
            referrer.created = Some(created.parse().unwrap());
            referrer.layers = vec![ocicat_catalog::LayerRef {
                media_type: ocicat_oci::media_types::OCI_EMPTY.into(),
                digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a".into(),
                size: 2,
                title: None,
                annotations: Default::default(),
            }];
            referrer.annotations = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            referrer
        };
        let mut with_file = note("sha256:file", "2026-05-01T00:00:00Z", &[("team", "ignored")]);
        with_file.layers[0].media_type = "text/plain".into();
        let mut artifacts = vec![
            doc("sha256:app", "image"),
            note(
                "sha256:one",
                "2026-01-01T00:00:00Z",
                &[("team", "core"), ("ticket", "OPS-1"), (ocicat_oci::ATTACHED_BY, "alice")],
            ),
            note("sha256:two", "2026-02-01T00:00:00Z", &[("team", "platform"), (CREATED_ANNOTATION, "x")]),
            with_file,
        ];
        summarise(&mut artifacts, &HashSet::new(), &[]);
        let attached = &artifacts[0].attached_annotations;
        assert_eq!(attached.keys().collect::<Vec<_>>(), ["team", "ticket"], "{attached:?}");
        assert_eq!((attached["team"].value.as_str(), attached["team"].referrer.as_str()), ("platform", "sha256:two"));
        assert_eq!(attached["ticket"].by.as_deref(), Some("alice"));
        assert!(artifacts[1].attached_annotations.is_empty());
        assert!(artifacts[1].lends_annotations && !artifacts[3].lends_annotations && !artifacts[0].lends_annotations);
    }

    #[test]
    fn the_newest_lifecycle_referrer_decides_and_one_without_a_date_revokes() {
        let lifecycle = |digest: &str, created: &str, date: Option<&str>| {
            let mut referrer = doc(digest, "lifecycle");
            referrer.subject = Some("sha256:app".into());
            referrer.created = Some(created.parse().unwrap());
            if let Some(date) = date {
                referrer.annotations.insert(END_OF_LIFE_ANNOTATION.into(), date.into());
            }
            referrer
        };
        let mut artifacts = vec![
            doc("sha256:app", "image"),
            lifecycle("sha256:old", "2026-01-01T00:00:00Z", Some("2026-03-01")),
            lifecycle("sha256:new", "2026-02-01T00:00:00Z", Some("2027-06-30")),
        ];
        apply_end_of_life(&mut artifacts);
        assert_eq!(artifacts[0].end_of_life.map(|date| date.date_naive().to_string()).as_deref(), Some("2027-06-30"));
        artifacts.push(lifecycle("sha256:revoke", "2026-03-01T00:00:00Z", None));
        apply_end_of_life(&mut artifacts);
        assert_eq!(artifacts[0].end_of_life, None, "a newer referrer without a date takes it back");
    }

    fn doc(digest: &str, kind: &str) -> ArtifactDoc {
        serde_json::from_value(serde_json::json!({
            "registry": "r", "repository": "x", "digest": digest, "tags": [], "kind": kind,
            "media_type": "application/vnd.oci.image.manifest.v1+json", "artifact_type": null,
            "platforms": [], "size": 1, "created": null, "subject": null, "annotations": {}, "labels": {},
            "config_media_type": null, "layers": [], "children": [], "indexed_at": "2024-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn scan(digest: &str, subject: &str, day: u32, critical: u64) -> ArtifactDoc {
        let mut scan = doc(digest, "scan");
        scan.subject = Some(subject.into());
        scan.scan_findings = Some(Vulnerabilities {
            scan: digest.into(),
            scanned: Some(format!("2024-03-{day:02}T00:00:00Z").parse().unwrap()),
            critical,
            ..Vulnerabilities::default()
        });
        scan
    }

    #[test]
    fn counts_every_source_and_keeps_the_newest_scan() {
        let image = "sha256:".to_owned() + &"a".repeat(64);
        let mut signature = doc("sha256:s", "signature");
        signature.tags = vec![format!("sha256-{}.sig", "a".repeat(64))];
        let mut sbom = doc("sha256:b", "sbom");
        sbom.subject = Some(image.clone());
        let mut index = doc("sha256:i", "index");
        index.children.push(ocicat_catalog::ChildRef {
            media_type: "m".into(),
            digest: "sha256:att".into(),
            size: 1,
            platform: None,
            attests: Some(image.clone()),
            annotations: [("vnd.docker.reference.type".to_string(), "attestation-manifest".to_string())].into(),
        });
        let mut artifacts = vec![
            doc("sha256:att", "attestation"),
            doc(&image, "image"),
            signature,
            sbom,
            index,
            scan("sha256:old", &image, 1, 5),
            scan("sha256:new", &image, 9, 2),
        ];
        summarise(&mut artifacts, &HashSet::from(["sha256:b".to_string()]), &[]);
        let summary = &artifacts[1].referrers;
        assert_eq!(summary.counts.get("signature"), Some(&1));
        assert_eq!(summary.counts.get("sbom"), Some(&1));
        assert_eq!(summary.counts.get("attestation"), Some(&1));
        assert_eq!(summary.counts.get("scan"), Some(&2));
        assert!(summary.signed() && summary.has_sbom());
        let newest = summary.vulnerabilities.as_ref().unwrap();
        assert_eq!((newest.scan.as_str(), newest.critical), ("sha256:new", 2));
        assert_eq!(artifacts[1].attached, ["attestation", "sbom", "scan", "signature"]);
        assert_eq!(artifacts[2].referrers, ReferrerSummary::default());
        assert_eq!(artifacts[0].refers_to.as_deref(), Some(image.as_str()), "buildx attestation");
        assert_eq!(artifacts[2].refers_to.as_deref(), Some(image.as_str()), "cosign tag");
        assert_eq!(artifacts[0].referrer_sources, ["attestation manifest"]);
        assert_eq!(artifacts[2].referrer_sources, ["cosign tag"]);
        assert_eq!(artifacts[3].referrer_sources, ["referrers API"]);
        assert!(artifacts[1].referrer_sources.is_empty(), "the image refers to nothing");
        assert_eq!(
            artifacts[0].descriptor_annotations.get("vnd.docker.reference.type").unwrap(),
            "attestation-manifest"
        );
    }

    #[test]
    fn an_attestation_carrying_an_sbom_counts_as_an_sbom_too() {
        let image = "sha256:".to_owned() + &"c".repeat(64);
        let attestation = |digest: &str, predicate: &str| {
            let mut attestation = doc(digest, "attestation");
            attestation.subject = Some(image.clone());
            attestation.annotations.insert(ocicat_oci::SIGSTORE_PREDICATE_ANNOTATION.into(), predicate.into());
            attestation
        };
        let mut artifacts = vec![
            doc(&image, "image"),
            attestation("sha256:cdx", "https://cyclonedx.org/bom"),
            attestation("sha256:slsa", "https://slsa.dev/provenance/v1"),
        ];
        summarise(&mut artifacts, &HashSet::new(), &[]);
        let summary = &artifacts[0].referrers;
        assert_eq!(summary.counts.get("attestation"), Some(&2));
        assert_eq!(summary.counts.get("sbom"), Some(&1), "only the CycloneDX statement is an SBOM");
        assert!(summary.has_sbom());
    }
}
