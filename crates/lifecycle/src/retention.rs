//! Retention policies, as configured in TOML (`[[retention]]`), and their evaluation: which
//! top-level artifacts of one repository go, each with the rule that decided. Referrers are never
//! chosen here; the delete plan takes the referrers of what goes and leaves those of what stays.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use globset::{Glob, GlobSet, GlobSetBuilder};
use ocicat_catalog::{ArtifactDoc, Scope, ScopePattern, is_version_tag};
use serde::{Deserialize, Serialize};

use crate::expiry;
use crate::model::RetentionChoice;

/// The longest schedule accepted: a year.
const MAX_EVERY_HOURS: u64 = 24 * 366;

/// One retention policy: which repositories it covers, what it keeps and what goes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// The policy's name, `[a-z0-9_-]{1,64}` (audit actor `retention:<name>`).
    pub name: String,
    /// A configured registry name, or `*` for every registry.
    pub registry: String,
    /// Repository pattern: `*` one path segment, `**` any number (default `**`).
    #[serde(default = "everything")]
    pub repositories: String,
    /// Keep the N newest top-level artifacts of each repository.
    #[serde(default)]
    pub keep_newest: Option<usize>,
    /// Only artifacts created more than this many days ago go.
    #[serde(default)]
    pub older_than_days: Option<u64>,
    /// Glob patterns (`release-*`): an artifact with a matching version tag always stays.
    #[serde(default)]
    pub keep_tags: Vec<String>,
    /// Artifacts whose expiry ([`expiry::expires_at`]) has passed go.
    #[serde(default)]
    pub expire_by_annotation: bool,
    /// More annotation (or label) keys holding an expiry date, for `expire_by_annotation`.
    #[serde(default)]
    pub expiry_annotations: Vec<String>,
    /// Run every this many hours; 0 runs only on demand (default 24).
    #[serde(default = "a_day")]
    pub every_hours: u64,
    /// Report what would go without deleting (the default).
    #[serde(default = "yes")]
    pub dry_run: bool,
}

fn everything() -> String {
    "**".into()
}

fn a_day() -> u64 {
    24
}

fn yes() -> bool {
    true
}

/// `[a-z0-9_-]{1,64}`: policy names, and registry names as the server configuration checks them.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_')
}

impl RetentionPolicy {
    /// Checks the name, registry and repository pattern, that at least one rule is set and that
    /// every `keep_tags` pattern compiles. Errors are lowercase and name the policy.
    pub fn validate(&self) -> Result<(), String> {
        let name = &self.name;
        if !valid_name(name) {
            return Err(format!("retention policy name {name:?} must be 1-64 lowercase letters, digits, '-' or '_'"));
        }
        if self.registry != "*" && !valid_name(&self.registry) {
            return Err(format!(
                "retention policy {name}: registry {:?} must be a configured registry name or \"*\"",
                self.registry
            ));
        }
        let repositories = &self.repositories;
        if repositories.is_empty() || repositories.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "retention policy {name}: repositories {repositories:?} must be a non-empty pattern without spaces"
            ));
        }
        if self.keep_newest.is_none() && self.older_than_days.is_none() && !self.expire_by_annotation {
            return Err(format!(
                "retention policy {name}: needs at least one rule: keep_newest, older_than_days or expire_by_annotation"
            ));
        }
        if !self.expiry_annotations.is_empty() && !self.expire_by_annotation {
            return Err(format!("retention policy {name}: expiry_annotations needs expire_by_annotation = true"));
        }
        if let Some(key) = self.expiry_annotations.iter().find(|key| key.trim().is_empty()) {
            return Err(format!("retention policy {name}: expiry annotation key {key:?} is empty"));
        }
        if self.every_hours > MAX_EVERY_HOURS {
            return Err(format!(
                "retention policy {name}: every_hours {} is more than a year ({MAX_EVERY_HOURS})",
                self.every_hours
            ));
        }
        self.keep_tag_set().map(|_| ())
    }

    /// True when the policy covers `repository` of `registry`.
    pub fn applies_to(&self, registry: &str, repository: &str) -> bool {
        if self.registry != "*" && self.registry != registry {
            return false;
        }
        // The same grammar as access grants, so reuse their matching.
        let pattern = ScopePattern { registry: registry.to_owned(), repository: self.repositories.clone() };
        Scope::only(vec![pattern]).allows(registry, repository)
    }

    /// The `keep_tags` patterns compiled; an error names the pattern that does not compile.
    fn keep_tag_set(&self) -> Result<GlobSet, String> {
        let mut builder = GlobSetBuilder::new();
        for pattern in &self.keep_tags {
            let glob = Glob::new(pattern)
                .ok()
                .filter(|_| !pattern.is_empty())
                .ok_or_else(|| format!("retention policy {}: keep_tags pattern {pattern:?} is invalid", self.name))?;
            builder.add(glob);
        }
        builder.build().map_err(|error| format!("retention policy {}: keep_tags: {error}", self.name))
    }
}

