//! `/api/v1/registries/{registry}/repositories/{repository}…`: a repository, its tags, an
//! artifact, its referrers tree, its attached documents, its signatures, and the stored
//! manifest and config. Repository names hold slashes, so axum routes the whole subtree to one
//! wildcard handler; [`Route`] tells the paths apart, and each has a documented handler.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use ocicat_access::Principal;
use ocicat_catalog::ReferrerQuery;
use ocicat_service::Service;
use ocicat_service::model::{
    ArtifactView, ContentQuery, ContentsView, RawDocument, ReferrerTreeView, RepositoryView, SignatureRow, TagList,
};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

/// The wildcard route of the subtree.
pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route(
        "/api/v1/registries/{registry}/repositories/{*rest}",
        get(dispatch).post(super::attachments::dispatch_post).layer(super::attachments::body_limit()),
    )
}

/// The documented paths of the subtree, one per [`Route`].
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    find_repository,
    list_tags,
    find_artifact,
    list_referrers,
    find_contents,
    list_signatures,
    find_manifest,
    find_config
))]
pub(crate) struct RepositoryRoutes;

/// What a path under `…/repositories/` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `<repo>`: the repository.
    Repository(&'a str),
    /// `<repo>/-/tags`: its tags.
    Tags(&'a str),
    /// `<repo>/@<digest>`: an artifact.
    Artifact(&'a str, &'a str),
    /// `<repo>/@<digest>/referrers`: its referrers tree.
    Referrers(&'a str, &'a str),
    /// `<repo>/@<digest>/contents`: its attached documents.
    Contents(&'a str, &'a str),
    /// `<repo>/@<digest>/signatures`: its signatures and attestations.
    Signatures(&'a str, &'a str),
    /// `<repo>/@<digest>/chart`: a Helm chart's metadata, values and README.
    Chart(&'a str, &'a str),
    /// `<repo>/@<digest>/wasm`: a WebAssembly module's imports, exports and world.
    Wasm(&'a str, &'a str),
    /// `<repo>/manifests/<digest>[/config]`: a stored document.
    Raw(&'a str, &'a str, RawDocument),
}

impl<'a> Route<'a> {
    /// Reads `rest`. Repository names hold neither `@` nor `:`, and digests always hold a `:`,
    /// so a repository with a `manifests` or `-` component still reads as one.
    pub(crate) fn parse(rest: &'a str) -> Route<'a> {
        let rest = rest.trim_end_matches('/');
        if let Some(repository) = rest.strip_suffix("/-/tags") {
            return Route::Tags(repository);
        }
        if let Some((repository, target)) = rest.split_once("/@") {
            return match target.rsplit_once('/') {
                Some((digest, "referrers")) => Route::Referrers(repository, digest),
                Some((digest, "contents")) => Route::Contents(repository, digest),
                Some((digest, "signatures")) => Route::Signatures(repository, digest),
                Some((digest, "chart")) => Route::Chart(repository, digest),
                Some((digest, "wasm")) => Route::Wasm(repository, digest),
                _ => Route::Artifact(repository, target),
            };
        }
        if let Some((repository, target)) = rest.rsplit_once("/manifests/") {
            let (digest, document) = match target.strip_suffix("/config") {
                Some(digest) => (digest, RawDocument::Config),
                None => (target, RawDocument::Manifest),
            };
            if digest.contains(':') {
                return Route::Raw(repository, digest, document);
            }
        }
        Route::Repository(rest)
    }
}

async fn dispatch(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path((registry, rest)): Path<(String, String)>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let (service, who) = (&service, &who);
    match Route::parse(&rest) {
        Route::Repository(repository) => find_repository(service, who, registry, repository.to_owned()).await,
        Route::Tags(repository) => {
            let Query(list) = parse_query::<TagsParams>(&uri)?;
            list_tags(service, who, registry, repository.to_owned(), list).await
        }
        Route::Artifact(repository, digest) => find_artifact(service, who, registry, repository, digest).await,
        Route::Referrers(repository, digest) => {
            let Query(wanted) = parse_query::<ReferrersParams>(&uri)?;
            list_referrers(service, who, registry, repository, digest, wanted).await
        }
        Route::Contents(repository, digest) => {
            let Query(wanted) = parse_query::<ContentsParams>(&uri)?;
            find_contents(service, who, registry, repository, digest, wanted).await
        }
        Route::Signatures(repository, digest) => list_signatures(service, who, registry, repository, digest).await,
        Route::Chart(repository, digest) => super::kinds::find_chart(service, who, &registry, repository, digest).await,
        Route::Wasm(repository, digest) => super::kinds::find_wasm(service, who, &registry, repository, digest).await,
        Route::Raw(repository, digest, RawDocument::Manifest) => {
            find_manifest(service, who, registry, repository, digest).await
        }
        Route::Raw(repository, digest, RawDocument::Config) => {
            find_config(service, who, registry, repository, digest).await
        }
    }
}

fn parse_query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<Query<T>, ApiError> {
    Query::try_from_uri(uri)
        .map_err(|error| ocicat_service::AppError::BadRequest(format!("bad query: {}", error.body_text())).into())
}

/// A repository's counts: tags, manifests, size, last push, last crawl.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}", tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes, sent as they are")),
    responses((status = 200, body = RepositoryView), (status = 404, body = ocicat_service::AppError)))]
