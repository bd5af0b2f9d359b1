//! The only file that names index fields. Changing the schema means bumping [`SCHEMA_VERSION`]:
//! the index lives in `index-v{SCHEMA_VERSION}` and an older directory is rebuilt by a crawl.

use std::path::Path;

use tantivy::Index;
use tantivy::schema::{
    DateOptions, DateTimePrecision, IndexRecordOption, JsonObjectOptions, NumericOptions, STORED, Schema, TEXT,
    TextFieldIndexing, TextOptions,
};

use crate::error::{Result, index_error, io_error};

/// Bump on any change to [`build_schema`], or when stored documents must be read again from
/// their registries (v9: attestations keep the evidence of their signed envelopes).
/// v11: impact facts move to their own documents, as terms only.
/// v12: artifacts and their tags are deleted by the hash of the artifact's key (no long key
/// terms), an artifact is found by repository and digest, and the unread `subject` postings
/// are gone.
/// v13: the raw manifest and config leave the stored documents (read from the registry when
/// asked for); what pages read of them is kept parsed. An index's children are found by the
/// hash of their key (`child_hashes`), no longer by digest terms.
/// v14: repository summaries carry their name's suffixes (`name_suffixes`), so a name filter
/// on the registry page is a term range instead of a pass over every name.
/// v15: `created` and `end_of_life` are also indexed by day (`created_day`, `end_of_life_day`),
/// so a date range reads the postings of its days instead of every document's column.
/// v16: date-valued annotations are indexed by day as well (`annotation_days`).
pub const SCHEMA_VERSION: u32 = 16;

/// Field names that the fast-field collectors take by name.
pub(crate) const FIELD_REPOSITORY: &str = "repository";
pub(crate) const FIELD_LAST_PUSH: &str = "last_push";
pub(crate) const FIELD_TAG_COUNT: &str = "tag_count";

/// What a document of the index is: the values of the `doc_type` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DocType {
    /// A manifest.
    Artifact,
    /// An `<alg>-<hex>` fallback index: kept for crawls, left out of search and counts.
    ReferrersIndex,
    /// A version tag (one per tag, for paging a repository's tags).
    Tag,
    /// A repository summary.
    Repository,
    /// A registry's crawl checkpoint.
    Crawl,
    /// The packages of an SBOM or findings of a scan, as terms (`crate::facts`): written when
    /// the crawler reads the document, kept while its artifact document is rewritten.
    Facts,
    /// How far a replica applied the shared change log (one document).
    Position,
}

impl DocType {
    /// The term stored in `doc_type`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DocType::Artifact => "artifact",
            DocType::ReferrersIndex => "referrers_index",
            DocType::Tag => "tag",
            DocType::Repository => "repository",
            DocType::Crawl => "crawl",
            DocType::Facts => "facts",
            DocType::Position => "position",
        }
    }
}

