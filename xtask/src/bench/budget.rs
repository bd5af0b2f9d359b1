//! A CPU budget for part of the bench process: a cgroup of the v1 `cpu` controller with a CFS
//! quota, and one of the `cpuacct` controller that counts what it used, both joined by one
//! thread; the threads it starts afterwards (a runtime's blocking pool, a catalog writer,
//! tantivy's) inherit them. P14b gives each replica the same budget so that two replicas on
//! this machine's cores are compared with one as two machines would be, with the load generator
//! outside every budget.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};

/// Where the v1 controllers are mounted on the machines the bench runs on.
const CPU_CONTROLLER: &str = "/sys/fs/cgroup/cpu";
const CPUACCT_CONTROLLER: &str = "/sys/fs/cgroup/cpuacct";
/// The CFS period the quota is a share of.
const PERIOD: Duration = Duration::from_millis(100);
/// How long a dropped budget waits for its threads to end before it gives its cgroups up.
const EMPTIED_WITHIN: Duration = Duration::from_secs(5);

/// Two cgroups (quota and accounting); removed when dropped, once their threads have ended.
#[derive(Debug)]
pub(crate) struct Budget {
    quota: PathBuf,
    accounting: PathBuf,
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
    /// New cgroups `name` (made unique per process) whose threads may use `cpus` of one CPU;
    /// an error says why the machine does not allow it (no v1 controllers, not root).
    pub(crate) fn create(name: &str, cpus: f64) -> anyhow::Result<Budget> {
        for controller in [CPU_CONTROLLER, CPUACCT_CONTROLLER] {
            if !Path::new(controller).join("tasks").exists() {
                return Err(anyhow!("no cgroup v1 controller at {controller}"));
            }
        }
        let unique = format!("ocicat-bench-{}-{name}", std::process::id());
        let quota = Path::new(CPU_CONTROLLER).join(&unique);
        std::fs::create_dir(&quota).with_context(|| format!("cannot create the cgroup {}", quota.display()))?;
        let accounting = Path::new(CPUACCT_CONTROLLER).join(&unique);
        if let Err(error) = std::fs::create_dir(&accounting) {
            let _ = std::fs::remove_dir(&quota);
            return Err(error).with_context(|| format!("cannot create the cgroup {}", accounting.display()));
        }
        let budget = Budget { quota, accounting };
        let period = PERIOD.as_micros() as u64;
        write(&budget.quota, "cpu.cfs_period_us", &period.to_string())?;
        write(&budget.quota, "cpu.cfs_quota_us", &((period as f64 * cpus).round() as u64).to_string())?;
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
        write(&self.quota, "tasks", &thread_id)?;
        write(&self.accounting, "tasks", &thread_id)
    }

    /// The CPU time its threads used so far.
    pub(crate) fn used(&self) -> anyhow::Result<Duration> {
        let path = self.accounting.join("cpuacct.usage");
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let nanoseconds: u64 =
            text.trim().parse().with_context(|| format!("unexpected {}: {text:?}", path.display()))?;
        Ok(Duration::from_nanos(nanoseconds))
    }

    /// The controller's throttling counters so far.
    pub(crate) fn throttling(&self) -> anyhow::Result<Throttling> {
        let path = self.quota.join("cpu.stat");
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
}

fn write(directory: &Path, file: &str, value: &str) -> anyhow::Result<()> {
    let path = directory.join(file);
    std::fs::write(&path, value).with_context(|| format!("cannot write {value} to {}", path.display()))
}

/// Removes a cgroup once its last thread has ended (a thread still in it makes removal fail).
fn remove_when_empty(directory: &Path) {
    let deadline = Instant::now() + EMPTIED_WITHIN;
    loop {
        let empty = std::fs::read_to_string(directory.join("tasks")).is_ok_and(|tasks| tasks.trim().is_empty());
        if empty || Instant::now() >= deadline {
            if let Err(error) = std::fs::remove_dir(directory) {
                tracing::warn!(cgroup = %directory.display(), %error, "cannot remove a bench cgroup");
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        remove_when_empty(&self.quota);
        remove_when_empty(&self.accounting);
    }
}
