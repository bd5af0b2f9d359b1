//! Seeded graphs for the lifecycle tests: images, indexes, referrers (with the fallback index
//! kept up to date on registries without the referrers API) pushed through the real client,
//! then crawled into an in-memory catalog, with a SQLite store in a temporary directory.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use ocicat_catalog::{Catalog, CatalogWriter, WriterConfig};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_lifecycle::store::Store;
use ocicat_lifecycle::{Engine, PlanRequest, TargetSpec};
use ocicat_oci::{Client, ClientConfig, Credentials, media_types};
use ocicat_sql::Database;
use serde_json::json;

const EMPTY: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// One repository being filled.
pub(crate) struct Repo {
    pub(crate) client: Client,
    pub(crate) name: String,
    /// Keep `sha256-<hex>` fallback indexes (distribution 2.8 has no referrers API).
    pub(crate) fallback: bool,
    pushed: Mutex<HashMap<String, (String, Bytes)>>,
}

pub(crate) fn client(url: &str) -> Client {
    Client::new(ClientConfig::new(url.parse().unwrap(), Credentials::Anonymous)).unwrap()
}

impl Repo {
    pub(crate) async fn new(url: &str, name: &str, fallback: bool) -> Repo {
        let client = client(url);
        client.push_blob(name, Bytes::from_static(b"{}")).await.unwrap();
        Repo { client, name: name.into(), fallback, pushed: Mutex::new(HashMap::new()) }
    }

    async fn push(&self, reference: Option<&str>, media_type: &str, body: serde_json::Value) -> String {
        let raw = Bytes::from(serde_json::to_vec(&body).unwrap());
        let digest = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&raw)));
        let reference = reference.unwrap_or(&digest).to_owned();
        self.client.push_manifest(&self.name, &reference, media_type, raw.clone()).await.unwrap();
        self.pushed.lock().unwrap().insert(digest.clone(), (media_type.to_owned(), raw));
        digest
    }

    fn descriptor(&self, digest: &str) -> serde_json::Value {
        let (media_type, raw) = self.pushed.lock().unwrap()[digest].clone();
        json!({ "mediaType": media_type, "digest": digest, "size": raw.len() })
    }

    /// A small image (its own config and layer), tagged or not.
    pub(crate) async fn image(&self, seed: &str, tag: Option<&str>) -> String {
        let config = Bytes::from(format!(r#"{{"architecture":"amd64","os":"linux","seed":"{seed}"}}"#));
        let layer = Bytes::from(format!("layer of {seed}"));
        let config_digest = self.client.push_blob(&self.name, config.clone()).await.unwrap();
        let layer_digest = self.client.push_blob(&self.name, layer.clone()).await.unwrap();
        let body = json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_MANIFEST,
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len() },
            "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest.to_string(), "size": layer.len() }],
            "annotations": { "org.opencontainers.image.created": "2024-01-01T00:00:00Z" },
        });
        self.push(tag, media_types::OCI_MANIFEST, body).await
    }

    /// An index of `children` (each `linux/amd64`), tagged or not.
    pub(crate) async fn index(&self, children: &[&str], tag: Option<&str>) -> String {
        let manifests: Vec<serde_json::Value> = children
            .iter()
            .map(|child| {
                let mut descriptor = self.descriptor(child);
                descriptor["platform"] = json!({ "architecture": "amd64", "os": "linux" });
                descriptor
            })
            .collect();
        let body = json!({ "schemaVersion": 2, "mediaType": media_types::OCI_INDEX, "manifests": manifests });
        self.push(tag, media_types::OCI_INDEX, body).await
    }

    /// The bytes pushed for `digest`.
    pub(crate) fn raw(&self, digest: &str) -> Bytes {
        self.pushed.lock().unwrap()[digest].1.clone()
    }

    /// Pushes the same manifest under another tag.
    pub(crate) async fn tag(&self, digest: &str, tag: &str) {
        let (media_type, raw) = self.pushed.lock().unwrap()[digest].clone();
        self.client.push_manifest(&self.name, tag, &media_type, raw).await.unwrap();
    }

    fn referrer_body(&self, subject: &str, artifact_type: &str, seed: &str) -> serde_json::Value {
        json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_MANIFEST,
            "artifactType": artifact_type,
            "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY, "size": 2 },
            "layers": [{ "mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY, "size": 2 }],
            "subject": self.descriptor(subject),
            "annotations": { "org.opencontainers.image.created": "2024-01-02T00:00:00Z", "seed": seed },
        })
    }

    /// A referrer of `subject` pushed by digest; listed in the fallback index when kept.
    pub(crate) async fn referrer(&self, subject: &str, artifact_type: &str, seed: &str) -> String {
        let digest = self.push(None, media_types::OCI_MANIFEST, self.referrer_body(subject, artifact_type, seed)).await;
        if self.fallback {
            let mut listed = self.fallback_list(subject).await;
            let mut descriptor = self.descriptor(&digest);
            descriptor["artifactType"] = json!(artifact_type);
            listed.push(descriptor);
            self.put_fallback(subject, listed).await;
        }
        digest
    }

    /// The descriptors in the fallback index of `subject` (empty when there is none).
    pub(crate) async fn fallback_list(&self, subject: &str) -> Vec<serde_json::Value> {
        let tag = subject.replacen(':', "-", 1);
        match self.client.get_manifest(&self.name, &tag).await {
            Ok(manifest) => {
                let body: serde_json::Value = serde_json::from_slice(&manifest.raw).unwrap();
                body["manifests"].as_array().cloned().unwrap_or_default()
            }
            Err(_) => Vec::new(),
        }
    }

    async fn put_fallback(&self, subject: &str, listed: Vec<serde_json::Value>) {
        let tag = subject.replacen(':', "-", 1);
        let body = json!({ "schemaVersion": 2, "mediaType": media_types::OCI_INDEX, "manifests": listed });
        self.push(Some(&tag), media_types::OCI_INDEX, body).await;
    }

    /// True while the registry still has `digest`.
    pub(crate) async fn has(&self, digest: &str) -> bool {
        self.client.head_manifest(&self.name, digest).await.is_ok()
    }
}

