//! Seeds a running registry by hand and prints what was pushed.
//!
//! `cargo run -p ocicat-seed --example seed -- URL test|demo|<repositories> [USER PASSWORD]`;
//! set `OCICAT_REFERRERS_API=1` for registries with the OCI 1.1 referrers API.

use anyhow::Context as _;
use ocicat_seed::{Size, Target, seed};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: seed URL test|demo|<repositories> [USER PASSWORD]";
    let url = arguments.first().context(usage)?.parse().context("invalid registry url")?;
    let size = match arguments.get(1).map(String::as_str).context(usage)? {
        "demo" => Size::Demo,
        "test" => Size::Test,
        count => Size::Bench { repositories: count.parse().context(usage)? },
    };
    let target = Target {
        url,
        username: arguments.get(2).cloned(),
        password: arguments.get(3).cloned(),
        referrers_api: std::env::var_os("OCICAT_REFERRERS_API").is_some(),
    };
    let started = std::time::Instant::now();
    let report = seed(&target, size).await?;
    for item in &report.items {
        let reference = item.reference.as_deref().unwrap_or("-");
        let subject = item.subject.as_deref().unwrap_or("-");
        println!("{:<18} {:<12} {:<24} {} {subject}", item.repository, item.kind, reference, item.digest);
    }
    println!("{} manifests in {} ms", report.items.len(), started.elapsed().as_millis());
    Ok(())
}
