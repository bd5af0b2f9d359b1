//! The facts of SBOMs and scans as index terms, and reading them back.
//!
//! Each SBOM or scan the crawler read gets one *facts document* beside its artifact document:
//! one `pkg` term per package holding the whole package (`name\0ecosystem\0version\0purl\0
//! licences\0display name`, name lowercased) and one `vuln` term per finding and per alias
//! (`ID\0package\0installed\0fixed\0severity\0primary id\0id as written`, looked up by the
//! uppercased id). Nothing
//! is stored: a package shared by many images is one dictionary entry with a postings list, so
//! images built on one base cost a few bytes per package each, not a copy of the list (P13).
//! The facts document is written only when the facts were just read and removed with its
//! artifact; rewrites of the artifact document (tags, summaries) leave it alone. It joins to
//! what it describes by the hash of its subject's key, the one thing about it that cannot change.
//!
//! Reading back walks the terms a question is about (a package's name prefix, an advisory's)
//! and keeps those whose postings hold the wanted documents: [`Catalog::describing`].

use std::collections::{BTreeMap, BTreeSet};

use tantivy::collector::TopDocs;
use tantivy::query::TermSetQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Order, SegmentReader, TERMINATED, TantivyDocument, Term};

use crate::document::ArtifactDoc;
use crate::error::{Result, index_error, io_error};
use crate::impact::{FindingFact, PackageFact, Predicate};
use crate::keys::{artifact_hash, artifact_key, repository_key};
use crate::reader::Catalog;
use crate::schema::{DocType, Fields};

const SEP: char = '\u{0}';

/// The key of the facts document of the artifact whose key is `key`.
pub(crate) fn facts_key(key: &str) -> String {
    format!("facts{SEP}{key}")
}

/// The `pkg` term of `package`.
pub(crate) fn package_term(package: &PackageFact) -> String {
    let lower = package.name.to_lowercase();
    let display = if lower == package.name { "" } else { package.name.as_str() };
    [
        lower.as_str(),
        &package.ecosystem.as_deref().unwrap_or_default().to_ascii_lowercase(),
        package.version.as_deref().unwrap_or_default(),
        package.purl.as_deref().unwrap_or_default(),
        &package.licenses.join(" "),
        display,
    ]
    .map(|part| part.replace(SEP, ""))
    .join("\u{0}")
}

fn some(part: &str) -> Option<String> {
    (!part.is_empty()).then(|| part.to_owned())
}

/// The package a `pkg` term holds.
pub(crate) fn parse_package_term(term: &[u8]) -> Option<PackageFact> {
    let text = std::str::from_utf8(term).ok()?;
    let parts: Vec<&str> = text.split(SEP).collect();
    let [lower, ecosystem, version, purl, licenses, display] = parts.as_slice() else { return None };
    Some(PackageFact {
        name: if display.is_empty() { (*lower).to_owned() } else { (*display).to_owned() },
        version: some(version),
        ecosystem: some(ecosystem),
        purl: some(purl),
        licenses: licenses.split(' ').filter(|id| !id.is_empty()).map(str::to_owned).collect(),
    })
}

/// The `vuln` terms of `finding`: one under its id, one under each alias.
pub(crate) fn finding_terms(finding: &FindingFact) -> Vec<String> {
    let rest = [
        finding.package.as_str(),
        finding.installed.as_deref().unwrap_or_default(),
        finding.fixed.as_deref().unwrap_or_default(),
        finding.severity.as_str(),
        finding.id.as_str(),
    ]
    .map(|part| part.replace(SEP, ""))
    .join("\u{0}");
    std::iter::once(&finding.id)
        .chain(&finding.aliases)
        .map(|id| {
            let id = id.replace(SEP, "");
            let upper = id.to_ascii_uppercase();
            // The id as written, when looking it up changed it (`GHSA-rxwq-…`).
            let written = if upper == id { "" } else { id.as_str() };
            format!("{upper}{SEP}{rest}{SEP}{written}")
        })
        .collect()
}

