//! Helm charts as Helm 3 pushes them: config `application/vnd.cncf.helm.config.v1+json` holding
//! the Chart.yaml metadata as JSON, one chart `.tgz` layer, the annotations Helm derives from
//! Chart.yaml, and no `mediaType` field in the manifest.

use anyhow::Context as _;
use serde_json::json;

use super::image::tar_gz;
use crate::document::{Annotations, Descriptor, ImageManifest, keys, types};
use crate::push::Pusher;

/// One chart version.
#[derive(Debug, Clone)]
pub(crate) struct HelmChart {
    pub(crate) repository: String,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) app_version: String,
    pub(crate) description: String,
    pub(crate) created: String,
}

impl HelmChart {
    fn home(&self) -> String {
        format!("https://charts.ocicat.invalid/{}", self.name)
    }

    fn source(&self) -> String {
        format!("https://git.ocicat.invalid/charts/{}", self.name)
    }

    /// The Chart.yaml file.
    fn chart_yaml(&self) -> String {
        format!(
            "apiVersion: v2\nname: {name}\ndescription: {description}\ntype: application\nversion: {version}\n\
appVersion: \"{app_version}\"\nkubeVersion: \">=1.23.0-0\"\nhome: {home}\nsources:\n  - {source}\n\
keywords:\n  - {name}\n  - http\n  - web\nmaintainers:\n  - name: ocicat demo\n    email: demo@ocicat.invalid\n\
annotations:\n  category: Infrastructure\n  licenses: Apache-2.0\n",
            name = self.name,
            description = self.description,
            version = self.version,
            app_version = self.app_version,
            home = self.home(),
            source = self.source(),
        )
    }

    /// Chart.yaml as Helm's config blob (Helm marshals its `chart.Metadata` struct).
    fn config(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "home": self.home(),
            "sources": [self.source()],
            "version": self.version,
            "description": self.description,
            "keywords": [self.name, "http", "web"],
            "maintainers": [{"name": "ocicat demo", "email": "demo@ocicat.invalid"}],
            "annotations": {"category": "Infrastructure", "licenses": "Apache-2.0"},
            "apiVersion": "v2",
            "appVersion": self.app_version,
            "kubeVersion": ">=1.23.0-0",
            "type": "application",
        })
    }

    /// The files of the packaged chart, under `<name>/` as `helm package` lays them out.
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let name = &self.name;
        let values = format!(
            "replicaCount: 1\nimage:\n  repository: docker.io/library/{name}\n  tag: \"{app}\"\n  pullPolicy: IfNotPresent\n\
service:\n  type: ClusterIP\n  port: 80\nresources:\n  limits:\n    cpu: 250m\n    memory: 128Mi\n",
            app = self.app_version
        );
        let deployment = format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}\nspec:\n\
  replicas: {{{{ .Values.replicaCount }}}}\n  selector:\n    matchLabels:\n      app: {{{{ .Release.Name }}}}-{name}\n\
  template:\n    metadata:\n      labels:\n        app: {{{{ .Release.Name }}}}-{name}\n    spec:\n      containers:\n\
        - name: {name}\n          image: \"{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}\"\n\
          ports:\n            - containerPort: 80\n"
        );
        let service = format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{{{ .Release.Name }}}}-{name}\nspec:\n\
  type: {{{{ .Values.service.type }}}}\n  ports:\n    - port: {{{{ .Values.service.port }}}}\n      targetPort: 80\n\
  selector:\n    app: {{{{ .Release.Name }}}}-{name}\n"
        );
        let readme = format!(
            "# {name}\n\n[![Artifact Hub](https://img.shields.io/badge/artifact%20hub-{name}-blue)]({home})\n\n\
{description}.\n\n## Installing\n\n```console\n$ helm install my-{name} oci://registry.example/charts/{name} --version {version}\n```\n\n\
## Parameters\n\n| Name | Description | Default |\n|------|-------------|---------|\n\
| `replicaCount` | Pods to run | `1` |\n| `image.tag` | Image tag | `\"{app}\"` |\n| `service.port` | Service port | `80` |\n\n\
See the [source]({source}) for the templates.\n",
            description = self.description,
            version = self.version,
            app = self.app_version,
            home = self.home(),
            source = self.source(),
        );
        vec![
            (format!("{name}/Chart.yaml"), self.chart_yaml().into_bytes()),
            (format!("{name}/values.yaml"), values.into_bytes()),
            (format!("{name}/README.md"), readme.into_bytes()),
            (format!("{name}/templates/deployment.yaml"), deployment.into_bytes()),
            (format!("{name}/templates/service.yaml"), service.into_bytes()),
            (format!("{name}/.helmignore"), b".git/\n*.swp\n*.tmp\n".to_vec()),
        ]
    }
}

/// Pushes `chart` tagged with its version (`+` becomes `_`, as Helm does).
pub(crate) async fn push_helm_chart(pusher: &Pusher, chart: &HelmChart) -> anyhow::Result<Descriptor> {
    let repository = chart.repository.as_str();
    let package = tar_gz(&chart.files()).with_context(|| format!("failed to package chart {}", chart.name))?;
    let config_bytes = serde_json::to_vec(&chart.config()).context("failed to serialize chart config")?;
    let config = pusher.blob(repository, types::HELM_CONFIG, config_bytes).await?;
    let layer = pusher.blob(repository, types::HELM_CHART, package.bytes).await?;
    let mut manifest = ImageManifest::oci(config, vec![layer]);
    manifest.media_type = None;
    manifest.annotations = Annotations::from([
        (keys::CREATED.to_owned(), chart.created.clone()),
        (keys::DESCRIPTION.to_owned(), chart.description.clone()),
        (keys::TITLE.to_owned(), chart.name.clone()),
        (keys::VERSION.to_owned(), chart.version.clone()),
        (keys::URL.to_owned(), chart.home()),
        (keys::SOURCE.to_owned(), chart.source()),
        (keys::AUTHORS.to_owned(), "ocicat demo (demo@ocicat.invalid)".to_owned()),
    ]);
    let tag = chart.version.replace('+', "_");
    pusher.manifest(repository, Some(&tag), &manifest, "helm").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_yaml_and_config_agree() {
        let chart = HelmChart {
            repository: "charts/nginx".into(),
            name: "nginx".into(),
            version: "15.2.1".into(),
            app_version: "1.25.3".into(),
            description: "NGINX web server".into(),
            created: "2024-01-15T09:00:00Z".into(),
        };
        let yaml = chart.chart_yaml();
        assert!(yaml.contains("version: 15.2.1\n") && yaml.contains("appVersion: \"1.25.3\"\n"));
        assert_eq!(chart.config()["appVersion"], "1.25.3");
        let files = chart.files();
        assert!(files.iter().any(|(path, _)| path == "nginx/Chart.yaml"));
        assert!(files.iter().any(|(path, bytes)| path == "nginx/README.md" && bytes.starts_with(b"# nginx\n")));
        let deployment =
            files.iter().find(|(path, _)| path == "nginx/templates/deployment.yaml").expect("a deployment");
        let deployment = String::from_utf8(deployment.1.clone()).unwrap();
        assert!(deployment.contains("name: {{ .Release.Name }}-nginx"), "{deployment}");
    }
}
