//! Runs a copy plan: blobs first (skipped when present, mounted within one registry, else
//! streamed and verified), then the manifests in plan order with their original bytes, then
//! the fallback index entries, then tags — the cosign tags of referrers, the requested ones
//! last. The first failure stops the run before any tag is written, and running the plan again
//! resumes: what exists is skipped.

use std::collections::HashMap;

use bytes::Bytes;
use ocicat_oci::{BlobCopy, Client, Digest, OciError, copy_blob};

use futures::StreamExt as _;

use crate::model::{CopyPlan, CopyReport, ManifestItem, Step, StepOutcome};

/// How many blobs a copy sends at once.
const BLOBS_AT_ONCE: usize = 4;

/// Why a plan is not run.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// The plan changed since it was shown.
    #[error("the plan is not the one shown (fingerprint mismatch); make it again")]
    Stale,
    /// It would move tags and that was not confirmed.
    #[error("the copy would move {0} tag(s) at the destination; confirm to move them")]
    MovesTags(usize),
}

/// Whether `plan` may run as asked: the `fingerprint` shown, and `move_tags` when it moves tags.
pub fn check(plan: &CopyPlan, fingerprint: &str, move_tags: bool) -> Result<(), ExecuteError> {
    if fingerprint != plan.fingerprint || crate::plan::fingerprint(plan) != plan.fingerprint {
        return Err(ExecuteError::Stale);
    }
    if !plan.moved_tags.is_empty() && !move_tags {
        return Err(ExecuteError::MovesTags(plan.moved_tags.len()));
    }
    Ok(())
}

/// Runs `plan` from `source` to `destination`, given back its `fingerprint`; `move_tags`
/// confirms the tags it would move. Each step is reported; the report says whether all ran.
pub async fn execute(
    plan: &CopyPlan,
    fingerprint: &str,
    move_tags: bool,
    source: &Client,
    destination: &Client,
) -> Result<CopyReport, ExecuteError> {
    execute_observed(plan, fingerprint, move_tags, source, destination, &|_| {}).await
}

/// [`execute`], telling `observe` each step as it ends (progress for a page that asks).
pub async fn execute_observed(
    plan: &CopyPlan,
    fingerprint: &str,
    move_tags: bool,
    source: &Client,
    destination: &Client,
    observe: &(dyn Fn(&Step) + Send + Sync),
) -> Result<CopyReport, ExecuteError> {
    check(plan, fingerprint, move_tags)?;
    let mut run = Run { plan, source, destination, report: CopyReport::default(), fetched: HashMap::new(), observe };
    let complete = run.blobs().await && run.manifests().await && run.fallback().await && run.tags().await;
    run.report.complete = complete;
    Ok(run.report)
}

struct Run<'a> {
    plan: &'a CopyPlan,
    source: &'a Client,
    destination: &'a Client,
    report: CopyReport,
    /// The bytes of the tagged manifests the manifest step fetched, for the tag step.
    fetched: HashMap<String, (String, Bytes)>,
    observe: &'a (dyn Fn(&Step) + Send + Sync),
}

fn failed(error: &OciError) -> StepOutcome {
    StepOutcome::Failed { reason: error.to_string() }
}

