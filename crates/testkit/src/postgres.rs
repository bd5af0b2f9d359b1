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
    _server: ManagedChild,
    _directory: tempfile::TempDir,
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
        let args: Vec<OsString> = vec![
            "-u".into(),
            "postgres".into(),
            "--".into(),
            bin.join("postgres").into(),
            "-D".into(),
            data.into(),
            "-p".into(),
            port.to_string().into(),
            "-k".into(),
            directory.path().into(),
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
            log_path: directory.path().join("postgres.log"),
        };
        let server = ManagedChild::spawn(spec)?;
        let deadline = Instant::now() + READY_DEADLINE;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            if Instant::now() > deadline {
                bail!("postgres did not listen within {READY_DEADLINE:?}:\n{}", server.log_tail(20));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Postgres { port, _server: server, _directory: directory })
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}
