//! Helm charts: Chart.yaml-as-JSON configs read leniently, packaged charts built here (gzip and
//! plain tar) walked for their top files, templates and subcharts, and hostile archives
//! (absolute paths, `..`, symlinks, entry floods, garbage, proptest mutations) refused cleanly.

use std::io::Write as _;

use ocicat_formats::FormatError;
use ocicat_formats::helm::{
    ChartDependency, ChartMaintainer, MAX_ENTRIES, MAX_FILE_TEXT_BYTES, MAX_TEMPLATES, chart_files, chart_metadata,
};
use proptest::prelude::*;
use serde_json::json;

/// A tar of `(path, content)` regular files, paths written raw (no checks by the builder).
fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        append_raw(&mut builder, path, tar::EntryType::Regular, content, None);
    }
    builder.into_inner().unwrap()
}

fn append_raw(
    builder: &mut tar::Builder<Vec<u8>>,
    path: &str,
    kind: tar::EntryType,
    content: &[u8],
    link: Option<&str>,
) {
    let mut header = tar::Header::new_gnu();
    let name = &mut header.as_gnu_mut().unwrap().name;
    name[..path.len()].copy_from_slice(path.as_bytes());
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(content.len() as u64);
    if let Some(link) = link {
        header.set_link_name(link).unwrap();
    }
    header.set_cksum();
    builder.append(&header, content).unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const CHART_YAML: &[u8] = b"apiVersion: v2\nname: mychart\nversion: 1.2.3\n";

fn sample_chart() -> Vec<u8> {
    gzip(&tar_of(&[
        ("mychart/Chart.yaml", CHART_YAML),
        ("mychart/values.yaml", b"replicaCount: 1\n"),
        ("mychart/README.md", b"# My chart\n"),
        ("mychart/.helmignore", b"*.tmp\n"),
        ("mychart/templates/deployment.yaml", b"kind: Deployment\n"),
        ("mychart/templates/tests/test-connection.yaml", b"kind: Pod\n"),
        ("mychart/templates/_helpers.tpl", b"{{/* */}}\n"),
        ("mychart/charts/redis/Chart.yaml", b"name: redis\n"),
        ("mychart/charts/redis/README.md", b"# Redis, not the top readme\n"),
        ("mychart/charts/redis/templates/svc.yaml", b"kind: Service\n"),
        ("mychart/charts/common-2.0.0.tgz", b"\x1f\x8b"),
    ]))
}

#[test]
fn a_full_chart_config_is_read() {
    let config = json!({
        "apiVersion": "v2", "name": "mychart", "version": "1.2.3", "appVersion": "4.5.6",
        "description": "A chart", "type": "application", "kubeVersion": ">=1.22.0-0",
        "home": "https://example.com", "icon": "https://example.com/icon.png",
        "sources": ["https://github.com/example/mychart"], "keywords": ["web", "demo"],
        "deprecated": true,
        "dependencies": [{"name": "redis", "version": "~17", "repository": "oci://registry/charts",
            "condition": "redis.enabled", "alias": "cache", "tags": ["db"]}],
        "maintainers": [{"name": "Jo", "email": "jo@example.com", "url": "https://jo.example"}],
        "annotations": {"artifacthub.io/license": "Apache-2.0", "category": "Database"},
        "somethingNew": {"ignored": true}
    });
    let chart = chart_metadata(config.to_string().as_bytes()).unwrap();
    assert_eq!(chart.name.as_deref(), Some("mychart"));
    assert_eq!(chart.version.as_deref(), Some("1.2.3"));
    assert_eq!(chart.app_version.as_deref(), Some("4.5.6"));
    assert_eq!(chart.description.as_deref(), Some("A chart"));
    assert_eq!(chart.api_version.as_deref(), Some("v2"));
    assert_eq!(chart.kind.as_deref(), Some("application"));
    assert_eq!(chart.kube_version.as_deref(), Some(">=1.22.0-0"));
    assert_eq!(chart.home.as_deref(), Some("https://example.com"));
    assert_eq!(chart.icon.as_deref(), Some("https://example.com/icon.png"));
    assert_eq!(chart.sources, ["https://github.com/example/mychart"]);
    assert_eq!(chart.keywords, ["web", "demo"]);
    assert!(chart.deprecated);
    assert_eq!(
        chart.dependencies,
        [ChartDependency {
            name: Some("redis".into()),
            version: Some("~17".into()),
            repository: Some("oci://registry/charts".into()),
            condition: Some("redis.enabled".into()),
            alias: Some("cache".into()),
        }]
    );
    assert_eq!(
        chart.maintainers,
        [ChartMaintainer {
            name: Some("Jo".into()),
            email: Some("jo@example.com".into()),
            url: Some("https://jo.example".into())
        }]
    );
    assert_eq!(chart.annotations.get("category").map(String::as_str), Some("Database"));
    assert!(!chart.truncated);
    let round_trip: ocicat_formats::helm::ChartMetadata =
        serde_json::from_value(serde_json::to_value(&chart).unwrap()).unwrap();
    assert_eq!(round_trip, chart);
}

#[test]
fn configs_are_read_leniently() {
    let config = json!({
        "name": "x", "version": 1.0, "appVersion": 2, "description": ["not", "text"],
        "keywords": "single", "sources": [1, null, "https://a"], "deprecated": "no",
        "dependencies": ["not an object", {"name": 7}], "maintainers": {"name": "not a list"},
        "annotations": {"a": 1, "b": true, "c": {"nested": 1}}
    });
    let chart = chart_metadata(config.to_string().as_bytes()).unwrap();
    assert_eq!(chart.version.as_deref(), Some("1.0"));
    assert_eq!(chart.app_version.as_deref(), Some("2"));
    assert_eq!(chart.description, None);
    assert_eq!(chart.keywords, ["single"]);
    assert_eq!(chart.sources, ["1", "https://a"]);
    assert!(!chart.deprecated);
    assert_eq!(chart.dependencies.len(), 1);
    assert_eq!(chart.dependencies[0].name.as_deref(), Some("7"));
    assert!(chart.maintainers.is_empty());
    assert_eq!(chart.annotations.len(), 2);
    assert_eq!(chart.annotations["b"], "true");

    let empty = chart_metadata(b"{}").unwrap();
    assert_eq!(empty.name, None);
    assert!(empty.sources.is_empty());
}

#[test]
fn config_lists_and_strings_are_capped() {
    let keywords: Vec<String> = (0..5_000).map(|index| format!("k{index}")).collect();
    let annotations: serde_json::Map<String, serde_json::Value> =
        (0..2_000).map(|index| (format!("a{index}"), json!("v"))).collect();
    let config = json!({"name": "x".repeat(10_000), "keywords": keywords, "annotations": annotations});
    let chart = chart_metadata(config.to_string().as_bytes()).unwrap();
    assert_eq!(chart.name.unwrap().chars().count(), 4096);
    assert_eq!(chart.keywords.len(), 1_000);
    assert_eq!(chart.annotations.len(), 1_000);
    assert!(chart.truncated);
}

#[test]
fn configs_that_are_not_objects_fail_clearly() {
    assert!(matches!(chart_metadata(b"not json"), Err(FormatError::NotJson(_))));
    let error = chart_metadata(b"[1, 2]").unwrap_err();
    assert_eq!(error.to_string(), "unrecognised document: the helm chart config is not a json object");
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(chart_metadata(deep.as_bytes()), Err(FormatError::NotJson(_))));
}

