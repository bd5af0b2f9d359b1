//! What changed between two artifacts, according to their SBOMs and scans: packages added,
//! removed, up- and downgraded (in each ecosystem's order) and relicensed; findings fixed and
//! introduced. Artifacts are named `registry/repository@digest` or `registry/repository:tag`;
//! without a first one, the previous tagged build of the second one's repository stands in.

use std::collections::{BTreeMap, BTreeSet};

use ocicat_access::Principal;
use ocicat_catalog::{ArtifactDoc, TagSort, artifact_key};
use ocicat_versions::{Scheme, compare};

use crate::error::AppError;
use crate::model::{DiffSide, DiffView, FindingChange, PackageChange};
use crate::state::{Service, blocking};
use crate::views::is_version_tag;

/// The packages of `documents` by (lowercased name, ecosystem): their versions and licences.
type Packages = BTreeMap<(String, Option<String>), (String, BTreeSet<String>, BTreeSet<String>)>;

fn packages_of(documents: &[ArtifactDoc]) -> Packages {
    let mut packages: Packages = BTreeMap::new();
    for package in documents.iter().flat_map(|document| &document.packages) {
        let entry = packages
            .entry((package.name.to_lowercase(), package.ecosystem.clone()))
            .or_insert_with(|| (package.name.clone(), BTreeSet::new(), BTreeSet::new()));
        entry.1.extend(package.version.clone());
        entry.2.extend(package.licenses.iter().cloned());
    }
    packages
}

/// The findings of `documents` by (advisory, package).
fn findings_of(documents: &[ArtifactDoc]) -> BTreeMap<(String, String), FindingChange> {
    documents
        .iter()
        .flat_map(|document| &document.findings)
        .map(|finding| {
            let key = (finding.id.to_ascii_uppercase(), finding.package.clone());
            let change = FindingChange {
                advisory: finding.id.clone(),
                package: finding.package.clone(),
                severity: finding.severity.clone(),
                installed: finding.installed.clone(),
                fixed: finding.fixed.clone(),
            };
            (key, change)
        })
        .collect()
}

/// The highest of `versions` in `scheme`'s order, and whether every comparison was exact.
fn highest(scheme: Scheme, versions: &BTreeSet<String>) -> (Option<&String>, bool) {
    let mut exact = true;
    let best = versions.iter().reduce(|best, version| {
        let comparison = compare(scheme, version, best);
        exact &= comparison.exact;
        if comparison.ordering.is_gt() { version } else { best }
    });
    (best, exact)
}

impl Service {
    /// One side of a diff: the artifact and what describes it.
    async fn diff_side(&self, who: &Principal, text: &str) -> Result<(ArtifactDoc, Vec<ArtifactDoc>), AppError> {
        let target = crate::model::parse_target(text).map_err(AppError::BadRequest)?;
        let (registry, repository, reference) = (target.registry, target.repository, target.reference);
        let digest = if reference.contains(':') {
            reference
        } else {
            self.find_tag(who, registry.clone(), repository.clone(), reference).await?
        };
        let artifact = self.find_indexed(who, &registry, &repository, &digest).await?;
        let catalog = self.catalog.clone();
        let key = artifact_key(&registry, &repository, &digest);
        let describing = blocking(move || catalog.describing(&[key], None)).await?;
        Ok((artifact, describing))
    }

    /// The tagged build before `artifact` in its repository (by build date), if any.
    async fn previous_build(&self, artifact: &ArtifactDoc) -> Result<Option<String>, AppError> {
        let (catalog, registry, repository) =
            (self.catalog.clone(), artifact.registry.clone(), artifact.repository.clone());
        let tags = blocking(move || catalog.tags(&registry, &repository, "", TagSort::Newest, 0, 500)).await?;
        let position = tags.items.iter().position(|tag| tag.digest == artifact.digest);
        let older = position.map_or(&tags.items[..0], |at| &tags.items[at + 1..]);
        Ok(older
            .iter()
            .find(|tag| tag.digest != artifact.digest)
            .map(|tag| format!("{}/{}@{}", artifact.registry, artifact.repository, tag.digest)))
    }

