//! Attaching metadata to an artifact later, without changing its digest: an end of life (a
//! Microsoft lifecycle referrer, read back by the crawler — the newest one decides), annotations
//! (a referrer with no content), or a document. For whoever may write the repository; an audit
//! line each; the repository is refreshed so the attachment is in the index at once.

use chrono::{NaiveDate, Utc};
use ocicat_access::Principal;
use ocicat_lifecycle::AuditEntry;
use ocicat_oci::{AttachedFile, Attachment, Digest};

use crate::lifecycle::actor_of;
use crate::model::{AttachRequest, AttachView, BulkAttachRequest, BulkAttachView, BulkTarget};
use crate::{AppError, Service, authz};

/// Microsoft's lifecycle artifact type.
pub(crate) const LIFECYCLE_TYPE: &str = "application/vnd.microsoft.artifact.lifecycle";
/// The annotation a lifecycle referrer names the end of life with.
pub(crate) const END_OF_LIFE: &str = "vnd.microsoft.artifact.lifecycle.end-of-life.date";
/// The artifact type of annotation referrers unless another is asked for.
pub(crate) const ANNOTATIONS_TYPE: &str = "application/vnd.ocicat.annotations.v1+json";
/// Largest attached document.
const MAX_DOCUMENT_BYTES: usize = 4 << 20;
/// Most artifacts one bulk attachment reaches (narrow the search for more).
pub(crate) const MAX_BULK_TARGETS: usize = 1000;
/// Attachments pushed at once during a bulk attachment.
const BULK_CONCURRENCY: usize = 4;
/// Most annotations at once, and their sizes.
const MAX_ANNOTATIONS: usize = 64;
const MAX_KEY: usize = 256;
const MAX_VALUE: usize = 4096;

fn bad(message: impl Into<String>) -> AppError {
    AppError::BadRequest(message.into())
}

/// The attachment `request` describes, checked.
fn attachment(request: AttachRequest) -> Result<Attachment, AppError> {
    use base64::Engine as _;
    let chosen = [
        request.end_of_life.is_some(),
        request.revoke_end_of_life,
        !request.annotations.is_empty(),
        request.document.is_some(),
    ];
    if chosen.iter().filter(|chosen| **chosen).count() != 1 {
        return Err(bad("attach exactly one of an end_of_life, revoke_end_of_life, annotations or a document"));
    }
    let artifact_type = request.artifact_type.filter(|kind| !kind.trim().is_empty());
    if let Some(kind) = &artifact_type
        && (kind.len() > MAX_KEY || !kind.contains('/') || kind.chars().any(char::is_whitespace))
    {
        return Err(bad(format!("{kind:?} is not a media type")));
    }
    if let Some(date) = request.end_of_life {
        NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map_err(|_| bad(format!("{date:?} is not a date (YYYY-MM-DD)")))?;
        return Ok(Attachment {
            artifact_type: LIFECYCLE_TYPE.into(),
            annotations: [(END_OF_LIFE.to_owned(), date)].into(),
            files: Vec::new(),
        });
    }
    if request.revoke_end_of_life {
        return Ok(Attachment {
            artifact_type: LIFECYCLE_TYPE.into(),
            annotations: Default::default(),
            files: Vec::new(),
        });
    }
    if let Some(document) = request.document {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(document.content_base64.as_bytes())
            .map_err(|error| bad(format!("the document is not base64: {error}")))?;
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(bad(format!("the document is larger than {MAX_DOCUMENT_BYTES} bytes")));
        }
        if !document.media_type.contains('/') || document.media_type.len() > MAX_KEY {
            return Err(bad(format!("{:?} is not a media type", document.media_type)));
        }
        let name = document.name.filter(|name| !name.is_empty() && name.len() <= MAX_KEY);
        return Ok(Attachment {
            artifact_type: artifact_type.unwrap_or_else(|| document.media_type.clone()),
            annotations: Default::default(),
            files: vec![AttachedFile { media_type: document.media_type, name, bytes: bytes.into() }],
        });
    }
    if request.annotations.len() > MAX_ANNOTATIONS {
        return Err(bad(format!("at most {MAX_ANNOTATIONS} annotations at once")));
    }
    for (key, value) in &request.annotations {
        if key.is_empty() || key.len() > MAX_KEY || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(format!("{key:?} is not an annotation key")));
        }
        if value.len() > MAX_VALUE {
            return Err(bad(format!("the value of {key} is longer than {MAX_VALUE} bytes")));
        }
    }
    Ok(Attachment {
        artifact_type: artifact_type.unwrap_or_else(|| ANNOTATIONS_TYPE.into()),
        annotations: request.annotations,
        files: Vec::new(),
    })
}

