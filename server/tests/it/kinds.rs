//! Each kind as its own tool shows it, through the real router against distribution: the
//! seeded Helm chart's Chart.yaml, values and README; a hostile chart whose README, description
//! and values carry markup (escaped, sanitized: no raw HTML, no `javascript:` links, no images);
//! the seeded WebAssembly module and a component built here (world, imports, exports); an
//! image marked `module.wasm.image/variant: compat`; a viewer asked for a chart that is not one.

use std::io::Write as _;

use axum::http::StatusCode;
use bytes::Bytes;
use ocicat_oci::Client;
use serde_json::{Value, json};

use crate::util::{LOCAL, TestApp};

const REPOSITORY: &str = "kinds/hostile";
const SCRIPT: &str = "<script>alert(1)</script>";

fn tar_gz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut archive = tar::Builder::new(Vec::new());
    for (path, bytes) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive.append_data(&mut header, path, *bytes).unwrap();
    }
    let tar = archive.into_inner().unwrap();
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(&tar).unwrap();
    gzip.finish().unwrap()
}

/// Pushes an image-manifest artifact with `config` (of `config_type`) and `layers` under `tag`.
async fn push(
    client: &Client,
    tag: &str,
    config_type: &str,
    config: &[u8],
    layers: &[(&str, Vec<u8>)],
    annotations: Value,
) -> String {
    let config_digest = client.push_blob(REPOSITORY, Bytes::from(config.to_vec())).await.unwrap();
    let mut described = Vec::new();
    for (media_type, bytes) in layers {
        let digest = client.push_blob(REPOSITORY, Bytes::from(bytes.clone())).await.unwrap();
        described.push(json!({"mediaType": media_type, "digest": digest.to_string(), "size": bytes.len()}));
    }
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": config_digest.to_string(), "size": config.len()},
        "layers": described,
        "annotations": annotations,
    });
    let raw = Bytes::from(serde_json::to_vec(&manifest).unwrap());
    client.push_manifest(REPOSITORY, tag, media_type, raw).await.unwrap().to_string()
}

