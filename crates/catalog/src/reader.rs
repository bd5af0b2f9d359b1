//! The read side: lookups and listings that pages render from. Every call works on one
//! searcher (one committed snapshot) and runs on the caller's thread: call it off the runtime.

use std::sync::Arc;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, IndexReader, Order, Searcher, TantivyDocument, Term};

use crate::document::{ArtifactDoc, CrawlCheckpoint, RepositoryDoc};
use crate::error::{CatalogError, Result, index_error};
use crate::schema::{DocType, FIELD_LAST_PUSH, FIELD_REPOSITORY, FIELD_TAG_COUNT, Fields};
use crate::scope::Scope;

/// Most artifacts one repository listing returns (a repository with 10⁴ referrers on one
/// image must still be planned whole).
pub const MAX_REPOSITORY_ARTIFACTS: usize = 100_000;

/// The read handle of the catalog; cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    pub(crate) reader: IndexReader,
    pub(crate) fields: Arc<Fields>,
    /// Facet counts of recent searches, valid for one committed snapshot.
    pub(crate) facet_cache: Arc<std::sync::Mutex<crate::facets::FacetCache>>,
    /// Per-segment facet counts of every artifact (`facets::SegmentFacets`).
    pub(crate) segment_facets: Arc<std::sync::Mutex<crate::facets::SegmentFacets>>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

/// How many repositories and artifacts a registry has in the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RegistryCounts {
    /// Repositories indexed.
    pub repositories: u64,
    /// Manifests indexed.
    pub artifacts: u64,
}

/// Orders for the repository list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RepositorySort {
    /// By name, A to Z.
    #[default]
    Name,
    /// Newest push first.
    LastPush,
    /// Most tags first.
    TagCount,
}

/// One page of repositories and the total that matched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepositoryPage {
    /// Repositories matching the filter.
    pub total: u64,
    /// This page of them.
    pub items: Vec<RepositoryDoc>,
}

impl Catalog {
    pub(crate) fn new(reader: IndexReader, fields: Arc<Fields>) -> Catalog {
        Catalog { reader, fields, facet_cache: Arc::default(), segment_facets: Arc::default() }
    }

    pub(crate) fn reload(&self) -> Result<()> {
        self.reader.reload().map_err(index_error("cannot reload index reader"))
    }

    pub(crate) fn term(&self, field: tantivy::schema::Field, value: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
    }

    /// The documents of one type.
    pub(crate) fn of_type(&self, doc_type: DocType) -> Box<dyn Query> {
        self.term(self.fields.doc_type, doc_type.as_str())
    }

    pub(crate) fn all_of(&self, clauses: Vec<Box<dyn Query>>) -> BooleanQuery {
        BooleanQuery::new(clauses.into_iter().map(|clause| (Occur::Must, clause)).collect())
    }

    pub(crate) fn stored<T: serde::de::DeserializeOwned>(&self, searcher: &Searcher, address: DocAddress) -> Result<T> {
        let document: TantivyDocument = searcher.doc(address).map_err(index_error("cannot read stored document"))?;
        let body = document.get_first(self.fields.body).and_then(|value| value.as_str()).unwrap_or_default();
        serde_json::from_str(body).map_err(|error| CatalogError::Corrupt(error.to_string()))
    }

    /// Counts the repositories and artifacts indexed for `registry`.
    pub fn registry_counts(&self, registry: &str) -> Result<RegistryCounts> {
        self.registry_counts_in(&Scope::all(), registry)
    }

    /// Counts the repositories and artifacts of `registry` that `scope` allows.
    pub fn registry_counts_in(&self, scope: &Scope, registry: &str) -> Result<RegistryCounts> {
        let searcher = self.reader.searcher();
        let restriction = scope.query(&self.fields, &searcher)?;
        let count = |doc_type: DocType| {
            let mut clauses = vec![self.term(self.fields.registry, registry), self.of_type(doc_type)];
            clauses.extend(restriction.as_ref().map(|query| query.box_clone()));
            let query = self.all_of(clauses);
            searcher.search(&query, &Count).map(|n| n as u64).map_err(index_error("cannot count documents"))
        };
        Ok(RegistryCounts { repositories: count(DocType::Repository)?, artifacts: count(DocType::Artifact)? })
    }

