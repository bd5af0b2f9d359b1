//! Turning a [`Reply`] into an HTTP response, and the proxy to a real registry.
//!
//! Streamed bodies (chunked, endless, slow, lying about their length) are written by a thread
//! into an OS pipe that the response reads as a file: this crate has no `futures` dependency to
//! build a `Stream` with, and a pipe gives real backpressure — the writer stops when the client
//! hangs up (the read end closes, the next write fails).

use std::io::Write as _;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use super::Seen;
use super::reply::{Reply, ReplyBody};

/// What the pipe writer thread sends.
enum Feed {
    Chunks(Bytes),
    Endless,
    Slow(Bytes, Duration),
}

fn piped(feed: Feed) -> axum::body::Body {
    let (reader, mut writer) = match std::io::pipe() {
        Ok(pair) => pair,
        Err(error) => return axum::body::Body::from(format!("cannot create a pipe: {error}")),
    };
    std::thread::spawn(move || {
        // Every write error means the reader is gone: stop quietly.
        let _ = match feed {
            Feed::Chunks(bytes) => bytes.chunks(16 * 1024).try_for_each(|chunk| writer.write_all(chunk)),
            Feed::Endless => {
                let chunk = vec![b' '; 64 * 1024];
                loop {
                    if writer.write_all(&chunk).is_err() {
                        break Ok(());
                    }
                }
            }
            Feed::Slow(bytes, interval) => bytes.iter().try_for_each(|byte| {
                std::thread::sleep(interval);
                writer.write_all(&[*byte])
            }),
        };
    });
    let file = tokio::fs::File::from_std(std::fs::File::from(std::os::fd::OwnedFd::from(reader)));
    axum::body::Body::new(reqwest::Body::from(file))
}

/// Builds the response for `reply` (its delay has already passed).
pub(super) fn render(reply: &Reply) -> Response {
    let mut response = match &reply.body {
        ReplyBody::Empty => axum::body::Body::empty(),
        ReplyBody::Full(bytes) => axum::body::Body::from(bytes.clone()),
        ReplyBody::Chunked(bytes) | ReplyBody::LyingLength { bytes, .. } => piped(Feed::Chunks(bytes.clone())),
        ReplyBody::Endless => piped(Feed::Endless),
        ReplyBody::Slow { bytes, interval } => piped(Feed::Slow(bytes.clone(), *interval)),
    }
    .into_response();
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
            headers.append(name, value);
        }
    }
    if let ReplyBody::LyingLength { declared, .. } = &reply.body {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(*declared));
    }
    response
}

/// Forwards `seen` to `upstream` with its query rewritten; relays status, headers and body.
pub(super) async fn proxy(
    client: &reqwest::Client,
    upstream: &str,
    rewrite_query: &(dyn Fn(&str) -> String + Send + Sync),
    seen: &Seen,
    body: Bytes,
) -> Response {
    let mut url = format!("{upstream}{}", seen.path);
    if let Some(query) = &seen.query {
        url.push('?');
        url.push_str(&rewrite_query(query));
    }
    let method = reqwest::Method::from_bytes(seen.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let mut request = client.request(method, url).body(body);
    for (name, value) in &seen.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection" | "transfer-encoding") {
            request = request.header(name, value);
        }
    }
    // As a reverse proxy does: the registry builds the URLs it answers (upload locations) on
    // the address the client used.
    if let Some(host) = seen.header("host") {
        request = request.header("x-forwarded-host", host);
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(error) => return (StatusCode::BAD_GATEWAY, format!("upstream failed: {error}")).into_response(),
    };
    let status = answer.status().as_u16();
    let headers: Vec<(String, String)> = answer
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "content-length" | "connection" | "transfer-encoding"))
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
        .collect();
    let bytes = answer.bytes().await.unwrap_or_default();
    render(&Reply { status, headers, body: ReplyBody::Full(bytes), delay: Duration::ZERO })
}
