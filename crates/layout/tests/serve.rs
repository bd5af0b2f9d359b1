//! A root of layouts written by hand (a tagged image, a referrer found only by its `subject`, a
//! nested repository, a tag given as a full reference, and entries real tools should never
//! write: a blob whose bytes lie, an entry that is not a descriptor) served read-only and read
//! with ocicat's own registry client: what the client sees, what is refused, what is noted.

use std::path::Path;

use ocicat_layout::read::read_repository;
use ocicat_oci::{Client, ClientConfig, Credentials, Digest, Secret};
use serde_json::{Value, json};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Writes `bytes` as a blob of the layout at `dir`; answers its descriptor.
fn blob(dir: &Path, media_type: &str, bytes: &[u8]) -> Value {
    let digest = Digest::sha256(bytes);
    let path = dir.join("blobs/sha256").join(digest.hex());
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    json!({"mediaType": media_type, "digest": digest.to_string(), "size": bytes.len()})
}

fn manifest(dir: &Path, layer: &[u8], extra: Value) -> (Value, String) {
    let config = blob(dir, "application/vnd.oci.image.config.v1+json", b"{}");
    let layer = blob(dir, "application/vnd.oci.image.layer.v1.tar", layer);
    let mut document = json!({"schemaVersion": 2, "mediaType": MANIFEST, "config": config, "layers": [layer]});
    for (key, value) in extra.as_object().unwrap() {
        document[key] = value.clone();
    }
    let bytes = serde_json::to_vec(&document).unwrap();
    let descriptor = blob(dir, MANIFEST, &bytes);
    let digest = descriptor["digest"].as_str().unwrap().to_owned();
    (descriptor, digest)
}

fn layout(dir: &Path, entries: Vec<Value>) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "manifests": entries});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

fn named(mut descriptor: Value, name: &str) -> Value {
    descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": name});
    descriptor
}

fn client(server: &ocicat_layout::LayoutServer, password: &str) -> Client {
    let credentials =
        Credentials::Basic { username: ocicat_layout::USERNAME.into(), password: Secret::new(password.to_owned()) };
    Client::new(ClientConfig::new(server.url().clone(), credentials)).unwrap()
}

#[tokio::test]
async fn a_layout_root_reads_like_a_registry_and_refuses_writes_and_strangers() {
    let root = tempfile::tempdir().unwrap();
    let app = root.path().join("team/app");
    let (image, image_digest) = manifest(&app, b"layer one", json!({}));
    let subject = json!({"mediaType": MANIFEST, "digest": image_digest, "size": image["size"]});
    let (sbom, sbom_digest) = manifest(
        &app,
        b"{\"spdxVersion\":\"SPDX-2.3\"}",
        json!({"artifactType": "application/spdx+json", "subject": subject}),
    );
    let (_, other_digest) = manifest(&app, b"layer two", json!({}));
    // A lying blob: listed under a digest its bytes do not have.
    let (lying, lying_digest) = manifest(&app, b"honest", json!({}));
    std::fs::write(app.join("blobs/sha256").join(lying_digest.trim_start_matches("sha256:")), b"{\"lie\":1}").unwrap();
    let entries = vec![
        named(image.clone(), "1.0"),
        named(json!({"mediaType": MANIFEST, "digest": other_digest, "size": 1}), "docker.io/library/app:2.0"),
        sbom,
        named(lying, "lying"),
        json!({"not": "a descriptor"}),
    ];
    layout(&app, entries);
    let base = root.path().join("base");
    let (base_image, _) = manifest(&base, b"base layer", json!({}));
    layout(&base, vec![named(base_image, "latest")]);

    let read = read_repository(&app).unwrap();
    assert_eq!(read.tags.keys().collect::<Vec<_>>(), ["1.0", "2.0", "lying"]);
    assert_eq!(read.referrers[&image_digest].iter().map(|r| &r.digest).collect::<Vec<_>>(), [&sbom_digest]);
    assert!(
        read.notes.iter().any(|note| note.contains(&lying_digest) && note.contains("does not match")),
        "{:?}",
        read.notes
    );
    assert!(read.notes.iter().any(|note| note.contains("entry 4")), "{:?}", read.notes);

    let server = ocicat_layout::serve(root.path().to_path_buf()).await.unwrap();
    let reader = client(&server, server.password());
    assert_eq!(reader.catalog().await.unwrap().items, ["base", "team/app"]);
    assert_eq!(reader.tags("team/app").await.unwrap().items, ["1.0", "2.0", "lying"]);
    let fetched = reader.get_manifest("team/app", "1.0").await.unwrap();
    assert_eq!(fetched.media_type, MANIFEST);
    assert_eq!(Digest::sha256(&fetched.raw).to_string(), image_digest);
    assert_eq!(
        reader.head_manifest("team/app", "1.0").await.unwrap().map(|digest| digest.to_string()),
        Some(image_digest.clone())
    );
    let referrers = reader.referrers_api("team/app", &image_digest.parse().unwrap(), None).await.unwrap().unwrap();
    assert_eq!(referrers.len(), 1);
    let filtered =
        reader.referrers_api("team/app", &image_digest.parse().unwrap(), Some("application/vnd.other")).await.unwrap();
    assert_eq!(filtered.map(|found| found.len()), Some(0));
    assert!(reader.get_manifest("team/app", "lying").await.is_err(), "a lying manifest is never served");
    assert!(reader.get_manifest("team/app", "missing").await.is_err());
    assert!(reader.get_manifest("../etc", "1.0").await.is_err());

    // Strangers and writes are refused.
    let stranger = client(&server, "not the password");
    assert!(stranger.tags("team/app").await.is_err());
    let pushed = reader.push_manifest("team/app", "2.1", MANIFEST, fetched.raw.clone()).await;
    assert!(pushed.is_err(), "{pushed:?}");
    assert_eq!(reader.tags("team/app").await.unwrap().items, ["1.0", "2.0", "lying"]);

    // A new tag written by another tool shows at once (the index is read again when it changes).
    let (newer, _) = manifest(&app, b"layer three", json!({}));
    let mut entries =
        read_repository(&app).unwrap().tags.into_values().map(|d| serde_json::to_value(d).unwrap()).collect::<Vec<_>>();
    entries.push(named(newer, "3.0"));
    layout(&app, entries);
    assert!(reader.tags("team/app").await.unwrap().items.contains(&"3.0".to_owned()));
}