impl Run<'_> {
    fn source_repository(&self) -> &str {
        &self.plan.request.source.repository
    }

    fn destination_repository(&self) -> &str {
        &self.plan.request.destination.repository
    }

    /// Records a step; answers whether it succeeded.
    fn record(&mut self, what: &str, target: &str, outcome: StepOutcome) -> bool {
        let ok = !matches!(outcome, StepOutcome::Failed { .. });
        if !ok {
            tracing::warn!(copy.step = what, copy.target = target, ?outcome, "copy step failed");
        }
        let step = Step { what: what.to_owned(), target: target.to_owned(), outcome };
        (self.observe)(&step);
        self.report.steps.push(step);
        ok
    }

    /// The blobs, [`BLOBS_AT_ONCE`] at a time (each streams; memory stays one chunk per blob),
    /// recorded in plan order; after a failure the rest are not started.
    async fn blobs(&mut self) -> bool {
        let (source, destination) = (self.source, self.destination);
        let (from, to) =
            (self.plan.request.source.repository.clone(), self.plan.request.destination.repository.clone());
        let copies: Vec<_> = self
            .plan
            .blobs
            .iter()
            .map(|blob| {
                let (from, to) = (from.clone(), to.clone());
                async move {
                    let Ok(digest) = blob.digest.parse::<Digest>() else {
                        return StepOutcome::Failed { reason: format!("{} is not a digest", blob.digest) };
                    };
                    match copy_blob(source, &from, destination, &to, &digest, blob.size).await {
                        Ok(BlobCopy::Present) => StepOutcome::Present,
                        Ok(BlobCopy::Mounted) => StepOutcome::Mounted,
                        Ok(BlobCopy::Uploaded(bytes)) => StepOutcome::Copied { bytes },
                        Err(error) => failed(&error),
                    }
                }
            })
            .collect();
        let mut outcomes = futures::stream::iter(copies).buffered(BLOBS_AT_ONCE);
        let mut index = 0;
        while let Some(outcome) = outcomes.next().await {
            let digest = self.plan.blobs[index].digest.clone();
            index += 1;
            if !self.record("blob", &digest, outcome) {
                return false;
            }
        }
        true
    }

    /// The source's bytes of `item`, verified against its digest.
    async fn fetch(&self, item: &ManifestItem) -> Result<(String, Bytes), OciError> {
        let manifest = self.source.get_manifest(self.source_repository(), &item.digest).await?;
        Ok((manifest.media_type, manifest.raw))
    }

    async fn manifests(&mut self) -> bool {
        for item in &self.plan.manifests {
            let outcome = match self.destination.head_manifest(self.destination_repository(), &item.digest).await {
                Ok(Some(_)) => StepOutcome::Present,
                Ok(None) | Err(OciError::NotFound { .. }) => match self.fetch(item).await {
                    Ok((media_type, raw)) => {
                        let bytes = raw.len() as u64;
                        let tagged =
                            !item.tags.is_empty() || self.plan.tags.iter().any(|wanted| wanted.digest == item.digest);
                        if tagged {
                            self.fetched.insert(item.digest.clone(), (media_type.clone(), raw.clone()));
                        }
                        match self
                            .destination
                            .push_manifest(self.destination_repository(), &item.digest, &media_type, raw)
                            .await
                        {
                            Ok(_) => StepOutcome::Copied { bytes },
                            Err(error) => failed(&error),
                        }
                    }
                    Err(error) => failed(&error),
                },
                Err(error) => failed(&error),
            };
            if !self.record("manifest", &item.digest, outcome) {
                return false;
            }
        }
        true
    }

    /// The fallback index entries, one update per subject.
    async fn fallback(&mut self) -> bool {
        let mut by_subject: Vec<(&str, Vec<&ManifestItem>)> = Vec::new();
        for entry in &self.plan.fallback {
            let Some(item) = self.plan.manifests.iter().find(|item| item.digest == entry.referrer) else { continue };
            match by_subject.iter_mut().find(|(subject, _)| *subject == entry.subject) {
                Some((_, items)) => items.push(item),
                None => by_subject.push((&entry.subject, vec![item])),
            }
        }
        for (subject, items) in by_subject {
            let descriptors: Result<Vec<_>, _> = items.iter().map(|item| descriptor(item)).collect();
            let outcome = match (subject.parse::<Digest>(), descriptors) {
                (Ok(digest), Ok(descriptors)) => {
                    match self
                        .destination
                        .add_to_fallback_index(self.destination_repository(), &digest, descriptors)
                        .await
                    {
                        Ok(0) => StepOutcome::Present,
                        Ok(_) => StepOutcome::Copied { bytes: 0 },
                        Err(error) => failed(&error),
                    }
                }
                _ => StepOutcome::Failed {
                    reason: format!("cannot list the referrers of {subject} in its fallback index"),
                },
            };
            if !self.record("fallback", subject, outcome) {
                return false;
            }
        }
        true
    }

    async fn tags(&mut self) -> bool {
        let cosign = self.plan.manifests.iter().flat_map(|item| item.tags.iter().map(move |tag| (tag, item)));
        let requested = self.plan.tags.iter().filter_map(|wanted| {
            let root = self.plan.manifests.iter().find(|item| item.digest == wanted.digest)?;
            Some((&wanted.tag, root))
        });
        let tags: Vec<_> = cosign.chain(requested).collect();
        for (tag, item) in tags {
            // The manifest step's bytes when it wrote the manifest; the source's when it was there.
            let fetched = match self.fetched.get(&item.digest).cloned() {
                Some(known) => Ok(known),
                None => self.fetch(item).await,
            };
            let outcome = match fetched {
                Ok((media_type, raw)) => {
                    match self.destination.push_manifest(self.destination_repository(), tag, &media_type, raw).await {
                        Ok(_) => StepOutcome::Copied { bytes: 0 },
                        Err(error) => failed(&error),
                    }
                }
                Err(error) => failed(&error),
            };
            if !self.record("tag", tag, outcome) {
                return false;
            }
        }
        true
    }
}

/// The descriptor a referrers list gives `item`.
fn descriptor(item: &ManifestItem) -> Result<oci_spec::image::Descriptor, serde_json::Error> {
    let mut value = serde_json::json!({"mediaType": item.media_type, "digest": item.digest, "size": item.size});
    if let Some(artifact_type) = &item.artifact_type {
        value["artifactType"] = artifact_type.clone().into();
    }
    serde_json::from_value(value)
}
