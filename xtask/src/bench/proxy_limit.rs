//! P10's limit: what a verifying copy of the same bytes costs on this machine, in CPU time per
//! byte, measured in the same run as the proxy — and the CPU time of the proxy's own threads,
//! apart from the client's and the registry's.
//!
//! Two limits are measured over the blob written to a file (read from the page cache):
//! - the tools: `sha256sum FILE` plus a plain copy `cat FILE` into a pipe (each child's CPU time
//!   from `/proc/<pid>/schedstat`, read once it has exited and before it is reaped);
//! - the same hash as the proxy: read the file in 256 KiB pieces, SHA-256 each piece with the
//!   proxy's own implementation (`ocicat_oci::Digest`, the `sha2` crate with its run-time SHA-NI
//!   backend) and write it into a pipe — this thread's CPU time.
//!
//! Coreutils' `sha256sum` here is portable C (no SHA extensions), several times slower per byte
//! than `sha2` with SHA-NI, so the second is the strict limit of a verifying proxy; both appear
//! in the report. Callgrind is not used: as far as we know valgrind does not emulate the SHA
//! extensions (not checked on this machine), so under it `sha2` would fall back to its portable
//! code and the instruction counts would describe another program; `perf stat` has no hardware
//! counters on these machines. CPU time (user + system,
//! nanoseconds from the scheduler) includes the kernel's copies, which a verifying proxy cannot
//! avoid either.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use ocicat_oci::{Algorithm, Digest};

/// The read and write size of the same-hash copy (`cat` uses 128 KiB).
const PIECE: usize = 256 << 10;

/// Nanoseconds of CPU per byte of each way of copying the blob.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CopyCosts {
    /// `sha256sum FILE`.
    pub(crate) sha256sum: f64,
    /// `cat FILE` into a pipe.
    pub(crate) cat: f64,
    /// Read, `sha2` and write into a pipe in one thread.
    pub(crate) same_hash_copy: f64,
}

impl CopyCosts {
    /// The limit with the tools: `sha256sum` plus a plain copy.
    pub(crate) fn tools(&self) -> f64 {
        self.sha256sum + self.cat
    }
}

/// Measures each copy of `blob` `rounds` times and keeps each one's cheapest round (the one
/// least disturbed by other work on the machine).
pub(crate) fn measure(blob: &[u8], rounds: usize) -> anyhow::Result<CopyCosts> {
    let directory = tempfile::Builder::new().prefix("ocicat-bench-p10-limit-").tempdir().context("tempdir")?;
    let file = directory.path().join("blob");
    std::fs::write(&file, blob).context("failed to write the blob for the limit")?;
    let bytes = blob.len() as f64;
    let (mut sha256sum, mut cat, mut same_hash_copy) = (f64::MAX, f64::MAX, f64::MAX);
    // One warm-up of each, uncounted (page cache, binaries).
    child_cpu(Command::new("sha256sum").arg(&file))?;
    child_cpu(Command::new("cat").arg(&file))?;
    same_hash_in_a_thread(&file)?;
    for _ in 0..rounds.max(1) {
        sha256sum = sha256sum.min(child_cpu(Command::new("sha256sum").arg(&file))?.as_nanos() as f64 / bytes);
        cat = cat.min(child_cpu(Command::new("cat").arg(&file))?.as_nanos() as f64 / bytes);
        same_hash_copy = same_hash_copy.min(same_hash_in_a_thread(&file)?.as_nanos() as f64 / bytes);
    }
    Ok(CopyCosts { sha256sum, cat, same_hash_copy })
}

/// Runs `command` with its output drained through a pipe; its CPU time, read from
/// `/proc/<pid>/schedstat` once it has exited (a zombie keeps its figures until reaped).
fn child_cpu(command: &mut Command) -> anyhow::Result<Duration> {
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).spawn().context("failed to start a copy tool")?;
    let mut output = child.stdout.take().context("the tool's stdout")?;
    let mut sink = vec![0u8; 1 << 20];
    while output.read(&mut sink).context("failed to drain the tool")? > 0 {}
    let process = Path::new("/proc").join(child.id().to_string());
    let mut spins = 0;
    while process_state(&process)? != 'Z' {
        spins += 1;
        anyhow::ensure!(spins < 10_000, "the copy tool did not exit");
        std::thread::sleep(Duration::from_micros(200));
    }
    let used = schedstat(&process.join("schedstat"))?;
    let status = child.wait().context("failed to reap a copy tool")?;
    anyhow::ensure!(status.success(), "a copy tool failed: {status}");
    Ok(used)
}

