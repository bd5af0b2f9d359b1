//! A CPU budget for part of the bench process: a cgroup (v1 `cpu` controller) with a CFS quota,
//! joined by one thread, whose threads started afterwards (a runtime's blocking pool, a catalog
//! writer, tantivy's) inherit it. P14 gives each replica the same budget so that two replicas
//! on this machine's cores are compared with one as two machines would be, with the load
//! generator outside every budget.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow};

/// Where the v1 `cpu` controller is mounted on the machines the bench runs on.
const CPU_CONTROLLER: &str = "/sys/fs/cgroup/cpu";
/// The CFS period the quota is a share of.
const PERIOD: Duration = Duration::from_millis(100);

/// A cgroup with a CPU quota; removed when dropped (once its threads have ended).
#[derive(Debug)]
pub(crate) struct Budget {
    directory: PathBuf,
}

/// How often a budget's threads were held back, from the controller's `cpu.stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Throttling {
    /// CFS periods in which the group's threads ran.
    pub(crate) periods: u64,
    /// Of those, periods in which the group used its whole quota and had to wait.
    pub(crate) throttled: u64,
}

impl Throttling {
    /// What happened between `earlier` and this reading, as the share of periods throttled.
    pub(crate) fn share_since(self, earlier: Throttling) -> f64 {
        let periods = self.periods.saturating_sub(earlier.periods);
        self.throttled.saturating_sub(earlier.throttled) as f64 / periods.max(1) as f64
    }
}

impl Budget {
    /// A new cgroup `name` (made unique per process) whose threads may use `cpus` of one CPU;
    /// an error says why the machine does not allow it (no v1 `cpu` controller, not root).
    pub(crate) fn create(name: &str, cpus: f64) -> anyhow::Result<Budget> {
        let controller = Path::new(CPU_CONTROLLER);
        if !controller.join("cpu.cfs_quota_us").exists() {
            return Err(anyhow!("no cgroup v1 cpu controller at {CPU_CONTROLLER}"));
        }
        let directory = controller.join(format!("ocicat-bench-{}-{name}", std::process::id()));
        std::fs::create_dir(&directory).with_context(|| format!("cannot create the cgroup {}", directory.display()))?;
        let budget = Budget { directory };
        let period = PERIOD.as_micros() as u64;
        budget.write("cpu.cfs_period_us", &period.to_string())?;
        budget.write("cpu.cfs_quota_us", &((period as f64 * cpus).round() as u64).to_string())?;
        Ok(budget)
    }

    /// Moves the calling thread into the budget; threads it starts from now on are in it too.
    pub(crate) fn enter(&self) -> anyhow::Result<()> {
        let this_thread = std::fs::read_link("/proc/thread-self").context("cannot read /proc/thread-self")?;
        let thread_id = this_thread
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| anyhow!("unexpected /proc/thread-self target {}", this_thread.display()))?
            .to_owned();
        self.write("tasks", &thread_id)
    }

    /// The controller's throttling counters so far.
    pub(crate) fn throttling(&self) -> anyhow::Result<Throttling> {
        let path = self.directory.join("cpu.stat");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut throttling = Throttling::default();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            let (Some(key), Some(value)) = (words.next(), words.next().and_then(|value| value.parse().ok())) else {
                continue;
            };
            match key {
                "nr_periods" => throttling.periods = value,
                "nr_throttled" => throttling.throttled = value,
                _ => {}
            }
        }
        Ok(throttling)
    }

    fn write(&self, file: &str, value: &str) -> anyhow::Result<()> {
        let path = self.directory.join(file);
        std::fs::write(&path, value).with_context(|| format!("cannot write {value} to {}", path.display()))
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        // A cgroup goes only once empty; a thread still in it (a runtime not yet shut down)
        // leaves an empty directory behind, named after this process.
        if let Err(error) = std::fs::remove_dir(&self.directory) {
            tracing::warn!(cgroup = %self.directory.display(), %error, "cannot remove a bench cgroup");
        }
    }
}