async fn find_repository(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: String,
) -> Result<Response, ApiError> {
    Ok(Json(service.find_repository(who, registry, repository).await?).into_response())
}

/// A filter, a sort and a page of tags.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TagsParams {
    /// Only tags containing this.
    #[serde(default)]
    q: String,
    /// `newest`, `name` or `semver`.
    #[serde(default)]
    sort: String,
    /// The zero-based page of 50.
    #[serde(default)]
    page: usize,
}

/// A repository's version tags, 50 a page, sorted and filtered in the index.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/-/tags", tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"), TagsParams),
    responses((status = 200, body = TagList), (status = 400, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError)))]
async fn list_tags(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: String,
    wanted: TagsParams,
) -> Result<Response, ApiError> {
    let tags = service.list_tags(who, registry, repository, wanted.q, wanted.sort, wanted.page).await?;
    Ok(Json(tags).into_response())
}

/// One artifact: layers, config (history, run configuration), annotations, referrers, parents.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}", tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The manifest digest, `sha256:…` or `sha512:…`")),
    responses((status = 200, body = ArtifactView), (status = 400, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError)))]
async fn find_artifact(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: &str,
    digest: &str,
) -> Result<Response, ApiError> {
    let artifact = service.find_artifact(who, registry, repository.to_owned(), digest.to_owned()).await?;
    Ok(Json(artifact).into_response())
}

/// How much of a referrers tree.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReferrersParams {
    /// Only this artifact type at the top level.
    #[serde(default, rename = "artifactType")]
    #[param(rename = "artifactType")]
    artifact_type: Option<String>,
    /// `oldest` for created ascending (newest first otherwise).
    #[serde(default)]
    order: String,
    /// Keep the first N top-level referrers (0: all).
    #[serde(default)]
    top: usize,
}

/// The referrers tree of an artifact, like `oras discover`.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/referrers",
    tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The subject's digest"), ReferrersParams),
    responses((status = 200, body = ReferrerTreeView), (status = 400, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError)))]
async fn list_referrers(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: &str,
    digest: &str,
    wanted: ReferrersParams,
) -> Result<Response, ApiError> {
    let query = ReferrerQuery {
        artifact_type: wanted.artifact_type.filter(|wanted| !wanted.is_empty()),
        oldest_first: wanted.order == "oldest",
        limit: wanted.top,
    };
    let tree = service.list_referrers(who, registry, repository.to_owned(), digest.to_owned(), query).await?;
    Ok(Json(tree).into_response())
}

/// Which document and which page of its packages or findings.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ContentsParams {
    /// The content layer.
    #[serde(default)]
    layer: usize,
    /// Only packages or findings containing this.
    #[serde(default)]
    q: String,
    /// The column to sort by.
    #[serde(default)]
    sort: String,
    /// The zero-based page of 50.
    #[serde(default)]
    page: usize,
    /// Only findings of this severity.
    #[serde(default)]
    severity: String,
    /// Only findings with a fix: `1` or `true`.
    #[serde(default)]
    fixed: String,
    /// Compare the scan with this other scan (a digest) of the same artifact.
    #[serde(default)]
    compare: String,
}

/// The documents of an SBOM, scan, signature or attestation, read from the registry through
/// the content proxy, with one page of packages or findings.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/contents",
    tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The attached artifact's digest"), ContentsParams),
    responses((status = 200, body = ContentsView), (status = 400, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError),
        (status = 502, description = "The registry failed, refused or lied", body = ocicat_service::AppError)))]
async fn find_contents(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: &str,
    digest: &str,
    wanted: ContentsParams,
) -> Result<Response, ApiError> {
    let query = ContentQuery {
        layer: wanted.layer,
        q: wanted.q,
        sort: wanted.sort,
        page: wanted.page,
        severity: wanted.severity,
        fixed: matches!(wanted.fixed.as_str(), "1" | "true" | "on"),
        compare: wanted.compare,
    };
    let contents = service.find_contents(who, registry, repository.to_owned(), digest.to_owned(), query).await?;
    Ok(Json(contents).into_response())
}

