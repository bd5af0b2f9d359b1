//! The benchmark summary: one record per scenario (figures, same-run ratio, checks against the
//! PERFORMANCE.md targets), written as JSON and printed as a short table.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;

/// How a measured value must compare with its limit.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) enum Bound {
    /// The value must not exceed the limit.
    #[serde(rename = "<=")]
    AtMost,
    /// The value must reach the limit.
    #[serde(rename = ">=")]
    AtLeast,
}

/// One measured value held against one target.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Check {
    /// What is compared, with its unit (`p99_ms`, `docs_per_second`).
    pub(crate) metric: String,
    /// The measured value.
    pub(crate) value: f64,
    /// How it must compare.
    pub(crate) bound: Bound,
    /// The target from PERFORMANCE.md.
    pub(crate) limit: f64,
    /// Whether the target is met.
    pub(crate) pass: bool,
}

impl Check {
    /// A check that `value` stays at or below `limit`.
    pub(crate) fn at_most(metric: &str, value: f64, limit: f64) -> Check {
        Check { metric: metric.to_owned(), value: round(value), bound: Bound::AtMost, limit, pass: value <= limit }
    }

    /// A check that `value` reaches at least `limit`.
    pub(crate) fn at_least(metric: &str, value: f64, limit: f64) -> Check {
        Check { metric: metric.to_owned(), value: round(value), bound: Bound::AtLeast, limit, pass: value >= limit }
    }

    fn describe(&self) -> String {
        let sign = match self.bound {
            Bound::AtMost => "<=",
            Bound::AtLeast => ">=",
        };
        format!("{} {} {sign} {}", self.metric, self.value, self.limit)
    }
}

/// One PERFORMANCE.md scenario as measured in this run.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Scenario {
    /// `P1`, `P2`, … as in PERFORMANCE.md.
    pub(crate) id: &'static str,
    /// A short name.
    pub(crate) name: &'static str,
    /// The target, as PERFORMANCE.md words it.
    pub(crate) target: &'static str,
    /// Every figure measured, for information and for the checks.
    pub(crate) measured: serde_json::Value,
    /// The ratio against the same-run reference, where the scenario has one.
    pub(crate) ratio: Option<f64>,
    /// The scenario's physical limit on this machine, measured in the same run, where it has
    /// one (the engine's raw rate, a verifying copy, the request floor, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) limits: Vec<Limit>,
    /// Each target held against its figure.
    pub(crate) checks: Vec<Check>,
    /// True when every check passes.
    pub(crate) pass: bool,
}

/// A limit measured in the same run and where the scenario's figure stands against it.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Limit {
    /// What the limit is (`raw tantivy indexing of the same documents`, …).
    pub(crate) what: String,
    /// The figure compared (`docs_per_second`, `instructions_per_byte`, …).
    pub(crate) metric: String,
    /// The limit's value.
    pub(crate) limit: f64,
    /// The scenario's value of the same metric.
    pub(crate) value: f64,
    /// `value / limit`.
    pub(crate) ratio: f64,
}

impl Limit {
    /// `value` of `metric` against the measured `limit`.
    pub(crate) fn new(what: &str, metric: &str, value: f64, limit: f64) -> Limit {
        Limit {
            what: what.to_owned(),
            metric: metric.to_owned(),
            limit: round(limit),
            value: round(value),
            ratio: round(value / limit.max(f64::EPSILON)),
        }
    }
}

impl Scenario {
    /// A scenario whose verdict follows from its checks.
    pub(crate) fn new(
        id: &'static str,
        name: &'static str,
        target: &'static str,
        measured: serde_json::Value,
        ratio: Option<f64>,
        checks: Vec<Check>,
    ) -> Scenario {
        let pass = checks.iter().all(|check| check.pass);
        Scenario { id, name, target, measured, ratio: ratio.map(round), limits: Vec::new(), checks, pass }
    }

    /// The same scenario with one more check (its verdict follows).
    pub(crate) fn with_check(mut self, check: Check) -> Scenario {
        self.pass &= check.pass;
        self.checks.push(check);
        self
    }