/// Decides for every top-level artifact of ONE repository (images, indexes and artifacts that
/// are neither referrers, fallback referrers indexes nor children of an index in `artifacts`);
/// returns choices newest first (by `created`, else `indexed_at`; digest breaks ties).
///
/// An artifact goes when none of its version tags matches `keep_tags`, and either its expiry
/// has passed (with `expire_by_annotation`) or it is stale: not among the `keep_newest` newest
/// (when set) and created before `now` minus `older_than_days` (when set). `keep_newest` ranks
/// every top-level artifact, those kept by tag included. A policy whose `keep_tags` does not
/// compile keeps everything.
pub fn evaluate(policy: &RetentionPolicy, artifacts: &[ArtifactDoc], now: DateTime<Utc>) -> Vec<RetentionChoice> {
    let children: HashSet<&str> =
        artifacts.iter().flat_map(|artifact| artifact.children.iter().map(|child| child.digest.as_str())).collect();
    let mut candidates: Vec<&ArtifactDoc> =
        artifacts.iter().filter(|artifact| is_top_level(artifact, &children)).collect();
    candidates.sort_by(|left, right| age_date(right).cmp(&age_date(left)).then_with(|| left.digest.cmp(&right.digest)));
    let keep_tags = policy.keep_tag_set();
    let rules = Rules { policy, keep_tags: &keep_tags, cutoff: cutoff(policy.older_than_days, now), now };
    candidates
        .iter()
        .enumerate()
        .map(|(rank, artifact)| {
            let (delete, verdict) = rules.decide(artifact, rank);
            RetentionChoice {
                registry: artifact.registry.clone(),
                repository: artifact.repository.clone(),
                digest: artifact.digest.clone(),
                tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
                verdict,
                delete,
            }
        })
        .collect()
}

/// Not plumbing, not a referrer, not listed by an index of the same repository.
fn is_top_level(artifact: &ArtifactDoc, children: &HashSet<&str>) -> bool {
    !artifact.referrers_index
        && artifact.subject.is_none()
        && artifact.refers_to.is_none()
        && !children.contains(artifact.digest.as_str())
}

/// The date ages are counted from: creation, else when the crawler first indexed it.
fn age_date(artifact: &ArtifactDoc) -> DateTime<Utc> {
    artifact.created.unwrap_or(artifact.indexed_at)
}

/// `now` minus the days; `None` when unset or out of range (then nothing is old enough).
fn cutoff(older_than_days: Option<u64>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let days = i64::try_from(older_than_days?).ok()?;
    now.checked_sub_signed(TimeDelta::try_days(days)?)
}

/// One policy ready to decide.
struct Rules<'a> {
    policy: &'a RetentionPolicy,
    keep_tags: &'a Result<GlobSet, String>,
    cutoff: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
}