#[test]
fn a_packaged_chart_shows_its_top_files_templates_and_subcharts() {
    let files = chart_files(&sample_chart()).unwrap();
    assert_eq!(files.directory.as_deref(), Some("mychart"));
    let chart_yaml = files.chart_yaml.unwrap();
    assert_eq!(chart_yaml.text.as_bytes(), CHART_YAML);
    assert_eq!(chart_yaml.size, CHART_YAML.len() as u64);
    assert!(!chart_yaml.truncated);
    assert_eq!(files.values_yaml.unwrap().text, "replicaCount: 1\n");
    assert_eq!(files.readme.unwrap().text, "# My chart\n");
    assert_eq!(files.files, 11);
    assert_eq!(files.templates, ["_helpers.tpl", "deployment.yaml", "tests/test-connection.yaml"]);
    assert_eq!(files.subcharts, ["common-2.0.0.tgz", "redis"]);
    assert!(!files.truncated);
}

#[test]
fn a_subchart_readme_is_never_the_charts() {
    let layer = gzip(&tar_of(&[
        ("mychart/Chart.yaml", CHART_YAML),
        ("mychart/charts/sub/README.md", b"sub readme"),
        ("mychart/docs/README.md", b"docs readme"),
        ("README.md", b"outside any chart"),
    ]));
    let files = chart_files(&layer).unwrap();
    assert_eq!(files.readme, None);
    assert_eq!(files.subcharts, ["sub"]);

    let lower = gzip(&tar_of(&[("mychart/readme.MD", b"lower")]));
    assert_eq!(chart_files(&lower).unwrap().readme.unwrap().text, "lower");
}

#[test]
fn a_plain_tar_is_read_too() {
    let files = chart_files(&tar_of(&[("./mychart/Chart.yaml", CHART_YAML)])).unwrap();
    assert_eq!(files.directory.as_deref(), Some("mychart"));
    assert!(files.chart_yaml.is_some());
}