/// Every field handle, kept so nothing else looks fields up by name.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    /// `artifact`, `referrers_index`, `tag`, `repository` or `crawl` (a registry's checkpoint).
    pub(crate) doc_type: tantivy::schema::Field,
    /// Upsert key of the documents that are not artifacts or tags: registry and repository
    /// joined by NUL for a repository summary; see `keys::checkpoint_key` for a checkpoint
    /// and `facts::facts_key` for facts. An artifact is found by `repo_key` and `digest`.
    pub(crate) key: tantivy::schema::Field,
    /// Registry and repository joined by NUL: replaces a whole repository at once.
    pub(crate) repo_key: tantivy::schema::Field,
    pub(crate) registry: tantivy::schema::Field,
    pub(crate) repository: tantivy::schema::Field,
    /// A repository summary's name from each character on, cut to a few dozen bytes
    /// (`by_name::suffixes`): a name contains a filter when one of them starts with it.
    pub(crate) name_suffixes: tantivy::schema::Field,
    pub(crate) digest: tantivy::schema::Field,
    pub(crate) tags: tantivy::schema::Field,
    pub(crate) kind: tantivy::schema::Field,
    pub(crate) media_type: tantivy::schema::Field,
    pub(crate) artifact_type: tantivy::schema::Field,
    pub(crate) platforms: tantivy::schema::Field,
    pub(crate) size: tantivy::schema::Field,
    pub(crate) created: tantivy::schema::Field,
    /// Artifact docs: the day of `created` (`day_number`), indexed only: what date ranges read
    /// (`query::dates`).
    pub(crate) created_day: tantivy::schema::Field,
    /// Repository docs: the newest created/indexed date of their artifacts.
    pub(crate) last_push: tantivy::schema::Field,
    pub(crate) tag_count: tantivy::schema::Field,
    pub(crate) artifact_count: tantivy::schema::Field,
    /// The whole document as JSON (stored only): what pages render.
    pub(crate) body: tantivy::schema::Field,
    /// Free text: repository, tags, kind, types, annotation and label values (tokenized).
    pub(crate) text: tantivy::schema::Field,
    /// Annotations and labels as `key NUL value` terms (exact matches).
    pub(crate) annotations: tantivy::schema::Field,
    /// Date-valued annotations and labels as a JSON object of dates (fast only): the edge days
    /// of a range on one key are checked against that key's column.
    pub(crate) annotation_dates: tantivy::schema::Field,
    /// The same keys' days (`day_number`), indexed only: a range on one key reads the postings
    /// of its whole days (like `created_day`).
    pub(crate) annotation_days: tantivy::schema::Field,
    /// The earliest end-of-life date from lifecycle referrers or annotations.
    pub(crate) end_of_life: tantivy::schema::Field,
    /// The day of `end_of_life`, indexed only (like `created_day`).
    pub(crate) end_of_life_day: tantivy::schema::Field,
    /// Kinds of what is attached (`has:signature`).
    pub(crate) attached: tantivy::schema::Field,
    /// Verdict statuses of the attached signatures, or `none` (`signature:verified`).
    pub(crate) signature: tantivy::schema::Field,
    /// Policies that verified an attached signature (`trust:release`).
    pub(crate) trust: tantivy::schema::Field,
    /// Identities of the attached signatures' signers (`signer:"…"`).
    pub(crate) signer: tantivy::schema::Field,
    /// Findings of the newest attached scan, by severity (`vulns.critical > 0`); absent when
    /// no scan was read.
    pub(crate) vulns_critical: tantivy::schema::Field,
    pub(crate) vulns_high: tantivy::schema::Field,
    pub(crate) vulns_medium: tantivy::schema::Field,
    pub(crate) vulns_low: tantivy::schema::Field,
    pub(crate) vulns_unknown: tantivy::schema::Field,
    pub(crate) vulns_total: tantivy::schema::Field,
    /// The digest a referrer attaches to: its `subject`, the digest in its cosign tag, or the
    /// image a buildx attestation manifest attests.
    pub(crate) refers_to: tantivy::schema::Field,
    /// Facts documents: one term per package of an SBOM and per finding (and alias) of a scan,
    /// each holding the whole fact (`crate::facts` encodes them); licence ids (lowercased) and
    /// `fixable` (`true` when a finding names a fixed version, `false` when one does not).
    pub(crate) pkg: tantivy::schema::Field,
    pub(crate) license: tantivy::schema::Field,
    pub(crate) vuln: tantivy::schema::Field,
    pub(crate) fixable: tantivy::schema::Field,
    /// Facts documents: the key hash (`keys::artifact_hash`) of the artifact the SBOM or scan
    /// refers to (fast; what an impact clause joins on).
    pub(crate) subject_hash: tantivy::schema::Field,
    /// Artifact documents: the hash of their own key, and an index's of its children's keys in
    /// its repository (fast: an impact clause matches an image and the indexes listing it; the
    /// children's also indexed: what a `parents` lookup asks, 8 bytes a term, not a digest's 71).
    pub(crate) key_hash: tantivy::schema::Field,
    pub(crate) child_hashes: tantivy::schema::Field,
    /// SBOM and scan documents: the keys of the artifacts they describe (what `describing`
    /// looks up).
    pub(crate) describes: tantivy::schema::Field,
    /// Artifact and tag documents: the key hash (`keys::artifact_hash`) of the artifact (the tag
    /// points at), indexed: the one term that deletes an artifact with its tags.
    pub(crate) artifact_hash: tantivy::schema::Field,
    /// Tag documents: the tag.
    pub(crate) tag_name: tantivy::schema::Field,
    /// Tag documents: the semver order key (`tags::semver_key`).
    pub(crate) tag_order: tantivy::schema::Field,
    /// Tag documents: the created date of the artifact (apart from `created`, so that date
    /// ranges and date sorts of artifacts never visit tags).
    pub(crate) tag_created: tantivy::schema::Field,
}