impl Rules<'_> {
    /// Whether the artifact at `rank` (0 = newest) goes, and why.
    fn decide(&self, artifact: &ArtifactDoc, rank: usize) -> (bool, String) {
        let keep_tags = match self.keep_tags {
            Ok(keep_tags) => keep_tags,
            Err(error) => return (false, format!("kept: {error}")),
        };
        for tag in artifact.tags.iter().filter(|tag| is_version_tag(tag)) {
            if let Some(index) = keep_tags.matches(tag).first() {
                return (false, format!("kept: tag {tag} matches {}", self.policy.keep_tags[*index]));
            }
        }
        let expiry = if self.policy.expire_by_annotation {
            expiry::earliest_expiry(artifact, &self.policy.expiry_annotations)
        } else {
            None
        };
        if let Some(expiry) = &expiry
            && expiry.at <= self.now
        {
            return (true, format!("deleted: {} passed", expiry.describe()));
        }
        let among_newest = self.policy.keep_newest.map(|newest| rank < newest);
        let old_enough =
            self.policy.older_than_days.map(|_| self.cutoff.is_some_and(|cutoff| age_date(artifact) < cutoff));
        let newest = self.policy.keep_newest.map(newest_words).unwrap_or_default();
        let days = self.policy.older_than_days.map(days_words).unwrap_or_default();
        match (among_newest, old_enough) {
            (Some(true), _) => (false, format!("kept: {}", newest.kept)),
            (_, Some(false)) => (false, format!("kept: younger than {days}")),
            (Some(false), Some(true)) => (true, format!("deleted: older than {days} and {}", newest.gone)),
            (Some(false), None) => (true, format!("deleted: {}", newest.gone)),
            (None, Some(true)) => (true, format!("deleted: older than {days}")),
            (None, None) => match expiry {
                Some(expiry) => (false, format!("kept: {} not reached", expiry.describe())),
                None if self.policy.expire_by_annotation => (false, "kept: no expiry date".into()),
                None => (false, "kept: no rule set".into()),
            },
        }
    }
}

/// The two ways a verdict names `keep_newest`.
#[derive(Default)]
struct NewestWords {
    kept: String,
    gone: String,
}

fn newest_words(newest: usize) -> NewestWords {
    if newest == 1 {
        NewestWords { kept: "the newest".into(), gone: "not the newest".into() }
    } else {
        NewestWords { kept: format!("among the {newest} newest"), gone: format!("not among the {newest} newest") }
    }
}

