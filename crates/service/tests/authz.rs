//! Every rule of the authorization module, as a table: each role (viewer, maintainer, admin) on
//! each scope (a whole registry, part of one, every registry, another registry, nothing) against
//! each target of each action. Loosening any one rule changes some cell and fails this test.
//! The four access bugs of issue 16 are named cases at the end.

use chrono::Utc;
use ocicat_access::{CsrfToken, Grant, Principal, Role};
use ocicat_lifecycle::retention::RetentionPolicy;
use ocicat_lifecycle::{AuditEntry, Mode, Plan, PlanItem, Reason, Totals};
use ocicat_service::authz::{self, AuditContext, RunMode};
use ocicat_service::{AppError, Registries};

/// What a decision came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Is {
    /// Allowed.
    A,
    /// Refused, naming what the principal may read (403).
    F,
    /// Not found, as if it did not exist (404).
    N,
}
use Is::{A, F, N};

fn outcome(result: Result<impl Sized, AppError>) -> Is {
    match result {
        Ok(_) => A,
        Err(AppError::Forbidden(_)) => F,
        Err(AppError::NotFound(_)) => N,
        Err(other) => panic!("unexpected error {other:?}"),
    }
}

fn yes(allowed: bool) -> Is {
    if allowed { A } else { F }
}

fn registries() -> Registries {
    Registries::new(["local".to_owned(), "mirror".to_owned()])
}

fn grant(role: Role, registry: &str, repositories: &str) -> Grant {
    Grant { role, registry: registry.into(), repositories: repositories.into() }
}

/// The principals of every row, by name.
fn principals() -> Vec<(&'static str, Principal)> {
    let user = |name: &str, grants| Principal { user: Some(name.into()), grants };
    vec![
        ("nobody", Principal::anonymous(Vec::new())),
        ("viewer_all", user("viewer_all", vec![grant(Role::Viewer, "local", "**")])),
        ("viewer_demo", user("viewer_demo", vec![grant(Role::Viewer, "local", "demo/**")])),
        ("maint_all", user("maint_all", vec![grant(Role::Maintainer, "local", "**")])),
        ("maint_demo", user("maint_demo", vec![grant(Role::Maintainer, "local", "demo/**")])),
        ("admin_demo", user("admin_demo", vec![grant(Role::Admin, "local", "demo/**")])),
        ("admin_local", user("admin_local", vec![grant(Role::Admin, "local", "**")])),
        ("admin_star", user("admin_star", vec![grant(Role::Admin, "*", "**")])),
        ("admin_mirror", user("admin_mirror", vec![grant(Role::Admin, "mirror", "**")])),
    ]
}