/// Fast-field names the range collectors take by name.
pub(crate) const FIELD_CREATED: &str = "created";
pub(crate) const FIELD_SIZE: &str = "size";
pub(crate) const FIELD_TAG_NAME: &str = "tag_name";
pub(crate) const FIELD_SUBJECT_HASH: &str = "subject_hash";
pub(crate) const FIELD_KEY_HASH: &str = "key_hash";
pub(crate) const FIELD_CHILD_HASHES: &str = "child_hashes";
pub(crate) const FIELD_TAG_ORDER: &str = "tag_order";
pub(crate) const FIELD_TAG_CREATED: &str = "tag_created";
/// Facet fields, in the order of `search::Facets`: kind, artifact type, registry, repository,
/// platform, signature verdict.
pub(crate) const FACET_FIELDS: [&str; 6] =
    ["kind", "artifact_type", "registry", FIELD_REPOSITORY, "platforms", "signature"];

/// The path of annotation `key` inside the `annotation_dates` object: the key's bytes in hex,
/// one segment whatever the key holds (tantivy splits JSON paths on dots and reads backslashes
/// as escapes, and annotation keys are full of dots).
pub(crate) fn annotation_date_path(key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut path = String::with_capacity(key.len() * 2);
    for byte in key.bytes() {
        path.push(char::from(HEX[usize::from(byte >> 4)]));
        path.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    path
}

/// Seconds in a day of the `*_day` fields (UTC days, leap seconds aside as in Unix time).
pub(crate) const SECONDS_PER_DAY: i64 = 86_400;

/// The day a Unix time falls in: what `created_day` and `end_of_life_day` hold.
pub(crate) fn day_number(seconds: i64) -> i64 {
    seconds.div_euclid(SECONDS_PER_DAY)
}

/// An exact-match string. Only the free-text field is scored, so no field has fieldnorms
/// (a byte per document per field otherwise).
fn keyword() -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer("raw")
        .set_fieldnorms(false)
        .set_index_option(IndexRecordOption::Basic);
    TextOptions::default().set_indexing_options(indexing)
}

/// An exact-match string that is also a fast field (facets, sorts).
fn keyword_fast() -> TextOptions {
    keyword().set_fast("raw")
}

/// A number for ranges (indexed) and sorts or facets (fast).
fn number() -> NumericOptions {
    NumericOptions::default().set_indexed().set_fast()
}

/// A date to the second, fast (ranges and sorts scan the column); `indexed` adds postings.
fn date(indexed: bool) -> DateOptions {
    let options = DateOptions::default().set_fast().set_precision(DateTimePrecision::Seconds);
    if indexed { options.set_indexed() } else { options }
}

