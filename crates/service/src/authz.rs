//! Who may do what: one function per action over (principal, target), and nothing else in ocicat
//! decides it. Every front door (pages' server functions, the JSON API, the content proxy,
//! metrics, the CLI) reaches these through the service.
//!
//! Two rules run through all of them. Whatever a principal may not read is "not found", exactly
//! as if it did not exist, so no answer tells a name apart from a secret one; a refusal (403)
//! only ever names what the principal may read. And a fact about a whole registry (its crawl
//! errors, progress and counters) goes only to those who administer the whole registry.

use ocicat_access::{ANY_REGISTRY, Principal, Right};
use ocicat_catalog::{Scope, pattern};
use ocicat_lifecycle::retention::RetentionPolicy;
use ocicat_lifecycle::{AuditEntry, Plan, PlanItem};

use crate::error::AppError;

/// The configured registry names: what `*` in grants and policies stands for; and which of
/// them are read-only (OCI layout directories), where nothing is written or deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registries {
    names: Vec<String>,
    read_only: Vec<String>,
}

impl Registries {
    /// The names, in configuration order.
    pub fn new(names: impl IntoIterator<Item = String>) -> Registries {
        Registries { names: names.into_iter().collect(), read_only: Vec::new() }
    }

    /// Marks `names` read-only.
    pub fn with_read_only(mut self, names: impl IntoIterator<Item = String>) -> Registries {
        self.read_only = names.into_iter().collect();
        self
    }

    /// The names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// True when `name` is configured.
    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|known| known == name)
    }

    /// True when `name` is read-only.
    pub fn is_read_only(&self, name: &str) -> bool {
        self.read_only.iter().any(|known| known == name)
    }

    /// The writable registries `registry` (a name or `*`) stands for.
    fn covered_by<'a>(&'a self, registry: &'a str) -> impl Iterator<Item = &'a str> {
        self.writable().into_iter().filter(move |name| registry == ANY_REGISTRY || *name == registry)
    }

    fn as_strs(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).collect()
    }

    fn writable(&self) -> Vec<&str> {
        self.names.iter().map(String::as_str).filter(|name| !self.is_read_only(name)).collect()
    }
}

/// Refuses writing into a read-only registry.
fn writable(registries: &Registries, registry: &str) -> Result<(), AppError> {
    if registries.is_read_only(registry) {
        return Err(AppError::BadRequest(format!(
            "registry {registry:?} is an OCI layout, read-only: nothing is written or deleted there"
        )));
    }
    Ok(())
}

fn not_found(what: impl std::fmt::Display) -> AppError {
    AppError::NotFound(what.to_string())
}

/// The repository patterns `who` holds `right` on in `registry`.
fn patterns_of<'a>(who: &'a Principal, right: Right, registry: &'a str) -> impl Iterator<Item = &'a str> {
    who.grants
        .iter()
        .filter(move |grant| grant.role.allows(right) && (grant.registry == ANY_REGISTRY || grant.registry == registry))
        .map(|grant| grant.repositories.as_str())
}

/// A repository of `registry` matching `repositories` on which `who` lacks `right`, or `None`
/// when `who` holds it on all of them.
fn lacking_on(who: &Principal, right: Right, registry: &str, repositories: &str) -> Option<String> {
    pattern::uncovered_example(repositories, patterns_of(who, right, registry))
}

/// True when `who` holds `right` on some repository of `registry` matching `repositories`.
fn holds_somewhere_in(who: &Principal, right: Right, registry: &str, repositories: &str) -> bool {
    patterns_of(who, right, registry).any(|granted| pattern::overlap(granted, repositories).is_some())
}

/// True when `who` administers every configured registry whole.
fn administers_everything(who: &Principal, registries: &Registries) -> bool {
    registries.names().iter().all(|name| who.can_whole_registry(Right::Administer, name))
}

// Reading.

/// A registry's pages and lists: `who` may read something in the configured `registry`.
pub fn read_registry(who: &Principal, registries: &Registries, registry: &str) -> Result<(), AppError> {
    if registries.contains(registry) && who.can_somewhere(Right::Read, registry) {
        return Ok(());
    }
    Err(not_found(format_args!("registry {registry:?}")))
}

/// A repository, its artifacts and their content: `who` may read `repository` of `registry`.
pub fn read_repository(
    who: &Principal,
    registries: &Registries,
    registry: &str,
    repository: &str,
) -> Result<(), AppError> {
    read_registry(who, registries, registry)?;
    if who.can(Right::Read, registry, repository) {
        return Ok(());
    }
    Err(not_found(format_args!("repository {repository:?}")))
}

