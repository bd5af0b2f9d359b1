//! Impact: which artifacts a reader may see contain a package or carry an advisory, according to
//! every SBOM and scan attached to them (any producer), grouped by registry and repository, with
//! what each document says; the newest build of each repository marked (or alone); CSV too.

use std::collections::{BTreeMap, BTreeSet};

use ocicat_access::Principal;
use ocicat_catalog::impact::Predicate;
use ocicat_catalog::{ArtifactDoc, TagSort, artifact_key};

use crate::error::AppError;
use crate::model::{ImpactGroup, ImpactMatch, ImpactRow, ImpactSort, ImpactSource, ImpactView};
use crate::state::{Service, blocking};
use crate::views::{artifact_badges, is_version_tag};

/// Most affected artifacts one impact query weighs.
pub(crate) const MAX_IMPACT_ARTIFACTS: usize = 2_000;
/// Repositories a page.
pub(crate) const IMPACT_PER_PAGE: usize = 25;

/// What an artifact's describing documents say that the query is about: one match per
/// (package, version, advisory), every document that says it as a source.
fn matches_of(key: &str, describing: &[ArtifactDoc], predicate: &Predicate) -> Vec<ImpactMatch> {
    let mut found: BTreeMap<(String, Option<String>, Option<String>), ImpactMatch> = BTreeMap::new();
    for document in describing.iter().filter(|document| document.describes.iter().any(|described| described == key)) {
        let source = ImpactSource {
            digest: document.digest.clone(),
            kind: document.kind.as_str().to_owned(),
            producer: document.producer.clone(),
            created: document.created.map(|date| date.to_rfc3339()),
        };
        let mut add = |found_match: ImpactMatch| {
            let id = (found_match.package.to_lowercase(), found_match.version.clone(), found_match.advisory.clone());
            let entry = found.entry(id).or_insert_with(|| ImpactMatch { sources: Vec::new(), ..found_match });
            if !entry.sources.iter().any(|known| known.digest == source.digest) {
                entry.sources.push(source.clone());
            }
        };
        if predicate.about_packages() {
            for package in document.packages.iter().filter(|package| predicate.matches_package(package)) {
                add(ImpactMatch {
                    package: package.name.clone(),
                    version: package.version.clone(),
                    ecosystem: package.ecosystem.clone(),
                    advisory: None,
                    severity: None,
                    fixed: None,
                    sources: Vec::new(),
                });
            }
        }
        if predicate.about_findings() {
            for finding in document.findings.iter().filter(|finding| predicate.matches_finding(finding)) {
                add(ImpactMatch {
                    package: finding.package.clone(),
                    version: finding.installed.clone(),
                    ecosystem: None,
                    advisory: Some(finding.id.clone()),
                    severity: Some(finding.severity.clone()),
                    fixed: finding.fixed.clone(),
                    sources: Vec::new(),
                });
            }
        }
    }
    found.into_values().collect()
}

impl Service {
    /// The artifacts `who` may read that `query` (with at least one of `pkg:`, `license:`,
    /// `cve:`, `fixable:`) finds, grouped by repository in `sort` order (`repository`, `newest`,
    /// `affected`; empty: by repository), with their evidence; `latest_only` keeps the newest
    /// tagged build of each repository alone.
    pub async fn impact(
        &self,
        who: &Principal,
        query: String,
        latest_only: bool,
        sort: &str,
        page: usize,
    ) -> Result<ImpactView, AppError> {
        let sort = impact_sort(sort)?;
        let (mut view, groups) = self.impact_groups(who, query, latest_only, sort, Some(page)).await?;
        view.groups = groups;
        Ok(view)
    }

