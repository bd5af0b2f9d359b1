//! Hangs the artifacts that describe other manifests on the seeded images: SBOMs, scans,
//! signatures (notation, also on an SBOM; a sigstore bundle), cosign tags and attestations
//! (provenance and CycloneDX in the `.att` tag, a vulnerability scan record as a referrer) and
//! lifecycle metadata.

use ocicat_oci::ManifestBody;

use super::{Handmade, Plan, Pushed, subject};
use crate::document::timestamp;
use crate::push::Pusher;
use crate::referrers::{
    VulnScan, attach_cyclonedx, attach_lifecycle, attach_spdx, cyclonedx_statement, provenance_statement,
    push_attestation_referrer, push_bundle_signature, push_copied_cosign_signature, push_cosign_attestations,
    push_cosign_signature, push_notation_signature, vuln_statement,
};
use crate::scans::{Scanned, attach_sarif_report, attach_trivy_report};
use crate::signing::Signer;

/// The end-of-life date of `demo/app:0.9.0`, in the past.
pub(crate) const PAST_END_OF_LIFE: &str = "2024-06-30";

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
    // A later scan, attested with cosign: the newest scan of the image.
    let rescan = VulnScan {
        scanned: Scanned { created: timestamp(day, 24), ..scanned },
        started: timestamp(day, 22),
        finished: timestamp(day, 24),
    };
    push_attestation_referrer(pusher, &signer, app, &vuln_statement(app, &rescan)?, &timestamp(day, 25)).await?;
    push_notation_signature(pusher, &signer, app, &timestamp(day, 30)).await?;
    let spdx_subject = subject(host, &app.repository, spdx);
    push_notation_signature(pusher, &signer, &spdx_subject, &timestamp(day, 31)).await?;
    push_bundle_signature(pusher, &signer, app, &timestamp(day, 32)).await?;
    attach_lifecycle(pusher, app, &crate::future_end_of_life(), &timestamp(day, 40)).await?;
    push_cosign_signature(pusher, &signer, app).await?;
    let attestations =
        [provenance_statement(app, &timestamp(day - 1, 0), &timestamp(day - 1, 6))?, cyclonedx_statement(app)?];
    push_cosign_attestations(pusher, &signer, app, &attestations).await?;

    attach_lifecycle(pusher, &handmade.old_app, PAST_END_OF_LIFE, &timestamp(day, 41)).await?;
    // The old build looks signed, but its signature is the current one's, copied.
    push_copied_cosign_signature(pusher, &signer, app, &handmade.old_app).await?;
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
