//! Each scheme's order on lists that must sort exactly, the text fallback, the scheme mappings,
//! and properties over arbitrary strings (no panics, antisymmetry).

use std::cmp::Ordering;

use ocicat_versions::{Comparison, MAX_VERSION_LEN, Scheme, compare, parses};
use proptest::prelude::*;

const SCHEMES: [Scheme; 7] =
    [Scheme::Semver, Scheme::Pep440, Scheme::Debian, Scheme::Rpm, Scheme::Apk, Scheme::Maven, Scheme::Text];

/// Every version in `ascending` parses, and each pair compares as its positions do, exactly.
fn assert_ascending(scheme: Scheme, ascending: &[&str]) {
    for version in ascending {
        assert!(parses(scheme, version), "{scheme}: {version} should parse");
    }
    for (i, a) in ascending.iter().enumerate() {
        for (j, b) in ascending.iter().enumerate() {
            let got = compare(scheme, a, b);
            assert_eq!(got, Comparison { ordering: i.cmp(&j), exact: true }, "{scheme}: {a} vs {b}");
        }
    }
}

/// Each pair compares equal, exactly, both ways.
fn assert_equal(scheme: Scheme, pairs: &[(&str, &str)]) {
    for (a, b) in pairs {
        for (x, y) in [(a, b), (b, a)] {
            assert_eq!(
                compare(scheme, x, y),
                Comparison { ordering: Ordering::Equal, exact: true },
                "{scheme}: {x} = {y}"
            );
        }
    }
}

#[test]
fn semver_orders_releases_and_pre_releases() {
    assert_ascending(
        Scheme::Semver,
        &[
            "0.9.9",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.2.0",
            "1.10.0",
            "2.0.0",
        ],
    );
    assert_ascending(Scheme::Semver, &["2.17.0", "2.17.1"]);
    assert_equal(Scheme::Semver, &[("1.0.0+build.1", "1.0.0+build.2"), ("1.0.0", "1.0.0+x")]);
}

#[test]
fn semver_reads_go_versions() {
    assert_ascending(
        Scheme::Semver,
        &[
            "v0.0.0-20200101000000-ffffffffffff",
            "v0.0.0-20210101000000-abcdef123456",
            "v0.1.0",
            "v1.2.3",
            "v1.2.4-0.20220101000000-0123456789ab",
            "v1.2.4",
            "v2.0.0+incompatible",
            "v2.1.0",
        ],
    );
    assert_equal(Scheme::Semver, &[("v2.0.0+incompatible", "2.0.0"), ("v1.2.3", "1.2.3")]);
}

#[test]
fn semver_reads_four_part_and_rubygems_versions() {
    assert_ascending(Scheme::Semver, &["1.2", "1.2.3", "1.2.3.4-beta.1", "1.2.3.4", "1.2.3.10", "1.2.4"]);
    assert_ascending(Scheme::Semver, &["7.0.0.beta1", "7.0.0.rc1", "7.0.0", "7.0.0.1", "7.0.1"]);
    assert_equal(
        Scheme::Semver,
        &[("1.2", "1.2.0"), ("1.2.0.0", "1.2"), ("01.02.03", "1.2.3"), ("1.0.0.rc1", "1.0.0-rc1")],
    );
}

#[test]
fn pep440_orders_like_pip() {
    assert_ascending(
        Scheme::Pep440,
        &[
            "0.9",
            "1.0.dev1",
            "1.0a1",
            "1.0a2.dev1",
            "1.0a2",
            "1.0b2",
            "1.0rc1",
            "1.0",
            "1.0+local",
            "1.0.post1",
            "1.1",
            "1!0.5",
        ],
    );
    assert_ascending(Scheme::Pep440, &["2.17.0", "2.17.1", "2.18.0"]);
    assert_equal(Scheme::Pep440, &[("1.0-alpha1", "1.0a1"), ("v1.0", "1.0"), ("1.0", "1.0.0"), ("0!1.0", "1.0")]);
}

