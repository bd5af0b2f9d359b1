//! P9 as deployed: the memory of a real `ocicat serve` process (the release binary) over the P4
//! index, after it answered P5's searches through its JSON API. The bench process's own figures
//! (it holds the catalog while indexing) are kept beside it for the peak while bulk indexing,
//! which only the writer in the bench process goes through.

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Serialize;

use super::serve_process::{ServeOptions, ServeProcess};
use super::synthetic::REGISTRIES;

/// Rounds of the queries sent before the memory is read.
const ROUNDS: usize = 5;

/// What `ocicat serve` held after serving the searches.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct ServeMemory {
    /// Anonymous RSS once started, before any search, in bytes.
    pub(crate) rss_anon_started: u64,
    /// Anonymous RSS after the searches, in bytes.
    pub(crate) rss_anon_after_searches: u64,
    /// The process's high-water mark of RSS (anonymous and file), in bytes.
    pub(crate) vm_hwm: u64,
    /// Searches answered.
    pub(crate) searches: usize,
}

/// Starts `ocicat serve` on the index under `data_dir`, sends every query of `queries`
/// [`ROUNDS`] times, reads its memory and stops it; fails unless it serves `artifacts`.
pub(crate) async fn measure(data_dir: &Path, artifacts: u64, queries: &[String]) -> anyhow::Result<ServeMemory> {
    let registries: Vec<String> = REGISTRIES.iter().map(|name| (*name).to_owned()).collect();
    let server =
        ServeProcess::start(ServeOptions { data_dir, registries: &registries, access: None, callgrind: false }).await?;
    let outcome = async {
        let rss_anon_started = server.status_bytes("RssAnon")?;
        server.expect_artifacts(artifacts).await?;
        let http = reqwest::Client::new();
        let mut searches = 0;
        for _ in 0..ROUNDS {
            for query in queries {
                search(&http, server.base(), query).await?;
                searches += 1;
            }
        }
        Ok(ServeMemory {
            rss_anon_started,
            rss_anon_after_searches: server.status_bytes("RssAnon")?,
            vm_hwm: server.status_bytes("VmHWM")?,
            searches,
        })
    }
    .await;
    server.stop().await;
    outcome
}

/// One search through the JSON API of the server at `base`.
pub(crate) async fn search(http: &reqwest::Client, base: &str, query: &str) -> anyhow::Result<()> {
    let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let response = http
        .get(format!("{base}/api/v1/search?q={encoded}"))
        .send()
        .await
        .with_context(|| format!("search {query:?} failed"))?;
    if !response.status().is_success() {
        bail!("search {query:?} answered {}", response.status());
    }
    response.bytes().await.context("failed to read a search answer")?;
    Ok(())
}