/// What searches, counts and facets may show `who`.
pub fn read_scope(who: &Principal, registries: &Registries) -> Scope {
    who.scope(Right::Read, &registries.as_strs())
}

/// Whether `who` may see a trust policy covering `registry` (`*`: every registry): those who
/// may read something it covers.
pub fn see_trust_policy(who: &Principal, registries: &Registries, registry: &str) -> bool {
    if registry == "*" {
        registries.names().iter().any(|name| who.can_somewhere(Right::Read, name))
    } else {
        registries.names().iter().any(|name| name == registry) && who.can_somewhere(Right::Read, registry)
    }
}

/// The registries `who` may read something in, in configuration order.
pub fn readable_registries<'a>(who: &Principal, registries: &'a Registries) -> Vec<&'a str> {
    registries.names().iter().map(String::as_str).filter(|name| who.can_somewhere(Right::Read, name)).collect()
}

// Crawling.

/// A registry's crawl internals (last error, failure and fetch counters, rate limits, crawl
/// progress): facts about the whole registry, for those who administer all of it.
pub fn see_crawl_internals(who: &Principal, registry: &str) -> bool {
    who.can_whole_registry(Right::Administer, registry)
}

/// `GET …/status`: the crawl status of `registry`.
pub fn see_crawl_status(who: &Principal, registries: &Registries, registry: &str) -> Result<(), AppError> {
    read_registry(who, registries, registry)?;
    if see_crawl_internals(who, registry) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("the crawl status of {registry:?} needs the admin role on the whole registry")))
}

/// `/metrics`: the registries it covers for `who` (those administered whole); not found when none.
pub fn metrics_registries<'a>(who: &Principal, registries: &'a Registries) -> Result<Vec<&'a str>, AppError> {
    let covered: Vec<&str> =
        registries.names().iter().map(String::as_str).filter(|name| see_crawl_internals(who, name)).collect();
    if covered.is_empty() {
        return Err(not_found("metrics"));
    }
    Ok(covered)
}

/// The replicas sharing a database (`/status`, `GET /api/v1/replicas`): for those `/metrics`
/// covers something for; not found for anyone else.
pub fn see_replicas(who: &Principal, registries: &Registries) -> Result<(), AppError> {
    metrics_registries(who, registries).map(|_| ()).map_err(|_| not_found("replicas"))
}

/// "Refresh now" for a whole registry.
pub fn refresh_registry(who: &Principal, registries: &Registries, registry: &str) -> Result<(), AppError> {
    read_registry(who, registries, registry)?;
    if who.can_whole_registry(Right::Administer, registry) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("starting a crawl of {registry:?} needs the admin role on the whole registry")))
}

/// A refresh of one repository.
pub fn refresh_repository(
    who: &Principal,
    registries: &Registries,
    registry: &str,
    repository: &str,
) -> Result<(), AppError> {
    read_repository(who, registries, registry, repository)?;
    if who.can(Right::Administer, registry, repository) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("refreshing {repository:?} needs the admin role")))
}

// Deleting.

/// Whether delete buttons, the delete, audit and retention pages are offered at all.
pub fn offer_deleting(who: &Principal) -> bool {
    who.can_anywhere(Right::Delete)
}

/// What a delete search may find for `who`.
pub fn delete_scope(who: &Principal, registries: &Registries) -> Scope {
    who.scope(Right::Delete, &registries.writable())
}

/// Naming `repository` of `registry` as a delete target.
pub fn plan_target(who: &Principal, registries: &Registries, registry: &str, repository: &str) -> Result<(), AppError> {
    read_repository(who, registries, registry, repository)?;
    writable(registries, registry)?;
    if who.can(Right::Delete, registry, repository) {
        return Ok(());
    }
    Err(AppError::Forbidden(format!("you may not delete in {registry}/{repository}")))
}

fn plan_entries(plan: &Plan) -> impl Iterator<Item = &PlanItem> {
    plan.targets.iter().chain(&plan.items)
}

/// Seeing a stored plan and how its execution went: `who` may read everything in it.
pub fn see_plan(who: &Principal, plan: &Plan) -> Result<(), AppError> {
    if plan_entries(plan).all(|item| who.can(Right::Read, &item.registry, &item.repository)) {
        return Ok(());
    }
    Err(not_found(format_args!("plan {}", plan.id)))
}

/// Executing a plan (or confirming one): `who` may delete everything in it.
pub fn execute_plan(who: &Principal, plan: &Plan) -> Result<(), AppError> {
    see_plan(who, plan)?;
    match plan_entries(plan).find(|item| !who.can(Right::Delete, &item.registry, &item.repository)) {
        None => Ok(()),
        Some(item) => Err(AppError::Forbidden(format!("you may not delete in {}/{}", item.registry, item.repository))),
    }
}