    /// The impact of `query` for `who`: the view's counts, and the groups of `page` (every
    /// group when `None`) with their evidence — only the shown artifacts' SBOMs and scans are
    /// read, as their documents are the heavy part.
    async fn impact_groups(
        &self,
        who: &Principal,
        query: String,
        latest_only: bool,
        sort: ImpactSort,
        page: Option<usize>,
    ) -> Result<(ImpactView, Vec<ImpactGroup>), AppError> {
        let predicate = Predicate::of(&query);
        if !predicate.about_packages() && !predicate.about_findings() {
            // A query that does not parse names nothing either: say where it is wrong first.
            ocicat_catalog::query::parse_query(&query)
                .map_err(|error| AppError::InvalidQuery { message: error.message, position: error.position })?;
            return Err(AppError::BadRequest(
                "an impact query names a package, licence or advisory: pkg:openssl, license:GPL-3.0*, cve:CVE-2024-3094"
                    .into(),
            ));
        }
        let (total, found) = self.all_hits(who, &query, MAX_IMPACT_ARTIFACTS).await?;
        let repositories: BTreeSet<(String, String)> =
            found.iter().map(|artifact| (artifact.registry.clone(), artifact.repository.clone())).collect();
        let catalog = self.catalog.clone();
        let latest = blocking(move || {
            let mut latest: BTreeSet<String> = BTreeSet::new();
            for (registry, repository) in repositories {
                let newest = catalog.tags(&registry, &repository, "", TagSort::Newest, 0, 1)?;
                latest.extend(newest.items.first().map(|tag| artifact_key(&registry, &repository, &tag.digest)));
            }
            Ok(latest)
        })
        .await?;
        let truncated = total as usize > found.len();
        let mut groups: BTreeMap<(String, String), Vec<ImpactRow>> = BTreeMap::new();
        for artifact in &found {
            let key = artifact_key(&artifact.registry, &artifact.repository, &artifact.digest);
            let is_latest = latest.contains(&key);
            if latest_only && !is_latest {
                continue;
            }
            groups.entry((artifact.registry.clone(), artifact.repository.clone())).or_default().push(ImpactRow {
                digest: artifact.digest.clone(),
                tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
                kind: artifact.kind.as_str().to_owned(),
                created: artifact.created.map(|date| date.to_rfc3339()),
                matches: Vec::new(),
                fixable: None,
                badges: artifact_badges(artifact),
                latest: is_latest,
            });
        }
        let artifacts = groups.values().map(Vec::len).sum::<usize>() as u64;
        let registries = groups.keys().map(|(registry, _)| registry).collect::<BTreeSet<_>>().len() as u64;
        let repositories = groups.len() as u64;
        let mut groups: Vec<ImpactGroup> = groups
            .into_iter()
            .map(|((registry, repository), mut rows)| {
                rows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.digest.cmp(&b.digest)));
                ImpactGroup { registry, repository, rows }
            })
            .collect();
        order_groups(&mut groups, sort);
        let mut groups: Vec<ImpactGroup> = groups
            .into_iter()
            .skip(page.unwrap_or(0).saturating_mul(IMPACT_PER_PAGE))
            .take(if page.is_some() { IMPACT_PER_PAGE } else { usize::MAX })
            .collect();
        let keys: Vec<String> = groups
            .iter()
            .flat_map(|group| {
                group.rows.iter().map(|row| artifact_key(&group.registry, &group.repository, &row.digest))
            })
            .collect();
        let catalog = self.catalog.clone();
        let (lookup, about) = (keys.clone(), predicate.clone());
        let describing = blocking(move || catalog.describing(&lookup, Some(&about))).await?;
        for group in &mut groups {
            for row in &mut group.rows {
                let key = artifact_key(&group.registry, &group.repository, &row.digest);
                row.matches = matches_of(&key, &describing, &predicate);
                let advisories: Vec<&ImpactMatch> =
                    row.matches.iter().filter(|found| found.advisory.is_some()).collect();
                row.fixable = (!advisories.is_empty()).then(|| advisories.iter().all(|found| found.fixed.is_some()));
            }
        }
        let view = ImpactView {
            query,
            latest_only,
            sort,
            artifacts,
            repositories,
            registries,
            truncated,
            groups: Vec::new(),
            page: page.unwrap_or(0),
            per_page: IMPACT_PER_PAGE,
        };
        Ok((view, groups))
    }

    /// Every affected artifact of `query` (all pages, in `sort` order) as CSV: one line per
    /// artifact and match.
    pub async fn impact_csv(
        &self,
        who: &Principal,
        query: String,
        latest_only: bool,
        sort: &str,
    ) -> Result<String, AppError> {
        let sort = impact_sort(sort)?;
        let mut lines = vec![
            "registry,repository,digest,tags,created,package,version,ecosystem,advisory,severity,fixed,sources,signature,end_of_life"
                .to_owned(),
        ];
        let (_, groups) = self.impact_groups(who, query, latest_only, sort, None).await?;
        for group in &groups {
            for row in &group.rows {
                for found in &row.matches {
                    let sources: Vec<String> = found.sources.iter().map(|source| source.digest.clone()).collect();
                    let cells = [
                        group.registry.clone(),
                        group.repository.clone(),
                        row.digest.clone(),
                        row.tags.join(" "),
                        row.created.clone().unwrap_or_default(),
                        found.package.clone(),
                        found.version.clone().unwrap_or_default(),
                        found.ecosystem.clone().unwrap_or_default(),
                        found.advisory.clone().unwrap_or_default(),
                        found.severity.clone().unwrap_or_default(),
                        found.fixed.clone().unwrap_or_default(),
                        sources.join(" "),
                        row.badges.signature.as_ref().map(|badge| badge.status.clone()).unwrap_or_default(),
                        row.badges.end_of_life.clone().unwrap_or_default(),
                    ];
                    lines.push(cells.iter().map(|cell| csv_cell(cell)).collect::<Vec<_>>().join(","));
                }
            }
        }
        lines.push(String::new());
        Ok(lines.join("\n"))
    }
}