/// The id a `vuln` term is looked up by, and its finding (with that id among its aliases when
/// it is one).
pub(crate) fn parse_finding_term(term: &[u8]) -> Option<FindingFact> {
    let text = std::str::from_utf8(term).ok()?;
    let parts: Vec<&str> = text.split(SEP).collect();
    let [lookup, package, installed, fixed, severity, id, written] = parts.as_slice() else { return None };
    let written = if written.is_empty() { lookup } else { written };
    let aliases = if lookup.eq_ignore_ascii_case(id) { Vec::new() } else { vec![(*written).to_owned()] };
    Some(FindingFact {
        id: (*id).to_owned(),
        package: (*package).to_owned(),
        installed: some(installed),
        fixed: some(fixed),
        severity: (*severity).to_owned(),
        aliases,
    })
}

/// True when `artifact` carries packages or findings just read: it gets a new facts document.
pub(crate) fn writes_facts(artifact: &ArtifactDoc) -> bool {
    !artifact.packages.is_empty() || !artifact.findings.is_empty()
}

/// The facts document of `artifact`, when packages or findings were just read from it.
pub(crate) fn facts_document(fields: &Fields, artifact: &ArtifactDoc) -> Option<TantivyDocument> {
    if !writes_facts(artifact) {
        return None;
    }
    let key = artifact_key(&artifact.registry, &artifact.repository, &artifact.digest);
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, DocType::Facts.as_str());
    document.add_text(fields.key, facts_key(&key));
    // What it refers to never changes (its subject, or the digest its cosign tag names); the
    // indexes listing that are found by their `child_hashes`.
    if let Some(subject) = &artifact.refers_to {
        document.add_u64(fields.subject_hash, artifact_hash(&artifact.registry, &artifact.repository, subject));
    }
    document.add_text(fields.repo_key, repository_key(&artifact.registry, &artifact.repository));
    document.add_text(fields.registry, &artifact.registry);
    document.add_text(fields.repository, &artifact.repository);
    let mut terms: [BTreeSet<String>; 4] = Default::default();
    let [packages, licenses, vulns, fixable] = &mut terms;
    for package in &artifact.packages {
        packages.insert(package_term(package));
        licenses.extend(package.licenses.iter().map(|id| id.to_lowercase()));
    }
    for finding in &artifact.findings {
        vulns.extend(finding_terms(finding));
        fixable.insert(finding.fixed.is_some().to_string());
    }
    for (field, values) in [fields.pkg, fields.license, fields.vuln, fields.fixable].into_iter().zip(terms) {
        for value in values {
            document.add_text(field, value);
        }
    }
    Some(document)
}

/// Most documents [`Catalog::describing`] returns.
pub(crate) const MAX_DESCRIBING: usize = 10_000;

/// Which term ranges of a field to walk: byte prefixes, or the whole dictionary.
enum Walk {
    Prefixes(BTreeSet<Vec<u8>>),
    All,
}

/// The package-name prefixes `predicate` can match (the whole dictionary for a licence alone,
/// a leading `*` or a purl whose name cannot be guessed).
fn package_walk(predicate: Option<&Predicate>) -> Walk {
    let Some(predicate) = predicate else { return Walk::All };
    let names = predicate.package_names();
    if names.is_empty() {
        return if predicate.licenses().is_empty() { Walk::Prefixes(BTreeSet::new()) } else { Walk::All };
    }
    let mut prefixes = BTreeSet::new();
    for name in names {
        if let Some(purl) = name.strip_prefix("pkg:") {
            match purl_prefixes(purl) {
                Some(names) => prefixes.extend(names),
                None => return Walk::All,
            }
        } else {
            match name.split_once('*') {
                Some(("", _)) => return Walk::All,
                Some((head, _)) => prefixes.insert(head.as_bytes().to_vec()),
                None => prefixes.insert(format!("{name}{SEP}").into_bytes()),
            };
        }
    }
    Walk::Prefixes(prefixes)
}

