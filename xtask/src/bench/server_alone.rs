//! P6 with the server alone: the same pages served by a real `ocicat serve` process (release,
//! access control on) while the load generator runs in the bench process, so the server's own
//! CPU per page is read from its `/proc` entry apart from the clients'; and the instructions per
//! page of each kind, counted by callgrind over a fixed number of loads. Together they give the
//! ceiling this machine puts on P6: its cores divided by the server's CPU per page.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use serde_json::json;

use super::load::{Timings, drive};
use super::page_set::{Page, PageKind, fetch, rotation, warm_up};
use super::report::round;
use super::serve_process::{ServeOptions, ServeProcess, process_cpu_time};
use super::signed_in;

/// Page loads of each kind counted under callgrind.
const COUNTED_LOADS: usize = 12;

/// What the server alone did.
pub(crate) struct ServerAlone {
    /// Pages per second the load generator got.
    pub(crate) pages_per_second: f64,
    /// Pages per second the machine's cores could serve at that CPU per page.
    pub(crate) ceiling_pages_per_second: f64,
    /// Pages per second the same cores could serve with the load generator's CPU per page
    /// spent beside the server's (both run on this machine).
    pub(crate) shared_ceiling_pages_per_second: f64,
    /// Everything measured, for the summary.
    pub(crate) json: serde_json::Value,
}

/// Serves the index under `data_dir` from `ocicat serve`, drives `pages` (paths) for `duration`
/// with access control on, then counts instructions per page under callgrind.
pub(crate) async fn measure(
    data_dir: &std::path::Path,
    pages: &[Page],
    registries: &[String],
    duration: Duration,
) -> anyhow::Result<ServerAlone> {
    let cpus = std::thread::available_parallelism().map(usize::from).unwrap_or(1) as f64;
    let access = Some(signed_in::section(registries)?);
    let server =
        ServeProcess::start(ServeOptions { data_dir, registries, access: access.clone(), callgrind: false }).await?;
    let loaded = async {
        let signed = signed_pages(server.base(), pages).await?;
        warm_up(&signed).await?;
        let visits = Arc::new(vec![rotation(&signed)]);
        let (server_before, generator_before) = (server.cpu_time()?, process_cpu_time("/proc/self/stat")?);
        let phase = drive(&visits, &Timings::default(), Arc::new(AtomicBool::new(false)), duration).await?;
        let server_cpu = server.cpu_time()? - server_before;
        let generator_cpu = process_cpu_time("/proc/self/stat")? - generator_before;
        anyhow::Ok((phase, server_cpu, generator_cpu))
    }
    .await;
    server.stop().await;
    let (phase, server_cpu, generator_cpu) = loaded?;
    let per_page = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / phase.loaded().max(1) as f64;
    let server_cpu_ms_per_page = per_page(server_cpu);
    let ceiling = cpus * 1000.0 / server_cpu_ms_per_page.max(f64::EPSILON);
    let generator_cpu_ms_per_page = per_page(generator_cpu);
    let shared_ceiling = cpus * 1000.0 / (server_cpu_ms_per_page + generator_cpu_ms_per_page).max(f64::EPSILON);
    let instructions = count_instructions(data_dir, pages, registries, access).await?;
    let json = json!({
        "server": "ocicat serve (release), access control on, a separate process from the load generator",
        "load": phase.json(),
        "server_cpu_s": round(server_cpu.as_secs_f64()),
        "load_generator_cpu_s": round(generator_cpu.as_secs_f64()),
        "server_cpu_ms_per_page": round(server_cpu_ms_per_page),
        "load_generator_cpu_ms_per_page": round(generator_cpu_ms_per_page),
        "cpus": cpus,
        "ceiling_pages_per_second": round(ceiling),
        "ceiling_is": "the machine's cores divided by the server's CPU time per page (the server alone on every core)",
        "shared_ceiling_pages_per_second": round(shared_ceiling),
        "shared_ceiling_is": "the machine's cores divided by the server's and the load generator's CPU time per page (both on these cores)",
        "instructions_per_page": instructions,
    });
    Ok(ServerAlone {
        pages_per_second: phase.pages_per_second(),
        ceiling_pages_per_second: ceiling,
        shared_ceiling_pages_per_second: shared_ceiling,
        json,
    })
}

/// `pages` at the server at `base`, loaded by the bench's signed-in viewer.
async fn signed_pages(base: &str, pages: &[Page]) -> anyhow::Result<Vec<Page>> {
    let cookie: Arc<str> = signed_in::cookie(base).await?.into();
    Ok(pages.iter().map(|page| page.at(base).signed_in(&cookie)).collect())
}

/// Instructions per page of each kind: [`COUNTED_LOADS`] loads one after the other, counted by
/// callgrind in the server process only.
async fn count_instructions(
    data_dir: &std::path::Path,
    pages: &[Page],
    registries: &[String],
    access: Option<String>,
) -> anyhow::Result<serde_json::Value> {
    let mut server = ServeProcess::start(ServeOptions { data_dir, registries, access, callgrind: true }).await?;
    let counted = async {
        let signed = signed_pages(server.base(), pages).await?;
        let http = reqwest::Client::new();
        let mut figures = serde_json::Map::new();
        for kind in [PageKind::Search, PageKind::Repository, PageKind::Artifact] {
            let of_kind: Vec<&Page> = signed.iter().filter(|page| page.kind() == kind).take(COUNTED_LOADS).collect();
            // One untimed load of each first: lazily built state is not a page's cost.
            if let Some(first) = of_kind.first() {
                fetch(&http, first).await?;
            }
            let (instructions, ()) = server
                .instructions(async {
                    for page in &of_kind {
                        fetch(&http, page).await?;
                    }
                    anyhow::Ok(())
                })
                .await?;
            figures.insert(kind.name().to_owned(), json!(instructions / of_kind.len().max(1) as u64));
        }
        figures.insert("loads_counted_per_kind".to_owned(), json!(COUNTED_LOADS));
        anyhow::Ok(serde_json::Value::Object(figures))
    }
    .await;
    server.stop().await;
    counted
}
