//! What the copy and layout tests share: clients, the demo's trust policies, a crawled catalog
//! of a registry, the graph of an artifact as a catalog has it, and the seed's subjects.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::sync::Arc;

use ocicat_catalog::{Catalog, WriterConfig};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::SeedReport;
use ocicat_trust::{Policies, Policy, PublicKey};

pub fn client(url: &str) -> Client {
    Client::new(ClientConfig::new(url.parse().unwrap(), Credentials::Anonymous)).unwrap()
}

/// The demo signer's key and certificate, as the demo trusts them.
pub fn demo_policies() -> Arc<Policies> {
    Arc::new(Policies::new(vec![Policy {
        notation_roots: vec![ocicat_seed::demo_signer_certificate_der().to_vec()],
        notation_identities: vec![ocicat_seed::DEMO_SIGNER_NOTATION_IDENTITY.to_owned()],
        ..Policy::with_keys("demo", "*", "**", vec![PublicKey::from_pem(ocicat_seed::DEMO_SIGNER_PUBLIC_KEY).unwrap()])
    }]))
}

/// A catalog of `client`'s registry, named `name`, crawled now.
pub async fn crawled(name: &str, client: &Client) -> Catalog {
    let source = RegistrySource::new(name, client.clone()).trusting(demo_policies());
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let board = StatusBoard::default();
    board.register(name, client.base_url().as_str());
    crawl_registry(&source, &catalog, &writer, &board, 4).await.unwrap();
    catalog
}

/// Every digest reachable from `digest` (children and referrers, recursively, no fallback
/// indexes) with the verdicts each signature got.
pub fn graph(catalog: &Catalog, registry: &str, repository: &str, digest: &str) -> BTreeSet<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![digest.to_owned()];
    while let Some(next) = todo.pop() {
        let Some(doc) = catalog.artifact(registry, repository, &next).unwrap() else { continue };
        if doc.referrers_index {
            continue;
        }
        let verdicts: Vec<String> = doc.verdicts.iter().map(|verdict| verdict.status.to_string()).collect();
        if !seen.insert((doc.digest.clone(), verdicts.join(","))) {
            continue;
        }
        todo.extend(doc.children.iter().map(|child| child.digest.clone()));
        todo.extend(
            catalog.referrers(registry, repository, &next).unwrap().into_iter().map(|referrer| referrer.digest),
        );
    }
    seen
}

/// The seeded artifact with the most referrers (the app image), and the index.
pub fn subjects(report: &SeedReport) -> (String, String, String) {
    let app = report
        .items
        .iter()
        .filter(|item| item.reference.is_some() && item.kind == "image")
        .max_by_key(|item| {
            report.items.iter().filter(|other| other.subject.as_deref() == Some(item.digest.as_str())).count()
        })
        .unwrap();
    let index = report.items.iter().find(|item| item.kind == "index" && item.reference.is_some()).unwrap();
    (app.repository.clone(), app.digest.clone(), format!("{}@{}", index.repository, index.digest))
}
