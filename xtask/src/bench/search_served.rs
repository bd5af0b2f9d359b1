//! P5's searches through a real `ocicat serve` (release) over the P4 index, counted by
//! callgrind: instructions per API search (top results, count and facets), each query once
//! uncached and once again with its facets cached. Counts do not drift with the machine's load,
//! so they tell a change in the search path from a busy day.

use std::path::Path;

use serde_json::json;

use super::serve_memory::search;
use super::serve_process::{ServeOptions, ServeProcess};
use super::synthetic::REGISTRIES;

/// Counts the instructions of each of `queries` (name, text) searched through the API, over an
/// index of `artifacts`.
pub(crate) async fn instructions(
    data_dir: &Path,
    artifacts: u64,
    queries: &[(String, String)],
) -> anyhow::Result<serde_json::Value> {
    let registries: Vec<String> = REGISTRIES.iter().map(|name| (*name).to_owned()).collect();
    let mut server =
        ServeProcess::start(ServeOptions { data_dir, registries: &registries, access: None, callgrind: true }).await?;
    let counted = async {
        server.expect_artifacts(artifacts).await?;
        let http = reqwest::Client::new();
        let base = server.base().to_owned();
        // A search of another query first: what the first search of all builds is not a query's cost.
        search(&http, &base, "registry:prod").await?;
        let mut figures = serde_json::Map::new();
        for (name, text) in queries {
            let (uncached, ()) = server.instructions(search(&http, &base, text)).await?;
            let (repeated, ()) = server.instructions(search(&http, &base, text)).await?;
            figures.insert(name.clone(), json!({"uncached": uncached, "facets_cached": repeated}));
        }
        anyhow::Ok(serde_json::Value::Object(figures))
    }
    .await;
    server.stop().await;
    counted
}
