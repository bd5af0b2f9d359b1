//! A real `ocicat serve` process (the release binary) over an index the bench built, for the
//! figures that must be the server's alone: its memory (P9), its CPU time per page while a
//! load generator in the bench process drives it (P6), and instructions per page or query
//! counted by callgrind over a fixed number of requests (P5, P6), a figure that does not drift
//! with the machine's load.
//!
//! Under callgrind the server starts uninstrumented (`--instr-atstart=no`); instrumentation is
//! switched on around the measured requests only and each window is dumped on its own, so
//! start-up and the index opening are not counted.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// How long the server may take to open the index and answer `/healthz` (longer under
/// callgrind, which runs it several times slower even uninstrumented).
const READY_WITHIN: Duration = Duration::from_secs(300);
/// Linux's `USER_HZ`: the unit of the CPU times in `/proc/<pid>/stat`.
const TICKS_PER_SECOND: f64 = 100.0;

/// How to start the server.
pub(crate) struct ServeOptions<'a> {
    /// The data directory holding the index.
    pub(crate) data_dir: &'a Path,
    /// Registry names to configure (unreachable: their crawls fail at once and leave the index).
    pub(crate) registries: &'a [String],
    /// An `[access]` section's body, when access control is on.
    pub(crate) access: Option<String>,
    /// Run under `valgrind --tool=callgrind`, instrumentation off until asked.
    pub(crate) callgrind: bool,
}

/// A running server; killed when dropped.
pub(crate) struct ServeProcess {
    child: tokio::process::Child,
    pid: u32,
    base: String,
    directory: tempfile::TempDir,
    dumps: usize,
}

/// The release binary the bench starts (`OCICAT_BIN` overrides it).
pub(crate) fn release_binary() -> PathBuf {
    std::env::var_os("OCICAT_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target/release/ocicat"))
}

