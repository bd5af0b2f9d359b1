//! SBOMs: real documents from distro2sbom, sbom4python, npm sbom and cyclonedx-py, and
//! hand-made ones that follow SPDX 2.2 and CycloneDX 1.4 / 1.6.

use ocicat_formats::{Document, Hint, Package, Sbom, read, sbom};
use serde_json::json;

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

fn read_sbom(bytes: &[u8]) -> Sbom {
    match read(bytes, &Hint::default()).unwrap() {
        Document::Sbom(sbom) => sbom,
        other => panic!("expected an sbom, got {other:?}"),
    }
}

fn package<'a>(sbom: &'a Sbom, name: &str) -> &'a Package {
    sbom.packages.iter().find(|package| package.name == name).unwrap_or_else(|| panic!("no package {name}"))
}

#[test]
fn distro2sbom_spdx_lists_the_debian_packages() {
    let sbom = read_sbom(&data("sbom-debian-skopeo.spdx.json"));
    assert_eq!(sbom.format, "SPDX 2.3");
    assert_eq!(sbom.name.as_deref(), Some("demo/app"));
    assert_eq!(sbom.created.as_deref(), Some("2026-11-23T07:11:15Z"));
    assert_eq!(sbom.generators, ["distro2sbom-0.6.0"]);
    assert_eq!(sbom.packages.len(), 64);
    assert_eq!(sbom.dependencies.len(), 171);
    assert!(!sbom.truncated);
    assert_eq!(sbom.wrapped_in, None);

    let zlib = package(&sbom, "zlib1g");
    assert_eq!(zlib.id, "SPDXRef-55-zlib1g");
    assert_eq!(zlib.version.as_deref(), Some("1:1.2.13.dfsg-1"));
    assert_eq!(zlib.license.as_deref(), Some("Zlib"));
    assert_eq!(zlib.kind.as_deref(), Some("library"));
    assert_eq!(zlib.supplier.as_deref(), Some("Mark Brown (broonie@debian.org)"));
    assert_eq!(zlib.purl.as_deref(), Some("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64"));
    assert_eq!(zlib.homepage.as_deref(), Some("http://zlib.net/"));

    let skopeo = package(&sbom, "skopeo");
    assert_eq!(skopeo.kind.as_deref(), Some("application"));
    assert_eq!(skopeo.license, None, "NOASSERTION is no license");
    assert_eq!(skopeo.supplier.as_deref(), Some("Debian Go Packaging Team (team+pkg-go@tracker.debian.org)"));

    assert_eq!(sbom.licenses[0], ("GPL-3.0-or-later".to_owned(), 15));
    assert_eq!(sbom.licenses[1], ("unknown".to_owned(), 14));
    assert_eq!(sbom.licenses.iter().map(|(_, count)| count).sum::<u64>(), 64);

    let first = &sbom.dependencies[0];
    assert_eq!(first.kind, "DEPENDS_ON");
    assert_eq!(first.from_name.as_deref(), Some("skopeo"));
    assert!(first.to_name.is_some());
}