    /// The same scenario with one more measured figure under `name`.
    pub(crate) fn with_measured(mut self, name: &str, value: serde_json::Value) -> Scenario {
        if let Some(measured) = self.measured.as_object_mut() {
            measured.insert(name.to_owned(), value);
        }
        self
    }

    /// The same scenario with a measured limit beside it.
    pub(crate) fn with_limit(mut self, limit: Limit) -> Scenario {
        self.limits.push(limit);
        self
    }
}

/// A scenario that was not run, and why.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Skipped {
    /// `P3`, … as in PERFORMANCE.md.
    pub(crate) id: &'static str,
    /// Why it is not measured by this command.
    pub(crate) reason: String,
}

/// Everything one `xtask bench` run measured.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Summary {
    /// `full` or `quick` (quick runs a tenth of the data; the targets are for full size).
    pub(crate) mode: &'static str,
    /// When the run started (RFC 3339).
    pub(crate) started: String,
    /// Logical CPUs of this machine.
    pub(crate) cpus: usize,
    /// `/proc/loadavg` when the run started and ended: other work on a shared machine shows here.
    pub(crate) load_average: [String; 2],
    /// Wall time of the whole run, in seconds.
    pub(crate) duration_s: f64,
    /// The measured scenarios, in run order.
    pub(crate) scenarios: Vec<Scenario>,
    /// Scenarios of PERFORMANCE.md this command does not measure.
    pub(crate) skipped: Vec<Skipped>,
    /// True when a full-scale run measured every scenario and each met its targets; false when
    /// one missed; absent when the run cannot be judged (quick, or scenarios not measured).
    pub(crate) pass: Option<bool>,
    /// The verdict in words.
    pub(crate) verdict: String,
}

/// Whether a run's figures can be held against PERFORMANCE.md's targets, and the outcome.
#[derive(Debug, Clone)]
pub(crate) struct Verdict {
    /// See [`Summary::pass`].
    pub(crate) pass: Option<bool>,
    /// See [`Summary::verdict`].
    pub(crate) text: String,
}

impl Verdict {
    /// The verdict of a run in `mode` (`full` or `quick`) that measured `scenarios` and not
    /// `skipped`.
    pub(crate) fn of(mode: &str, scenarios: &[Scenario], skipped: &[Skipped]) -> Verdict {
        let missed: Vec<&str> =
            scenarios.iter().filter(|scenario| !scenario.pass).map(|scenario| scenario.id).collect();
        if !missed.is_empty() {
            return Verdict { pass: Some(false), text: format!("missed: {}", missed.join(", ")) };
        }
        if mode != "full" {
            let text = "not judged: a quick run measures a tenth of the data and the targets are for full scale; \
                        every measured check passed"
                .to_owned();
            return Verdict { pass: None, text };
        }
        if !skipped.is_empty() {
            let ids: Vec<&str> = skipped.iter().map(|skipped| skipped.id).collect();
            let text = format!("not judged: not measured {}; every measured check passed", ids.join(", "));
            return Verdict { pass: None, text };
        }
        Verdict { pass: Some(true), text: "every measured scenario met its targets".to_owned() }
    }
}

impl Summary {
    /// Writes the summary as pretty JSON to `path`, creating its directory.
    pub(crate) fn write(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(directory) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(directory)
                .with_context(|| format!("failed to create summary directory {}", directory.display()))?;
        }
        let text = serde_json::to_string_pretty(self).context("failed to encode the benchmark summary")?;
        std::fs::write(path, text + "\n").with_context(|| format!("failed to write summary to {}", path.display()))
    }

    /// The short table printed at the end of a run.
    pub(crate) fn table(&self) -> String {
        let mut lines = vec![format!("{:<4} {:<26} {:<5} {:>7}  checks", "id", "scenario", "pass", "ratio")];
        for scenario in &self.scenarios {
            let ratio = scenario.ratio.map(|ratio| format!("{ratio:.2}")).unwrap_or_else(|| "-".into());
            let verdict = if scenario.pass { "yes" } else { "NO" };
            let checks: Vec<String> = scenario
                .checks
                .iter()
                .map(|check| if check.pass { check.describe() } else { format!("{} (missed)", check.describe()) })
                .collect();
            lines.push(format!(
                "{:<4} {:<26} {:<5} {:>7}  {}",
                scenario.id,
                scenario.name,
                verdict,
                ratio,
                checks.join("; ")
            ));
        }
        for skipped in &self.skipped {
            lines.push(format!("{:<4} {:<26} {:<5} {:>7}  {}", skipped.id, "(not measured)", "-", "-", skipped.reason));
        }
        lines.push(format!("verdict: {}", self.verdict));
        lines.join("\n")
    }
}

