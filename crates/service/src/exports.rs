//! Exports to OCI image layouts for the front doors: the plan (what goes into the layout), a
//! `.tar` download streamed from the source for whoever may read it, and a directory on the
//! server for the operator's CLI; an audit line each. Copies out of a layout (imports) go through
//! the copy plans and are audited with [`Service::audit_copy`].

use std::path::Path;

use chrono::Utc;
use ocicat_access::Principal;
use ocicat_copy::{CopyReport, ExportError, ExportPlan, ExportRequest, LayoutTar};
use ocicat_lifecycle::AuditEntry;

use crate::lifecycle::actor_of;
use crate::{AppError, Service, authz};

fn export_error(error: ExportError) -> AppError {
    match error {
        ExportError::Plan(error) => crate::copies::copy_error(error),
        ExportError::Layout(message) => AppError::BadRequest(format!("the layout: {message}")),
    }
}

fn audit_line(actor: &str, action: &str, plan: &ExportPlan, outcome: &str, detail: String) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at: Utc::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        registry: Some(plan.request.source.registry.clone()),
        repository: Some(plan.request.source.repository.clone()),
        digest: plan.roots.first().cloned(),
        tags: plan.tags.iter().map(|tag| tag.tag.clone()).collect(),
        plan_id: None,
        outcome: outcome.to_owned(),
        detail: Some(detail),
    }
}

impl Service {
    /// What exporting `request` writes, for `who`, who may read its source; items `directory`
    /// holds already are marked present.
    pub fn export_plan(
        &self,
        who: &Principal,
        request: &ExportRequest,
        directory: Option<&Path>,
    ) -> Result<ExportPlan, AppError> {
        let source = &request.source;
        if !ocicat_oci::is_valid_repository(&source.repository) {
            return Err(AppError::BadRequest(format!("{:?} is not a repository name", source.repository)));
        }
        if let Some(digest) = request.digest.as_ref().filter(|digest| digest.parse::<ocicat_oci::Digest>().is_err()) {
            return Err(AppError::BadRequest(format!("{digest:?} is not a digest")));
        }
        if let Some(tag) = request.tags.iter().find(|tag| !ocicat_oci::is_valid_tag(tag)) {
            return Err(AppError::BadRequest(format!("{tag:?} is not a tag")));
        }
        let registries = self.registries();
        authz::copy_from(who, &registries, &source.registry, &source.repository)?;
        let scope = authz::read_scope(who, &registries);
        ocicat_copy::export_plan(&self.catalog, &scope, request, directory).map_err(crate::copies::copy_error)
    }

    /// `request` as a layout archive streamed from its source: the plan, and the archive.
    pub async fn export_tar(
        &self,
        who: &Principal,
        request: &ExportRequest,
    ) -> Result<(ExportPlan, LayoutTar), AppError> {
        let plan = self.export_plan(who, request, None)?;
        let engine = self.engine()?;
        let client = engine
            .client(&plan.request.source.registry)
            .ok_or_else(|| AppError::NotFound(format!("registry {:?}", plan.request.source.registry)))?;
        let archive = ocicat_copy::export_tar(plan.clone(), client.clone()).map_err(export_error)?;
        let detail =
            format!("{} manifests, {} blobs, {} bytes", plan.manifests.len(), plan.blobs.len(), archive.length);
        engine.audit(audit_line(&actor_of(who), "export-tar", &plan, "started", detail)).await;
        Ok((plan, archive))
    }

    /// Writes `request` into the layout directory `dir` on this machine (the operator's CLI).
    pub async fn export_to_directory(
        &self,
        who: &Principal,
        request: &ExportRequest,
        dir: &Path,
    ) -> Result<(ExportPlan, CopyReport), AppError> {
        let plan = self.export_plan(who, request, Some(dir))?;
        let engine = self.engine()?;
        let client = engine
            .client(&plan.request.source.registry)
            .ok_or_else(|| AppError::NotFound(format!("registry {:?}", plan.request.source.registry)))?;
        let report = ocicat_copy::export_to_directory(&plan, client, dir).await.map_err(export_error)?;
        let outcome = if report.complete { "exported" } else { "failed" };
        let detail = format!("to {}: {} steps", dir.display(), report.steps.len());
        engine.audit(audit_line(&actor_of(who), "export-directory", &plan, outcome, detail)).await;
        Ok((plan, report))
    }
}