/// A catalog, a crawl of the registry at `url` into it, and an engine with a store on SQLite.
pub(crate) struct World {
    pub(crate) catalog: Catalog,
    pub(crate) writer: CatalogWriter,
    pub(crate) engine: Engine,
    pub(crate) source: RegistrySource,
    pub(crate) store: Store,
    pub(crate) _directory: tempfile::TempDir,
}

/// A plan request for `reference` in `team/app` of the registry `local`.
pub(crate) fn request(reference: &str) -> PlanRequest {
    PlanRequest {
        targets: vec![TargetSpec {
            registry: "local".into(),
            repository: "team/app".into(),
            reference: reference.into(),
        }],
        query: None,
        tag_only: false,
    }
}

pub(crate) fn source(url: &str) -> RegistrySource {
    RegistrySource::new("local", client(url))
}

impl World {
    pub(crate) async fn crawl(url: &str) -> World {
        let directory = tempfile::tempdir().unwrap();
        let database_url = format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display());
        let store = Store::open(Database::connect(&database_url).await.unwrap()).await.unwrap();
        let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
        let board = StatusBoard::default();
        let source = source(url);
        board.register("local", url);
        crawl_registry(&source, &catalog, &writer, &board, 4).await.expect("crawl succeeds");
        writer.flush().await.unwrap();
        let engine = Engine::new(vec![source.clone()], catalog.clone(), writer.clone(), board, store.clone());
        World { catalog, writer, engine, source, store, _directory: directory }
    }

    /// The same catalog and store, as after a restart of the server.
    pub(crate) fn restarted(&self) -> Engine {
        Engine::new(
            vec![self.source.clone()],
            self.catalog.clone(),
            self.writer.clone(),
            StatusBoard::default(),
            self.store.clone(),
        )
    }
}