/// Checks `decide` for every principal against the expected row of cells.
fn table<const N: usize>(action: &str, rows: &[(&str, [Is; N])], decide: impl Fn(&Principal, usize) -> Is) {
    let principals = principals();
    assert_eq!(rows.len(), principals.len(), "{action}: one row per principal");
    let mut wrong = Vec::new();
    for ((name, principal), (row_name, expected)) in principals.iter().zip(rows) {
        assert_eq!(name, row_name, "{action}: rows in principal order");
        for (column, expected) in expected.iter().enumerate() {
            let actual = decide(principal, column);
            if actual != *expected {
                wrong.push(format!("{action}: {name} column {column}: expected {expected:?}, got {actual:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const REGISTRIES: [&str; 3] = ["local", "mirror", "ghost"];
const REPOSITORIES: [(&str, &str); 4] =
    [("local", "demo/app"), ("local", "other/app"), ("mirror", "lib/x"), ("ghost", "demo/app")];

#[test]
fn reading_registries_and_repositories() {
    let regs = registries();
    table(
        "read_registry",
        &[
            ("nobody", [N, N, N]),
            ("viewer_all", [A, N, N]),
            ("viewer_demo", [A, N, N]),
            ("maint_all", [A, N, N]),
            ("maint_demo", [A, N, N]),
            ("admin_demo", [A, N, N]),
            ("admin_local", [A, N, N]),
            ("admin_star", [A, A, N]),
            ("admin_mirror", [N, A, N]),
        ],
        |who, column| outcome(authz::read_registry(who, &regs, REGISTRIES[column])),
    );
    table(
        "read_repository",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [A, A, N, N]),
            ("viewer_demo", [A, N, N, N]),
            ("maint_all", [A, A, N, N]),
            ("maint_demo", [A, N, N, N]),
            ("admin_demo", [A, N, N, N]),
            ("admin_local", [A, A, N, N]),
            ("admin_star", [A, A, A, N]),
            ("admin_mirror", [N, N, A, N]),
        ],
        |who, column| {
            let (registry, repository) = REPOSITORIES[column];
            outcome(authz::read_repository(who, &regs, registry, repository))
        },
    );
    table(
        "read_scope",
        &[
            ("nobody", [F, F, F, F]),
            ("viewer_all", [A, A, F, F]),
            ("viewer_demo", [A, F, F, F]),
            ("maint_all", [A, A, F, F]),
            ("maint_demo", [A, F, F, F]),
            ("admin_demo", [A, F, F, F]),
            ("admin_local", [A, A, F, F]),
            ("admin_star", [A, A, A, F]),
            ("admin_mirror", [F, F, A, F]),
        ],
        |who, column| {
            let (registry, repository) = REPOSITORIES[column];
            yes(authz::read_scope(who, &regs).allows(registry, repository))
        },
    );
}

#[test]
fn trust_policies_are_seen_by_readers_of_a_registry_they_cover() {
    let regs = registries();
    // Policies covering: local, mirror, every registry ("*"), a registry not configured.
    const COVERING: [&str; 4] = ["local", "mirror", "*", "ghost"];
    table(
        "see_trust_policy",
        &[
            ("nobody", [F, F, F, F]),
            ("viewer_all", [A, F, A, F]),
            ("viewer_demo", [A, F, A, F]),
            ("maint_all", [A, F, A, F]),
            ("maint_demo", [A, F, A, F]),
            ("admin_demo", [A, F, A, F]),
            ("admin_local", [A, F, A, F]),
            ("admin_star", [A, A, A, F]),
            ("admin_mirror", [F, A, A, F]),
        ],
        |who, column| yes(authz::see_trust_policy(who, &regs, COVERING[column])),
    );
}

#[test]
fn crawl_internals_status_metrics_and_refreshes() {
    let regs = registries();
    table(
        "see_crawl_internals",
        &[
            ("nobody", [F, F]),
            ("viewer_all", [F, F]),
            ("viewer_demo", [F, F]),
            ("maint_all", [F, F]),
            ("maint_demo", [F, F]),
            ("admin_demo", [F, F]),
            ("admin_local", [A, F]),
            ("admin_star", [A, A]),
            ("admin_mirror", [F, A]),
        ],
        |who, column| yes(authz::see_crawl_internals(who, REGISTRIES[column])),
    );
    table(
        "see_crawl_status",
        &[
            ("nobody", [N, N, N]),
            ("viewer_all", [F, N, N]),
            ("viewer_demo", [F, N, N]),
            ("maint_all", [F, N, N]),
            ("maint_demo", [F, N, N]),
            ("admin_demo", [F, N, N]),
            ("admin_local", [A, N, N]),
            ("admin_star", [A, A, N]),
            ("admin_mirror", [N, A, N]),
        ],
        |who, column| outcome(authz::see_crawl_status(who, &regs, REGISTRIES[column])),
    );
    table(
        "refresh_registry",
        &[
            ("nobody", [N, N, N]),
            ("viewer_all", [F, N, N]),
            ("viewer_demo", [F, N, N]),
            ("maint_all", [F, N, N]),
            ("maint_demo", [F, N, N]),
            ("admin_demo", [F, N, N]),
            ("admin_local", [A, N, N]),
            ("admin_star", [A, A, N]),
            ("admin_mirror", [N, A, N]),
        ],
        |who, column| outcome(authz::refresh_registry(who, &regs, REGISTRIES[column])),
    );
    table(
        "refresh_repository",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [F, F, N, N]),
            ("viewer_demo", [F, N, N, N]),
            ("maint_all", [F, F, N, N]),
            ("maint_demo", [F, N, N, N]),
            ("admin_demo", [A, N, N, N]),
            ("admin_local", [A, A, N, N]),
            ("admin_star", [A, A, A, N]),
            ("admin_mirror", [N, N, A, N]),
        ],
        |who, column| {
            let (registry, repository) = REPOSITORIES[column];
            outcome(authz::refresh_repository(who, &regs, registry, repository))
        },
    );
    // Columns: metrics at all, and whether they cover local, mirror.
    table(
        "metrics_registries",
        &[
            ("nobody", [N, F, F]),
            ("viewer_all", [N, F, F]),
            ("viewer_demo", [N, F, F]),
            ("maint_all", [N, F, F]),
            ("maint_demo", [N, F, F]),
            ("admin_demo", [N, F, F]),
            ("admin_local", [A, A, F]),
            ("admin_star", [A, A, A]),
            ("admin_mirror", [A, F, A]),
        ],
        |who, column| match (authz::metrics_registries(who, &regs), column) {
            (result, 0) => outcome(result),
            (Ok(covered), column) => yes(covered.contains(&REGISTRIES[column - 1])),
            (Err(_), _) => F,
        },
    );
}

fn item(registry: &str, repository: &str, digest: &str) -> PlanItem {
    PlanItem {
        registry: registry.into(),
        repository: repository.into(),
        digest: digest.into(),
        kind: "image".into(),
        tags: Vec::new(),
        tag: None,
        size: 1,
        reason: Reason::Target,
        depth: 0,
        after: Vec::new(),
    }
}

fn plan(id: &str, items: Vec<PlanItem>) -> Plan {
    Plan {
        id: id.into(),
        created: Utc::now(),
        created_by: "someone".into(),
        query: None,
        mode: Mode::Manifests,
        targets: items.iter().take(1).cloned().collect(),
        items,
        kept: Vec::new(),
        broken_parents: Vec::new(),
        fallback_rewrites: Vec::new(),
        tag_deletion: Default::default(),
        warnings: Vec::new(),
        totals: Totals::default(),
        truncated: false,
        incomplete: Vec::new(),
    }
}

/// Plans over demo only, other only, both, and mirror.
fn plans() -> [Plan; 4] {
    [
        plan("demo", vec![item("local", "demo/app", "sha256:1"), item("local", "demo/app", "sha256:2")]),
        plan("other", vec![item("local", "other/app", "sha256:3")]),
        plan("mixed", vec![item("local", "demo/app", "sha256:4"), item("local", "other/app", "sha256:5")]),
        plan("mirror", vec![item("mirror", "lib/x", "sha256:6")]),
    ]
}

#[test]
fn deleting_plans_and_executions() {
    let regs = registries();
    table(
        "offer_deleting",
        &[
            ("nobody", [F]),
            ("viewer_all", [F]),
            ("viewer_demo", [F]),
            ("maint_all", [A]),
            ("maint_demo", [A]),
            ("admin_demo", [A]),
            ("admin_local", [A]),
            ("admin_star", [A]),
            ("admin_mirror", [A]),
        ],
        |who, _| yes(authz::offer_deleting(who)),
    );
    table(
        "plan_target",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [F, F, N, N]),
            ("viewer_demo", [F, N, N, N]),
            ("maint_all", [A, A, N, N]),
            ("maint_demo", [A, N, N, N]),
            ("admin_demo", [A, N, N, N]),
            ("admin_local", [A, A, N, N]),
            ("admin_star", [A, A, A, N]),
            ("admin_mirror", [N, N, A, N]),
        ],
        |who, column| {
            let (registry, repository) = REPOSITORIES[column];
            outcome(authz::plan_target(who, &regs, registry, repository))
        },
    );
    table(
        "delete_scope",
        &[
            ("nobody", [F, F, F, F]),
            ("viewer_all", [F, F, F, F]),
            ("viewer_demo", [F, F, F, F]),
            ("maint_all", [A, A, F, F]),
            ("maint_demo", [A, F, F, F]),
            ("admin_demo", [A, F, F, F]),
            ("admin_local", [A, A, F, F]),
            ("admin_star", [A, A, A, F]),
            ("admin_mirror", [F, F, A, F]),
        ],
        |who, column| {
            let (registry, repository) = REPOSITORIES[column];
            yes(authz::delete_scope(who, &regs).allows(registry, repository))
        },
    );
    let plans = plans();
    table(
        "see_plan",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [A, A, A, N]),
            ("viewer_demo", [A, N, N, N]),
            ("maint_all", [A, A, A, N]),
            ("maint_demo", [A, N, N, N]),
            ("admin_demo", [A, N, N, N]),
            ("admin_local", [A, A, A, N]),
            ("admin_star", [A, A, A, A]),
            ("admin_mirror", [N, N, N, A]),
        ],
        |who, column| outcome(authz::see_plan(who, &plans[column])),
    );
    table(
        "execute_plan",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [F, F, F, N]),
            ("viewer_demo", [F, N, N, N]),
            ("maint_all", [A, A, A, N]),
            ("maint_demo", [A, N, N, N]),
            ("admin_demo", [A, N, N, N]),
            ("admin_local", [A, A, A, N]),
            ("admin_star", [A, A, A, A]),
            ("admin_mirror", [N, N, N, A]),
        ],
        |who, column| outcome(authz::execute_plan(who, &plans[column])),
    );
}

