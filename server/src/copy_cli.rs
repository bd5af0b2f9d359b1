//! `ocicat copy SRC DST`: the same copy plans as `POST /api/v1/copies`, for the operator on the
//! server's machine — printed as JSON (nothing written), or with `--yes` carried out, step by
//! step, failing unless every step succeeded. Like `ocicat delete` it opens the index, so stop
//! `serve` first or use its API.

use anyhow::{Context as _, bail};
use ocicat_service::model::{CopyRequest, Endpoint};

use crate::auth::local_operator;
use crate::config::Config;
use crate::lifecycle_cli::{parse_target, service};

/// What `ocicat copy` was asked.
#[derive(Debug)]
pub struct CopyArgs {
    /// `registry/repository:tag`, `registry/repository@sha256:…`, or `registry/repository` (every
    /// tagged artifact of it, or what `query` finds in it).
    pub source: String,
    /// A search within the source repository.
    pub query: Option<String>,
    /// `registry/repository` or `registry/repository:tag`.
    pub destination: String,
    /// Referrers of these artifact types (prefixes) stay behind.
    pub exclude_artifact_types: Vec<String>,
    /// When set, only referrers of these artifact types (prefixes) go along.
    pub include_artifact_types: Vec<String>,
    /// When set, an index goes as its one image for this platform.
    pub platforms: Vec<String>,
    /// Carry it out.
    pub yes: bool,
    /// Move destination tags that name something else.
    pub move_tags: bool,
}

/// Parses `registry/repository[:tag]`.
pub(crate) fn parse_destination(text: &str) -> anyhow::Result<(Endpoint, Vec<String>)> {
    let (registry, rest) = text.split_once('/').context("a destination is registry/repository[:tag]")?;
    let (repository, tags) = match rest.rsplit_once(':') {
        Some((repository, tag)) => (repository, vec![tag.to_owned()]),
        None => (rest, Vec::new()),
    };
    if registry.is_empty() || repository.is_empty() {
        bail!("{text}: registry and repository must not be empty");
    }
    Ok((Endpoint { registry: registry.into(), repository: repository.into() }, tags))
}

/// A source named on the command line: its repository, and the one artifact's digest and tag
/// when it names one (`registry/repository` alone names every tagged artifact).
pub(crate) struct NamedSource {
    pub(crate) endpoint: Endpoint,
    pub(crate) digest: Option<String>,
    pub(crate) tag: Option<String>,
}

/// Reads `registry/repository[:tag|@digest]`, finding a tag's digest in the index.
pub(crate) async fn named_source(
    service: &ocicat_service::Service,
    operator: &ocicat_access::Principal,
    text: &str,
) -> anyhow::Result<NamedSource> {
    let whole = !text.contains('@') && !text.split_once('/').is_some_and(|(_, rest)| rest.contains(':'));
    if whole {
        let (endpoint, _) = parse_destination(text)?;
        return Ok(NamedSource { endpoint, digest: None, tag: None });
    }
    let target = parse_target(text)?;
    let endpoint = Endpoint { registry: target.registry, repository: target.repository };
    if target.reference.contains(':') {
        return Ok(NamedSource { endpoint, digest: Some(target.reference), tag: None });
    }
    let digest = service
        .find_tag(operator, endpoint.registry.clone(), endpoint.repository.clone(), target.reference.clone())
        .await?;
    Ok(NamedSource { endpoint, digest: Some(digest), tag: Some(target.reference) })
}

/// `ocicat copy`: prints the plan; with `yes`, runs it and prints the report.
pub async fn copy(config: &Config, args: CopyArgs) -> anyhow::Result<()> {
    let (destination, tags) = parse_destination(&args.destination)?;
    let (service, writer) = service(config).await?;
    let operator = local_operator();
    let named = named_source(&service, &operator, &args.source).await;
    let named = match named {
        Ok(named) => named,
        Err(error) => {
            writer.close().await.context("cannot close the index")?;
            return Err(error);
        }
    };
    if args.query.is_some() && named.digest.is_some() {
        writer.close().await.context("cannot close the index")?;
        bail!("--query searches a repository: name the source as registry/repository");
    }
    let (source, digest) = (named.endpoint, named.digest);
    let request = CopyRequest {
        source,
        digest,
        query: args.query,
        destination,
        tags,
        exclude_artifact_types: args.exclude_artifact_types,
        include_artifact_types: args.include_artifact_types,
        platforms: args.platforms,
    };
    let planned = service.plan_copy(&operator, request).await?;
    let totals = &planned.plan.totals;
    if !args.yes {
        println!("{}", serde_json::to_string_pretty(&planned)?);
        eprintln!(
            "copy plan {}: {} manifests and {} blobs ({} bytes) to copy, {} manifests and {} blobs present, {} tags moved; nothing written (add --yes to copy)",
            planned.id,
            totals.manifests,
            totals.blobs,
            totals.bytes,
            totals.manifests_present,
            totals.blobs_present,
            planned.plan.moved_tags.len()
        );
        writer.close().await.context("cannot close the index")?;
        return Ok(());
    }
    let ran = service.execute_copy(&operator, &planned.id, &planned.plan.fingerprint, args.move_tags, true).await;
    writer.close().await.context("cannot close the index")?;
    let ran = ran?;
    println!("{}", serde_json::to_string_pretty(&ran)?);
    let report = ran.report.context("the copy ran without a report")?;
    if !report.complete {
        let failed = report
            .steps
            .iter()
            .rev()
            .find(|step| matches!(step.outcome, ocicat_service::model::StepOutcome::Failed { .. }));
        bail!("copy {} stopped: {failed:?}", ran.id);
    }
    Ok(())
}
