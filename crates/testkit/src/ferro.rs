//! `ferro-oci-server`, an OCI 1.1 registry with the referrers API, run as a child process.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::process::{ChildSpec, ManagedChild, spawn_ready_on_free_port};

/// Name of the binary installed by `cargo install ferro-oci-server --locked`.
const FERRO_PROGRAM: &str = "ferro-oci-server";

/// A running ferro-oci-server on `127.0.0.1` with blobs in a tempdir, killed when dropped.
///
/// It has no authentication. Its manifests and tags live in memory, so they are
/// gone when it stops.
#[derive(Debug)]
pub struct Ferro {
    // Declared first so the process dies before its directory goes.
    process: ManagedChild,
    port: u16,
    directory: tempfile::TempDir,
}

impl Ferro {
    /// Starts ferro on a free port and waits until `GET /v2/` answers.
    pub async fn start() -> anyhow::Result<Self> {
        let program = find_ferro_binary()?;
        let directory =
            tempfile::Builder::new().prefix("ocicat-ferro-").tempdir().context("failed to create the ferro tempdir")?;
        let storage_path = directory.path().join("blobs");
        std::fs::create_dir_all(&storage_path)
            .with_context(|| format!("failed to create {}", storage_path.display()))?;
        let log_path = directory.path().join("ferro.log");
        let (process, port) = spawn_ready_on_free_port(|port| {
            Ok(ChildSpec {
                name: FERRO_PROGRAM,
                program: program.clone(),
                args: Vec::new(),
                envs: vec![
                    ("FERRO_OCI_LISTEN".to_owned(), OsString::from(format!("127.0.0.1:{port}"))),
                    ("FERRO_OCI_STORAGE_DIR".to_owned(), storage_path.clone().into_os_string()),
                    ("RUST_LOG".to_owned(), OsString::from("info")),
                    // tracing-subscriber colours its output unless told not to.
                    ("NO_COLOR".to_owned(), OsString::from("1")),
                ],
                log_path: log_path.clone(),
            })
        })
        .await?;
        Ok(Self { process, port, directory })
    }

    /// Returns the base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// Returns the registry host as used in references, e.g. `127.0.0.1:41234`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Returns the port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns the process id of the registry.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Returns the file that holds the registry's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// Returns the last `lines` lines of the registry log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// Returns the temporary directory holding blobs and log.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }
}

/// Finds `ferro-oci-server` on `PATH`, then in cargo's bin directory.
fn find_ferro_binary() -> anyhow::Result<PathBuf> {
    let path_dirs = std::env::var_os("PATH").map(|path| std::env::split_paths(&path).collect::<Vec<_>>());
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let candidates = path_dirs
        .unwrap_or_default()
        .into_iter()
        .chain(cargo_home.map(|home| home.join("bin")))
        .map(|dir| dir.join(FERRO_PROGRAM));
    for candidate in candidates {
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    anyhow::bail!(
        "{FERRO_PROGRAM} not found on PATH or in cargo's bin directory (cargo install ferro-oci-server --locked)"
    )
}