/// The one-letter state of a process (`R`, `S`, `Z`, …) from `/proc/<pid>/stat`.
fn process_state(process: &Path) -> anyhow::Result<char> {
    let stat = std::fs::read_to_string(process.join("stat")).context("failed to read a tool's /proc stat")?;
    stat.rsplit_once(") ").and_then(|(_, rest)| rest.chars().next()).ok_or_else(|| anyhow!("unexpected stat {stat:?}"))
}

/// [`same_hash`] in a thread of its own named `p10-limit` (a profile tells it apart).
fn same_hash_in_a_thread(file: &Path) -> anyhow::Result<Duration> {
    let file = file.to_owned();
    std::thread::Builder::new()
        .name("p10-limit".to_owned())
        .spawn(move || same_hash(&file))
        .context("failed to start the copy thread")?
        .join()
        .map_err(|_| anyhow!("the copy thread panicked"))?
}

/// Read, hash and write the file in one thread; that thread's CPU time.
fn same_hash(file: &Path) -> anyhow::Result<Duration> {
    let mut sink = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("failed to start the pipe's reader")?;
    let mut pipe = sink.stdin.take().context("the reader's stdin")?;
    let mut input = std::fs::File::open(file).context("failed to open the blob")?;
    let mut piece = vec![0u8; PIECE];
    let mut hashed = 0u8;
    let started = thread_cpu()?;
    loop {
        let read = input.read(&mut piece).context("failed to read the blob")?;
        if read == 0 {
            break;
        }
        // A digest of each piece: the same SHA-256 work per byte as one streamed digest.
        hashed ^= Digest::compute(Algorithm::Sha256, &piece[..read]).hex().as_bytes()[0];
        pipe.write_all(&piece[..read]).context("failed to write into the pipe")?;
    }
    let used = thread_cpu()?.saturating_sub(started);
    drop(pipe);
    std::hint::black_box(hashed);
    let status = sink.wait().context("failed to reap the pipe's reader")?;
    anyhow::ensure!(status.success(), "the pipe's reader failed: {status}");
    Ok(used)
}

/// The calling thread's CPU time so far. The scheduler brings a thread's figure up to date when
/// the thread leaves the CPU (and at each tick), so the thread sleeps a moment first.
fn thread_cpu() -> anyhow::Result<Duration> {
    std::thread::sleep(Duration::from_millis(1));
    schedstat(Path::new("/proc/thread-self/schedstat"))
}

/// The first field of a `schedstat` file: nanoseconds spent on a CPU (user and system).
fn schedstat(path: &Path) -> anyhow::Result<Duration> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let nanoseconds: u64 = text
        .split_whitespace()
        .next()
        .and_then(|field| field.parse().ok())
        .ok_or_else(|| anyhow!("unexpected {}: {text:?}", path.display()))?;
    Ok(Duration::from_nanos(nanoseconds))
}

/// The CPU time used so far by this process's threads named `name` (a runtime's workers and
/// blocking threads) and by all its other threads, from each one's
/// `/proc/self/task/<tid>/schedstat`. Threads that ended are not counted, so the runtime must
/// outlive the measurement; read it while they are idle (a running thread's figure lags by up
/// to a scheduler tick).
pub(crate) fn own_threads_cpu(name: &str) -> anyhow::Result<(Duration, Duration)> {
    let (mut named, mut rest) = (Duration::ZERO, Duration::ZERO);
    for task in std::fs::read_dir("/proc/self/task").context("cannot list /proc/self/task")? {
        let task = task.context("cannot read /proc/self/task")?.path();
        let Ok(comm) = std::fs::read_to_string(task.join("comm")) else { continue };
        let Ok(used) = schedstat(&task.join("schedstat")) else { continue };
        if comm.trim_end() == name {
            named += used;
        } else {
            rest += used;
        }
    }
    Ok((named, rest))
}

/// The CPU time used so far by every thread of process `pid` (the registry).
pub(crate) fn process_cpu(pid: u32) -> anyhow::Result<Duration> {
    let tasks = Path::new("/proc").join(pid.to_string()).join("task");
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir(&tasks).with_context(|| format!("cannot list {}", tasks.display()))? {
        let task = task.with_context(|| format!("cannot read {}", tasks.display()))?.path();
        if let Ok(used) = schedstat(&task.join("schedstat")) {
            total += used;
        }
    }
    Ok(total)
}
