//! `ocicat verify registry/repository:tag`: the verdicts on an artifact's signatures under the
//! configured trust policies, from the index alone (no registry is asked), as JSON; the command
//! fails unless a policy vouches for a signature, so scripts can gate on it.

use anyhow::{Context as _, bail};

use crate::auth::local_operator;
use crate::config::Config;
use crate::lifecycle_cli::parse_target;
use crate::state::configured_board;

/// Prints the verdicts on `target`'s signatures; an error unless one is verified.
pub async fn verify(config: &Config, target: &str) -> anyhow::Result<()> {
    let target = parse_target(target)?;
    let catalog = ocicat_catalog::open_reader(&config.server.data_dir).with_context(|| {
        format!("no index in {}: run `ocicat crawl` or `ocicat serve` first", config.server.data_dir.display())
    })?;
    let board = configured_board(config);
    let service = ocicat_service::Service::new(catalog, board).with_trust(config.trust_policies.clone());
    // Whoever can read the data directory may read the whole index.
    let operator = local_operator();
    let digest = if target.reference.contains(':') {
        target.reference.clone()
    } else {
        service
            .find_tag(&operator, target.registry.clone(), target.repository.clone(), target.reference.clone())
            .await?
    };
    let report = service.verify_artifact(&operator, &target.registry, &target.repository, &digest).await?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.status != "verified" {
        bail!(
            "no trust policy vouches for {}/{}@{}: {}",
            report.registry,
            report.repository,
            report.digest,
            match report.status.as_str() {
                "none" => "it has no signature",
                "invalid" => "a signature is invalid and none is verified",
                _ => "no signature is verified",
            }
        );
    }
    Ok(())
}