/// The order named `name`, or a clear refusal.
fn impact_sort(name: &str) -> Result<ImpactSort, AppError> {
    ImpactSort::parse(name).ok_or_else(|| {
        AppError::BadRequest(format!("unknown impact order '{name}': use repository, newest or affected"))
    })
}

/// Puts `groups` (each one's rows newest first) in `sort` order; ties by registry and repository.
fn order_groups(groups: &mut [ImpactGroup], sort: ImpactSort) {
    let name = |group: &ImpactGroup| (group.registry.clone(), group.repository.clone());
    match sort {
        ImpactSort::Repository => groups.sort_by_key(name),
        // RFC 3339 dates in UTC order as text; a group without a date goes last.
        ImpactSort::Newest => groups.sort_by(|a, b| {
            let newest = |group: &ImpactGroup| group.rows.iter().filter_map(|row| row.created.clone()).max();
            newest(b).cmp(&newest(a)).then_with(|| name(a).cmp(&name(b)))
        }),
        ImpactSort::Affected => {
            groups.sort_by(|a, b| b.rows.len().cmp(&a.rows.len()).then_with(|| name(a).cmp(&name(b))))
        }
    }
}

/// A CSV cell: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or
/// `@` is prefixed with `'` so a spreadsheet never runs a registry's string as a formula.
fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    if value.contains([',', '"', '\n', '\r']) { format!("\"{}\"", value.replace('"', "\"\"")) } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(repository: &str, dates: &[Option<&str>]) -> ImpactGroup {
        let rows = dates
            .iter()
            .map(|date| ImpactRow {
                digest: format!("sha256:{repository}"),
                tags: Vec::new(),
                kind: "image".into(),
                created: date.map(str::to_owned),
                matches: Vec::new(),
                fixable: None,
                badges: Default::default(),
                latest: false,
            })
            .collect();
        ImpactGroup { registry: "prod".into(), repository: repository.into(), rows }
    }

    #[test]
    fn groups_sort_by_name_newest_build_or_count() {
        let mut groups = vec![
            group("b", &[Some("2025-03-01T00:00:00+00:00")]),
            group("a", &[Some("2024-01-01T00:00:00+00:00"), Some("2024-02-01T00:00:00+00:00")]),
            group("c", &[None]),
            group("d", &[Some("2025-03-01T00:00:00+00:00")]),
        ];
        let names = |groups: &[ImpactGroup]| groups.iter().map(|g| g.repository.clone()).collect::<Vec<_>>();
        order_groups(&mut groups, ImpactSort::Newest);
        assert_eq!(names(&groups), ["b", "d", "a", "c"], "newest first, ties by name, no date last");
        order_groups(&mut groups, ImpactSort::Affected);
        assert_eq!(names(&groups), ["a", "b", "c", "d"]);
        order_groups(&mut groups, ImpactSort::Repository);
        assert_eq!(names(&groups), ["a", "b", "c", "d"]);
        assert_eq!(ImpactSort::parse(""), Some(ImpactSort::Repository));
        assert_eq!(ImpactSort::parse("affected"), Some(ImpactSort::Affected));
        assert!(impact_sort("size").is_err());
    }

    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(csv_cell("plain"), "plain");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("-1"), "'-1");
    }
}