/// The name prefixes an SBOM may list the package of purl `type/namespace/name` under: `name`
/// or `namespace/name` (npm scopes, Go modules), `_` for `-` (PyPI).
fn purl_prefixes(purl: &str) -> Option<BTreeSet<Vec<u8>>> {
    let path = purl.split(['@', '?', '#']).next().unwrap_or_default();
    let segments: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|segment| percent_encoding::percent_decode_str(segment).decode_utf8_lossy().to_lowercase())
        .collect();
    if segments.is_empty() {
        return None;
    }
    let mut prefixes = BTreeSet::new();
    for start in 0..segments.len() {
        let candidate = segments[start..].join("/");
        prefixes.insert(format!("{}{SEP}", candidate.replace('-', "_")).into_bytes());
        prefixes.insert(format!("{candidate}{SEP}").into_bytes());
    }
    Some(prefixes)
}

/// The `pkg` terms of versionless purl `purl` (`pkg:deb/debian/openssl`): looked for under the
/// names an SBOM gives it, and in the whole dictionary when none is there.
pub(crate) fn purl_terms(searcher: &tantivy::Searcher, fields: &Fields, purl: &str) -> Result<Vec<Term>> {
    let named = purl_prefixes(purl.strip_prefix("pkg:").unwrap_or(purl)).map_or(Walk::All, Walk::Prefixes);
    for walk in [named, Walk::All] {
        let mut terms = BTreeSet::new();
        for segment in searcher.segment_readers() {
            each_term(segment, fields.pkg, &walk, &mut |key, _| {
                if parse_package_term(key).is_some_and(|package| package.purl.as_deref() == Some(purl)) {
                    terms.insert(String::from_utf8_lossy(key).into_owned());
                }
                Ok(())
            })?;
        }
        if !terms.is_empty() {
            return Ok(terms.iter().map(|term| Term::from_field_text(fields.pkg, term)).collect());
        }
    }
    Ok(Vec::new())
}

/// The advisory-id prefixes `predicate` can match (the whole dictionary for `fixable:` alone).
fn finding_walk(predicate: Option<&Predicate>) -> Walk {
    let Some(predicate) = predicate else { return Walk::All };
    let advisories = predicate.advisories();
    if advisories.is_empty() {
        return if predicate.about_findings() { Walk::All } else { Walk::Prefixes(BTreeSet::new()) };
    }
    let mut prefixes = BTreeSet::new();
    for advisory in advisories {
        let upper = advisory.to_ascii_uppercase();
        match upper.split_once('*') {
            Some(("", _)) => return Walk::All,
            Some((head, _)) => prefixes.insert(head.as_bytes().to_vec()),
            None => prefixes.insert(format!("{upper}{SEP}").into_bytes()),
        };
    }
    Walk::Prefixes(prefixes)
}

/// What a failed read of the facts' postings says.
const READ_FACTS: &str = "cannot read the facts of SBOMs and scans";

/// Calls `visit` with each term of `field` in `walk` and its term info.
fn each_term(
    segment: &SegmentReader,
    field: tantivy::schema::Field,
    walk: &Walk,
    visit: &mut dyn FnMut(&[u8], &tantivy::postings::TermInfo) -> Result<()>,
) -> Result<()> {
    let index = segment.inverted_index(field).map_err(index_error("cannot read the facts of SBOMs and scans"))?;
    match walk {
        Walk::All => {
            let mut stream = index.terms().stream().map_err(io_error(READ_FACTS))?;
            while stream.advance() {
                visit(stream.key(), stream.value())?;
            }
        }
        Walk::Prefixes(prefixes) => {
            for prefix in prefixes {
                let mut stream = index.terms().range().ge(prefix).into_stream().map_err(io_error(READ_FACTS))?;
                while stream.advance() {
                    if !stream.key().starts_with(prefix) {
                        break;
                    }
                    visit(stream.key(), stream.value())?;
                }
            }
        }
    }
    Ok(())
}

