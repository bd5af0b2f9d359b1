//! `ocicat copy SRC DST`: the same copy plans as `POST /api/v1/copies`, for the operator on the
//! server's machine — printed as JSON (nothing written), or with `--yes` carried out, step by
//! step, failing unless every step succeeded. Like `ocicat delete` it opens the index, so stop
//! `serve` first or use its API.

use anyhow::{Context as _, bail};
use ocicat_service::model::{CopyRequest, CopyView, Endpoint, GraphFilter, StepOutcome};

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
    /// What goes along.
    pub filter: GraphFilter,
    /// Whether to carry it out.
    pub run: RunArgs,
}

/// The flags of `copy` and `export` that choose what goes along.
#[derive(Debug, clap::Args)]
pub struct FilterArgs {
    /// Leave referrers of this artifact type (a prefix) behind, with what hangs on them.
    #[arg(long = "exclude-artifact-type")]
    exclude_artifact_types: Vec<String>,
    /// Take only referrers of this artifact type (a prefix; repeat for several).
    #[arg(long = "artifact-type")]
    include_artifact_types: Vec<String>,
    /// Take an index as its one image for this platform (linux/amd64), tags and all.
    #[arg(long = "platform")]
    platforms: Vec<String>,
}

impl FilterArgs {
    /// The filter the flags name.
    pub fn into_filter(self) -> GraphFilter {
        GraphFilter {
            exclude_artifact_types: self.exclude_artifact_types,
            include_artifact_types: self.include_artifact_types,
            platforms: self.platforms,
        }
    }
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

/// Whether and how a planned copy runs (the flags `copy` and `import` share).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct RunArgs {
    /// Only print the plan (the default).
    #[arg(long, conflicts_with = "yes")]
    plan: bool,
    /// Carry it out now, without asking.
    #[arg(long)]
    pub yes: bool,
    /// Move destination tags that name something else (the plan lists them).
    #[arg(long, requires = "yes")]
    pub move_tags: bool,
}

/// `ocicat copy`: prints the plan; with `yes`, runs it and prints the report.
pub async fn copy(config: &Config, args: CopyArgs) -> anyhow::Result<()> {
    let (destination, tags) = parse_destination(&args.destination)?;
    let (service, writer) = service(config).await?;
    let result = copy_with(&service, args, destination, tags).await;
    writer.close().await.context("cannot close the index")?;
    result
}

async fn copy_with(
    service: &ocicat_service::Service,
    args: CopyArgs,
    destination: Endpoint,
    tags: Vec<String>,
) -> anyhow::Result<()> {
    let operator = local_operator();
    let named = named_source(service, &operator, &args.source).await?;
    if args.query.is_some() && named.digest.is_some() {
        bail!("--query searches a repository: name the source as registry/repository");
    }
    let request = CopyRequest {
        source: named.endpoint,
        digest: named.digest,
        query: args.query,
        destination,
        tags,
        filter: args.filter,
    };
    let planned = service.plan_copy(&operator, request).await?;
    show_or_run(service, planned, args.run, "copy").await
}

/// Prints a stored copy plan (`what`: a copy or an import) and, with `run.yes`, runs it and
/// prints the report; an error unless every step succeeded.
pub(crate) async fn show_or_run(
    service: &ocicat_service::Service,
    planned: CopyView,
    run: RunArgs,
    what: &str,
) -> anyhow::Result<()> {
    if !run.yes {
        println!("{}", serde_json::to_string_pretty(&planned)?);
        let totals = &planned.plan.totals;
        eprintln!(
            "{what} plan {}: {} manifests and {} blobs ({} bytes) to copy, {} manifests and {} blobs present, {} tags moved; nothing written (add --yes to {what})",
            planned.id,
            totals.manifests,
            totals.blobs,
            totals.bytes,
            totals.manifests_present,
            totals.blobs_present,
            planned.plan.moved_tags.len()
        );
        return Ok(());
    }
    let ran =
        service.execute_copy(&local_operator(), &planned.id, &planned.plan.fingerprint, run.move_tags, true).await?;
    println!("{}", serde_json::to_string_pretty(&ran)?);
    let report = ran.report.context("the copy ran without a report")?;
    if !report.complete {
        let failed = report.steps.iter().rev().find(|step| matches!(step.outcome, StepOutcome::Failed { .. }));
        bail!("{what} {} stopped (run it again to resume): {failed:?}", ran.id);
    }
    Ok(())
}