fn policy(name: &str, registry: &str, repositories: &str, dry_run: bool) -> RetentionPolicy {
    RetentionPolicy {
        name: name.into(),
        registry: registry.into(),
        repositories: repositories.into(),
        keep_newest: Some(1),
        older_than_days: None,
        keep_tags: Vec::new(),
        expire_by_annotation: false,
        expiry_annotations: Vec::new(),
        every_hours: 0,
        dry_run,
    }
}

/// A dry-run policy on demo, one on other, one on every registry, one that deletes on local.
fn policies() -> [RetentionPolicy; 4] {
    [
        policy("demo", "local", "demo/**", true),
        policy("other", "local", "other/**", true),
        policy("everything", "*", "**", true),
        policy("local-real", "local", "**", false),
    ]
}

#[test]
fn retention_policies_and_runs() {
    let regs = registries();
    let policies = policies();
    table(
        "see_policy",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [N, N, N, N]),
            ("viewer_demo", [N, N, N, N]),
            ("maint_all", [A, A, A, A]),
            ("maint_demo", [A, N, A, A]),
            ("admin_demo", [A, N, A, A]),
            ("admin_local", [A, A, A, A]),
            ("admin_star", [A, A, A, A]),
            ("admin_mirror", [N, N, A, N]),
        ],
        |who, column| outcome(authz::see_policy(who, &regs, &policies[column])),
    );
    table(
        "run_policy (dry run)",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [N, N, N, N]),
            ("viewer_demo", [N, N, N, N]),
            ("maint_all", [A, A, F, A]),
            ("maint_demo", [A, N, F, F]),
            ("admin_demo", [A, N, F, F]),
            ("admin_local", [A, A, F, A]),
            ("admin_star", [A, A, A, A]),
            ("admin_mirror", [N, N, F, N]),
        ],
        |who, column| outcome(authz::run_policy(who, &regs, &policies[column], RunMode::DryRun)),
    );
    let execute = |override_dry_run| RunMode::Execute { override_dry_run };
    table(
        "run_policy (execute, no override)",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [N, N, N, N]),
            ("viewer_demo", [N, N, N, N]),
            ("maint_all", [F, F, F, A]),
            ("maint_demo", [F, N, F, F]),
            ("admin_demo", [F, N, F, F]),
            ("admin_local", [F, F, F, A]),
            ("admin_star", [F, F, F, A]),
            ("admin_mirror", [N, N, F, N]),
        ],
        |who, column| outcome(authz::run_policy(who, &regs, &policies[column], execute(false))),
    );
    table(
        "run_policy (execute, overriding the dry run)",
        &[
            ("nobody", [N, N, N, N]),
            ("viewer_all", [N, N, N, N]),
            ("viewer_demo", [N, N, N, N]),
            ("maint_all", [F, F, F, A]),
            ("maint_demo", [F, N, F, F]),
            ("admin_demo", [A, N, F, F]),
            ("admin_local", [A, A, F, A]),
            ("admin_star", [A, A, A, A]),
            ("admin_mirror", [N, N, F, N]),
        ],
        |who, column| outcome(authz::run_policy(who, &regs, &policies[column], execute(true))),
    );
    // What a run that was allowed is: a dry run unless it deletes.
    let admin = &principals()[7].1;
    assert_eq!(authz::run_policy(admin, &regs, &policies[0], RunMode::AsConfigured), Ok(true));
    assert_eq!(authz::run_policy(admin, &regs, &policies[3], RunMode::AsConfigured), Ok(false));
    assert_eq!(authz::run_policy(admin, &regs, &policies[3], RunMode::DryRun), Ok(true));
    assert_eq!(authz::run_policy(admin, &regs, &policies[0], execute(true)), Ok(false));
    table(
        "see_report_line",
        &[
            ("nobody", [F, F, F, F]),
            ("viewer_all", [A, A, F, F]),
            ("viewer_demo", [A, F, F, F]),
            ("maint_all", [A, A, F, F]),
            ("maint_demo", [A, F, F, F]),
            ("admin_demo", [A, F, F, F]),
            ("admin_local", [A, A, F, F]),
            ("admin_star", [A, A, A, A]),
            ("admin_mirror", [F, F, A, F]),
        ],
        |who, column| {
            let (registry, repository) = REPOSITORIES[column];
            yes(authz::see_report_line(who, registry, repository))
        },
    );
}