/// Calls `found` with each term of `field` in `walk` and the documents of `targets` (sorted
/// ascending) whose postings hold it.
fn walk_terms(
    segment: &SegmentReader,
    field: tantivy::schema::Field,
    walk: &Walk,
    targets: &[DocId],
    found: &mut dyn FnMut(&[u8], DocId),
) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    let index = segment.inverted_index(field).map_err(index_error("cannot read the facts of SBOMs and scans"))?;
    each_term(segment, field, walk, &mut |key, info| {
        let mut postings =
            index.read_postings_from_terminfo(info, IndexRecordOption::Basic).map_err(io_error(READ_FACTS))?;
        for &target in targets {
            let doc = match postings.doc() {
                TERMINATED => break,
                // Past this one already (seek only goes forward).
                current if current > target => continue,
                current if current == target => current,
                _ => postings.seek(target),
            };
            if doc == target {
                found(key, target);
            }
        }
        Ok(())
    })
}

impl Catalog {
    /// The SBOMs and scans that describe any of the artifacts `keys` name (at most
    /// [`MAX_DESCRIBING`], newest first), with their packages and findings read back from the
    /// index: every one when `about` is `None`, else those the predicate is about.
    pub fn describing(&self, keys: &[String], about: Option<&Predicate>) -> Result<Vec<ArtifactDoc>> {
        let searcher = self.reader.searcher();
        let query = TermSetQuery::new(keys.iter().map(|key| Term::from_field_text(self.fields.describes, key)));
        let top = TopDocs::with_limit(MAX_DESCRIBING)
            .order_by_fast_field::<tantivy::DateTime>(crate::schema::FIELD_CREATED, Order::Desc);
        let hits = searcher.search(&query, &top).map_err(index_error("cannot find what describes artifacts"))?;
        let mut documents: Vec<ArtifactDoc> =
            hits.into_iter().map(|(_, address)| self.stored(&searcher, address)).collect::<Result<_>>()?;
        let wanted: BTreeMap<String, usize> = documents
            .iter()
            .enumerate()
            .map(|(at, document)| (artifact_key(&document.registry, &document.repository, &document.digest), at))
            .collect();
        let (packages, findings) = (package_walk(about), finding_walk(about));
        for segment in searcher.segment_readers() {
            // Which of this segment's facts documents belong to which returned document.
            let keys = segment.inverted_index(self.fields.key).map_err(index_error("cannot read keys"))?;
            let mut targets: BTreeMap<DocId, usize> = BTreeMap::new();
            for (key, at) in &wanted {
                let term = Term::from_field_text(self.fields.key, &facts_key(key));
                let Some(mut postings) =
                    keys.read_postings(&term, IndexRecordOption::Basic).map_err(io_error(READ_FACTS))?
                else {
                    continue;
                };
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if !segment.is_deleted(doc) {
                        targets.insert(doc, *at);
                    }
                    doc = postings.advance();
                }
            }
            let docs: Vec<DocId> = targets.keys().copied().collect();
            walk_terms(segment, self.fields.pkg, &packages, &docs, &mut |term, doc| {
                let Some(package) = parse_package_term(term) else { return };
                if about.is_none_or(|predicate| predicate.matches_package(&package)) {
                    documents[targets[&doc]].packages.push(package);
                }
            })?;
            walk_terms(segment, self.fields.vuln, &findings, &docs, &mut |term, doc| {
                let Some(finding) = parse_finding_term(term) else { return };
                if about.is_none_or(|predicate| predicate.matches_finding(&finding)) {
                    merge_finding(&mut documents[targets[&doc]].findings, finding);
                }
            })?;
        }
        Ok(documents)
    }
}