fn days_words(days: u64) -> String {
    if days == 1 { "1 day".into() } else { format!("{days} days") }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ocicat_catalog::{ArtifactKind, ChildRef};

    use super::*;

    const NOW: &str = "2024-06-01T00:00:00Z";

    fn date(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn now() -> DateTime<Utc> {
        date(NOW)
    }

    /// A tagged image in `local/team/app`, created `days_ago` days before [`NOW`].
    fn image(name: &str, days_ago: i64, tags: &[&str]) -> ArtifactDoc {
        ArtifactDoc {
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            kind: ArtifactKind::Image,
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            platforms: vec!["linux/amd64".into()],
            size: 1024,
            created: Some(now() - TimeDelta::try_days(days_ago).unwrap()),
            config_media_type: Some("application/vnd.oci.image.config.v1+json".into()),
            manifest_size: 2,
            indexed_at: date("2024-06-01T00:00:00Z"),
            ..ArtifactDoc::new("local", "team/app", format!("sha256:{name}"))
        }
    }

    fn child(digest: &str) -> ChildRef {
        ChildRef {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: digest.into(),
            size: 512,
            platform: Some("linux/amd64".into()),
            attests: None,
            annotations: BTreeMap::new(),
        }
    }

    fn policy() -> RetentionPolicy {
        RetentionPolicy {
            name: "nightly".into(),
            registry: "local".into(),
            repositories: "team/**".into(),
            keep_newest: None,
            older_than_days: None,
            keep_tags: Vec::new(),
            expire_by_annotation: false,
            expiry_annotations: Vec::new(),
            every_hours: 24,
            dry_run: true,
        }
    }

    /// `(digest, delete, verdict)` per choice, newest first.
    fn decided(policy: &RetentionPolicy, artifacts: &[ArtifactDoc]) -> Vec<(String, bool, String)> {
        evaluate(policy, artifacts, now())
            .into_iter()
            .map(|choice| (choice.digest.trim_start_matches("sha256:").to_owned(), choice.delete, choice.verdict))
            .collect()
    }

    fn row(name: &str, delete: bool, verdict: &str) -> (String, bool, String) {
        (name.to_owned(), delete, verdict.to_owned())
    }

    #[test]
    fn keep_newest_alone_keeps_the_n_newest() {
        let rules = RetentionPolicy { keep_newest: Some(2), ..policy() };
        let artifacts = [image("old", 30, &["1.0"]), image("new", 1, &["1.2"]), image("mid", 10, &["1.1"])];
        assert_eq!(
            decided(&rules, &artifacts),
            [
                row("new", false, "kept: among the 2 newest"),
                row("mid", false, "kept: among the 2 newest"),
                row("old", true, "deleted: not among the 2 newest"),
            ]
        );
    }

    #[test]
    fn older_than_days_alone_uses_created_else_indexed_at() {
        let rules = RetentionPolicy { older_than_days: Some(90), ..policy() };
        let mut unknown_age = image("unknown", 0, &[]);
        unknown_age.created = None;
        unknown_age.indexed_at = date("2023-01-01T00:00:00Z");
        let artifacts = [image("young", 89, &["b"]), image("old", 91, &["a"]), unknown_age];
        assert_eq!(
            decided(&rules, &artifacts),
            [
                row("young", false, "kept: younger than 90 days"),
                row("old", true, "deleted: older than 90 days"),
                row("unknown", true, "deleted: older than 90 days"),
            ]
        );
    }

    #[test]
    fn both_rules_must_hold_for_an_artifact_to_go() {
        let rules = RetentionPolicy { keep_newest: Some(1), older_than_days: Some(90), ..policy() };
        let artifacts = [image("a", 200, &[]), image("b", 100, &[]), image("c", 50, &[]), image("d", 300, &[])];
        assert_eq!(
            decided(&rules, &artifacts),
            [
                row("c", false, "kept: the newest"),
                row("b", true, "deleted: older than 90 days and not the newest"),
                row("a", true, "deleted: older than 90 days and not the newest"),
                row("d", true, "deleted: older than 90 days and not the newest"),
            ]
        );
        let generous = RetentionPolicy { keep_newest: Some(3), older_than_days: Some(90), ..policy() };
        let verdicts = decided(&generous, &[image("young", 10, &[]), image("old", 100, &[])]);
        assert_eq!(
            verdicts,
            [row("young", false, "kept: among the 3 newest"), row("old", false, "kept: among the 3 newest")]
        );
    }

    #[test]
    fn ties_in_age_are_broken_by_digest() {
        let rules = RetentionPolicy { keep_newest: Some(1), ..policy() };
        let verdicts = decided(&rules, &[image("b", 5, &[]), image("a", 5, &[])]);
        assert_eq!(verdicts, [row("a", false, "kept: the newest"), row("b", true, "deleted: not the newest")]);
    }

    #[test]
    fn keep_tags_win_over_every_rule_and_count_in_the_ranking() {
        let rules = RetentionPolicy {
            keep_newest: Some(1),
            older_than_days: Some(1),
            keep_tags: vec!["release-*".into(), "stable".into()],
            expire_by_annotation: true,
            ..policy()
        };
        let mut expired_release = image("rel", 400, &["release-1", "sha256-abc.sig"]);
        expired_release.end_of_life = Some(date("2024-01-31T00:00:00Z"));
        let artifacts = [image("top", 2, &["release-2"]), expired_release, image("plain", 300, &["dev"])];
        assert_eq!(
            decided(&rules, &artifacts),
            [
                row("top", false, "kept: tag release-2 matches release-*"),
                row("plain", true, "deleted: older than 1 day and not the newest"),
                row("rel", false, "kept: tag release-1 matches release-*"),
            ]
        );
    }

    #[test]
    fn expiry_by_annotation_needs_the_flag() {
        let mut end_of_life = image("eol", 5, &["1.0"]);
        end_of_life.end_of_life = Some(date("2024-01-31T00:00:00Z"));
        let mut quay = image("quay", 0, &["pr-7"]);
        quay.created = Some(date("2024-05-31T20:00:00Z"));
        quay.labels.insert(expiry::QUAY_EXPIRES_AFTER.into(), "2h".into());
        let mut later = image("later", 1, &["2.0"]);
        later.end_of_life = Some(date("2030-01-01T00:00:00Z"));
        let artifacts = [end_of_life, quay, later, image("none", 3, &[])];
        let rules = RetentionPolicy { expire_by_annotation: true, ..policy() };
        assert_eq!(
            decided(&rules, &artifacts),
            [
                row("quay", true, "deleted: quay.expires-after 2h 2024-05-31T22:00:00Z passed"),
                row("later", false, "kept: end of life 2030-01-01 not reached"),
                row("none", false, "kept: no expiry date"),
                row("eol", true, "deleted: end of life 2024-01-31 passed"),
            ]
        );
        let without = RetentionPolicy { keep_newest: Some(10), ..policy() };
        assert!(evaluate(&without, &artifacts, now()).iter().all(|choice| !choice.delete));
    }

    #[test]
    fn expiry_or_staleness_is_enough() {
        let rules = RetentionPolicy {
            keep_newest: Some(1),
            expire_by_annotation: true,
            expiry_annotations: vec!["vnd.example.expiry".into()],
            ..policy()
        };
        let mut newest = image("newest", 1, &[]);
        newest.annotations.insert("vnd.example.expiry".into(), "2024-05-12T21:15:10.8343521Z".into());
        let artifacts = [newest, image("older", 2, &[])];
        assert_eq!(
            decided(&rules, &artifacts),
            [
                row("newest", true, "deleted: vnd.example.expiry 2024-05-12T21:15:10Z passed"),
                row("older", true, "deleted: not the newest"),
            ]
        );
    }

    #[test]
    fn referrers_children_and_fallback_indexes_are_never_chosen() {
        let mut index = image("index", 10, &["1.0"]);
        index.kind = ArtifactKind::Index;
        index.children = vec![child("sha256:amd64"), child("sha256:attestation")];
        let platform = image("amd64", 10, &[]);
        let mut attestation = image("attestation", 10, &[]);
        attestation.refers_to = Some("sha256:amd64".into());
        let mut signature = image("sig", 10, &["sha256-index.sig"]);
        signature.refers_to = Some("sha256:index".into());
        let mut sbom = image("sbom", 10, &[]);
        sbom.subject = Some("sha256:index".into());
        let mut fallback = image("fallback", 10, &["sha256-index"]);
        fallback.referrers_index = true;
        fallback.children = vec![child("sha256:sbom")];
        let untagged = image("untagged", 20, &[]);
        let artifacts = [index, platform, attestation, signature, sbom, fallback, untagged];
        let rules = RetentionPolicy { keep_newest: Some(0), ..policy() };
        let verdicts = decided(&rules, &artifacts);
        let chosen: Vec<&str> = verdicts.iter().map(|(digest, _, _)| digest.as_str()).collect();
        assert_eq!(chosen, ["index", "untagged"]);
        assert!(verdicts.iter().all(|(_, delete, _)| *delete));
    }

    #[test]
    fn choices_list_only_version_tags() {
        let rules = RetentionPolicy { keep_newest: Some(5), ..policy() };
        let fallback = format!("sha256-{}", "a".repeat(64));
        let cosign = format!("{fallback}.sig");
        let choices = evaluate(&rules, &[image("a", 1, &["1.0", "latest", &fallback, &cosign])], now());
        assert_eq!(choices[0].tags, ["1.0", "latest"]);
        assert_eq!((choices[0].registry.as_str(), choices[0].repository.as_str()), ("local", "team/app"));
    }

    #[test]
    fn an_invalid_keep_pattern_keeps_everything() {
        let rules = RetentionPolicy { keep_newest: Some(0), keep_tags: vec!["release-[".into()], ..policy() };
        let choices = evaluate(&rules, &[image("a", 100, &["x"])], now());
        assert!(!choices[0].delete);
        assert!(
            choices[0].verdict.starts_with("kept: retention policy nightly: keep_tags pattern"),
            "{}",
            choices[0].verdict
        );
    }

    #[test]
    fn a_huge_age_limit_deletes_nothing() {
        let rules = RetentionPolicy { older_than_days: Some(u64::MAX), ..policy() };
        let choices = evaluate(&rules, &[image("a", 10_000, &[])], now());
        assert_eq!(choices[0].verdict, format!("kept: younger than {} days", u64::MAX));
    }

    #[test]
    fn applies_to_matches_registry_and_segments() {
        let rules = RetentionPolicy { repositories: "team/*".into(), ..policy() };
        assert!(rules.applies_to("local", "team/app"));
        assert!(!rules.applies_to("local", "team/app/sub"), "one star is one segment");
        assert!(!rules.applies_to("other", "team/app"));
        let deep = RetentionPolicy { registry: "*".into(), repositories: "team/**".into(), ..policy() };
        assert!(deep.applies_to("other", "team/app/sub/x"));
        assert!(!deep.applies_to("other", "teams/app"));
        let everywhere = RetentionPolicy { registry: "*".into(), repositories: everything(), ..policy() };
        assert!(everywhere.applies_to("any", "a/b/c"));
        let exact = RetentionPolicy { repositories: "team/app".into(), ..policy() };
        assert!(exact.applies_to("local", "team/app") && !exact.applies_to("local", "team/app2"));
    }

    #[test]
    fn deserializes_from_toml_with_defaults() {
        let text = r#"
            name = "nightly-builds"
            registry = "local"
            older_than_days = 30
            keep_tags = ["release-*"]
        "#;
        let parsed: RetentionPolicy = toml::from_str(text).unwrap();
        assert_eq!(parsed.repositories, "**");
        assert!(parsed.dry_run);
        assert_eq!(parsed.every_hours, 24);
        assert_eq!((parsed.keep_newest, parsed.older_than_days), (None, Some(30)));
        assert!(!parsed.expire_by_annotation && parsed.expiry_annotations.is_empty());
        assert_eq!(parsed.validate(), Ok(()));
        let unknown = toml::from_str::<RetentionPolicy>("name = \"a\"\nregistry = \"*\"\nkeep_last = 3\n");
        assert!(unknown.is_err(), "unknown fields are refused");
    }

    #[test]
    fn validation_failures_name_the_policy() {
        let valid = RetentionPolicy { keep_newest: Some(0), ..policy() };
        assert_eq!(valid.validate(), Ok(()));
        let cases = [
            (RetentionPolicy { name: "Nightly".into(), ..valid.clone() }, "retention policy name \"Nightly\""),
            (RetentionPolicy { name: String::new(), ..valid.clone() }, "retention policy name \"\""),
            (RetentionPolicy { name: "a".repeat(65), ..valid.clone() }, "must be 1-64"),
            (RetentionPolicy { registry: "My Registry".into(), ..valid.clone() }, "nightly: registry"),
            (RetentionPolicy { repositories: String::new(), ..valid.clone() }, "nightly: repositories"),
            (RetentionPolicy { keep_newest: None, ..valid.clone() }, "nightly: needs at least one rule"),
            (RetentionPolicy { keep_tags: vec!["a[".into()], ..valid.clone() }, "nightly: keep_tags pattern \"a[\""),
            (RetentionPolicy { keep_tags: vec![String::new()], ..valid.clone() }, "nightly: keep_tags pattern \"\""),
            (
                RetentionPolicy { expiry_annotations: vec!["x".into()], ..valid.clone() },
                "nightly: expiry_annotations needs expire_by_annotation",
            ),
            (RetentionPolicy { every_hours: 100_000, ..valid.clone() }, "nightly: every_hours"),
        ];
        for (invalid, expected) in cases {
            let error = invalid.validate().unwrap_err();
            assert!(error.contains(expected), "{error:?} should contain {expected:?}");
            assert!(error.starts_with("retention policy "), "{error:?}");
        }
        let expiry_only = RetentionPolicy { expire_by_annotation: true, ..policy() };
        assert_eq!(expiry_only.validate(), Ok(()));
    }
}