fn line(actor: &str, repository: Option<(&str, &str)>, plan_id: Option<&str>) -> AuditEntry {
    AuditEntry {
        seq: 1,
        at: Utc::now(),
        actor: actor.into(),
        action: if repository.is_some() { "delete" } else { "plan" }.into(),
        registry: repository.map(|(registry, _)| registry.into()),
        repository: repository.map(|(_, repository)| repository.into()),
        digest: None,
        tags: Vec::new(),
        plan_id: plan_id.map(str::to_owned),
        outcome: "deleted".into(),
        detail: Some("from search \"repo:other/*\"".into()),
    }
}

#[test]
fn audit_lines() {
    let regs = registries();
    table(
        "read_audit",
        &[
            ("nobody", [F]),
            ("viewer_all", [F]),
            ("viewer_demo", [F]),
            ("maint_all", [A]),
            ("maint_demo", [A]),
            ("admin_demo", [A]),
            ("admin_local", [A]),
            ("admin_star", [A]),
            ("admin_mirror", [A]),
        ],
        |who, _| outcome(authz::read_audit(who)),
    );
    let plans = plans();
    let policies = policies();
    let lines = [
        (line("x", Some(("local", "demo/app")), Some("demo")), AuditContext::Plan(&plans[0])),
        (line("x", Some(("local", "other/app")), Some("other")), AuditContext::Plan(&plans[1])),
        (line("x", None, Some("demo")), AuditContext::Plan(&plans[0])),
        (line("x", None, Some("mixed")), AuditContext::Plan(&plans[2])),
        (line("retention:everything", None, None), AuditContext::Policy(&policies[2])),
        (line("maint_demo", None, Some("gone")), AuditContext::Unknown),
        (line("x", None, None), AuditContext::Unknown),
    ];
    table(
        "see_audit_entry",
        &[
            ("nobody", [F, F, F, F, F, F, F]),
            ("viewer_all", [F, F, F, F, F, F, F]),
            ("viewer_demo", [F, F, F, F, F, F, F]),
            ("maint_all", [A, A, A, A, F, F, F]),
            ("maint_demo", [A, F, A, F, F, A, F]),
            ("admin_demo", [A, F, A, F, F, F, F]),
            ("admin_local", [A, A, A, A, F, F, F]),
            ("admin_star", [A, A, A, A, A, A, A]),
            ("admin_mirror", [F, F, F, F, F, F, F]),
        ],
        |who, column| yes(authz::see_audit_entry(who, &regs, &lines[column].0, lines[column].1)),
    );
}

