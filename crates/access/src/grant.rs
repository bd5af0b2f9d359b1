//! Roles, the rights they carry, grants on registry and repository patterns, and the principal
//! (a signed-in user, a token, or anonymous) that holds them.

use ocicat_catalog::{Scope, ScopePattern};
use serde::{Deserialize, Serialize};

/// The registry name of a grant that covers every configured registry.
pub const ANY_REGISTRY: &str = "*";

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Right {
    /// See pages, search, read content.
    Read,
    /// Delete artifacts and run retention.
    Delete,
    /// Write to a repository: copies arriving there.
    Write,
    /// See crawl internals and trigger crawls.
    Administer,
}

/// A role, each including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads.
    Viewer,
    /// Reads, writes (copies in) and deletes (and runs retention).
    Maintainer,
    /// Everything, including crawl internals and "refresh now".
    Admin,
}

impl Role {
    /// True when this role carries `right`.
    pub fn allows(self, right: Right) -> bool {
        match right {
            Right::Read => true,
            Right::Delete | Right::Write => self >= Role::Maintainer,
            Right::Administer => self == Role::Admin,
        }
    }
}

/// One grant: `role` on the repositories of `registry` (or of every registry, `*`) that match
/// `repositories` (`*` one path segment, `**` any number, the rest literal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// The role granted.
    pub role: Role,
    /// A configured registry name, or `*` for every registry.
    pub registry: String,
    /// The repository pattern; `**` for the whole registry.
    #[serde(default = "everything")]
    pub repositories: String,
}

fn everything() -> String {
    "**".into()
}

/// Who is asking, with what they were granted. Anonymous visitors carry the anonymous grants
/// of the configuration (none unless anonymous reading is switched on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user name, `None` for anonymous.
    pub user: Option<String>,
    /// Everything granted.
    pub grants: Vec<Grant>,
}

impl Principal {
    /// A visitor with `grants` (the configuration's anonymous grants).
    pub fn anonymous(grants: Vec<Grant>) -> Principal {
        Principal { user: None, grants }
    }

    /// True when `right` is granted on `repository` of `registry`.
    pub fn can(&self, right: Right, registry: &str, repository: &str) -> bool {
        self.scope(right, &[registry]).allows(registry, repository)
    }

    /// True when `right` is granted on some repository of `registry` (the registry may be shown).
    pub fn can_somewhere(&self, right: Right, registry: &str) -> bool {
        self.grants.iter().any(|grant| grant.role.allows(right) && covers(grant, registry))
    }

    /// True when `right` is granted on every repository of `registry` (a `**` grant), as a
    /// whole-registry crawl needs.
    pub fn can_whole_registry(&self, right: Right, registry: &str) -> bool {
        self.grants
            .iter()
            .any(|grant| grant.role.allows(right) && covers(grant, registry) && grant.repositories == "**")
    }

    /// True when `right` is granted anywhere at all (menus ask this).
    pub fn can_anywhere(&self, right: Right) -> bool {
        self.grants.iter().any(|grant| grant.role.allows(right))
    }

    /// The catalog scope of what `right` reaches, `*` grants expanded over `registries` (the
    /// configured names), for searches, counts and facets.
    pub fn scope(&self, right: Right, registries: &[&str]) -> Scope {
        let mut patterns = Vec::new();
        for grant in self.grants.iter().filter(|grant| grant.role.allows(right)) {
            for registry in registries.iter().filter(|registry| covers(grant, registry)) {
                patterns
                    .push(ScopePattern { registry: (*registry).to_owned(), repository: grant.repositories.clone() });
            }
        }
        Scope::only(patterns)
    }
}

