//! The demo and test data sets: which repositories, tags and artifacts each size holds, and the
//! order they are pushed in (real tools and hand-built content side by side, then referrers).

mod attach;
mod real;

use crate::Target;
use crate::document::{Descriptor, Platform, timestamp};
use crate::handmade::{
    BuildxImage, HandImage, HelmChart, ImageFlavor, WasmModule, push_buildx_index, push_helm_chart, push_image,
    push_wasm_module,
};
use crate::push::Pusher;
use crate::referrers::Subject;

/// One Helm chart version: (name, chart version, app version).
type ChartVersion = (&'static str, &'static str, &'static str);

/// What one data set holds.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Versions of `demo/app` built with umoci and pushed as OCI by skopeo; the last is the
    /// subject of every referrer kind and is also tagged `latest` when there are several.
    pub(crate) app_versions: Vec<&'static str>,
    /// Versions of `demo/api` built with umoci and pushed as Docker v2 schema 2 by skopeo.
    pub(crate) api_versions: Vec<&'static str>,
    /// Tags of the buildah multi-platform index `base/debian-slim` (the first is pushed, the
    /// others point at the same index).
    pub(crate) base_tags: Vec<&'static str>,
    /// Helm charts under `charts/<name>`.
    pub(crate) charts: Vec<ChartVersion>,
    /// Versions of `wasm/hello`: (tag, version, answer).
    pub(crate) wasm_versions: Vec<(&'static str, &'static str, i32)>,
    /// buildx-style CI builds: (repository, tag, revision).
    pub(crate) ci_builds: Vec<(&'static str, &'static str, &'static str)>,
    /// Extra referrers beyond the core set (signatures on charts and Docker images, more scans).
    pub(crate) extras: bool,
}

impl Plan {
    /// The small set every integration test seeds.
    pub(crate) fn test() -> Plan {
        Plan {
            app_versions: vec!["1.0.0"],
            api_versions: vec!["2.0.0"],
            base_tags: vec!["bookworm"],
            charts: vec![("nginx", "15.2.1", "1.25.3")],
            wasm_versions: vec![("0.1.0", "0.1.0", 42)],
            ci_builds: vec![("ci/build-123", "main", "9c1e4b7")],
            extras: false,
        }
    }

    /// The richer set for demos.
    pub(crate) fn demo() -> Plan {
        Plan {
            app_versions: vec!["1.0.0", "1.1.0", "1.2.0"],
            api_versions: vec!["2.0.0", "2.1.0"],
            base_tags: vec!["bookworm", "12", "latest"],
            charts: vec![
                ("nginx", "15.0.0", "1.25.1"),
                ("nginx", "15.1.0", "1.25.2"),
                ("nginx", "15.2.1", "1.25.3"),
                ("redis", "18.1.0", "7.2.1"),
                ("redis", "18.2.0+build.7", "7.2.3"),
            ],
            wasm_versions: vec![("0.1.0", "0.1.0", 42), ("0.2.0", "0.2.0", 43), ("latest", "0.2.0", 43)],
            ci_builds: vec![
                ("ci/build-123", "main", "9c1e4b7"),
                ("ci/build-123", "pr-42", "51f0d2a"),
                ("ci/build-124", "main", "e07a3c9"),
            ],
            extras: true,
        }
    }
}

/// What the real-tool half produced and the referrers hang on.
#[derive(Debug)]
pub(crate) struct Pushed {
    /// The newest `demo/app` image.
    pub(crate) app: Subject,
    /// The newest `demo/api` image (Docker v2).
    pub(crate) api: Subject,
    /// The `base/debian-slim` index.
    pub(crate) base: Subject,
}

/// Seeds everything in `plan`.
pub(crate) async fn seed_catalog(pusher: &Pusher, target: &Target, plan: Plan) -> anyhow::Result<()> {
    let host = target.host()?;
    let (pushed, handmade) =
        tokio::try_join!(real::push_with_tools(pusher, target, &plan), push_handmade(pusher, &host, &plan))?;
    attach::attach_referrers(pusher, &host, &plan, &pushed, &handmade).await
}

/// What the hand-built half produced.
#[derive(Debug)]
pub(crate) struct Handmade {
    /// `demo/app:0.9.0`, past its end of life.
    pub(crate) old_app: Subject,
    /// The newest version of the first chart.
    pub(crate) chart: Option<Subject>,
}

async fn push_handmade(pusher: &Pusher, host: &str, plan: &Plan) -> anyhow::Result<Handmade> {
    let old_app = HandImage {
        repository: "demo/app".to_owned(),
        tag: Some("0.9.0".to_owned()),
        flavor: ImageFlavor::Oci,
        platform: Platform::new("linux", "amd64"),
        created: timestamp(0, 0),
        metadata: app_metadata("0.9.0", "0e1d2c3"),
        files: vec![
            ("/app/run.sh".to_owned(), b"#!/bin/sh\nexec python3 -m app --legacy\n".to_vec()),
            ("/app/VERSION".to_owned(), b"0.9.0\n".to_vec()),
        ],
    };
    let old_app_descriptor = push_image(pusher, &old_app).await?;
    let old_app = subject(host, "demo/app", old_app_descriptor);
    let mut chart = None;
    for (position, (name, version, app_version)) in plan.charts.iter().enumerate() {
        let repository = format!("charts/{name}");
        let helm = HelmChart {
            repository: repository.clone(),
            name: (*name).to_owned(),
            version: (*version).to_owned(),
            app_version: (*app_version).to_owned(),
            description: format!("A demo chart that deploys {name} {app_version}"),
            created: timestamp(3 + 9 * position as u32, 30),
        };
        let descriptor = push_helm_chart(pusher, &helm).await?;
        if *name == plan.charts[0].0 {
            chart = Some(subject(host, &repository, descriptor));
        }
    }
    for (position, (tag, version, answer)) in plan.wasm_versions.iter().enumerate() {
        let module = WasmModule {
            repository: "wasm/hello".to_owned(),
            tag: (*tag).to_owned(),
            version: (*version).to_owned(),
            answer: *answer,
            created: timestamp(5 + 20 * position as u32, 0),
        };
        push_wasm_module(pusher, &module).await?;
    }
    for (position, (repository, tag, revision)) in plan.ci_builds.iter().enumerate() {
        let build = BuildxImage {
            repository: (*repository).to_owned(),
            tag: (*tag).to_owned(),
            created: timestamp(40 + position as u32, 0),
            finished: timestamp(40 + position as u32, 4),
            revision: (*revision).to_owned(),
            host: host.to_owned(),
            base: None,
        };
        push_buildx_index(pusher, &build).await?;
    }
    Ok(Handmade { old_app, chart })
}

/// The `org.opencontainers.image.*` metadata of a `demo/app` version.
pub(crate) fn app_metadata(version: &str, revision: &str) -> Vec<(&'static str, String)> {
    vec![
        ("title", "demo-app".to_owned()),
        ("description", "The ocicat demo application: a tiny web service".to_owned()),
        ("version", version.to_owned()),
        ("revision", revision.to_owned()),
        ("source", "https://git.ocicat.invalid/demo/app".to_owned()),
        ("url", "https://ocicat.invalid/demo/app".to_owned()),
        ("licenses", "Apache-2.0".to_owned()),
        ("vendor", "ocicat demo".to_owned()),
    ]
}

/// A subject named `host/repository`.
pub(crate) fn subject(host: &str, repository: &str, descriptor: Descriptor) -> Subject {
    Subject {
        repository: repository.to_owned(),
        name: format!("{host}/{repository}"),
        descriptor: Descriptor::of_parts(&descriptor.media_type, &descriptor.digest, descriptor.size),
    }
}