#[test]
fn tokens_and_csrf() {
    table(
        "manage_tokens (access control on, off)",
        &[
            ("nobody", [F, N]),
            ("viewer_all", [A, N]),
            ("viewer_demo", [A, N]),
            ("maint_all", [A, N]),
            ("maint_demo", [A, N]),
            ("admin_demo", [A, N]),
            ("admin_local", [A, N]),
            ("admin_star", [A, N]),
            ("admin_mirror", [A, N]),
        ],
        |who, column| match authz::manage_tokens(who, column == 0) {
            Ok(user) => {
                assert_eq!(Some(user), who.user.as_deref(), "a user manages their own tokens");
                A
            }
            Err(AppError::Unauthorized) => F,
            Err(other) => outcome(Err::<(), _>(other)),
        },
    );
    let admin = &principals()[7].1;
    assert_eq!(authz::create_token(admin, true, false), Ok("admin_star"));
    assert!(matches!(authz::create_token(admin, true, true), Err(AppError::Forbidden(_))), "a token makes no token");
    assert!(matches!(authz::create_token(admin, false, false), Err(AppError::NotFound(_))));
    let session = CsrfToken("a".repeat(43));
    assert_eq!(authz::check_csrf(Some(&session), false, &session.0), Ok(()));
    assert!(matches!(authz::check_csrf(Some(&session), false, "wrong"), Err(AppError::Forbidden(_))));
    assert!(matches!(authz::check_csrf(Some(&session), false, ""), Err(AppError::Forbidden(_))));
    assert_eq!(authz::check_csrf(Some(&session), true, ""), Ok(()), "an api token is no ambient credential");
    assert_eq!(authz::check_csrf(None, false, ""), Ok(()), "no session, no cookie to ride on");
}

