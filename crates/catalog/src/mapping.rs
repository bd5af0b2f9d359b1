//! The mapping of the catalog's documents to tantivy documents: every indexed field of an
//! artifact (free text, annotations, dates), repository summaries, crawl checkpoints and one
//! small document per version tag.

use std::collections::BTreeMap;

use tantivy::TantivyDocument;

use crate::document::{ArtifactDoc, CrawlCheckpoint, RepositoryDoc};
use crate::keys::{artifact_hash, checkpoint_key, joined_key, repository_key};
use crate::query::tantivy_date;
use crate::schema::{DocType, Fields, day_number};

/// Every document the writer adds for `artifact`: its own, one per version tag, and its facts
/// document when its packages or findings were just read.
pub(crate) fn artifact_documents(fields: &Fields, artifact: &ArtifactDoc) -> impl Iterator<Item = TantivyDocument> {
    let facts = crate::facts::facts_document(fields, artifact);
    let keys = Keys {
        hash: artifact_hash(&artifact.registry, &artifact.repository, &artifact.digest),
        repository: repository_key(&artifact.registry, &artifact.repository),
    };
    let tags = tag_documents(fields, artifact, &keys);
    std::iter::once(artifact_document(fields, artifact, &keys)).chain(tags).chain(facts)
}

/// The keys an artifact's documents share, computed once.
struct Keys {
    /// [`artifact_hash`] of the artifact.
    hash: u64,
    /// Its repository's key.
    repository: String,
}

fn artifact_document(fields: &Fields, artifact: &ArtifactDoc, keys: &Keys) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    let doc_type = if artifact.referrers_index { DocType::ReferrersIndex } else { DocType::Artifact };
    document.add_text(fields.doc_type, doc_type.as_str());
    document.add_u64(fields.key_hash, keys.hash);
    // The delete term of the artifact and its tag documents (they carry the same).
    document.add_u64(fields.artifact_hash, keys.hash);
    document.add_text(fields.repo_key, &keys.repository);
    document.add_text(fields.registry, &artifact.registry);
    document.add_text(fields.repository, &artifact.repository);
    document.add_text(fields.digest, &artifact.digest);
    for tag in &artifact.tags {
        document.add_text(fields.tags, tag);
    }
    document.add_text(fields.kind, artifact.kind.as_str());
    document.add_text(fields.media_type, &artifact.media_type);
    if let Some(artifact_type) = &artifact.artifact_type {
        document.add_text(fields.artifact_type, artifact_type);
    }
    for platform in &artifact.platforms {
        document.add_text(fields.platforms, platform);
    }
    document.add_u64(fields.size, artifact.size);
    if let Some(created) = artifact.created.and_then(tantivy_date) {
        document.add_date(fields.created, created);
        document.add_i64(fields.created_day, day_number(created.into_timestamp_secs()));
    }
    if let Some(end_of_life) = artifact.end_of_life.and_then(tantivy_date) {
        document.add_date(fields.end_of_life, end_of_life);
        document.add_i64(fields.end_of_life_day, day_number(end_of_life.into_timestamp_secs()));
    }
    for kind in &artifact.attached {
        document.add_text(fields.attached, kind);
    }
    let trust = &artifact.referrers.trust;
    if trust.statuses.is_empty() {
        document.add_text(fields.signature, "none");
    }
    for status in &trust.statuses {
        document.add_text(fields.signature, status.as_str());
    }
    for policy in &trust.policies {
        document.add_text(fields.trust, policy);
    }
    for signer in &trust.signers {
        document.add_text(fields.signer, signer);
    }
    for child in &artifact.children {
        document.add_u64(fields.child_hashes, artifact_hash(&artifact.registry, &artifact.repository, &child.digest));
    }
    if let Some(target) = &artifact.refers_to {
        document.add_text(fields.refers_to, target);
    }
    if let Some(found) = &artifact.referrers.vulnerabilities {
        document.add_u64(fields.vulns_critical, found.critical);
        document.add_u64(fields.vulns_high, found.high);
        document.add_u64(fields.vulns_medium, found.medium);
        document.add_u64(fields.vulns_low, found.low);
        document.add_u64(fields.vulns_unknown, found.unknown);
        document.add_u64(fields.vulns_total, found.total());
    }
    add_search_fields(fields, artifact, &mut document);
    add_impact_fields(fields, artifact, &mut document);
    document.add_text(fields.body, json_body(artifact, 2048));
    document
}

/// `value` as JSON, written into a buffer of `capacity` bytes to start with (serialising into
/// an empty string grows it a dozen times).
fn json_body(value: &impl serde::Serialize, capacity: usize) -> String {
    let mut body = Vec::with_capacity(capacity);
    if serde_json::to_writer(&mut body, value).is_err() {
        return String::new();
    }
    String::from_utf8(body).unwrap_or_default()
}

