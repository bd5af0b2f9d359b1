//! Structured logging with tracing: text by default, JSON with `OCICAT_LOG_FORMAT=json`,
//! filtered by `RUST_LOG` (default: ocicat at info, noisy dependencies at warn). Logs go to
//! stderr, so `ocicat crawl` and `ocicat search` print clean JSON on stdout.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber.
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tantivy=warn,hyper=warn,reqwest=warn,tower_http=info"));
    let json = std::env::var("OCICAT_LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