    /// One page of the repositories of `registry` whose name contains `filter`.
    pub fn repositories(
        &self,
        registry: &str,
        filter: &str,
        sort: RepositorySort,
        offset: usize,
        limit: usize,
    ) -> Result<RepositoryPage> {
        self.repositories_in(&Scope::all(), registry, filter, sort, offset, limit)
    }

    /// One page of the repositories of `registry` that `scope` allows and whose name contains
    /// `filter`; the total counts only those.
    pub fn repositories_in(
        &self,
        scope: &Scope,
        registry: &str,
        filter: &str,
        sort: RepositorySort,
        offset: usize,
        limit: usize,
    ) -> Result<RepositoryPage> {
        let searcher = self.reader.searcher();
        let mut clauses = vec![self.term(self.fields.registry, registry), self.of_type(DocType::Repository)];
        clauses.extend(scope.query(&self.fields, &searcher)?);
        let filter = filter.trim().to_ascii_lowercase();
        if !filter.is_empty() {
            let (suffixes, names) = (self.fields.name_suffixes, self.fields.repository);
            clauses.push(crate::by_name::repositories_containing(&searcher, suffixes, names, &filter)?);
        }
        let query = self.all_of(clauses);
        let total = searcher.search(&query, &Count).map_err(index_error("cannot count repositories"))? as u64;
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        let addresses: Vec<DocAddress> = match sort {
            RepositorySort::Name => crate::by_name::page_by_name(&searcher, &query, FIELD_REPOSITORY, offset, limit)?,
            RepositorySort::LastPush => searcher
                .search(&query, &top.order_by_fast_field::<tantivy::DateTime>(FIELD_LAST_PUSH, Order::Desc))
                .map_err(index_error("cannot list repositories"))?
                .into_iter()
                .map(|(_, address)| address)
                .collect(),
            RepositorySort::TagCount => searcher
                .search(&query, &top.order_by_fast_field::<u64>(FIELD_TAG_COUNT, Order::Desc))
                .map_err(index_error("cannot list repositories"))?
                .into_iter()
                .map(|(_, address)| address)
                .collect(),
        };
        let items = addresses.into_iter().map(|address| self.stored(&searcher, address)).collect::<Result<_>>()?;
        Ok(RepositoryPage { total, items })
    }

    /// The summary of one repository, if indexed.
    pub fn repository(&self, registry: &str, repository: &str) -> Result<Option<RepositoryDoc>> {
        let searcher = self.reader.searcher();
        let query = self.all_of(vec![
            self.term(self.fields.registry, registry),
            self.term(self.fields.repository, repository),
            self.of_type(DocType::Repository),
        ]);
        let hits = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(index_error("cannot find repository"))?;
        hits.first().map(|(_, address)| self.stored(&searcher, *address)).transpose()
    }