/// Adds `finding` to `findings`, or its aliases to the same finding met under another id.
fn merge_finding(findings: &mut Vec<FindingFact>, finding: FindingFact) {
    let same = findings.iter_mut().find(|known| {
        known.id == finding.id && known.package == finding.package && known.installed == finding.installed
    });
    match same {
        Some(known) => {
            for alias in finding.aliases {
                if !known.aliases.contains(&alias) {
                    known.aliases.push(alias);
                }
            }
        }
        None => findings.push(finding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_terms_hold_the_whole_package() {
        let package = PackageFact {
            name: "Jinja2".into(),
            version: Some("3.1.4".into()),
            ecosystem: Some("PyPI".into()),
            purl: Some("pkg:pypi/jinja2".into()),
            licenses: vec!["BSD-3-Clause".into(), "MIT".into()],
        };
        let term = package_term(&package);
        assert!(term.starts_with("jinja2\u{0}pypi\u{0}3.1.4\u{0}"), "{term:?}");
        let back = parse_package_term(term.as_bytes()).unwrap();
        assert_eq!(back, PackageFact { ecosystem: Some("pypi".into()), ..package });
        let bare = PackageFact { name: "musl".into(), version: None, ecosystem: None, purl: None, licenses: vec![] };
        assert_eq!(parse_package_term(package_term(&bare).as_bytes()).unwrap(), bare);
        assert_eq!(parse_package_term(b"only\0three\0parts"), None);
    }

    #[test]
    fn finding_terms_are_found_by_id_and_by_alias() {
        let finding = FindingFact {
            id: "GHSA-rxwq-x6h5-x525".into(),
            package: "xz-utils".into(),
            installed: Some("5.6.0".into()),
            fixed: None,
            severity: "critical".into(),
            aliases: vec!["CVE-2024-3094".into()],
        };
        let terms = finding_terms(&finding);
        assert_eq!(terms.len(), 2);
        assert!(terms[0].starts_with("GHSA-RXWQ-X6H5-X525\u{0}"));
        assert!(terms[1].starts_with("CVE-2024-3094\u{0}"));
        assert_eq!(
            parse_finding_term(terms[0].as_bytes()).unwrap(),
            FindingFact { aliases: vec![], ..finding.clone() }
        );
        let by_alias = parse_finding_term(terms[1].as_bytes()).unwrap();
        assert_eq!(
            (by_alias.id.as_str(), by_alias.aliases.as_slice()),
            ("GHSA-rxwq-x6h5-x525", &["CVE-2024-3094".to_owned()][..])
        );
        let mut merged = Vec::new();
        merge_finding(&mut merged, parse_finding_term(terms[0].as_bytes()).unwrap());
        merge_finding(&mut merged, by_alias);
        assert_eq!(merged, vec![finding]);
    }

    #[test]
    fn purls_are_looked_up_under_the_names_sboms_give_them() {
        let predicate = Predicate::of("pkg:\"pkg:npm/%40babel/core@7.0.0\"");
        let Walk::Prefixes(prefixes) = package_walk(Some(&predicate)) else { panic!("a purl walks its names") };
        assert!(prefixes.contains("@babel/core\u{0}".as_bytes()) && prefixes.contains("core\u{0}".as_bytes()));
        let Walk::Prefixes(prefixes) = package_walk(Some(&Predicate::of("pkg:log4j*"))) else { panic!() };
        assert_eq!(prefixes.into_iter().collect::<Vec<_>>(), vec![b"log4j".to_vec()]);
        assert!(matches!(package_walk(Some(&Predicate::of("license:MIT"))), Walk::All));
        assert!(matches!(package_walk(Some(&Predicate::of("cve:CVE-1"))), Walk::Prefixes(p) if p.is_empty()));
        assert!(matches!(finding_walk(Some(&Predicate::of("fixable:true"))), Walk::All));
    }
}