impl ServeProcess {
    /// Starts the server and waits until it answers `/healthz`.
    pub(crate) async fn start(options: ServeOptions<'_>) -> anyhow::Result<ServeProcess> {
        let binary = release_binary();
        if !binary.exists() {
            bail!("{} is missing: build it with `cargo build --release -p ocicat`", binary.display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .context("failed to find a free port")?
            .port();
        let directory = tempfile::Builder::new().prefix("ocicat-bench-serve-").tempdir().context("serve tempdir")?;
        let config_path = directory.path().join("ocicat.toml");
        let registries: String = options
            .registries
            .iter()
            .map(|name| format!("[[registry]]\nname = \"{name}\"\nurl = \"http://127.0.0.1:9\"\n\n"))
            .collect();
        let access = options.access.map(|section| format!("[access]\n{section}")).unwrap_or_default();
        let data_dir = options.data_dir;
        let site_root = crate::workspace_root().join("target/site");
        std::fs::write(
            &config_path,
            format!(
                "[server]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = {data_dir:?}\nsite_root = {site_root:?}\n\n\
                 [crawl]\ninterval_secs = 86400\n\n{registries}{access}"
            ),
        )
        .context("failed to write the serve config")?;
        let mut command = if options.callgrind {
            let mut command = tokio::process::Command::new("valgrind");
            command
                .arg("--tool=callgrind")
                .arg("--instr-atstart=no")
                .arg(format!("--callgrind-out-file={}", directory.path().join("callgrind.out").display()))
                .arg(&binary);
            command
        } else {
            tokio::process::Command::new(&binary)
        };
        let log = std::fs::File::create(directory.path().join("serve.log")).context("serve log")?;
        let child = command
            .arg("--config")
            .arg(&config_path)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("serve log")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("failed to start {}", binary.display()))?;
        let pid = child.id().context("the server has no pid")?;
        let server = ServeProcess { child, pid, base: format!("http://127.0.0.1:{port}"), directory, dumps: 0 };
        server.wait_ready().await?;
        Ok(server)
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    async fn wait_ready(&self) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let url = format!("{}/healthz", self.base);
            if http.get(&url).send().await.is_ok_and(|response| response.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > READY_WITHIN {
                let log = std::fs::read_to_string(self.directory.path().join("serve.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(20).collect();
                bail!(
                    "ocicat serve did not answer /healthz within {READY_WITHIN:?}; its log ends:\n{}",
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails unless the server finds `artifacts` artifacts: a `target/release/ocicat` older than
    /// the catalog's schema opens (and creates) an index of its own version beside the bench's,
    /// and every figure taken from it would be of an empty catalog.
    pub(crate) async fn expect_artifacts(&self, artifacts: u64) -> anyhow::Result<()> {
        let url = format!("{}/api/v1/search?q=", self.base);
        let page: serde_json::Value = reqwest::get(&url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .with_context(|| format!("failed to search {url}"))?
            .json()
            .await
            .with_context(|| format!("failed to read the answer of {url}"))?;
        let served = page["total"].as_u64().with_context(|| format!("no total in the answer of {url}"))?;
        if served != artifacts {
            bail!(
                "ocicat serve finds {served} artifacts where the bench indexed {artifacts}: is \
                 target/release/ocicat older than xtask (cargo build --release -p ocicat -p xtask)?"
            );
        }
        Ok(())
    }

    /// One `kB` field of the server's `/proc/<pid>/status` (`RssAnon`, `VmHWM`), in bytes.
    pub(crate) fn status_bytes(&self, field: &str) -> anyhow::Result<u64> {
        let path = format!("/proc/{}/status", self.pid);
        let status = std::fs::read_to_string(&path).with_context(|| format!("failed to read {path}"))?;
        super::memory::parse_status_field(&status, field).with_context(|| format!("no {field} in {path}"))
    }

    /// CPU time the server used so far (user and system, every thread).
    pub(crate) fn cpu_time(&self) -> anyhow::Result<Duration> {
        process_cpu_time(&format!("/proc/{}/stat", self.pid))
    }

    /// Instructions the server executed while `work` ran (callgrind only).
    pub(crate) async fn instructions<T>(
        &mut self,
        work: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<(u64, T)> {
        self.control("-i", Some("on")).await?;
        let outcome = work.await;
        self.control("-i", Some("off")).await?;
        let value = outcome?;
        self.control("-d", None).await?;
        self.dumps += 1;
        let dump = self.directory.path().join(format!("callgrind.out.{}", self.dumps));
        let text = std::fs::read_to_string(&dump).with_context(|| format!("failed to read {}", dump.display()))?;
        let totals = text
            .lines()
            .find_map(|line| line.strip_prefix("totals:"))
            .and_then(|totals| totals.split_whitespace().next())
            .and_then(|count| count.parse().ok())
            .with_context(|| format!("no totals in {}", dump.display()))?;
        Ok((totals, value))
    }

    async fn control(&self, option: &str, value: Option<&str>) -> anyhow::Result<()> {
        let mut command = tokio::process::Command::new("callgrind_control");
        command.arg(option);
        if let Some(value) = value {
            command.arg(value);
        }
        let status = command
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await
            .context("failed to run callgrind_control")?;
        if !status.success() {
            bail!("callgrind_control {option} failed: {status}");
        }
        Ok(())
    }

    /// Stops the server.
    pub(crate) async fn stop(mut self) {
        self.child.kill().await.ok();
    }
}

/// CPU time (user and system) of the process whose `stat` file is `path`.
pub(crate) fn process_cpu_time(path: &str) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(path).with_context(|| format!("failed to read {path}"))?;
    // The command name may hold spaces and parentheses: fields are counted after the last `)`.
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("").split_whitespace().collect();
    // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
    let ticks = |index: usize| fields.get(index - 3).and_then(|value| value.parse::<u64>().ok());
    let (user, system) = ticks(14).zip(ticks(15)).with_context(|| format!("{path} has no utime and stime"))?;
    Ok(Duration::from_secs_f64((user + system) as f64 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("stat");
        let line = "42 (tokio (rt) x) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0 20 0 8 0 100 1000 10";
        std::fs::write(&path, line).unwrap();
        assert_eq!(process_cpu_time(path.to_str().unwrap()).unwrap(), Duration::from_secs(4));
    }
}
