//! Streaming blob downloads verified on the fly: the stream ends with an error instead of
//! completing when the bytes do not hash to the requested digest or exceed the cap, and the
//! final chunk is held back until the digest matches, so a consumer that forwards the chunks
//! (the content proxy) never delivers every byte of a lie.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use reqwest::Method;

use crate::client::{Client, pull_scope};
use crate::digest::{Digest, Hasher};
use crate::error::{OciError, Result};
use crate::names::validate_repository;
use crate::status::check_status;

/// A verified blob download. Yields chunks as they arrive; the last item is an error when the
/// content lied, so a consumer that forwards it never completes a false download.
pub struct BlobStream {
    /// The length the registry announced, if any.
    pub content_length: Option<u64>,
    inner: Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>,
}

/// The longest a blob stream may take in all (each read still within the request timeout).
pub(crate) const STREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream").field("content_length", &self.content_length).finish_non_exhaustive()
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(context)
    }
}

struct Verifying {
    chunks: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    hasher: Option<Hasher>,
    /// The newest chunk, not yet passed on (see the stream body).
    held: Option<Bytes>,
    expected: Digest,
    read: u64,
    cap: u64,
    url: String,
}

impl Client {
    /// Starts a verified download of `digest` from `repository`, failing past `cap` bytes.
    pub async fn blob_stream(&self, repository: &str, digest: &Digest, cap: u64) -> Result<BlobStream> {
        validate_repository(repository)?;
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"))?;
        // A large layer may take longer than the request timeout: it only has to keep moving
        // (the client's read timeout) and finish within STREAM_TIMEOUT.
        let response = self
            .execute(Method::GET, url.clone(), &[pull_scope(repository)], |request| request.timeout(STREAM_TIMEOUT))
            .await?;
        let response = check_status(response).await?;
        let content_length = response.content_length();
        if content_length.is_some_and(|length| length > cap) {
            return Err(OciError::TooLarge { url: url.to_string(), cap });
        }
        let state = Verifying {
            chunks: Box::pin(response.bytes_stream()),
            hasher: Some(Hasher::new(digest.algorithm())),
            held: None,
            expected: digest.clone(),
            read: 0,
            cap,
            url: url.to_string(),
        };
        let inner = futures::stream::unfold(state, |mut state| async move {
            loop {
                state.hasher.as_ref()?;
                match state.chunks.next().await {
                    Some(Ok(chunk)) => {
                        state.read += chunk.len() as u64;
                        if state.read > state.cap {
                            state.hasher = None;
                            return Some((Err(OciError::TooLarge { url: state.url.clone(), cap: state.cap }), state));
                        }
                        if let Some(hasher) = state.hasher.as_mut() {
                            hasher.update(&chunk);
                        }
                        if chunk.is_empty() {
                            continue;
                        }
                        // One chunk is always held back: the last one leaves only once the
                        // digest is known to match, so a forwarded lie never arrives whole.
                        if let Some(previous) = state.held.replace(chunk) {
                            return Some((Ok(previous), state));
                        }
                    }
                    Some(Err(error)) => {
                        state.hasher = None;
                        let reason = crate::error::without_url_queries(&error.to_string());
                        let error = OciError::Unreachable { url: state.url.clone(), reason };
                        return Some((Err(error), state));
                    }
                    None => {
                        let actual = state.hasher.take()?.finish();
                        if actual == state.expected {
                            return state.held.take().map(|last| (Ok(last), state));
                        }
                        state.held = None;
                        let error = OciError::DigestMismatch {
                            url: state.url.clone(),
                            expected: state.expected.clone(),
                            actual,
                        };
                        return Some((Err(error), state));
                    }
                }
            }
        });
        Ok(BlobStream { content_length, inner: Box::pin(inner) })
    }
}
