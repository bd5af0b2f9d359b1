//! Access control for the page benchmarks, as real deployments run: `[access]` with one viewer
//! granted each registry on the board (sessions in SQLite under a temporary directory), and the
//! session cookie every load client sends back.

use anyhow::Context as _;
use ocicat::state::AppState;

/// The benchmark's user.
const USER: &str = "bench-viewer";
/// Its password (a benchmark secret, never a real one).
const PASSWORD: &str = "bench viewer password, not a real secret";

/// The session store of a signed-in benchmark; removed when dropped.
pub(crate) struct Access {
    _data: tempfile::TempDir,
}

/// The body of an `[access]` section: one viewer, granted each of `registries`, plain-http
/// cookies (the bench serves on loopback).
pub(crate) fn section(registries: &[String]) -> anyhow::Result<String> {
    let hash = ocicat_access::hash_password(PASSWORD).context("failed to hash the bench password")?;
    let grants: Vec<String> =
        registries.iter().map(|registry| format!("{{ role = \"viewer\", registry = \"{registry}\" }}")).collect();
    Ok(format!(
        "secure_cookies = false\nanonymous = []\n\n[[access.user]]\nname = \"{USER}\"\npassword_hash = \"{hash}\"\ngrants = [{}]\n",
        grants.join(", ")
    ))
}

/// Turns access control on in `state`: one viewer, granted each of `registries`.
pub(crate) async fn enforce(state: &mut AppState, registries: &[String]) -> anyhow::Result<Access> {
    // The section is written for a config file (`[[access.user]]`); alone it is a table of its own.
    let text = section(registries)?.replace("[[access.user]]", "[[user]]");
    let config: ocicat::auth::config::AccessConfig = toml::from_str(&text).context("bench [access] parses")?;
    let names: Vec<&str> = registries.iter().map(String::as_str).collect();
    config.validate(&names, std::path::Path::new("bench.toml")).context("bench [access] is valid")?;
    let data = tempfile::Builder::new().prefix("ocicat-bench-access-").tempdir().context("access tempdir")?;
    state.auth = ocicat::auth::Auth::from_config(&config, data.path()).await.context("failed to open bench access")?;
    Ok(Access { _data: data })
}

/// Signs in at the server at `base` and answers the `Cookie` header value to send.
pub(crate) async fn cookie(base: &str) -> anyhow::Result<String> {
    ocicat_testkit::session_cookie(base, USER, PASSWORD).await
}