    /// What changed from `a` (or, when empty, the previous tagged build of `b`'s repository)
    /// to `b`, for `who`, who may read both.
    pub async fn diff(&self, who: &Principal, a: String, b: String) -> Result<DiffView, AppError> {
        let (after, after_docs) = self.diff_side(who, &b).await?;
        let a = match a.trim() {
            "" => self
                .previous_build(&after)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("a tagged build before {b} to compare with")))?,
            named => named.to_owned(),
        };
        let (before, before_docs) = self.diff_side(who, &a).await?;
        let (old, new) = (packages_of(&before_docs), packages_of(&after_docs));
        let mut view = DiffView {
            a: side(&before, &before_docs),
            b: side(&after, &after_docs),
            added: Vec::new(),
            removed: Vec::new(),
            upgraded: Vec::new(),
            downgraded: Vec::new(),
            relicensed: Vec::new(),
            unchanged: 0,
            fixed: Vec::new(),
            introduced: Vec::new(),
        };
        let keys: BTreeSet<&(String, Option<String>)> = old.keys().chain(new.keys()).collect();
        for key in keys {
            let empty = (String::new(), BTreeSet::new(), BTreeSet::new());
            let (was, is) = (old.get(key), new.get(key));
            let name = was.or(is).map(|entry| entry.0.clone()).unwrap_or_default();
            let (was, is) = (was.unwrap_or(&empty), is.unwrap_or(&empty));
            let scheme = Scheme::for_purl_type(key.1.as_deref().unwrap_or_default());
            let (from, from_exact) = highest(scheme, &was.1);
            let (to, to_exact) = highest(scheme, &is.1);
            let ordering = match (from, to) {
                (Some(from), Some(to)) => Some(compare(scheme, to, from)),
                _ => None,
            };
            let change = PackageChange {
                name,
                ecosystem: key.1.clone(),
                before: was.1.iter().cloned().collect(),
                after: is.1.iter().cloned().collect(),
                licenses_before: was.2.iter().cloned().collect(),
                licenses_after: is.2.iter().cloned().collect(),
                exact: from_exact && to_exact && ordering.is_none_or(|comparison| comparison.exact),
            };
            match (old.contains_key(key), new.contains_key(key)) {
                (false, true) => view.added.push(change),
                (true, false) => view.removed.push(change),
                _ => match ordering.map(|comparison| comparison.ordering) {
                    Some(std::cmp::Ordering::Greater) => view.upgraded.push(change),
                    Some(std::cmp::Ordering::Less) => view.downgraded.push(change),
                    _ if change.licenses_before != change.licenses_after => view.relicensed.push(change),
                    _ if change.before != change.after => view.upgraded.push(change),
                    _ => view.unchanged += 1,
                },
            }
        }
        let (old_findings, new_findings) = (findings_of(&before_docs), findings_of(&after_docs));
        view.fixed =
            old_findings.iter().filter(|(key, _)| !new_findings.contains_key(*key)).map(|(_, f)| f.clone()).collect();
        view.introduced =
            new_findings.iter().filter(|(key, _)| !old_findings.contains_key(*key)).map(|(_, f)| f.clone()).collect();
        Ok(view)
    }
}

fn side(artifact: &ArtifactDoc, describing: &[ArtifactDoc]) -> DiffSide {
    DiffSide {
        registry: artifact.registry.clone(),
        repository: artifact.repository.clone(),
        digest: artifact.digest.clone(),
        tags: artifact.tags.iter().filter(|tag| is_version_tag(tag)).cloned().collect(),
        created: artifact.created.map(|date| date.to_rfc3339()),
        sboms: describing.iter().filter(|document| !document.packages.is_empty()).count(),
        scans: describing.iter().filter(|document| !document.findings.is_empty()).count(),
    }
}
