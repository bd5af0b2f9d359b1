//! Hangs the artifacts that describe other manifests on the seeded images: SBOMs, scans,
//! signatures (also on an SBOM), cosign tags and lifecycle metadata.

use ocicat_oci::ManifestBody;

use super::{Handmade, Plan, Pushed, subject};
use crate::document::timestamp;
use crate::push::Pusher;
use crate::referrers::{
    attach_cyclonedx, attach_lifecycle, attach_spdx, push_cosign_attestation, push_cosign_signature,
    push_notation_signature,
};
use crate::scans::{Scanned, attach_sarif_report, attach_trivy_report};
use crate::signing::Signer;

/// The end-of-life date of `demo/app:0.9.0`, in the past.
pub(crate) const PAST_END_OF_LIFE: &str = "2024-06-30";
/// The end-of-life date of the newest `demo/app`, in the future.
pub(crate) const FUTURE_END_OF_LIFE: &str = "2030-12-31";

/// Attaches every referrer of the data set.
pub(crate) async fn attach_referrers(
    pusher: &Pusher,
    host: &str,
    plan: &Plan,
    pushed: &Pushed,
    handmade: &Handmade,
) -> anyhow::Result<()> {
    let signer = Signer::demo();
    let app = &pushed.app;
    let app_tag = plan.app_versions.last().copied().unwrap_or("latest");
    let day = 60;

    let spdx = attach_spdx(pusher, app, &timestamp(day, 10)).await?;
    attach_cyclonedx(pusher, app, &timestamp(day, 11)).await?;
    let scanned = Scanned {
        artifact_name: format!("{}:{app_tag}", app.name),
        repo_digest: format!("{}@{}", app.name, app.descriptor.digest),
        image_id: config_digest(pusher, &app.repository, &app.descriptor.digest).await?,
        created: timestamp(day, 20),
    };
    attach_trivy_report(pusher, app, &scanned).await?;
    attach_sarif_report(pusher, app, &scanned).await?;
    push_notation_signature(pusher, &signer, app, &timestamp(day, 30)).await?;
    let spdx_subject = subject(host, &app.repository, spdx);
    push_notation_signature(pusher, &signer, &spdx_subject, &timestamp(day, 31)).await?;
    attach_lifecycle(pusher, app, FUTURE_END_OF_LIFE, &timestamp(day, 40)).await?;
    push_cosign_signature(pusher, &signer, app).await?;
    push_cosign_attestation(pusher, &signer, app, &timestamp(day - 1, 0), &timestamp(day - 1, 6)).await?;

    attach_lifecycle(pusher, &handmade.old_app, PAST_END_OF_LIFE, &timestamp(day, 41)).await?;
    attach_spdx(pusher, &pushed.base, &timestamp(day, 50)).await?;

    if plan.extras {
        let api = &pushed.api;
        push_cosign_signature(pusher, &signer, api).await?;
        let api_scan = Scanned {
            artifact_name: format!("{}:{}", api.name, plan.api_versions.last().copied().unwrap_or("stable")),
            repo_digest: format!("{}@{}", api.name, api.descriptor.digest),
            image_id: config_digest(pusher, &api.repository, &api.descriptor.digest).await?,
            created: timestamp(day + 1, 0),
        };
        attach_sarif_report(pusher, api, &api_scan).await?;
        push_notation_signature(pusher, &signer, &pushed.base, &timestamp(day + 1, 10)).await?;
        if let Some(chart) = &handmade.chart {
            push_notation_signature(pusher, &signer, chart, &timestamp(day + 1, 20)).await?;
        }
    }
    Ok(())
}

/// The config digest of the image manifest `digest` (Trivy's `ImageID`).
async fn config_digest(pusher: &Pusher, repository: &str, digest: &str) -> anyhow::Result<Option<String>> {
    let (_, body) = pusher.describe(repository, digest).await?;
    Ok(match body {
        ManifestBody::Image(manifest) => Some(manifest.config().digest().to_string()),
        _ => None,
    })
}
