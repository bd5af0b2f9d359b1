//! Tags: which tags name versions (not referrer plumbing), their semver order, and the paged
//! tag list of a repository — one small document per (repository, tag), sorted and paged by
//! tantivy's fast fields so a 10k-tag repository costs one page of documents.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::{DocAddress, Order};

use crate::document::{ArtifactDoc, ReferrerSummary};
use crate::error::{Result, index_error};
use crate::reader::Catalog;
use crate::schema::{FIELD_TAG_CREATED, FIELD_TAG_NAME, FIELD_TAG_ORDER};

/// The digest a referrer tag names: `sha256-<hex>` (fallback index) or cosign's
/// `sha256-<hex>.sig|.att|.sbom`; sha512 likewise.
pub fn referrer_tag_subject(tag: &str) -> Option<String> {
    ocicat_oci::Digest::of_referrer_tag(tag).map(|digest| digest.to_string())
}

/// True for tags that name versions; false for referrer fallback and cosign tags.
pub fn is_version_tag(tag: &str) -> bool {
    referrer_tag_subject(tag).is_none()
}

/// True for `sha256-<hex>` (or sha512): the referrers fallback index tag, not a cosign tag.
pub fn is_fallback_tag(tag: &str) -> bool {
    !tag.contains('.') && referrer_tag_subject(tag).is_some()
}

/// The digest a cosign tag attaches its artifact to.
pub fn cosign_tag_subject(tag: &str) -> Option<String> {
    tag.contains('.').then(|| referrer_tag_subject(tag)).flatten()
}

/// A key whose byte order is semver order: versions (`v1.2.3`, `1.10`, `2.0.0-rc.1`) above every
/// other tag, releases above their pre-releases; other tags by name.
pub(crate) fn semver_key(tag: &str) -> String {
    let version = tag.strip_prefix('v').unwrap_or(tag);
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version.split('+').next().unwrap_or(version), None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = !core.is_empty()
        && parts.len() <= 4
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 10 && p.bytes().all(|b| b.is_ascii_digit()));
    if !numeric {
        let mut key = String::with_capacity(tag.len() + 1);
        key.push('0');
        key.push_str(tag);
        return key;
    }
    let mut key = String::with_capacity(64);
    key.push('1');
    for index in 0..4 {
        let number: u64 = parts.get(index).and_then(|part| part.parse().ok()).unwrap_or(0);
        push_padded(&mut key, number);
    }
    match pre {
        // '~' sorts after every pre-release character: a release is above its release candidates.
        None => key.push('~'),
        Some(pre) => {
            key.push('0');
            for identifier in pre.split('.') {
                match identifier.parse::<u64>() {
                    Ok(number) => push_padded(&mut key, number),
                    Err(_) => {
                        key.push_str(identifier);
                        key.push('.');
                    }
                }
            }
        }
    }
    key
}

/// Appends `number` zero-padded to ten digits (more when it has more) and a dot: what
/// `format!("{number:010}.")` writes, without the formatting machinery (a key per tag indexed).
fn push_padded(key: &mut String, number: u64) {
    let mut digits = [b'0'; 20];
    let mut start = digits.len();
    let mut rest = number;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for _ in (digits.len() - start)..10 {
        key.push('0');
    }
    key.extend(digits[start..].iter().map(|digit| char::from(*digit)));
    key.push('.');
}

/// One tag of a repository, as the tag table shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagEntry {
    /// The tag.
    pub tag: String,
    /// The manifest it points at.
    pub digest: String,
    /// Coarse kind of that manifest.
    pub kind: crate::ArtifactKind,
    /// Its media type.
    pub media_type: String,
    /// Its artifact type, if any.
    pub artifact_type: Option<String>,
    /// Its platforms.
    pub platforms: Vec<String>,
    /// Its total size in bytes.
    pub size: u64,
    /// Its created date.
    #[serde(serialize_with = "crate::rfc3339::serialize_option")]
    pub created: Option<DateTime<Utc>>,
    /// Its end of life.
    #[serde(serialize_with = "crate::rfc3339::serialize_option")]
    pub end_of_life: Option<DateTime<Utc>>,
    /// What is attached to it.
    pub referrers: ReferrerSummary,
}

impl TagEntry {
    /// The entries of every version tag of `artifact`.
    pub(crate) fn of(artifact: &ArtifactDoc) -> Vec<TagEntry> {
        artifact
            .tags
            .iter()
            .filter(|tag| is_version_tag(tag))
            .map(|tag| TagEntry {
                tag: tag.clone(),
                digest: artifact.digest.clone(),
                kind: artifact.kind,
                media_type: artifact.media_type.clone(),
                artifact_type: artifact.artifact_type.clone(),
                platforms: artifact.platforms.clone(),
                size: artifact.size,
                created: artifact.created,
                end_of_life: artifact.end_of_life,
                referrers: artifact.referrers.clone(),
            })
            .collect()
    }
}

