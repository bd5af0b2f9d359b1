//! A scriptable registry for the faults no real registry produces on demand (lies, loops,
//! floods, stalls). Each test hands in the axum routes that misbehave the way it needs; the
//! server counts and timestamps every request so tests can assert what the client did not send.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;

/// A running fault-injecting server on `127.0.0.1:<free port>`; stopped on drop.
#[derive(Debug)]
pub struct FaultServer {
    url: String,
    requests: Arc<Mutex<Vec<(Instant, String)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultServer {
    /// Serves `routes`, recording `METHOD path?query` of every request.
    pub async fn start(routes: Router) -> anyhow::Result<FaultServer> {
        let requests: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
        let recorder = requests.clone();
        let app = routes.layer(middleware::from_fn(move |request: Request, next: Next| {
            let recorder = recorder.clone();
            async move {
                let line = format!("{} {}", request.method(), request.uri());
                recorder.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push((Instant::now(), line));
                let response: Response = next.run(request).await;
                response
            }
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FaultServer { url, requests, task })
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every request so far as `METHOD /path?query`, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .map(|(_, line)| line.clone())
            .collect()
    }

    /// When each request arrived, in order.
    pub fn request_times(&self) -> Vec<Instant> {
        self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter().map(|(time, _)| *time).collect()
    }

    /// How many requests arrived whose line contains `needle`.
    pub fn count(&self, needle: &str) -> usize {
        self.requests().iter().filter(|line| line.contains(needle)).count()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