#[test]
fn big_and_invalid_text_is_cut_and_replaced() {
    let mut values = "é".repeat(MAX_FILE_TEXT_BYTES).into_bytes();
    values.extend_from_slice(b"tail");
    let readme: &[u8] = b"caf\xe9 \xff ok";
    // Plain tars: repeated chars gzip past the 100:1 ratio cap.
    let files = chart_files(&tar_of(&[("mychart/values.yaml", &values), ("mychart/README.md", readme)])).unwrap();
    let values_file = files.values_yaml.unwrap();
    assert!(values_file.truncated);
    assert_eq!(values_file.size, values.len() as u64);
    assert_eq!(values_file.text, "é".repeat(MAX_FILE_TEXT_BYTES / 2));
    assert_eq!(files.readme.unwrap().text, "caf\u{fffd} \u{fffd} ok");

    // A cut through a three-byte char drops the partial char.
    let odd = "€".repeat(MAX_FILE_TEXT_BYTES);
    let files = chart_files(&tar_of(&[("mychart/values.yaml", odd.as_bytes())])).unwrap();
    let text = files.values_yaml.unwrap().text;
    assert!(text.chars().all(|c| c == '€'));
    assert_eq!(text.len(), MAX_FILE_TEXT_BYTES / 3 * 3);
}

#[test]
fn hostile_paths_and_links_are_never_used() {
    let mut builder = tar::Builder::new(Vec::new());
    append_raw(&mut builder, "mychart/", tar::EntryType::Directory, b"", None);
    append_raw(&mut builder, "/mychart/values.yaml", tar::EntryType::Regular, b"absolute", None);
    append_raw(&mut builder, "mychart/../mychart/values.yaml", tar::EntryType::Regular, b"climbing", None);
    append_raw(&mut builder, "mychart/README.md", tar::EntryType::Symlink, b"", Some("/etc/passwd"));
    append_raw(&mut builder, "mychart/Chart.yaml", tar::EntryType::Link, b"", Some("../../etc/shadow"));
    append_raw(&mut builder, "mychart/templates/evil.yaml", tar::EntryType::Symlink, b"", Some("/etc/passwd"));
    append_raw(&mut builder, "other/Chart.yaml", tar::EntryType::Regular, b"another chart", None);
    append_raw(&mut builder, "mychart/values.yaml", tar::EntryType::Regular, b"real", None);
    let files = chart_files(&gzip(&builder.into_inner().unwrap())).unwrap();
    assert_eq!(files.directory.as_deref(), Some("mychart"));
    assert_eq!(files.readme, None);
    assert_eq!(files.chart_yaml, None);
    assert_eq!(files.values_yaml.unwrap().text, "real");
    assert!(files.templates.is_empty());
    assert_eq!(files.files, 8);
}

#[test]
fn entry_floods_stop_at_the_cap() {
    let mut builder = tar::Builder::new(Vec::new());
    for index in 0..MAX_ENTRIES + 5 {
        append_raw(&mut builder, &format!("c/templates/t{index}.yaml"), tar::EntryType::Regular, b"", None);
    }
    // Plain tar: ten thousand empty headers gzip past the 100:1 ratio cap.
    let files = chart_files(&builder.into_inner().unwrap()).unwrap();
    assert_eq!(files.files, MAX_ENTRIES);
    assert_eq!(files.templates.len(), MAX_TEMPLATES);
    assert!(files.truncated);
}

#[test]
fn what_is_not_a_chart_archive_fails_clearly() {
    let error = chart_files(b"hello, this is not a tar").unwrap_err();
    assert!(error.to_string().starts_with("malformed document: the chart archive is not a readable tar"), "{error}");
    let error = chart_files(&[b'x'; 2048]).unwrap_err();
    assert!(error.to_string().contains("not a readable tar"), "{error}");
    let error = chart_files(&[0; 1024]).unwrap_err();
    assert_eq!(error.to_string(), "malformed document: the chart archive has no entries");
    let error = chart_files(&[0x1f, 0x8b, 8, 0, 0, 0]).unwrap_err();
    assert!(error.to_string().contains("gzip stream is corrupt"), "{error}");
    // A header announcing more content than there is.
    let mut cut = tar_of(&[("mychart/values.yaml", &[b'v'; 4096])]);
    cut.truncate(1024);
    assert!(chart_files(&cut).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        let _ = chart_files(&bytes);
        let _ = chart_metadata(&bytes);
    }

    #[test]
    fn mutated_archives_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)) {
        let mut archive = tar_of(&[
            ("mychart/Chart.yaml", CHART_YAML),
            ("mychart/README.md", b"# readme"),
            ("mychart/templates/a.yaml", b"a: 1"),
            ("mychart/charts/sub/Chart.yaml", b"name: sub"),
        ]);
        for (at, byte) in flips {
            let index = at.index(archive.len());
            archive[index] = byte;
        }
        let _ = chart_files(&archive);
        let _ = chart_files(&gzip(&archive));
    }
}
