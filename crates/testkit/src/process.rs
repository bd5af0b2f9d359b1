//! A registry child process that logs to a file, is polled until ready and dies with its handle.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// How long a registry may take to answer `GET /v2/` after it was spawned.
pub(crate) const READY_DEADLINE: Duration = Duration::from_secs(20);

/// Interval between readiness probes while a registry starts.
const READY_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long `Drop` waits for a killed child to be reaped.
const REAP_DEADLINE: Duration = Duration::from_secs(5);

/// Number of log lines quoted in startup errors.
const LOG_TAIL_LINES: usize = 40;

/// What to run: program, arguments and environment, plus where its output goes.
pub(crate) struct ChildSpec {
    /// Short name used in error messages, e.g. `docker-registry`.
    pub(crate) name: &'static str,
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
    pub(crate) envs: Vec<(String, OsString)>,
    /// File that receives both stdout and stderr.
    pub(crate) log_path: PathBuf,
}

/// A spawned server process, killed (with its process group) and reaped on drop.
#[derive(Debug)]
pub(crate) struct ManagedChild {
    name: &'static str,
    child: tokio::process::Child,
    pid: u32,
    log_path: PathBuf,
    exited: bool,
}

impl ManagedChild {
    /// Spawns the program as the leader of a new process group.
    ///
    /// It runs under `setpriv --pdeathsig KILL` so that the kernel kills it even
    /// when the test process dies without running destructors (SIGKILL, abort).
    pub(crate) fn spawn(spec: ChildSpec) -> anyhow::Result<Self> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&spec.log_path)
            .with_context(|| format!("failed to open log file {}", spec.log_path.display()))?;
        let stderr_file =
            log_file.try_clone().with_context(|| format!("failed to clone log file {}", spec.log_path.display()))?;

        let mut command = tokio::process::Command::new("setpriv");
        command
            .arg("--pdeathsig")
            .arg("KILL")
            .arg("--")
            .arg(&spec.program)
            .args(&spec.args)
            .envs(spec.envs.iter().map(|(key, value)| (key.as_str(), value.as_os_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log_file))
            .stderr(Stdio::from(stderr_file))
            .process_group(0)
            .kill_on_drop(true);
        let child =
            command.spawn().with_context(|| format!("failed to spawn {} ({})", spec.name, spec.program.display()))?;
        let pid = child.id().with_context(|| format!("{} exited before its pid could be read", spec.name))?;
        tracing::debug!(process.name = spec.name, process.pid = pid, "spawned {} as pid {pid}", spec.name);
        Ok(Self { name: spec.name, child, pid, log_path: spec.log_path, exited: false })
    }

    /// Returns the operating-system process id of the server.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Returns the path of the file holding the server's stdout and stderr.
    pub(crate) fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Returns the last `lines` lines of the server log (empty if unreadable).
    pub(crate) fn log_tail(&self, lines: usize) -> String {
        read_log_tail(&self.log_path, lines)
    }

    /// Polls `GET {base_url}/v2/` until any HTTP response arrives.
    ///
    /// Fails with the tail of the server log if the process exits or the
    /// deadline passes first.
    pub(crate) async fn wait_until_ready(&mut self, base_url: &str) -> anyhow::Result<()> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(1))
            .build()
            .context("failed to build the readiness http client")?;
        let probe_url = format!("{base_url}/v2/");
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().context("failed to poll child status")? {
                self.exited = true;
                bail!(
                    "{} exited with {status} before answering {probe_url}; log tail:\n{}",
                    self.name,
                    self.log_tail(LOG_TAIL_LINES)
                );
            }
            match client.get(&probe_url).send().await {
                Ok(response) => {
                    tracing::debug!(status = %response.status(), "{} is ready at {base_url}", self.name);
                    return Ok(());
                }
                Err(error) if Instant::now() >= deadline => {
                    bail!(
                        "{} did not answer {probe_url} within {READY_DEADLINE:?} (last error: {error}); log tail:\n{}",
                        self.name,
                        self.log_tail(LOG_TAIL_LINES)
                    );
                }
                Err(_not_ready_yet) => tokio::time::sleep(READY_POLL_INTERVAL).await,
            }
        }
    }

    /// Tells whether the server's log shows that its port was already taken.
    pub(crate) fn lost_port_race(&self) -> bool {
        self.log_tail(LOG_TAIL_LINES).to_ascii_lowercase().contains("address already in use")
    }

    fn kill_and_reap(&mut self) {
        if self.exited {
            return;
        }
        if let Ok(Some(_status)) = self.child.try_wait() {
            self.exited = true;
            return;
        }
        // The child is alive and unreaped, so its pid (and process group id) cannot
        // have been recycled: killing the whole group is safe.
        let group = format!("-{}", self.pid);
        let group_kill = std::process::Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Err(error) = group_kill {
            tracing::warn!(process.pid = self.pid, %error, "failed to kill process group of {}", self.name);
        }
        if let Err(error) = self.child.start_kill() {
            tracing::debug!(process.pid = self.pid, %error, "start_kill of {} failed", self.name);
        }
        let deadline = Instant::now() + REAP_DEADLINE;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(_status)) => {
                    self.exited = true;
                    return;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(error) => {
                    tracing::warn!(process.pid = self.pid, %error, "failed to reap {}", self.name);
                    return;
                }
            }
        }
        tracing::warn!(process.pid = self.pid, "{} was not reaped within {REAP_DEADLINE:?}", self.name);
    }
}

