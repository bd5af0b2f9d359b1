//! The part of the data set made by real tools: `umoci` builds the layouts, `skopeo` pushes
//! `demo/app` (OCI) and `demo/api` (Docker v2 schema 2), `buildah` pushes the multi-platform
//! `base/debian-slim` index.

use std::path::PathBuf;

use anyhow::Context as _;
use ocicat_oci::ManifestBody;

use super::{Plan, Pushed, app_metadata, subject};
use crate::Target;
use crate::document::timestamp;
use crate::push::Pusher;
use crate::tools::{BuildahIndex, Format, ImageSpec, Layout, skopeo_copy};

/// Builds and pushes every real-tool image of `plan`.
pub(crate) async fn push_with_tools(pusher: &Pusher, target: &Target, plan: &Plan) -> anyhow::Result<Pushed> {
    let work_dir =
        tempfile::Builder::new().prefix("ocicat-seed-").tempdir().context("failed to create a work directory")?;
    let layout = Layout::init(work_dir.path()).await?;
    let host = target.host()?;

    layout.build(&base_spec()).await?;
    layout.with_architecture("debian-slim", "debian-slim-arm64", "arm64").await?;
    let index = BuildahIndex::create(work_dir.path(), "debian-slim").await?;
    index.add(layout.path(), "debian-slim", "linux", "amd64").await?;
    index.add(layout.path(), "debian-slim-arm64", "linux", "arm64").await?;
    let base_repository = "base/debian-slim";
    let first_tag = plan.base_tags.first().context("the plan has no base tag")?;
    let index_digest = index.push(target, base_repository, first_tag).await?;
    pusher.record(base_repository, Some(first_tag), &index_digest, "index", None);
    let (base_descriptor, base_body) = pusher.describe(base_repository, &index_digest).await?;
    if let ManifestBody::Index(index) = &base_body {
        for child in index.manifests() {
            pusher.record(base_repository, None, child.digest().as_ref(), "image", None);
        }
    }
    for tag in plan.base_tags.iter().skip(1) {
        pusher.retag(base_repository, first_tag, tag, "index").await?;
    }

    let mut app = None;
    for (position, version) in plan.app_versions.iter().enumerate() {
        let spec = app_spec(version, position as u32);
        layout.build(&spec).await?;
        let digest = skopeo_copy(target, layout.path(), &spec.tag, "demo/app", version, Format::Oci).await?;
        pusher.record("demo/app", Some(version), &digest, "image", None);
        app = Some(version);
    }
    let app_version = app.context("the plan has no demo/app version")?;
    if plan.app_versions.len() > 1 {
        pusher.retag("demo/app", app_version, "latest", "image").await?;
    }
    let (app_descriptor, _) = pusher.describe("demo/app", app_version).await?;

    let mut api = None;
    for (position, version) in plan.api_versions.iter().enumerate() {
        let spec = api_spec(version, position as u32);
        layout.build(&spec).await?;
        let digest = skopeo_copy(target, layout.path(), &spec.tag, "demo/api", version, Format::DockerV2).await?;
        pusher.record("demo/api", Some(version), &digest, "image", None);
        api = Some(version);
    }
    let api_version = api.context("the plan has no demo/api version")?;
    pusher.retag("demo/api", api_version, "stable", "image").await?;
    let (api_descriptor, _) = pusher.describe("demo/api", api_version).await?;

    Ok(Pushed {
        app: subject(&host, "demo/app", app_descriptor),
        api: subject(&host, "demo/api", api_descriptor),
        base: subject(&host, base_repository, base_descriptor),
    })
}

/// A Debian-like base: the host's real os-release and a few real copyright files.
fn base_spec() -> ImageSpec {
    let host_files = ["zlib1g", "tar", "libc6", "gpgv", "libgcrypt20", "libtinfo6"]
        .iter()
        .map(|package| {
            (
                PathBuf::from(format!("/usr/share/doc/{package}/copyright")),
                format!("/usr/share/doc/{package}/copyright"),
            )
        })
        .chain([
            (PathBuf::from("/etc/os-release"), "/usr/lib/os-release".to_owned()),
            (PathBuf::from("/etc/debian_version"), "/etc/debian_version".to_owned()),
        ])
        .collect();
    ImageSpec {
        tag: "debian-slim".to_owned(),
        created: timestamp(1, 0),
        metadata: vec![
            ("title", "debian-slim".to_owned()),
            ("description", "A slim Debian 12 (bookworm) base for the ocicat demo".to_owned()),
            ("version", "12".to_owned()),
            ("source", "https://git.ocicat.invalid/base/debian-slim".to_owned()),
            ("licenses", "GPL-2.0-or-later AND MIT".to_owned()),
        ],
        architecture: "amd64",
        files: vec![("/etc/motd".to_owned(), b"ocicat demo base image\n".to_vec())],
        host_files,
        cmd: vec!["/bin/sh".to_owned()],
    }
}

fn app_spec(version: &str, position: u32) -> ImageSpec {
    let readme = format!(
        "# demo-app {version}\n\nThe ocicat demo application. It serves a greeting on port 8080.\n\n\
Built from https://git.ocicat.invalid/demo/app at release {version}.\n"
    );
    ImageSpec {
        tag: format!("app-{version}"),
        created: timestamp(10 + 14 * position, 0),
        metadata: app_metadata(version, &format!("a{position}b{}c", version.replace('.', ""))),
        architecture: "amd64",
        files: vec![
            ("/app/README.md".to_owned(), readme.into_bytes()),
            ("/app/VERSION".to_owned(), format!("{version}\n").into_bytes()),
            ("/app/run.sh".to_owned(), b"#!/bin/sh\nexec python3 -m http.server 8080\n".to_vec()),
        ],
        host_files: vec![(
            PathBuf::from("/usr/share/doc/python3-setuptools/copyright"),
            "/usr/share/doc/setuptools/copyright".to_owned(),
        )],
        cmd: vec!["/app/run.sh".to_owned()],
    }
}

fn api_spec(version: &str, position: u32) -> ImageSpec {
    let openapi = format!(
        "openapi: 3.0.3\ninfo:\n  title: demo api\n  version: {version}\npaths:\n  /greetings:\n    get:\n      responses:\n        \"200\":\n          description: a greeting\n"
    );
    ImageSpec {
        tag: format!("api-{version}"),
        created: timestamp(20 + 10 * position, 0),
        metadata: vec![
            ("title", "demo-api".to_owned()),
            ("description", "The ocicat demo API (pushed as a Docker v2 schema 2 image)".to_owned()),
            ("version", version.to_owned()),
            ("source", "https://git.ocicat.invalid/demo/api".to_owned()),
            ("licenses", "MIT".to_owned()),
        ],
        architecture: "amd64",
        files: vec![("/app/openapi.yaml".to_owned(), openapi.into_bytes())],
        host_files: vec![],
        cmd: vec!["/app/api".to_owned()],
    }
}