/// Orders of the tag list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TagSort {
    /// Newest created first.
    #[default]
    Newest,
    /// By tag name, A to Z.
    Name,
    /// Highest version first (non-version tags after, by name).
    Semver,
}

/// One page of a repository's tags and how many match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagPage {
    /// Tags matching the filter.
    pub total: u64,
    /// This page of them.
    pub items: Vec<TagEntry>,
}

impl Catalog {
    /// One page of the version tags of a repository whose name contains `filter`.
    pub fn tags(
        &self,
        registry: &str,
        repository: &str,
        filter: &str,
        sort: TagSort,
        offset: usize,
        limit: usize,
    ) -> Result<TagPage> {
        let searcher = self.reader.searcher();
        let mut clauses = vec![
            self.of_type(crate::schema::DocType::Tag),
            self.term(self.fields.registry, registry),
            self.term(self.fields.repository, repository),
        ];
        let filter = filter.trim();
        if !filter.is_empty() {
            clauses.push(crate::by_name::containing(&searcher, self.fields.tag_name, filter)?);
        }
        let query = self.all_of(clauses);
        let top = TopDocs::with_limit(limit.clamp(1, 500)).and_offset(offset.min(1_000_000));
        let error = || index_error("cannot list tags");
        let (addresses, total): (Vec<DocAddress>, usize) = match sort {
            TagSort::Newest => {
                let collector = (top.order_by_fast_field::<tantivy::DateTime>(FIELD_TAG_CREATED, Order::Desc), Count);
                let (hits, total) = searcher.search(&query, &collector).map_err(error())?;
                (hits.into_iter().map(|(_, address)| address).collect(), total)
            }
            TagSort::Name | TagSort::Semver => {
                let (field, order) =
                    if sort == TagSort::Name { (FIELD_TAG_NAME, Order::Asc) } else { (FIELD_TAG_ORDER, Order::Desc) };
                let collector = (top.order_by_string_fast_field(field, order), Count);
                let (hits, total) = searcher.search(&query, &collector).map_err(error())?;
                (hits.into_iter().map(|(_, address)| address).collect(), total)
            }
        };
        let items = addresses.into_iter().map(|address| self.stored(&searcher, address)).collect::<Result<_>>()?;
        Ok(TagPage { total: total as u64, items })
    }
}

impl Catalog {
    /// The digest `tag` points at in `registry`/`repository`, if the tag is indexed.
    pub fn tag_digest(&self, registry: &str, repository: &str, tag: &str) -> Result<Option<String>> {
        let searcher = self.reader.searcher();
        let query = self.all_of(vec![
            self.of_type(crate::schema::DocType::Tag),
            self.term(self.fields.registry, registry),
            self.term(self.fields.repository, repository),
            self.term(self.fields.tag_name, tag),
        ]);
        let hits = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(index_error("cannot find the tag"))?;
        hits.first()
            .map(|(_, address)| self.stored::<TagEntry>(&searcher, *address).map(|entry| entry.digest))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_tags_are_not_versions() {
        let hex = "a".repeat(64);
        assert!(!is_version_tag(&format!("sha256-{hex}")));
        assert!(!is_version_tag(&format!("sha256-{hex}.sig")));
        assert!(!is_version_tag(&format!("sha512-{}", "b".repeat(128))));
        assert!(is_version_tag(&format!("sha256-{hex}.tar")));
        assert!(is_version_tag("sha256-not-a-digest"));
        assert!(is_fallback_tag(&format!("sha256-{hex}")) && !is_fallback_tag(&format!("sha256-{hex}.att")));
        assert_eq!(cosign_tag_subject(&format!("sha256-{hex}.sig")), Some(format!("sha256:{hex}")));
        assert_eq!(cosign_tag_subject(&format!("sha256-{hex}")), None);
    }

    #[test]
    fn semver_keys_order_like_versions() {
        let mut tags =
            vec!["latest", "1.2.3", "v1.10.0", "1.2.3-rc.1", "1.2.3-rc.10", "1.2", "2", "main", "1.2.3-alpha"];
        tags.sort_by_key(|tag| std::cmp::Reverse(semver_key(tag)));
        assert_eq!(
            tags,
            ["2", "v1.10.0", "1.2.3", "1.2.3-rc.10", "1.2.3-rc.1", "1.2.3-alpha", "1.2", "main", "latest"]
        );
    }

    #[test]
    fn padded_numbers_are_what_format_writes() {
        // Stored tag-order terms: the padding must not change under existing indexes.
        for number in [0, 7, 42, 9_999_999_999, 10_000_000_000, u64::MAX] {
            let mut key = String::new();
            push_padded(&mut key, number);
            assert_eq!(key, format!("{number:010}."));
        }
        assert_eq!(semver_key("v1.2.3-rc.1"), "10000000001.0000000002.0000000003.0000000000.0rc.0000000001.");
        assert_eq!(semver_key("latest"), "0latest");
    }
}