impl Drop for ManagedChild {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// Reads the last `lines` lines of a log file, lossily decoded.
pub(crate) fn read_log_tail(path: &Path, lines: usize) -> String {
    let Ok(bytes) = std::fs::read(path) else {
        return String::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let all_lines: Vec<&str> = text.lines().collect();
    let first_kept = all_lines.len().saturating_sub(lines);
    all_lines[first_kept..].join("\n")
}

/// Number of fresh ports tried when a server loses the race for its port.
const PORT_ATTEMPTS: usize = 3;

/// Spawns a server on a free port and waits until it answers `GET /v2/`.
///
/// `spec_for_port` builds the command for a given port (writing any config
/// file it needs). If the server fails because another process took the port
/// between [`crate::free_port`] and its bind, it is retried on a new port.
pub(crate) async fn spawn_ready_on_free_port(
    mut spec_for_port: impl FnMut(u16) -> anyhow::Result<ChildSpec>,
) -> anyhow::Result<(ManagedChild, u16)> {
    let mut attempt = 1;
    loop {
        let port = crate::free_port()?;
        let mut child = ManagedChild::spawn(spec_for_port(port)?)?;
        match child.wait_until_ready(&format!("http://127.0.0.1:{port}")).await {
            Ok(()) => return Ok((child, port)),
            Err(error) if attempt < PORT_ATTEMPTS && child.lost_port_race() => {
                tracing::debug!(%error, port, "port {port} was taken, retrying on another port");
                attempt += 1;
            }
            Err(error) => return Err(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell_spec(directory: &Path, script: &str) -> ChildSpec {
        ChildSpec {
            name: "sh",
            program: PathBuf::from("sh"),
            args: vec![OsString::from("-c"), OsString::from(script)],
            envs: Vec::new(),
            log_path: directory.join("sh.log"),
        }
    }

    #[tokio::test]
    async fn early_exit_is_reported_with_the_log_tail() {
        let directory = tempfile::tempdir().unwrap();
        let spec = shell_spec(directory.path(), "echo 'config is broken' >&2; exit 3");
        let mut child = ManagedChild::spawn(spec).unwrap();
        let error = child.wait_until_ready("http://127.0.0.1:9").await.unwrap_err().to_string();
        assert!(error.contains("config is broken"), "{error}");
        assert!(error.contains("exited with exit status: 3"), "{error}");
    }

    #[tokio::test]
    async fn lost_port_race_is_retried_on_another_port() {
        let directory = tempfile::tempdir().unwrap();
        let mut attempts = 0;
        let (child, port) = spawn_ready_on_free_port(|port| {
            attempts += 1;
            let script = if attempts == 1 {
                format!("echo 'listen tcp 127.0.0.1:{port}: bind: address already in use' >&2; exit 1")
            } else {
                format!("exec python3 -m http.server --bind 127.0.0.1 {port}")
            };
            Ok(shell_spec(directory.path(), &script))
        })
        .await
        .unwrap();
        assert_eq!(attempts, 2);
        assert!(port > 0);
        let pid = child.pid();
        drop(child);
        assert!(!Path::new(&format!("/proc/{pid}")).exists(), "pid {pid} survived drop");
    }
}