// Copying.

/// Whether "Copy to…" is offered at all: `who` may write somewhere.
pub fn offer_copying(who: &Principal) -> bool {
    who.can_anywhere(Right::Write)
}

/// Copying out of `repository` of `registry`: `who` may read it.
pub fn copy_from(who: &Principal, registries: &Registries, registry: &str, repository: &str) -> Result<(), AppError> {
    read_repository(who, registries, registry, repository)
}

/// Copying into `repository` of `registry`: `who` may write there.
pub fn copy_to(who: &Principal, registries: &Registries, registry: &str, repository: &str) -> Result<(), AppError> {
    if !registries.contains(registry) {
        return Err(not_found(format_args!("registry {registry:?}")));
    }
    if who.can(Right::Write, registry, repository) {
        writable(registries, registry)?;
        return Ok(());
    }
    Err(AppError::Forbidden(format!("you may not write to {registry}/{repository}")))
}

/// Seeing a copy plan: `who` may read its source and write its destination (someone who may
/// not copy it learns nothing from it); for an import, whose source is a layout rather than a
/// configured registry, writing is enough.
pub fn see_copy(
    who: &Principal,
    registries: &Registries,
    plan: &ocicat_copy::CopyPlan,
    imported: bool,
) -> Result<(), AppError> {
    let (source, destination) = (&plan.request.source, &plan.request.destination);
    let readable = if imported { Ok(()) } else { copy_from(who, registries, &source.registry, &source.repository) };
    readable
        .and_then(|()| copy_to(who, registries, &destination.registry, &destination.repository))
        .map_err(|_| not_found(format_args!("copy plan {}", plan.fingerprint.get(..12).unwrap_or_default())))
}

// Retention.

/// What a policy reaches: each configured registry it covers, with its repository pattern.
fn reach<'a>(policy: &'a RetentionPolicy, registries: &'a Registries) -> impl Iterator<Item = (&'a str, &'a str)> {
    registries.covered_by(&policy.registry).map(|registry| (registry, policy.repositories.as_str()))
}

/// Seeing a retention policy, its runs and its reports: `who` may delete somewhere it reaches.
pub fn see_policy(who: &Principal, registries: &Registries, policy: &RetentionPolicy) -> Result<(), AppError> {
    if reach(policy, registries)
        .any(|(registry, repositories)| holds_somewhere_in(who, Right::Delete, registry, repositories))
    {
        return Ok(());
    }
    Err(not_found(format_args!("retention policy {:?}", policy.name)))
}

/// How a run of a policy was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunMode {
    /// As the policy is configured (a dry run unless it says `dry_run = false`).
    AsConfigured,
    /// A report only, deleting nothing.
    DryRun,
    /// Delete what the policy chooses; for a policy configured as a dry run only with
    /// `override_dry_run` and from an administrator of everything it reaches.
    Execute {
        /// The caller says explicitly that the policy's own `dry_run = true` is to be overridden.
        override_dry_run: bool,
    },
}

/// Running a policy now; answers whether the run is a dry run. Any run needs Delete on every
/// repository the policy can reach (its report and plan cover all of them).
pub fn run_policy(
    who: &Principal,
    registries: &Registries,
    policy: &RetentionPolicy,
    mode: RunMode,
) -> Result<bool, AppError> {
    see_policy(who, registries, policy)?;
    for (registry, repositories) in reach(policy, registries) {
        if let Some(example) = lacking_on(who, Right::Delete, registry, repositories) {
            return Err(AppError::Forbidden(format!(
                "retention policy {} reaches {registry}/{repositories} (such as {registry}/{example}), and you may \
                 not delete in all of it",
                policy.name
            )));
        }
    }
    match mode {
        RunMode::DryRun => Ok(true),
        RunMode::AsConfigured => Ok(policy.dry_run),
        RunMode::Execute { .. } if !policy.dry_run => Ok(false),
        RunMode::Execute { override_dry_run: false } => Err(AppError::Forbidden(format!(
            "retention policy {} is configured as a dry run; deleting with it needs an explicit override \
             (override_dry_run=true in the API, --override-dry-run in the CLI) from an administrator of everything it \
             reaches",
            policy.name
        ))),
        RunMode::Execute { override_dry_run: true } => {
            let administers = reach(policy, registries)
                .all(|(registry, repositories)| lacking_on(who, Right::Administer, registry, repositories).is_none());
            if administers {
                Ok(false)
            } else {
                Err(AppError::Forbidden(format!(
                    "overriding the dry run of retention policy {} needs the admin role on everything it reaches",
                    policy.name
                )))
            }
        }
    }
}