/// Free text, annotations (labels first, so a manifest annotation wins) and date-valued ones.
fn add_search_fields(fields: &Fields, artifact: &ArtifactDoc, document: &mut TantivyDocument) {
    let mut text = String::with_capacity(512);
    text.push_str(&artifact.repository);
    for tag in &artifact.tags {
        text.push(' ');
        text.push_str(tag);
    }
    for word in [artifact.kind.as_str(), &artifact.media_type].into_iter().chain(artifact.artifact_type.as_deref()) {
        text.push(' ');
        text.push_str(word);
    }
    let own = artifact.labels.iter().chain(artifact.annotations.iter().filter(|_| !artifact.lends_annotations));
    let from_indexes = artifact
        .descriptor_annotations
        .iter()
        .filter(|(key, _)| !artifact.annotations.contains_key(*key) && !artifact.labels.contains_key(*key));
    // Attached later by a maintainer: searchable like its own, and the later word on a date.
    let attached = artifact.attached_annotations.iter().map(|(key, attached)| (key, &attached.value));
    let mut dates = BTreeMap::new();
    for (key, value) in from_indexes.chain(own).chain(attached) {
        text.push(' ');
        text.push_str(value);
        document.add_text(fields.annotations, joined_key(&[key, value]));
        if let Some(date) = crate::query::date_value(value).and_then(tantivy_date) {
            // Later entries win, as for the annotations themselves.
            dates.insert(crate::schema::annotation_date_path(key), date);
        }
    }
    if !dates.is_empty() {
        let days = dates.iter().map(|(path, date)| {
            (path.clone(), tantivy::schema::OwnedValue::I64(day_number(date.into_timestamp_secs())))
        });
        document.add_object(fields.annotation_days, days.collect());
        let dates = dates.into_iter().map(|(path, date)| (path, tantivy::schema::OwnedValue::Date(date)));
        document.add_object(fields.annotation_dates, dates.collect());
    }
    document.add_text(fields.text, text);
}

/// The keys of the artifacts an SBOM or scan describes, for `describing` (its facts, and the
/// hash impact clauses join on, are on its own facts document, `crate::facts`).
fn add_impact_fields(fields: &Fields, artifact: &ArtifactDoc, document: &mut TantivyDocument) {
    for key in &artifact.describes {
        document.add_text(fields.describes, key);
    }
}

pub(crate) fn repository_document(fields: &Fields, repository: &RepositoryDoc) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, DocType::Repository.as_str());
    // A two-part key: never equal to an artifact's three-part one.
    document.add_text(fields.key, repository_key(&repository.registry, &repository.repository));
    document.add_text(fields.repo_key, repository_key(&repository.registry, &repository.repository));
    document.add_text(fields.registry, &repository.registry);
    document.add_text(fields.repository, &repository.repository);
    for suffix in crate::by_name::suffixes(&repository.repository) {
        document.add_text(fields.name_suffixes, suffix);
    }
    document.add_u64(fields.tag_count, repository.tag_count);
    document.add_u64(fields.artifact_count, repository.artifact_count);
    // Every repository gets a sort date, so none drops out of the "last push" order; one with
    // no known push sorts last (its stored summary still says "unknown").
    let last_push = repository.last_push.and_then(tantivy_date).unwrap_or(tantivy::DateTime::from_timestamp_secs(0));
    document.add_date(fields.last_push, last_push);
    document.add_text(fields.body, serde_json::to_string(repository).unwrap_or_default());
    document
}

/// The key of the one document that holds a replica's change-log position.
pub(crate) const POSITION_KEY: &str = "position";

/// The document of a replica's change-log position `seq`.
pub(crate) fn position_document(fields: &Fields, seq: i64) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, DocType::Position.as_str());
    document.add_text(fields.key, POSITION_KEY);
    document.add_text(fields.body, serde_json::json!({ "seq": seq }).to_string());
    document
}

pub(crate) fn checkpoint_document(fields: &Fields, checkpoint: &CrawlCheckpoint) -> TantivyDocument {
    let mut document = TantivyDocument::default();
    document.add_text(fields.doc_type, DocType::Crawl.as_str());
    document.add_text(fields.key, checkpoint_key(&checkpoint.registry));
    document.add_text(fields.registry, &checkpoint.registry);
    document.add_text(fields.body, serde_json::to_string(checkpoint).unwrap_or_default());
    document
}

/// One small document per version tag of `artifact`, replaced whenever the artifact is.
fn tag_documents(fields: &Fields, artifact: &ArtifactDoc, keys: &Keys) -> Vec<TantivyDocument> {
    crate::tags::TagEntry::of(artifact)
        .into_iter()
        .map(|entry| {
            let mut document = TantivyDocument::default();
            document.add_text(fields.doc_type, DocType::Tag.as_str());
            document.add_u64(fields.artifact_hash, keys.hash);
            document.add_text(fields.repo_key, &keys.repository);
            document.add_text(fields.registry, &artifact.registry);
            document.add_text(fields.repository, &artifact.repository);
            document.add_text(fields.tag_name, &entry.tag);
            document.add_text(fields.tag_order, crate::tags::semver_key(&entry.tag));
            if let Some(created) = entry.created.and_then(tantivy_date) {
                document.add_date(fields.tag_created, created);
            }
            document.add_text(fields.body, json_body(&entry, 512));
            document
        })
        .collect()
}