#[tokio::test]
async fn the_seeded_chart_reads_like_helm_show_all() {
    let app = TestApp::start().await;
    let chart = app.report.items.iter().find(|item| item.kind == "helm").expect("a seeded chart");
    let view = app
        .get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/chart", chart.repository, chart.digest))
        .await;
    assert_eq!(view["api_version"], "v2", "{view:#}");
    assert_eq!(view["chart_type"], "application");
    assert!(view["name"].as_str().is_some_and(|name| chart.repository.ends_with(name)), "{view:#}");
    assert!(view["values_yaml"].as_str().unwrap().contains("replicaCount: 1"));
    assert!(view["chart_yaml"].as_str().unwrap().starts_with("apiVersion: v2"));
    let readme = view["readme_html"].as_str().unwrap();
    assert!(readme.contains("<h2>Installing</h2>") && readme.contains("<table>"), "{readme}");
    assert!(!readme.contains("<img"), "the badge is no remote image: {readme}");
    assert_eq!(view["templates"], json!(["deployment.yaml", "service.yaml"]));
    assert_eq!(view["maintainers"][0]["email"], "demo@ocicat.invalid");
    assert_eq!(view["provenance"], Value::Null);
    // Not every artifact is a chart.
    let image = app.report.items.iter().find(|item| item.kind == "image" && item.reference.is_some()).unwrap();
    let response = app
        .send(
            axum::http::Request::get(format!(
                "/api/v1/registries/{LOCAL}/repositories/{}/@{}/chart",
                image.repository, image.digest
            ))
            .body(axum::body::Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.body);
}

#[tokio::test]
async fn a_hostile_chart_is_escaped_and_sanitized() {
    let app = TestApp::start().await;
    let client = app.client();
    let readme = format!(
        "# Evil\n\n{SCRIPT}\n\n[click](javascript:alert(2)) [data](data:text/html,x) [fine](https://example.com/ok)\n\n\
         <img src=x onerror=alert(3)>\n\n![tracker](https://tracker.example/pixel.png)\n"
    );
    let chart_yaml = format!("apiVersion: v2\nname: evil\nversion: 0.1.0\ndescription: \"{SCRIPT}\"\n");
    let values = format!("note: \"</pre>{SCRIPT}\"\n");
    let package = tar_gz(&[
        ("evil/Chart.yaml", chart_yaml.as_bytes()),
        ("evil/values.yaml", values.as_bytes()),
        ("evil/README.md", readme.as_bytes()),
        ("evil/charts/sub/README.md", b"# not the chart's readme"),
    ]);
    let config = json!({
        "apiVersion": "v2", "name": "evil", "version": "0.1.0", "description": SCRIPT,
        "home": "javascript:alert(4)", "sources": ["https://example.com/src", "javascript:alert(5)"],
        "maintainers": [{"name": SCRIPT, "email": "x@example.com", "url": "javascript:alert(6)"}],
        "dependencies": [{"name": "sub", "version": 1.0, "repository": "file://charts/sub"}]
    });
    let digest = push(
        &client,
        "0.1.0",
        "application/vnd.cncf.helm.config.v1+json",
        &serde_json::to_vec(&config).unwrap(),
        &[("application/vnd.cncf.helm.chart.content.v1.tar+gzip", package)],
        json!({}),
    )
    .await;
    app.recrawl().await;
    let view = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{REPOSITORY}/@{digest}/chart")).await;
    assert_eq!(view["description"], SCRIPT, "kept as text: {view:#}");
    assert_eq!(view["home"], Value::Null, "a javascript: home is no link");
    assert_eq!(view["sources"], json!(["https://example.com/src"]));
    assert_eq!(view["maintainers"][0]["url"], Value::Null);
    assert_eq!(view["dependencies"][0]["version"], "1.0", "a number read as text");
    let readme = view["readme_html"].as_str().unwrap();
    for banned in ["<script", "javascript:", "data:text", "<img", "onerror", "tracker.example/pixel.png\"><img"] {
        assert!(!readme.contains(banned), "{banned} in {readme}");
    }
    assert!(
        readme.contains("href=\"https://example.com/ok\"") && readme.contains("rel=\"noopener noreferrer nofollow\""),
        "{readme}"
    );
    assert!(!readme.contains("not the chart's readme"), "a subchart's README is not the chart's");

    let page = app.get_page(&format!("/r/{LOCAL}/{REPOSITORY}/@{digest}")).await;
    assert!(page.contains("id=\"chart\""), "the chart panel renders on the server");
    assert!(!page.contains(SCRIPT), "raw markup on the page");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the description shows as text");
    assert!(!page.to_ascii_lowercase().contains("href=\"javascript:"));
}

#[tokio::test]
async fn webassembly_modules_components_and_compat_images_show_what_they_are() {
    let app = TestApp::start().await;
    let client = app.client();
    let seeded = app.report.items.iter().find(|item| item.kind == "wasm").expect("a seeded module");
    let module = app
        .get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/wasm", seeded.repository, seeded.digest))
        .await;
    assert_eq!(module["kind"], "module", "{module:#}");
    assert!(module["size"].as_u64().unwrap() > 8);
    assert!(module["exports"].as_array().is_some_and(|exports| !exports.is_empty()), "{module:#}");

    let component = wat::parse_str(
        r#"(component
            (import "wasi:cli/environment@0.2.0" (instance))
            (core module $m (func (export "run")))
            (core instance $i (instantiate $m))
            (func $run (canon lift (core func $i "run")))
            (export "run" (func $run)))"#,
    )
    .unwrap();
    let digest = push(
        &client,
        "component",
        "application/vnd.wasm.config.v0+json",
        br#"{"architecture":"wasm","os":"wasip2"}"#,
        &[("application/wasm", component)],
        json!({}),
    )
    .await;
    let compat = push(
        &client,
        "compat",
        "application/vnd.oci.image.config.v1+json",
        br#"{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]}}"#,
        &[],
        json!({"module.wasm.image/variant": "compat"}),
    )
    .await;
    app.recrawl().await;
    let view = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{REPOSITORY}/@{digest}/wasm")).await;
    assert_eq!(view["kind"], "component", "{view:#}");
    assert_eq!(view["imports"], json!([{"name": "wasi:cli/environment@0.2.0", "kind": "instance"}]));
    assert!(view["exports"].as_array().unwrap().iter().any(|export| export["name"] == "run"), "{view:#}");
    let page = app.get_page(&format!("/r/{LOCAL}/{REPOSITORY}/@{digest}")).await;
    assert!(page.contains("wasi:cli/environment@0.2.0") && page.contains("component model"), "the panel renders");

    let marked = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{REPOSITORY}/@{compat}/wasm")).await;
    assert_eq!((marked["compat_image"].as_bool(), &marked["error"]), (Some(true), &Value::Null), "{marked:#}");
    let page = app.get_page(&format!("/r/{LOCAL}/{REPOSITORY}/@{compat}")).await;
    assert!(page.contains("id=\"wasm-compat\""), "the image is marked as WebAssembly");
}
