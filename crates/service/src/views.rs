//! Catalog documents mapped to the pages' models: tag rows with badges, the artifact view with
//! referrers, parents and children, annotations with links only for http(s).

use std::collections::BTreeMap;

use ocicat_catalog::ArtifactDoc;
use serde_json::Value;

use crate::model::{
    Annotation, ArtifactView, AttachedAnnotationView, Badges, EnvVar, HistoryStep, Part, ReferrerNodeView, Related,
    RunConfig, SignatureBadge, TagRow, Verification, VulnerabilityCounts, is_http_link, short_digest,
};

pub(crate) use ocicat_catalog::is_version_tag;

/// A related artifact as the page lists it.
pub(crate) fn related(artifact: &ArtifactDoc) -> Related {
    Related {
        digest: artifact.digest.clone(),
        kind: artifact.kind.as_str().to_owned(),
        artifact_type: artifact.artifact_type.clone().unwrap_or_else(|| artifact.media_type.clone()),
        created: artifact.created.map(|date| date.to_rfc3339()),
        sources: artifact.referrer_sources.clone(),
        signature: own_verdicts(artifact),
    }
}

/// What a signature artifact's own verdicts say together (`None` for anything else).
fn own_verdicts(artifact: &ArtifactDoc) -> Option<SignatureBadge> {
    let mut summary = ocicat_catalog::TrustSummary::default();
    artifact.verdicts.iter().for_each(|verdict| summary.add(verdict));
    signature_badge(&summary)
}

/// The badge of verdicts rolled up (`None` without any).
fn signature_badge(summary: &ocicat_catalog::TrustSummary) -> Option<SignatureBadge> {
    summary.status.map(|status| SignatureBadge {
        status: status.as_str().to_owned(),
        policies: summary.policies.clone(),
        reason: summary.reason.clone().unwrap_or_default(),
    })
}

/// The badges of one artifact, from the referrer summary the crawler stored on it.
fn badges(artifact: &ArtifactDoc, today: &str) -> Badges {
    summary_badges(&artifact.referrers, artifact.end_of_life, today)
}

/// The badges of one artifact as of today (search results).
pub(crate) fn artifact_badges(artifact: &ArtifactDoc) -> Badges {
    badges(artifact, &today())
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
        signature: signature_badge(&summary.trust),
        sbom: summary.has_sbom(),
        scans: count("scan"),
        attestations: count("attestation"),
        expired: end_of_life.as_deref().is_some_and(|date| date < today),
        end_of_life,
        vulnerabilities: summary.vulnerabilities.as_ref().map(vulnerability_counts),
    }
}

/// A row of the paged tag list.
pub(crate) fn tag_row(entry: ocicat_catalog::TagEntry) -> TagRow {
    TagRow {
        badges: summary_badges(&entry.referrers, entry.end_of_life, &today()),
        created: entry.created.map(|date| date.to_rfc3339()),
        tag: Some(entry.tag),
        digest: entry.digest,
        kind: entry.kind.as_str().to_owned(),
        platforms: entry.platforms,
        size: entry.size,
    }
}

/// A referrers tree node for the page and the API.
pub(crate) fn referrer_node(node: ocicat_catalog::ReferrerNode) -> ReferrerNodeView {
    ReferrerNodeView {
        artifact: related(&node.artifact),
        annotations: annotation_list(&node.artifact.annotations),
        referrers: node.referrers.into_iter().map(referrer_node).collect(),
    }
}

