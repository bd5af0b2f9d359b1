//! README's `./scripts/demo.sh --replicas 2` (`xtask demo --replicas 2`): the demo as two
//! replicas on a throwaway PostgreSQL. Runs the real xtask binary (which runs the real ocicat
//! binary twice), waits for both replicas, checks that they serve one catalog with one leader,
//! and stops the demo the way a user does (Ctrl-C).

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncBufReadExt as _;

/// Two consecutive free loopback ports (the demo puts replica N on the first port + N - 1),
/// below the range the kernel hands out for outgoing connections, so none takes the second
/// while the demo seeds its registry.
fn two_free_ports() -> u16 {
    let outgoing_from = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32_768);
    let (base, below) = (10_000u32, outgoing_from.clamp(10_100, 40_000));
    let pairs = (below - base) / 2 - 1;
    let free = |port: u32| std::net::TcpListener::bind(("127.0.0.1", port as u16)).is_ok();
    for attempt in 0..pairs {
        let first = base + 2 * ((std::process::id() + attempt) % pairs);
        if free(first) && free(first + 1) {
            return first as u16;
        }
    }
    panic!("no two consecutive free ports between {base} and {below}");
}

/// The ocicat binary built beside this test (its target directory and profile), which the demo
/// runs for each replica.
fn ocicat_binary() -> std::path::PathBuf {
    let test = std::env::current_exe().unwrap();
    let profile = test.parent().and_then(std::path::Path::parent).expect("the test runs from <target>/<profile>/deps");
    let binary = profile.join("ocicat");
    assert!(binary.exists(), "{} is not built: build the ocicat package with this test", binary.display());
    binary
}

async fn total(http: &reqwest::Client, base: &str, query: &str) -> u64 {
    let url = format!(
        "{base}/api/v1/search?q={}",
        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
    );
    let body: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
    body["total"].as_u64().unwrap_or_else(|| panic!("no total in {body}"))
}

#[tokio::test]
async fn the_demo_runs_as_two_replicas_on_one_catalog() {
    let port = two_free_ports();
    let mut demo = tokio::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .args(["demo", "--replicas", "2", "--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .env("OCICAT_BIN", ocicat_binary())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    // The demo says it is ready, with the admin's password and the second replica's address.
    let mut lines = tokio::io::BufReader::new(demo.stdout.take().unwrap()).lines();
    let (mut password, mut second) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(600);
    while second.is_none() {
        let line = tokio::time::timeout_at(deadline.into(), lines.next_line())
            .await
            .expect("the demo was not ready within 10 minutes")
            .unwrap()
            .expect("the demo stopped before it was ready");
        if let Some(rest) = line.split("sign in as admin / ").nth(1) {
            password = rest.split_whitespace().next().map(|word| word.trim_end_matches(',').to_owned());
        }
        if let Some(url) = line.split("another replica on the same catalog: ").nth(1) {
            second = url.split_whitespace().next().map(str::to_owned);
        }
    }
    let first = format!("http://127.0.0.1:{port}");
    let second = second.unwrap();
    assert_eq!(second, format!("http://127.0.0.1:{}", port + 1));
    let password = password.expect("the demo printed the admin's password");

    let http = reqwest::Client::new();
    for base in [&first, &second] {
        let health = http.get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status().as_u16(), 200, "{base} is caught up");
    }
    // Who leads and how far behind each replica is, as an administrator signed in on the first
    // replica sees it on the second (sessions live in the shared database): once neither lags,
    // both answer every search alike.
    let cookie = ocicat_testkit::session_cookie(&first, "admin", &password).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let replicas = loop {
        let replicas: serde_json::Value = http
            .get(format!("{second}/api/v1/replicas"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows = replicas["replicas"].as_array().unwrap_or_else(|| panic!("{replicas:#}"));
        if rows.len() == 2 && rows.iter().all(|row| row["lag"] == 0) {
            break replicas;
        }
        assert!(Instant::now() < deadline, "the replicas did not catch up: {replicas:#}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let rows = replicas["replicas"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|row| row["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["replica-1", "replica-2"], "{replicas:#}");
    assert_eq!(rows.iter().filter(|row| row["leading"] == true).count(), 1, "{replicas:#}");
    assert_eq!(replicas["this_replica"], "replica-2");
    for query in ["", "kind:sbom", "has:signature"] {
        let on_first = total(&http, &first, query).await;
        assert!(on_first > 0, "the demo catalog has results for {query:?}");
        assert_eq!(total(&http, &second, query).await, on_first, "both replicas answer {query:?} alike");
    }

    // Ctrl-C stops the demo and everything it started.
    let pid = demo.id().unwrap().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let stopped = tokio::time::timeout(Duration::from_secs(60), demo.wait()).await.expect("the demo stopped").unwrap();
    assert!(stopped.success(), "{stopped:?}");
    assert!(http.get(format!("{second}/healthz")).send().await.is_err(), "the replicas stopped with the demo");
}