#[test]
fn sbom4python_spdx_resolves_names_of_packages_files_and_the_document() {
    let sbom = read_sbom(&data("sbom-requests.spdx.json"));
    assert_eq!(sbom.generators, ["sbom4python-0.12.6"]);
    assert_eq!(sbom.packages.len(), 5);
    let requests = package(&sbom, "requests");
    assert_eq!(requests.version.as_deref(), Some("2.34.2"));
    assert_eq!(requests.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(requests.supplier.as_deref(), Some("Kenneth Reitz (me@kennethreitz.org)"));
    assert_eq!(requests.purl.as_deref(), Some("pkg:pypi/requests@2.34.2"));
    let describes = sbom.dependencies.iter().find(|relation| relation.kind == "DESCRIBES").unwrap();
    assert_eq!(describes.from, "SPDXRef-DOCUMENT");
    assert_eq!(describes.from_name.as_deref(), Some("Python-requests"));
    assert_eq!(describes.to_name.as_deref(), Some("requests"));
    let contains = sbom.dependencies.iter().find(|relation| relation.kind == "CONTAINS").unwrap();
    assert_eq!(contains.from_name.as_deref(), Some("charset-normalizer"));
    assert!(contains.to_name.as_deref().is_some_and(|name| name == "./cd.cpython-311-x86_64-linux-gnu.so"));
    assert_eq!(sbom.dependencies.iter().filter(|relation| relation.kind == "DEPENDS_ON").count(), 4);
}

#[test]
fn npm_spdx_keeps_document_describes_once() {
    let sbom = read_sbom(&data("sbom-npm.spdx.json"));
    assert_eq!(sbom.name.as_deref(), Some("npmproj@1.0.0"));
    assert_eq!(sbom.generators, ["npm/cli-11.19.1"]);
    assert_eq!(sbom.packages.len(), 7);
    let describes: Vec<_> = sbom.dependencies.iter().filter(|relation| relation.kind == "DESCRIBES").collect();
    assert_eq!(describes.len(), 1, "documentDescribes and the DESCRIBES relationship are one relation");
    assert_eq!(sbom.dependencies.iter().filter(|relation| relation.kind == "DEPENDENCY_OF").count(), 6);
    assert_eq!(package(&sbom, "debug").license.as_deref(), Some("MIT"), "licenseDeclared when nothing concluded");
    assert_eq!(package(&sbom, "semver").kind.as_deref(), Some("npm"), "purl type without a purpose");
    assert_eq!(package(&sbom, "npmproj").homepage, None, "NOASSERTION is no home page");
    assert_eq!(sbom.licenses, [("ISC".to_owned(), 4), ("MIT".to_owned(), 3)]);
}

#[test]
fn npm_cyclonedx_reads_tools_array_and_dependencies() {
    let sbom = read_sbom(&data("sbom-npm.cdx.json"));
    assert_eq!(sbom.format, "CycloneDX 1.5");
    assert_eq!(sbom.name.as_deref(), Some("npmproj"));
    assert_eq!(sbom.created.as_deref(), Some("2026-11-23T07:11:16.511Z"));
    assert_eq!(sbom.generators, ["npm/cli 11.19.1"]);
    assert_eq!(sbom.packages.len(), 6);
    assert_eq!(sbom.dependencies.len(), 6, "seven entries, three without dependencies, one with three");
    let root = sbom.dependencies.iter().find(|relation| relation.from == "npmproj@1.0.0").unwrap();
    assert_eq!(root.kind, "DEPENDS_ON");
    assert_eq!(root.from_name.as_deref(), Some("npmproj"), "metadata.component resolves too");
    assert_eq!(root.to_name.as_deref(), Some("debug"));
    let debug = package(&sbom, "debug");
    assert_eq!(debug.id, "debug@4.3.4");
    assert_eq!(debug.license.as_deref(), Some("MIT"));
    assert_eq!(debug.purl.as_deref(), Some("pkg:npm/debug@4.3.4"));
}

#[test]
fn cyclonedx_py_reads_tools_object_licenses_and_home_pages() {
    let sbom = read_sbom(&data("sbom-python.cdx.json"));
    assert_eq!(sbom.format, "CycloneDX 1.6");
    assert_eq!(sbom.created.as_deref(), Some("2026-11-23T07:11:08.422277+00:00"));
    assert_eq!(sbom.generators, ["CycloneDX/cyclonedx-py 7.5.0", "CycloneDX/cyclonedx-python-lib 11.12.0"]);
    assert_eq!(sbom.packages.len(), 75);
    assert_eq!(sbom.dependencies.len(), 114);
    let setuptools = package(&sbom, "setuptools");
    assert_eq!(setuptools.version.as_deref(), Some("65.5.0"));
    assert_eq!(setuptools.license.as_deref(), Some("MIT"));
    assert_eq!(setuptools.kind.as_deref(), Some("library"));
    assert_eq!(setuptools.homepage.as_deref(), Some("https://github.com/pypa/setuptools"));
    assert_eq!(package(&sbom, "certifi").license.as_deref(), Some("MPL-2.0"), "the id wins over the classifier");
    assert_eq!(package(&sbom, "cryptography").license.as_deref(), Some("Apache-2.0 OR BSD-3-Clause"));
    assert_eq!(
        package(&sbom, "arrow").license.as_deref(),
        Some("License :: OSI Approved :: Apache Software License"),
        "a name when there is no id"
    );
    assert_eq!(package(&sbom, "ply").license, None);
    assert!(sbom.licenses.iter().any(|(license, _)| license == "unknown"));
}

#[test]
fn hand_made_spdx_2_2_is_read() {
    let document = json!({
        "spdxVersion": "SPDX-2.2", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "alpine-3.19",
        "documentNamespace": "https://example.invalid/spdx/alpine-3.19",
        "creationInfo": {"created": "2024-01-05T10:00:00Z", "creators": ["Tool: syft-0.99.0", "Organization: Anchore, Inc"]},
        "documentDescribes": ["SPDXRef-busybox"],
        "packages": [
            {"SPDXID": "SPDXRef-busybox", "name": "busybox", "versionInfo": "1.36.1-r15", "supplier": "NOASSERTION",
             "originator": "Person: Denys Vlasenko", "licenseConcluded": "NOASSERTION", "licenseDeclared": "GPL-2.0-only",
             "downloadLocation": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE_MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64"}]},
            {"SPDXID": "SPDXRef-musl", "name": "musl", "versionInfo": "1.2.4_git20230717-r4", "licenseConcluded": "MIT",
             "supplier": "Organization: Alpine", "homepage": "https://musl.libc.org/"},
            "not a package",
            {"versionInfo": "no id and no name"}
        ],
        "relationships": [
            {"spdxElementId": "SPDXRef-busybox", "relationshipType": "DEPENDS_ON", "relatedSpdxElement": "SPDXRef-musl"},
            {"spdxElementId": "SPDXRef-busybox", "relationshipType": 7},
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-busybox"}
        ]
    });
    let sbom = sbom::from_value(&document).unwrap();
    assert_eq!(sbom.format, "SPDX 2.2");
    assert_eq!(sbom.generators, ["syft-0.99.0", "Anchore, Inc"]);
    assert_eq!(sbom.packages.len(), 2);
    let busybox = package(&sbom, "busybox");
    assert_eq!(busybox.license.as_deref(), Some("GPL-2.0-only"));
    assert_eq!(busybox.supplier.as_deref(), Some("Denys Vlasenko"));
    assert_eq!(busybox.purl.as_deref(), Some("pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64"));
    assert_eq!(busybox.kind.as_deref(), Some("apk"));
    assert_eq!(package(&sbom, "musl").supplier.as_deref(), Some("Alpine"));
    let kinds: Vec<&str> = sbom.dependencies.iter().map(|relation| relation.kind.as_str()).collect();
    assert_eq!(kinds, ["DESCRIBES", "DEPENDS_ON"]);
    assert_eq!(sbom.dependencies[1].to_name.as_deref(), Some("musl"));
    assert_eq!(sbom.licenses, [("GPL-2.0-only".to_owned(), 1), ("MIT".to_owned(), 1)]);
}

#[test]
fn hand_made_cyclonedx_1_4_reads_licenses_nesting_and_dependencies() {
    let document = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.4", "version": 1,
        "metadata": {"timestamp": "2023-06-01T12:00:00Z",
            "tools": [{"vendor": "anchore", "name": "syft", "version": "0.80.0"}, {"name": "hand"}],
            "component": {"bom-ref": "app", "type": "container", "name": "demo/app", "version": "1.0.0"}},
        "components": [
            {"bom-ref": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "type": "library",
             "group": "org.apache.logging.log4j", "name": "log4j-core", "version": "2.14.1",
             "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
             "licenses": [{"license": {"id": "Apache-2.0"}}],
             "supplier": {"name": "The Apache Software Foundation", "url": ["https://apache.org"]},
             "externalReferences": [{"type": "vcs", "url": "https://github.com/apache/logging-log4j2"},
                                    {"type": "website", "url": "https://logging.apache.org/log4j/2.x/"}],
             "components": [
                {"bom-ref": "nested-1", "type": "file", "name": "log4j-core.jar",
                 "components": [{"bom-ref": "nested-2", "type": "library", "name": "shaded-dep", "version": "0.1"}]}
             ]},
            {"bom-ref": "dual", "type": "library", "name": "dual", "licenses": [{"expression": "MIT OR Apache-2.0"}]},
            {"bom-ref": "named", "type": "library", "name": "named", "licenses": [{"license": {"name": "Custom EULA"}}]},
            {"bom-ref": "two-ids", "type": "library", "name": "two-ids",
             "licenses": [{"license": {"id": "MIT"}}, {"license": {"id": "BSD-2-Clause"}}, {"license": {"id": "MIT"}}]},
            42
        ],
        "dependencies": [
            {"ref": "app", "dependsOn": ["pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "dual"]},
            {"ref": "dual", "dependsOn": []},
            {"ref": "two-ids", "dependsOn": [17, "named", "unknown-ref"]},
            {"dependsOn": ["dual"]}
        ]
    });
    let sbom = sbom::from_value(&document).unwrap();
    assert_eq!(sbom.format, "CycloneDX 1.4");
    assert_eq!(sbom.name.as_deref(), Some("demo/app"));
    assert_eq!(sbom.generators, ["anchore/syft 0.80.0", "hand"]);
    let names: Vec<&str> = sbom.packages.iter().map(|package| package.name.as_str()).collect();
    assert_eq!(
        names,
        ["org.apache.logging.log4j/log4j-core", "log4j-core.jar", "shaded-dep", "dual", "named", "two-ids"],
        "nested components come depth-first after their parent"
    );
    let log4j = &sbom.packages[0];
    assert_eq!(log4j.license.as_deref(), Some("Apache-2.0"));
    assert_eq!(log4j.supplier.as_deref(), Some("The Apache Software Foundation"));
    assert_eq!(log4j.homepage.as_deref(), Some("https://logging.apache.org/log4j/2.x/"));
    assert_eq!(log4j.kind.as_deref(), Some("library"));
    assert_eq!(package(&sbom, "dual").license.as_deref(), Some("MIT OR Apache-2.0"));
    assert_eq!(package(&sbom, "named").license.as_deref(), Some("Custom EULA"));
    assert_eq!(package(&sbom, "two-ids").license.as_deref(), Some("MIT AND BSD-2-Clause"));
    assert_eq!(sbom.dependencies.len(), 4);
    assert_eq!(sbom.dependencies[0].from_name.as_deref(), Some("demo/app"));
    assert_eq!(sbom.dependencies[0].to_name.as_deref(), Some("org.apache.logging.log4j/log4j-core"));
    let unresolved = sbom.dependencies.iter().find(|relation| relation.to == "unknown-ref").unwrap();
    assert_eq!(unresolved.to_name, None);
    assert!(!sbom.truncated);
}

#[test]
fn cyclonedx_1_6_tools_object_and_provides_are_read() {
    let document = json!({
        "bomFormat": "CycloneDX", "specVersion": "1.6",
        "metadata": {"tools": {
            "components": [{"type": "application", "group": "aquasecurity", "name": "trivy", "version": "0.57.1"}],
            "services": [{"provider": {"name": "Acme"}, "name": "sbom-service", "version": "2"}]}},
        "components": [{"bom-ref": "a", "name": "a"}, {"bom-ref": "b", "name": "b"}],
        "dependencies": [{"ref": "a", "dependsOn": ["b"], "provides": ["b"]}]
    });
    let sbom = sbom::from_value(&document).unwrap();
    assert_eq!(sbom.generators, ["aquasecurity/trivy 0.57.1", "Acme/sbom-service 2"]);
    let kinds: Vec<&str> = sbom.dependencies.iter().map(|relation| relation.kind.as_str()).collect();
    assert_eq!(kinds, ["DEPENDS_ON", "PROVIDES"]);
    assert_eq!(sbom.licenses, [("unknown".to_owned(), 2)]);
}

#[test]
fn sbom_attestations_are_read_as_sboms_and_say_how_they_were_wrapped() {
    let spdx: serde_json::Value = serde_json::from_slice(&data("sbom-requests.spdx.json")).unwrap();
    let statement = json!({"_type": "https://in-toto.io/Statement/v1", "predicateType": "https://spdx.dev/Document/v2.3",
        "subject": [{"name": "demo/app", "digest": {"sha256": "00"}}], "predicate": spdx});
    let sbom = read_sbom(statement.to_string().as_bytes());
    assert_eq!(sbom.packages.len(), 5);
    assert_eq!(sbom.wrapped_in.as_deref(), Some("in-toto statement"));

    let cyclonedx: serde_json::Value = serde_json::from_slice(&data("sbom-npm.cdx.json")).unwrap();
    let statement = json!({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://cyclonedx.org/bom",
        "subject": [], "predicate": cyclonedx});
    use base64::Engine as _;
    let envelope = json!({"payloadType": "application/vnd.in-toto+json",
        "payload": base64::engine::general_purpose::STANDARD.encode(statement.to_string()), "signatures": [{"sig": "AA=="}]});
    let sbom = read_sbom(envelope.to_string().as_bytes());
    assert_eq!(sbom.format, "CycloneDX 1.5");
    assert_eq!(sbom.wrapped_in.as_deref(), Some("in-toto statement in a DSSE envelope"));
}