#[test]
fn debian_orders_like_dpkg() {
    assert_ascending(Scheme::Debian, &["1.0~rc1", "1.0", "1.0-1", "1.0+b1", "1:0.9"]);
    assert_ascending(Scheme::Debian, &["2.30-1ubuntu1", "2.30-1ubuntu2", "2.30-1ubuntu10"]);
    assert_ascending(Scheme::Debian, &["1.2.3-4~deb12u1", "1.2.3-4", "1.2.3-4+deb12u1", "1.2.3-5"]);
    assert_ascending(Scheme::Debian, &["3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "3.0.13-1"]);
    assert_ascending(Scheme::Debian, &["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+"]);
    assert_equal(Scheme::Debian, &[("1.0", "0:1.0"), ("1.0-0", "1.0"), ("1.01", "1.1")]);
}

#[test]
fn rpm_orders_like_rpmvercmp() {
    assert_ascending(Scheme::Rpm, &["1.0~rc1", "1.0", "1.0^git1", "1.0^git2", "1.0a", "1.0.1", "2.0", "1:1.0"]);
    assert_ascending(Scheme::Rpm, &["1.1.1k-7.el8_6", "1.1.1k-12.el8_9", "1:3.0.7-25.el9_3", "1:3.0.7-27.el9"]);
    assert_ascending(Scheme::Rpm, &["3.0.13-1", "3.0.13-2", "3.0.13-10"]);
    assert_eq!(compare(Scheme::Rpm, "1:1.0", "2.0"), Comparison { ordering: Ordering::Greater, exact: true });
    assert_ascending(Scheme::Rpm, &["1.0", "1.0-1", "1.0-1.el9", "1.0.0"]);
    assert_equal(Scheme::Rpm, &[("1.0", "0:1.0"), ("1.01", "1.1"), ("1.0-1", "0:1.0-1"), ("1.0-1", "1.0-01")]);
}

#[test]
fn apk_orders_like_apk_tools() {
    assert_ascending(Scheme::Apk, &["1.2.3_rc1", "1.2.3", "1.2.3-r1", "1.2.3_p1", "1.2.4"]);
    assert_ascending(Scheme::Apk, &["3.0.13-r0", "3.0.13-r1", "3.0.13-r10", "3.0.14-r0"]);
    assert_ascending(
        Scheme::Apk,
        &[
            "1.0_alpha",
            "1.0_alpha2",
            "1.0_beta",
            "1.0_pre1",
            "1.0_rc1",
            "1.0",
            "1.0~abc",
            "1.0_git20240101",
            "1.0_p1",
            "1.0a",
            "1.0b",
            "1.0.1",
        ],
    );
}

#[test]
fn maven_orders_like_comparable_version() {
    assert_ascending(
        Scheme::Maven,
        &["1.0-alpha-1", "1.0-beta", "1.0-rc1", "1.0-SNAPSHOT", "1.0", "1.0-sp1", "1.0-foo", "1.0-1", "1.0.1"],
    );
    assert_ascending(Scheme::Maven, &["2.17.0", "2.17.1", "2.17.10"]);
    // The lists of Maven 3.9's ComparableVersionTest.
    assert_ascending(
        Scheme::Maven,
        &[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ],
    );
    assert_ascending(
        Scheme::Maven,
        &[
            "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1", "2.2",
            "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11", "11.a", "11b", "11c", "11m",
        ],
    );
    assert_ascending(Scheme::Maven, &["1-0.alpha", "1-0.beta", "1"]);
    assert_ascending(Scheme::Maven, &["1.0.0.RC1", "1.0.0-RC2"]);
    assert_equal(
        Scheme::Maven,
        &[
            ("1", "1.0.0"),
            ("1.0", "1-0"),
            ("1a", "1.0.0-a"),
            ("1ga", "1"),
            ("1.0.Final", "1"),
            ("1-RELEASE", "1"),
            ("1cr", "1rc"),
            ("1a1", "1-alpha-1"),
            ("1m3", "1-MILESTONE-3"),
            ("2-rc", "2.0.0.RC"),
            ("0001", "1"),
        ],
    );
}

#[test]
fn unparsable_versions_fall_back_to_natural_text() {
    let cases = [
        (Scheme::Semver, "1.2.3", "latest"),
        (Scheme::Semver, "1.9.*", "1.10.*"),
        (Scheme::Pep440, "1.0", "not a version"),
        (Scheme::Debian, "1.0-1", "1.0-1 beta"),
        (Scheme::Rpm, "1.0-1", "1.0-1%{dist}"),
        (Scheme::Apk, "1.9-r0", "1.10-rc0"),
        (Scheme::Maven, "1.9", "v1.10"),
        (Scheme::Text, "1.9", "1.10"),
    ];
    for (scheme, a, b) in cases {
        assert!(!parses(scheme, a) || !parses(scheme, b), "{scheme}: {a} / {b}");
        assert_eq!(compare(scheme, a, b), Comparison { ordering: Ordering::Less, exact: false }, "{scheme}: {a} < {b}");
        assert_eq!(
            compare(scheme, b, a),
            Comparison { ordering: Ordering::Greater, exact: false },
            "{scheme}: {b} > {a}"
        );
    }
    assert_eq!(compare(Scheme::Text, "1.0", "1.0"), Comparison { ordering: Ordering::Equal, exact: false });
    assert_eq!(compare(Scheme::Semver, "", "").ordering, Ordering::Equal);
}

#[test]
fn whitespace_is_trimmed_and_long_input_is_text() {
    assert_eq!(compare(Scheme::Semver, " 1.2.3\n", "1.2.3"), Comparison { ordering: Ordering::Equal, exact: true });
    let long = format!("1.{}", "0".repeat(MAX_VERSION_LEN));
    assert!(!parses(Scheme::Maven, &long));
    assert!(!compare(Scheme::Maven, &long, "1").exact);
    assert!(!parses(Scheme::Text, "1.0"));
}

#[test]
fn purl_types_map_to_schemes() {
    for (purl_type, scheme) in [
        ("npm", Scheme::Semver),
        ("cargo", Scheme::Semver),
        ("golang", Scheme::Semver),
        ("nuget", Scheme::Semver),
        ("gem", Scheme::Semver),
        ("composer", Scheme::Semver),
        ("hex", Scheme::Semver),
        ("pub", Scheme::Semver),
        ("swift", Scheme::Semver),
        ("cocoapods", Scheme::Semver),
        ("pypi", Scheme::Pep440),
        ("deb", Scheme::Debian),
        ("rpm", Scheme::Rpm),
        ("apk", Scheme::Apk),
        ("maven", Scheme::Maven),
        ("Maven", Scheme::Maven),
        ("generic", Scheme::Text),
        ("docker", Scheme::Text),
        ("", Scheme::Text),
    ] {
        assert_eq!(Scheme::for_purl_type(purl_type), scheme, "{purl_type}");
    }
}

#[test]
fn ecosystem_names_map_to_schemes() {
    let expected = [
        (Scheme::Debian, &["debian", "ubuntu", "Debian", "Ubuntu", "Debian:12", "Ubuntu:22.04:LTS"][..]),
        (
            Scheme::Rpm,
            &[
                "redhat",
                "centos",
                "rocky",
                "alma",
                "amazon",
                "oracle",
                "suse",
                "photon",
                "Red Hat",
                "Rocky Linux",
                "AlmaLinux",
                "SUSE",
                "Red Hat:enterprise_linux:9::appstream",
            ][..],
        ),
        (Scheme::Apk, &["alpine", "wolfi", "chainguard", "Alpine", "Alpine:v3.19", "Wolfi", "Chainguard"][..]),
        (Scheme::Pep440, &["pip", "pipenv", "poetry", "python-pkg", "PyPI"][..]),
        (Scheme::Maven, &["jar", "pom", "gradle", "Maven"][..]),
        (
            Scheme::Semver,
            &[
                "npm",
                "yarn",
                "pnpm",
                "cargo",
                "gomod",
                "gobinary",
                "nuget",
                "gemspec",
                "bundler",
                "composer",
                "crates.io",
                "Go",
                "NuGet",
                "RubyGems",
                "Packagist",
            ][..],
        ),
        (Scheme::Text, &["conda-pkg", "OSS-Fuzz", "", "unknown"][..]),
    ];
    for (scheme, names) in expected {
        for name in names {
            assert_eq!(Scheme::for_ecosystem(name), scheme, "{name}");
        }
    }
}

/// Strings that look like versions of every scheme, to reach the parsers' deep paths.
fn versionish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9a-zA-Z.~^_+:!-]{0,24}",
        "v?[0-9]{1,3}(\\.[0-9]{1,3}){0,3}(-[0-9a-z.]{1,8})?(\\+[0-9a-z]{1,4})?",
        "([0-9]:)?[0-9]{1,2}(\\.[0-9a-z]{1,3}){0,3}([~^+][a-z0-9]{1,4})?(-[0-9a-z.~+]{1,6})?",
        "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}[a-c]?(_(alpha|beta|pre|rc|p|git)[0-9]{0,2}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?",
        "[0-9]{1,2}([.-]?(alpha|a|b|m|rc|cr|snapshot|ga|final|sp|foo|[0-9]{1,3})){0,5}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compare_is_total_and_antisymmetric(a in versionish(), b in versionish()) {
        for scheme in SCHEMES {
            let ab = compare(scheme, &a, &b);
            let ba = compare(scheme, &b, &a);
            prop_assert_eq!(ab.ordering, ba.ordering.reverse(), "{}: {:?} vs {:?}", scheme, a, b);
            prop_assert_eq!(ab.exact, ba.exact);
            prop_assert_eq!(ab.exact, parses(scheme, &a) && parses(scheme, &b));
            prop_assert_eq!(compare(scheme, &a, &a).ordering, Ordering::Equal);
        }
    }

    #[test]
    fn deep_or_long_input_does_not_panic(unit in "[0-9a-z.~_:+-]{1,3}", times in 1usize..2000) {
        let long = unit.repeat(times);
        for scheme in SCHEMES {
            let _ = compare(scheme, &long, "1.0");
            let _ = parses(scheme, &long);
        }
    }
}
