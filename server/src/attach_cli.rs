//! `ocicat attach REF`: the same attachments as `POST …/@{digest}/attachments`, for the operator
//! on the server's machine — an end of life (`--eol 2027-01-31`, `--revoke-eol`), annotations
//! (`--annotation key=value`, repeated), or a file (`--file F --media-type T`). Like `ocicat
//! copy` it opens the index, so stop `serve` first or use its API. `ocicat attach --query Q
//! --eol D` lists every artifact the search finds (referrers left out) and, with `--yes`,
//! attaches to each.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use ocicat_service::model::{AttachRequest, AttachedDocument, BulkAttachRequest};

use crate::auth::local_operator;
use crate::config::Config;
use crate::copy_cli::named_source;
use crate::lifecycle_cli::service;

/// What `ocicat attach` was asked.
#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// registry/repository:tag or registry/repository@sha256:….
    #[arg(required_unless_present = "query", conflicts_with = "query")]
    pub target: Option<String>,
    /// Every artifact this search finds instead (e.g. 'repo:ci/* created < now-180d').
    #[arg(long)]
    pub query: Option<String>,
    /// With --query: attach (without it, only list what the search finds).
    #[arg(long, requires = "query")]
    pub yes: bool,
    /// An end of life (YYYY-MM-DD).
    #[arg(long = "eol")]
    pub end_of_life: Option<String>,
    /// Take the end of life back (a newer lifecycle referrer without a date).
    #[arg(long = "revoke-eol")]
    pub revoke_end_of_life: bool,
    /// An annotation, key=value (repeat for several).
    #[arg(long = "annotation")]
    pub annotations: Vec<String>,
    /// A file to attach (with --media-type).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// The file's media type.
    #[arg(long, requires = "file")]
    pub media_type: Option<String>,
    /// The referrer's artifact type.
    #[arg(long)]
    pub artifact_type: Option<String>,
}

fn request(args: &AttachArgs) -> anyhow::Result<AttachRequest> {
    let annotations = args
        .annotations
        .iter()
        .map(|pair| pair.split_once('=').map(|(key, value)| (key.to_owned(), value.to_owned())))
        .collect::<Option<_>>()
        .context("an annotation is key=value")?;
    let document = match &args.file {
        Some(file) => {
            let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            Some(AttachedDocument {
                media_type: args.media_type.clone().context("--file needs --media-type")?,
                name: file.file_name().map(|name| name.to_string_lossy().into_owned()),
                content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        }
        None => None,
    };
    Ok(AttachRequest {
        end_of_life: args.end_of_life.clone(),
        revoke_end_of_life: args.revoke_end_of_life,
        annotations,
        artifact_type: args.artifact_type.clone(),
        document,
    })
}

/// `ocicat attach`: attaches and prints the referrer it became.
pub async fn attach(config: &Config, args: AttachArgs) -> anyhow::Result<()> {
    let wanted = request(&args)?;
    let (service, writer) = service(config).await?;
    let result = async {
        let operator = local_operator();
        if let Some(query) = &args.query {
            let bulk = BulkAttachRequest { query: query.clone(), attach: wanted, dry_run: !args.yes };
            let done = service.attach_to_results(&operator, bulk).await?;
            println!("{}", serde_json::to_string_pretty(&done)?);
            if !done.dry_run && done.failed > 0 {
                bail!("{} of {} attachments failed", done.failed, done.targets.len());
            }
            if done.dry_run {
                eprintln!("{} artifacts; nothing attached (add --yes to attach)", done.targets.len());
            }
            return Ok(());
        }
        let target = args.target.as_deref().context("name an artifact or a --query")?;
        let named = named_source(&service, &operator, target).await?;
        let Some(digest) = named.digest else { bail!("name one artifact: registry/repository:tag or @sha256:…") };
        let attached =
            service.attach(&operator, &named.endpoint.registry, &named.endpoint.repository, &digest, wanted).await?;
        println!("{}", serde_json::to_string_pretty(&attached)?);
        Ok(())
    }
    .await;
    writer.close().await.context("cannot close the index")?;
    result
}
