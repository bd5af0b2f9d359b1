//! What a [`super::FaultyRegistry`] route answers: a canned [`Reply`] (status, headers, a body
//! that may lie about its length, never end or trickle), and a [`Script`] choosing the reply per
//! request.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;

use super::Seen;

/// The media types replies use most.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// How a reply's body goes over the wire.
#[derive(Debug, Clone)]
pub enum ReplyBody {
    /// No body.
    Empty,
    /// These bytes, with a true `Content-Length`.
    Full(Bytes),
    /// These bytes, chunked (no `Content-Length`).
    Chunked(Bytes),
    /// Spaces, chunked, for ever (until the client hangs up).
    Endless,
    /// These bytes one at a time, `interval` apart, chunked.
    Slow {
        /// What is eventually sent.
        bytes: Bytes,
        /// The pause before each byte.
        interval: Duration,
    },
    /// `Content-Length: declared`, then these bytes (so the length lies unless they match).
    LyingLength {
        /// The announced length.
        declared: u64,
        /// What is really sent.
        bytes: Bytes,
    },
}

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, sent in order (names may repeat).
    pub headers: Vec<(String, String)>,
    /// The body and its framing.
    pub body: ReplyBody,
    /// How long to wait before sending the status line (a stall when long).
    pub delay: Duration,
}

impl Reply {
    /// A reply with `status`, no headers and no body.
    pub fn new(status: u16) -> Reply {
        Reply { status, headers: Vec::new(), body: ReplyBody::Empty, delay: Duration::ZERO }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Replaces the body.
    pub fn body(mut self, body: ReplyBody) -> Reply {
        self.body = body;
        self
    }

    /// Replaces the body with `bytes` and a true `Content-Length`.
    pub fn bytes(self, bytes: impl Into<Bytes>) -> Reply {
        self.body(ReplyBody::Full(bytes.into()))
    }

    /// Waits `delay` before answering.
    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Never answers (within any test's lifetime): the status line is an hour away.
    pub fn stall() -> Reply {
        Reply::new(200).delayed(Duration::from_secs(3600))
    }

    /// 200, `Content-Type: application/vnd.oci.image.manifest.v1+json`, `raw`.
    pub fn manifest(raw: impl Into<Bytes>) -> Reply {
        Reply::new(200).header("content-type", OCI_MANIFEST).bytes(raw)
    }

    /// 200, `Content-Type: application/vnd.oci.image.index.v1+json`, `raw`.
    pub fn index(raw: impl Into<Bytes>) -> Reply {
        Reply::new(200).header("content-type", OCI_INDEX).bytes(raw)
    }

    /// 200, `Content-Type: application/octet-stream`, `bytes` (how distribution serves blobs).
    pub fn blob(bytes: impl Into<Bytes>) -> Reply {
        Reply::new(200).header("content-type", "application/octet-stream").bytes(bytes)
    }

    /// 200 with `value` as `application/json`.
    pub fn json(value: serde_json::Value) -> Reply {
        Reply::new(200).header("content-type", "application/json").bytes(value.to_string())
    }

    /// A token endpoint's answer carrying `token` for 300 s.
    pub fn token(token: &str) -> Reply {
        Reply::json(serde_json::json!({"token": token, "expires_in": 300}))
    }

    /// The distribution-spec error envelope `{"errors":[{"code","message"}]}` with `status`.
    pub fn error(status: u16, code: &str, message: &str) -> Reply {
        let body = serde_json::json!({"errors": [{"code": code, "message": message, "detail": null}]});
        Reply::new(status).header("content-type", "application/json").bytes(body.to_string())
    }

    /// The router's `404 page not found` in plain text, as distribution 2.8.2 answers unknown routes.
    pub fn not_found_plain() -> Reply {
        Reply::new(404).header("content-type", "text/plain; charset=utf-8").bytes("404 page not found\n")
    }

    /// A redirect with `status` (301, 302, 303, 307, 308) to `location`.
    pub fn redirect(status: u16, location: &str) -> Reply {
        Reply::new(status).header("location", location)
    }

    /// Adds `Link: <target>; rel="next"`.
    pub fn next_link(self, target: &str) -> Reply {
        self.header("link", format!("<{target}>; rel=\"next\""))
    }
}

/// A function from the request to its reply.
pub type Responder = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// How a route picks its reply.
#[derive(Clone)]
pub enum Script {
    /// The same reply every time.
    Always(Reply),
    /// The n-th request gets the n-th reply; the last one repeats.
    Sequence(Vec<Reply>),
    /// A reply computed from the request (lazy pages, redirect chains, echoes).
    Dynamic(Responder),
    /// Forwards to a real registry at `upstream`, rewriting the query (e.g. a smaller page size).
    Proxy {
        /// The upstream base URL, e.g. `http://127.0.0.1:5000`.
        upstream: String,
        /// Maps the request's query to the one sent upstream.
        rewrite_query: Arc<dyn Fn(&str) -> String + Send + Sync>,
    },
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Script::Always(reply) => f.debug_tuple("Always").field(reply).finish(),
            Script::Sequence(replies) => f.debug_tuple("Sequence").field(replies).finish(),
            Script::Dynamic(_) => f.write_str("Dynamic(..)"),
            Script::Proxy { upstream, .. } => f.debug_struct("Proxy").field("upstream", upstream).finish(),
        }
    }
}

impl From<Reply> for Script {
    fn from(reply: Reply) -> Script {
        Script::Always(reply)
    }
}

impl Script {
    /// The n-th request gets the n-th reply; the last one repeats.
    pub fn sequence(replies: impl IntoIterator<Item = Reply>) -> Script {
        Script::Sequence(replies.into_iter().collect())
    }

    /// A reply computed from each request.
    pub fn dynamic(respond: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Script {
        Script::Dynamic(Arc::new(respond))
    }

    /// Forwards to `upstream`, passing the query through `rewrite_query`.
    pub fn proxy(upstream: &str, rewrite_query: impl Fn(&str) -> String + Send + Sync + 'static) -> Script {
        Script::Proxy { upstream: upstream.trim_end_matches('/').to_owned(), rewrite_query: Arc::new(rewrite_query) }
    }

    pub(super) fn reply(&self, seen: &Seen) -> Reply {
        match self {
            Script::Always(reply) => reply.clone(),
            Script::Sequence(replies) => {
                replies.get(seen.hit).or_else(|| replies.last()).cloned().unwrap_or_else(|| Reply::new(500))
            }
            Script::Dynamic(respond) => respond(seen),
            Script::Proxy { .. } => Reply::new(500),
        }
    }
}