impl Service {
    /// Attaches `request` to the artifact `digest` of `repository` in `registry`, for `who`, who
    /// may write there.
    pub async fn attach(
        &self,
        who: &Principal,
        registry: &str,
        repository: &str,
        digest: &str,
        request: AttachRequest,
    ) -> Result<AttachView, AppError> {
        let registries = self.registries();
        authz::read_repository(who, &registries, registry, repository)?;
        authz::copy_to(who, &registries, registry, repository)?;
        let subject: Digest = digest.parse().map_err(|_| bad(format!("{digest:?} is not a digest")))?;
        let mut attachment = attachment(request)?;
        attachment.annotations.insert(ocicat_oci::ATTACHED_BY.to_owned(), actor_of(who));
        let engine = self.engine()?;
        let client = engine.client(registry).ok_or_else(|| AppError::NotFound(format!("registry {registry:?}")))?;
        // Nanoseconds: the newest lifecycle referrer decides, even between two made in one second.
        let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
        let attached = client
            .attach(repository, &subject, &attachment, &now)
            .await
            .map_err(|error| AppError::Registry(format!("attaching to {registry}/{repository}@{digest}: {error}")))?;
        let detail = format!("{} as {}", attachment.artifact_type, attached.digest);
        engine
            .audit(AuditEntry {
                seq: 0,
                at: Utc::now(),
                actor: actor_of(who),
                action: "attach".into(),
                registry: Some(registry.to_owned()),
                repository: Some(repository.to_owned()),
                digest: Some(digest.to_owned()),
                tags: Vec::new(),
                plan_id: None,
                outcome: "attached".into(),
                detail: Some(detail),
            })
            .await;
        if let Some(crawler) = &self.crawler
            && !crawler.refresh_repository(registry, repository)
        {
            tracing::warn!(registry.name = %registry, "refresh queue full: the attachment shows at the next crawl");
        }
        Ok(AttachView {
            digest: attached.digest.to_string(),
            artifact_type: attachment.artifact_type,
            fallback: attached.fallback,
        })
    }
}

