//! Reading response bodies with a hard cap, so no registry can make ocicat allocate without bound.

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;

use crate::error::OciError;

/// Reads at most `cap` bytes of `response`; anything longer fails with [`OciError::TooLarge`].
pub(crate) async fn read_capped(response: reqwest::Response, cap: u64) -> Result<Bytes, OciError> {
    let url = crate::error::shown_url(response.url());
    if response.content_length().is_some_and(|length| length > cap) {
        return Err(OciError::TooLarge { url, cap });
    }
    let mut buffer = BytesMut::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| OciError::Unreachable {
            url: url.clone(),
            reason: crate::error::without_url_queries(&error.to_string()),
        })?;
        if buffer.len() as u64 + chunk.len() as u64 > cap {
            return Err(OciError::TooLarge { url, cap });
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}
