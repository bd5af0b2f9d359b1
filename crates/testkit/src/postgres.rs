//! A throwaway PostgreSQL server (Debian's `postgresql` package) for the session-store tests:
//! a fresh cluster in a temporary directory, run as the `postgres` user (PostgreSQL refuses
//! root), on a free loopback port, trusting local connections; killed and removed on drop.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::process::{ChildSpec, ManagedChild};

/// How long the server may take to accept connections.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// A running server; stopped on drop.
#[derive(Debug)]
pub struct Postgres {
    port: u16,
    bin: PathBuf,
    server: Option<ManagedChild>,
    directory: tempfile::TempDir,
}

/// The directory of Debian's PostgreSQL binaries (the newest version installed).
fn binaries() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL is not installed (scripts/setup.sh installs it)")?
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop().context("no PostgreSQL server binary under /usr/lib/postgresql")
}

impl Postgres {
    /// Creates a cluster and starts it.
    pub async fn start() -> anyhow::Result<Postgres> {
        let bin = binaries()?;
        let directory = tempfile::tempdir().context("cannot create a directory for PostgreSQL")?;
        let owned = std::process::Command::new("chown")
            .arg("postgres:postgres")
            .arg(directory.path())
            .status()
            .context("cannot run chown")?;
        if !owned.success() {
            bail!("cannot give {} to the postgres user", directory.path().display());
        }
        let data = directory.path().join("data");
        let init = tokio::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["--auth=trust", "--username=postgres", "--no-sync", "--pgdata"])
            .arg(&data)
            .output()
            .await
            .context("cannot run initdb")?;
        if !init.status.success() {
            bail!("initdb failed: {}", String::from_utf8_lossy(&init.stderr));
        }
        let port = crate::free_port()?;
        let server = serve(&bin, directory.path(), port).await?;
        Ok(Postgres { port, bin, server: Some(server), directory })
    }

    /// Stops the server at once, as a crash would to its clients: an immediate shutdown
    /// (SIGQUIT to the postmaster, which ends every backend without a checkpoint), waited for.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        let pid_file = self.directory.path().join("data/postmaster.pid");
        let pid = std::fs::read_to_string(&pid_file).context("cannot read postmaster.pid")?;
        let pid = pid.lines().next().unwrap_or_default().trim().to_owned();
        let killed = std::process::Command::new("kill").args(["-QUIT", &pid]).status().context("cannot run kill")?;
        if !killed.success() {
            bail!("cannot signal the postmaster {pid}");
        }
        let deadline = Instant::now() + READY_DEADLINE;
        while std::path::Path::new(&format!("/proc/{pid}")).exists() {
            if Instant::now() > deadline {
                bail!("the postmaster {pid} did not stop within {READY_DEADLINE:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.server = None;
        Ok(())
    }

    /// Starts the stopped server again on the same data and port (it recovers from its log).
    pub async fn start_again(&mut self) -> anyhow::Result<()> {
        if self.server.is_none() {
            self.server = Some(serve(&self.bin, self.directory.path(), self.port).await?);
        }
        Ok(())
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

/// Runs the cluster in `directory` on `port` until it accepts connections.
async fn serve(bin: &std::path::Path, directory: &std::path::Path, port: u16) -> anyhow::Result<ManagedChild> {
    let args: Vec<OsString> = vec![
        "-u".into(),
        "postgres".into(),
        "--".into(),
        bin.join("postgres").into(),
        "-D".into(),
        directory.join("data").into(),
        "-p".into(),
        port.to_string().into(),
        "-k".into(),
        directory.into(),
        "-c".into(),
        "listen_addresses=127.0.0.1".into(),
        "-c".into(),
        "fsync=off".into(),
    ];
    let spec = ChildSpec {
        name: "postgres",
        program: "runuser".into(),
        args,
        envs: Vec::new(),
        log_path: directory.join("postgres.log"),
    };
    let server = ManagedChild::spawn(spec)?;
    let deadline = Instant::now() + READY_DEADLINE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline {
            bail!("postgres did not listen within {READY_DEADLINE:?}:\n{}", server.log_tail(20));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(server)
}