    /// Every artifact of one repository (tagged and untagged), capped.
    pub fn artifacts_in_repository(&self, registry: &str, repository: &str) -> Result<Vec<ArtifactDoc>> {
        let searcher = self.reader.searcher();
        // Artifacts and fallback referrer indexes (not the summary, tag or checkpoint documents).
        let manifests = BooleanQuery::new(vec![
            (Occur::Should, self.of_type(DocType::Artifact)),
            (Occur::Should, self.of_type(DocType::ReferrersIndex)),
        ]);
        let query = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.registry, registry)),
            (Occur::Must, self.term(self.fields.repository, repository)),
            (Occur::Must, Box::new(manifests)),
        ]);
        let hits = searcher
            .search(&query, &TopDocs::with_limit(MAX_REPOSITORY_ARTIFACTS).order_by_score())
            .map_err(index_error("cannot list artifacts"))?;
        hits.into_iter().map(|(_, address)| self.stored(&searcher, address)).collect()
    }

    /// One artifact by its digest.
    pub fn artifact(&self, registry: &str, repository: &str, digest: &str) -> Result<Option<ArtifactDoc>> {
        let searcher = self.reader.searcher();
        // Only manifest documents carry a digest.
        let query = self.all_of(vec![
            self.term(self.fields.repo_key, &crate::keys::repository_key(registry, repository)),
            self.term(self.fields.digest, digest),
        ]);
        let hits = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(index_error("cannot find artifact"))?;
        hits.first().map(|(_, address)| self.stored(&searcher, *address)).transpose()
    }

    /// The last committed crawl checkpoint of `registry`, if any.
    pub fn checkpoint(&self, registry: &str) -> Result<Option<CrawlCheckpoint>> {
        let searcher = self.reader.searcher();
        let query = self.term(self.fields.key, &crate::keys::checkpoint_key(registry));
        let hits = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(index_error("cannot read crawl checkpoint"))?;
        hits.first().map(|(_, address)| self.stored(&searcher, *address)).transpose()
    }

    /// How far this replica applied the shared change log, as committed with the changes
    /// (`None` for an index that never applied one).
    pub fn applied_position(&self) -> Result<Option<i64>> {
        let searcher = self.reader.searcher();
        let query = self.term(self.fields.key, crate::mapping::POSITION_KEY);
        let hits = searcher
            .search(&query, &TopDocs::with_limit(1).order_by_score())
            .map_err(index_error("cannot read the change-log position"))?;
        let Some((_, address)) = hits.first() else { return Ok(None) };
        let stored: serde_json::Value = self.stored(&searcher, *address)?;
        Ok(stored.get("seq").and_then(serde_json::Value::as_i64))
    }

    /// Artifacts of the same repository attached to `digest` (by `subject`, cosign tag or buildx
    /// attestation), capped at 1,000.
    pub fn referrers(&self, registry: &str, repository: &str, digest: &str) -> Result<Vec<ArtifactDoc>> {
        self.related(registry, repository, self.fields.refers_to, digest)
    }

    /// Indexes of the same repository that list `digest` as a child (found by the hash of the
    /// child's key, then checked against the stored children, so a hash collision adds nothing).
    pub fn parents(&self, registry: &str, repository: &str, digest: &str) -> Result<Vec<ArtifactDoc>> {
        let child = crate::keys::artifact_hash(registry, repository, digest);
        let lists =
            Box::new(TermQuery::new(Term::from_field_u64(self.fields.child_hashes, child), IndexRecordOption::Basic));
        self.stored_artifacts(vec![lists], "cannot list the indexes of an artifact", |parent| {
            parent.registry == registry
                && parent.repository == repository
                && parent.children.iter().any(|listed| listed.digest == digest)
        })
    }

    fn related(
        &self,
        registry: &str,
        repository: &str,
        field: tantivy::schema::Field,
        digest: &str,
    ) -> Result<Vec<ArtifactDoc>> {
        let clauses = vec![
            self.term(self.fields.registry, registry),
            self.term(self.fields.repository, repository),
            self.term(field, digest),
        ];
        self.stored_artifacts(clauses, "cannot list related artifacts", |_| true)
    }

    /// Up to 1,000 artifacts matching every one of `clauses`, read from the store, less those
    /// `keep` turns down (`failing` names the search in an error).
    fn stored_artifacts(
        &self,
        clauses: Vec<Box<dyn Query>>,
        failing: &str,
        keep: impl Fn(&ArtifactDoc) -> bool,
    ) -> Result<Vec<ArtifactDoc>> {
        let searcher = self.reader.searcher();
        let mut all = vec![self.of_type(DocType::Artifact)];
        all.extend(clauses);
        let hits = searcher
            .search(&self.all_of(all), &TopDocs::with_limit(1000).order_by_score())
            .map_err(index_error(failing))?;
        let mut found = Vec::with_capacity(hits.len());
        for (_, address) in hits {
            let artifact: ArtifactDoc = self.stored(&searcher, address)?;
            if keep(&artifact) {
                found.push(artifact);
            }
        }
        Ok(found)
    }
}