// The four access bugs of issue 16, each as the principal who found it.

#[test]
fn bug_a_scoped_admin_may_not_run_a_policy_that_reaches_further() {
    let regs = registries();
    let admin_demo = &principals()[5].1;
    let everything = &policies()[2];
    for mode in [RunMode::DryRun, RunMode::AsConfigured, RunMode::Execute { override_dry_run: true }] {
        let refused = authz::run_policy(admin_demo, &regs, everything, mode);
        assert!(matches!(refused, Err(AppError::Forbidden(_))), "{mode:?}: {refused:?}");
    }
    let maint_all = &principals()[3].1;
    let dry = &policies()[0];
    assert!(
        matches!(
            authz::run_policy(maint_all, &regs, dry, RunMode::Execute { override_dry_run: true }),
            Err(AppError::Forbidden(_))
        ),
        "dry_run=false on a dry-run policy needs an administrator, not a maintainer"
    );
}

#[test]
fn bug_b_reports_show_only_readable_repositories() {
    let viewer_demo = &principals()[2].1;
    assert!(authz::see_report_line(viewer_demo, "local", "demo/app"));
    assert!(!authz::see_report_line(viewer_demo, "local", "other/app"));
}

#[test]
fn bug_c_whole_registry_facts_need_the_whole_registry() {
    let regs = registries();
    let admin_demo = &principals()[5].1;
    assert!(!authz::see_crawl_internals(admin_demo, "local"));
    assert!(matches!(authz::metrics_registries(admin_demo, &regs), Err(AppError::NotFound(_))));
    assert!(matches!(authz::see_crawl_status(admin_demo, &regs, "local"), Err(AppError::Forbidden(_))));
    let other_teams_plan = line("someone", None, Some("mixed"));
    let plans = plans();
    assert!(!authz::see_audit_entry(admin_demo, &regs, &other_teams_plan, AuditContext::Plan(&plans[2])));
}

#[test]
fn bug_d_unknown_and_forbidden_look_the_same() {
    let regs = registries();
    let maint_demo = &principals()[4].1;
    let unknown = authz::plan_target(maint_demo, &regs, "ghost", "demo/app");
    let forbidden_registry = authz::plan_target(maint_demo, &regs, "mirror", "lib/x");
    let forbidden_repository = authz::plan_target(maint_demo, &regs, "local", "other/app");
    for answer in [&unknown, &forbidden_registry, &forbidden_repository] {
        assert!(matches!(answer, Err(AppError::NotFound(_))), "{answer:?}");
    }
    let viewer_all = &principals()[1].1;
    assert!(matches!(authz::see_policy(viewer_all, &regs, &policies()[1]), Err(AppError::NotFound(_))));
}