/// An artifact's signatures and attestations with who signed and when (read, not verified).
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/signatures",
    tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The subject's digest")),
    responses((status = 200, body = Vec<SignatureRow>), (status = 400, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError)))]
async fn list_signatures(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: &str,
    digest: &str,
) -> Result<Response, ApiError> {
    let rows = service.list_signatures(who, registry, repository.to_owned(), digest.to_owned()).await?;
    Ok(Json(rows).into_response())
}

async fn raw(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: &str,
    digest: &str,
    document: RawDocument,
) -> Result<Response, ApiError> {
    let stored = service.find_document(who, registry, repository.to_owned(), digest.to_owned(), document).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], stored).into_response())
}

/// The manifest, read from the registry and verified against its digest (the index keeps only
/// what it parsed of it).
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/manifests/{digest}",
    tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The manifest digest")),
    responses((status = 200, description = "The manifest", content_type = "application/json"),
        (status = 400, body = ocicat_service::AppError), (status = 404, body = ocicat_service::AppError),
        (status = 502, description = "The registry failed, refused or lied", body = ocicat_service::AppError)))]
async fn find_manifest(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: &str,
    digest: &str,
) -> Result<Response, ApiError> {
    raw(service, who, registry, repository, digest, RawDocument::Manifest).await
}

/// The config blob, read from the registry and verified against its digest (at most 4 MiB).
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/manifests/{digest}/config",
    tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The manifest digest")),
    responses((status = 200, description = "The config", content_type = "application/json"),
        (status = 400, body = ocicat_service::AppError), (status = 404, body = ocicat_service::AppError),
        (status = 502, description = "The registry failed, refused or lied", body = ocicat_service::AppError)))]
async fn find_config(
    service: &Service,
    who: &Principal,
    registry: String,
    repository: &str,
    digest: &str,
) -> Result<Response, ApiError> {
    raw(service, who, registry, repository, digest, RawDocument::Config).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_told_apart() {
        let digest = "sha256:0123";
        assert_eq!(Route::parse("demo/app"), Route::Repository("demo/app"));
        assert_eq!(Route::parse("demo/app/"), Route::Repository("demo/app"));
        assert_eq!(Route::parse("demo/app/-/tags"), Route::Tags("demo/app"));
        assert_eq!(Route::parse("demo/app/@sha256:0123"), Route::Artifact("demo/app", digest));
        assert_eq!(Route::parse("demo/app/@sha256:0123/referrers"), Route::Referrers("demo/app", digest));
        assert_eq!(Route::parse("demo/app/@sha256:0123/contents"), Route::Contents("demo/app", digest));
        assert_eq!(Route::parse("demo/app/@sha256:0123/signatures"), Route::Signatures("demo/app", digest));
        assert_eq!(
            Route::parse("demo/app/manifests/sha256:0123"),
            Route::Raw("demo/app", digest, RawDocument::Manifest)
        );
        assert_eq!(
            Route::parse("demo/app/manifests/sha256:0123/config"),
            Route::Raw("demo/app", digest, RawDocument::Config)
        );
        assert_eq!(
            Route::parse("a/manifests/b/manifests/sha256:0123"),
            Route::Raw("a/manifests/b", digest, RawDocument::Manifest),
            "the last `manifests` before a digest counts"
        );
        assert_eq!(
            Route::parse("a/manifests/b"),
            Route::Repository("a/manifests/b"),
            "a repository named like the route"
        );
        assert_eq!(Route::parse("a/manifests/b/@sha256:0123"), Route::Artifact("a/manifests/b", digest));
    }

    #[test]
    fn every_path_of_the_subtree_is_documented() {
        use utoipa::OpenApi as _;
        let documented = RepositoryRoutes::openapi();
        let prefix = "/api/v1/registries/{registry}/repositories/{repository}";
        let examples = [
            ("demo/app", ""),
            ("demo/app/-/tags", "/-/tags"),
            ("demo/app/@sha256:0", "/@{digest}"),
            ("demo/app/@sha256:0/referrers", "/@{digest}/referrers"),
            ("demo/app/@sha256:0/contents", "/@{digest}/contents"),
            ("demo/app/@sha256:0/signatures", "/@{digest}/signatures"),
            ("demo/app/manifests/sha256:0", "/manifests/{digest}"),
            ("demo/app/manifests/sha256:0/config", "/manifests/{digest}/config"),
        ];
        let mut variants = std::collections::HashSet::new();
        for (example, template) in examples {
            variants.insert(std::mem::discriminant(&Route::parse(example)));
            let path = format!("{prefix}{template}");
            assert!(documented.paths.paths.contains_key(&path), "{path} is not documented");
        }
        assert_eq!(variants.len(), 7, "every kind of route has an example");
        assert_eq!(documented.paths.paths.len(), examples.len(), "and nothing else is documented here");
    }
}