fn covers(grant: &Grant, registry: &str) -> bool {
    grant.registry == ANY_REGISTRY || grant.registry == registry
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn grant(role: Role, registry: &str, repositories: &str) -> Grant {
        Grant { role, registry: registry.into(), repositories: repositories.into() }
    }

    fn user(grants: Vec<Grant>) -> Principal {
        Principal { user: Some("alice".into()), grants }
    }

    #[test]
    fn roles_include_the_ones_before_them() {
        assert!(Role::Viewer.allows(Right::Read));
        assert!(!Role::Viewer.allows(Right::Delete));
        assert!(Role::Maintainer.allows(Right::Delete));
        assert!(Role::Maintainer.allows(Right::Write) && !Role::Viewer.allows(Right::Write));
        assert!(!Role::Maintainer.allows(Right::Administer));
        assert!(Role::Admin.allows(Right::Administer) && Role::Admin.allows(Right::Delete));
    }

    #[test]
    fn grants_reach_their_registry_and_pattern_only() {
        let alice = user(vec![grant(Role::Viewer, "prod", "team-a/**"), grant(Role::Maintainer, "staging", "web/*")]);
        assert!(alice.can(Right::Read, "prod", "team-a/api/v2"));
        assert!(!alice.can(Right::Read, "prod", "team-b/api"));
        assert!(!alice.can(Right::Delete, "prod", "team-a/api"), "a viewer may not delete");
        assert!(alice.can(Right::Delete, "staging", "web/api"));
        assert!(!alice.can(Right::Delete, "staging", "web/api/old"), "one star is one segment");
        assert!(!alice.can(Right::Read, "mirror", "team-a/api"), "no grant on mirror");
        assert!(alice.can_somewhere(Right::Read, "prod") && !alice.can_somewhere(Right::Read, "mirror"));
        assert!(!alice.can_somewhere(Right::Administer, "prod"));
        assert!(!alice.can_whole_registry(Right::Read, "staging"), "web/* is not the whole registry");
        assert!(alice.can_anywhere(Right::Delete) && !alice.can_anywhere(Right::Administer));
    }

    #[test]
    fn a_star_registry_expands_over_the_configured_ones() {
        let admin = user(vec![grant(Role::Admin, ANY_REGISTRY, "**")]);
        assert!(admin.can(Right::Administer, "anything", "at/all"));
        assert!(admin.can_whole_registry(Right::Administer, "prod"));
        let scope = admin.scope(Right::Read, &["prod", "staging"]);
        assert!(scope.allows("prod", "x") && scope.allows("staging", "y/z"));
        assert!(!scope.allows("unknown", "x"), "only configured registries are expanded");
    }

    #[test]
    fn nobody_without_grants_sees_anything() {
        let visitor = Principal::anonymous(Vec::new());
        assert!(!visitor.can(Right::Read, "prod", "web"));
        assert!(!visitor.scope(Right::Read, &["prod"]).allows("prod", "web"));
    }

    #[test]
    fn grants_read_from_toml_default_to_the_whole_registry() {
        let parsed: Grant = toml::from_str("role = \"maintainer\"\nregistry = \"prod\"").expect("grant parses");
        assert_eq!(parsed, grant(Role::Maintainer, "prod", "**"));
        assert!(toml::from_str::<Grant>("role = \"owner\"\nregistry = \"prod\"").is_err(), "unknown roles are errors");
    }

    proptest! {
        /// Whatever A's grants say, nothing of registry B is reachable through them.
        #[test]
        fn grants_on_one_registry_never_reach_another(
            repositories in "[a-z*/]{0,12}",
            asked in "[a-z/]{1,12}",
            role in prop_oneof![Just(Role::Viewer), Just(Role::Maintainer), Just(Role::Admin)],
        ) {
            let holder = user(vec![grant(role, "registry-a", &repositories)]);
            for right in [Right::Read, Right::Delete, Right::Administer] {
                prop_assert!(!holder.can(right, "registry-b", &asked));
                prop_assert!(!holder.scope(right, &["registry-a", "registry-b"]).allows("registry-b", &asked));
            }
        }
    }
}