/// True when `who` may see a retention report's line about `repository` of `registry`.
pub fn see_report_line(who: &Principal, registry: &str, repository: &str) -> bool {
    who.can(Right::Read, registry, repository)
}

// The audit log.

/// Opening the audit log at all: its lines are about deletes, for those who may delete.
pub fn read_audit(who: &Principal) -> Result<(), AppError> {
    if offer_deleting(who) {
        return Ok(());
    }
    Err(AppError::Forbidden("the audit log is for maintainers".into()))
}

/// What an audit line is about, beyond the line itself.
#[derive(Debug, Clone, Copy)]
pub enum AuditContext<'a> {
    /// The stored plan the line belongs to.
    Plan(&'a Plan),
    /// The retention policy whose run the line reports.
    Policy(&'a RetentionPolicy),
    /// Nothing known (the plan or the policy is gone).
    Unknown,
}

/// True when `who` may see audit line `entry`: a line about one repository to those who may
/// delete there; a line about a whole plan or run to those who may delete everything in it, to
/// the user who acted, and to administrators of everything.
pub fn see_audit_entry(
    who: &Principal,
    registries: &Registries,
    entry: &AuditEntry,
    context: AuditContext<'_>,
) -> bool {
    if let (Some(registry), Some(repository)) = (&entry.registry, &entry.repository) {
        return who.can(Right::Delete, registry, repository);
    }
    if administers_everything(who, registries) || who.user.as_deref() == Some(entry.actor.as_str()) {
        return true;
    }
    match context {
        AuditContext::Plan(plan) => execute_plan(who, plan).is_ok(),
        AuditContext::Policy(policy) => run_policy(who, registries, policy, RunMode::DryRun).is_ok(),
        AuditContext::Unknown => false,
    }
}

// Accounts.

/// Listing, making and revoking API tokens: a signed-in user, for their own tokens only.
pub fn manage_tokens(who: &Principal, access_control: bool) -> Result<&str, AppError> {
    if !access_control {
        return Err(not_found("api tokens (access control is off)"));
    }
    who.user.as_deref().ok_or(AppError::Unauthorized)
}

/// Making an API token: as [`manage_tokens`], and not with an API token (a token that leaked
/// must not be able to make itself a successor that outlives its revocation).
pub fn create_token(who: &Principal, access_control: bool, via_api_token: bool) -> Result<&str, AppError> {
    let user = manage_tokens(who, access_control)?;
    if via_api_token {
        return Err(AppError::Forbidden("an api token cannot make api tokens; sign in to make one".into()));
    }
    Ok(user)
}

// Request authenticity.

/// A state change made with a session cookie must carry the session's anti-CSRF token;
/// requests authenticated otherwise (an API token, an open server, a visitor) carry no ambient
/// credential and need none. The Fetch-metadata guard refuses cross-site requests before this.
pub fn check_csrf(
    session_token: Option<&ocicat_access::CsrfToken>,
    bearer_authenticated: bool,
    presented: &str,
) -> Result<(), AppError> {
    match session_token {
        _ if bearer_authenticated => Ok(()),
        None => Ok(()),
        Some(token) if token.matches(presented) => Ok(()),
        Some(_) => Err(AppError::Forbidden("the anti-CSRF token is missing or wrong; reload the page".into())),
    }
}

#[cfg(test)]
mod tests {
    use ocicat_access::{Grant, Role};

    use super::*;

    #[test]
    fn nothing_is_written_or_deleted_in_a_read_only_registry() {
        let admin = Principal::anonymous(vec![Grant {
            role: Role::Admin,
            registry: ANY_REGISTRY.into(),
            repositories: "**".into(),
        }]);
        let registries =
            Registries::new(["prod".to_owned(), "airgap".to_owned()]).with_read_only(["airgap".to_owned()]);
        assert!(copy_to(&admin, &registries, "prod", "app").is_ok());
        let refused = copy_to(&admin, &registries, "airgap", "app").unwrap_err();
        assert!(matches!(&refused, AppError::BadRequest(message) if message.contains("read-only")), "{refused:?}");
        assert!(matches!(plan_target(&admin, &registries, "airgap", "app"), Err(AppError::BadRequest(_))));
        assert!(copy_from(&admin, &registries, "airgap", "app").is_ok(), "read, and copy out of it");
        assert_eq!(registries.covered_by(ANY_REGISTRY).collect::<Vec<_>>(), ["prod"]);
    }
}