pub(crate) fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let fields = Fields {
        doc_type: builder.add_text_field("doc_type", keyword_fast()),
        key: builder.add_text_field("key", keyword()),
        repo_key: builder.add_text_field("repo_key", keyword()),
        registry: builder.add_text_field("registry", keyword_fast()),
        repository: builder.add_text_field(FIELD_REPOSITORY, keyword_fast()),
        name_suffixes: builder.add_text_field("name_suffixes", keyword()),
        digest: builder.add_text_field("digest", keyword()),
        tags: builder.add_text_field("tags", keyword()),
        kind: builder.add_text_field("kind", keyword_fast()),
        media_type: builder.add_text_field("media_type", keyword_fast()),
        artifact_type: builder.add_text_field("artifact_type", keyword_fast()),
        platforms: builder.add_text_field("platforms", keyword_fast()),
        size: builder.add_u64_field(FIELD_SIZE, number()),
        created: builder.add_date_field(FIELD_CREATED, date(false)),
        created_day: builder.add_i64_field("created_day", NumericOptions::default().set_indexed()),
        last_push: builder.add_date_field(FIELD_LAST_PUSH, date(false)),
        tag_count: builder.add_u64_field(FIELD_TAG_COUNT, NumericOptions::default().set_fast()),
        artifact_count: builder.add_u64_field("artifact_count", NumericOptions::default().set_fast()),
        body: builder.add_text_field("body", STORED),
        text: builder.add_text_field("text", TEXT),
        annotations: builder.add_text_field("annotations", keyword()),
        annotation_dates: builder.add_json_field("annotation_dates", JsonObjectOptions::default().set_fast("raw")),
        annotation_days: builder.add_json_field(
            "annotation_days",
            JsonObjectOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("raw")
                    .set_fieldnorms(false)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        ),
        attached: builder.add_text_field("attached", keyword()),
        signature: builder.add_text_field("signature", keyword_fast()),
        trust: builder.add_text_field("trust", keyword()),
        signer: builder.add_text_field("signer", keyword()),
        vulns_critical: builder.add_u64_field("vulns_critical", number()),
        vulns_high: builder.add_u64_field("vulns_high", number()),
        vulns_medium: builder.add_u64_field("vulns_medium", number()),
        vulns_low: builder.add_u64_field("vulns_low", number()),
        vulns_unknown: builder.add_u64_field("vulns_unknown", number()),
        vulns_total: builder.add_u64_field("vulns_total", number()),
        refers_to: builder.add_text_field("refers_to", keyword()),
        pkg: builder.add_text_field("pkg", keyword()),
        license: builder.add_text_field("license", keyword()),
        vuln: builder.add_text_field("vuln", keyword()),
        fixable: builder.add_text_field("fixable", keyword()),
        subject_hash: builder.add_u64_field(FIELD_SUBJECT_HASH, NumericOptions::default().set_fast()),
        key_hash: builder.add_u64_field(FIELD_KEY_HASH, NumericOptions::default().set_fast()),
        child_hashes: builder.add_u64_field(FIELD_CHILD_HASHES, NumericOptions::default().set_fast().set_indexed()),
        describes: builder.add_text_field("describes", keyword()),
        artifact_hash: builder.add_u64_field("artifact_hash", NumericOptions::default().set_indexed()),
        tag_name: builder.add_text_field(FIELD_TAG_NAME, keyword_fast()),
        tag_order: builder.add_text_field(FIELD_TAG_ORDER, keyword_fast()),
        tag_created: builder.add_date_field(FIELD_TAG_CREATED, date(false)),
        end_of_life: builder.add_date_field("end_of_life", date(false)),
        end_of_life_day: builder.add_i64_field("end_of_life_day", NumericOptions::default().set_indexed()),
    };
    (builder.build(), fields)
}

/// Index settings: the document store compressed with zstd, which keeps the stored JSON at
/// about half of lz4's size for a little more CPU per hit.
/// tantivy's 16 KiB blocks stay: 64 KiB saved ~165 B per artifact but every hit read then
/// decompressed four times as much (P5's full-text p50 went from 2 to 26 ms).
pub(crate) fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(3),
        }),
        ..tantivy::IndexSettings::default()
    }
}

/// Opens `data_dir/index-v{SCHEMA_VERSION}`, creating it (and removing older versions) as needed.
pub(crate) fn open_or_create(data_dir: &Path) -> Result<(Index, Fields)> {
    let directory = data_dir.join(format!("index-v{SCHEMA_VERSION}"));
    std::fs::create_dir_all(&directory).map_err(io_error(format!("cannot create {}", directory.display())))?;
    remove_older_versions(data_dir);
    let (schema, fields) = build_schema();
    let mmap = tantivy::directory::MmapDirectory::open(&directory)
        .map_err(|error| index_error(format!("cannot open {}", directory.display()))(error.into()))?;
    let index = match Index::builder().schema(schema.clone()).settings(settings()).open_or_create(mmap) {
        Ok(index) => index,
        Err(tantivy::TantivyError::SchemaError(reason)) => {
            tracing::warn!(index.path = %directory.display(), %reason, "index schema differs, rebuilding");
            std::fs::remove_dir_all(&directory).map_err(io_error(format!("cannot remove {}", directory.display())))?;
            std::fs::create_dir_all(&directory).map_err(io_error(format!("cannot create {}", directory.display())))?;
            Index::builder()
                .schema(schema)
                .settings(settings())
                .create_in_dir(&directory)
                .map_err(index_error("cannot create index"))?
        }
        Err(error) => return Err(index_error(format!("cannot open index at {}", directory.display()))(error)),
    };
    Ok((index, fields))
}

fn remove_older_versions(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let older = name
            .strip_prefix("index-v")
            .and_then(|version| version.parse::<u32>().ok())
            .is_some_and(|version| version != SCHEMA_VERSION);
        if older {
            tracing::info!(index.path = %entry.path().display(), "removing index of an older schema version");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub(crate) fn create_in_ram() -> Result<(Index, Fields)> {
    let (schema, fields) = build_schema();
    let index = Index::builder()
        .schema(schema)
        .settings(settings())
        .create_in_ram()
        .map_err(index_error("cannot create an in-memory index"))?;
    Ok((index, fields))
}