/// A scan's findings as the pages show them.
pub(crate) fn vulnerability_counts(found: &ocicat_catalog::Vulnerabilities) -> VulnerabilityCounts {
    VulnerabilityCounts {
        critical: found.critical,
        high: found.high,
        medium: found.medium,
        low: found.low,
        unknown: found.unknown,
    }
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn annotation_list(map: &BTreeMap<String, String>) -> Vec<Annotation> {
    map.iter()
        .map(|(key, value)| {
            let is_link = is_http_link(value);
            Annotation { key: key.clone(), value: value.clone(), is_link }
        })
        .collect()
}

/// Most history steps shown (a config is capped at 1 MiB by the crawler, and still may list
/// thousands).
const MAX_HISTORY: usize = 500;

/// The build history in an image config, oldest first.
fn history(config: &Value) -> Vec<HistoryStep> {
    let text = |step: &Value, key: &str| step.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    config
        .get("history")
        .and_then(|history| history.as_array())
        .into_iter()
        .flatten()
        .take(MAX_HISTORY)
        .map(|step| HistoryStep {
            created_by: text(step, "created_by").unwrap_or_default(),
            created: text(step, "created"),
            empty_layer: step.get("empty_layer").and_then(|v| v.as_bool()).unwrap_or(false),
            comment: text(step, "comment"),
        })
        .collect()
}

/// Most entries read from each list of a run configuration (`Env`, `Cmd`, `ExposedPorts`…).
const MAX_RUN_ENTRIES: usize = 256;
/// Longest run-configuration value kept, in characters (as for annotation values).
const MAX_RUN_TEXT: usize = 4096;

/// Reads values out of an image config's `config` object, capping lists and strings and
/// remembering whether it had to.
#[derive(Default)]
struct RunReader {
    truncated: bool,
}

impl RunReader {
    /// `text` cut at [`MAX_RUN_TEXT`] characters, with an ellipsis when it was.
    fn cut(&mut self, text: &str) -> String {
        let mut kept: String = text.chars().take(MAX_RUN_TEXT).collect();
        if kept.len() < text.len() {
            self.truncated = true;
            kept.push('…');
        }
        kept
    }

    /// A string value (an empty one counts as unset), cut.
    fn text(&mut self, value: Option<&Value>) -> Option<String> {
        let text = value?.as_str().filter(|text| !text.is_empty())?;
        Some(self.cut(text))
    }

    /// A list of strings, empty ones kept (they are arguments too); a lone non-empty string is
    /// a list of one, as Docker reads `Cmd`.
    fn list(&mut self, value: Option<&Value>) -> Vec<String> {
        match value {
            Some(Value::Array(items)) => {
                self.truncated |= items.len() > MAX_RUN_ENTRIES;
                items.iter().take(MAX_RUN_ENTRIES).filter_map(Value::as_str).map(|item| self.cut(item)).collect()
            }
            single @ Some(Value::String(_)) => self.text(single).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// The keys of an object used as a set (`ExposedPorts`, `Volumes`), sorted.
    fn keys(&mut self, value: Option<&Value>) -> Vec<String> {
        let Some(Value::Object(map)) = value else { return Vec::new() };
        self.truncated |= map.len() > MAX_RUN_ENTRIES;
        let mut keys: Vec<String> = map.keys().take(MAX_RUN_ENTRIES).map(|key| self.cut(key)).collect();
        keys.sort();
        keys
    }
}

/// How the image runs (`config` in its image config), or `None` when it sets none of it.
fn run_config(config: &Value) -> Option<RunConfig> {
    let settings = config.get("config")?;
    let mut reader = RunReader::default();
    let env = reader
        .list(settings.get("Env"))
        .into_iter()
        .filter(|entry| !entry.is_empty())
        .map(|entry| match entry.split_once('=') {
            Some((name, value)) => EnvVar { name: name.to_owned(), value: value.to_owned() },
            None => EnvVar { name: entry, value: String::new() },
        })
        .collect();
    let run = RunConfig {
        entrypoint: reader.list(settings.get("Entrypoint")),
        cmd: reader.list(settings.get("Cmd")),
        env,
        working_dir: reader.text(settings.get("WorkingDir")),
        user: reader.text(settings.get("User")),
        exposed_ports: reader.keys(settings.get("ExposedPorts")),
        volumes: reader.keys(settings.get("Volumes")),
        stop_signal: reader.text(settings.get("StopSignal")),
        truncated: reader.truncated,
    };
    (!run.is_empty()).then_some(run)
}

/// Most bytes of raw JSON a page shows when the document is opened: a manifest may be
/// megabytes (the JSON API serves it whole).
const MAX_SHOWN_JSON: usize = 64 * 1024;

/// Pretty-prints `json`, cut at [`MAX_SHOWN_JSON`] with a note saying so.
pub(crate) fn pretty(json: &str) -> String {
    let mut text = serde_json::from_str::<serde_json::Value>(json)
        .and_then(|value| serde_json::to_string_pretty(&value))
        .unwrap_or_else(|_| json.to_owned());
    if text.len() > MAX_SHOWN_JSON {
        let mut cut = MAX_SHOWN_JSON;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(&format!("\n… cut here: the document is {} bytes", json.len()));
    }
    text
}

/// True for a config the artifact page and the API offer as JSON: a JSON media type but the
/// empty descriptor's, small enough to be read whole.
pub(crate) fn shows_config(config: &ocicat_catalog::LayerRef) -> bool {
    ocicat_oci::media_types::is_json_config(&config.media_type) && config.size <= ocicat_content::MAX_RAW_CONFIG_BYTES
}

/// What the artifact page shows besides the artifact itself, read by the catalog lookups.
pub(crate) struct Surroundings {
    /// What it refers to (its subject, cosign target or attested image), if that is indexed.
    pub(crate) subject: Option<Related>,
    /// Indexes that list it.
    pub(crate) parents: Vec<ArtifactDoc>,
    /// Its direct referrers.
    pub(crate) referrers: Vec<ArtifactDoc>,
    /// Which of its children (for an index) are indexed, so they can be links.
    pub(crate) known_children: std::collections::HashSet<String>,
}

/// Builds the artifact page.
pub(crate) fn artifact_view(host: &str, artifact: &ArtifactDoc, around: Surroundings) -> ArtifactView {
    let config = artifact.config_summary.as_deref().and_then(|text| serde_json::from_str::<Value>(text).ok());
    let subject = artifact.refers_to.clone().map(|digest| {
        around.subject.clone().unwrap_or(Related {
            digest,
            kind: "unknown".into(),
            artifact_type: "not in this repository".into(),
            created: None,
            sources: Vec::new(),
            signature: None,
        })
    });
    let mut referrer_types: Vec<String> = around
        .referrers
        .iter()
        .map(|referrer| referrer.artifact_type.clone().unwrap_or_else(|| referrer.media_type.clone()))
        .collect();
    referrer_types.sort();
    referrer_types.dedup();
    ArtifactView {
        registry: artifact.registry.clone(),
        host: host.to_owned(),
        pull_command: crate::model::artifact_pull_command(
            host,
            &artifact.repository,
            &artifact.digest,
            artifact.kind.as_str(),
            &artifact.tags,
        ),
        discover_command: (!around.referrers.is_empty())
            .then(|| crate::model::discover_command(host, &artifact.repository, &artifact.digest)),
        repository: artifact.repository.clone(),
        digest: artifact.digest.clone(),
        tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
        kind: artifact.kind.as_str().to_owned(),
        media_type: artifact.media_type.clone(),
        artifact_type: artifact.artifact_type.clone(),
        config_media_type: artifact.config_media_type.clone(),
        platforms: artifact.platforms.clone(),
        size: artifact.size,
        created: artifact.created.map(|date| date.to_rfc3339()),
        annotations: annotation_list(&artifact.annotations),
        labels: annotation_list(&artifact.labels),
        attached_annotations: artifact
            .attached_annotations
            .iter()
            .map(|(key, attached)| AttachedAnnotationView {
                annotation: Annotation {
                    key: key.clone(),
                    value: attached.value.clone(),
                    is_link: is_http_link(&attached.value),
                },
                referrer: attached.referrer.clone(),
                by: attached.by.clone(),
                at: attached.at.map(|at| at.to_rfc3339()),
            })
            .collect(),
        descriptor_annotations: annotation_list(&artifact.descriptor_annotations),
        layers: artifact
            .layers
            .iter()
            .map(|layer| Part {
                media_type: layer.media_type.clone(),
                digest: layer.digest.clone(),
                size: layer.size,
                label: layer.title.clone(),
                linked: false,
                annotations: Vec::new(),
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
                    .map(|d| format!("attestation for {}", short_digest(d)))
                    .or_else(|| child.platform.clone()),
                linked: around.known_children.contains(&child.digest),
                annotations: annotation_list(&child.annotations),
            })
            .collect(),
        subject,
        referrer_count: around.referrers.len(),
        referrer_types,
        parents: around.parents.iter().map(related).collect(),
        badges: badges(artifact, &today()),
        history: config.as_ref().map(history).unwrap_or_default(),
        run_config: config.as_ref().and_then(run_config),
        manifest_size: artifact.manifest_size,
        config_size: artifact.config.as_ref().filter(|config| shows_config(config)).map(|config| config.size),
        crawl_error: artifact.crawl_error.clone(),
        verifications: artifact.verdicts.iter().map(verification).collect(),
    }
}

/// A verdict as the API and pages show it.
pub(crate) fn verification(verdict: &ocicat_trust::Verdict) -> Verification {
    Verification {
        status: verdict.status.as_str().to_owned(),
        policy: verdict.policy.clone(),
        identity: verdict.identity.clone(),
        issuer: verdict.issuer.clone(),
        reason: verdict.reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_steps_come_from_the_config_in_order() {
        let config = r#"{"history":[{"created":"2024-01-01T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:abc in /"},
            {"created_by":"ENV PATH=/usr/bin","empty_layer":true},{"comment":"buildkit.dockerfile.v0"}]}"#;
        let steps = history(&serde_json::from_str(config).unwrap());
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].created.as_deref(), Some("2024-01-01T00:00:00Z"));
        assert!(steps[1].empty_layer && !steps[0].empty_layer);
        assert_eq!(steps[2].created_by, "");
        assert_eq!(steps[2].comment.as_deref(), Some("buildkit.dockerfile.v0"));
        assert!(history(&serde_json::json!({"history": "odd"})).is_empty());
    }

    #[test]
    fn the_run_configuration_comes_from_the_config_object() {
        let config = serde_json::json!({"config": {
            "Entrypoint": ["/docker-entrypoint.sh"], "Cmd": ["nginx", "-g", "daemon off;"],
            "Env": ["PATH=/usr/bin:/bin", "EMPTY=", "A=b=c", "BARE"], "WorkingDir": "/srv", "User": "101:101",
            "ExposedPorts": {"8080/tcp": {}, "443/tcp": {}}, "Volumes": {"/data": {}}, "StopSignal": "SIGQUIT",
            "Labels": {"a": "b"}
        }});
        let run = run_config(&config).expect("a run configuration");
        assert_eq!(run.command(), "/docker-entrypoint.sh nginx -g 'daemon off;'");
        let env: Vec<(&str, &str)> = run.env.iter().map(|var| (var.name.as_str(), var.value.as_str())).collect();
        assert_eq!(env, [("PATH", "/usr/bin:/bin"), ("EMPTY", ""), ("A", "b=c"), ("BARE", "")]);
        assert_eq!((run.working_dir.as_deref(), run.user.as_deref()), (Some("/srv"), Some("101:101")));
        assert_eq!(run.exposed_ports, ["443/tcp", "8080/tcp"]);
        assert_eq!(run.volumes, ["/data"]);
        assert_eq!(run.stop_signal.as_deref(), Some("SIGQUIT"));
        assert!(!run.truncated);
        // Docker also accepts a string for `Cmd`; an empty `WorkingDir` is unset.
        let shell_form = run_config(&serde_json::json!({"config": {"Cmd": "echo hi", "WorkingDir": ""}})).unwrap();
        assert_eq!((shell_form.cmd.as_slice(), shell_form.working_dir), (["echo hi".to_owned()].as_slice(), None));
        let empty_argument = run_config(&serde_json::json!({"config": {"Cmd": ["printf", ""]}})).unwrap();
        assert_eq!(empty_argument.command(), "printf ''", "an empty argument is still an argument");
    }

    #[test]
    fn a_config_without_run_settings_has_no_run_configuration() {
        assert_eq!(run_config(&serde_json::json!({"architecture": "amd64"})), None);
        assert_eq!(run_config(&serde_json::json!({"config": {"Labels": {"a": "b"}, "Env": null}})), None);
        assert_eq!(run_config(&serde_json::json!({"config": {"Cmd": [1, {"x": 2}], "User": 0}})), None);
        assert_eq!(run_config(&serde_json::json!({"config": "odd"})), None);
    }

    #[test]
    fn run_configuration_lists_and_values_are_capped() {
        let env: Vec<String> = (0..1000).map(|n| format!("VAR{n}=x")).collect();
        let config = serde_json::json!({"config": {"Env": env, "User": "u".repeat(10_000)}});
        let run = run_config(&config).unwrap();
        assert_eq!(run.env.len(), MAX_RUN_ENTRIES);
        assert_eq!(run.user.as_ref().unwrap().chars().count(), MAX_RUN_TEXT + 1, "cut, with an ellipsis");
        assert!(run.truncated);
        let ports: serde_json::Map<String, Value> =
            (0..1000).map(|n| (format!("{n}/tcp"), serde_json::json!({}))).collect();
        let run = run_config(&serde_json::json!({"config": {"ExposedPorts": ports}})).unwrap();
        assert_eq!(run.exposed_ports.len(), MAX_RUN_ENTRIES);
        assert!(run.truncated);
    }

    #[test]
    fn huge_json_is_cut_with_a_note() {
        let huge = format!("{{\"a\":\"{}\"}}", "é".repeat(60_000));
        let shown = pretty(&huge);
        assert!(shown.len() < MAX_SHOWN_JSON + 100, "{}", shown.len());
        assert!(shown.ends_with(&format!("the document is {} bytes", huge.len())));
        assert_eq!(pretty("{\"a\":1}"), "{\n  \"a\": 1\n}");
    }

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
