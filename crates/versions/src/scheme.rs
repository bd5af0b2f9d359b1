//! [`Scheme`], the orderings this crate knows, and how package URL types and scanners'
//! ecosystem names map onto them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A version ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// Semantic Versioning 2.0 precedence, read loosely so that the versions of npm, Cargo, Go,
    /// NuGet, RubyGems, Composer, Hex, Pub, Swift and CocoaPods order sensibly: a leading `v` is
    /// dropped (Go's `v1.2.3`); the release may have one to any number of numeric parts, compared
    /// part by part with missing parts as 0 (`1.2` = `1.2.0`, NuGet's and RubyGems' `1.2.3.4` >
    /// `1.2.3`) and leading zeros ignored; a pre-release follows `-`, or a dotted part starting
    /// with a letter (RubyGems' `1.0.0.rc1` is `1.0.0-rc1`), and sorts before its release, its
    /// identifiers ordered as semver says (numeric by value, others by ASCII, numeric before
    /// others); build metadata after `+` is ignored, so Go's `v2.0.0+incompatible` equals
    /// `v2.0.0`. Go pseudo-versions (`v0.0.0-20210101000000-abcdef123456`) are pre-releases and
    /// order by their timestamps.
    Semver,
    /// Python's PEP 440 (`1.0.dev1 < 1.0a1 < 1.0 < 1.0.post1 < 1!0.5`), with its normalisation
    /// (`1.0-alpha1` = `1.0a1`, leading `v`).
    Pep440,
    /// Debian's dpkg order: `epoch:upstream-revision`, `~` before anything, even the end.
    Debian,
    /// RPM's order: `epoch:version-release`, each part by `rpmvercmp` (`~` before anything, `^`
    /// after its base but before anything longer).
    Rpm,
    /// Alpine's apk-tools order: `1.2.3a_rc1~hash-r2`.
    Apk,
    /// Maven's `ComparableVersion` (Maven 3.9): `alpha < beta < milestone < rc = cr < snapshot <
    /// release = ga = final < sp`, then other qualifiers by name.
    Maven,
    /// No known ordering: the natural text order, never exact.
    Text,
}

impl Scheme {
    /// The scheme for a package URL type (`pkg:TYPE/…`), matched case-insensitively; unknown
    /// types give [`Scheme::Text`].
    pub fn for_purl_type(purl_type: &str) -> Scheme {
        match purl_type.trim().to_ascii_lowercase().as_str() {
            "npm" | "cargo" | "golang" | "nuget" | "gem" | "composer" | "hex" | "pub" | "swift" | "cocoapods" => {
                Scheme::Semver
            }
            "pypi" => Scheme::Pep440,
            "deb" => Scheme::Debian,
            "rpm" => Scheme::Rpm,
            "apk" => Scheme::Apk,
            "maven" => Scheme::Maven,
            _ => Scheme::Text,
        }
    }

    /// The scheme for an ecosystem as scanners name it, matched case-insensitively: Trivy's
    /// result `Type` values (`debian`, `redhat`, `alpine`, `npm`, `pip`, `jar`, `gomod`, …) and
    /// OSV's ecosystems (`Debian`, `Red Hat`, `PyPI`, `crates.io`, `Go`, …; a release suffix such
    /// as `Debian:12` or `Alpine:v3.19` is ignored). Package URL types are accepted too; other
    /// names give [`Scheme::Text`].
    pub fn for_ecosystem(name: &str) -> Scheme {
        let name = name.split(':').next().unwrap_or_default().trim().to_ascii_lowercase();
        match name.as_str() {
            "debian" | "ubuntu" | "echo" => Scheme::Debian,
            "redhat"
            | "red hat"
            | "centos"
            | "rocky"
            | "rocky linux"
            | "alma"
            | "almalinux"
            | "amazon"
            | "amazon linux"
            | "oracle"
            | "oracle linux"
            | "fedora"
            | "suse"
            | "sles"
            | "slem"
            | "opensuse"
            | "opensuse.leap"
            | "opensuse.tumbleweed"
            | "opensuse.leap.micro"
            | "photon"
            | "photon os"
            | "cbl-mariner"
            | "azurelinux"
            | "azure linux"
            | "mageia"
            | "openeuler" => Scheme::Rpm,
            "alpine" | "wolfi" | "chainguard" | "minimos" | "alpaquita" => Scheme::Apk,
            "pip" | "pipenv" | "poetry" | "uv" | "python-pkg" => Scheme::Pep440,
            "jar" | "pom" | "gradle" | "sbt" => Scheme::Maven,
            "yarn" | "pnpm" | "bun" | "node-pkg" | "crates.io" | "rustbinary" | "rust-binary" | "gomod"
            | "gobinary" | "go" | "dotnet-core" | "packages-props" | "gemspec" | "bundler" | "rubygems"
            | "composer-vendor" | "packagist" | "swifturl" => Scheme::Semver,
            other => Scheme::for_purl_type(other),
        }
    }

    /// The scheme's name, as serialised.
    fn name(self) -> &'static str {
        match self {
            Scheme::Semver => "semver",
            Scheme::Pep440 => "pep440",
            Scheme::Debian => "debian",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Maven => "maven",
            Scheme::Text => "text",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_serde() {
        for scheme in
            [Scheme::Semver, Scheme::Pep440, Scheme::Debian, Scheme::Rpm, Scheme::Apk, Scheme::Maven, Scheme::Text]
        {
            let json = serde_json::to_string(&scheme).unwrap();
            assert_eq!(json, format!("\"{scheme}\""));
            assert_eq!(serde_json::from_str::<Scheme>(&json).unwrap(), scheme);
        }
    }
}
