//! Memory of this process from `/proc/self/status`: anonymous RSS now, the lifetime high-water
//! mark, and a sampler thread that records the peak anonymous RSS while a phase runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use super::report::{Check, Scenario};

/// How often the sampler reads `/proc/self/status`.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// One `kB` field of `/proc/self/status` (`RssAnon`, `VmHWM`, …), in bytes.
pub(crate) fn status_bytes(field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("failed to read /proc/self/status")?;
    parse_status_field(&status, field).with_context(|| format!("no {field} in /proc/self/status"))
}

pub(crate) fn parse_status_field(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.split(':').next() == Some(field))?;
    let kilobytes: u64 = line.split(':').nth(1)?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kilobytes * 1024)
}

/// Anonymous RSS (heap, stacks, anonymous maps; not the mmapped index files), in bytes.
pub(crate) fn anonymous_rss() -> anyhow::Result<u64> {
    status_bytes("RssAnon")
}

/// Bytes as MiB with one decimal.
pub(crate) fn mebibytes(bytes: u64) -> f64 {
    (bytes as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0
}

/// Samples anonymous RSS on its own thread until [`PeakSampler::stop`].
#[derive(Debug)]
pub(crate) struct PeakSampler {
    running: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl PeakSampler {
    /// Starts sampling now.
    pub(crate) fn start() -> anyhow::Result<PeakSampler> {
        let running = Arc::new(AtomicBool::new(true));
        let peak = Arc::new(AtomicU64::new(anonymous_rss()?));
        let (thread_running, thread_peak) = (running.clone(), peak.clone());
        let thread = std::thread::Builder::new()
            .name("bench-rss-sampler".into())
            .spawn(move || {
                while thread_running.load(Ordering::Relaxed) {
                    if let Ok(bytes) = anonymous_rss() {
                        thread_peak.fetch_max(bytes, Ordering::Relaxed);
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
            })
            .context("failed to start the rss sampler thread")?;
        Ok(PeakSampler { running, peak, thread: Some(thread) })
    }

    /// Stops sampling and returns the highest anonymous RSS seen, in bytes.
    pub(crate) fn stop(mut self) -> u64 {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        if let Ok(bytes) = anonymous_rss() {
            self.peak.fetch_max(bytes, Ordering::Relaxed);
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// Anonymous RSS at each step of P4 and P5, in bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MemoryFigures {
    /// Artifacts in the index.
    pub(crate) artifacts: u64,
    /// Before the writer opened.
    pub(crate) before_index: u64,
    /// Highest sample while indexing and merging.
    pub(crate) peak_while_indexing: u64,
    /// After the writer closed.
    pub(crate) after_index: u64,
    /// After the searches, with the index open as the server opens it (readers, idle writer).
    pub(crate) after_search: u64,
    /// A real `ocicat serve` over the same index, after the same searches through its API.
    pub(crate) served: super::serve_memory::ServeMemory,
}

/// P9 from the figures sampled around P4 and P5: the steady figure is `ocicat serve`'s own;
/// the peak while bulk indexing is the catalog writer's in the bench process (the same writer
/// code; a server only goes through it during a cold crawl).
pub(crate) fn scenario(figures: MemoryFigures) -> anyhow::Result<Scenario> {
    let steady = mebibytes(figures.served.rss_anon_after_searches);
    let peak = mebibytes(figures.peak_while_indexing);
    let measured = json!({
        "artifacts": figures.artifacts,
        "serve": {
            "process": "ocicat serve (release) over the P4 index, after P5's queries through /api/v1/search",
            "rss_anon_started_mib": mebibytes(figures.served.rss_anon_started),
            "rss_anon_after_searches_mib": steady,
            "vm_hwm_mib": mebibytes(figures.served.vm_hwm),
            "searches": figures.served.searches,
        },
        "bench_process": {
            "rss_anon_before_index_mib": mebibytes(figures.before_index),
            "rss_anon_peak_while_indexing_mib": peak,
            "rss_anon_after_index_mib": mebibytes(figures.after_index),
            "rss_anon_after_search_mib": mebibytes(figures.after_search),
            "vm_hwm_mib": mebibytes(status_bytes("VmHWM")?),
            "rss_file_mib": mebibytes(status_bytes("RssFile")?),
        },
        "sample_every_ms": SAMPLE_EVERY.as_millis() as u64,
    });
    Ok(Scenario::new(
        "P9",
        "memory",
        "steady anonymous RSS <= 512 MiB (ocicat serve); peak while bulk indexing <= 768 MiB (the writer)",
        measured,
        None,
        vec![Check::at_most("steady_rss_anon_mib", steady, 512.0), Check::at_most("peak_rss_anon_mib", peak, 768.0)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_fields_are_read_in_bytes() {
        let status = "Name:\txtask\nVmHWM:\t  204800 kB\nRssAnon:\t   10240 kB\n";
        assert_eq!(parse_status_field(status, "RssAnon"), Some(10 << 20));
        assert_eq!(parse_status_field(status, "VmHWM"), Some(200 << 20));
        assert_eq!(parse_status_field(status, "RssFile"), None);
    }
}