/// The 1, 5 and 15 minute load averages (empty when `/proc/loadavg` cannot be read).
pub(crate) fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// Latency figures of one set of samples, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct Latencies {
    /// Samples taken.
    pub(crate) count: usize,
    /// Median.
    pub(crate) p50_ms: f64,
    /// 95th percentile.
    pub(crate) p95_ms: f64,
    /// 99th percentile.
    pub(crate) p99_ms: f64,
    /// Slowest sample.
    pub(crate) max_ms: f64,
}

impl Latencies {
    /// Nearest-rank percentiles of `samples` (empty samples give zeros).
    pub(crate) fn of(samples: &[Duration]) -> Latencies {
        let mut sorted: Vec<f64> = samples.iter().map(|sample| sample.as_secs_f64() * 1000.0).collect();
        sorted.sort_by(f64::total_cmp);
        Latencies {
            count: sorted.len(),
            p50_ms: round(percentile(&sorted, 50.0)),
            p95_ms: round(percentile(&sorted, 95.0)),
            p99_ms: round(percentile(&sorted, 99.0)),
            max_ms: round(sorted.last().copied().unwrap_or_default()),
        }
    }
}

/// The nearest-rank percentile of already sorted values.
fn percentile(sorted: &[f64], rank: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let position = ((rank / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[position.clamp(1, sorted.len()) - 1]
}

/// Rounds to three decimals, enough for milliseconds and ratios in a summary.
pub(crate) fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// Seconds with millisecond resolution.
pub(crate) fn seconds(duration: Duration) -> f64 {
    round(duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_pick_a_sample() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let latencies = Latencies::of(&samples);
        assert_eq!(latencies.p50_ms, 50.0);
        assert_eq!(latencies.p99_ms, 99.0);
        assert_eq!(latencies.max_ms, 100.0);
        assert_eq!(Latencies::of(&[]).p99_ms, 0.0);
    }

    #[test]
    fn a_scenario_passes_only_when_every_check_does() {
        let checks = vec![Check::at_most("ratio", 1.2, 1.4), Check::at_least("docs_per_second", 10.0, 20.0)];
        let scenario = Scenario::new("P0", "example", "target", serde_json::json!({}), Some(1.2), checks);
        assert!(!scenario.pass);
        assert!(scenario.checks[0].pass);
    }

    #[test]
    fn quick_runs_are_not_judged_and_a_miss_fails_any_run() {
        let passing = Scenario::new(
            "P0",
            "example",
            "target",
            serde_json::json!({}),
            None,
            vec![Check::at_most("ratio", 1.0, 1.4)],
        );
        let not_run = [Skipped { id: "P3", reason: "not asked for".into() }];
        assert_eq!(Verdict::of("quick", std::slice::from_ref(&passing), &[]).pass, None);
        assert_eq!(Verdict::of("full", std::slice::from_ref(&passing), &not_run).pass, None);
        assert_eq!(Verdict::of("full", std::slice::from_ref(&passing), &[]).pass, Some(true));
        let missing = passing.with_check(Check::at_least("docs_per_second", 1.0, 2.0));
        assert!(!missing.pass);
        assert_eq!(Verdict::of("quick", &[missing], &[]).pass, Some(false));
    }
}