impl Service {
    /// Attaches the same end of life, revocation or annotations to every artifact `request`'s
    /// search finds for `who` (referrers left out), or with `dry_run` only lists them. Refused
    /// before anything is pushed if `who` may not write one of their repositories, or if the
    /// search finds more than [`MAX_BULK_TARGETS`].
    pub async fn attach_to_results(
        &self,
        who: &Principal,
        request: BulkAttachRequest,
    ) -> Result<BulkAttachView, AppError> {
        if request.attach.document.is_some() {
            return Err(bad("a document is attached to one artifact at a time"));
        }
        // Checked before the search: a bad date or key is refused with nothing looked up.
        attachment(request.attach.clone())?;
        let (found, skipped_referrers) = self.bulk_targets(who, &request.query).await?;
        let registries = self.registries();
        let mut refused: Vec<String> = Vec::new();
        for artifact in &found {
            let place = format!("{}/{}", artifact.registry, artifact.repository);
            if authz::copy_to(who, &registries, &artifact.registry, &artifact.repository).is_err()
                && !refused.contains(&place)
            {
                refused.push(place);
            }
        }
        if !refused.is_empty() {
            return Err(AppError::Forbidden(format!(
                "you may not write to {}: narrow the search, nothing was attached",
                refused.join(", ")
            )));
        }
        let mut targets: Vec<BulkTarget> = found
            .iter()
            .map(|artifact| BulkTarget {
                registry: artifact.registry.clone(),
                repository: artifact.repository.clone(),
                digest: artifact.digest.clone(),
                tags: artifact.tags.iter().filter(|tag| crate::views::is_version_tag(tag)).cloned().collect(),
                attached: None,
                error: None,
            })
            .collect();
        if !request.dry_run {
            let turns = std::sync::Arc::new(tokio::sync::Semaphore::new(BULK_CONCURRENCY));
            let mut running = tokio::task::JoinSet::new();
            for (position, target) in targets.iter().enumerate() {
                let (service, who, wanted, turns) = (self.clone(), who.clone(), request.attach.clone(), turns.clone());
                let (registry, repository, digest) =
                    (target.registry.clone(), target.repository.clone(), target.digest.clone());
                running.spawn(async move {
                    let _turn = turns.acquire_owned().await;
                    (position, service.attach(&who, &registry, &repository, &digest, wanted).await)
                });
            }
            while let Some(done) = running.join_next().await {
                let (position, outcome) = done.map_err(|_| AppError::Internal)?;
                match outcome {
                    Ok(attached) => targets[position].attached = Some(attached),
                    Err(error) => targets[position].error = Some(error.to_string()),
                }
            }
        }
        let attached = targets.iter().filter(|target| target.attached.is_some()).count();
        let failed = targets.iter().filter(|target| target.error.is_some()).count();
        Ok(BulkAttachView {
            query: request.query,
            dry_run: request.dry_run,
            targets,
            skipped_referrers,
            attached,
            failed,
        })
    }

    /// What `query` finds for `who`, referrers left out (and counted), at most
    /// [`MAX_BULK_TARGETS`].
    async fn bulk_targets(
        &self,
        who: &Principal,
        query: &str,
    ) -> Result<(Vec<ocicat_catalog::ArtifactDoc>, u64), AppError> {
        // Referrers are left out afterwards, so read a few times the cap before giving up.
        let (total, all) = self.all_hits(who, query, MAX_BULK_TARGETS * 4).await?;
        let read_all = all.len() as u64 >= total;
        let (referrers, artifacts): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|artifact| artifact.refers_to.is_some());
        if !read_all || artifacts.len() > MAX_BULK_TARGETS {
            return Err(bad(format!(
                "the search finds {total} artifacts; attach to at most {MAX_BULK_TARGETS} at once (narrow it)"
            )));
        }
        Ok((artifacts, referrers.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thing_at_a_time_and_each_checked() {
        let eol = attachment(AttachRequest { end_of_life: Some("2027-01-31".into()), ..Default::default() }).unwrap();
        assert_eq!((eol.artifact_type.as_str(), eol.annotations[END_OF_LIFE].as_str()), (LIFECYCLE_TYPE, "2027-01-31"));
        assert!(attachment(AttachRequest { end_of_life: Some("31/01/2027".into()), ..Default::default() }).is_err());
        assert!(attachment(AttachRequest::default()).is_err(), "nothing to attach");
        let both = AttachRequest {
            end_of_life: Some("2027-01-31".into()),
            annotations: [("a".to_owned(), "b".to_owned())].into(),
            ..Default::default()
        };
        assert!(attachment(both).is_err(), "two things at once");
        let notes = attachment(AttachRequest {
            annotations: [("team".to_owned(), "core".to_owned())].into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(notes.artifact_type, ANNOTATIONS_TYPE);
        let spaced = AttachRequest { annotations: [("a key".to_owned(), "v".to_owned())].into(), ..Default::default() };
        assert!(attachment(spaced).is_err());
        let revoke = attachment(AttachRequest { revoke_end_of_life: true, ..Default::default() }).unwrap();
        assert!(revoke.annotations.is_empty() && revoke.artifact_type == LIFECYCLE_TYPE);
    }
}
